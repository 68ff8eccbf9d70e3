// The rmap storm of issue 5, as jobs of the virtual-CPU job table (kernel/vcpu.ts: JOB_RMAP_WALKER,
// JOB_RMAP_WRITER): anonymous pages shared by a fork tree (set up by the host), walker CPUs running
// rmap walks over them while writer CPUs fork and exit children and mmap/munmap in the same tree.
//
// Walker (reclaim's and NUMA migration's view of the tree's pages): walk k of the job is page
// (first + k) mod npages of the region at va of the process pid (the tree's root, which mapped them
// before forking). Every RMAP_MIGRATE_EVERY-th walk is a migration (move_pages(2) of that page:
// kernel/page_ops.ts page_op PAGEOP_MIGRATE: try_to_unmap with migration entries, copy,
// remove_migration_ptes: two anon_vma walks); the others are page_referenced, made by seed 003's
// caller: the fault-path context that holds the page table lock of the page's PTE in the root's vma
// (mmap_sem read, find_vma, the PTE's lock), which tries the lockless walk (RMAP_PTL_HELD: taken only
// with mm_config MMC_RMAP_LOCKLESS and a chain of length one) and, when refused (-EAGAIN), drops the
// page table lock and walks under the anon_vma lock. With MMC_RMAP_LOCKLESS clear the same caller
// always falls back: the two configurations differ by the switch alone.
//
// Writer: one cycle, as the task pid (a node of the tree): fork a child (anon_vma_fork under the
// tree root's anon_vma lock), make the child current and exit it (unlink_anon_vmas), then mmap an
// anonymous region of `pages` pages in the node, write one word in each page (anon_vma_prepare, one
// fault per page) and munmap it. Four writer operations per cycle: fork, exit, mmap, munmap.
//
// Both run until their budget clock reaches `budget` (checked before each walk or cycle), or `maxops`
// operations. The budget clock is the CPU's virtual clock in cycles in the virtual build (vcpu_set_job
// reset it to 0), and host nanoseconds since the job began in the parallel build (env.now_ns, one
// monotonic clock for every worker): there `budget` is a host-time budget in ns.
// The writer's mmap and munmap charge their system-call entry/exit (sys_mmap, sys_munmap); its fork
// and exit, and the walker's walks, charge none (they are not system calls here).
import { job_clock_start, job_clock } from "./job_clock";
import { ESRCH, EFAULT, EAGAIN, ENOMEM } from "../errno";
import { smp_processor_id } from "../percpu";
import { MM_MMAP_SEM } from "../mm/mm_types";
import { lock_acquire, lock_release, MODE_READ, MODE_WRITE } from "../locking/lock";
import { get_task_mm, mmput } from "../mm/mm_struct";
import { find_vma, vm_start } from "../mm/vma";
import { pte_present } from "../mm/pgtable";
import { PTE_PFN_MASK, ACC_WRITE } from "../arch/x86/pgtable_types";
import { get_page, put_page } from "../mm/page_alloc";
import { page_referenced, RMAP_PTL_HELD, mm_find_pte, rmap_pte_lockptr, ptep_table_pfn } from "../mm/rmap_walk";
import { page_op, PAGEOP_MIGRATE } from "../kernel/page_ops";
import { enter_task, current_mm, do_fork, sys_exit } from "../kernel/syscalls";
import { find_task_by_pid } from "../kernel/task";
import { sys_mmap, sys_munmap, PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS } from "../mm/mmap";
import { user_access } from "../arch/x86/mm_fault";

/** One walk in this many is a migration; the others are page_referenced. */
export const RMAP_MIGRATE_EVERY: u64 = 4;

// The walker's report (out, 8-aligned kernel memory, optional): RMAP_OUT_SIZE bytes.
//   +0  walks done (page_referenced + migrations + skipped)
//   +8  page_referenced walks
//   +16 of which lockless (seed 003's case taken: no anon_vma lock)
//   +24 migrations that moved the page
//   +32 walks skipped: the PTE was not present (a migration in flight) or migrate_page refused (-EAGAIN, -EBUSY)
//   +40 the budget clock at the end (virtual cycles; host ns since the job began in the parallel build)
// The writer's report, the same size:
//   +0  operations (forks + exits + mmaps + munmaps)
//   +8  forks   +16 exits   +24 mmaps   +32 munmaps   +40 the budget clock at the end (as the walker's)
export const RMAP_OUT_OPS: u32 = 0;
export const RMAP_OUT_REFERENCED: u32 = 8;
export const RMAP_OUT_LOCKLESS: u32 = 16;
export const RMAP_OUT_MIGRATED: u32 = 24;
export const RMAP_OUT_SKIPPED: u32 = 32;
export const RMAP_OUT_FORKS: u32 = 8;
export const RMAP_OUT_EXITS: u32 = 16;
export const RMAP_OUT_MMAPS: u32 = 24;
export const RMAP_OUT_MUNMAPS: u32 = 32;
export const RMAP_OUT_CLOCK: u32 = 40;
export const RMAP_OUT_SIZE: u32 = 48;

/**
 * referenced_from_fault - seed 003's caller on page va of mm: under mmap_sem (read), hold the page
 * table lock of va's PTE and try page_referenced(RMAP_PTL_HELD, vma); on -EAGAIN drop both and walk
 * under the anon_vma lock. Holds nothing on entry or return. Returns 1 for a lockless walk, 0 for a
 * locked one, -EFAULT when no page is present at va (a migration entry: the page is moving).
 */
function referenced_from_fault(mm: usize, va: u64): i32 {
  lock_acquire(mm + MM_MMAP_SEM, MODE_READ, "rmap_storm_walker");
  const vma = find_vma(mm, va);
  const ptep = vma != 0 && vm_start(vma) <= va ? mm_find_pte(mm, va) : 0;
  if (ptep == 0) { lock_release(mm + MM_MMAP_SEM, MODE_READ); return -EFAULT; }
  const ptl = rmap_pte_lockptr(mm, ptep_table_pfn(ptep));
  lock_acquire(ptl, MODE_WRITE, "rmap_storm_walker(ptl)");
  const pte = atomic.load<u64>(ptep);
  if (!pte_present(pte)) {
    lock_release(ptl, MODE_WRITE);
    lock_release(mm + MM_MMAP_SEM, MODE_READ);
    return -EFAULT;
  }
  const pfn = <u32>((pte & PTE_PFN_MASK) >> 12);
  get_page(pfn);
  const r = page_referenced(pfn, RMAP_PTL_HELD, vma);
  lock_release(ptl, MODE_WRITE);
  lock_release(mm + MM_MMAP_SEM, MODE_READ);
  let lockless = 1;
  if (r == -EAGAIN) { page_referenced(pfn, 0, 0); lockless = 0; }
  put_page(pfn);
  return lockless;
}

/**
 * job_rmap_walker - walk the npages pages at va of process pid (see the top of this file) until this
 * CPU's budget clock reaches budget or maxops walks are done. out: the walker report, or 0.
 * Holds nothing on entry or return. Returns the walks done, or -ESRCH (no such process).
 */
export function job_rmap_walker(pid: u32, va: u64, npages: u32, budget: u64, maxops: u32, out: usize): i64 {
  const t = find_task_by_pid(pid);
  if (t == 0 || npages == 0) return -ESRCH;
  const mm = get_task_mm(t); // pins the address space for the job (the tree root never exits meanwhile)
  if (mm == 0) return -ESRCH;
  // Walkers start at different pages (a stride apart) so they meet on the lock, not on one page.
  const first = <u64>smp_processor_id() * 7;
  let ops: u64 = 0, referenced: u64 = 0, lockless: u64 = 0, migrated: u64 = 0, skipped: u64 = 0;
  const start = job_clock_start();
  while (ops < <u64>maxops && job_clock(start) < budget) {
    const addr = va + (((first + ops) % <u64>npages) << 12);
    if (ops % RMAP_MIGRATE_EVERY == RMAP_MIGRATE_EVERY - 1) {
      const r = page_op(pid, addr, PAGEOP_MIGRATE);
      if (r >= 0) migrated++;
      else if (r == -ENOMEM) { mmput(mm); return r; }
      else skipped++;
    } else {
      const r = referenced_from_fault(mm, addr);
      if (r < 0) skipped++;
      else { referenced++; lockless += <u64>r; }
    }
    ops++;
  }
  mmput(mm);
  if (out != 0) {
    store<u64>(out + RMAP_OUT_OPS, ops);
    store<u64>(out + RMAP_OUT_REFERENCED, referenced);
    store<u64>(out + RMAP_OUT_LOCKLESS, lockless);
    store<u64>(out + RMAP_OUT_MIGRATED, migrated);
    store<u64>(out + RMAP_OUT_SKIPPED, skipped);
    store<u64>(out + RMAP_OUT_CLOCK, job_clock(start));
  }
  return <i64>ops;
}

/**
 * job_rmap_writer - as the task pid, cycles of fork + exit of a child and mmap + touch + munmap of
 * `pages` anonymous pages (see the top of this file) until this CPU's budget clock reaches budget or
 * maxops operations are done. out: the writer report, or 0. Leaves this CPU idle-free with pid
 * current. Returns the operations done, or a negative errno (-ESRCH, -EBUSY entering a task; -ENOMEM
 * from fork or mmap; a user store's error).
 */
export function job_rmap_writer(pid: u32, pages: u32, budget: u64, maxops: u32, out: usize): i64 {
  const len = <u64>(pages == 0 ? 1 : pages) << 12;
  let forks: u64 = 0, exits: u64 = 0, mmaps: u64 = 0, munmaps: u64 = 0;
  const start = job_clock_start();
  while (forks + exits + mmaps + munmaps < <u64>maxops && job_clock(start) < budget) {
    let t = enter_task(pid);
    if (t < 0) return t;
    const child = do_fork(<usize>t, 0);
    if (child < 0) return child;
    forks++;
    const ct = enter_task(<u32>child);
    if (ct < 0) return ct;
    sys_exit(<usize>ct, 0);
    exits++;
    t = enter_task(pid);
    if (t < 0) return t;
    const mm = current_mm();
    const addr = sys_mmap(mm, 0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, 0, 0);
    if (addr < 0) return addr;
    mmaps++;
    for (let a: u64 = <u64>addr; a < <u64>addr + len; a += 4096) {
      const r = user_access(a, ACC_WRITE, 1);
      if (r < 0) return r;
    }
    const u = sys_munmap(mm, <u64>addr, len);
    if (u < 0) return u;
    munmaps++;
  }
  const ops = forks + exits + mmaps + munmaps;
  if (out != 0) {
    store<u64>(out + RMAP_OUT_OPS, ops);
    store<u64>(out + RMAP_OUT_FORKS, forks);
    store<u64>(out + RMAP_OUT_EXITS, exits);
    store<u64>(out + RMAP_OUT_MMAPS, mmaps);
    store<u64>(out + RMAP_OUT_MUNMAPS, munmaps);
    store<u64>(out + RMAP_OUT_CLOCK, job_clock(start));
  }
  return <i64>ops;
}
