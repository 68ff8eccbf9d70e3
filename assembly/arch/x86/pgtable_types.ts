// The x86-64 paging-structure entry (Intel SDM Vol. 3A, 4.5, tables 4-14 to 4-20), after
// arch/x86/include/asm/pgtable_types.h. One format at every level, with these bits:
//
//   63  62....59 58......52 51.........M M-1..................12 11..9  8  7  6  5  4   3   2   1  0
//  +--+--------+----------+------------+-----------------------+------+--+--+--+--+---+---+---+---+--+
//  |XD| ignored| software | reserved(0)|  physical address     | soft | G|PS| D| A|PCD|PWT|U/S|R/W| P|
//  +--+--------+----------+------------+-----------------------+------+--+--+--+--+---+---+---+---+--+
//
//  P    present                     R/W  writable (ANDed across levels)
//  U/S  user-accessible (ANDed)     PWT/PCD  caching (kept, not modelled)
//  A    accessed: set by the walker on every level it uses, with a locked compare-and-swap
//  D    dirty (leaf only): set by the walker on the first write through the entry
//  PS   page size: at PDPT level a 1 GiB page, at PD level a 2 MiB page; reserved (must be 0) in a
//       PML4E; in a PTE bit 7 is PAT instead
//  G    global (leaf only, with CR4.PGE): the TLB keeps the translation across CR3 loads
//  XD   execute-disable (ORed across levels); reserved when EFER.NXE = 0
//  M    MAXPHYADDR (36..52, per machine): bits M..51 are reserved and must be 0
//  soft bits 9..11 and 52..58 are ignored by the walker and free for the OS (Linux keeps _PAGE_SOFTW*,
//       _PAGE_SPECIAL, _PAGE_DEVMAP there); bits 59..62 are protection keys only with CR4.PKE, which is
//       not modelled, so they are ignored too.
//  Large leaves keep their PAT bit at 12, so a 2 MiB frame's address is bits 21..M-1 with bits 13..20
//  reserved, and a 1 GiB frame's is bits 30..M-1 with bits 13..29 reserved.

export const _PAGE_BIT_PRESENT: u64 = 0;
export const _PAGE_PRESENT: u64 = 1 << 0;
export const _PAGE_RW: u64 = 1 << 1;
export const _PAGE_USER: u64 = 1 << 2;
export const _PAGE_PWT: u64 = 1 << 3;
export const _PAGE_PCD: u64 = 1 << 4;
export const _PAGE_ACCESSED: u64 = 1 << 5;
export const _PAGE_DIRTY: u64 = 1 << 6;
export const _PAGE_PSE: u64 = 1 << 7;
export const _PAGE_PAT: u64 = 1 << 7; // in a 4 KiB PTE
export const _PAGE_GLOBAL: u64 = 1 << 8;
export const _PAGE_SOFTW1: u64 = 1 << 9;
export const _PAGE_SOFTW2: u64 = 1 << 10;
export const _PAGE_SOFTW3: u64 = 1 << 11;
export const _PAGE_PAT_LARGE: u64 = 1 << 12;
export const _PAGE_NX: u64 = <u64>1 << 63;
/**
 * _PAGE_PROTNONE (software): a PROT_NONE mapping keeps its frame in a PTE with P clear and this bit
 * set (bit 8, the global bit, which means nothing in a non-present entry): pte_present() is true for
 * the MM, the paging unit sees no mapping. Swap and migration entries (mm/swapops.ts) never set bit 8
 * or bit 0.
 */
export const _PAGE_PROTNONE: u64 = _PAGE_GLOBAL;

/** Bits 12..51: the physical-address field of an entry at its widest. */
export const PTE_PFN_MASK: u64 = 0x000f_ffff_ffff_f000;

// Page-fault error code (SDM 4.7, figure 4-12). The access kinds the walker takes use the same bits.
export const PF_PROT: u32 = 1 << 0;  // P: 0 = not-present page, 1 = protection (or reserved-bit) fault
export const PF_WRITE: u32 = 1 << 1; // W/R: the access was a write
export const PF_USER: u32 = 1 << 2;  // U/S: the access was a user-mode access
export const PF_RSVD: u32 = 1 << 3;  // RSVD: a reserved bit was set in some paging-structure entry
export const PF_INSTR: u32 = 1 << 4; // I/D: the access was an instruction fetch (see the walker)

/** Access kinds (argument of translate): a data read is 0. */
export const ACC_WRITE: u32 = PF_WRITE;
export const ACC_USER: u32 = PF_USER;
export const ACC_FETCH: u32 = PF_INSTR;
/** An implicit supervisor access (descriptor tables, ...): never allowed to user pages with SMAP on. */
export const ACC_IMPLICIT: u32 = 1 << 8;
export const ACC_VALID_MASK: u32 = ACC_WRITE | ACC_USER | ACC_FETCH | ACC_IMPLICIT;

/** Page-table levels, as Linux counts them on 4-level x86-64. */
export const PT_LEVEL_PTE: i32 = 1;
export const PT_LEVEL_PMD: i32 = 2;
export const PT_LEVEL_PUD: i32 = 3;
export const PT_LEVEL_PGD: i32 = 4;

/** Mask of bits M..51 (reserved in every entry) for a MAXPHYADDR of m. */
// @ts-ignore: decorator
@inline export function rsvd_phys_mask(m: i32): u64 {
  return PTE_PFN_MASK & ~((<u64>1 << <u64>m) - 1);
}
