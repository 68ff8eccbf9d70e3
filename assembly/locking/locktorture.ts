// Lock torture, in the spirit of kernel/locking/locktorture.c: writers and readers hammer one lock
// and check that it excludes. The protected data is two u64 words that every writer moves together
// (a, then a preemption point and some work, then b); a reader or writer that ever sees a != b has
// watched a critical section from outside the lock. Fairness is read from lock_stat's per-CPU
// acquisition counts.
//
//  struct torture_data (16 bytes, 8-aligned): a u64 | b u64
import { lock_acquire, lock_release, MODE_READ, MODE_WRITE } from "./lock";
import { preempt_point, SWITCH_PREEMPT } from "../kernel/sched";

// A little work inside the critical section, so that real CPUs overlap in it.
// @ts-ignore: decorator
@inline function hold_work(data: usize, spins: u32): u64 {
  let x: u64 = 0;
  for (let i: u32 = 0; i < spins; i++) x += atomic.load<u64>(data);
  return x;
}

/**
 * torture_writer - iters times: take lock for write, check a == b, advance a, work, advance b,
 * release. Returns the number of inconsistencies seen (0 when the lock excludes).
 */
export function torture_writer(lock: usize, data: usize, iters: u32, hold: u32): u32 {
  let bad: u32 = 0;
  for (let n: u32 = 0; n < iters; n++) {
    lock_acquire(lock, MODE_WRITE, "torture_writer");
    const a = atomic.load<u64>(data);
    if (atomic.load<u64>(data + 8) != a) bad++;
    atomic.store<u64>(data, a + 1);
    preempt_point(SWITCH_PREEMPT);
    hold_work(data, hold);
    atomic.store<u64>(data + 8, a + 1);
    lock_release(lock, MODE_WRITE);
  }
  return bad;
}

/**
 * torture_reader - iters times: take lock for read (shared for an rwsem, exclusive otherwise),
 * read a, work, read b, release. Returns the number of times a != b (0 when the lock excludes).
 */
export function torture_reader(lock: usize, data: usize, iters: u32, hold: u32): u32 {
  let bad: u32 = 0;
  for (let n: u32 = 0; n < iters; n++) {
    lock_acquire(lock, MODE_READ, "torture_reader");
    const a = atomic.load<u64>(data);
    preempt_point(SWITCH_PREEMPT);
    hold_work(data, hold);
    if (atomic.load<u64>(data + 8) != a) bad++;
    lock_release(lock, MODE_READ);
  }
  return bad;
}
