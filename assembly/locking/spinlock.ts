// Ticket spinlock, as x86 Linux used from 2.6.25 (arch/x86/include/asm/spinlock.h, 2008):
// FIFO, one 32-bit word in shared memory.
//
//   31 ............ 16 15 ............. 0
//  +------------------+------------------+
//  |   tail (next)    |   head (owner)   |
//  +------------------+------------------+
//
// spin_lock takes a ticket with one atomic add on the whole word (a carry out of the tail is lost,
// which is the wrap-around we want) and spins until head equals it; spin_unlock adds 1 to the head
// half-word alone, so the head never carries into the tail. 65535 CPUs may wait at once.
// Waiting runs cpu_relax(), where pending IPIs are taken, and is bounded: past SPIN_LIMIT loops the
// CPU reports itself stuck (with the lock's address and its ticket) instead of hanging.
import { cpu_relax } from "../arch/x86/processor";
import { cpu_set_state, cpu_restore_state, cpu_stuck, spin_budget_exhausted, count_event, count_events,
  CPU_SPINNING, STAT_SPIN_CONTENDED, STAT_SPIN_LOOPS } from "../percpu";
import { VM_BUG_ON } from "../debug";

const TICKET_SHIFT: u32 = 16;

/**
 * spin_lock - acquire the ticket lock at lock (a 4-byte aligned u32 in shared memory).
 * Must not already be held by this CPU (that would spin until reported stuck). Never fails.
 */
export function spin_lock(lock: usize): void {
  const old = atomic.add<u32>(lock, 1 << TICKET_SHIFT);
  const ticket = old >>> TICKET_SHIFT;
  if ((old & 0xffff) == ticket) return;
  spin_lock_slowpath(lock, ticket);
}

function spin_lock_slowpath(lock: usize, ticket: u32): void {
  count_event(STAT_SPIN_CONTENDED);
  const prev = cpu_set_state(CPU_SPINNING, <u32>lock, ticket);
  let loops: u32 = 0;
  while ((atomic.load<u32>(lock) & 0xffff) != ticket) {
    cpu_relax();
    if (spin_budget_exhausted(++loops)) cpu_stuck();
  }
  count_events(STAT_SPIN_LOOPS, loops);
  cpu_restore_state(prev);
}

/** spin_trylock - take the lock if it is free; returns true if taken. */
export function spin_trylock(lock: usize): bool {
  const v = atomic.load<u32>(lock);
  if ((v & 0xffff) != (v >>> TICKET_SHIFT)) return false;
  return atomic.cmpxchg<u32>(lock, v, v + (1 << TICKET_SHIFT)) == v;
}

/** spin_unlock - release the lock at lock; must be held (by this CPU). */
export function spin_unlock(lock: usize): void {
  VM_BUG_ON(!spin_is_locked(lock), "spin_unlock: lock must be held");
  atomic.add<u16>(lock, 1);
}

/** spin_is_locked - whether anyone holds the lock (head != tail). */
export function spin_is_locked(lock: usize): bool {
  const v = atomic.load<u32>(lock);
  return (v & 0xffff) != (v >>> TICKET_SHIFT);
}
