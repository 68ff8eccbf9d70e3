// AIM Suite IX's brk_test and page_test ("System Memory Allocations", creat_clo.c in the GPL Caldera
// release, carried in osdl-aim-7; ../shared/notes/kernel-history.md "Workloads"), as jobs of the
// virtual-CPU job table (kernel/vcpu.ts: JOB_AIM9_BRK, JOB_AIM9_PAGE), run by a process's task on
// this CPU.
//
// One loop, exactly as AIM9 does it:
//     oldbrk = sbrk(0); sbrk(1 MiB);
//     1000 times: sbrk(-64 KiB); 16 times sbrk(+4 KiB)       <- 17,000 sbrk calls: the ops AIM9 counts
//     brk(oldbrk);
// page_test is the same loop, and after each sbrk(+4 KiB) writes one byte every 128 bytes of the page
// it got (32 user stores per page: the first one faults the page in, do_anonymous_page).
//
// sbrk is libc's: one brk system call per call, from a break cached in user space (glibc __curbrk),
// so sbrk(inc) = brk(cached + inc). A "threads" run shares one break; each thread's cache is its own
// here (glibc's one __curbrk per process is unsynchronised: threads race on it either way), so the
// break is where the last caller put it. With base != 0 every loop starts from base instead of
// sbrk(0): threads of one process must agree where the heap begins for the cleanup brk(oldbrk) to
// leave it there.
//
// In virtual time a brk costs a system call's entry and exit (COST_SYSCALL, charged by sys_brk) and
// what the core charges inside it (kernel/mm_charge.ts).
import { enter_task, current_mm } from "../kernel/syscalls";
import { sys_brk } from "../mm/mmap";
import { user_access } from "../arch/x86/mm_fault";
import { ACC_WRITE } from "../arch/x86/pgtable_types";
import { ENOMEM, EINVAL } from "../errno";

export const AIM9_GROW: u64 = 1 << 20;      // the setup sbrk(1 MiB)
export const AIM9_SHRINK: u64 = 64 << 10;   // sbrk(-64 KiB) once per iteration
export const AIM9_STEP: u64 = 4096;         // sbrk(+4 KiB), AIM9_STEPS times per iteration
export const AIM9_ITERS: u32 = 1000;
export const AIM9_STEPS: u32 = 16;
export const AIM9_SBRK_PER_LOOP: u32 = AIM9_ITERS * (1 + AIM9_STEPS); // 17,000
export const AIM9_DIRTY_STRIDE: u64 = 128;  // page_test: one store every 128 bytes

// The job's report (out, 8-aligned kernel memory, optional): AIM9_OUT_SIZE bytes, written by the job.
//   +0  sbrk calls of the timed part of the loops (17,000 per loop)
//   +8  other brk calls: the sbrk(0) read (unless base given), the 1 MiB grow and the cleanup brk(oldbrk)
//   +16 the break the first loop started from (oldbrk)
//   +24 the break after the last cleanup brk(oldbrk) returned
//   +32 user stores made (page_test: 512 per iteration)
export const AIM9_OUT_SBRK: u32 = 0;
export const AIM9_OUT_OTHER_BRK: u32 = 8;
export const AIM9_OUT_BRK_START: u32 = 16;
export const AIM9_OUT_BRK_END: u32 = 24;
export const AIM9_OUT_WRITES: u32 = 32;
export const AIM9_OUT_SIZE: u32 = 40;

/** brk to want; -ENOMEM (as i64) when the kernel left the break elsewhere (brk refused). */
// @ts-ignore: decorator
@inline function brk_to(mm: usize, want: u64): i64 {
  return sys_brk(mm, want) == want ? 0 : -ENOMEM;
}

/**
 * job_aim9 - run `loops` loops of brk_test (dirty false) or page_test (dirty true) as the task with
 * pid, made current on this CPU first (enter_task). base: the break every loop starts from (0: read
 * it with sbrk(0), as AIM9 does). out: the report above, or 0 for none.
 * Returns loops, or a negative errno: the error entering the task (-ESRCH, -EBUSY), -ENOMEM when a
 * brk was refused, -EINVAL for a base that is not page aligned, or the error of a user store (-EFAULT: SIGSEGV, -ENOMEM). Takes mmap_sem (write) once per brk, and through
 * vma_adjust / split / unmap the heap vma's anon_vma lock as the era's switches say.
 */
export function job_aim9(pid: u32, loops: u32, base: u64, out: usize, dirty: bool): i64 {
  const t = enter_task(pid);
  if (t < 0) return t;
  const mm = current_mm();
  if ((base & (AIM9_STEP - 1)) != 0) return -EINVAL;
  let sbrks: u64 = 0, other: u64 = 0, writes: u64 = 0, end: u64 = 0;
  for (let l: u32 = 0; l < loops; l++) {
    let oldbrk = base;
    if (oldbrk == 0) { oldbrk = sys_brk(mm, 0); other++; }
    if (l == 0 && out != 0) store<u64>(out + AIM9_OUT_BRK_START, oldbrk);
    let cur = oldbrk + AIM9_GROW;
    other++;
    if (brk_to(mm, cur) < 0) return -ENOMEM;
    for (let i: u32 = 0; i < AIM9_ITERS; i++) {
      cur -= AIM9_SHRINK;
      sbrks++;
      if (brk_to(mm, cur) < 0) return -ENOMEM;
      for (let j: u32 = 0; j < AIM9_STEPS; j++) {
        const got = cur; // sbrk returns the old break: the page just added starts there
        cur += AIM9_STEP;
        sbrks++;
        if (brk_to(mm, cur) < 0) return -ENOMEM;
        if (dirty) {
          for (let k: u64 = 0; k < AIM9_STEP; k += AIM9_DIRTY_STRIDE) {
            const r = user_access(got + k, ACC_WRITE, 0x61616161); // 'aaaa'
            if (r < 0) return r;
            writes++;
          }
        }
      }
    }
    other++;
    end = sys_brk(mm, oldbrk);
    if (end != oldbrk) return -ENOMEM;
  }
  if (out != 0) {
    store<u64>(out + AIM9_OUT_SBRK, sbrks);
    store<u64>(out + AIM9_OUT_OTHER_BRK, other);
    store<u64>(out + AIM9_OUT_BRK_END, end);
    store<u64>(out + AIM9_OUT_WRITES, writes);
  }
  return loops;
}
