// Torture kernels for the paging unit and the page allocator, run by the test suite on several CPUs
// at once (in the spirit of lib/test_*.c and mm/debug_vm_pgtable.c). Each returns counts the test
// checks exactly; none asserts by itself.
import { frames_base, backed_limit } from "../layout";
import { this_cpu, smp_processor_id } from "../percpu";
import { mmu_translate, invlpg } from "../arch/x86/mmu";
import { _PAGE_ACCESSED, _PAGE_DIRTY, PTE_PFN_MASK, ACC_WRITE } from "../arch/x86/pgtable_types";
import { alloc_page, put_page, GFP_KERNEL, __GFP_HIGHMEM } from "../mm/page_alloc";
import { pfn_to_page, PAGE_PRIVATE, PAGE_LRU_NEXT } from "../mm/mm_types";
import { NODE_NIL } from "./freelist";
import { EINVAL } from "../errno";

// xorshift32: cheap and deterministic per seed.
// @ts-ignore: decorator
@inline function next_rand(x: u32): u32 {
  x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
  return x;
}

/**
 * test_ad_walker - iters times: pick one of npages 4 KiB pages from va_base, INVLPG it and write-
 * translate it, so every access walks. Each page's leaf PTE alternates (test_ad_clearer) between two
 * frames, pfn_a + i and pfn_b + i. Returns the number of translations that produced any other frame
 * (a torn or lost entry) or faulted; the test expects 0. The CPU's STAT_SET_DIRTY counts the D bits
 * it set. Adds 1 to the u32 at done when finished.
 */
export function test_ad_walker(va_base: u64, npages: u32, iters: u32, seed: u32, pfn_a: u32, pfn_b: u32, done: usize): u32 {
  const p = this_cpu();
  let x = seed | 1, bad: u32 = 0;
  for (let n: u32 = 0; n < iters; n++) {
    x = next_rand(x);
    const i = x % npages;
    const va = va_base + (<u64>i << 12);
    invlpg(p, va);
    const pa = mmu_translate(p, va, ACC_WRITE);
    const pfn = <u32>(pa >> 12);
    if (pa < 0 || (pfn != pfn_a + i && pfn != pfn_b + i)) bad++;
  }
  atomic.add<u32>(done, 1);
  return bad;
}

/**
 * test_ad_clearer - over npages leaf PTEs at physical address pte_pa (consecutive), round after round
 * until walkers walkers have added themselves to the u32 at done: test-and-clear A and D with an
 * atomic AND (as ptep_test_and_clear_young and the dirty-bit harvest do), and every remap_every-th
 * round move each PTE to its other frame with a compare-and-swap that keeps A and D. It moves every
 * PTE an even number of times in all, so each ends on frame pfn_a + i unless a move was lost.
 * Returns the number of D bits it found set and cleared; the test checks that the walkers' D sets
 * equal this plus the D bits left set at the end.
 */
export function test_ad_clearer(pte_pa: u64, npages: u32, walkers: u32, remap_every: u32, pfn_a: u32, pfn_b: u32, done: usize): i64 {
  if (pte_pa + (<u64>npages << 3) > backed_limit || remap_every == 0) return -EINVAL;
  let dirty_seen: i64 = 0;
  let moves: u32 = 0;
  for (let r: u32 = 0; atomic.load<u32>(done) < walkers || (moves & 1) != 0; r++) {
    const remap = r % remap_every == remap_every - 1;
    if (remap) moves++;
    for (let i: u32 = 0; i < npages; i++) {
      const ptep = frames_base + <usize>(pte_pa + (<u64>i << 3));
      const old = atomic.and<u64>(ptep, ~(_PAGE_ACCESSED | _PAGE_DIRTY));
      if ((old & _PAGE_DIRTY) != 0) dirty_seen++;
      if (remap) {
        for (;;) {
          const e = atomic.load<u64>(ptep);
          const cur = <u32>((e & PTE_PFN_MASK) >> 12);
          const other: u64 = cur == pfn_a + i ? pfn_b + i : pfn_a + i;
          if (atomic.cmpxchg<u64>(ptep, e, (e & ~PTE_PFN_MASK) | (other << 12)) == e) break;
        }
      }
    }
  }
  return dirty_seen;
}

/**
 * test_page_alloc_exhaust - allocate frames on this CPU until -ENOMEM (from either zone with
 * highmem), claiming each in its struct page's private field with a compare-and-swap from 0 to
 * cpu + 1 and chaining them through lru_next; the chain's head pfn is stored at head_out (a u32 in
 * shared memory) for test_page_alloc_release. Returns the count allocated, or -(1 + count) if some
 * frame was handed out twice (its private field was already claimed).
 */
export function test_page_alloc_exhaust(highmem: bool, head_out: usize): i32 {
  const me = <u32>smp_processor_id() + 1;
  let head = NODE_NIL, n = 0, dup = false;
  for (;;) {
    const pfn = alloc_page(highmem ? __GFP_HIGHMEM : GFP_KERNEL);
    if (pfn < 0) break;
    const page = pfn_to_page(<u32>pfn);
    if (atomic.cmpxchg<u32>(page + PAGE_PRIVATE, 0, me) != 0) dup = true;
    store<u32>(page + PAGE_LRU_NEXT, head);
    head = <u32>pfn;
    n++;
  }
  atomic.store<u32>(head_out, head);
  return dup ? -(1 + n) : n;
}

/**
 * test_page_alloc_release - free the chain that test_page_alloc_exhaust built from head, clearing
 * each claim first. Returns the number freed, or -1 if a frame's claim was not this CPU's.
 */
export function test_page_alloc_release(head: u32): i32 {
  const me = <u32>smp_processor_id() + 1;
  let n = 0, wrong = false;
  while (head != NODE_NIL) {
    const page = pfn_to_page(head);
    const next = load<u32>(page + PAGE_LRU_NEXT);
    if (atomic.xchg<u32>(page + PAGE_PRIVATE, 0) != me) wrong = true;
    if (put_page(head) != 1) wrong = true;
    head = next;
    n++;
  }
  return wrong ? -1 : n;
}

/**
 * test_page_alloc_churn - iters rounds of allocating and freeing frames on this CPU, holding up to
 * hold (<= 1024) of them in a frame of its own, in an order drawn from seed. Every allocation is
 * claimed as in test_page_alloc_exhaust. Returns the number of double allocations seen (0 expected),
 * or -ENOMEM if the holding frame itself cannot be had.
 */
export function test_page_alloc_churn(iters: u32, hold: u32, seed: u32): i32 {
  if (hold == 0 || hold > 1024) return -EINVAL;
  const me = <u32>smp_processor_id() + 1;
  const box = alloc_page(GFP_KERNEL);
  if (box < 0) return box;
  const slots = frames_base + (<usize>box << 12);
  let held: u32 = 0, x = seed | 1, dups = 0;
  for (let n: u32 = 0; n < iters; n++) {
    x = next_rand(x);
    if (held < hold && ((x & 1) != 0 || held == 0)) {
      const pfn = alloc_page(__GFP_HIGHMEM);
      if (pfn < 0) continue;
      if (atomic.cmpxchg<u32>(pfn_to_page(<u32>pfn) + PAGE_PRIVATE, 0, me) != 0) dups++;
      store<u32>(slots + (<usize>held << 2), pfn);
      held++;
    } else {
      const k = (x >>> 1) % held;
      const pfn = load<u32>(slots + (<usize>k << 2));
      store<u32>(slots + (<usize>k << 2), load<u32>(slots + (<usize>(held - 1) << 2)));
      held--;
      atomic.store<u32>(pfn_to_page(pfn) + PAGE_PRIVATE, 0);
      put_page(pfn);
    }
  }
  while (held > 0) {
    held--;
    const pfn = load<u32>(slots + (<usize>held << 2));
    atomic.store<u32>(pfn_to_page(pfn) + PAGE_PRIVATE, 0);
    put_page(pfn);
  }
  put_page(<u32>box);
  return dups;
}
