// Per-CPU state: which CPU this instance is running as, the CPU's counters, and the activity word
// the host reads to report a stuck or dead CPU. The layout of struct percpu is in layout.ts.
import { per_cpu_ptr, PC_STATS, PC_STATE, PC_STATE_ARG, PC_STATE_ARG2, PC_CPU } from "./layout";
import { SPIN_LIMIT } from "./config";
import { host_cpu_stuck } from "./host";

/**
 * The CPU this instance is executing as (smp_processor_id()). A per-instance global: in parallel mode
 * each worker is one CPU for good; an instance that runs several CPUs sets it at every entry point.
 */
let this_cpu_id: i32 = 0;
let this_cpu_ptr: usize = 0;

/** Enter the core as CPU cpu (exported entry points call this after checking cpu). */
export function set_this_cpu(cpu: i32): void {
  this_cpu_id = cpu;
  this_cpu_ptr = per_cpu_ptr(cpu);
}

// @ts-ignore: decorator
@inline export function smp_processor_id(): i32 {
  return this_cpu_id;
}

// @ts-ignore: decorator
@inline export function this_cpu(): usize {
  return this_cpu_ptr;
}

// Counters, one u64 each in struct percpu (only their CPU writes them; the host reads them).
export const STAT_TLB_HIT: i32 = 0;
export const STAT_TLB_MISS: i32 = 1;
export const STAT_WALK: i32 = 2;
export const STAT_WALK_RESTART: i32 = 3;
export const STAT_PF: i32 = 4;
export const STAT_GP: i32 = 5;
export const STAT_BUS_FAULT: i32 = 6;
export const STAT_SET_ACCESSED: i32 = 7;
export const STAT_SET_DIRTY: i32 = 8;
export const STAT_TLB_DIRTY_REWALK: i32 = 9;
export const STAT_TLB_FAULT_INVAL: i32 = 10;
export const STAT_FLUSH_ONE: i32 = 11;
export const STAT_FLUSH_PCID: i32 = 12;
export const STAT_FLUSH_ALL: i32 = 13;
export const STAT_CR3_LOAD: i32 = 14;
export const STAT_SHOOTDOWN_SENT: i32 = 15;
export const STAT_SHOOTDOWN_RECV: i32 = 16;
export const STAT_SHOOTDOWN_REMOTE: i32 = 17;
export const STAT_PGALLOC: i32 = 18;
export const STAT_PGFREE: i32 = 19;
export const STAT_PCP_REFILL: i32 = 20;
export const STAT_PCP_DRAIN: i32 = 21;
export const STAT_SLAB_ALLOC: i32 = 22;
export const STAT_SLAB_FREE: i32 = 23;
export const STAT_SPIN_CONTENDED: i32 = 24;
export const STAT_SPIN_LOOPS: i32 = 25;
export const STAT_TLB_FILL: i32 = 26;
export const STAT_SLEEP: i32 = 27;
export const STAT_WAKEUP: i32 = 28;
export const NR_STATS_USED: i32 = 29;

// @ts-ignore: decorator
@inline export function count_event(stat: i32): void {
  const p = this_cpu_ptr + PC_STATS + (<usize>stat << 3);
  store<u64>(p, load<u64>(p) + 1);
}

// @ts-ignore: decorator
@inline export function count_events(stat: i32, n: u64): void {
  const p = this_cpu_ptr + PC_STATS + (<usize>stat << 3);
  store<u64>(p, load<u64>(p) + n);
}

// Activities (percpu state word), for the host's report of a stuck or dead CPU.
export const CPU_IDLE: u32 = 0;       // not executing emulated code; its TLB is flushed on its behalf
export const CPU_RUNNING: u32 = 1;    // executing; services its mailbox at interrupt points
export const CPU_SPINNING: u32 = 2;   // arg = address of the lock, arg2 = the ticket it waits for
export const CPU_WAIT_ACK: u32 = 3;   // arg = target CPU, arg2 = generation awaited
export const CPU_BARRIER: u32 = 4;    // arg = parties expected, arg2 = barrier generation
export const CPU_WAIT_MAILBOX: u32 = 5; // arg = target CPU whose mailbox is still busy
export const CPU_SLEEPING: u32 = 6;   // arg = address of the word it sleeps on, arg2 = its value then

/** Record what this CPU is about to wait on; returns the previous activity to restore. */
// @ts-ignore: decorator
@inline export function cpu_set_state(what: u32, arg: u32, arg2: u64): u32 {
  const p = this_cpu_ptr;
  const prev = atomic.load<u32>(p + PC_STATE);
  atomic.store<u32>(p + PC_STATE_ARG, arg);
  atomic.store<u64>(p + PC_STATE_ARG2, arg2);
  atomic.store<u32>(p + PC_STATE, what);
  return prev;
}

// @ts-ignore: decorator
@inline export function cpu_restore_state(prev: u32): void {
  atomic.store<u32>(this_cpu_ptr + PC_STATE, prev);
}

/** A bounded spin has run out (SPIN_LIMIT): report this CPU as stuck. Does not return. */
export function cpu_stuck(): void {
  host_cpu_stuck(load<u32>(this_cpu_ptr + PC_CPU));
  unreachable(); // the host's cpu_stuck always throws
}

// @ts-ignore: decorator
@inline export function spin_budget_exhausted(loops: u32): bool {
  return loops >= SPIN_LIMIT;
}
