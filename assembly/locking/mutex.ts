// The sleeping mutex (kernel/mutex.c as of 3.0, when the anon_vma and i_mmap locks became mutexes):
//
//  word: 0 unlocked | 1 locked | 2 locked, and waiters may be sleeping
//
// mutex_lock tries 0 -> 1; failing that, with MUTEX_OPT_SPIN it spins while the owner is running
// (not asleep), then queues on the wait list and loops { xchg(word, 2): 0 means it is ours; else sleep
// until woken }. mutex_unlock sets 0 and, if the word said 2, wakes the first waiter, which retries:
// the lock is not handed over, so a running CPU may take it first (as Linux's mutex allowed).
//
// Unfairness (the policy, not a model bug): only the head waiter is woken, it pays the wake-up
// latency and a context switch before it retries, and optimistic spinners that find the word free
// meanwhile take the lock (lock_stat: steals). Under a stream of spinners the head can be woken and
// sleep again hundreds of times (rmap-locks, mutex, 4x2 tree, 8 CPUs: 673 times in one 20M-cycle run)
// while the waiters queued behind it are never woken, so average contended waits run far beyond one
// sleep round trip. Linux had the same starvation until 4.10's MUTEX_FLAG_HANDOFF (a waiter that
// wakes and still fails asks the unlocker to hand the lock over); that handoff is not modelled here.
import { ML_WORD, ML_OWNER, ML_WAIT_LOCK, ML_WAIT_HEAD, WAITER_STATE, WAITER_WAITING, WAITER_WOKEN,
  ML_INST_SLEEPS, lock_word_rmw, lock_class, waiter_enqueue, waiter_dequeue, waiter_of, my_waiter,
  lock_inst_event, MODE_WRITE } from "./lock";
import { MUTEX_OPT_SPIN } from "./lock_types";
import { lock_stat_add, LS_SPIN, LS_SLEEP, LS_WAKEUP, LS_STEAL } from "./lock_stat";
import { spin_lock, spin_unlock } from "./spinlock";
import { sched_sleep, sched_wake } from "../kernel/sched";
import { smp_processor_id, cpu_stuck, spin_budget_exhausted, CPU_SLEEPING } from "../percpu";
import { per_cpu_ptr, PC_STATE } from "../layout";
import { cpu_relax } from "../arch/x86/processor";
import { VM_BUG_ON } from "../debug";

/** How long an optimistic spinner may spin on one owner before it queues (need_resched's stand-in). */
export const OPT_SPIN_LIMIT: u32 = 2048;

/**
 * owner_running - is the holder named by owner (CPU + 1) executing, rather than asleep? Optimistic
 * spinning only pays while the owner can release the lock soon.
 */
// @ts-ignore: decorator
@inline export function owner_running(owner: u32): bool {
  return owner != 0 && atomic.load<u32>(per_cpu_ptr(<i32>owner - 1) + PC_STATE) != CPU_SLEEPING;
}

/**
 * spin_on_owner - optimistic spinning (3.0's mutex, 3.16's rwsem): while the word is not free and
 * its owner is running, spin; try take(lock) whenever the word looks free. Returns true when taken.
 */
export function spin_on_owner(lock: usize, free_mask: u32, take_bits: u32): bool {
  let loops: u32 = 0;
  let taken = false;
  while (loops < OPT_SPIN_LIMIT) {
    const v = atomic.load<u32>(lock + ML_WORD);
    if ((v & free_mask) == 0) {
      lock_word_rmw(lock);
      if (atomic.cmpxchg<u32>(lock + ML_WORD, v, v | take_bits) == v) { taken = true; break; }
    } else if (!owner_running(atomic.load<u32>(lock + ML_OWNER))) {
      break;
    }
    cpu_relax();
    loops++;
  }
  lock_stat_add(lock_class(lock), LS_SPIN, loops);
  return taken;
}

/** mutex_lock - LOCK_MUTEX acquire of struct mm_lock lock. Returns whether it was contended. */
export function mutex_lock(lock: usize, policy: u8): bool {
  const me = <u32>smp_processor_id() + 1;
  lock_word_rmw(lock);
  if (atomic.cmpxchg<u32>(lock + ML_WORD, 0, 1) == 0) {
    store<u32>(lock + ML_OWNER, me);
    return false;
  }
  const c = lock_class(lock);
  if ((policy & MUTEX_OPT_SPIN) != 0 && spin_on_owner(lock, 0xffffffff, 1)) {
    store<u32>(lock + ML_OWNER, me);
    lock_stat_add(c, LS_STEAL, 1);
    return true;
  }
  const w = my_waiter();
  spin_lock(lock + ML_WAIT_LOCK);
  waiter_enqueue(lock, MODE_WRITE);
  let rounds: u32 = 0;
  for (;;) {
    lock_word_rmw(lock);
    if (atomic.xchg<u32>(lock + ML_WORD, 2) == 0) break;
    atomic.store<u32>(w + WAITER_STATE, WAITER_WAITING);
    spin_unlock(lock + ML_WAIT_LOCK);
    lock_stat_add(c, LS_SLEEP, 1);
    lock_inst_event(lock, ML_INST_SLEEPS);
    sched_sleep(w + WAITER_STATE, WAITER_WAITING);
    if (spin_budget_exhausted(++rounds)) cpu_stuck();
    spin_lock(lock + ML_WAIT_LOCK);
  }
  waiter_dequeue(lock, me);
  // Ours, with the word at 2; with nobody left waiting it can say 1 again.
  if (load<u32>(lock + ML_WAIT_HEAD) == 0) atomic.store<u32>(lock + ML_WORD, 1);
  spin_unlock(lock + ML_WAIT_LOCK);
  store<u32>(lock + ML_OWNER, me);
  return true;
}

/** mutex_unlock - release LOCK_MUTEX lock, held by this CPU; wakes the first waiter if any. */
export function mutex_unlock(lock: usize, policy: u8): void {
  VM_BUG_ON(load<u32>(lock + ML_OWNER) != <u32>smp_processor_id() + 1, "mutex_unlock: this CPU must own the mutex");
  store<u32>(lock + ML_OWNER, 0);
  lock_word_rmw(lock);
  if (atomic.xchg<u32>(lock + ML_WORD, 0) != 2) return;
  spin_lock(lock + ML_WAIT_LOCK);
  const head = load<u32>(lock + ML_WAIT_HEAD);
  if (head != 0) {
    const hw = waiter_of(head) + WAITER_STATE;
    atomic.store<u32>(hw, WAITER_WOKEN);
    lock_stat_add(lock_class(lock), LS_WAKEUP, 1);
    sched_wake(hw, 1);
  }
  spin_unlock(lock + ML_WAIT_LOCK);
}
