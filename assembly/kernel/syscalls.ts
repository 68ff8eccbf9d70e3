// Processes and their system calls, as the host issues them on a CPU.
//
// Every call names the CPU it runs on and the task (by pid) it runs for: the task is made current
// on that CPU first (task_run_on: a context switch when another task ran there, which is where
// switch_mm loads CR3 and lazy-TLB rules apply), then the system call runs as that task, with the
// kernel's own locking inside (mmap_sem and below). Results follow Linux: >= 0 success, a negative
// errno failure; -ESRCH for an unknown or dead pid, -EBUSY when the task is current on another CPU.
//
// A spawned process starts with an empty address space, as after exec of an image that maps
// nothing: mmap_base = TASK_SIZE - 128 MiB (top-down) and start_brk = brk = START_BRK. The model has
// no ELF loader, no stack vma and no vDSO (README: differences from Linux).
import { TASK_MM, TASK_PID, TASK_ACTIVE_MM, MM_MMAP_SEM } from "../mm/mm_types";
import { mm_alloc, mm_setup_brk, mmput, get_task_mm } from "../mm/mm_struct";
import { mmu_notifier_register } from "../mm/mmu_notifier";
import { lock_acquire, lock_release, MODE_WRITE } from "../locking/lock";
import { task_alloc, task_fork, task_exit, find_task_by_pid, task_run_on, context_switch, current_task, use_mm, unuse_mm } from "./task";
import { ENOMEM, ESRCH, EINVAL } from "../errno";

/** Where a spawned process's heap starts (a non-randomised PIE's neighbourhood). */
export const START_BRK: u64 = 0x0000_5555_5600_0000;

/**
 * enter_task - make the task with pid current on this CPU. Returns the task (> 0), or -ESRCH /
 * -EBUSY (see task_run_on) as a negative value.
 */
export function enter_task(pid: u32): i64 {
  const t = find_task_by_pid(pid);
  if (t == 0) return -ESRCH;
  const r = task_run_on(t);
  if (r < 0) return r;
  return <i64>t;
}

/**
 * enter_user - make the user task with pid current on this CPU, for a system call on its address
 * space. Returns its mm (> 0), or -ESRCH / -EBUSY (see enter_task), or -EINVAL for a kernel thread
 * (it has no address space to call mmap, brk ... on).
 */
export function enter_user(pid: u32): i64 {
  const t = enter_task(pid);
  if (t < 0) return t;
  const mm = current_mm();
  return mm == 0 ? -EINVAL : <i64>mm;
}

/** The mm of the current task (0 for none or a kernel thread). */
export function current_mm(): usize {
  const t = current_task();
  return t == 0 ? 0 : <usize>atomic.load<u32>(t + TASK_MM);
}

/** The mm of the live task with pid, or 0. */
export function mm_of_pid(pid: u32): usize {
  const t = find_task_by_pid(pid);
  return t == 0 ? 0 : <usize>atomic.load<u32>(t + TASK_MM);
}

/** The pid of this CPU's current task, 0 in the idle state. */
export function current_pid(): u32 {
  const t = current_task();
  return t == 0 ? 0 : load<u32>(t + TASK_PID);
}

/**
 * spawn_process - a new process with an empty address space (not running anywhere yet).
 * Returns its pid, or -ENOMEM.
 */
export function spawn_process(): i32 {
  const mm = mm_alloc();
  if (mm == 0) return -ENOMEM;
  mm_setup_brk(mm, START_BRK);
  const t = task_alloc(mm);
  if (t == 0) { mmput(mm); return -ENOMEM; }
  return <i32>load<u32>(t + TASK_PID);
}

/**
 * do_fork - the current task t forks (clone_flags 0: a process with a copy of the address space;
 * CLONE_VM: a thread sharing it). The child is not running anywhere. Returns the child's pid, or
 * -ENOMEM with nothing left behind (the partial copy is released by mmput).
 */
export function do_fork(t: usize, clone_flags: u32): i32 {
  if (atomic.load<u32>(t + TASK_MM) == 0) return -ESRCH; // kernel threads do not fork user processes here
  const child = task_fork(t, clone_flags);
  return child == 0 ? -ENOMEM : <i32>load<u32>(child + TASK_PID);
}

/**
 * sys_exit - exit(2) for the task t current on this CPU: exit_mm (the last user's mmput tears the
 * address space down), TASK_DEAD, and the CPU goes idle, which releases the task. Returns 0.
 */
export function sys_exit(t: usize, code: i32): i32 {
  const r = task_exit(t, code);
  if (r < 0) return r;
  return context_switch(0);
}

/**
 * kthread_create - a kernel thread (PF_KTHREAD, no mm), not running anywhere yet. Run on a CPU
 * (context_switch), it borrows the mm loaded there as its active_mm in lazy TLB mode. Returns its pid,
 * or -ENOMEM. Simplification: no thread function; it runs only when the host makes it current.
 */
export function kthread_create(): i32 {
  const t = task_alloc(0);
  return t == 0 ? -ENOMEM : <i32>load<u32>(t + TASK_PID);
}

/** The active_mm of the live task with pid (a kernel thread's borrowed mm), or 0. */
export function active_mm_of_pid(pid: u32): usize {
  const t = find_task_by_pid(pid);
  return t == 0 ? 0 : <usize>atomic.load<u32>(t + TASK_ACTIVE_MM);
}

/**
 * task_mmu_notifier_register - mmu_notifier_register(mn, mm) for the mm of the process with pid, as
 * a driver (KVM, GRU) does for current->mm: takes mmap_sem for write around the registration. The
 * notifier lives until the mm's exit_mmap (mmu_notifier_release). Returns the notifier's address,
 * or -ESRCH (no such process, or a kernel thread), -ENOMEM.
 */
export function task_mmu_notifier_register(pid: u32): i64 {
  const t = find_task_by_pid(pid);
  if (t == 0) return -ESRCH;
  const mm = get_task_mm(t);
  if (mm == 0) return -ESRCH;
  lock_acquire(mm + MM_MMAP_SEM, MODE_WRITE, "mmu_notifier_register");
  const n = mmu_notifier_register(mm);
  lock_release(mm + MM_MMAP_SEM, MODE_WRITE);
  mmput(mm);
  return n == 0 ? -ENOMEM : <i64>n;
}

/** get_task_mm_of - get_task_mm of the live task with pid: its mm with a user reference (the caller
 * mmputs it), or 0 for no such task, a kernel thread, or one that adopted an mm with use_mm (seed 000). */
export function get_task_mm_of(pid: u32): usize {
  const t = find_task_by_pid(pid);
  return t == 0 ? 0 : get_task_mm(t);
}

/**
 * kthread_use_mm_of - the kernel thread kpid, made current on this CPU, adopts the address space of
 * the process pid as AIO/vhost workers do: mm = get_task_mm(p); use_mm(mm). Returns the mm, or -ESRCH
 * (no such task, or p has no mm to give), -EINVAL (kpid is not a kernel thread, or already uses one),
 * -EBUSY (kpid current elsewhere).
 */
export function kthread_use_mm_of(kpid: u32, pid: u32): i64 {
  const k = enter_task(kpid);
  if (k < 0) return k;
  const mm = get_task_mm_of(pid);
  if (mm == 0) return -ESRCH;
  const r = use_mm(mm);
  if (r < 0) { mmput(mm); return r; }
  return <i64>mm;
}

/** kthread_unuse_mm - kpid (current here) gives the adopted mm back: unuse_mm, then mmput. 0 or -errno. */
export function kthread_unuse_mm(kpid: u32): i32 {
  const k = enter_task(kpid);
  if (k < 0) return <i32>k;
  const mm = current_mm();
  const r = unuse_mm();
  if (r < 0) return r;
  mmput(mm);
  return 0;
}
