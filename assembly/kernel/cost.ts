// The cost model of virtual time (timed and explore modes): what each operation charges to the
// running CPU's virtual clock, in cycles. The values are set by the host from a profile
// (src/cost/profile.ts: calibrated on the host by `mmemu calibrate`, or the shipped defaults
// with their sources); nothing here is tuned to make an experiment land on a number.
// In the parallel build (VIRTUAL false) every charge compiles to nothing.
import { VIRTUAL } from "./sched_config";
import { EINVAL } from "../errno";

export const COST_LOAD_L1: i32 = 0;        // a load that hits L1 (a TLB hit's lookup; hot page-table entry)
export const COST_LOAD_LLC: i32 = 1;       // a load that hits the last-level cache
export const COST_LOAD_MEM: i32 = 2;       // a load from DRAM
export const COST_ATOMIC: i32 = 3;         // an uncontended locked read-modify-write on a line this CPU owns
export const COST_LINE_TRANSFER: i32 = 4;  // moving a cache line last written by another CPU to this one
export const COST_SPIN: i32 = 5;           // one iteration of a spin-wait (PAUSE and a load)
export const COST_IPI_SEND: i32 = 6;       // sending an IPI (APIC write)
export const COST_IPI_DELIVER: i32 = 7;    // taking an IPI on the target: entry, handler, exit
export const COST_SLEEP: i32 = 8;          // the sleeping side of a blocking lock: schedule() away
export const COST_WAKEUP: i32 = 9;         // try_to_wake_up() on the waker's side
export const COST_WAKE_LATENCY: i32 = 10;  // from wake-up to the woken task running again
export const COST_CTX_SWITCH: i32 = 11;    // a context switch (processor change), charged to the CPU switching in
export const COST_TICK: i32 = 12;          // the scheduler tick's cost per tick period
export const COST_WALK_LEVEL: i32 = 13;    // one paging-structure load during a page walk
export const COST_SYSCALL: i32 = 14;       // a system call's entry and exit (SYSCALL ... SYSRET, no KPTI)
export const NR_COSTS: i32 = 15;

// Per-instance table in static data (the one virtual instance holds the whole model; nothing is
// allocated at run time).
const costs: usize = memory.data(NR_COSTS * 4);

/** cost_set - set cost id to cycles; -EINVAL for an unknown id. Called by the host before a run. */
export function cost_set(id: i32, cycles: u32): i32 {
  if (id < 0 || id >= NR_COSTS) return -EINVAL;
  store<u32>(costs + (<usize>id << 2), cycles);
  return 0;
}

// @ts-ignore: decorator
@inline export function cost(id: i32): u32 {
  return VIRTUAL ? load<u32>(costs + (<usize>id << 2)) : 0;
}
