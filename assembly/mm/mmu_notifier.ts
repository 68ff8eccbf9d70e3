// MMU notifiers (mm/mmu_notifier.c, include/linux/mmu_notifier.h; seed 002): a secondary MMU (KVM's
// shadow pages, SGI's GRU) registers on an mm and is told before the primary page tables drop or
// downgrade translations. The model's notifier is the one a test or the host reads: it records every
// call in shared memory and keeps the start/end nesting depth, so an unbalanced pair (seed 002's
// copy_page_range returning -ENOMEM without invalidate_range_end) is caught.
//
//  struct mmu_notifier (MMU_NOTIFIER_SIZE bytes, kmem cache KMEM_MMU_NOTIFIER)
//   -- under mm->mmap_sem held for write (registration), read locklessly by the callers --
//   +0   next        u32   next notifier of the mm (mm->notifiers is the first)
//   +4   mm          u32
//   -- atomics: the callbacks may run on several CPUs at once --
//   +8   depth       i32   invalidate_range_start calls not yet ended (KVM's mmu_notifier_count)
//   +12  flags       u32   MNF_UNBALANCED: an end came without a start (depth went below 0)
//   +16  nr_start    u32   +20 nr_end u32   +24 nr_invalidate_page u32   +28 nr_clear_young u32
//   +32  max_depth   i32   deepest nesting seen
//   +36  nr_events   u32   events ever recorded (the ring keeps the last MN_RING)
//   +40  (pad to 64)
//   +64  ring[MN_RING] of struct mn_event (24 B): kind u32 | cpu u32 | start u64 | end u64
//
// Locking: the callers hold what the kernel's callers hold (mmap_sem; for invalidate_page and
// clear_young also the rmap lock or the pte lock); the notifier itself uses atomics only.
// Simplifications: no SRCU: notifiers are unlinked only by mmu_notifier_release at exit_mmap (no
// concurrent callers then); no ->release callback, no invalidate_range (the 4.x one that runs under
// the pte lock), change_pte is not modelled.
import { MM_NOTIFIERS } from "./mm_types";
import { KMEM_MMU_NOTIFIER } from "./mm_types";
import { kmem_cache_alloc, kmem_cache_free } from "./slab";
import { __GFP_ZERO } from "./page_alloc";
import { smp_processor_id } from "../percpu";
import { VM_BUG_ON } from "../debug";

export const MN_NEXT: usize = 0;
export const MN_MM: usize = 4;
export const MN_DEPTH: usize = 8;
export const MN_FLAGS: usize = 12;
export const MN_NR_START: usize = 16;
export const MN_NR_END: usize = 20;
export const MN_NR_INVALIDATE_PAGE: usize = 24;
export const MN_NR_CLEAR_YOUNG: usize = 28;
export const MN_MAX_DEPTH: usize = 32;
export const MN_NR_EVENTS: usize = 36;
export const MN_RING_OFF: usize = 64;
export const MN_EVENT_SIZE: u32 = 24;
export const MN_RING: u32 = 32;
export const MMU_NOTIFIER_SIZE: u32 = <u32>MN_RING_OFF + MN_RING * MN_EVENT_SIZE;

export const MNF_UNBALANCED: u32 = 1 << 0;

export const MN_EV_START: u32 = 1;
export const MN_EV_END: u32 = 2;
export const MN_EV_INVALIDATE_PAGE: u32 = 3;
export const MN_EV_CLEAR_YOUNG: u32 = 4;

// Record one event in n's ring.
function mn_record(n: usize, kind: u32, start: u64, end: u64): void {
  const i = atomic.add<u32>(n + MN_NR_EVENTS, 1) % MN_RING;
  const e = n + MN_RING_OFF + <usize>i * MN_EVENT_SIZE;
  store<u32>(e, kind);
  store<u32>(e + 4, <u32>smp_processor_id());
  store<u64>(e + 8, start);
  store<u64>(e + 16, end);
}

/**
 * mmu_notifier_register - register a recording notifier on mm (as kvm_init_mmu_notifier does).
 * Caller holds mm->mmap_sem for write (the kernel's mmu_notifier_register takes it). Returns the
 * notifier, or 0 when the slab is exhausted.
 */
export function mmu_notifier_register(mm: usize): usize {
  const n = kmem_cache_alloc(KMEM_MMU_NOTIFIER, __GFP_ZERO);
  if (n == 0) return 0;
  store<u32>(n + MN_MM, <u32>mm);
  store<u32>(n + MN_NEXT, load<u32>(mm + MM_NOTIFIERS));
  atomic.store<u32>(mm + MM_NOTIFIERS, <u32>n); // publish, fully initialised
  return n;
}

/**
 * mmu_notifier_release - exit_mmap: unlink and free every notifier of mm (mm_users is 0: no caller
 * can run). Returns the number of notifiers whose start/end pairs were unbalanced.
 */
export function mmu_notifier_release(mm: usize): i32 {
  let bad = 0;
  let n = <usize>atomic.xchg<u32>(mm + MM_NOTIFIERS, 0);
  while (n != 0) {
    const next = <usize>load<u32>(n + MN_NEXT);
    if (atomic.load<i32>(n + MN_DEPTH) != 0 || (atomic.load<u32>(n + MN_FLAGS) & MNF_UNBALANCED) != 0) bad++;
    kmem_cache_free(KMEM_MMU_NOTIFIER, n);
    n = next;
  }
  return bad;
}

// @ts-ignore: decorator
@inline function first(mm: usize): usize { return <usize>atomic.load<u32>(mm + MM_NOTIFIERS); }

/**
 * mmu_notifier_invalidate_range_start - the primary MMU is about to drop or downgrade mm's
 * translations of [start, end): every notifier's depth goes up until the matching _end. mmap_sem
 * held (or the mm is exiting); no spinlock needs to be dropped (the model's callback does not sleep).
 */
export function mmu_notifier_invalidate_range_start(mm: usize, start: u64, end: u64): void {
  for (let n = first(mm); n != 0; n = <usize>load<u32>(n + MN_NEXT)) {
    const d = atomic.add<i32>(n + MN_DEPTH, 1) + 1;
    if (d > atomic.load<i32>(n + MN_MAX_DEPTH)) atomic.store<i32>(n + MN_MAX_DEPTH, d);
    atomic.add<u32>(n + MN_NR_START, 1);
    mn_record(n, MN_EV_START, start, end);
  }
}

/**
 * mmu_notifier_invalidate_range_end - the translations of [start, end) are gone; the secondary MMU
 * may fault them in again. An end without a start is recorded as MNF_UNBALANCED (and is a VM_BUG_ON
 * in the debug build).
 */
export function mmu_notifier_invalidate_range_end(mm: usize, start: u64, end: u64): void {
  for (let n = first(mm); n != 0; n = <usize>load<u32>(n + MN_NEXT)) {
    const d = atomic.sub<i32>(n + MN_DEPTH, 1) - 1;
    atomic.add<u32>(n + MN_NR_END, 1);
    mn_record(n, MN_EV_END, start, end);
    if (d < 0) atomic.or<u32>(n + MN_FLAGS, MNF_UNBALANCED);
    VM_BUG_ON(d < 0, "mmu_notifier_invalidate_range_end: end without a matching invalidate_range_start");
  }
}

/** mmu_notifier_invalidate_page - the PTE of one page of mm at addr was cleared or changed. */
export function mmu_notifier_invalidate_page(mm: usize, addr: u64): void {
  for (let n = first(mm); n != 0; n = <usize>load<u32>(n + MN_NEXT)) {
    atomic.add<u32>(n + MN_NR_INVALIDATE_PAGE, 1);
    mn_record(n, MN_EV_INVALIDATE_PAGE, addr, addr + 4096);
  }
}

/**
 * mmu_notifier_clear_young - page_referenced asks whether the secondary MMUs accessed [start, end)
 * and to clear their accessed bits. The recording notifier has no shadow PTEs: it answers 0.
 */
export function mmu_notifier_clear_young(mm: usize, start: u64, end: u64): i32 {
  let young = 0;
  for (let n = first(mm); n != 0; n = <usize>load<u32>(n + MN_NEXT)) {
    atomic.add<u32>(n + MN_NR_CLEAR_YOUNG, 1);
    mn_record(n, MN_EV_CLEAR_YOUNG, start, end);
  }
  return young;
}

/**
 * mmu_notifier_check - the balance checker: the number of mm's notifiers with a start not yet ended
 * or an end without a start. 0 when every pair is balanced (call it where no operation is running).
 */
export function mmu_notifier_check(mm: usize): i32 {
  let bad = 0;
  for (let n = first(mm); n != 0; n = <usize>load<u32>(n + MN_NEXT)) {
    if (atomic.load<i32>(n + MN_DEPTH) != 0 || (atomic.load<u32>(n + MN_FLAGS) & MNF_UNBALANCED) != 0) bad++;
  }
  return bad;
}
