// The MM's kmem caches (mm/mm_init.c, kernel/fork.c proc_caches_init, mm/rmap.c anon_vma_init).
import { kmem_cache_create } from "./slab";
import { KMEM_MM_STRUCT, KMEM_VM_AREA, KMEM_ANON_VMA, KMEM_ANON_VMA_CHAIN, KMEM_ADDRESS_SPACE, KMEM_TASK_STRUCT,
  NR_MM_CACHES, MM_STRUCT_SIZE, VMA_SIZE, ANON_VMA_SIZE, AVC_SIZE, ADDRESS_SPACE_SIZE, TASK_STRUCT_SIZE } from "./mm_types";
import { KMEM_PTLOCK, KMEM_MMU_NOTIFIER } from "./mm_types";
import { MM_LOCK_SIZE } from "../locking/lock";
import { MMU_NOTIFIER_SIZE } from "./mmu_notifier";
import { VM_BUG_ON } from "../debug";

// The object size of the MM cache with fixed id.
function mm_cache_size(id: i32): u32 {
  switch (id) {
    case KMEM_MM_STRUCT: return MM_STRUCT_SIZE;
    case KMEM_VM_AREA: return VMA_SIZE;
    case KMEM_ANON_VMA: return ANON_VMA_SIZE;
    case KMEM_ANON_VMA_CHAIN: return AVC_SIZE;
    case KMEM_ADDRESS_SPACE: return ADDRESS_SPACE_SIZE;
    case KMEM_TASK_STRUCT: return TASK_STRUCT_SIZE;
    case KMEM_PTLOCK: return MM_LOCK_SIZE;
    case KMEM_MMU_NOTIFIER: return MMU_NOTIFIER_SIZE;
  }
  return 0;
}

/**
 * mm_caches_init - create the MM's caches, in the order of their fixed KMEM_* ids. Runs once, in
 * machine_init, before anything else creates a cache (so every id is the one mm_types.ts names).
 */
export function mm_caches_init(): void {
  for (let id = 0; id < NR_MM_CACHES; id++) {
    const got = kmem_cache_create(mm_cache_size(id));
    VM_BUG_ON(got != id, "mm_caches_init: cache ids are fixed (mm_types.ts KMEM_*)");
  }
}
