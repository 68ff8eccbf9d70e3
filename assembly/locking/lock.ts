// struct mm_lock: the one lock every lock of the MM model is, behaving as its class's type and policy
// (locking/lock_types.ts), so a machine can swap spinlock, mutex and rwsem per lock class.
//
//  struct mm_lock (MM_LOCK_SIZE = 64 bytes, a cache line of its own)
//   +0  word      u32  the lock word: ticket head|tail, TAS flag, mutex state or rwsem count
//   +4  owner     u32  CPU + 1 of the exclusive holder (0: none or readers); optimistic spinning reads it
//   +8  wait_lock u32  ticket spinlock over the wait list (mutex, rwsem)
//   +12 wait_head u32  CPU + 1 of the first sleeping waiter (0: empty)        wait_lock
//   +16 wait_tail u32  CPU + 1 of the last                                     wait_lock
//   +20 class     u8 | flags u8 (ML_STATS) | pad u16                          set by lock_init
//   +24 last_cpu  u32  CPU + 1 that last wrote the word: cache-line transfers in virtual time
//   +32 per-instance counters with ML_STATS: acquisitions u64 | contentions u64 | sleeps u64 | handoffs u64
//
//  struct lock_waiter (LOCK_WAITER_SIZE bytes at struct percpu +1088: a CPU waits on one lock at a time)
//   +0 next u32 (CPU + 1) | +4 mode u32 (MODE_READ / MODE_WRITE) | +8 state u32 (WAITER_*: the word it
//   sleeps on) | +12 lock u32
//
// Every lock operation is a preemption point and charges an atomic (and a line transfer when another
// CPU wrote the word last) in virtual time.
import { per_cpu_ptr, PC_LOCK_WAITER } from "../layout";
import { this_cpu, smp_processor_id } from "../percpu";
import { VM_BUG_ON } from "../debug";
import { DEBUG } from "../config";
import { charge, preempt_point, SWITCH_PREEMPT } from "../kernel/sched";
import { cost, COST_ATOMIC, COST_LINE_TRANSFER } from "../kernel/cost";
import { VIRTUAL } from "../kernel/sched_config";
import { lock_class_type, lock_class_policy, lock_class_flags, LOCK_TICKET, LOCK_TAS, LOCK_MUTEX, LOCK_RWSEM,
  NR_LOCK_CLASSES, LC_TIMED } from "./lock_types";
import { lock_stat_add, lock_stat_time, lock_clock, LS_ACQ_READ, LS_ACQ_WRITE, LS_CONTENDED, LS_WAIT, LS_HOLD } from "./lock_stat";
import { lockdep_acquire, lockdep_release, held_lock_push, held_lock_pop } from "./lockdep";
import { ticket_lock, ticket_unlock, tas_lock, tas_unlock, broken_lock, broken_unlock } from "./spinlock";
import { mutex_lock, mutex_unlock } from "./mutex";
import { down_read, down_write, up_read, up_write } from "./rwsem";

export const MM_LOCK_SIZE: u32 = 64;
export const ML_WORD: usize = 0;
export const ML_OWNER: usize = 4;
export const ML_WAIT_LOCK: usize = 8;
export const ML_WAIT_HEAD: usize = 12;
export const ML_WAIT_TAIL: usize = 16;
export const ML_CLASS: usize = 20;
export const ML_FLAGS: usize = 21;
export const ML_LAST_CPU: usize = 24;
export const ML_INST_ACQUIRED: usize = 32;
export const ML_INST_CONTENDED: usize = 40;
export const ML_INST_SLEEPS: usize = 48;
export const ML_INST_HANDOFFS: usize = 56;

/** Lock flag: keep per-instance counters. */
export const ML_STATS: u8 = 1 << 0;

export const MODE_WRITE: u32 = 0; // exclusive (every type)
export const MODE_READ: u32 = 1;  // shared (rwsem); exclusive for the other types
/** Mode flag: a second lock of a class already held, in an order the caller guarantees (*_nested). */
export const MODE_NESTED: u32 = 1 << 4;

export const WAITER_NEXT: usize = 0;
export const WAITER_MODE: usize = 4;
export const WAITER_STATE: usize = 8;
export const WAITER_LOCK: usize = 12;
export const WAITER_WAITING: u32 = 0;
export const WAITER_WOKEN: u32 = 1;   // woken to retry (stealing policies, mutex)
export const WAITER_GRANTED: u32 = 2; // handed the lock by the releaser (handoff policies, readers)

/**
 * lock_init - make the 64 bytes at lock a free lock of class c, with per-instance counters if flags
 * has ML_STATS. Returns 0, or -22 for an unknown class or a misaligned address.
 */
export function lock_init(lock: usize, c: i32, flags: u8): i32 {
  if (c < 0 || c >= NR_LOCK_CLASSES || (lock & 7) != 0 || (flags & ~ML_STATS) != 0) return -22;
  memory.fill(lock, 0, MM_LOCK_SIZE);
  store<u8>(lock + ML_CLASS, <u8>c);
  store<u8>(lock + ML_FLAGS, flags);
  return 0;
}

// @ts-ignore: decorator
@inline export function lock_class(lock: usize): i32 {
  return <i32>load<u8>(lock + ML_CLASS);
}

// @ts-ignore: decorator
@inline export function waiter_of(cpu1: u32): usize {
  return per_cpu_ptr(<i32>cpu1 - 1) + PC_LOCK_WAITER;
}

// @ts-ignore: decorator
@inline export function my_waiter(): usize {
  return this_cpu() + PC_LOCK_WAITER;
}

/**
 * lock_word_rmw - account one atomic read-modify-write of the lock word in virtual time: a
 * preemption point, the atomic's cost, and a cache-line transfer if another CPU wrote it last.
 */
// @ts-ignore: decorator
@inline export function lock_word_rmw(lock: usize): void {
  if (VIRTUAL) {
    preempt_point(SWITCH_PREEMPT);
    const me = <u32>smp_processor_id() + 1;
    if (load<u32>(lock + ML_LAST_CPU) != me) {
      charge(cost(COST_LINE_TRANSFER));
      store<u32>(lock + ML_LAST_CPU, me);
    }
    charge(cost(COST_ATOMIC));
  }
}

/** Append this CPU's waiter (mode) to lock's wait list; wait_lock held. */
export function waiter_enqueue(lock: usize, mode: u32): void {
  const me = <u32>smp_processor_id() + 1;
  const w = my_waiter();
  store<u32>(w + WAITER_NEXT, 0);
  store<u32>(w + WAITER_MODE, mode);
  store<u32>(w + WAITER_LOCK, <u32>lock);
  atomic.store<u32>(w + WAITER_STATE, WAITER_WAITING);
  const tail = load<u32>(lock + ML_WAIT_TAIL);
  if (tail == 0) store<u32>(lock + ML_WAIT_HEAD, me);
  else store<u32>(waiter_of(tail) + WAITER_NEXT, me);
  store<u32>(lock + ML_WAIT_TAIL, me);
}

/** Remove waiter cpu1 (CPU + 1) from lock's wait list; wait_lock held. */
export function waiter_dequeue(lock: usize, cpu1: u32): void {
  let prev: u32 = 0;
  let cur = load<u32>(lock + ML_WAIT_HEAD);
  while (cur != 0 && cur != cpu1) {
    prev = cur;
    cur = load<u32>(waiter_of(cur) + WAITER_NEXT);
  }
  VM_BUG_ON(cur == 0, "waiter_dequeue: the waiter is not on the lock's wait list");
  const next = load<u32>(waiter_of(cur) + WAITER_NEXT);
  if (prev == 0) store<u32>(lock + ML_WAIT_HEAD, next);
  else store<u32>(waiter_of(prev) + WAITER_NEXT, next);
  if (load<u32>(lock + ML_WAIT_TAIL) == cpu1) store<u32>(lock + ML_WAIT_TAIL, prev);
}

// @ts-ignore: decorator
@inline function inst_add(lock: usize, field: usize, n: u64): void {
  if ((load<u8>(lock + ML_FLAGS) & ML_STATS) != 0) atomic.add<u64>(lock + field, n);
}

/** Count a per-instance event (ML_INST_*) on lock when it keeps per-instance counters. */
export function lock_inst_event(lock: usize, field: usize): void {
  inst_add(lock, field, 1);
}

/**
 * lock_acquire - take lock in mode (MODE_WRITE, or MODE_READ for shared; | MODE_NESTED), as its
 * class's type and policy say; site names the caller for lockdep. May spin or sleep. Never fails: an
 * order violation is reported by lockdep (debug build) and a wait past its bound as a stuck CPU.
 */
export function lock_acquire(lock: usize, mode: u32, site: string): void {
  const c = lock_class(lock);
  const m = mode & ~MODE_NESTED;
  const timed = VIRTUAL || (lock_class_flags(c) & LC_TIMED) != 0;
  if (DEBUG) lockdep_acquire(lock, c, mode, site);
  const t0: u64 = timed ? lock_clock() : 0;
  let contended: bool;
  const type = lock_class_type(c);
  if (type == LOCK_TICKET) contended = ticket_lock(lock);
  else if (type == LOCK_TAS) contended = tas_lock(lock);
  else if (type == LOCK_MUTEX) contended = mutex_lock(lock, lock_class_policy(c));
  else if (type == LOCK_RWSEM) contended = m == MODE_READ ? down_read(lock, lock_class_policy(c)) : down_write(lock, lock_class_policy(c));
  else contended = broken_lock(lock);
  lock_stat_add(c, m == MODE_READ ? LS_ACQ_READ : LS_ACQ_WRITE, 1);
  inst_add(lock, ML_INST_ACQUIRED, 1);
  let now: u64 = 0;
  if (timed) now = lock_clock();
  if (contended) {
    lock_stat_add(c, LS_CONTENDED, 1);
    inst_add(lock, ML_INST_CONTENDED, 1);
    if (timed) lock_stat_time(c, LS_WAIT, now - t0);
  }
  if (DEBUG || timed) held_lock_push(lock, c, m, site, now);
}

/** lock_release - release lock taken in mode by this CPU (lockdep reports one not held, in debug). */
export function lock_release(lock: usize, mode: u32): void {
  const c = lock_class(lock);
  const m = mode & ~MODE_NESTED;
  const timed = VIRTUAL || (lock_class_flags(c) & LC_TIMED) != 0;
  if (DEBUG) lockdep_release(lock, c);
  if (DEBUG || timed) {
    const since = held_lock_pop(lock);
    if (timed) lock_stat_time(c, LS_HOLD, lock_clock() - since);
  }
  const type = lock_class_type(c);
  if (type == LOCK_TICKET) ticket_unlock(lock);
  else if (type == LOCK_TAS) tas_unlock(lock);
  else if (type == LOCK_MUTEX) mutex_unlock(lock, lock_class_policy(c));
  else if (type == LOCK_RWSEM) {
    if (m == MODE_READ) up_read(lock, lock_class_policy(c));
    else up_write(lock, lock_class_policy(c));
  } else broken_unlock(lock);
}
