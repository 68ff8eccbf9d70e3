// Lockdep: the held-lock stack of each CPU and the checks of kernel/locking/lockdep.c that matter
// here, against the lock order declared in locking/lock_types.ts (lock_class_rank) and the
// dependencies observed at run time between classes outside it.
//
// Reported (debug build only; the release build compiles every check away):
//   LD_ORDER      a lock taken against the declared order (e.g. anon_vma while holding page_table_lock)
//   LD_CYCLE      a cycle in the observed class dependencies (AB-BA, or longer)
//   LD_RECURSIVE  a lock taken twice, or a second lock of a held class without MODE_NESTED
//   LD_NOT_HELD   a release of a lock this CPU does not hold
//   LD_TOO_DEEP   more than MAX_LOCK_DEPTH locks held
// A report calls env.lockdep_report with the kind, both classes and both code sites; the host
// throws a LockdepError naming them.
//
//  held-lock stack (struct percpu +1152): depth u32 at +0, then MAX_LOCK_DEPTH entries of 24 bytes
//   from +8: lock u32 | class u8 | mode u8 | pad u16 | site u32 (the caller's name) | pad u32 |
//   acquired u64 (lock_stat's clock when taken)
//  dependency matrix (machine header +320): row a, bit b set = class b was taken while a was held.
import { PC_LOCKDEP, machine_base, HDR_LOCKDEP_DEPS } from "../layout";
import { this_cpu } from "../percpu";
import { MAX_LOCK_DEPTH } from "../config";
import { lock_class_rank, RANK_NONE, NR_LOCK_CLASSES } from "./lock_types";
import { MODE_NESTED } from "./lock";

export const LD_ORDER: u32 = 1;
export const LD_CYCLE: u32 = 2;
export const LD_RECURSIVE: u32 = 3;
export const LD_NOT_HELD: u32 = 4;
export const LD_TOO_DEEP: u32 = 5;

const HL_DEPTH: usize = 0;
const HL_BASE: usize = 8;
const HL_SIZE: usize = 24;
const HL_LOCK: usize = 0;
const HL_CLASS: usize = 4;
const HL_MODE: usize = 5;
const HL_SITE: usize = 8;
const HL_TIME: usize = 16;

// @ts-ignore: decorator
@external("env", "lockdep_report")
declare function host_lockdep_report(kind: u32, held_class: i32, lock_class: i32, held_site: usize, site: usize): void;

// @ts-ignore: decorator
@inline function entry(i: u32): usize {
  return this_cpu() + PC_LOCKDEP + HL_BASE + <usize>i * HL_SIZE;
}

// @ts-ignore: decorator
@inline function depth(): u32 {
  return load<u32>(this_cpu() + PC_LOCKDEP + HL_DEPTH);
}

/** held_lock_push - record lock (class c, mode, site) as held since time now. */
export function held_lock_push(lock: usize, c: i32, mode: u32, site: string, now: u64): void {
  const d = depth();
  if (d >= <u32>MAX_LOCK_DEPTH) {
    host_lockdep_report(LD_TOO_DEEP, c, c, changetype<usize>(site), changetype<usize>(site));
    return;
  }
  const e = entry(d);
  store<u32>(e + HL_LOCK, <u32>lock);
  store<u8>(e + HL_CLASS, <u8>c);
  store<u8>(e + HL_MODE, <u8>mode);
  store<u32>(e + HL_SITE, <u32>changetype<usize>(site));
  store<u64>(e + HL_TIME, now);
  store<u32>(this_cpu() + PC_LOCKDEP + HL_DEPTH, d + 1);
}

/** held_lock_pop - forget lock; returns when it was taken (0 if it was not on the stack). */
export function held_lock_pop(lock: usize): u64 {
  const d = depth();
  for (let i = <i32>d - 1; i >= 0; i--) {
    const e = entry(<u32>i);
    if (load<u32>(e + HL_LOCK) != <u32>lock) continue;
    const t = load<u64>(e + HL_TIME);
    for (let j = <u32>i; j + 1 < d; j++) memory.copy(entry(j), entry(j + 1), HL_SIZE);
    store<u32>(this_cpu() + PC_LOCKDEP + HL_DEPTH, d - 1);
    return t;
  }
  return 0;
}

/** lockdep_depth - locks this CPU holds (as recorded). */
export function lockdep_depth(): u32 {
  return depth();
}

// Is class to reachable from class from in the observed dependency graph?
function reachable(from: i32, to: i32): bool {
  const deps = machine_base + HDR_LOCKDEP_DEPS;
  let seen: u32 = 1 << <u32>from;
  let frontier: u32 = seen;
  while (frontier != 0) {
    let next: u32 = 0;
    for (let a = 0; a < NR_LOCK_CLASSES; a++) {
      if ((frontier & (1 << <u32>a)) != 0) next |= atomic.load<u32>(deps + (<usize>a << 2));
    }
    if ((next & (1 << <u32>to)) != 0) return true;
    frontier = next & ~seen;
    seen |= next;
  }
  return false;
}

/**
 * lockdep_acquire - check taking lock (class c, mode) at site against what this CPU holds, then
 * record the dependencies. Reports (and the host throws) on a violation.
 */
export function lockdep_acquire(lock: usize, c: i32, mode: u32, site: string): void {
  const d = depth();
  const rc = lock_class_rank(c);
  const s = changetype<usize>(site);
  for (let i: u32 = 0; i < d; i++) {
    const e = entry(i);
    const h = <i32>load<u8>(e + HL_CLASS);
    const hs = <usize>load<u32>(e + HL_SITE);
    if (load<u32>(e + HL_LOCK) == <u32>lock || (h == c && (mode & MODE_NESTED) == 0)) {
      host_lockdep_report(LD_RECURSIVE, h, c, hs, s);
      return;
    }
    if (h == c) continue;
    const rh = lock_class_rank(h);
    if (rh != RANK_NONE && rc != RANK_NONE && rh >= rc) {
      host_lockdep_report(LD_ORDER, h, c, hs, s);
      return;
    }
    if (reachable(c, h)) {
      host_lockdep_report(LD_CYCLE, h, c, hs, s);
      return;
    }
    atomic.or<u32>(machine_base + HDR_LOCKDEP_DEPS + (<usize>h << 2), 1 << <u32>c);
  }
}

/** lockdep_release - check that this CPU holds lock before it is released. */
export function lockdep_release(lock: usize, c: i32): void {
  const d = depth();
  for (let i: u32 = 0; i < d; i++) if (load<u32>(entry(i) + HL_LOCK) == <u32>lock) return;
  host_lockdep_report(LD_NOT_HELD, c, c, 0, 0);
}
