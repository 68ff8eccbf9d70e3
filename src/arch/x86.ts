// Architectural constants of x86-64 paging (Intel SDM Vol. 3A, chapter 4), for embedders building
// page tables and reading faults. These are facts of the architecture; the core defines the same
// values in assembly/arch/x86/ and test/arch/x86/constants.test.ts checks that the two agree.

/** Paging-structure entry bits (arch/x86/include/asm/pgtable_types.h names in comments). */
export const PTE = {
  PRESENT: 1n << 0n,   // _PAGE_PRESENT
  RW: 1n << 1n,        // _PAGE_RW
  USER: 1n << 2n,      // _PAGE_USER
  PWT: 1n << 3n,       // _PAGE_PWT
  PCD: 1n << 4n,       // _PAGE_PCD
  ACCESSED: 1n << 5n,  // _PAGE_ACCESSED
  DIRTY: 1n << 6n,     // _PAGE_DIRTY
  PSE: 1n << 7n,       // _PAGE_PSE: 2 MiB (PDE) or 1 GiB (PDPTE) page; PAT in a PTE
  GLOBAL: 1n << 8n,    // _PAGE_GLOBAL
  NX: 1n << 63n,       // _PAGE_NX (XD)
  /** Bits 12..51: the physical-address field at its widest. */
  ADDR_MASK: 0x000f_ffff_ffff_f000n,
} as const;

export const CR0 = { PE: 1n << 0n, WP: 1n << 16n, PG: 1n << 31n } as const;
export const CR4 = { PAE: 1n << 5n, PGE: 1n << 7n, PCIDE: 1n << 17n, SMEP: 1n << 20n, SMAP: 1n << 21n } as const;
export const EFER = { LME: 1n << 8n, LMA: 1n << 10n, NXE: 1n << 11n } as const;
export const RFLAGS = { IF: 1n << 9n, AC: 1n << 18n } as const;
/** MOV to CR3 with this bit set (and CR4.PCIDE) keeps the new PCID's TLB entries. */
export const CR3_NOFLUSH = 1n << 63n;

/** Page-fault error code bits (SDM 4.7). */
export const PF = { PROT: 1, WRITE: 2, USER: 4, RSVD: 8, INSTR: 16 } as const;

/** Access kinds of a translation; the same bits as the #PF error code, plus implicit accesses. */
export const ACC = { WRITE: 2, USER: 4, FETCH: 16, IMPLICIT: 256 } as const;

export const VECTOR = { GP: 13, PF: 14, MC: 18 } as const;

export const INVPCID = { INDIVIDUAL_ADDRESS: 0, SINGLE_CONTEXT: 1, ALL_INCLUDING_GLOBAL: 2, ALL_NON_GLOBAL: 3 } as const;

export const PAGE_SIZE_4K = 4096;
export const PAGE_SIZE_2M = 2 * 1024 * 1024;
export const PAGE_SIZE_1G = 1024 * 1024 * 1024;

/** Index of va into the table at level (4 = PML4 .. 1 = PT). */
export function pteIndex(va: bigint, level: 1 | 2 | 3 | 4): number {
  return Number((va >> BigInt(12 + 9 * (level - 1))) & 511n);
}

/** Sign-extend a 48-bit linear address to its canonical 64-bit form. */
export function canonical(va: bigint): bigint {
  return BigInt.asUintN(64, BigInt.asIntN(48, va));
}
