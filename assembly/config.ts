// Compile-time configuration of the core (the equivalent of a kernel .config).
//
// MMEMU_DEBUG is introduced by the debug build (`asc ... --use MMEMU_DEBUG=1`, see asconfig.json):
// it turns on VM_BUG_ON invariants. The release build folds every `if (DEBUG)` away and pays nothing.

// @ts-ignore: decorator
@inline export const DEBUG: bool = isDefined(MMEMU_DEBUG);

/** CONFIG_NR_CPUS: a cpumask is one u64, as on a small x86-64 config. */
export const NR_CPUS: i32 = 64;

export const PAGE_SHIFT: i32 = 12;
export const PAGE_SIZE: u32 = 1 << PAGE_SHIFT;
/** PAGE_SIZE and PAGE_MASK as u64, for virtual-address arithmetic. */
export const PAGE_SIZE_64: u64 = <u64>PAGE_SIZE;
export const PAGE_MASK_64: u64 = ~(PAGE_SIZE_64 - 1);
export const PMD_SHIFT: i32 = 21;
export const PUD_SHIFT: i32 = 30;
export const PGDIR_SHIFT: i32 = 39;
export const PTRS_PER_TABLE: u32 = 512;

/** The layout interface version: bumped whenever the shared-memory header changes. */
export const MMEMU_ABI_VERSION: u32 = 1;

/** Cache-line size used to keep independently written shared words apart. */
export const L1_CACHE_BYTES: u32 = 64;

/** Number of kmem caches the slab allocator can hold (kmalloc sizes + the MM's named caches). */
export const MAX_KMEM_CACHES: i32 = 16;
/** Objects a CPU keeps on its per-cache list before returning a batch (SLAB's array_cache->limit). */
export const SLAB_CPU_HIGH: u32 = 32;
/** Objects moved between a CPU's list and the cache's shared list at once (array_cache->batchcount). */
export const SLAB_CPU_BATCH: u32 = 16;

/** Lock classes the machine can configure (locking/lock_types.ts names them). */
export const MAX_LOCK_CLASSES: i32 = 16;
/** Locks one CPU may hold at once (lockdep's held-lock stack; MAX_LOCK_DEPTH is 48 in Linux). */
export const MAX_LOCK_DEPTH: i32 = 10;

/** Per-CPU page lists: refill/drain batch and high watermark (pcp->batch, pcp->high). */
export const PCP_BATCH: u32 = 31;
export const PCP_HIGH: u32 = 186;

/**
 * How long a bounded spin may go before the CPU declares itself stuck (iterations of a spin loop).
 * Around a second or more on this machine: far beyond any legitimate wait in the model, short
 * enough that a lost wake-up is reported rather than hung on.
 */
export const SPIN_LIMIT: u32 = 1 << 29;
