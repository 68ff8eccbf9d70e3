// Non-present PTE formats (include/linux/swapops.h, arch/x86/include/asm/pgtable_64.h): swap entries,
// of which migration entries are the only kind the model makes (swap itself is not modelled yet).
//
// A swap PTE on x86-64 (before 4.18's L1TF offset inversion, which the model leaves out):
//
//   63 ................................................ 9    8      7    6    5 ......... 1    0
//  +------------------------------------------------------+------+----+----+--------------+----+
//  |                offset (55 bits)                      |  0   | 0  | 0  |  type (5)    | 0  |
//  +------------------------------------------------------+------+----+----+--------------+----+
//   P (bit 0) clear: the CPU faults on it and ignores every other bit (it never sets A or D on it).
//   Bit 8 is _PAGE_PROTNONE (= _PAGE_GLOBAL): set, a clear-P PTE is a PROT_NONE mapping, not a swap
//   entry; clear here. type: the swap device, or SWP_MIGRATION_READ / SWP_MIGRATION_WRITE (the last
//   two of MAX_SWAPFILES_SHIFT's 32 types); offset: the slot, or for a migration entry the pfn of the
//   page being migrated (locked while the entry exists: migration_entry_wait sleeps on it).
import { _PAGE_PRESENT, _PAGE_PROTNONE } from "../arch/x86/pgtable_types";

export const SWP_TYPE_SHIFT: u64 = 1;
export const SWP_TYPE_BITS: u64 = 5;
export const SWP_OFFSET_SHIFT: u64 = 9;
export const SWP_OFFSET_BITS: u64 = 55;
export const MAX_SWAPFILES_SHIFT: u32 = 5;
/** Swap types left for swap devices (2 are taken by migration entries). */
export const MAX_SWAPFILES: u32 = (1 << MAX_SWAPFILES_SHIFT) - 2;
export const SWP_MIGRATION_READ: u32 = MAX_SWAPFILES;
export const SWP_MIGRATION_WRITE: u32 = MAX_SWAPFILES + 1;

/** swp_entry_to_pte - the PTE of swap entry (type, offset). */
// @ts-ignore: decorator
@inline export function swp_entry_to_pte(type: u32, offset: u64): u64 {
  return (offset << SWP_OFFSET_SHIFT) | ((<u64>type & ((1 << SWP_TYPE_BITS) - 1)) << SWP_TYPE_SHIFT);
}

/** swp_type - the type field of a swap PTE. */
// @ts-ignore: decorator
@inline export function swp_type(pte: u64): u32 {
  return <u32>((pte >> SWP_TYPE_SHIFT) & ((1 << SWP_TYPE_BITS) - 1));
}

/** swp_offset - the offset field of a swap PTE. */
// @ts-ignore: decorator
@inline export function swp_offset(pte: u64): u64 {
  return pte >> SWP_OFFSET_SHIFT;
}

/** is_swap_pte - neither none (0) nor present (P or PROT_NONE). */
// @ts-ignore: decorator
@inline export function is_swap_pte(pte: u64): bool {
  return pte != 0 && (pte & (_PAGE_PRESENT | _PAGE_PROTNONE)) == 0;
}

/** make_migration_entry - the migration PTE for page pfn, writable if the mapping it replaces was. */
// @ts-ignore: decorator
@inline export function make_migration_entry(pfn: u32, write: bool): u64 {
  return swp_entry_to_pte(write ? SWP_MIGRATION_WRITE : SWP_MIGRATION_READ, <u64>pfn);
}

/** is_migration_entry - a swap PTE of a migration type. */
// @ts-ignore: decorator
@inline export function is_migration_entry(pte: u64): bool {
  if (!is_swap_pte(pte)) return false;
  const t = swp_type(pte);
  return t == SWP_MIGRATION_READ || t == SWP_MIGRATION_WRITE;
}

/** is_write_migration_entry - a migration entry that replaced a writable mapping. */
// @ts-ignore: decorator
@inline export function is_write_migration_entry(pte: u64): bool {
  return is_swap_pte(pte) && swp_type(pte) == SWP_MIGRATION_WRITE;
}

/** migration_entry_to_pfn - the pfn a migration entry names (its offset). */
// @ts-ignore: decorator
@inline export function migration_entry_to_pfn(pte: u64): u32 {
  return <u32>swp_offset(pte);
}

/**
 * make_migration_entry_read - the read-only form of a migration entry (fork's copy_one_pte turns a
 * write entry read in both parent and child, so that the COW rules hold after migration).
 */
// @ts-ignore: decorator
@inline export function make_migration_entry_read(pte: u64): u64 {
  return swp_entry_to_pte(SWP_MIGRATION_READ, swp_offset(pte));
}
