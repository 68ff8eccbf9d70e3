// struct page: one per frame of RAM, in the mem_map array (layout.ts), after include/linux/mm_types.h.
//
//  struct page (32 bytes)
//   +0   flags      u32  PG_* below, PAGE_GEN in the high bits  atomics (set_bit/clear_bit style)
//   +4   _refcount  i32  references; 0 = free                atomics
//   +8   _mapcount  i32  page-table mappings - 1 (-1 = none) atomics
//   +12  mapping    u32  address_space, or anon_vma | PAGE_MAPPING_ANON   page lock / rmap locks
//   +16  index      u32  page offset in the mapping (pgoff)                page lock / rmap locks
//   +20  lru_next   u32  pfn of the next page on its list (PFN_NIL ends)    the list's lock
//   +24  lru_prev   u32  pfn of the previous page                          the list's lock
//   +28  private    u32  owner's use: page-table pages keep their split lock here
//
// A free page (on a zone or per-CPU list) has PG_buddy set, _refcount 0, _mapcount -1, mapping 0.
//
//  flags (u32)
//   31 .............. 20 19 ........ 12 11 ............... 0
//  +--------------------+--------------+-------------------+
//  |      PAGE_GEN      |      0       |   PG_* (below)    |
//  +--------------------+--------------+-------------------+
//  PAGE_GEN: the frame's allocation generation, debug builds only (always 0 in the release build).
//  alloc_page adds PAGE_GEN_ONE (an atomic add, modulo 4096) each time it hands the frame out, and the
//  free path keeps it. The stale-TLB detector (arch/x86/tlb_check.ts) compares it with the generation
//  a TLB entry recorded when it was filled. Whoever rewrites flags whole must keep these bits.
import { mem_map, nr_frames, STRUCT_PAGE_SIZE } from "../layout";

export const PAGE_FLAGS: usize = 0;
export const PAGE_REFCOUNT: usize = 4;
export const PAGE_MAPCOUNT: usize = 8;
export const PAGE_MAPPING: usize = 12;
export const PAGE_INDEX: usize = 16;
export const PAGE_LRU_NEXT: usize = 20;
export const PAGE_LRU_PREV: usize = 24;
export const PAGE_PRIVATE: usize = 28;

/**
 * page->mapping's low bit: set, the rest is an anon_vma (mm/rmap.ts); clear, an address_space
 * (include/linux/page-flags.h PAGE_MAPPING_ANON). Objects are 8-aligned, so the bit is free.
 */
export const PAGE_MAPPING_ANON: u32 = 1;

/** End of a pfn list. */
export const PFN_NIL: u32 = 0xffffffff;

// Page flags (include/linux/page-flags.h names).
export const PG_locked: u32 = 1 << 0;
export const PG_referenced: u32 = 1 << 1;
export const PG_dirty: u32 = 1 << 2;
export const PG_lru: u32 = 1 << 3;
export const PG_reserved: u32 = 1 << 4;
export const PG_buddy: u32 = 1 << 5;   // free, owned by the page allocator (PageBuddy)
export const PG_slab: u32 = 1 << 6;
export const PG_pgtable: u32 = 1 << 7; // a page-table page (PageTable)
export const PG_anon: u32 = 1 << 8;
export const PG_swapbacked: u32 = 1 << 9;
export const PG_writeback: u32 = 1 << 10;
export const PG_nodata: u32 = 1 << 11; // metadata-only frame: no contents behind it
export const PG_waiters: u32 = 1 << 12; // someone sleeps on PG_locked (4.10): unlock_page wakes them

// The allocation generation in flags (debug builds; see the diagram above).
export const PAGE_GEN_SHIFT: u32 = 20;
export const PAGE_GEN_ONE: u32 = 1 << PAGE_GEN_SHIFT;
export const PAGE_GEN_MASK: u32 = 0xfff << PAGE_GEN_SHIFT;

/** page_gen - the allocation generation of page (0..4095; always 0 in the release build). */
// @ts-ignore: decorator
@inline export function page_gen(page: usize): u32 {
  return atomic.load<u32>(page + PAGE_FLAGS) >> PAGE_GEN_SHIFT;
}

// @ts-ignore: decorator
@inline export function pfn_to_page(pfn: u32): usize {
  return mem_map + <usize>pfn * STRUCT_PAGE_SIZE;
}

// @ts-ignore: decorator
@inline export function page_to_pfn(page: usize): u32 {
  return <u32>((page - mem_map) / STRUCT_PAGE_SIZE);
}

// @ts-ignore: decorator
@inline export function pfn_valid(pfn: u32): bool {
  return pfn < nr_frames;
}

// @ts-ignore: decorator
@inline export function page_ref_count(page: usize): i32 {
  return atomic.load<i32>(page + PAGE_REFCOUNT);
}

// @ts-ignore: decorator
@inline export function page_mapcount(page: usize): i32 {
  return atomic.load<i32>(page + PAGE_MAPCOUNT) + 1;
}

// @ts-ignore: decorator
@inline export function page_flags(page: usize): u32 {
  return atomic.load<u32>(page + PAGE_FLAGS);
}

// @ts-ignore: decorator
@inline export function set_page_flag(page: usize, f: u32): void {
  atomic.or<u32>(page + PAGE_FLAGS, f);
}

// @ts-ignore: decorator
@inline export function clear_page_flag(page: usize, f: u32): void {
  atomic.and<u32>(page + PAGE_FLAGS, ~f);
}

// ===================================================================================================
// The MM core's objects (include/linux/mm_types.h, rmap.h, fs.h, sched.h). Each lives in a kmem cache
// of its own (KMEM_* below, created by mm_caches_init at machine_init, so the ids are fixed). Pointers
// are byte addresses in the shared memory (u32, 0 = NULL); virtual addresses are u64. Fields are
// grouped by the lock that protects them. Offsets are defined here and only here.
// ===================================================================================================

/** Fixed kmem cache ids of the MM's objects (created in this order by mm_caches_init). */
export const KMEM_MM_STRUCT: i32 = 0;
export const KMEM_VM_AREA: i32 = 1;
export const KMEM_ANON_VMA: i32 = 2;
export const KMEM_ANON_VMA_CHAIN: i32 = 3;
export const KMEM_ADDRESS_SPACE: i32 = 4;
export const KMEM_TASK_STRUCT: i32 = 5;
export const KMEM_PTLOCK: i32 = 6;        // split page-table locks: one struct mm_lock per PTE page (mm/pgtable.ts)
export const KMEM_MMU_NOTIFIER: i32 = 7;  // struct mmu_notifier (mm/mmu_notifier.ts)
export const NR_MM_CACHES: i32 = 8;

// struct rb_node (lib/rbtree.ts), embedded in the objects kept in red-black trees (12 bytes):
//   +0 __rb_parent_color u32 (parent pointer | colour in bit 0: 0 red, 1 black) | +4 rb_right | +8 rb_left
export const RB_PARENT_COLOR: usize = 0;
export const RB_RIGHT: usize = 4;
export const RB_LEFT: usize = 8;
export const RB_NODE_SIZE: usize = 12;

// struct mm_struct (MM_STRUCT_SIZE bytes, kmem cache KMEM_MM_STRUCT)
//
//   +0    mmap_sem         struct mm_lock (64 B), class mmap_sem
//   +64   page_table_lock  struct mm_lock (64 B), class page_table_lock: the page tables (when PTE
//                          locks are not split), the RSS counters' slow path, anon_vma_prepare
//   -- under mmap_sem (written with it held for write, read with it held either way) --
//   +128  mmap       u32   first vma of the sorted list (vm_next links)
//   +132  mm_rb      u32   root of the vma red-black tree (by vm_start)
//   +136  map_count  u32   number of vmas
//   +140  mmap_cache u32   last vma find_vma returned (a hint: read racily, validated before use)
//   +144  mmap_base  u64   top of the top-down mmap area (below the stack gap)
//   +152  task_size  u64   end of the user address space (TASK_SIZE: 0x7fff_ffff_f000)
//   +160  start_brk  u64   +168 brk u64: the heap
//   +176  total_vm   u64   pages mapped
//   +184  notifiers  u32   first struct mmu_notifier registered (mm/mmu_notifier.ts)
//   +188  flags      u32   MMF_* below
//   -- atomics --
//   +192  mm_users   i32   users of the address space (threads, get_task_mm); 0 -> exit_mmap
//   +196  mm_count   i32   references to the struct itself (mm_users > 0 counts as one); 0 -> free
//   +200  rss[4]     i32   MM_FILEPAGES, MM_ANONPAGES, MM_SWAPENTS, MM_PGTABLES (pages)
//   +216  cpumask    u64   CPUs that have this mm loaded (mm_cpumask; set by switch_mm, cleared by
//                          leave_mm and the lazy-TLB flush path)
//   +224  tlb_gen    u64   generation of the last flush requested on this mm (arch/x86/mm/tlb.c)
//   -- read-only after mm_alloc --
//   +232  pgd        u32   pfn of the PML4 page
//   +236  pcid       u32   the PCID this mm runs under (1..4095; 0 for init_mm)
//   +240  id         u32   a number for reports (the pid of the process that created it)
//   -- mmlist_lock --
//   +244  mmlist_next u32 | +248 mmlist_prev u32   the swapoff list (swap arrives later; kept for the lock class)
//   +252  (pad)
export const MM_MMAP_SEM: usize = 0;
export const MM_PAGE_TABLE_LOCK: usize = 64;
export const MM_MMAP: usize = 128;
export const MM_RB: usize = 132;
export const MM_MAP_COUNT: usize = 136;
export const MM_MMAP_CACHE: usize = 140;
export const MM_MMAP_BASE: usize = 144;
export const MM_TASK_SIZE: usize = 152;
export const MM_START_BRK: usize = 160;
export const MM_BRK: usize = 168;
export const MM_TOTAL_VM: usize = 176;
export const MM_NOTIFIERS: usize = 184;
export const MM_FLAGS: usize = 188;
export const MM_USERS: usize = 192;
export const MM_COUNT: usize = 196;
export const MM_RSS: usize = 200;
export const MM_CPUMASK: usize = 216;
export const MM_TLB_GEN: usize = 224;
export const MM_PGD: usize = 232;
export const MM_PCID: usize = 236;
export const MM_ID: usize = 240;
export const MM_MMLIST_NEXT: usize = 244;
export const MM_MMLIST_PREV: usize = 248;
export const MM_STRUCT_SIZE: u32 = 256;

/** RSS counter indexes (include/linux/mm_types.h NR_MM_COUNTERS; MM_PGTABLES is mm->nr_ptes). */
export const MM_FILEPAGES: i32 = 0;
export const MM_ANONPAGES: i32 = 1;
export const MM_SWAPENTS: i32 = 2;
export const MM_PGTABLES: i32 = 3;

/** mm->flags. */
export const MMF_EXITING: u32 = 1 << 0; // exit_mmap has begun

/** The user address space (arch/x86/include/asm/processor.h TASK_SIZE_MAX with 4-level paging). */
export const TASK_SIZE: u64 = 0x7fff_ffff_f000;

// struct vm_area_struct (VMA_SIZE bytes, kmem cache KMEM_VM_AREA)
//
//   -- under mm->mmap_sem (write to change; read to look) --
//   +0   vm_mm        u32   the mm it belongs to
//   +4   vm_next      u32   +8 vm_prev u32: the mm's sorted list
//   +12  vm_rb        struct rb_node (12 B): the mm's tree, by vm_start
//   +24  vm_start     u64   first byte
//   +32  vm_end       u64   first byte after
//   +40  vm_flags     u32   VM_* below
//   +44  vm_pgoff     u32   offset in the file, in pages (for anonymous vmas: vm_start >> 12 at creation)
//   +48  vm_page_prot u64   the PTE bits a mapping of this vma gets (arch/x86: P, RW, US, NX, ...)
//   +56  vm_file      u32   the address_space of a file mapping (0 for anonymous)
//   -- mmap_sem, and mm->page_table_lock for the 0 -> anon_vma transition (anon_vma_prepare) --
//   +60  anon_vma     u32   its anon_vma (the root's, with anon_vma_chain: the one new pages go to)
//   +64  anon_vma_chain u32 first anon_vma_chain of this vma (avc->same_vma links)
//   -- under the address_space's i_mmap lock --
//   +68  shared.rb    struct rb_node (12 B): the file's i_mmap interval tree
//   +80  shared.rb_subtree_last u64: the largest vma_last_pgoff in its subtree
//   -- under the anon_vma's lock (the 2.6.25 design only: mm_config MMC_AV_2625) --
//   +88  anon_vma_node.next u32 | +92 anon_vma_node.prev u32: the anon_vma's list of vmas
export const VMA_MM: usize = 0;
export const VMA_NEXT: usize = 4;
export const VMA_PREV: usize = 8;
export const VMA_RB: usize = 12;
export const VMA_START: usize = 24;
export const VMA_END: usize = 32;
export const VMA_FLAGS: usize = 40;
export const VMA_PGOFF: usize = 44;
export const VMA_PAGE_PROT: usize = 48;
export const VMA_FILE: usize = 56;
export const VMA_ANON_VMA: usize = 60;
export const VMA_ANON_VMA_CHAIN: usize = 64;
export const VMA_SHARED_RB: usize = 68;
export const VMA_SHARED_SUBTREE_LAST: usize = 80;
export const VMA_AV_NODE_NEXT: usize = 88;
export const VMA_AV_NODE_PREV: usize = 92;
export const VMA_SIZE: u32 = 96;

// vm_flags (include/linux/mm.h values).
export const VM_READ: u32 = 0x1;
export const VM_WRITE: u32 = 0x2;
export const VM_EXEC: u32 = 0x4;
export const VM_SHARED: u32 = 0x8;
export const VM_MAYREAD: u32 = 0x10;
export const VM_MAYWRITE: u32 = 0x20;
export const VM_MAYEXEC: u32 = 0x40;
export const VM_MAYSHARE: u32 = 0x80;
export const VM_GROWSDOWN: u32 = 0x100;
export const VM_DONTCOPY: u32 = 0x20000;
export const VM_ACCOUNT: u32 = 0x100000;

// struct anon_vma (ANON_VMA_SIZE bytes, kmem cache KMEM_ANON_VMA; mm/rmap.ts)
//
//   +0   lock       struct mm_lock (64 B), class anon_vma: the chain list below (the root's lock
//                   serves the whole tree from 2.6.34's root locking on)
//   -- read-only after anon_vma_alloc / anon_vma_fork --
//   +64  root       u32   the root of its anon_vma tree (itself for a root)
//   -- atomics --
//   +68  refcount   i32   references: with anon_vma_chain, 1 while its list is not empty plus one per
//                         non-root anon_vma of its tree (on the root); 2.6.25 design: one per vma on its
//                         list; plus temporary ones (seed 002's get_anon_vma / put_anon_vma)
//   -- under the root's lock --
//   +72  head       u32   first anon_vma_chain on this anon_vma (avc->same_anon_vma links), or with the
//                         2.6.25 design the first vma directly (the era switch; rmap.ts)
//   +76  tail       u32   last one
//   +80  degree     u32   children + vmas (anon_vma reuse heuristics; informational)
//   +84  (pad)
export const AV_LOCK: usize = 0;
export const AV_ROOT: usize = 64;
export const AV_REFCOUNT: usize = 68;
export const AV_HEAD: usize = 72;
export const AV_TAIL: usize = 76;
export const AV_DEGREE: usize = 80;
export const ANON_VMA_SIZE: u32 = 96;

// struct anon_vma_chain (AVC_SIZE bytes, kmem cache KMEM_ANON_VMA_CHAIN; 2.6.34's design)
//
//   -- read-only after anon_vma_chain_link --
//   +0   vma        u32
//   +4   anon_vma   u32
//   -- under the vma's mm->mmap_sem --
//   +8   same_vma   u32   next chain of the same vma
//   -- under anon_vma's root lock --
//   +12  same_anon_vma_next u32 | +16 same_anon_vma_prev u32
//   +20  (pad)
export const AVC_VMA: usize = 0;
export const AVC_ANON_VMA: usize = 4;
export const AVC_SAME_VMA: usize = 8;
export const AVC_NEXT: usize = 12;
export const AVC_PREV: usize = 16;
export const AVC_SIZE: u32 = 24;

// struct address_space (ADDRESS_SPACE_SIZE bytes, kmem cache KMEM_ADDRESS_SPACE): an emulated file
// (inode and mapping in one; mm/filemap.ts).
//
//   +0   i_mmap_lock  struct mm_lock (64 B), class i_mmap
//   -- under i_mmap_lock --
//   +64  i_mmap       u32   root of the interval tree of the vmas that map it (vma->shared.rb)
//   +68  i_mmap_writable u32  VM_SHARED mappings
//   -- under tree_lock (a spinlock word, not a modelled lock class) --
//   +72  tree_lock    u32
//   +76  nrpages      u32   pages in the page cache
//   +80  page_tree    u32   pfn of the page-cache index page (filemap.ts lays it out)
//   -- read-only after creation --
//   +84  size_pages   u32   the file's size in pages
//   +88  ino          u32   inode number, for /proc/pid/maps
//   +92  (pad)
export const AS_I_MMAP_LOCK: usize = 0;
export const AS_I_MMAP: usize = 64;
export const AS_I_MMAP_WRITABLE: usize = 68;
export const AS_TREE_LOCK: usize = 72;
export const AS_NRPAGES: usize = 76;
export const AS_PAGE_TREE: usize = 80;
export const AS_SIZE_PAGES: usize = 84;
export const AS_INO: usize = 88;
export const ADDRESS_SPACE_SIZE: u32 = 96;

// struct task_struct (TASK_STRUCT_SIZE bytes, kmem cache KMEM_TASK_STRUCT; kernel/task.ts)
//
//   -- read-only after creation --
//   +0   pid        u32
//   +4   tgid       u32   the thread-group leader's pid (== pid for a process)
//   +8   flags      u32   PF_* below
//   -- task_lock (alloc_lock: a spinlock word) --
//   +12  alloc_lock u32
//   +16  mm         u32   the address space (0 for a kernel thread)
//   +20  active_mm  u32   the mm whose page tables are loaded while it runs (a kernel thread borrows)
//   -- the runqueue (the CPU running it) --
//   +24  state      u32   TASK_* below
//   +28  on_cpu     i32   the CPU it runs on, -1 when it is not running
//   +32  exit_code  i32
//   +36  parent     u32   the task that forked it
//   -- tasklist_lock (the header's HDR_TASKLIST_LOCK, layout.ts) --
//   +40  tasks_next u32 | +44 tasks_prev u32   the list of every task (init_task.tasks), from HDR_TASKS
export const TASK_PID: usize = 0;
export const TASK_TGID: usize = 4;
export const TASK_FLAGS: usize = 8;
export const TASK_ALLOC_LOCK: usize = 12;
export const TASK_MM: usize = 16;
export const TASK_ACTIVE_MM: usize = 20;
export const TASK_STATE: usize = 24;
export const TASK_ON_CPU: usize = 28;
export const TASK_EXIT_CODE: usize = 32;
export const TASK_PARENT: usize = 36;
export const TASK_TASKS_NEXT: usize = 40;
export const TASK_TASKS_PREV: usize = 44;
export const TASK_STRUCT_SIZE: u32 = 64;

export const PF_KTHREAD: u32 = 1 << 0;
export const PF_EXITING: u32 = 1 << 1;
export const TASK_RUNNING: u32 = 0;
export const TASK_DEAD: u32 = 1;
