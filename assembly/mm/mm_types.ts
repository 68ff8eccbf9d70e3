// struct page: one per frame of RAM, in the mem_map array (layout.ts), after include/linux/mm_types.h.
//
//  struct page (32 bytes)
//   +0   flags      u32  PG_* below                         atomics (set_bit/clear_bit style)
//   +4   _refcount  i32  references; 0 = free                atomics
//   +8   _mapcount  i32  page-table mappings - 1 (-1 = none) atomics
//   +12  mapping    u32  address_space, or anon_vma | PAGE_MAPPING_ANON   page lock / rmap locks
//   +16  index      u32  page offset in the mapping (pgoff)                page lock / rmap locks
//   +20  lru_next   u32  pfn of the next page on its list (PFN_NIL ends)    the list's lock
//   +24  lru_prev   u32  pfn of the previous page                          the list's lock
//   +28  private    u32  owner's use: page-table pages keep their split lock here
//
// A free page (on a zone or per-CPU list) has PG_buddy set, _refcount 0, _mapcount -1, mapping 0.
import { mem_map, nr_frames, STRUCT_PAGE_SIZE } from "../layout";

export const PAGE_FLAGS: usize = 0;
export const PAGE_REFCOUNT: usize = 4;
export const PAGE_MAPCOUNT: usize = 8;
export const PAGE_MAPPING: usize = 12;
export const PAGE_INDEX: usize = 16;
export const PAGE_LRU_NEXT: usize = 20;
export const PAGE_LRU_PREV: usize = 24;
export const PAGE_PRIVATE: usize = 28;

/** End of a pfn list. */
export const PFN_NIL: u32 = 0xffffffff;

// Page flags (include/linux/page-flags.h names).
export const PG_locked: u32 = 1 << 0;
export const PG_referenced: u32 = 1 << 1;
export const PG_dirty: u32 = 1 << 2;
export const PG_lru: u32 = 1 << 3;
export const PG_reserved: u32 = 1 << 4;
export const PG_buddy: u32 = 1 << 5;   // free, owned by the page allocator (PageBuddy)
export const PG_slab: u32 = 1 << 6;
export const PG_pgtable: u32 = 1 << 7; // a page-table page (PageTable)
export const PG_anon: u32 = 1 << 8;
export const PG_swapbacked: u32 = 1 << 9;
export const PG_writeback: u32 = 1 << 10;
export const PG_nodata: u32 = 1 << 11; // metadata-only frame: no contents behind it

// @ts-ignore: decorator
@inline export function pfn_to_page(pfn: u32): usize {
  return mem_map + <usize>pfn * STRUCT_PAGE_SIZE;
}

// @ts-ignore: decorator
@inline export function page_to_pfn(page: usize): u32 {
  return <u32>((page - mem_map) / STRUCT_PAGE_SIZE);
}

// @ts-ignore: decorator
@inline export function pfn_valid(pfn: u32): bool {
  return pfn < nr_frames;
}

// @ts-ignore: decorator
@inline export function page_ref_count(page: usize): i32 {
  return atomic.load<i32>(page + PAGE_REFCOUNT);
}

// @ts-ignore: decorator
@inline export function page_mapcount(page: usize): i32 {
  return atomic.load<i32>(page + PAGE_MAPCOUNT) + 1;
}

// @ts-ignore: decorator
@inline export function page_flags(page: usize): u32 {
  return atomic.load<u32>(page + PAGE_FLAGS);
}

// @ts-ignore: decorator
@inline export function set_page_flag(page: usize, f: u32): void {
  atomic.or<u32>(page + PAGE_FLAGS, f);
}

// @ts-ignore: decorator
@inline export function clear_page_flag(page: usize, f: u32): void {
  atomic.and<u32>(page + PAGE_FLAGS, ~f);
}
