// Spinlocks. The ticket lock is x86 Linux's from 2.6.25 (arch/x86/include/asm/spinlock.h, 2008):
// FIFO, one 32-bit word.
//
//   31 ............ 16 15 ............. 0
//  +------------------+------------------+
//  |   tail (next)    |   head (owner)   |
//  +------------------+------------------+
//
// spin_lock takes a ticket with one atomic add on the whole word (a carry out of the tail is lost,
// which is the wrap-around we want) and spins until head equals it; spin_unlock adds 1 to the head
// half-word alone, so the head never carries into the tail. 65535 CPUs may wait at once.
// Waiting runs cpu_relax(), where pending IPIs are taken (and, in virtual time, other CPUs run), and
// is bounded: past SPIN_LIMIT loops the CPU reports itself stuck instead of hanging.
//
// spin_lock/spin_unlock work on a bare word (the allocators' internal locks). ticket_lock, tas_lock
// and broken_lock are the lock types of a struct mm_lock (locking/lock.ts), whose word is at +0.
import { cpu_relax } from "../arch/x86/processor";
import { cpu_set_state, cpu_restore_state, cpu_stuck, spin_budget_exhausted, count_event, count_events,
  smp_processor_id, CPU_SPINNING, STAT_SPIN_CONTENDED, STAT_SPIN_LOOPS } from "../percpu";
import { VM_BUG_ON } from "../debug";
import { charge, preempt_point, SWITCH_PREEMPT } from "../kernel/sched";
import { cost, COST_ATOMIC } from "../kernel/cost";
import { lock_word_rmw, lock_class, ML_OWNER } from "./lock";
import { lock_stat_add, LS_SPIN } from "./lock_stat";

const TICKET_SHIFT: u32 = 16;

// Spin until the head reaches ticket; returns the iterations spun.
function ticket_wait(lock: usize, ticket: u32): u32 {
  count_event(STAT_SPIN_CONTENDED);
  const prev = cpu_set_state(CPU_SPINNING, <u32>lock, ticket);
  let loops: u32 = 0;
  while ((atomic.load<u32>(lock) & 0xffff) != ticket) {
    cpu_relax();
    if (spin_budget_exhausted(++loops)) cpu_stuck();
  }
  count_events(STAT_SPIN_LOOPS, loops);
  cpu_restore_state(prev);
  return loops;
}

// Take a ticket on the word at lock and wait for it; returns the iterations spun (0: uncontended).
// @ts-ignore: decorator
@inline function ticket_acquire(lock: usize): u32 {
  const old = atomic.add<u32>(lock, 1 << TICKET_SHIFT);
  const ticket = old >>> TICKET_SHIFT;
  return (old & 0xffff) == ticket ? 0 : ticket_wait(lock, ticket);
}

/**
 * spin_lock - acquire the ticket lock word at lock (4-byte aligned, shared memory). Must not already
 * be held by this CPU (that would spin until reported stuck). Never fails.
 */
export function spin_lock(lock: usize): void {
  charge(cost(COST_ATOMIC));
  preempt_point(SWITCH_PREEMPT);
  ticket_acquire(lock);
}

/** spin_trylock - take the lock word if it is free; returns true if taken. */
export function spin_trylock(lock: usize): bool {
  charge(cost(COST_ATOMIC));
  const v = atomic.load<u32>(lock);
  if ((v & 0xffff) != (v >>> TICKET_SHIFT)) return false;
  return atomic.cmpxchg<u32>(lock, v, v + (1 << TICKET_SHIFT)) == v;
}

/** spin_unlock - release the lock word at lock; must be held (by this CPU). */
export function spin_unlock(lock: usize): void {
  VM_BUG_ON(!spin_is_locked(lock), "spin_unlock: lock must be held");
  charge(cost(COST_ATOMIC));
  atomic.add<u16>(lock, 1);
}

/** spin_is_locked - whether anyone holds the lock word (head != tail). */
export function spin_is_locked(lock: usize): bool {
  const v = atomic.load<u32>(lock);
  return (v & 0xffff) != (v >>> TICKET_SHIFT);
}

/** ticket_lock - LOCK_TICKET acquire of struct mm_lock lock. Returns whether it was contended. */
export function ticket_lock(lock: usize): bool {
  lock_word_rmw(lock);
  const loops = ticket_acquire(lock);
  store<u32>(lock + ML_OWNER, <u32>smp_processor_id() + 1);
  if (loops != 0) lock_stat_add(lock_class(lock), LS_SPIN, loops);
  return loops != 0;
}

export function ticket_unlock(lock: usize): void {
  VM_BUG_ON(!spin_is_locked(lock), "ticket_unlock: lock must be held");
  store<u32>(lock + ML_OWNER, 0);
  lock_word_rmw(lock);
  atomic.add<u16>(lock, 1);
}

/** tas_lock - LOCK_TAS acquire (test-and-test-and-set with xchg). Returns whether it was contended. */
export function tas_lock(lock: usize): bool {
  lock_word_rmw(lock);
  if (atomic.xchg<u32>(lock, 1) == 0) {
    store<u32>(lock + ML_OWNER, <u32>smp_processor_id() + 1);
    return false;
  }
  count_event(STAT_SPIN_CONTENDED);
  const prev = cpu_set_state(CPU_SPINNING, <u32>lock, 0);
  let loops: u32 = 0;
  for (;;) {
    while (atomic.load<u32>(lock) != 0) {
      cpu_relax();
      if (spin_budget_exhausted(++loops)) cpu_stuck();
    }
    lock_word_rmw(lock);
    if (atomic.xchg<u32>(lock, 1) == 0) break;
  }
  count_events(STAT_SPIN_LOOPS, loops);
  cpu_restore_state(prev);
  store<u32>(lock + ML_OWNER, <u32>smp_processor_id() + 1);
  lock_stat_add(lock_class(lock), LS_SPIN, loops);
  return true;
}

export function tas_unlock(lock: usize): void {
  VM_BUG_ON(atomic.load<u32>(lock) == 0, "tas_unlock: lock must be held");
  store<u32>(lock + ML_OWNER, 0);
  lock_word_rmw(lock);
  atomic.store<u32>(lock, 0);
}

/**
 * broken_lock - LOCK_BROKEN: tests the word, then sets it with a separate store, with a preemption
 * point between. Two CPUs can both find it free and both enter. It exists only so that the torture
 * test can show it catches a lock that does not exclude; nothing else uses it.
 */
export function broken_lock(lock: usize): bool {
  let loops: u32 = 0;
  while (atomic.load<u32>(lock) != 0) { // the test
    cpu_relax();
    if (spin_budget_exhausted(++loops)) cpu_stuck();
  }
  // The window between the test and the set: a preemption point in virtual time, a few loads on the
  // host so that real CPUs overlap in it too. Nothing looks at the word again before the set.
  preempt_point(SWITCH_PREEMPT);
  for (let i = 0; i < 64; i++) atomic.load<u32>(lock);
  atomic.store<u32>(lock, 1); // the set
  return loops != 0;
}

export function broken_unlock(lock: usize): void {
  atomic.store<u32>(lock, 0);
}
