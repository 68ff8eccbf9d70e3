// Kernel objects for locks driven from the host (tests, benchmarks): a struct mm_lock, or any other
// 64-byte object (a cache line of its own), from one kmem cache of 64-byte objects per machine.
import type { Mmu } from "../mmu.js";
import { constant } from "../core/abi.js";
import { lockClassId } from "./lock-config.js";
import { MmemuError, ErrnoError } from "../core/errors.js";

const caches = new WeakMap<Mmu, number>();

/** A 64-byte kernel object (allocated as CPU 0, which must not be running a job). */
export function kobj(mmu: Mmu): number {
  let cache = caches.get(mmu);
  if (cache === undefined) {
    cache = Number(mmu.call("cpu_kmem_cache_create", 0, 64));
    if (cache < 0) throw new ErrnoError("kmem_cache_create", cache);
    caches.set(mmu, cache);
  }
  const o = Number(mmu.call("cpu_kmem_cache_alloc", 0, cache, 1));
  if (o === 0) throw new MmemuError("kernel heap exhausted");
  return o;
}

/** A new lock of the named class (its type is the class's: the machine option locks); with stats, per-instance counters too. */
export function newLock(mmu: Mmu, className: string, stats = false): number {
  const lock = kobj(mmu);
  const r = Number(mmu.call("mm_lock_init", lock, lockClassId(mmu.exports, className), stats ? constant(mmu.exports, "ML_STATS") : 0));
  if (r !== 0) throw new ErrnoError("mm_lock_init", r);
  return lock;
}

export const MODE_WRITE = 0;
export const MODE_READ = 1;
export const MODE_NESTED = 16;
