// Processes, their system calls and the MM benchmark kernels: exports for the host.
// Part of the core's exported interface (assembly/index.ts re-exports every file of assembly/abi/).
import { bench_brk1, bench_make_vmas, bench_page_fault1, bench_touch, bench_fork_exit, bench_munmap,
  bench_fork_n, bench_follow_pfn, bench_rmap_walk } from "../lib/bench_mm";
import { get_task_mm_of, kthread_use_mm_of, kthread_unuse_mm } from "../kernel/syscalls";
import { spawn_process, do_fork, sys_exit, enter_task, enter_user, mm_of_pid, current_pid, kthread_create,
  active_mm_of_pid, task_mmu_notifier_register } from "../kernel/syscalls";
import { page_op } from "../kernel/page_ops";
import { user_access } from "../arch/x86/mm_fault";
import { EINVAL } from "../errno";
import { sys_mmap, sys_munmap, sys_brk } from "../mm/mmap";
import { sys_mprotect } from "../mm/mprotect_vma";
import { context_switch } from "../kernel/task";
import { sys_madvise } from "../mm/madvise";
import { enter } from "./enter";

// ---------------------------------------------------------------------------------------------
// Processes (kernel/task.ts, kernel/syscalls.ts; arch/x86/mm_fault.ts): what the host's
// Process API (src/mm/process.ts) calls. Each cpu_sys_* runs on CPU cpu as the task with pid, made
// current there first; results are the kernel's (>= 0, or -errno; -ESRCH for no such task, -EBUSY
// when it is current on another CPU).
// ---------------------------------------------------------------------------------------------
export { START_BRK } from "../kernel/syscalls";
// @ts-ignore: decorator
@inline function as_task(cpu: i32, pid: u32): i64 {
  return enter(cpu) ? enter_task(pid) : -EINVAL;
}
// The mm of the user task pid, made current on cpu (see enter_user), or a negative errno.
// @ts-ignore: decorator
@inline function as_user(cpu: i32, pid: u32): i64 {
  return enter(cpu) ? enter_user(pid) : -EINVAL;
}
/** A new process with an empty address space: its pid, or -ENOMEM. */
export function cpu_spawn(cpu: i32): i32 { return enter(cpu) ? spawn_process() : -EINVAL; }
/** fork (clone_flags 0) or a thread (CLONE_VM) of pid: the child's pid, or -errno. */
export function cpu_sys_fork(cpu: i32, pid: u32, clone_flags: u32): i32 {
  const t = as_task(cpu, pid);
  return t < 0 ? <i32>t : do_fork(<usize>t, clone_flags);
}
/** exit(code) of pid: 0, or -errno. */
export function cpu_sys_exit(cpu: i32, pid: u32, code: i32): i32 {
  const t = as_task(cpu, pid);
  return t < 0 ? <i32>t : sys_exit(<usize>t, code);
}
export function cpu_sys_mmap(cpu: i32, pid: u32, addr: u64, len: u64, prot: u32, flags: u32, file: usize, pgoff: u32): i64 {
  const mm = as_user(cpu, pid);
  return mm < 0 ? mm : sys_mmap(<usize>mm, addr, len, prot, flags, file, pgoff);
}
export function cpu_sys_munmap(cpu: i32, pid: u32, addr: u64, len: u64): i32 {
  const mm = as_user(cpu, pid);
  return mm < 0 ? <i32>mm : sys_munmap(<usize>mm, addr, len);
}
export function cpu_sys_mprotect(cpu: i32, pid: u32, addr: u64, len: u64, prot: u32): i32 {
  const mm = as_user(cpu, pid);
  return mm < 0 ? <i32>mm : sys_mprotect(<usize>mm, addr, len, prot);
}
/** brk(2): the break after the call, or -errno for a bad task. */
export function cpu_sys_brk(cpu: i32, pid: u32, brk: u64): i64 {
  const mm = as_user(cpu, pid);
  return mm < 0 ? mm : <i64>sys_brk(<usize>mm, brk);
}
export function cpu_sys_madvise(cpu: i32, pid: u32, addr: u64, len: u64, advice: i32): i32 {
  const mm = as_user(cpu, pid);
  return mm < 0 ? <i32>mm : sys_madvise(<usize>mm, addr, len, advice);
}
/** A 32-bit user access (ACC_WRITE / ACC_FETCH / 0 for a read) at va: the word read, 0, or -errno. */
export function cpu_sys_access(cpu: i32, pid: u32, va: u64, access: u32, value: u32): i64 {
  const t = as_task(cpu, pid);
  return t < 0 ? t : user_access(va, access, value);
}
/** The mm of the task with pid (0 for none): for the host's maps() and the checker. */
export function task_mm_of(pid: u32): usize { return mm_of_pid(pid); }
/** The pid of the task current on cpu, 0 for none, -EINVAL for a bad CPU. */
export function cpu_current_pid(cpu: i32): i32 { return enter(cpu) ? <i32>current_pid() : -EINVAL; }
/** A kernel thread (PF_KTHREAD, no mm), not running yet: its pid, or -ENOMEM. */
export function cpu_kthread_create(cpu: i32): i32 { return enter(cpu) ? kthread_create() : -EINVAL; }
/** Make the task with pid current on cpu (a context switch; a kernel thread borrows the loaded mm). 0 or -errno. */
export function cpu_task_run(cpu: i32, pid: u32): i32 {
  const t = as_task(cpu, pid);
  return t < 0 ? <i32>t : 0;
}
/** The active_mm of the task with pid (its own mm, or a kernel thread's borrowed one), 0 for none. */
export function task_active_mm_of(pid: u32): usize { return active_mm_of_pid(pid); }
/** Register a recording mmu notifier on the mm of pid (mmap_sem taken for write): its address, or -errno. */
export function cpu_sys_mmu_notifier_register(cpu: i32, pid: u32): i64 { return enter(cpu) ? task_mmu_notifier_register(pid) : -EINVAL; }
export { PAGEOP_PFN, PAGEOP_REFERENCED, PAGEOP_UNMAP, PAGEOP_MIGRATE, PAGEOP_MKCLEAN } from "../kernel/page_ops";
/** A page-level operation (PAGEOP_*) on the page pid maps at va, on CPU cpu as a kernel context: see kernel/page_ops.ts. */
export function cpu_page_op(cpu: i32, pid: u32, va: u64, op: u32): i64 { return enter(cpu) ? page_op(pid, va, op) : -EINVAL; }
export { MN_NEXT, MN_MM, MN_EV_INVALIDATE_PAGE, MN_EV_CLEAR_YOUNG } from "../mm/mmu_notifier";
// For the host's invariant checker (src/mm/check.ts): split PTE locks, PROT_NONE PTEs, notifiers.
export { KMEM_PTLOCK, KMEM_MMU_NOTIFIER } from "../mm/mm_types";
export { _PAGE_PROTNONE } from "../arch/x86/pgtable_types";
export { ML_CLASS } from "../locking/lock";
/** Make nothing current on cpu (the idle state: lazy TLB on the last mm). */
export function cpu_idle(cpu: i32): i32 { if (!enter(cpu)) return -EINVAL; context_switch(0); return 0; }

// ---- MM benchmark kernels (lib/bench_mm.ts; bench/mm.ts): each on CPU cpu as the task with pid ----
export function cpu_bench_brk1(cpu: i32, pid: u32, pages: u32, iters: u32): i64 { return enter(cpu) ? bench_brk1(pid, pages, iters) : -EINVAL; }
export function cpu_bench_make_vmas(cpu: i32, pid: u32, v: u32, touch: bool): i64 { return enter(cpu) ? bench_make_vmas(pid, v, touch) : -EINVAL; }
export function cpu_bench_page_fault1(cpu: i32, pid: u32, pages: u32, iters: u32): i64 { return enter(cpu) ? bench_page_fault1(pid, pages, iters) : -EINVAL; }
export function cpu_bench_touch(cpu: i32, pid: u32, pages: u32): i64 { return enter(cpu) ? bench_touch(pid, pages) : -EINVAL; }
export function cpu_bench_fork_exit(cpu: i32, pid: u32, iters: u32): i64 { return enter(cpu) ? bench_fork_exit(pid, iters) : -EINVAL; }
export function cpu_bench_munmap(cpu: i32, pid: u32, addr: u64, pages: u32): i64 { return enter(cpu) ? bench_munmap(pid, addr, pages) : -EINVAL; }
export function cpu_bench_fork_n(cpu: i32, pid: u32, n: u32): i64 { return enter(cpu) ? bench_fork_n(pid, n) : -EINVAL; }
export function cpu_bench_follow_pfn(cpu: i32, pid: u32, va: u64): i64 { return enter(cpu) ? bench_follow_pfn(pid, va) : -EINVAL; }
export function cpu_bench_rmap_walk(cpu: i32, pfn: u32, iters: u32): i64 { return enter(cpu) ? bench_rmap_walk(pfn, iters) : -EINVAL; }

// ---- seed 000: get_task_mm and use_mm (kernel/syscalls.ts) ----
/** get_task_mm of pid: its mm with a user reference (release with cpu_mmput), or 0. */
export function cpu_get_task_mm(cpu: i32, pid: u32): usize { return enter(cpu) ? get_task_mm_of(pid) : 0; }
/** The kernel thread kpid adopts pid's mm (get_task_mm + use_mm) on cpu: the mm, or -errno. */
export function cpu_kthread_use_mm(cpu: i32, kpid: u32, pid: u32): i64 { return enter(cpu) ? kthread_use_mm_of(kpid, pid) : -EINVAL; }
/** The kernel thread kpid gives its adopted mm back (unuse_mm + mmput): 0 or -errno. */
export function cpu_kthread_unuse_mm(cpu: i32, kpid: u32): i32 { return enter(cpu) ? kthread_unuse_mm(kpid) : -EINVAL; }
