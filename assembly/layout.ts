// The memory map of the emulated machine: every shared-memory offset is defined here and only here.
//
// One shared WebAssembly.Memory holds the whole machine. Everything below `__heap_base` belongs to
// each Wasm instance (static data, written again at every instantiation) and holds no shared state.
// The machine itself starts at MACHINE_BASE, the first 64 KiB boundary above __heap_base:
//
//   0 ............... __heap_base   per-instance static data (strings for messages); not shared state
//   base ............ +4 KiB        struct machine_header (below): sizes, region offsets, zones,
//                                    kernel heap, kmem caches, start barrier
//   percpu_base ..... +N x 20 KiB   struct percpu, one per CPU (registers, fault record, state,
//                                    shootdown mailbox, per-CPU page lists, counters, slab arrays, TLB,
//                                    lock statistics and their wait/hold histograms)
//   mem_map ......... +F x 32 B     struct page, one per frame (mm/mm_types.ts)
//   kheap_base ...... +kheap_size   kernel-object heap: slab pages for kmem caches (mm/slab.ts)
//   vstack_base ..... +N x 32 KiB   virtual machines only (MF_VIRTUAL): each CPU's Asyncify save area,
//                                    where its coroutine's stack is kept while it is switched out
//   frames_base ..... +B x 4 KiB    page frames with contents: physical address pa lives at
//                                    frames_base + pa for pa < B x 4 KiB
//   (end) ........................ total_size = the memory's byte length
//
// F frames of RAM exist (physical addresses 0 .. F x 4 KiB). The first B of them carry contents
// ("backed"); with frames carrying data B == F. In metadata-only mode B < F: frames B..F-1 have a
// struct page but no bytes, reads of them return zero and writes are dropped, and page tables and
// kernel pages are always allocated from the backed zone. Physical addresses at or above F x 4 KiB
// are outside RAM: the paging unit reports them as a bus fault, never reads or writes there.
//
// Each instance caches the read-only region offsets in Wasm globals (machine_attach); globals are
// per instance, and nothing that changes after machine_init is ever cached.
import { NR_CPUS, L1_CACHE_BYTES, PAGE_SIZE, PAGE_SHIFT, MAX_KMEM_CACHES, MAX_LOCK_CLASSES, MMEMU_ABI_VERSION } from "./config";
import { EINVAL, ENOMEM } from "./errno";

export const MACHINE_MAGIC: u32 = 0x4d4d454d; // "MEMM" little-endian
export const WASM_PAGE: u64 = 65536;
/** The largest memory a wasm32 module can address: 65536 Wasm pages. */
export const WASM_MAX_BYTES: u64 = 65536 * WASM_PAGE;

/** Zones (mm/page_alloc.ts). ZONE_NORMAL frames carry contents; ZONE_NODATA frames are metadata-only. */
export const ZONE_NORMAL: i32 = 0;
export const ZONE_NODATA: i32 = 1;
export const MAX_NR_ZONES: i32 = 2;

// ---------------------------------------------------------------------------------------------
// struct machine_header (HEADER_SIZE bytes at base). Fields grouped by what protects them.
//
//   +0    magic u32 | abi u32 | flags u32 | nr_cpus u32            read-only after machine_init
//   +16   nr_frames u32 | nr_backed u32 | maxphyaddr u32 | kheap_size u32
//   +32   base u32 | percpu_base u32 | mem_map u32 | kheap_base u32
//   +48   frames_base u32 | nr_kmem_caches u32 | total_size u64
//   +64.. see below; vstack_base u32 at +448
//   +64   zone[ZONE_NORMAL]  (64 B, own cache line)                 zone->lock
//   +128  zone[ZONE_NODATA]  (64 B)                                  zone->lock
//   +192  kheap: lock u32 | brk u32                                  kheap lock
//   +256  start barrier: count u32 | generation u32                  atomics only
//   +264  tasks: tasklist_lock u32 | first task u32 | (pad) u32 | nr_threads u32   tasklist_lock (pids: +468)
//         (kernel/task.ts; the list links are task_struct's tasks_next/tasks_prev)
//   +320  lockdep dependency matrix: MAX_LOCK_CLASSES u32 rows     atomics only (locking/lockdep.ts)
//   +452  mm_config u32: the MM's behaviour switches (MMC_* below)    set before CPUs run
//   +460  (free: init_mm's PML4 is the reserved frame 0, mm/pgtable.ts swapper_pgd)
//   +464  mm_next_id u32: last mm id handed out by mm_alloc (mm/mm_struct.ts)   atomics only
//   +468  next_pid u32: last pid handed out by task_alloc (kernel/task.ts)        atomics only
//   +512  kmem_cache[MAX_KMEM_CACHES] (64 B each)                    kmem_cache->lock
//   +1536 lock class table: MAX_LOCK_CLASSES x 16 B (locking/lock_types.ts)   set before CPUs run
// ---------------------------------------------------------------------------------------------
export const HDR_MAGIC: u32 = 0;
export const HDR_ABI: u32 = 4;
export const HDR_FLAGS: u32 = 8;
export const HDR_NR_CPUS: u32 = 12;
export const HDR_NR_FRAMES: u32 = 16;
export const HDR_NR_BACKED: u32 = 20;
export const HDR_MAXPHYADDR: u32 = 24;
export const HDR_KHEAP_SIZE: u32 = 28;
export const HDR_BASE: u32 = 32;
export const HDR_PERCPU_BASE: u32 = 36;
export const HDR_MEM_MAP: u32 = 40;
export const HDR_KHEAP_BASE: u32 = 44;
export const HDR_FRAMES_BASE: u32 = 48;
export const HDR_NR_KMEM_CACHES: u32 = 52;
export const HDR_TOTAL_SIZE: u32 = 56;
export const HDR_ZONES: u32 = 64;
export const ZONE_STRIDE: u32 = 64;
export const HDR_KHEAP_LOCK: u32 = 192;
export const HDR_KHEAP_BRK: u32 = 196;
export const HDR_BARRIER_COUNT: u32 = 256;
export const HDR_BARRIER_GEN: u32 = 260;
export const HDR_TASKLIST_LOCK: u32 = 264;
export const HDR_TASKS: u32 = 268;
export const HDR_NR_THREADS: u32 = 276;
export const HDR_LOCKDEP_DEPS: u32 = 320;
export const HDR_VSTACK_BASE: u32 = 448;
export const HDR_MM_CONFIG: u32 = 452;
export const HDR_MM_NEXT_ID: u32 = 464;
export const HDR_NEXT_PID: u32 = 468;
export const HDR_KMEM_CACHES: u32 = 512;
export const KMEM_CACHE_STRIDE: u32 = 64;
export const HDR_LOCK_CLASSES: u32 = 1536;
export const LOCK_CLASS_STRIDE: u32 = 16;
export const HEADER_SIZE: u32 = 4096;

/** Machine flags (HDR_FLAGS). */
export const MF_DEBUG: u32 = 1 << 0;   // built with MMEMU_DEBUG
export const MF_VIRTUAL: u32 = 1 << 1; // CPUs run in virtual time in one instance: has vstacks
export const MF_KNOWN: u32 = MF_DEBUG | MF_VIRTUAL;

// mm_config (HDR_MM_CONFIG): one word of MM behaviour switches, so an era or an experiment is a machine
// option, read by the code it affects (mm/mm_config.ts: mm_config / mm_config_has / mm_config_set). Set before
// CPUs run; never changed while an MM object exists (the two anon_vma designs do not mix).
//
//   31 ............ 5    4              3             2                 1              0
//  +-----------------+---------------+-------------+-------------------+--------------+-------------+
//  |  reserved (0)   | RMAP_WALK_EXCL| SPLIT_PTL   | VMA_ADJUST_ANON_  | RMAP_LOCKLESS| AV_2625     |
//  |                 |               |             | ALWAYS            |              |             |
//  +-----------------+---------------+-------------+-------------------+--------------+-------------+
//   AV_2625        the 2.6.25 anon_vma design: one anon_vma per fork family whose list holds the vmas
//                  themselves (vma->anon_vma_node); no anon_vma_chain. Clear: 2.6.34's anon_vma_chain
//                  with the root's lock serving the whole tree (mm/rmap.ts).
//   RMAP_LOCKLESS  seed 003's special case: rmap_walk_anon takes no anon_vma lock when the caller holds
//                  the page table lock of the vma it names, vma->anon_vma is its own root and the
//                  root's refcount is 1 (mm/rmap_walk.ts).
//   VMA_ADJUST_ANON_ALWAYS  2.6.31 and before: vma_adjust takes the anon_vma lock whenever the vma has
//                  an anon_vma. Clear: Lee Schermerhorn's 2009 change (2.6.32, "mmap: avoid unnecessary
//                  anon_vma lock acquisition in vma_adjust()"): a change of vm_end alone (brk growing the
//                  heap) skips it; inserting, importing from a neighbour or moving vm_start still takes it
//                  (mm/vma.ts).
//   SPLIT_PTL      split page-table locks (CONFIG_SPLIT_PTLOCK_CPUS): a PTE page's entries are guarded by
//                  its own lock (LOCK_CLASS_PTE_LOCK, in page->private) instead of mm->page_table_lock
//                  (mm/pgtable.ts). Read at each PTE-page allocation.
//   RMAP_WALK_EXCL rmap walks take an rwsem anon_vma lock exclusively (anon_vma_lock_read: MODE_WRITE),
//                  as between 3.8's two commits "mm/rmap: Convert the struct anon_vma::mutex to an
//                  rwsem" and "mm/rmap, migration: Make rmap_walk_anon() and try_to_unmap_anon() more
//                  scalable" (Ingo Molnar, Dec 2012): the rwsem's implementation with the mutex's
//                  exclusion. No effect with a spinlock or mutex class (their walks are exclusive).
// The host sets the word from the machine option `mm` (src/options.ts) right after machine_init.
export const MMC_AV_2625: u32 = 1 << 0;
export const MMC_RMAP_LOCKLESS: u32 = 1 << 1;
export const MMC_VMA_ADJUST_ANON_ALWAYS: u32 = 1 << 2;
export const MMC_SPLIT_PTL: u32 = 1 << 3;
export const MMC_RMAP_WALK_EXCL: u32 = 1 << 4;
export const MMC_KNOWN: u32 = MMC_AV_2625 | MMC_RMAP_LOCKLESS | MMC_VMA_ADJUST_ANON_ALWAYS | MMC_SPLIT_PTL | MMC_RMAP_WALK_EXCL;

/** Bytes of Asyncify save area per CPU in a virtual machine. */
export const VSTACK_SIZE: u32 = 32768;

// struct zone (ZONE_STRIDE bytes)
//   +0 free_list: struct freelist (lib/freelist.ts: lock | nr_free | first free pfn)
//   +12 start_pfn u32 | +16 end_pfn u32                        read-only after machine_init
export const ZONE_FREE_LIST: u32 = 0;
export const ZONE_START_PFN: u32 = 12;
export const ZONE_END_PFN: u32 = 16;

// ---------------------------------------------------------------------------------------------
// struct percpu (PERCPU_SIZE bytes each, 64-byte aligned sections). Everything in it is written
// only by its own CPU, except the mailbox (written by initiators under mailbox->lock) and, while the
// CPU is not running, its TLB (flushed by an initiator on its behalf under the same lock).
//
//   +0     registers: cr0 u64 | cr3 u64 | cr4 u64 | efer u64 | rflags u64 | cpl u32 | cpu u32
//   +48    paging mode u32: the register bits translation reads, in one word loaded once per
//          translation; recomputed from the registers by every register write (arch/x86/processor.ts):
//
//            31..29   28..17   16   15..11    10     9      8     7     6      5      4    3     2     1    0
//          +--------+--------+----+--------+-----+-------+------+----+------+------+-----+---+-------+----+---+
//          |   0    |  PCID  | PG |   0    | PGE | PCIDE | CPL3 | AC | SMAP | SMEP | NXE | 0 | SMAPD | WP | 0 |
//          +--------+--------+----+--------+-----+-------+------+----+------+------+-----+---+-------+----+---+
//          PG, WP: CR0. SMEP, SMAP, PGE, PCIDE: CR4. NXE: EFER. AC: RFLAGS. CPL3: the CPL is 3.
//          SMAPD: SMAP and not AC (a supervisor data access to a user page faults). PCID: CR3[11:0]
//          with PCIDE, else 0. WP, SMAPD, NXE and CPL3 sit at the bits of the access kinds they are
//          checked with (ACC_WRITE, ACC_USER, ACC_FETCH, ACC_IMPLICIT); with PG set, bits 16..28 are
//          (PCID << 1) | 1, the low bits of the TLB tags of the current PCID (arch/x86/tlb.ts).
//   +64    fault record: vector u32 | error_code u32 | cr2 u64 | addr u64 (bus fault: the pa)
//   +96    last translation: page shift u32 (12, 21 or 30) of the last successful translation
//   +128   state: activity u32 | arg u32 | arg2 u64          read by the host to report a stuck CPU
//   +144   scheduling (kernel/sched.ts): vclock u64 | wait_word u32 | wait_val u32 | wake_at u64
//          vclock: the CPU's virtual time in cycles (timed and explore modes); wait_word/wait_val: the
//          word a sleeping CPU waits to change from wait_val (0 = not sleeping); wake_at: earliest
//          virtual time a woken CPU runs again (set by its waker)
//   +192   shootdown mailbox (arch/x86/smp.ts), own cache line
//   +256   per-CPU page lists, one struct freelist per zone (mm/page_alloc.ts), 16 B apart
//   +320   counters: NR_CPU_STATS x u64 (percpu.ts names them)
//   +640   TLB replacement cursors: one byte per set
//   +768   per-CPU slab free lists: one struct freelist per kmem cache (mm/slab.ts), 16 B apart
//   +1024  job (kernel/vcpu.ts): id u32 | state u32 | args 6 x u64: what the CPU runs in virtual time
//   +1088  lock waiter (locking/): this CPU's entry on a sleeping lock's wait list, 64 B
//   +1152  lockdep (locking/lockdep.ts): held-lock stack, 256 B
//   +1408  task and TLB state (kernel/task.ts, arch/x86/mm/tlb.ts's cpu_tlbstate):
//          current u32 | loaded_mm u32 | tlbstate u32 (TLBSTATE_OK, TLBSTATE_LAZY) |
//          idle_active_mm u32 (the mm the idle state borrows, with an mm_count reference) |
//          loaded_mm_tlb_gen u64: the mm's tlb_gen this CPU's TLB is up to date with
//   +1792  TLB entries: 4 KiB set (TLB_4K_SETS x TLB_WAYS), then 2 MiB set, then 1 GiB set, 16 B each
//   +6464  lock statistics: MAX_LOCK_CLASSES x struct lock_class_stats (128 B; locking/lock_stat.ts)
//   +8512  struct mmu_gather (mm/mmu_gather.ts): this CPU's gather, MMU_GATHER_SIZE bytes (its
//          layout is in mmu_gather.ts; the kernel keeps it on the stack, the model keeps one per CPU)
//   +11584 MM-core per-CPU words (mm/pgtable.ts, arch/x86/mm_tlb.ts), only this CPU writes them:
//          +0 fail_page_alloc u32 (fault injection, mm/page_alloc.ts should_fail_alloc_page: 0 = off;
//          n > 0: n - 1 more alloc_page calls on this CPU succeed, then every one fails) | +4 pad |
//          +8 lazy_skipped u64 (shootdowns a lazy CPU was skipped from) |
//          +16 tlb flush statistics: NR_TLB_FLUSH_CAUSES x { flushes u64, ipis u64, pages u64, full u64 } |
//          +272 shootdown generations awaited: NR_CPUS x u32 (flush_tlb_mm_range's scratch)
//   +12288 lock-time histograms: MAX_LOCK_CLASSES x struct lock_class_hist (LOCK_HIST_SIZE = 512 B,
//          locking/lock_stat.ts), next to the lock statistics at +6464 and written by the same
//          lock_stat_time; only this CPU writes them, the host sums them over CPUs:
//
//            struct lock_class_hist (per class c, at +12288 + c x 512), u64 counts:
//            +0    wait[0] | wait[1] | ... | wait[31]    contended acquisitions by time waited
//            +256  hold[0] | hold[1] | ... | hold[31]    timed holds by time held
//
//          bucket i counts durations d (virtual cycles, or ns in the parallel build) with
//          floor(log2(max(d, 1))) == i, the last bucket also everything longer:
//            bucket 0: d in [0, 2)   bucket i (1..30): d in [2^i, 2^(i+1))   bucket 31: d >= 2^31
//   +20480 (end)
// ---------------------------------------------------------------------------------------------
export const PC_CR0: u32 = 0;
export const PC_CR3: u32 = 8;
export const PC_CR4: u32 = 16;
export const PC_EFER: u32 = 24;
export const PC_RFLAGS: u32 = 32;
export const PC_CPL: u32 = 40;
export const PC_CPU: u32 = 44;
export const PC_PAGING_MODE: u32 = 48;
export const PC_FAULT_VECTOR: u32 = 64;
export const PC_FAULT_ERROR: u32 = 68;
export const PC_FAULT_CR2: u32 = 72;
export const PC_FAULT_ADDR: u32 = 80;
export const PC_XLAT_SHIFT: u32 = 96;
export const PC_STATE: u32 = 128;
export const PC_STATE_ARG: u32 = 132;
export const PC_STATE_ARG2: u32 = 136;
export const PC_VCLOCK: u32 = 144;
export const PC_WAIT_WORD: u32 = 152;
export const PC_WAIT_VAL: u32 = 156;
export const PC_WAKE_AT: u32 = 160;
export const PC_MAILBOX: u32 = 192;
export const PC_PCP: u32 = 256;
export const PCP_STRIDE: u32 = 16;
export const PC_STATS: u32 = 320;
export const NR_CPU_STATS: u32 = 40;
export const PC_TLB_CURSOR: u32 = 640;
export const PC_SLAB_ARRAYS: u32 = 768;
export const SLAB_ARRAY_STRIDE: u32 = 16;
export const PC_JOB: u32 = 1024;
export const PC_JOB_STATE: u32 = 1028;
export const PC_JOB_ARGS: u32 = 1032;
export const NR_JOB_ARGS: u32 = 6;
export const PC_LOCK_WAITER: u32 = 1088;
export const LOCK_WAITER_SIZE: u32 = 64;
export const PC_LOCKDEP: u32 = 1152;
export const LOCKDEP_SIZE: u32 = 256;
export const PC_CURRENT: u32 = 1408;
export const PC_LOADED_MM: u32 = 1412;
export const PC_TLBSTATE: u32 = 1416;
export const PC_IDLE_ACTIVE_MM: u32 = 1420;
export const PC_LOADED_MM_TLB_GEN: u32 = 1424;
export const PC_TLB: u32 = 1792;

// TLB geometry (arch/x86/tlb.ts has the entry format).
export const TLB_WAYS: u32 = 4;
export const TLB_4K_SETS: u32 = 64;
export const TLB_2M_SETS: u32 = 8;
export const TLB_1G_SETS: u32 = 1;
export const TLB_ENTRY_SIZE: u32 = 16;
export const TLB_4K_OFF: u32 = PC_TLB;
export const TLB_2M_OFF: u32 = TLB_4K_OFF + TLB_4K_SETS * TLB_WAYS * TLB_ENTRY_SIZE;
export const TLB_1G_OFF: u32 = TLB_2M_OFF + TLB_2M_SETS * TLB_WAYS * TLB_ENTRY_SIZE;
export const TLB_END: u32 = TLB_1G_OFF + TLB_1G_SETS * TLB_WAYS * TLB_ENTRY_SIZE;
export const PC_LOCK_STAT: u32 = 6464;
export const LOCK_STAT_SIZE: u32 = 128;
export const PC_MMU_GATHER: u32 = 8512;
export const MMU_GATHER_SIZE: u32 = 3072;
export const PC_MM_CORE: u32 = 11584;
export const PC_FAIL_PAGE_ALLOC: u32 = PC_MM_CORE;
export const PC_TLB_LAZY_SKIPPED: u32 = PC_MM_CORE + 8;
export const PC_TLB_FLUSH_STATS: u32 = PC_MM_CORE + 16;
export const TLB_FLUSH_STAT_STRIDE: u32 = 32;
export const NR_TLB_FLUSH_CAUSES: u32 = 8;
export const PC_TLB_FLUSH_GENS: u32 = PC_TLB_FLUSH_STATS + NR_TLB_FLUSH_CAUSES * TLB_FLUSH_STAT_STRIDE;
export const PC_LOCK_HIST: u32 = 12288;
/** Log2 buckets per histogram (wait or hold) per class: bucket 31 is open-ended (>= 2^31). */
export const LOCK_HIST_BUCKETS: u32 = 32;
/** Bytes of one class's histograms: wait then hold, LOCK_HIST_BUCKETS u64 counts each. */
export const LOCK_HIST_SIZE: u32 = 2 * LOCK_HIST_BUCKETS * 8;
export const PERCPU_SIZE: u32 = 20480;

/** struct page size (mm/mm_types.ts). */
export const STRUCT_PAGE_SIZE: u32 = 32;

// ---------------------------------------------------------------------------------------------
// Per-instance cache of the read-only part of the header (Wasm globals are per instance).
// ---------------------------------------------------------------------------------------------
export let machine_base: usize = 0;
export let percpu_base: usize = 0;
export let mem_map: usize = 0;
export let frames_base: usize = 0;
export let kheap_base: usize = 0;
export let vstack_base: usize = 0;
export let nr_cpus: i32 = 0;
export let nr_frames: u32 = 0;
export let nr_backed: u32 = 0;
/** Physical addresses below this have contents (nr_backed x 4 KiB), as u64. */
export let backed_limit: u64 = 0;
/** Physical addresses below this are RAM (nr_frames x 4 KiB), as u64. */
export let ram_limit: u64 = 0;
export let maxphyaddr: i32 = 46;

/** The 64 KiB boundary at or above __heap_base where the machine starts. */
export function machine_base_for_heap(): u64 {
  return (<u64>__heap_base + WASM_PAGE - 1) & ~(WASM_PAGE - 1);
}

function align_up(x: u64, a: u64): u64 {
  return (x + a - 1) & ~(a - 1);
}

/**
 * machine_layout - compute the size of a machine without touching memory.
 * Takes the CPU count, frames of RAM, how many of them carry contents, the kernel heap size and the
 * machine flags (MF_*). Returns the total byte size the shared memory must have, or a negative errno:
 * -EINVAL for a CPU count outside 1..NR_CPUS, unknown flags, no RAM, more backed frames than frames
 * or a heap that is not whole pages; -ENOMEM when the machine does not fit in the 4 GiB a wasm32
 * memory can hold.
 */
export function machine_layout(cpus: i32, frames: u32, backed: u32, kheap_size: u32, flags: u32): i64 {
  if (cpus < 1 || cpus > NR_CPUS || (flags & ~MF_KNOWN) != 0) return -EINVAL;
  if (frames < 2 || backed < 2 || backed > frames) return -EINVAL;
  if ((kheap_size & (PAGE_SIZE - 1)) != 0) return -EINVAL;
  let at: u64 = machine_base_for_heap() + HEADER_SIZE;
  at += <u64>cpus * PERCPU_SIZE;
  at += <u64>frames * STRUCT_PAGE_SIZE;
  at = align_up(at, PAGE_SIZE);
  at += kheap_size;
  if ((flags & MF_VIRTUAL) != 0) at += <u64>cpus * VSTACK_SIZE;
  at += <u64>backed << PAGE_SHIFT;
  at = align_up(at, WASM_PAGE);
  if (at > WASM_MAX_BYTES) return -ENOMEM;
  return <i64>at;
}

/**
 * machine_init - lay the machine out in a fresh (zeroed) shared memory. Called once, by the host's
 * own instance, before any CPU runs; machine_attach then serves every other instance.
 * Returns 0 or the negative errno of machine_layout; -ENOMEM also when memory.size() is short.
 */
export function machine_init(cpus: i32, frames: u32, backed: u32, kheap_size: u32, maxphys: i32, flags: u32): i32 {
  const total = machine_layout(cpus, frames, backed, kheap_size, flags);
  if (total < 0) return <i32>total;
  if (maxphys < 36 || maxphys > 52) return -EINVAL;
  if ((<u64>frames << PAGE_SHIFT) > (<u64>1 << <u64>maxphys)) return -EINVAL;
  if (<u64>memory.size() * WASM_PAGE < <u64>total) return -ENOMEM;
  const base = <usize>machine_base_for_heap();
  const percpu = base + HEADER_SIZE;
  const map = percpu + <usize>cpus * PERCPU_SIZE;
  const kheap = <usize>align_up(<u64>map + <u64>frames * STRUCT_PAGE_SIZE, PAGE_SIZE);
  const vstacks = kheap + kheap_size;
  const frames_at = vstacks + ((flags & MF_VIRTUAL) != 0 ? <usize>cpus * VSTACK_SIZE : 0);
  store<u32>(base + HDR_ABI, MMEMU_ABI_VERSION);
  store<u32>(base + HDR_FLAGS, flags);
  store<u32>(base + HDR_NR_CPUS, cpus);
  store<u32>(base + HDR_NR_FRAMES, frames);
  store<u32>(base + HDR_NR_BACKED, backed);
  store<u32>(base + HDR_MAXPHYADDR, maxphys);
  store<u32>(base + HDR_KHEAP_SIZE, kheap_size);
  store<u32>(base + HDR_BASE, base);
  store<u32>(base + HDR_PERCPU_BASE, percpu);
  store<u32>(base + HDR_MEM_MAP, map);
  store<u32>(base + HDR_KHEAP_BASE, kheap);
  store<u32>(base + HDR_FRAMES_BASE, frames_at);
  store<u32>(base + HDR_VSTACK_BASE, (flags & MF_VIRTUAL) != 0 ? vstacks : 0);
  store<u64>(base + HDR_TOTAL_SIZE, <u64>total);
  store<u32>(base + HDR_KHEAP_BRK, kheap);
  for (let c = 0; c < cpus; c++) store<u32>(percpu + <usize>c * PERCPU_SIZE + PC_CPU, c);
  atomic.store<u32>(base + HDR_MAGIC, MACHINE_MAGIC); // last: publishes the header
  return 0;
}

/**
 * machine_attach - cache the header's read-only fields in this instance's globals.
 * Returns 0, or -EINVAL when no machine has been initialised in this memory (bad magic or ABI).
 */
export function machine_attach(): i32 {
  const base = <usize>machine_base_for_heap();
  if (atomic.load<u32>(base + HDR_MAGIC) != MACHINE_MAGIC) return -EINVAL;
  if (load<u32>(base + HDR_ABI) != MMEMU_ABI_VERSION) return -EINVAL;
  machine_base = base;
  percpu_base = load<u32>(base + HDR_PERCPU_BASE);
  mem_map = load<u32>(base + HDR_MEM_MAP);
  kheap_base = load<u32>(base + HDR_KHEAP_BASE);
  frames_base = load<u32>(base + HDR_FRAMES_BASE);
  vstack_base = load<u32>(base + HDR_VSTACK_BASE);
  nr_cpus = load<u32>(base + HDR_NR_CPUS);
  nr_frames = load<u32>(base + HDR_NR_FRAMES);
  nr_backed = load<u32>(base + HDR_NR_BACKED);
  maxphyaddr = load<u32>(base + HDR_MAXPHYADDR);
  backed_limit = <u64>nr_backed << PAGE_SHIFT;
  ram_limit = <u64>nr_frames << PAGE_SHIFT;
  return 0;
}

/** Address of CPU cpu's struct percpu. The caller checks 0 <= cpu < nr_cpus. */
// @ts-ignore: decorator
@inline export function per_cpu_ptr(cpu: i32): usize {
  return percpu_base + <usize>cpu * PERCPU_SIZE;
}

/** Address of zone z's struct zone. */
// @ts-ignore: decorator
@inline export function zone_ptr(z: i32): usize {
  return machine_base + HDR_ZONES + <usize>z * ZONE_STRIDE;
}

/** Address of kmem cache id's descriptor. */
// @ts-ignore: decorator
@inline export function kmem_cache_ptr(id: i32): usize {
  return machine_base + HDR_KMEM_CACHES + <usize>id * KMEM_CACHE_STRIDE;
}

// Compile-time checks of the per-CPU layout (a failed one is a build error, not a runtime cost).
if (!(PC_SLAB_ARRAYS + <u32>MAX_KMEM_CACHES * SLAB_ARRAY_STRIDE <= PC_JOB)) ERROR("percpu: slab arrays overlap the job");
if (!(PC_JOB_ARGS + NR_JOB_ARGS * 8 <= PC_LOCK_WAITER)) ERROR("percpu: job overlaps the lock waiter");
if (!(PC_LOCK_WAITER + LOCK_WAITER_SIZE <= PC_LOCKDEP)) ERROR("percpu: lock waiter overlaps lockdep");
if (!(PC_LOCKDEP + LOCKDEP_SIZE <= PC_TLB)) ERROR("percpu: lockdep overlaps the TLB");
if (!(PC_PAGING_MODE + 4 <= PC_FAULT_VECTOR)) ERROR("percpu: paging mode overlaps the fault record");
if (!(PC_WAKE_AT + 8 <= PC_MAILBOX)) ERROR("percpu: scheduling overlaps the mailbox");
if (!(TLB_END <= PC_LOCK_STAT)) ERROR("percpu: TLB overlaps the lock statistics");
if (!(PC_LOCKDEP + LOCKDEP_SIZE <= PC_CURRENT && PC_LOADED_MM_TLB_GEN + 8 <= PC_TLB)) ERROR("percpu: task state");
if (!(PC_LOCK_STAT + <u32>MAX_LOCK_CLASSES * LOCK_STAT_SIZE <= PC_MMU_GATHER)) ERROR("percpu: lock statistics overlap the gather");
if (!(PC_MMU_GATHER + MMU_GATHER_SIZE <= PC_MM_CORE)) ERROR("percpu: the mmu_gather overlaps the MM-core words");
if (!(PC_TLB_FLUSH_GENS + <u32>NR_CPUS * 4 <= PC_LOCK_HIST)) ERROR("percpu: the MM-core words overlap the lock histograms");
if (!(PC_LOCK_HIST + <u32>MAX_LOCK_CLASSES * LOCK_HIST_SIZE <= PERCPU_SIZE)) ERROR("percpu: the lock histograms do not fit");
if (!((PC_LOCK_HIST & 63) == 0 && (PERCPU_SIZE & 63) == 0)) ERROR("percpu: lock histograms not cache-line aligned");
if (!(HDR_LOCKDEP_DEPS + <u32>MAX_LOCK_CLASSES * 4 <= HDR_MM_CONFIG && HDR_NEXT_PID + 4 <= HDR_KMEM_CACHES)) ERROR("header: mm_config");
if (!(HDR_LOCK_CLASSES + <u32>MAX_LOCK_CLASSES * LOCK_CLASS_STRIDE <= HEADER_SIZE)) ERROR("header: lock classes do not fit");
if (!(HDR_LOCKDEP_DEPS + <u32>MAX_LOCK_CLASSES * 4 <= HDR_VSTACK_BASE)) ERROR("header: lockdep matrix does not fit");
if (!(PC_STATS + NR_CPU_STATS * 8 <= PC_TLB_CURSOR)) ERROR("percpu: counters overlap");
if (!(TLB_4K_SETS + TLB_2M_SETS + TLB_1G_SETS <= PC_SLAB_ARRAYS - PC_TLB_CURSOR)) ERROR("percpu: cursors");
if (!(HDR_KMEM_CACHES + <u32>MAX_KMEM_CACHES * KMEM_CACHE_STRIDE <= HEADER_SIZE)) ERROR("header too small");
if (!(L1_CACHE_BYTES == 64)) ERROR("layout assumes 64-byte lines");
