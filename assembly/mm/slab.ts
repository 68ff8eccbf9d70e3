// The kernel-object allocator: kmem caches of fixed-size objects in the kernel heap, after mm/slab.c
// (per-CPU object lists in front of a locked per-cache list; SLAB's array_cache idea with lists).
//
//  struct kmem_cache (KMEM_CACHE_STRIDE bytes in the machine header)
//   +0  list         struct freelist: the cache's shared free objects   list lock
//   +12 object_size  u32 (a multiple of 8)                              read-only after creation
//   +16 nr_objs      u32 objects carved so far                          list lock
//   +20 nr_slabs     u32 slabs carved so far                            list lock
//  Per CPU, one struct freelist per cache in struct percpu (PC_SLAB_ARRAYS): that CPU's free objects.
//
// A free object's first word links it to the next. Slabs are carved from the kernel heap with a bump
// pointer under the kheap lock and never returned to it (the heap is sized up front: layout.ts).
// Locks nest: CPU list -> cache list -> kheap. When the heap is exhausted the cache first takes back
// every CPU's free objects of that cache, then fails with NULL (0).
// The debug build poisons the second word of a free object and checks it on allocation and free (a
// live object that happens to hold the poison value at that word would be reported as a double free).
import { llc_charge, l1_charge } from "../kernel/mm_charge";
import { VIRTUAL } from "../kernel/sched_config";
import { MAX_KMEM_CACHES, SLAB_CPU_HIGH, SLAB_CPU_BATCH, PAGE_SIZE, DEBUG } from "../config";
import { EINVAL, ENOSPC } from "../errno";
import { machine_base, kheap_base, nr_cpus, per_cpu_ptr, kmem_cache_ptr, HDR_KHEAP_LOCK, HDR_KHEAP_BRK,
  HDR_KHEAP_SIZE, HDR_NR_KMEM_CACHES, PC_SLAB_ARRAYS, SLAB_ARRAY_STRIDE } from "../layout";
import { freelist_init, freelist_push, freelist_pop, freelist_move, FL_LOCK, FL_COUNT, NODE_NIL } from "../lib/freelist";
import { spin_lock, spin_unlock } from "../locking/spinlock";
import { this_cpu, count_event, STAT_SLAB_ALLOC, STAT_SLAB_FREE } from "../percpu";
import { __GFP_ZERO } from "./page_alloc";
import { VM_BUG_ON } from "../debug";

const KC_OBJECT_SIZE: usize = 12;
const KC_NR_OBJS: usize = 16;
const KC_NR_SLABS: usize = 20;
/** Largest object a cache holds: one slab is max(4 KiB, the object) and holds at least one. */
export const KMALLOC_MAX_SIZE: u32 = 4096;
const POISON_FREE: u32 = 0x6b6b6b6b;

// @ts-ignore: decorator
@inline function cpu_list(p: usize, cache: i32): usize {
  return p + PC_SLAB_ARRAYS + <usize>cache * SLAB_ARRAY_STRIDE;
}

/**
 * kmem_cache_create - create a cache of objects of size bytes (1..KMALLOC_MAX_SIZE, rounded up to 8).
 * Callable at any time; creation is serialised by the kheap lock.
 * Returns the cache id (>= 0), -EINVAL for a bad size, or -ENOSPC when MAX_KMEM_CACHES exist.
 */
export function kmem_cache_create(size: u32): i32 {
  if (size == 0 || size > KMALLOC_MAX_SIZE) return -EINVAL;
  const lock = machine_base + HDR_KHEAP_LOCK;
  spin_lock(lock);
  const id = <i32>load<u32>(machine_base + HDR_NR_KMEM_CACHES);
  if (id >= MAX_KMEM_CACHES) { spin_unlock(lock); return -ENOSPC; }
  const c = kmem_cache_ptr(id);
  freelist_init(c);
  store<u32>(c + KC_OBJECT_SIZE, (size + 7) & ~7);
  store<u32>(c + KC_NR_OBJS, 0);
  store<u32>(c + KC_NR_SLABS, 0);
  for (let cpu = 0; cpu < nr_cpus; cpu++) freelist_init(cpu_list(per_cpu_ptr(cpu), id));
  atomic.store<u32>(machine_base + HDR_NR_KMEM_CACHES, id + 1); // publish
  spin_unlock(lock);
  return id;
}

// Carve one slab for cache c onto list (locked by the caller). Returns objects carved (0: heap full).
function cache_grow(c: usize, list: usize): u32 {
  const osize = load<u32>(c + KC_OBJECT_SIZE);
  const slab_bytes = osize > PAGE_SIZE ? osize : PAGE_SIZE;
  const lock = machine_base + HDR_KHEAP_LOCK;
  spin_lock(lock);
  const brk = load<u32>(machine_base + HDR_KHEAP_BRK);
  const end = <u32>kheap_base + load<u32>(machine_base + HDR_KHEAP_SIZE);
  if (end - brk < slab_bytes) { spin_unlock(lock); return 0; }
  store<u32>(machine_base + HDR_KHEAP_BRK, brk + slab_bytes);
  spin_unlock(lock);
  const n = slab_bytes / osize;
  for (let i: u32 = n; i > 0; i--) {
    const obj = brk + (i - 1) * osize;
    if (DEBUG) store<u32>(obj + 4, POISON_FREE);
    freelist_push(list, obj, 0, 1);
  }
  spin_lock(c + FL_LOCK);
  store<u32>(c + KC_NR_OBJS, load<u32>(c + KC_NR_OBJS) + n);
  store<u32>(c + KC_NR_SLABS, load<u32>(c + KC_NR_SLABS) + 1);
  spin_unlock(c + FL_LOCK);
  return n;
}

// Move every CPU's free objects of cache back to the cache's list.
function drain_cpu_caches(cache: i32): void {
  const c = kmem_cache_ptr(cache);
  for (let cpu = 0; cpu < nr_cpus; cpu++) {
    const l = cpu_list(per_cpu_ptr(cpu), cache);
    spin_lock(l + FL_LOCK);
    spin_lock(c + FL_LOCK);
    freelist_move(l, c, load<u32>(l + FL_COUNT), 0, 1);
    spin_unlock(c + FL_LOCK);
    spin_unlock(l + FL_LOCK);
  }
}

// @ts-ignore: decorator
@inline function valid_cache(cache: i32): bool {
  return cache >= 0 && cache < <i32>atomic.load<u32>(machine_base + HDR_NR_KMEM_CACHES);
}

// Refill this CPU's list of cache c (locked): a batch from the cache's list, else a new slab.
function cache_alloc_refill(c: usize, l: usize): void {
  spin_lock(c + FL_LOCK);
  const moved = freelist_move(c, l, SLAB_CPU_BATCH, 0, 1);
  spin_unlock(c + FL_LOCK);
  if (moved == 0) cache_grow(c, l);
}

/**
 * kmem_cache_alloc - an object of cache on this CPU; zeroed with __GFP_ZERO.
 * Holds nothing on entry. Returns its address, or 0 (NULL) for an unknown cache or when the kernel
 * heap is exhausted (after taking back every CPU's free objects of the cache).
 */
export function kmem_cache_alloc(cache: i32, gfp: u32): usize {
  if (!valid_cache(cache)) return 0;
  const c = kmem_cache_ptr(cache);
  const l = cpu_list(this_cpu(), cache);
  spin_lock(l + FL_LOCK);
  let obj = freelist_pop(l, 0, 1);
  if (obj == NODE_NIL) {
    cache_alloc_refill(c, l);
    obj = freelist_pop(l, 0, 1);
  }
  spin_unlock(l + FL_LOCK);
  if (obj == NODE_NIL) {
    drain_cpu_caches(cache);
    spin_lock(l + FL_LOCK);
    cache_alloc_refill(c, l);
    obj = freelist_pop(l, 0, 1);
    spin_unlock(l + FL_LOCK);
    if (obj == NODE_NIL) return 0;
  }
  VM_BUG_ON(load<u32>(obj + 4) != POISON_FREE, "kmem_cache_alloc: free object was written after free");
  if (DEBUG) store<u32>(obj + 4, 0); // unpoison: the object is live now
  // The object's lines (the pop read its free-list link; __GFP_ZERO writes all of them) from the LLC;
  // the per-CPU list's lock is charged by spin_lock/spin_unlock.
  if (VIRTUAL) llc_charge((gfp & __GFP_ZERO) != 0 ? (load<u32>(c + KC_OBJECT_SIZE) + 63) >> 6 : 1);
  if ((gfp & __GFP_ZERO) != 0) memory.fill(obj, 0, load<u32>(c + KC_OBJECT_SIZE));
  count_event(STAT_SLAB_ALLOC);
  return obj;
}

/**
 * kmem_cache_free - return obj to cache on this CPU. Holds nothing on entry.
 * Returns 0, or -EINVAL for an unknown cache or an address outside the kernel heap or misaligned.
 */
export function kmem_cache_free(cache: i32, obj: usize): i32 {
  if (!valid_cache(cache)) return -EINVAL;
  const heap_end = kheap_base + load<u32>(machine_base + HDR_KHEAP_SIZE);
  if (obj < kheap_base || obj >= heap_end || (obj & 7) != 0) return -EINVAL;
  const c = kmem_cache_ptr(cache);
  VM_BUG_ON(load<u32>(obj + 4) == POISON_FREE, "kmem_cache_free: double free (object is poisoned)");
  if (DEBUG) store<u32>(obj + 4, POISON_FREE);
  const l = cpu_list(this_cpu(), cache);
  l1_charge(1); // writing the object's free-list link: its line was in use by the caller
  spin_lock(l + FL_LOCK);
  freelist_push(l, <u32>obj, 0, 1);
  if (load<u32>(l + FL_COUNT) > SLAB_CPU_HIGH) {
    spin_lock(c + FL_LOCK);
    freelist_move(l, c, SLAB_CPU_BATCH, 0, 1);
    spin_unlock(c + FL_LOCK);
  }
  spin_unlock(l + FL_LOCK);
  count_event(STAT_SLAB_FREE);
  return 0;
}

/** kmem_cache_object_size - the object size of cache, or -EINVAL for an unknown cache. */
export function kmem_cache_object_size(cache: i32): i32 {
  if (!valid_cache(cache)) return -EINVAL;
  return <i32>load<u32>(kmem_cache_ptr(cache) + KC_OBJECT_SIZE);
}

/** kmem_cache_nr_objs - objects carved for cache so far (allocated or free). */
export function kmem_cache_nr_objs(cache: i32): i32 {
  if (!valid_cache(cache)) return -EINVAL;
  return <i32>atomic.load<u32>(kmem_cache_ptr(cache) + KC_NR_OBJS);
}

/** kmem_cache_nr_free - free objects of cache on its list and on every CPU's (exact when quiet). */
export function kmem_cache_nr_free(cache: i32): i32 {
  if (!valid_cache(cache)) return -EINVAL;
  let n = atomic.load<u32>(kmem_cache_ptr(cache) + FL_COUNT);
  for (let cpu = 0; cpu < nr_cpus; cpu++) n += atomic.load<u32>(cpu_list(per_cpu_ptr(cpu), cache) + FL_COUNT);
  return <i32>n;
}
