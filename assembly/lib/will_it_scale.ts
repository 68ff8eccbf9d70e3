// will-it-scale's brk1, brk2, page_fault1 and tlb_flush1 testcases (github.com/antonblanchard/
// will-it-scale, tests/*.c; ../shared/notes/kernel-history.md "Workloads"), as jobs of the
// virtual-CPU job table (kernel/vcpu.ts: JOB_WIS_BRK1, JOB_WIS_BRK2, JOB_WIS_PAGE_FAULT1,
// JOB_WIS_TLB_FLUSH1), run by a process's task (or thread) made current on this CPU first.
//
// Each testcase's loop, as will-it-scale writes it (the harness forks N processes or starts N threads,
// each calls testcase() and the parent samples the `iterations` counters once a second):
//   brk1         addr = sbrk(0); loop { addr += page; brk(addr); addr -= page; brk(addr); iterations += 2; }
//   brk2         addr = sbrk(page) + page; loop { the same two brk calls, each asserted == 0; iterations += 2; }
//   page_fault1  loop { c = mmap(NULL, MEMSIZE, RW, PRIVATE|ANONYMOUS); for each page { c[i] = 0; iterations++; }
//                       munmap(c, MEMSIZE); }                                     (MEMSIZE 128 MiB)
//   tlb_flush1   loop { addr = mmap(NULL, FILESIZE, RW, PRIVATE, fd, 0); for each page { *(addr + i) = 1;
//                       madvise(addr + i, page, MADV_DONTNEED); assert(*(addr + i) == 0); iteration++; }
//                       munmap(addr, FILESIZE); }                                 (FILESIZE 128 MiB)
// Deviations (also in src/experiments/README.md):
//   - the loops are bounded: each job runs until its budget clock reaches `budget` or it has done
//     `maxiters` iterations, where will-it-scale runs forever and samples. The budget clock is the CPU's
//     virtual clock in cycles in the virtual build (vcpu_set_job reset it to 0), and host nanoseconds
//     since the job began in the parallel build (lib/job_clock.ts: env.now_ns, one monotonic clock for every
//     worker), as in lib/rmap_storm.ts: there `budget` is a host-time budget in ns, so every CPU runs
//     for the same host time. The bound is checked where an iteration is counted
//     (before each brk pair; before each page of page_fault1 and tlb_flush1). A page_fault1 or
//     tlb_flush1 job stopped mid-region still munmaps its region, so it leaves no vma behind.
//   - the region size is an argument (will-it-scale: 128 MiB; the host's default too).
//   - tlb_flush1 maps an anonymous private region instead of a private mapping of a 128 MiB tmpfile
//     (each task its own): the emulator's files hold at most 1024 pages (mm/filemap.ts) and their
//     contents are a pattern, not ftruncate's zeros. So the store faults demand-zero instead of
//     copying the file page (do_cow_fault), and the read after MADV_DONTNEED faults in a fresh zero
//     page instead of mapping the page-cache page read-only. The TLB side, the point of the test, is
//     the same: one flush_tlb_mm_range of one page per iteration, with IPIs to the other CPUs in
//     mm_cpumask (in threads mode the other threads' CPUs).
//   - sbrk is libc's: brk(cached break + increment), the cache read once with brk(0) (glibc __curbrk).
//
// Virtual time: every system call charges its entry and exit (syscall_charge in sys_brk, sys_mmap,
// sys_munmap, sys_madvise) plus what the core charges inside it (kernel/mm_charge.ts); user stores
// charge their faults and page walks.
import { job_clock_start, job_clock, job_faults } from "./job_clock";
import { enter_task, current_mm } from "../kernel/syscalls";
import { sys_brk, sys_mmap, sys_munmap, PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS } from "../mm/mmap";
import { sys_madvise, MADV_DONTNEED } from "../mm/madvise";
import { user_access } from "../arch/x86/mm_fault";
import { ACC_WRITE } from "../arch/x86/pgtable_types";
import { tlb_flush_stat, NR_TLB_CAUSES, TFS_FLUSHES, TFS_IPIS } from "../arch/x86/mm_tlb";
import { smp_processor_id } from "../percpu";
import { ENOMEM, EINVAL, EIO } from "../errno";

export const WIS_PAGE: u64 = 4096;
/** will-it-scale's MEMSIZE / FILESIZE: page_fault1's and tlb_flush1's region (the host's default). */
export const WIS_REGION_DEFAULT: u64 = 128 << 20;
/** The largest region a job accepts (1 GiB: the page count fits in 32 bits with room to spare). */
export const WIS_REGION_MAX: u64 = 1 << 30;

// The job's report (out, 8-aligned kernel memory, optional): WIS_OUT_SIZE bytes, written at the end.
//   +0   iterations (as will-it-scale counts them: 2 per brk pair, 1 per page)
//   +8   system calls made (brk, mmap, munmap, madvise)
//   +16  page faults taken on this CPU during the job (STAT_PF)
//   +24  flush_tlb_mm_range requests made on this CPU (every cause)
//   +32  remote CPUs this CPU asked to flush (shootdown IPIs, or flushes on behalf of an idle CPU)
//   +40  brk1 / brk2: the break the loop started from (brk1: sbrk(0); brk2: after sbrk(page)); else 0
//   +48  brk1 / brk2: the break after the last brk; else 0
//   +56  the budget clock at the end (virtual cycles; host ns since the job began in the parallel build)
export const WIS_OUT_ITERATIONS: u32 = 0;
export const WIS_OUT_SYSCALLS: u32 = 8;
export const WIS_OUT_FAULTS: u32 = 16;
export const WIS_OUT_TLB_FLUSHES: u32 = 24;
export const WIS_OUT_TLB_IPIS: u32 = 32;
export const WIS_OUT_BRK_START: u32 = 40;
export const WIS_OUT_BRK_END: u32 = 48;
export const WIS_OUT_CLOCK: u32 = 56;
export const WIS_OUT_SIZE: u32 = 64;

// The testcases (the `kind` of job_wis).
export const WIS_BRK1: u32 = 0;
export const WIS_BRK2: u32 = 1;
export const WIS_PAGE_FAULT1: u32 = 2;
export const WIS_TLB_FLUSH1: u32 = 3;

/** This CPU's flush_tlb_mm_range counter field (TFS_FLUSHES or TFS_IPIS), summed over the causes. */
function tlb_counter(field: u32): u64 {
  const cpu = smp_processor_id();
  let n: u64 = 0;
  for (let c: u32 = 0; c < NR_TLB_CAUSES; c++) n += tlb_flush_stat(cpu, c, field);
  return n;
}

/**
 * job_wis - run will-it-scale testcase kind (WIS_BRK1, WIS_BRK2, WIS_PAGE_FAULT1, WIS_TLB_FLUSH1) as
 * the task with pid, made current on this CPU first (enter_task), until its budget clock reaches
 * budget (virtual cycles; host ns since the job began in the parallel build) or maxiters iterations
 * are done. region: page_fault1's and tlb_flush1's
 * mapping in bytes (page aligned, 1 page .. WIS_REGION_MAX; ignored by brk1 and brk2). out: the
 * report above, or 0. Holds nothing on entry or return; leaves the task current on this CPU.
 * Returns the iterations done, or a negative errno: entering the task (-ESRCH, -EBUSY), -EINVAL (a
 * kernel thread, an unknown kind or a bad region), -ENOMEM (brk2's brk refused, mmap), a user
 * access's error (-EFAULT: SIGSEGV), -EIO (tlb_flush1's read after MADV_DONTNEED was not zero).
 * Takes mmap_sem (write for brk, mmap, munmap; read for faults and madvise), and through
 * vma_adjust / split / unmap the anon_vma lock as the era's switches say.
 */
export function job_wis(kind: u32, pid: u32, region: u64, budget: u64, maxiters: u32, out: usize): i64 {
  if (kind > WIS_TLB_FLUSH1) return -EINVAL;
  if (kind >= WIS_PAGE_FAULT1 && (region == 0 || region > WIS_REGION_MAX || (region & (WIS_PAGE - 1)) != 0)) return -EINVAL;
  const start = job_clock_start();
  const t = enter_task(pid);
  if (t < 0) return t;
  const mm = current_mm();
  if (mm == 0) return -EINVAL;
  // Locals only (the stub runtime has no heap for objects, and no global may survive a preemption point).
  const faults0 = job_faults(), flushes0 = tlb_counter(TFS_FLUSHES), ipis0 = tlb_counter(TFS_IPIS);
  const max = <u64>maxiters;
  let iterations: u64 = 0, syscalls: u64 = 0, brk_start: u64 = 0, brk_end: u64 = 0;
  if (kind <= WIS_BRK2) {
    // brk1 / brk2. brk2 asserts each brk succeeded (-ENOMEM when the kernel left the break
    // elsewhere); brk1 ignores brk's result, as the C does.
    const brk2 = kind == WIS_BRK2;
    let addr = sys_brk(mm, 0); // sbrk(0), or the break libc's sbrk(page) reads first
    syscalls++;
    if (brk2) {
      addr += WIS_PAGE; // sbrk(page) returns the old break; + page_size: the new one
      syscalls++;
      if (sys_brk(mm, addr) != addr) return -ENOMEM;
    }
    brk_start = addr;
    brk_end = addr;
    while (iterations < max && job_clock(start) < budget) {
      addr += WIS_PAGE;
      syscalls++;
      if (sys_brk(mm, addr) != addr && brk2) return -ENOMEM;
      addr -= WIS_PAGE;
      syscalls++;
      brk_end = sys_brk(mm, addr);
      if (brk_end != addr && brk2) return -ENOMEM;
      iterations += 2;
    }
  } else {
    // page_fault1 / tlb_flush1: a region per loop; a loop stopped by the bound still munmaps.
    const tlb = kind == WIS_TLB_FLUSH1;
    while (iterations < max && job_clock(start) < budget) {
      syscalls++;
      const addr = sys_mmap(mm, 0, region, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, 0, 0);
      if (addr < 0) return addr;
      let err: i64 = 0;
      for (let i: u64 = 0; i < region; i += WIS_PAGE) {
        if (iterations >= max || job_clock(start) >= budget) break;
        const a = <u64>addr + i;
        err = user_access(a, ACC_WRITE, tlb ? 1 : 0);
        if (err < 0) break;
        if (tlb) {
          syscalls++;
          err = sys_madvise(mm, a, WIS_PAGE, MADV_DONTNEED);
          if (err < 0) break;
          err = user_access(a, 0, 0); // a read: the page is gone, so this faults a zero page in
          if (err < 0) break;
          if (err != 0) { err = -EIO; break; }
        }
        iterations++;
      }
      syscalls++;
      const u = sys_munmap(mm, <u64>addr, region);
      if (err < 0) return err;
      if (u < 0) return u;
    }
  }
  if (out != 0) {
    store<u64>(out + WIS_OUT_ITERATIONS, iterations);
    store<u64>(out + WIS_OUT_SYSCALLS, syscalls);
    store<u64>(out + WIS_OUT_FAULTS, job_faults() - faults0);
    store<u64>(out + WIS_OUT_TLB_FLUSHES, tlb_counter(TFS_FLUSHES) - flushes0);
    store<u64>(out + WIS_OUT_TLB_IPIS, tlb_counter(TFS_IPIS) - ipis0);
    store<u64>(out + WIS_OUT_BRK_START, brk_start);
    store<u64>(out + WIS_OUT_BRK_END, brk_end);
    store<u64>(out + WIS_OUT_CLOCK, job_clock(start));
  }
  return <i64>iterations;
}
