// The core's exported interface (the ABI the TypeScript host binds in src/core/abi.ts).
//
// Every function that acts as a CPU takes that CPU's id first and returns -EINVAL (-22) for an id
// outside 0..nr_cpus-1 before touching anything. Results follow the kernel: >= 0 success, a negative
// errno failure; translations return a physical address or a negated exception vector
// (arch/x86/fault.ts). Layout constants are exported as globals so the host reads every offset from
// here and never restates it.
import { nr_cpus, machine_attach as __machine_attach, machine_init as __machine_init, per_cpu_ptr, MF_DEBUG,
  MF_VIRTUAL } from "./layout";
import { set_this_cpu } from "./percpu";
import { EINVAL } from "./errno";
import { DEBUG } from "./config";
import { VIRTUAL } from "./kernel/sched_config";
import { cpu_reset, write_cr0, write_cr3, write_cr4, write_efer, write_rflags, set_cpl } from "./arch/x86/processor";
import { mmu_translate, mmu_walk, invlpg, invpcid } from "./arch/x86/mmu";
import { ACC_VALID_MASK } from "./arch/x86/pgtable_types";
import { tlb_count_valid } from "./arch/x86/tlb";
import { tlb_mailbox_post, tlb_mailbox_wait, do_pending_ipis, cpu_set_running } from "./arch/x86/smp";
import { free_area_init, alloc_page, put_page, get_page, nr_free_pages, drain_all_pages } from "./mm/page_alloc";
import { mm_caches_init } from "./mm/mm_init";
import { kmem_cache_create, kmem_cache_alloc, kmem_cache_free, kmem_cache_object_size, kmem_cache_nr_objs,
  kmem_cache_nr_free } from "./mm/slab";
import { machine_barrier_wait } from "./lib/barrier";
import { bench_translate } from "./lib/bench_walk";
import { lock_init, lock_acquire, lock_release, MM_LOCK_SIZE } from "./locking/lock";
import { lock_class_set, lock_classes_init, lock_class_name, lock_class_type, lock_class_policy,
  lock_class_flags, NR_LOCK_CLASSES } from "./locking/lock_types";
import { torture_writer, torture_reader } from "./locking/locktorture";
import { lockdep_depth } from "./locking/lockdep";
import { lock_stat_time, LS_WAIT, LS_HOLD } from "./locking/lock_stat";
import { bench_lock_uncontended, bench_lock_pingpong } from "./lib/bench_lock";
import { test_ad_walker, test_ad_clearer, test_page_alloc_exhaust, test_page_alloc_release,
  test_page_alloc_churn } from "./lib/test_pgtable";
import { test_rb_vma_new, test_rb_vma_free } from "./lib/test_rbtree";

export {
  NR_CPUS, PAGE_SIZE, MMEMU_ABI_VERSION,
} from "./config";
export {
  machine_layout, machine_base_for_heap, HEADER_SIZE, PERCPU_SIZE, STRUCT_PAGE_SIZE,
  HDR_NR_CPUS, HDR_NR_FRAMES, HDR_NR_BACKED, HDR_MAXPHYADDR, HDR_PERCPU_BASE, HDR_MEM_MAP, HDR_KHEAP_BASE,
  HDR_KHEAP_SIZE, HDR_FRAMES_BASE, HDR_TOTAL_SIZE, HDR_TASKLIST_LOCK, HDR_TASKS, HDR_NR_THREADS,
  HDR_FLAGS, HDR_VSTACK_BASE, MF_DEBUG, MF_VIRTUAL, VSTACK_SIZE,
  PC_LOCK_STAT, LOCK_STAT_SIZE, PC_LOCK_HIST, LOCK_HIST_SIZE, LOCK_HIST_BUCKETS, PC_VCLOCK, PC_WAIT_WORD, PC_WAIT_VAL, PC_WAKE_AT, PC_JOB, PC_JOB_STATE, PC_JOB_ARGS, NR_JOB_ARGS,
  PC_CR0, PC_CR3, PC_CR4, PC_EFER, PC_RFLAGS, PC_CPL, PC_FAULT_VECTOR, PC_FAULT_ERROR, PC_FAULT_CR2,
  PC_FAULT_ADDR, PC_XLAT_SHIFT, PC_STATE, PC_STATE_ARG, PC_STATE_ARG2, PC_STATS, NR_CPU_STATS,
} from "./layout";
export {
  STAT_TLB_HIT, STAT_TLB_MISS, STAT_WALK, STAT_WALK_RESTART, STAT_PF, STAT_GP, STAT_BUS_FAULT,
  STAT_SET_ACCESSED, STAT_SET_DIRTY, STAT_TLB_DIRTY_REWALK, STAT_TLB_FAULT_INVAL, STAT_FLUSH_ONE,
  STAT_FLUSH_PCID, STAT_FLUSH_ALL, STAT_CR3_LOAD, STAT_SHOOTDOWN_SENT, STAT_SHOOTDOWN_RECV,
  STAT_SHOOTDOWN_REMOTE, STAT_PGALLOC, STAT_PGFREE, STAT_PCP_REFILL, STAT_PCP_DRAIN, STAT_SLAB_ALLOC,
  STAT_SLAB_FREE, STAT_SPIN_CONTENDED, STAT_SPIN_LOOPS, STAT_TLB_FILL, NR_STATS_USED,
  CPU_IDLE, CPU_RUNNING, CPU_SPINNING, CPU_WAIT_ACK, CPU_BARRIER, CPU_WAIT_MAILBOX, CPU_SLEEPING,
  STAT_SLEEP, STAT_WAKEUP,
} from "./percpu";
export {
  PAGE_FLAGS, PAGE_REFCOUNT, PAGE_MAPCOUNT, PAGE_MAPPING, PAGE_INDEX, PAGE_PRIVATE, PAGE_LRU_NEXT, PAGE_LRU_PREV,
  PG_buddy, PG_reserved, PG_locked, PG_referenced, PG_dirty, PG_lru, PG_slab, PG_pgtable, PG_anon, PG_swapbacked,
  PG_writeback, PG_nodata, PAGE_GEN_SHIFT, PAGE_GEN_MASK,
} from "./mm/mm_types";
// The MM core's object layouts (mm/mm_types.ts): the host reads structs with these offsets.
export {
  PFN_NIL, KMEM_MM_STRUCT, KMEM_VM_AREA, KMEM_ANON_VMA, KMEM_ANON_VMA_CHAIN, KMEM_ADDRESS_SPACE,
  KMEM_TASK_STRUCT, NR_MM_CACHES, RB_PARENT_COLOR, RB_RIGHT, RB_LEFT, RB_NODE_SIZE, MM_MMAP_SEM,
  MM_PAGE_TABLE_LOCK, MM_MMAP, MM_RB, MM_MAP_COUNT, MM_MMAP_CACHE, MM_MMAP_BASE, MM_TASK_SIZE, MM_START_BRK,
  MM_BRK, MM_TOTAL_VM, MM_NOTIFIERS, MM_FLAGS, MM_USERS, MM_COUNT, MM_RSS, MM_CPUMASK, MM_TLB_GEN, MM_PGD,
  MM_PCID, MM_ID, MM_MMLIST_NEXT, MM_MMLIST_PREV, MM_STRUCT_SIZE, MM_FILEPAGES, MM_ANONPAGES, MM_SWAPENTS,
  MM_PGTABLES, MMF_EXITING, TASK_SIZE, VMA_MM, VMA_NEXT, VMA_PREV, VMA_RB, VMA_START, VMA_END, VMA_FLAGS,
  VMA_PGOFF, VMA_PAGE_PROT, VMA_FILE, VMA_ANON_VMA, VMA_ANON_VMA_CHAIN, VMA_SHARED_RB,
  VMA_SHARED_SUBTREE_LAST, VMA_SIZE, VM_READ, VM_WRITE, VM_EXEC, VM_SHARED, VM_MAYREAD, VM_MAYWRITE,
  VM_MAYEXEC, VM_MAYSHARE, VM_GROWSDOWN, VM_DONTCOPY, VM_ACCOUNT, AV_LOCK, AV_ROOT, AV_REFCOUNT, AV_HEAD,
  AV_TAIL, AV_DEGREE, ANON_VMA_SIZE, AVC_VMA, AVC_ANON_VMA, AVC_SAME_VMA, AVC_NEXT, AVC_PREV, AVC_SIZE,
  AS_I_MMAP_LOCK, AS_I_MMAP, AS_I_MMAP_WRITABLE, AS_TREE_LOCK, AS_NRPAGES, AS_PAGE_TREE, AS_SIZE_PAGES,
  AS_INO, ADDRESS_SPACE_SIZE, TASK_PID, TASK_TGID, TASK_FLAGS, TASK_ALLOC_LOCK, TASK_MM, TASK_ACTIVE_MM,
  TASK_STATE, TASK_ON_CPU, TASK_EXIT_CODE, TASK_PARENT, TASK_TASKS_NEXT, TASK_TASKS_PREV, TASK_STRUCT_SIZE,
  PF_KTHREAD, PF_EXITING, TASK_RUNNING, TASK_DEAD,
} from "./mm/mm_types";
export { __GFP_ZERO, __GFP_HIGHMEM } from "./mm/page_alloc";
export {
  RB_PARENT_COLOR, RB_RIGHT, RB_LEFT, RB_NODE_SIZE,
  VMA_MM, VMA_NEXT, VMA_PREV, VMA_RB, VMA_START, VMA_END, VMA_FLAGS, VMA_PGOFF, VMA_PAGE_PROT, VMA_FILE,
  VMA_ANON_VMA, VMA_ANON_VMA_CHAIN, VMA_SHARED_RB, VMA_SHARED_SUBTREE_LAST, VMA_SIZE,
  MM_MMAP, MM_RB, MM_MAP_COUNT, MM_MMAP_CACHE, MM_MMAP_BASE, MM_TASK_SIZE, MM_START_BRK, MM_BRK, MM_TOTAL_VM,
  MM_USERS, MM_COUNT, MM_PGD, MM_ID, MM_MMAP_SEM, MM_PAGE_TABLE_LOCK, MM_STRUCT_SIZE, AS_I_MMAP, AS_INO,
  KMEM_VM_AREA, KMEM_MM_STRUCT,
} from "./mm/mm_types";
// Red-black and interval trees (lib/rbtree.ts, lib/interval_tree.ts): pure tree operations on objects
// the caller owns (no CPU state, no locks), exported for the tests' kernels.
export { rb_first, rb_last, rb_next, rb_prev, rb_parent } from "./lib/rbtree";
export { vma_interval_tree_iter_first, vma_interval_tree_iter_next } from "./lib/interval_tree";
export { test_rb_insert, test_rb_erase, test_it_insert, test_it_remove } from "./lib/test_rbtree";
export { MM_LOCK_SIZE, ML_WORD, ML_OWNER, ML_INST_ACQUIRED, ML_INST_CONTENDED, ML_INST_SLEEPS, ML_INST_HANDOFFS, ML_STATS,
  MODE_READ, MODE_WRITE, MODE_NESTED } from "./locking/lock";
export { LOCK_TICKET, LOCK_TAS, LOCK_MUTEX, LOCK_RWSEM, LOCK_BROKEN, MUTEX_OPT_SPIN, RWSEM_HANDOFF, RWSEM_STEAL,
  RWSEM_OPT_SPIN, LC_TIMED, NR_LOCK_CLASSES, LOCK_CLASS_MMAP_SEM, LOCK_CLASS_I_MMAP, LOCK_CLASS_ANON_VMA,
  LOCK_CLASS_PAGE_TABLE_LOCK, LOCK_CLASS_PTE_LOCK, LOCK_CLASS_SWAP_LOCK, LOCK_CLASS_MMLIST_LOCK,
  LOCK_CLASS_TORTURE_A, LOCK_CLASS_TORTURE_B } from "./locking/lock_types";
export { LS_ACQ_READ, LS_ACQ_WRITE, LS_CONTENDED, LS_SPIN, LS_SLEEP, LS_WAKEUP, LS_HANDOFF, LS_STEAL, LS_WAIT, LS_HOLD,
  NR_LOCK_STATS } from "./locking/lock_stat";
export { LD_ORDER, LD_CYCLE, LD_RECURSIVE, LD_NOT_HELD, LD_TOO_DEEP } from "./locking/lockdep";
export { FLUSH_RANGE, FLUSH_PCID, FLUSH_ALL, FLUSH_ALL_GLOBAL } from "./arch/x86/smp";
export { BENCH_INDEPENDENT, BENCH_DEPENDENT, BENCH_SEQUENTIAL } from "./lib/bench_walk";

export { sched_set_horizon, SWITCH_PREEMPT, SWITCH_SPIN, SWITCH_SLEEP } from "./kernel/sched";
export { cost_set, NR_COSTS } from "./kernel/cost";

/** Whether this is a virtual build (Asyncify coroutines, virtual time). */
export function core_is_virtual(): bool {
  return VIRTUAL;
}

/** Whether this is the debug build (VM_BUG_ON on). */
export function core_is_debug(): bool {
  return DEBUG;
}

/**
 * machine_init - lay out and boot a machine in this memory (see layout.ts): header, CPUs in their
 * reset state, every frame but pfn 0 free. Returns 0 or a negative errno (layout.ts).
 */
export function machine_init(cpus: i32, frames: u32, backed: u32, kheap_size: u32, maxphys: i32, flags: u32): i32 {
  if ((flags & MF_VIRTUAL) != 0 && !VIRTUAL) return -EINVAL; // a virtual machine needs the virtual build
  const r = __machine_init(cpus, frames, backed, kheap_size, maxphys, flags | (DEBUG ? MF_DEBUG : 0));
  if (r < 0) return r;
  __machine_attach();
  set_this_cpu(0);
  for (let c = 0; c < cpus; c++) cpu_reset(c);
  free_area_init();
  lock_classes_init();
  mm_caches_init();
  return 0;
}

/** machine_attach - bind this instance to the machine already initialised in its memory. */
export function machine_attach(): i32 {
  return __machine_attach();
}

import { enter } from "./abi/enter";

/** The address of CPU cpu's struct percpu, or 0 for a bad id. */
export function cpu_percpu(cpu: i32): usize {
  return cpu < 0 || cpu >= nr_cpus ? 0 : per_cpu_ptr(cpu);
}

export function cpu_reset_regs(cpu: i32): i32 { if (!enter(cpu)) return -EINVAL; cpu_reset(cpu); return 0; }
export function cpu_write_cr0(cpu: i32, v: u64): i32 { return enter(cpu) ? write_cr0(v) : -EINVAL; }
export function cpu_write_cr3(cpu: i32, v: u64): i32 { return enter(cpu) ? write_cr3(v) : -EINVAL; }
export function cpu_write_cr4(cpu: i32, v: u64): i32 { return enter(cpu) ? write_cr4(v) : -EINVAL; }
export function cpu_write_efer(cpu: i32, v: u64): i32 { return enter(cpu) ? write_efer(v) : -EINVAL; }
export function cpu_write_rflags(cpu: i32, v: u64): i32 { return enter(cpu) ? write_rflags(v) : -EINVAL; }
export function cpu_set_cpl(cpu: i32, cpl: i32): i32 { return enter(cpu) ? set_cpl(cpl) : -EINVAL; }

/**
 * cpu_translate - translate va for access (ACC_WRITE 2 | ACC_USER 4 | ACC_FETCH 16 | ACC_IMPLICIT
 * 256) as CPU cpu does: TLB, then walk. Returns the physical address, -13/-14/-18 with the fault
 * recorded in the CPU's fault record, or -EINVAL for a bad CPU or unknown access bits.
 */
export function cpu_translate(cpu: i32, va: u64, access: u32): i64 {
  if (!enter(cpu) || (access & ~ACC_VALID_MASK) != 0) return -EINVAL;
  return mmu_translate(per_cpu_ptr(cpu), va, access);
}

/** cpu_walk - a full page walk that bypasses the TLB lookup (it still fills the TLB). As cpu_translate. */
export function cpu_walk(cpu: i32, va: u64, access: u32): i64 {
  if (!enter(cpu) || (access & ~ACC_VALID_MASK) != 0) return -EINVAL;
  return mmu_walk(per_cpu_ptr(cpu), va, access);
}

export function cpu_invlpg(cpu: i32, va: u64): i32 {
  if (!enter(cpu)) return -EINVAL;
  invlpg(per_cpu_ptr(cpu), va);
  return 0;
}

export function cpu_invpcid(cpu: i32, type: i32, pcid: u32, va: u64): i32 {
  return enter(cpu) ? invpcid(per_cpu_ptr(cpu), type, pcid, va) : -EINVAL;
}

export function cpu_tlb_count_valid(cpu: i32): i32 {
  return enter(cpu) ? <i32>tlb_count_valid(per_cpu_ptr(cpu)) : -EINVAL;
}

export function cpu_tlb_post(cpu: i32, target: i32, kind: u32, pcid: u32, start: u64, nr_pages: u32): i64 {
  if (!enter(cpu) || target < 0 || target >= nr_cpus) return -EINVAL;
  return tlb_mailbox_post(target, kind, pcid, start, nr_pages);
}

export function cpu_tlb_wait(cpu: i32, target: i32, gen: u32): i32 {
  if (!enter(cpu) || target < 0 || target >= nr_cpus) return -EINVAL;
  tlb_mailbox_wait(target, gen);
  return 0;
}

export function cpu_do_pending_ipis(cpu: i32): i32 {
  if (!enter(cpu)) return -EINVAL;
  do_pending_ipis();
  return 0;
}

export function cpu_running(cpu: i32, running: bool): i32 {
  if (!enter(cpu)) return -EINVAL;
  cpu_set_running(running);
  return 0;
}

export function cpu_alloc_page(cpu: i32, gfp: u32): i32 { return enter(cpu) ? alloc_page(gfp) : -EINVAL; }
export function cpu_put_page(cpu: i32, pfn: u32): i32 { return enter(cpu) ? put_page(pfn) : -EINVAL; }
export function cpu_get_page(cpu: i32, pfn: u32): i32 { return enter(cpu) ? get_page(pfn) : -EINVAL; }
export function cpu_drain_all_pages(cpu: i32): i32 { if (!enter(cpu)) return -EINVAL; drain_all_pages(); return 0; }
export function mm_nr_free_pages(): u32 { return nr_free_pages(); }

export function cpu_kmem_cache_create(cpu: i32, size: u32): i32 { return enter(cpu) ? kmem_cache_create(size) : -EINVAL; }
export function cpu_kmem_cache_alloc(cpu: i32, cache: i32, gfp: u32): usize { return enter(cpu) ? kmem_cache_alloc(cache, gfp) : 0; }
export function cpu_kmem_cache_free(cpu: i32, cache: i32, obj: usize): i32 { return enter(cpu) ? kmem_cache_free(cache, obj) : -EINVAL; }
export { kmem_cache_object_size, kmem_cache_nr_objs, kmem_cache_nr_free };

export function cpu_barrier_wait(cpu: i32, parties: u32): i32 {
  if (!enter(cpu) || parties > <u32>nr_cpus) return -EINVAL;
  return machine_barrier_wait(parties);
}

export function cpu_bench_translate(cpu: i32, va_base: u64, span_pages: u32, iters: u32, seed: u32, order: u32, tlb: bool): i64 {
  if (!enter(cpu) || span_pages == 0 || (span_pages & (span_pages - 1)) != 0 || order > 2) return -EINVAL;
  return bench_translate(va_base, span_pages, iters, seed, order, tlb);
}

export function cpu_test_ad_walker(cpu: i32, va_base: u64, npages: u32, iters: u32, seed: u32, pfn_a: u32, pfn_b: u32, done: usize): i64 {
  if (!enter(cpu) || npages == 0 || (done & 3) != 0) return -EINVAL;
  return test_ad_walker(va_base, npages, iters, seed, pfn_a, pfn_b, done);
}
export function cpu_test_ad_clearer(cpu: i32, pte_pa: u64, npages: u32, walkers: u32, remap_every: u32, pfn_a: u32, pfn_b: u32, done: usize): i64 {
  if (!enter(cpu) || (done & 3) != 0) return -EINVAL;
  return test_ad_clearer(pte_pa, npages, walkers, remap_every, pfn_a, pfn_b, done);
}
export function cpu_test_page_alloc_exhaust(cpu: i32, highmem: bool, head_out: usize): i32 {
  return enter(cpu) ? test_page_alloc_exhaust(highmem, head_out) : -EINVAL;
}
export function cpu_test_page_alloc_release(cpu: i32, head: u32): i32 {
  return enter(cpu) ? test_page_alloc_release(head) : -EINVAL;
}
export function cpu_test_page_alloc_churn(cpu: i32, iters: u32, hold: u32, seed: u32): i32 {
  return enter(cpu) ? test_page_alloc_churn(iters, hold, seed) : -EINVAL;
}
/** A zeroed, unlinked vma [start, end) at pgoff for the tree tests (lib/test_rbtree.ts); 0 on failure. */
export function cpu_test_rb_vma_new(cpu: i32, start: u64, end: u64, pgoff: u32): usize {
  return enter(cpu) ? test_rb_vma_new(start, end, pgoff) : 0;
}
export function cpu_test_rb_vma_free(cpu: i32, vma: usize): i32 { return enter(cpu) ? test_rb_vma_free(vma) : -EINVAL; }

// ---- locks ----------------------------------------------------------------------------------------

/** Give lock class c a type, policy and flags (before CPUs run). -EINVAL for a bad combination. */
export function mm_lock_class_set(c: i32, type: u8, policy: u8, flags: u16): i32 {
  return lock_class_set(c, type, policy, flags);
}

/** Lock class c's configuration: type | policy << 8 | flags << 16, or -EINVAL for an unknown class. */
export function mm_lock_class_get(c: i32): i32 {
  if (c < 0 || c >= NR_LOCK_CLASSES) return -EINVAL;
  return <i32>lock_class_type(c) | (<i32>lock_class_policy(c) << 8) | (<i32>lock_class_flags(c) << 16);
}

/** The name of lock class c (a string in the instance's static data), or 0 for an unknown class. */
export function mm_lock_class_name(c: i32): usize {
  return c >= 0 && c < NR_LOCK_CLASSES ? changetype<usize>(lock_class_name(c)) : 0;
}

/** Make the MM_LOCK_SIZE bytes at lock a free lock of class c (flags: ML_STATS). */
export function mm_lock_init(lock: usize, c: i32, flags: u8): i32 {
  return lock_init(lock, c, flags);
}

/** Take lock in mode as CPU cpu (site "host"). */
export function cpu_lock_acquire(cpu: i32, lock: usize, mode: u32): i32 {
  if (!enter(cpu)) return -EINVAL;
  lock_acquire(lock, mode, "host");
  return 0;
}

export function cpu_lock_release(cpu: i32, lock: usize, mode: u32): i32 {
  if (!enter(cpu)) return -EINVAL;
  lock_release(lock, mode);
  return 0;
}

/**
 * cpu_test_lock_stat_time - test kernel: record duration d of lock class c in group (LS_WAIT or
 * LS_HOLD) on CPU cpu exactly as lock_acquire/lock_release do (lock_stat_time: count, total, min, max,
 * histogram bucket). Returns 0, or -EINVAL for a bad CPU, class or group.
 */
export function cpu_test_lock_stat_time(cpu: i32, c: i32, group: i32, d: u64): i32 {
  if (!enter(cpu) || c < 0 || c >= NR_LOCK_CLASSES || (group != LS_WAIT && group != LS_HOLD)) return -EINVAL;
  lock_stat_time(c, group, d);
  return 0;
}

/** Locks CPU cpu holds, as lockdep and lock_stat recorded them. */
export function cpu_lockdep_depth(cpu: i32): i32 {
  return enter(cpu) ? <i32>lockdep_depth() : -EINVAL;
}

export function cpu_bench_lock_uncontended(cpu: i32, lock: usize, mode: u32, iters: u32): i32 {
  if (!enter(cpu)) return -EINVAL;
  bench_lock_uncontended(lock, mode, iters);
  return 0;
}

export function cpu_bench_lock_pingpong(cpu: i32, lock: usize, turn: usize, parity: u32, iters: u32): i64 {
  if (!enter(cpu) || parity > 1 || (turn & 3) != 0) return -EINVAL;
  return <i64>bench_lock_pingpong(lock, turn, parity, iters);
}

export function cpu_torture_writer(cpu: i32, lock: usize, data: usize, iters: u32, hold: u32): i32 {
  if (!enter(cpu) || (data & 7) != 0) return -EINVAL;
  return <i32>torture_writer(lock, data, iters, hold);
}

export function cpu_torture_reader(cpu: i32, lock: usize, data: usize, iters: u32, hold: u32): i32 {
  if (!enter(cpu) || (data & 7) != 0) return -EINVAL;
  return <i32>torture_reader(lock, data, iters, hold);
}

// ---- virtual CPUs: the job table and the coroutine entry (kernel/vcpu.ts; every export of it) ----
export * from "./kernel/vcpu";
// The AIM9 brk_test / page_test jobs' shape and report layout (lib/aim9.ts), for the host (src/experiments/).
export { AIM9_GROW, AIM9_SHRINK, AIM9_STEP, AIM9_ITERS, AIM9_STEPS, AIM9_SBRK_PER_LOOP, AIM9_DIRTY_STRIDE, AIM9_OUT_SBRK,
  AIM9_OUT_OTHER_BRK, AIM9_OUT_BRK_START, AIM9_OUT_BRK_END, AIM9_OUT_WRITES, AIM9_OUT_SIZE } from "./lib/aim9";
// The will-it-scale jobs' report layout and default region (lib/will_it_scale.ts), for src/experiments/will-it-scale.ts.
export { WIS_OUT_ITERATIONS, WIS_OUT_SYSCALLS, WIS_OUT_FAULTS, WIS_OUT_TLB_FLUSHES, WIS_OUT_TLB_IPIS, WIS_OUT_BRK_START,
  WIS_OUT_BRK_END, WIS_OUT_CLOCK, WIS_OUT_SIZE, WIS_REGION_DEFAULT, WIS_REGION_MAX } from "./lib/will_it_scale";
// The rmap storm's walker and writer jobs' report layout (lib/rmap_storm.ts), for src/experiments/rmap-locks.ts.
export { RMAP_MIGRATE_EVERY, RMAP_OUT_OPS, RMAP_OUT_REFERENCED, RMAP_OUT_LOCKLESS, RMAP_OUT_MIGRATED, RMAP_OUT_SKIPPED,
  RMAP_OUT_FORKS, RMAP_OUT_EXITS, RMAP_OUT_MMAPS, RMAP_OUT_MUNMAPS, RMAP_OUT_CLOCK, RMAP_OUT_SIZE } from "./lib/rmap_storm";
// The fork server's and AIM7 fork_test's parameter word and report layout (lib/fork_server.ts), for src/experiments/fork-server.ts.
export { FS_TOUCH_SHIFT, FS_BUF_SHIFT, FS_HEAP_SHIFT, FS_SIZE_SEED_SHIFT, FS_SIZE_SEED_MAX, FS_MAX_BUF_PAGES, FS_OUT_OPS, FS_OUT_FORKS, FS_OUT_EXITS, FS_OUT_FAULTS,
  FS_OUT_STORES, FS_OUT_MMAPS, FS_OUT_MUNMAPS, FS_OUT_CLOCK, FS_OUT_SIZE } from "./lib/fork_server";
export { COST_LOAD_L1, COST_LOAD_LLC, COST_LOAD_MEM, COST_ATOMIC, COST_LINE_TRANSFER, COST_SPIN, COST_IPI_SEND,
  COST_IPI_DELIVER, COST_SLEEP, COST_WAKEUP, COST_WAKE_LATENCY, COST_CTX_SWITCH, COST_TICK, COST_WALK_LEVEL, COST_SYSCALL } from "./kernel/cost";

// ---- cost-model calibration kernels (lib/calibrate.ts; `mmemu calibrate`, src/cost/calibrate.ts) ----
// Measuring tools: they charge no virtual time. Each returns -EINVAL for a bad CPU id or alignment.
import { calib_mul_chain, calib_atomic_rmw, calib_chase, calib_cas_pingpong, calib_wait_pingpong, calib_clock } from "./lib/calibrate";

/** iters x 8 dependent multiplications x *= k (the host's clock); returns x (bit 63 cleared). */
export function cpu_calib_mul_chain(cpu: i32, x: u64, k: u64, iters: u32): i64 {
  if (!enter(cpu)) return -EINVAL;
  return <i64>(calib_mul_chain(x, k, iters) & 0x7fff_ffff_ffff_ffff);
}

/** iters x 4 uncontended locked adds on the u32 at word; returns the sum of the old values (31 bits). */
export function cpu_calib_atomic_rmw(cpu: i32, word: usize, iters: u32): i32 {
  if (!enter(cpu) || (word & 3) != 0) return -EINVAL;
  return <i32>(calib_atomic_rmw(word, iters) & 0x7fff_ffff);
}

/** iters x 8 dependent loads p = *(u32 *)p from start; returns where the chase stopped. */
export function cpu_calib_chase(cpu: i32, start: usize, iters: u32): i64 {
  if (!enter(cpu) || (start & 3) != 0) return -EINVAL;
  return <i64>calib_chase(start, iters);
}

/** One side of a compare-and-swap ping-pong on the u32 at word; returns its ns. */
export function cpu_calib_cas_pingpong(cpu: i32, word: usize, parity: u32, iters: u32): i64 {
  if (!enter(cpu) || parity > 1 || (word & 3) != 0) return -EINVAL;
  return calib_cas_pingpong(word, parity, iters);
}

/**
 * One side of a wait32/notify ping-pong on the u32 at word (8-aligned; the i64 at word + 64 is its time
 * stamp): notify ns, sleeps and wake-up latencies at out; returns its ns.
 */
export function cpu_calib_wait_pingpong(cpu: i32, word: usize, parity: u32, iters: u32, out: usize): i64 {
  if (!enter(cpu) || parity > 1 || (word & 7) != 0 || (out & 7) != 0) return -EINVAL;
  return calib_wait_pingpong(word, parity, iters, out);
}

/** iters empty brackets of two host clock reads; returns their total ns. */
export function cpu_calib_clock(cpu: i32, iters: u32): i64 {
  if (!enter(cpu)) return -EINVAL;
  return calib_clock(iters);
}

// ---- the MM core (assembly/abi/: reverse maps, address spaces and page tables, processes) ----
export * from "./abi/rmap";
export * from "./abi/mm";
export * from "./abi/process";
