// The raw exports of the Wasm core (assembly/index.ts), typed. i64/u64 cross as bigint; u32 results
// that can exceed 2^31 arrive as negative numbers and are corrected with `>>> 0` by callers.

type G = WebAssembly.Global;

export interface CoreExports {
  memory: WebAssembly.Memory;
  // layout constants (globals)
  NR_CPUS: G; PAGE_SIZE: G; MMEMU_ABI_VERSION: G;
  HEADER_SIZE: G; PERCPU_SIZE: G; STRUCT_PAGE_SIZE: G;
  HDR_NR_CPUS: G; HDR_NR_FRAMES: G; HDR_NR_BACKED: G; HDR_MAXPHYADDR: G; HDR_PERCPU_BASE: G;
  HDR_MEM_MAP: G; HDR_KHEAP_BASE: G; HDR_KHEAP_SIZE: G; HDR_FRAMES_BASE: G; HDR_TOTAL_SIZE: G;
  HDR_FLAGS: G; HDR_VSTACK_BASE: G; MF_DEBUG: G; MF_VIRTUAL: G; VSTACK_SIZE: G;
  PC_VCLOCK: G; PC_WAIT_WORD: G; PC_WAIT_VAL: G; PC_WAKE_AT: G; PC_JOB: G; PC_JOB_STATE: G; PC_JOB_ARGS: G; NR_JOB_ARGS: G;
  SWITCH_PREEMPT: G; SWITCH_SPIN: G; SWITCH_SLEEP: G; NR_COSTS: G; CPU_SLEEPING: G;
  PC_CR0: G; PC_CR3: G; PC_CR4: G; PC_EFER: G; PC_RFLAGS: G; PC_CPL: G;
  PC_FAULT_VECTOR: G; PC_FAULT_ERROR: G; PC_FAULT_CR2: G; PC_FAULT_ADDR: G; PC_XLAT_SHIFT: G;
  PC_STATE: G; PC_STATE_ARG: G; PC_STATE_ARG2: G; PC_STATS: G; NR_CPU_STATS: G; NR_STATS_USED: G;
  CPU_IDLE: G; CPU_RUNNING: G; CPU_SPINNING: G; CPU_WAIT_ACK: G; CPU_BARRIER: G; CPU_WAIT_MAILBOX: G;
  RB_PARENT_COLOR: G; RB_RIGHT: G; RB_LEFT: G; RB_NODE_SIZE: G;
  VMA_MM: G; VMA_NEXT: G; VMA_PREV: G; VMA_RB: G; VMA_START: G; VMA_END: G; VMA_FLAGS: G; VMA_PGOFF: G;
  VMA_PAGE_PROT: G; VMA_FILE: G; VMA_ANON_VMA: G; VMA_ANON_VMA_CHAIN: G; VMA_SHARED_RB: G;
  VMA_SHARED_SUBTREE_LAST: G; VMA_SIZE: G;
  MM_MMAP: G; MM_RB: G; MM_MAP_COUNT: G; MM_MMAP_CACHE: G; MM_MMAP_BASE: G; MM_TASK_SIZE: G; MM_START_BRK: G;
  MM_BRK: G; MM_TOTAL_VM: G; MM_USERS: G; MM_COUNT: G; MM_PGD: G; MM_ID: G; MM_MMAP_SEM: G;
  MM_PAGE_TABLE_LOCK: G; MM_STRUCT_SIZE: G; AS_I_MMAP: G; AS_INO: G; KMEM_VM_AREA: G; KMEM_MM_STRUCT: G;
  PROT_READ: G; PROT_WRITE: G; PROT_EXEC: G; MAP_SHARED: G;
  MAP_PRIVATE: G; MAP_FIXED: G; MAP_ANONYMOUS: G; MADV_DONTNEED: G;
  PAGE_FLAGS: G; PAGE_REFCOUNT: G; PAGE_MAPCOUNT: G; PAGE_MAPPING: G; PAGE_INDEX: G; PAGE_PRIVATE: G;
  PG_buddy: G; PG_reserved: G; PAGE_GEN_SHIFT: G; PAGE_GEN_MASK: G;
  __GFP_ZERO: G; __GFP_HIGHMEM: G;
  FLUSH_RANGE: G; FLUSH_PCID: G; FLUSH_ALL: G; FLUSH_ALL_GLOBAL: G;
  BENCH_INDEPENDENT: G; BENCH_DEPENDENT: G; BENCH_SEQUENTIAL: G;
  [stat: `STAT_${string}`]: G;
  [lock: `LOCK_${string}` | `RWSEM_${string}` | `ML_${string}` | `MODE_${string}` | `LS_${string}` | `LD_${string}`]: G;
  MUTEX_OPT_SPIN: G; LC_TIMED: G; NR_LOCK_CLASSES: G; NR_LOCK_STATS: G; PC_LOCK_STAT: G; PC_LOCK_HIST: G; MM_LOCK_SIZE: G;
  [sched: `JOB_${string}` | `VJ_${string}` | `COST_${string}`]: G;
  PC_JOB_RESULT: G; NR_MM_CACHES: G;
  // the MM core's struct layouts (assembly/mm/mm_types.ts) and the task list in the header
  [mm: `MM_${string}` | `MMF_${string}` | `VMA_${string}` | `VM_${string}` | `AV_${string}` | `AVC_${string}` | `AS_${string}`
    | `TASK_${string}` | `KMEM_${string}` | `ANON_${string}` | `ADDRESS_${string}` | `RB_${string}` | `PF_${string}` | `PG_${string}` | `PAGE_${string}` | `HDR_${string}`]: G;

  // machine
  core_is_debug(): number;
  core_is_virtual(): number;
  sched_set_horizon(h: bigint): void;
  cost_set(id: number, cycles: number): number;
  machine_base_for_heap(): bigint;
  machine_layout(cpus: number, frames: number, backed: number, kheapSize: number, flags: number): bigint;
  machine_init(cpus: number, frames: number, backed: number, kheapSize: number, maxphys: number, flags: number): number;
  machine_attach(): number;

  // virtual CPUs (kernel/vcpu.ts; vcpu_entry and sched_enter_cpu drive coroutines in virtual builds only)
  vcpu_set_job(cpu: number, job: number, a0: bigint, a1: bigint, a2: bigint, a3: bigint, a4: bigint, a5: bigint): number;
  vcpu_entry(cpu: number): number;
  sched_enter_cpu(cpu: number): number;
  cpu_run_job(cpu: number): bigint;

  // CPUs
  cpu_percpu(cpu: number): number;
  cpu_reset_regs(cpu: number): number;
  cpu_write_cr0(cpu: number, v: bigint): number;
  cpu_write_cr3(cpu: number, v: bigint): number;
  cpu_write_cr4(cpu: number, v: bigint): number;
  cpu_write_efer(cpu: number, v: bigint): number;
  cpu_write_rflags(cpu: number, v: bigint): number;
  cpu_set_cpl(cpu: number, cpl: number): number;
  cpu_translate(cpu: number, va: bigint, access: number): bigint;
  cpu_walk(cpu: number, va: bigint, access: number): bigint;
  cpu_invlpg(cpu: number, va: bigint): number;
  cpu_invpcid(cpu: number, type: number, pcid: number, va: bigint): number;
  cpu_tlb_count_valid(cpu: number): number;
  cpu_tlb_post(cpu: number, target: number, kind: number, pcid: number, start: bigint, nrPages: number): bigint;
  cpu_tlb_wait(cpu: number, target: number, gen: number): number;
  cpu_do_pending_ipis(cpu: number): number;
  cpu_running(cpu: number, running: number): number;
  cpu_barrier_wait(cpu: number, parties: number): number;

  // memory
  cpu_alloc_page(cpu: number, gfp: number): number;
  cpu_put_page(cpu: number, pfn: number): number;
  cpu_get_page(cpu: number, pfn: number): number;
  cpu_drain_all_pages(cpu: number): number;
  mm_nr_free_pages(): number;
  cpu_kmem_cache_create(cpu: number, size: number): number;
  cpu_kmem_cache_alloc(cpu: number, cache: number, gfp: number): number;
  cpu_kmem_cache_free(cpu: number, cache: number, obj: number): number;
  kmem_cache_object_size(cache: number): number;
  kmem_cache_nr_objs(cache: number): number;
  kmem_cache_nr_free(cache: number): number;

  // locks
  mm_lock_class_set(c: number, type: number, policy: number, flags: number): number;
  mm_lock_class_name(c: number): number;
  mm_lock_class_get(c: number): number;
  mm_lock_init(lock: number, c: number, flags: number): number;
  cpu_lock_acquire(cpu: number, lock: number, mode: number): number;
  cpu_lock_release(cpu: number, lock: number, mode: number): number;
  cpu_lockdep_depth(cpu: number): number;
  cpu_test_lock_stat_time(cpu: number, c: number, group: number, d: bigint): number;
  cpu_bench_lock_uncontended(cpu: number, lock: number, mode: number, iters: number): number;
  cpu_bench_lock_pingpong(cpu: number, lock: number, turn: number, parity: number, iters: number): bigint;
  cpu_torture_writer(cpu: number, lock: number, data: number, iters: number, hold: number): number;
  cpu_torture_reader(cpu: number, lock: number, data: number, iters: number, hold: number): number;

  // kernels
  cpu_bench_translate(cpu: number, vaBase: bigint, spanPages: number, iters: number, seed: number, order: number, tlb: number): bigint;
  cpu_test_ad_walker(cpu: number, vaBase: bigint, npages: number, iters: number, seed: number, pfnA: number, pfnB: number, done: number): bigint;
  cpu_test_ad_clearer(cpu: number, ptePa: bigint, npages: number, walkers: number, remapEvery: number, pfnA: number, pfnB: number, done: number): bigint;
  cpu_test_page_alloc_exhaust(cpu: number, highmem: number, headOut: number): number;
  cpu_test_page_alloc_release(cpu: number, head: number): number;
  cpu_test_page_alloc_churn(cpu: number, iters: number, hold: number, seed: number): number;

  // the MM core's page-table side (assembly/lib/test_memory.ts): TLB shootdown, mmu_gather, faults,
  // fork's copy, unmap, mprotect, mmu notifiers; test scaffolding (mm and vma objects built directly)
  [mmb: `MN_${string}` | `MNF_${string}` | `TLB_CAUSE_${string}` | `TFS_${string}` | `TLBSTATE_${string}`
    | `VM_FAULT_${string}` | `FAULT_FLAG_${string}`]: G;
  MMU_NOTIFIER_SIZE: G; NR_TLB_CAUSES: G; MM_CPUMASK: G; MM_TLB_GEN: G; MM_NOTIFIERS: G;
  PC_MMU_GATHER: G; PC_LOADED_MM: G; PC_TLBSTATE: G;
  cpu_switch_mm(cpu: number, next: number): number;
  cpu_enter_lazy_tlb(cpu: number, mm: number): number;
  cpu_leave_mm(cpu: number): number;
  cpu_flush_tlb_mm_range(cpu: number, mm: number, start: bigint, end: bigint, freedTables: number, cause: number): number;
  mm_tlb_flush_stat(cpu: number, cause: number, field: number): bigint;
  cpu_mmu_gather(cpu: number): number;
  cpu_pt_mm_create(cpu: number, pcid: number): number;
  cpu_pt_vma_create(cpu: number, mm: number, start: bigint, end: bigint, flags: number, prot: bigint, file: number): number;
  cpu_test_map_pages(cpu: number, mm: number, start: bigint, n: number, prot: bigint): number;
  mm_test_pte(mm: number, addr: bigint): bigint;
  mm_test_pte_lock(mm: number, addr: bigint): number;
  cpu_test_unmap_pages(cpu: number, mm: number, start: bigint, n: number, freeTables: number): number;
  cpu_test_stale_watch(cpu: number, va: bigint, pfn: number, ready: number, done: number): bigint;
  cpu_test_unmap_when_ready(cpu: number, mm: number, start: bigint, n: number, ready: number, done: number): number;
  cpu_mmu_notifier_register(cpu: number, mm: number): number;
  mm_mmu_notifier_check(mm: number): number;
  cpu_mmu_notifier_release(cpu: number, mm: number): number;
  cpu_mmu_notifier_range(cpu: number, mm: number, start: bigint, end: bigint, which: number): number;
  cpu_change_protection(cpu: number, vma: number, start: bigint, end: bigint, newprot: bigint, cpFlags: number): bigint;
  cpu_fail_page_alloc(cpu: number, n: number): number;
  cpu_handle_mm_fault(cpu: number, mm: number, vma: number, addr: bigint, flags: number): number;
  cpu_test_user_access(cpu: number, mm: number, addr: bigint, write: number): bigint;
  cpu_copy_page_range(cpu: number, dstMm: number, srcMm: number, vma: number): number;
  cpu_zap_page_range(cpu: number, vma: number, start: bigint, size: bigint): number;
  cpu_test_exit_mmap(cpu: number, mm: number): number;
  cpu_test_fault_range(cpu: number, mm: number, start: bigint, n: number, seed: number): number;
  // reverse maps (mm/rmap.ts, rmap_walk.ts, filemap.ts, swapops.ts, migrate.ts; lib/test_rmap.ts)
  [rmap: `MMC_${string}` | `TTU_${string}` | `RMAP_${string}`]: G;
  // AIM9 jobs (lib/aim9.ts): loop shape and the job's report layout
  [aim9: `AIM9_${string}`]: G;
  // fork-server and AIM7 fork_test jobs (lib/fork_server.ts): parameter word and report layout
  [forkServer: `FS_${string}`]: G;
  // will-it-scale jobs (lib/will_it_scale.ts): the job's report layout, default and largest region
  [wis: `WIS_${string}`]: G;
  mm_config_get(): number;
  mm_config_write(word: number): number;
  cpu_anon_vma_prepare(cpu: number, vma: number): number;
  cpu_anon_vma_clone(cpu: number, dst: number, src: number): number;
  cpu_anon_vma_fork(cpu: number, vma: number, pvma: number): number;
  cpu_unlink_anon_vmas(cpu: number, vma: number): number;
  cpu_get_anon_vma(cpu: number, av: number): number;
  cpu_put_anon_vma(cpu: number, av: number): number;
  rmap_vma_address(pfn: number, vma: number): bigint;
  cpu_page_add_new_anon_rmap(cpu: number, pfn: number, vma: number, addr: bigint): number;
  cpu_page_add_anon_rmap(cpu: number, pfn: number, vma: number, addr: bigint): number;
  cpu_page_add_file_rmap(cpu: number, pfn: number): number;
  cpu_page_dup_rmap(cpu: number, pfn: number): number;
  cpu_page_remove_rmap(cpu: number, pfn: number): number;
  cpu_test_mm_create(cpu: number, pcid: number): number;
  cpu_test_vma_create(cpu: number, mm: number, start: bigint, end: bigint, flags: number, file: number, pgoff: number): number;
  test_rmap_pte_read(mm: number, addr: bigint): bigint;
  test_rmap_anon_pattern(seed: number, i: number): number;
  cpu_test_fault_anon(cpu: number, vma: number, addr: bigint, seed: number): number;
  cpu_test_map_file_page(cpu: number, vma: number, addr: bigint, pfn: number): number;
  cpu_test_fork_vma(cpu: number, childMm: number, pvma: number): number;
  cpu_test_split_vma(cpu: number, vma: number, addr: bigint): number;
  cpu_test_unmap_vma(cpu: number, vma: number): number;
  cpu_test_vma_link_file(cpu: number, vma: number): number;
  cpu_test_page_referenced_ptl(cpu: number, pfn: number, vma: number): number;
  PAGE_CACHE_SLOTS: G;
  cpu_page_referenced(cpu: number, pfn: number): number;
  cpu_try_to_unmap(cpu: number, pfn: number, flags: number): number;
  cpu_try_to_unmap_ptl(cpu: number, pfn: number, flags: number, vma: number): number;
  cpu_page_mkclean(cpu: number, pfn: number): number;
  cpu_address_space_create(cpu: number, sizePages: number): number;
  cpu_find_get_page(cpu: number, mapping: number, index: number): number;
  cpu_add_to_page_cache(cpu: number, pfn: number, mapping: number, index: number): number;
  cpu_delete_from_page_cache(cpu: number, pfn: number): number;
  cpu_filemap_fault(cpu: number, vma: number, pgoff: number): number;
  rmap_filemap_pattern(ino: number, index: number, i: number): number;
  cpu_lock_page(cpu: number, pfn: number): number;
  cpu_trylock_page(cpu: number, pfn: number): number;
  cpu_unlock_page(cpu: number, pfn: number): number;
  swp_make_migration_entry(pfn: number, write: number): bigint;
  swp_make_migration_entry_read(pte: bigint): bigint;
  swp_is_swap_pte(pte: bigint): number;
  swp_is_migration_entry(pte: bigint): number;
  swp_is_write_migration_entry(pte: bigint): number;
  swp_migration_entry_to_pfn(pte: bigint): number;
  cpu_migrate_page(cpu: number, pfn: number): number;
  cpu_migration_entry_wait(cpu: number, mm: number, addr: bigint): number;
  cpu_test_rmap_fork_churn(cpu: number, pvma: number, childMm: number, iters: number): number;
  cpu_test_rmap_walk_loop(cpu: number, pfn: number, ptep: number, hi: number, iters: number): number;
  cpu_test_pte_alloc(cpu: number, mm: number, addr: bigint): number;
  // trees (lib/rbtree.ts, lib/interval_tree.ts, lib/test_rbtree.ts)
  cpu_test_rb_vma_new(cpu: number, start: bigint, end: bigint, pgoff: number): number;
  cpu_test_rb_vma_free(cpu: number, vma: number): number;
  test_rb_insert(root: number, vma: number): number;
  test_rb_erase(root: number, vma: number): number;
  test_it_insert(root: number, vma: number): number;
  test_it_remove(root: number, vma: number): number;
  rb_first(root: number): number;
  rb_last(root: number): number;
  rb_next(node: number): number;
  rb_prev(node: number): number;
  rb_parent(node: number): number;
  vma_interval_tree_iter_first(root: number, first: bigint, last: bigint): number;
  vma_interval_tree_iter_next(vma: number, first: bigint, last: bigint): number;

  // address spaces (mm/mm_struct.ts, mm/vma.ts, mm/mmap.ts, mm/mprotect_vma.ts, mm/madvise.ts)
  cpu_mm_alloc(cpu: number): number;
  cpu_mmput(cpu: number, mm: number): number;
  cpu_mmget(cpu: number, mm: number): number;
  cpu_mmdrop(cpu: number, mm: number): number;
  cpu_mm_setup_brk(cpu: number, mm: number, addr: bigint): number;
  // processes (kernel/syscalls.ts): each cpu_sys_* runs on cpu as the task with pid
  START_BRK: G;
  cpu_get_task_mm(cpu: number, pid: number): number;
  cpu_kthread_use_mm(cpu: number, kpid: number, pid: number): bigint;
  cpu_kthread_unuse_mm(cpu: number, kpid: number): number;
  cpu_spawn(cpu: number): number;
  cpu_sys_fork(cpu: number, pid: number, cloneFlags: number): number;
  cpu_sys_exit(cpu: number, pid: number, code: number): number;
  cpu_sys_mmap(cpu: number, pid: number, addr: bigint, len: bigint, prot: number, flags: number, file: number, pgoff: number): bigint;
  cpu_sys_munmap(cpu: number, pid: number, addr: bigint, len: bigint): number;
  cpu_sys_mprotect(cpu: number, pid: number, addr: bigint, len: bigint, prot: number): number;
  cpu_sys_brk(cpu: number, pid: number, brk: bigint): bigint;
  cpu_sys_madvise(cpu: number, pid: number, addr: bigint, len: bigint, advice: number): number;
  cpu_sys_access(cpu: number, pid: number, va: bigint, access: number, value: number): bigint;
  task_mm_of(pid: number): number;
  cpu_current_pid(cpu: number): number;
  cpu_idle(cpu: number): number;
  cpu_kthread_create(cpu: number): number;
  cpu_task_run(cpu: number, pid: number): number;
  task_active_mm_of(pid: number): number;
  cpu_sys_mmu_notifier_register(cpu: number, pid: number): bigint;
  PAGEOP_PFN: G; PAGEOP_REFERENCED: G; PAGEOP_UNMAP: G; PAGEOP_MIGRATE: G; PAGEOP_MKCLEAN: G;
  cpu_page_op(cpu: number, pid: number, va: bigint, op: number): bigint;
  _PAGE_PROTNONE: G;
  cpu_bench_brk1(cpu: number, pid: number, pages: number, iters: number): bigint;
  cpu_bench_make_vmas(cpu: number, pid: number, v: number, touch: number): bigint;
  cpu_bench_page_fault1(cpu: number, pid: number, pages: number, iters: number): bigint;
  cpu_bench_touch(cpu: number, pid: number, pages: number): bigint;
  cpu_bench_fork_exit(cpu: number, pid: number, iters: number): bigint;
  cpu_bench_munmap(cpu: number, pid: number, addr: bigint, pages: number): bigint;
  cpu_bench_fork_n(cpu: number, pid: number, n: number): bigint;
  cpu_bench_follow_pfn(cpu: number, pid: number, va: bigint): bigint;
  cpu_bench_rmap_walk(cpu: number, pfn: number, iters: number): bigint;
  cpu_mmap(cpu: number, mm: number, addr: bigint, len: bigint, prot: number, flags: number, file: number, pgoff: number): bigint;
  cpu_munmap(cpu: number, mm: number, addr: bigint, len: bigint): number;
  cpu_brk(cpu: number, mm: number, brk: bigint): bigint;
  cpu_mprotect(cpu: number, mm: number, start: bigint, len: bigint, prot: number): number;
  cpu_madvise(cpu: number, mm: number, start: bigint, len: bigint, behavior: number): number;
  cpu_find_vma(cpu: number, mm: number, addr: bigint): number;
  cpu_dup_mm(cpu: number, oldmm: number): number;
  cpu_task_alloc(cpu: number, mm: number): number;
  cpu_task_fork(cpu: number, parent: number, cloneFlags: number): number;
  cpu_context_switch(cpu: number, next: number): number;
  cpu_task_exit(cpu: number, task: number, code: number): number;
  cpu_current_task(cpu: number): number;
  CLONE_VM: G; TASK_PID: G; TASK_TGID: G; TASK_MM: G; TASK_ACTIVE_MM: G; TASK_STATE: G; TASK_ON_CPU: G;
  cpu_test_vma_merge(cpu: number, mm: number, prev: number, addr: bigint, end: bigint, flags: number, av: number, file: number, pgoff: number): number;
  cpu_test_vma_split(cpu: number, mm: number, vma: number, addr: bigint, newBelow: number): number;
  cpu_test_vma_adjust(cpu: number, mm: number, vma: number, start: bigint, end: bigint, pgoff: number): number;

  // cost-model calibration kernels (assembly/lib/calibrate.ts; src/cost/calibrate.ts)
  cpu_calib_mul_chain(cpu: number, x: bigint, k: bigint, iters: number): bigint;
  cpu_calib_atomic_rmw(cpu: number, word: number, iters: number): number;
  cpu_calib_chase(cpu: number, start: number, iters: number): bigint;
  cpu_calib_cas_pingpong(cpu: number, word: number, parity: number, iters: number): bigint;
  cpu_calib_wait_pingpong(cpu: number, word: number, parity: number, iters: number, out: number): bigint;
  cpu_calib_clock(cpu: number, iters: number): bigint;
}

/** The exports Binaryen's Asyncify pass adds to the virtual builds (src/sched/). */
export interface AsyncifyExports {
  asyncify_start_unwind(data: number): void;
  asyncify_stop_unwind(): void;
  asyncify_start_rewind(data: number): void;
  asyncify_stop_rewind(): void;
  /** 0 normal, 1 unwinding, 2 rewinding. */
  asyncify_get_state(): number;
}

/** Names of core exports a worker may be asked to run (functions only). */
export type CoreFunction = {
  [K in keyof CoreExports]: CoreExports[K] extends (...args: never[]) => unknown ? K : never;
}[keyof CoreExports];

/** The value of an exported constant global as a number. */
export function constant(exports: CoreExports, name: keyof CoreExports): number {
  const g = exports[name] as unknown as WebAssembly.Global | undefined;
  if (!g || typeof g !== "object" || !("value" in g)) throw new Error(`core export ${String(name)} is not a global`);
  return Number(g.value);
}
