// Kernel objects for lock tests: a struct mm_lock and torture data from a kmem cache of 64-byte objects.
import type { Mmu } from "../../src/index.js";
import { constant } from "../../src/core/abi.js";
import { lockClassId } from "../../src/locking/lock-config.js";

export function kobj(mmu: Mmu): number {
  let cache = (mmu as unknown as { __cache64?: number }).__cache64;
  if (cache === undefined) {
    cache = Number(mmu.call("cpu_kmem_cache_create", 0, 64));
    (mmu as unknown as { __cache64?: number }).__cache64 = cache;
  }
  const o = Number(mmu.call("cpu_kmem_cache_alloc", 0, cache, 1));
  if (o === 0) throw new Error("kernel heap exhausted");
  return o;
}

/** A new lock of the named class; with stats, per-instance counters too. */
export function newLock(mmu: Mmu, className: string, stats = false): number {
  const lock = kobj(mmu);
  const r = mmu.call("mm_lock_init", lock, lockClassId(mmu.exports, className), stats ? constant(mmu.exports, "ML_STATS") : 0);
  if (r !== 0) throw new Error(`mm_lock_init: ${r}`);
  return lock;
}

export const MODE_WRITE = 0;
export const MODE_READ = 1;
export const MODE_NESTED = 16;
