// Lock statistics in the spirit of /proc/lock_stat (kernel/locking/lockdep.c, CONFIG_LOCK_STAT):
// counted per CPU and per class, summed by the host, so that counting never bounces a shared line.
//
//  struct lock_class_stats (LOCK_STAT_SIZE = 128 bytes per class in struct percpu +6464), u64 each:
//   0 acquisitions, read    1 acquisitions, write   2 contentions     3 spin iterations
//   4 sleeps                5 wake-ups issued       6 handoffs        7 steals
//   8 waits timed           9 wait total           10 wait min       11 wait max
//  12 holds timed          13 hold total           14 hold min       15 hold max
// Times are nanoseconds in the parallel build (a host clock read, only for classes with LC_TIMED)
// and virtual cycles in the virtual build (always). A min of 0 with a count of 0 means "none".
// Next to them, per CPU and per class, log2 histograms of the same timed durations (struct
// lock_class_hist in struct percpu +12288, diagram in layout.ts): wait[32] then hold[32], u64 counts,
//   bucket i counts d with floor(log2(max(d, 1))) == i, clamped to bucket 31 (d >= 2^31),
// so bucket 0 is [0, 2), bucket i is [2^i, 2^(i+1)). lock_stat_time fills them with the count: the
// buckets of a group always sum to its "timed" count (8 or 12). /proc/lock_stat keeps no histogram;
// this is the emulator's addition, for the wait-time distributions of the experiments.
// Per-instance statistics: a lock with ML_STATS set also counts its acquisitions, contentions,
// sleeps and handoffs in its own struct mm_lock (locking/lock.ts).
import { PC_LOCK_STAT, PC_VCLOCK, LOCK_STAT_SIZE, PC_LOCK_HIST, LOCK_HIST_SIZE, LOCK_HIST_BUCKETS } from "../layout";
import { this_cpu } from "../percpu";
import { VIRTUAL } from "../kernel/sched_config";

export const LS_ACQ_READ: i32 = 0;
export const LS_ACQ_WRITE: i32 = 1;
export const LS_CONTENDED: i32 = 2;
export const LS_SPIN: i32 = 3;
export const LS_SLEEP: i32 = 4;
export const LS_WAKEUP: i32 = 5;
export const LS_HANDOFF: i32 = 6;
export const LS_STEAL: i32 = 7;
export const LS_WAIT: i32 = 8;
export const LS_HOLD: i32 = 12;
export const NR_LOCK_STATS: i32 = 16;

// @external: the host's monotonic clock in nanoseconds (parallel build, timed classes only).
// @ts-ignore: decorator
@external("env", "now_ns")
declare function host_now_ns(): i64;

/** The time lock_stat measures in: virtual cycles, or host nanoseconds. */
// @ts-ignore: decorator
@inline export function lock_clock(): u64 {
  return VIRTUAL ? load<u64>(this_cpu() + PC_VCLOCK) : <u64>host_now_ns();
}

// @ts-ignore: decorator
@inline function slot(c: i32, i: i32): usize {
  return this_cpu() + PC_LOCK_STAT + <usize>c * LOCK_STAT_SIZE + (<usize>i << 3);
}

/** Add n to counter i of class c on this CPU. */
// @ts-ignore: decorator
@inline export function lock_stat_add(c: i32, i: i32, n: u64): void {
  const a = slot(c, i);
  store<u64>(a, load<u64>(a) + n);
}

/**
 * lock_hist_bucket - the log2 bucket of duration d: floor(log2(max(d, 1))), at most
 * LOCK_HIST_BUCKETS - 1. Pure; never fails.
 */
// @ts-ignore: decorator
@inline export function lock_hist_bucket(d: u64): u32 {
  const b = <u32>(63 - clz<u64>(d | 1));
  return b < LOCK_HIST_BUCKETS - 1 ? b : LOCK_HIST_BUCKETS - 1;
}

/**
 * lock_stat_time - record one duration d of class c in the group at i (LS_WAIT or LS_HOLD) on this
 * CPU: count, total, min, max, and one in the group's log2 histogram bucket. Called by lock_acquire
 * and lock_release for timed classes; the caller has checked 0 <= c < MAX_LOCK_CLASSES. Touches only
 * this CPU's struct percpu (no shared line, no atomics); never fails.
 */
export function lock_stat_time(c: i32, i: i32, d: u64): void {
  const h = this_cpu() + PC_LOCK_HIST + <usize>c * LOCK_HIST_SIZE +
    (i == LS_HOLD ? <usize>LOCK_HIST_BUCKETS << 3 : 0) + (<usize>lock_hist_bucket(d) << 3);
  store<u64>(h, load<u64>(h) + 1);
  const a = slot(c, i);
  const n = load<u64>(a);
  store<u64>(a, n + 1);
  store<u64>(a + 8, load<u64>(a + 8) + d);
  if (n == 0 || d < load<u64>(a + 16)) store<u64>(a + 16, d);
  if (d > load<u64>(a + 24)) store<u64>(a + 24, d);
}
