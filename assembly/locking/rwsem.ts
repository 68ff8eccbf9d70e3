// The readers-writer semaphore with sleeping waiters, after lib/rwsem.c (2008) and
// kernel/locking/rwsem-xadd.c (3.9 lock stealing, 3.16 optimistic spinning).
//
//  count (struct mm_lock word):
//   31 ......................... 3   2    1         0
//  +------------------------------+-----+---------+--------+
//  |  active readers (x READER_BIAS) |  0  | WAITERS | WRITER |
//  +------------------------------+-----+---------+--------+
//  WRITER: a writer holds it (owner names it). WAITERS: the wait list (under wait_lock) is not empty;
//  while it is set no reader takes the fast path, so readers never overtake queued waiters.
//
// Policies (the class's, locking/lock_types.ts):
//  RWSEM_HANDOFF (2008, seed 002): a release that finds waiters hands the lock to the head of the
//    queue: one writer, or every reader up to the first writer, who own it before they even run.
//    Nobody can take it in between, not even the releaser coming straight back: "waiting tasks run
//    first", and every handoff is a sleep, a wake-up and a processor change.
//  RWSEM_STEAL (3.9): a writer at the head is only woken; any running writer that finds the lock free
//    takes it first. Readers at the head are still granted as a group.
//  RWSEM_OPT_SPIN (3.16, with STEAL): before queuing, a writer spins while the owning writer is running.
// Each grant to a waiter counts a handoff (lock_stat), each wake-up without a grant a wake-up.
//
// Unfairness under STEAL (the policy, as in 3.9-4.x): every release that leaves waiters and no holder
// wakes the writer at the head, which retries after the wake-up latency; spinners and running writers
// take the lock first meanwhile, so the woken writer may sleep again many times (rmap-locks,
// rwsem-excl, 4 CPUs, seed 1: on the 4x2 tree up to ~20 times in a row, waits up to ~0.6M cycles; on
// the 2x2 tree one walker was woken 590 times and waited 17M of 20M cycles). Linux bounded
// this only in 5.3 (RWSEM_FLAG_HANDOFF); that is not modelled here.
import { ML_WORD, ML_OWNER, ML_WAIT_LOCK, ML_WAIT_HEAD, WAITER_STATE, WAITER_MODE, WAITER_NEXT,
  WAITER_WAITING, WAITER_WOKEN, WAITER_GRANTED, ML_INST_SLEEPS, ML_INST_HANDOFFS, MODE_READ, MODE_WRITE,
  lock_word_rmw, lock_class, waiter_enqueue, waiter_dequeue, waiter_of, my_waiter, lock_inst_event } from "./lock";
import { RWSEM_STEAL, RWSEM_OPT_SPIN } from "./lock_types";
import { lock_stat_add, LS_SLEEP, LS_WAKEUP, LS_HANDOFF, LS_STEAL } from "./lock_stat";
import { spin_lock, spin_unlock } from "./spinlock";
import { spin_on_owner } from "./mutex";
import { sched_sleep, sched_wake } from "../kernel/sched";
import { smp_processor_id, cpu_stuck, spin_budget_exhausted } from "../percpu";
import { VM_BUG_ON } from "../debug";

export const RWSEM_WRITER: u32 = 1 << 0;
export const RWSEM_WAITERS: u32 = 1 << 1;
export const RWSEM_READER_BIAS: u32 = 1 << 3;
const RWSEM_READER_MASK: u32 = ~(RWSEM_READER_BIAS - 1);
/** Bits that make the lock busy for a writer: a writer or any reader. */
const RWSEM_BUSY: u32 = RWSEM_WRITER | RWSEM_READER_MASK;

// Grant the lock to waiter cpu1 (already dequeued) and wake it. A CPU serving its own queue entry
// (it found the lock free right after queuing) is not a handoff.
function grant(lock: usize, cpu1: u32): void {
  const w = waiter_of(cpu1);
  atomic.store<u32>(w + WAITER_STATE, WAITER_GRANTED);
  if (cpu1 == <u32>smp_processor_id() + 1) return;
  lock_stat_add(lock_class(lock), LS_HANDOFF, 1);
  lock_inst_event(lock, ML_INST_HANDOFFS);
  sched_wake(w + WAITER_STATE, 1);
}

// Clear WAITERS when the list has emptied (wait_lock held).
// @ts-ignore: decorator
@inline function sync_waiters_flag(lock: usize): void {
  if (load<u32>(lock + ML_WAIT_HEAD) == 0) atomic.and<u32>(lock + ML_WORD, ~RWSEM_WAITERS);
}

/**
 * rwsem_wake_locked - the lock may have become available: serve the head of the queue as the policy
 * says (wait_lock held). Readers at the head are granted as a group when no writer holds it; a
 * writer at the head is granted (HANDOFF) when nobody holds it, or woken to retry (STEAL) when nobody
 * holds it or released says the caller has just released it (then even if a spinner took it since).
 */
function rwsem_wake_locked(lock: usize, policy: u8, released: bool): void {
  const head = load<u32>(lock + ML_WAIT_HEAD);
  if (head == 0) { atomic.and<u32>(lock + ML_WORD, ~RWSEM_WAITERS); return; }
  const hw = waiter_of(head);
  if (load<u32>(hw + WAITER_MODE) == MODE_WRITE) {
    if ((policy & RWSEM_STEAL) != 0) {
      // A release decided at its atomic release that the head must be woken (3.16's up_write/up_read
      // -> rwsem_wake -> __rwsem_do_wake(RWSEM_WAKE_ANY) wakes a writer at the head unconditionally):
      // a spinner that stole it meanwhile does not cancel the wake-up, or writers passing the lock
      // between themselves by spinning would leave the head asleep for good.
      if (!released && (atomic.load<u32>(lock + ML_WORD) & RWSEM_BUSY) != 0) return;
      if (atomic.load<u32>(hw + WAITER_STATE) != WAITER_WAITING) return; // already woken
      atomic.store<u32>(hw + WAITER_STATE, WAITER_WOKEN);
      lock_stat_add(lock_class(lock), LS_WAKEUP, 1);
      sched_wake(hw + WAITER_STATE, 1);
      return;
    }
    for (;;) {
      const c = atomic.load<u32>(lock + ML_WORD);
      if ((c & RWSEM_BUSY) != 0) return;
      lock_word_rmw(lock);
      if (atomic.cmpxchg<u32>(lock + ML_WORD, c, c | RWSEM_WRITER) == c) break;
    }
    store<u32>(lock + ML_OWNER, head);
    waiter_dequeue(lock, head);
    sync_waiters_flag(lock);
    grant(lock, head);
    return;
  }
  // Readers at the head: count the group up to the first writer, then take their share at once.
  let n: u32 = 0;
  for (let w = head; w != 0 && load<u32>(waiter_of(w) + WAITER_MODE) == MODE_READ; w = load<u32>(waiter_of(w) + WAITER_NEXT)) n++;
  for (;;) {
    const c = atomic.load<u32>(lock + ML_WORD);
    if ((c & RWSEM_WRITER) != 0) return;
    lock_word_rmw(lock);
    if (atomic.cmpxchg<u32>(lock + ML_WORD, c, c + n * RWSEM_READER_BIAS) == c) break;
  }
  for (let i: u32 = 0; i < n; i++) {
    const w = load<u32>(lock + ML_WAIT_HEAD);
    waiter_dequeue(lock, w);
    grant(lock, w);
  }
  sync_waiters_flag(lock);
}

// Sleep until granted or woken; returns true if granted. Called with wait_lock held, returns without.
function rwsem_sleep(lock: usize): bool {
  const w = my_waiter();
  spin_unlock(lock + ML_WAIT_LOCK);
  if (atomic.load<u32>(w + WAITER_STATE) == WAITER_WAITING) {
    lock_stat_add(lock_class(lock), LS_SLEEP, 1);
    lock_inst_event(lock, ML_INST_SLEEPS);
    sched_sleep(w + WAITER_STATE, WAITER_WAITING);
  }
  return atomic.load<u32>(w + WAITER_STATE) == WAITER_GRANTED;
}

/** down_read - LOCK_RWSEM shared acquire of lock. Returns whether it was contended. */
export function down_read(lock: usize, policy: u8): bool {
  lock_word_rmw(lock);
  for (;;) {
    const c = atomic.load<u32>(lock + ML_WORD);
    if ((c & (RWSEM_WRITER | RWSEM_WAITERS)) != 0) break;
    if (atomic.cmpxchg<u32>(lock + ML_WORD, c, c + RWSEM_READER_BIAS) == c) return false;
  }
  spin_lock(lock + ML_WAIT_LOCK);
  waiter_enqueue(lock, MODE_READ);
  atomic.or<u32>(lock + ML_WORD, RWSEM_WAITERS);
  let rounds: u32 = 0;
  for (;;) {
    // The lock may have been released before WAITERS was seen: serve the queue ourselves.
    rwsem_wake_locked(lock, policy, false);
    if (rwsem_sleep(lock)) return true;
    if (spin_budget_exhausted(++rounds)) cpu_stuck();
    spin_lock(lock + ML_WAIT_LOCK);
    atomic.store<u32>(my_waiter() + WAITER_STATE, WAITER_WAITING);
  }
  return unreachable(); // the loop above only ends by returning
}

/** down_write - LOCK_RWSEM exclusive acquire of lock. Returns whether it was contended. */
export function down_write(lock: usize, policy: u8): bool {
  const me = <u32>smp_processor_id() + 1;
  lock_word_rmw(lock);
  if (atomic.cmpxchg<u32>(lock + ML_WORD, 0, RWSEM_WRITER) == 0) {
    store<u32>(lock + ML_OWNER, me);
    return false;
  }
  const c0 = lock_class(lock);
  if ((policy & RWSEM_OPT_SPIN) != 0 && spin_on_owner(lock, RWSEM_BUSY, RWSEM_WRITER)) {
    store<u32>(lock + ML_OWNER, me);
    lock_stat_add(c0, LS_STEAL, 1);
    return true;
  }
  spin_lock(lock + ML_WAIT_LOCK);
  waiter_enqueue(lock, MODE_WRITE);
  atomic.or<u32>(lock + ML_WORD, RWSEM_WAITERS);
  let rounds: u32 = 0;
  for (;;) {
    if ((policy & RWSEM_STEAL) != 0) {
      // Woken (or never asleep): take it if it is free, whoever is at the head.
      const c = atomic.load<u32>(lock + ML_WORD);
      lock_word_rmw(lock);
      if ((c & RWSEM_BUSY) == 0 && atomic.cmpxchg<u32>(lock + ML_WORD, c, c | RWSEM_WRITER) == c) {
        waiter_dequeue(lock, me);
        sync_waiters_flag(lock);
        spin_unlock(lock + ML_WAIT_LOCK);
        store<u32>(lock + ML_OWNER, me);
        return true;
      }
    } else {
      rwsem_wake_locked(lock, policy, false);
    }
    if (rwsem_sleep(lock)) {
      VM_BUG_ON(load<u32>(lock + ML_OWNER) != me, "down_write: a granted writer must be the owner");
      return true;
    }
    if (spin_budget_exhausted(++rounds)) cpu_stuck();
    spin_lock(lock + ML_WAIT_LOCK);
    atomic.store<u32>(my_waiter() + WAITER_STATE, WAITER_WAITING);
  }
  return unreachable(); // the loop above only ends by returning
}

/** up_read - release a shared hold of lock; serves the queue when the last reader leaves. */
export function up_read(lock: usize, policy: u8): void {
  lock_word_rmw(lock);
  const c = atomic.sub<u32>(lock + ML_WORD, RWSEM_READER_BIAS) - RWSEM_READER_BIAS;
  VM_BUG_ON(((c + RWSEM_READER_BIAS) & RWSEM_READER_MASK) == 0, "up_read: the rwsem must be held for read");
  if ((c & RWSEM_WAITERS) != 0 && (c & RWSEM_BUSY) == 0) {
    spin_lock(lock + ML_WAIT_LOCK);
    rwsem_wake_locked(lock, policy, true);
    spin_unlock(lock + ML_WAIT_LOCK);
  }
}

/** up_write - release the exclusive hold of lock by this CPU; serves the queue if it has waiters. */
export function up_write(lock: usize, policy: u8): void {
  VM_BUG_ON(load<u32>(lock + ML_OWNER) != <u32>smp_processor_id() + 1, "up_write: this CPU must own the rwsem");
  store<u32>(lock + ML_OWNER, 0);
  lock_word_rmw(lock);
  const c = atomic.and<u32>(lock + ML_WORD, ~RWSEM_WRITER);
  if ((c & RWSEM_WAITERS) != 0) {
    spin_lock(lock + ML_WAIT_LOCK);
    rwsem_wake_locked(lock, policy, true);
    spin_unlock(lock + ML_WAIT_LOCK);
  }
}
