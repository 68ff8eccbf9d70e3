// Virtual-time charges of the MM core (issue 3): what the memory operations of the page-table,
// allocator, rmap and vma code cost, expressed in the cost model's constants (kernel/cost.ts) at a
// coarse granularity. Every helper compiles to nothing in the parallel builds (charge() and
// preempt_point() are no-ops there; kernel/sched.ts).
//
// Granularity: one charge per cache line an operation touches (a struct page, a slab object, a PTE's
// line, a vma node), a locked read-modify-write per atomic the code does, and a preemption point at
// every write of a page-table entry (explore mode's "PTE write" points). What is not charged: plain
// loads of lines the operation already holds (the caller's vma, the mm after taking mmap_sem), local
// INVLPG/CR3 writes (no constant for them), and instruction execution between the loads.
import { charge, preempt_point, SWITCH_PREEMPT } from "./sched";
import { cost, COST_LOAD_L1, COST_LOAD_LLC, COST_ATOMIC, COST_SYSCALL } from "./cost";

/** Cache lines in a 4 KiB page (64-byte lines). */
export const PAGE_LINES: u32 = 4096 / 64;

/**
 * pte_rmw_charge - a locked read-modify-write of a page-table entry (xchg, cmpxchg, lock and/or):
 * a preemption point (another CPU, or its page walker, may touch the entry first) and an atomic.
 */
// @ts-ignore: decorator
@inline export function pte_rmw_charge(): void {
  preempt_point(SWITCH_PREEMPT);
  charge(cost(COST_ATOMIC));
}

/**
 * pte_store_charge - a plain store of a page-table entry (native_set_pte: WRITE_ONCE, no LOCK):
 * a preemption point and an L1 store (the entry's line was just read under the pte lock).
 */
// @ts-ignore: decorator
@inline export function pte_store_charge(): void {
  preempt_point(SWITCH_PREEMPT);
  charge(cost(COST_LOAD_L1));
}

/** atomic_charge - n locked read-modify-writes on shared state (refcounts, mapcounts, rss). */
// @ts-ignore: decorator
@inline export function atomic_charge(n: u32): void {
  charge(n * cost(COST_ATOMIC));
}

/** llc_charge - n loads of shared structures that are not in this CPU's L1 (struct page, vma nodes). */
// @ts-ignore: decorator
@inline export function llc_charge(n: u32): void {
  charge(n * cost(COST_LOAD_LLC));
}

/** l1_charge - n loads/stores of lines this CPU touched just before. */
// @ts-ignore: decorator
@inline export function l1_charge(n: u32): void {
  charge(n * cost(COST_LOAD_L1));
}

/**
 * page_lines_charge - zeroing (clear_page) or copying (copy_user_highpage) a 4 KiB page: one
 * last-level-cache access per line. LLC, not DRAM: the pcp free lists are LIFO, so the page handed
 * out is the one freed most recently (cache-hot), and the copy's source was mapped and in use; a
 * cold page would cost COST_LOAD_MEM per line, which the model does not distinguish.
 */
// @ts-ignore: decorator
@inline export function page_lines_charge(): void {
  charge(PAGE_LINES * cost(COST_LOAD_LLC));
}

/**
 * syscall_charge - a system call's entry and exit (COST_SYSCALL), charged once at the top of each
 * sys_* the core models (brk, mmap, munmap, mprotect, madvise).
 */
// @ts-ignore: decorator
@inline export function syscall_charge(): void {
  charge(cost(COST_SYSCALL));
}
