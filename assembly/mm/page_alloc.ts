// The page-frame allocator, after mm/page_alloc.c: order-0 pages from two zones, each CPU keeping a
// per-CPU list (pcp) in front of the zone's free list.
//
//   ZONE_NORMAL  pfns 1 .. nr_backed-1   frames with contents: page tables and kernel pages come
//                                        from here only (pfn 0 is reserved, as the first page is on x86)
//   ZONE_NODATA  pfns nr_backed .. F-1   metadata-only frames (metadata-only mode); used first by
//                                        allocations with __GFP_HIGHMEM, like highmem on 32-bit x86
//
// Locks: pcp->lock (per CPU and zone; uncontended except when another CPU drains it) nests outside
// zone->lock. A CPU refills its pcp list PCP_BATCH pages at a time and gives a batch back above
// PCP_HIGH. When every zone and the CPU's own lists are empty, drain_all_pages() empties every CPU's
// pcp lists into the zones and the allocation is tried once more before it fails with -ENOMEM.
// Differences from Linux: order-0 only (no buddy merging, no huge-page allocation), no watermarks,
// reclaim or compaction: exhaustion is reported to the caller at once.
// Debug builds count each frame's allocations in the PAGE_GEN bits of its flags (mm_types.ts): the
// stale-TLB detector (arch/x86/tlb_check.ts) tells a freed or reused frame from the one a TLB entry
// was filled for. The release build leaves those bits 0 and pays nothing.
import { llc_charge, atomic_charge, page_lines_charge } from "../kernel/mm_charge";
import { PCP_BATCH, PCP_HIGH, PAGE_SIZE, PAGE_SHIFT, DEBUG } from "../config";
import { ENOMEM, EINVAL, EBUSY } from "../errno";
import { PC_FAIL_PAGE_ALLOC, zone_ptr, per_cpu_ptr, mem_map, frames_base, nr_backed, nr_frames, nr_cpus, ZONE_NORMAL, ZONE_NODATA,
  MAX_NR_ZONES, ZONE_FREE_LIST, ZONE_START_PFN, ZONE_END_PFN, PC_PCP, PCP_STRIDE, STRUCT_PAGE_SIZE } from "../layout";
import { freelist_init, freelist_push, freelist_pop, freelist_move, freelist_count, FL_LOCK, FL_COUNT, NODE_NIL } from "../lib/freelist";
import { spin_lock, spin_unlock } from "../locking/spinlock";
import { pfn_to_page, PAGE_FLAGS, PAGE_REFCOUNT, PAGE_MAPCOUNT, PAGE_MAPPING, PAGE_INDEX, PAGE_PRIVATE,
  PAGE_LRU_NEXT, PAGE_LRU_PREV, PG_buddy, PG_reserved, PG_anon, PG_swapbacked, PAGE_MAPPING_ANON, PAGE_GEN_ONE,
  PAGE_GEN_MASK } from "./mm_types";
import { this_cpu, count_event, STAT_PGALLOC, STAT_PGFREE, STAT_PCP_REFILL, STAT_PCP_DRAIN } from "../percpu";
import { VM_BUG_ON } from "../debug";

/** Zero the page's contents (frames without contents have none to zero). */
export const __GFP_ZERO: u32 = 1 << 0;
/** The page may come from ZONE_NODATA (user data in metadata-only mode); else ZONE_NORMAL only. */
export const __GFP_HIGHMEM: u32 = 1 << 1;
export const GFP_KERNEL: u32 = 0;
export const GFP_PGTABLE: u32 = __GFP_ZERO;
export const GFP_HIGHUSER: u32 = __GFP_HIGHMEM;
export const GFP_VALID_MASK: u32 = __GFP_ZERO | __GFP_HIGHMEM;

// Free-list links run through struct page's lru_next: node pfn links at mem_map + pfn x 32 + 20.
// @ts-ignore: decorator
@inline function link_base(): usize { return mem_map + PAGE_LRU_NEXT; }

// @ts-ignore: decorator
@inline function pcp_ptr(p: usize, zone: i32): usize {
  return p + PC_PCP + <usize>zone * PCP_STRIDE;
}

/** Does frame pfn carry 4 KiB of contents? */
// @ts-ignore: decorator
@inline export function page_has_data(pfn: u32): bool {
  return pfn < nr_backed;
}

/** Host address of frame pfn's contents; the caller checks page_has_data. */
// @ts-ignore: decorator
@inline export function page_address(pfn: u32): usize {
  return frames_base + (<usize>pfn << PAGE_SHIFT);
}

/**
 * free_area_init - build the zones: every frame but pfn 0 free, on its zone's list in pfn order.
 * Runs once in machine_init, before any CPU runs.
 */
export function free_area_init(): void {
  const normal = zone_ptr(ZONE_NORMAL);
  const nodata = zone_ptr(ZONE_NODATA);
  freelist_init(normal + ZONE_FREE_LIST);
  freelist_init(nodata + ZONE_FREE_LIST);
  store<u32>(normal + ZONE_START_PFN, 1);
  store<u32>(normal + ZONE_END_PFN, nr_backed);
  store<u32>(nodata + ZONE_START_PFN, nr_backed);
  store<u32>(nodata + ZONE_END_PFN, nr_frames);
  const reserved = pfn_to_page(0);
  store<u32>(reserved + PAGE_FLAGS, PG_reserved);
  store<i32>(reserved + PAGE_REFCOUNT, 1);
  store<i32>(reserved + PAGE_MAPCOUNT, -1);
  // Push in descending order so the lists hand out ascending pfns.
  for (let pfn = nr_frames - 1; pfn >= 1; pfn--) {
    const page = pfn_to_page(pfn);
    store<u32>(page + PAGE_FLAGS, PG_buddy);
    store<i32>(page + PAGE_MAPCOUNT, -1);
    freelist_push((pfn < nr_backed ? normal : nodata) + ZONE_FREE_LIST, pfn, link_base(), STRUCT_PAGE_SIZE);
  }
  for (let cpu = 0; cpu < nr_cpus; cpu++) {
    for (let z = 0; z < MAX_NR_ZONES; z++) freelist_init(pcp_ptr(per_cpu_ptr(cpu), z));
  }
}

// Take one page from this CPU's pcp list for zone, refilling a batch from the zone when empty.
function rmqueue_pcplist(zone: i32): u32 {
  const pcp = pcp_ptr(this_cpu(), zone);
  spin_lock(pcp + FL_LOCK);
  let pfn = freelist_pop(pcp, link_base(), STRUCT_PAGE_SIZE);
  if (pfn == NODE_NIL) {
    const zl = zone_ptr(zone) + ZONE_FREE_LIST;
    spin_lock(zl + FL_LOCK);
    freelist_move(zl, pcp, PCP_BATCH, link_base(), STRUCT_PAGE_SIZE);
    spin_unlock(zl + FL_LOCK);
    count_event(STAT_PCP_REFILL);
    pfn = freelist_pop(pcp, link_base(), STRUCT_PAGE_SIZE);
  }
  spin_unlock(pcp + FL_LOCK);
  return pfn;
}

// Give count pages of the pcp list at pcp (locked) back to zone.
function free_pcppages_bulk(pcp: usize, zone: i32, count: u32): void {
  const zl = zone_ptr(zone) + ZONE_FREE_LIST;
  spin_lock(zl + FL_LOCK);
  freelist_move(pcp, zl, count, link_base(), STRUCT_PAGE_SIZE);
  spin_unlock(zl + FL_LOCK);
  count_event(STAT_PCP_DRAIN);
}

/** drain_all_pages - empty every CPU's pcp lists into their zones (each under its pcp lock). */
export function drain_all_pages(): void {
  for (let cpu = 0; cpu < nr_cpus; cpu++) {
    for (let z = 0; z < MAX_NR_ZONES; z++) {
      const pcp = pcp_ptr(per_cpu_ptr(cpu), z);
      spin_lock(pcp + FL_LOCK);
      const n = load<u32>(pcp + FL_COUNT);
      if (n != 0) free_pcppages_bulk(pcp, z, n);
      spin_unlock(pcp + FL_LOCK);
    }
  }
}

function get_page_from_freelist(gfp: u32): u32 {
  if ((gfp & __GFP_HIGHMEM) != 0 && nr_backed < nr_frames) {
    const pfn = rmqueue_pcplist(ZONE_NODATA);
    if (pfn != NODE_NIL) return pfn;
  }
  return rmqueue_pcplist(ZONE_NORMAL);
}

/**
 * alloc_page - allocate one frame on this CPU. gfp: __GFP_ZERO, __GFP_HIGHMEM.
 * Holds nothing on entry (takes pcp and zone locks). Returns the pfn with _refcount 1 (zeroed with
 * __GFP_ZERO when it has contents), -EINVAL for unknown gfp bits, or -ENOMEM when no frame is free
 * anywhere (after draining every CPU's lists).
 */
export function alloc_page(gfp: u32): i32 {
  if ((gfp & ~GFP_VALID_MASK) != 0) return -EINVAL;
  if (should_fail_alloc_page()) return -ENOMEM;
  let pfn = get_page_from_freelist(gfp);
  if (pfn == NODE_NIL) {
    drain_all_pages();
    pfn = get_page_from_freelist(gfp);
    if (pfn == NODE_NIL) return -ENOMEM;
  }
  const page = pfn_to_page(pfn);
  // The pcp list's head page: its struct page line (the list links, flags, refcount) from the LLC.
  // The list's lock is charged by spin_lock/spin_unlock.
  llc_charge(1);
  VM_BUG_ON((atomic.load<u32>(page + PAGE_FLAGS) & ~PAGE_GEN_MASK) != PG_buddy, "alloc_page: free page has flags other than PG_buddy");
  VM_BUG_ON(atomic.load<i32>(page + PAGE_REFCOUNT) != 0, "alloc_page: free page has a reference");
  VM_BUG_ON(atomic.load<i32>(page + PAGE_MAPCOUNT) != -1, "alloc_page: free page is mapped");
  VM_BUG_ON(load<u32>(page + PAGE_MAPPING) != 0, "alloc_page: free page has a mapping");
  if (DEBUG) {
    // The next allocation generation: the flags are exactly gen | PG_buddy (checked above), so one
    // atomic add clears PG_buddy and bumps the generation (modulo 4096: the carry leaves bit 31).
    atomic.add<u32>(page + PAGE_FLAGS, PAGE_GEN_ONE - PG_buddy);
  } else {
    atomic.store<u32>(page + PAGE_FLAGS, 0);
  }
  store<u32>(page + PAGE_LRU_NEXT, NODE_NIL);
  store<u32>(page + PAGE_LRU_PREV, NODE_NIL);
  atomic.store<i32>(page + PAGE_REFCOUNT, 1);
  // clear_page: 64 lines at LLC latency (kernel/mm_charge.ts says why), charged whether or not the
  // model's frame carries contents (Linux clears every page).
  if ((gfp & __GFP_ZERO) != 0) page_lines_charge();
  if ((gfp & __GFP_ZERO) != 0 && page_has_data(pfn)) memory.fill(page_address(pfn), 0, PAGE_SIZE);
  count_event(STAT_PGALLOC);
  return <i32>pfn;
}

/**
 * should_fail_alloc_page - fault injection (CONFIG_FAIL_PAGE_ALLOC): this CPU's fail_page_alloc word
 * (layout.ts) is 0 when off; at n > 0 it counts down, and the allocation that finds it at 1 and every
 * later one fail until the word is set again (fail_page_alloc_set).
 */
function should_fail_alloc_page(): bool {
  const w = this_cpu() + PC_FAIL_PAGE_ALLOC;
  const n = load<u32>(w);
  if (n == 0) return false;
  if (n == 1) return true;
  store<u32>(w, n - 1);
  return false;
}

/** fail_page_alloc_set - arm fault injection on this CPU: n - 1 more allocations succeed (0: off). */
export function fail_page_alloc_set(n: u32): void {
  store<u32>(this_cpu() + PC_FAIL_PAGE_ALLOC, n);
}

// Return a page whose last reference is gone to this CPU's pcp list.
function free_unref_page(pfn: u32): void {
  const page = pfn_to_page(pfn);
  store<u32>(page + PAGE_INDEX, 0);
  store<u32>(page + PAGE_PRIVATE, 0);
  // Debug builds keep the allocation generation across the free (0 in the release build).
  const gen = DEBUG ? atomic.load<u32>(page + PAGE_FLAGS) & PAGE_GEN_MASK : 0;
  atomic.store<u32>(page + PAGE_FLAGS, gen | PG_buddy);
  const zone = pfn < nr_backed ? ZONE_NORMAL : ZONE_NODATA;
  const pcp = pcp_ptr(this_cpu(), zone);
  spin_lock(pcp + FL_LOCK);
  freelist_push(pcp, pfn, link_base(), STRUCT_PAGE_SIZE);
  if (load<u32>(pcp + FL_COUNT) > PCP_HIGH) free_pcppages_bulk(pcp, zone, PCP_BATCH);
  spin_unlock(pcp + FL_LOCK);
  count_event(STAT_PGFREE);
}

/** get_page - take a reference on an allocated frame. Returns 0, or -EINVAL for a free/invalid one. */
export function get_page(pfn: u32): i32 {
  if (pfn >= nr_frames) return -EINVAL;
  const page = pfn_to_page(pfn);
  if ((atomic.load<u32>(page + PAGE_FLAGS) & (PG_buddy | PG_reserved)) != 0) return -EINVAL;
  atomic_charge(1); // the locked add on _refcount
  atomic.add<i32>(page + PAGE_REFCOUNT, 1);
  return 0;
}

/**
 * put_page - drop a reference; the last one frees the frame to this CPU's pcp list.
 * A frame must be unmapped (_mapcount -1) with no mapping to be freed: the kernel's free_pages_check.
 * Returns 1 if the frame was freed, 0 if references remain; -EINVAL for a pfn outside RAM, the
 * reserved pfn 0 or a frame that is already free (a double free); -EBUSY if the last reference went
 * while the frame is still mapped (the frame is then leaked, as Linux's bad_page() does).
 */
export function put_page(pfn: u32): i32 {
  if (pfn >= nr_frames) return -EINVAL;
  const page = pfn_to_page(pfn);
  const flags = atomic.load<u32>(page + PAGE_FLAGS);
  if ((flags & (PG_buddy | PG_reserved)) != 0) return -EINVAL;
  atomic_charge(1); // the locked sub on _refcount (put_page_testzero)
  const old = atomic.sub<i32>(page + PAGE_REFCOUNT, 1);
  VM_BUG_ON(old <= 0, "put_page: reference count underflow");
  if (old != 1) return 0;
  // An anonymous page keeps page->mapping (its anon_vma | PAGE_MAPPING_ANON) after its last unmap
  // (page_remove_rmap leaves it: a racing page_add_anon_rmap may rely on it); it is cleared here, when
  // the page is freed, as free_pages_prepare does for PageMappingFlags pages.
  if ((load<u32>(page + PAGE_MAPPING) & PAGE_MAPPING_ANON) != 0 && atomic.load<i32>(page + PAGE_MAPCOUNT) == -1) {
    store<u32>(page + PAGE_MAPPING, 0);
    atomic.and<u32>(page + PAGE_FLAGS, ~(PG_anon | PG_swapbacked));
  }
  const mapped = atomic.load<i32>(page + PAGE_MAPCOUNT) != -1 || load<u32>(page + PAGE_MAPPING) != 0;
  VM_BUG_ON(mapped, "put_page: freeing a page that is still mapped (free_pages_check)");
  if (mapped) return -EBUSY;
  free_unref_page(pfn);
  return 1;
}

/** nr_free_pages - free frames in the zones and on every CPU's pcp lists (exact when CPUs are quiet). */
export function nr_free_pages(): u32 {
  let n: u32 = 0;
  for (let z = 0; z < MAX_NR_ZONES; z++) n += freelist_count(zone_ptr(z) + ZONE_FREE_LIST);
  for (let cpu = 0; cpu < nr_cpus; cpu++) {
    for (let z = 0; z < MAX_NR_ZONES; z++) n += freelist_count(pcp_ptr(per_cpu_ptr(cpu), z));
  }
  return n;
}
