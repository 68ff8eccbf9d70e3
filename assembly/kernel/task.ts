// Tasks: task_struct, the task list, pids, and running a task on a CPU (kernel/fork.c's task
// allocation, kernel/pid.c, kernel/sched/core.c's context_switch as far as the MM sees it).
//
// A model CPU runs one task at a time: `current` (PC_CURRENT) is the task it runs, 0 when it runs
// none (the idle task: a kernel thread on init_mm's tables). The host makes a task current on a CPU
// to issue its system calls and memory accesses there (task_run_on); context_switch does what the
// scheduler's context switch does to the MM: a task with an mm gets switch_mm to it, a kernel
// thread (no mm) borrows the previous active_mm in lazy-TLB mode, and the idle state is lazy TLB too.
//
// Locks: tasklist_lock (a spinlock word in the machine header, HDR_TASKLIST_LOCK) protects the task
// list and nr_threads; task_lock (TASK_ALLOC_LOCK) protects ->mm and ->active_mm against readers on
// other CPUs (get_task_mm); ->on_cpu and ->state belong to the CPU running the task.
import { machine_base, per_cpu_ptr, HDR_TASKLIST_LOCK, HDR_TASKS, HDR_LAST_PID, HDR_NR_THREADS, PC_CURRENT, PC_IDLE_ACTIVE_MM } from "../layout";
import { KMEM_TASK_STRUCT, TASK_PID, TASK_TGID, TASK_FLAGS, TASK_ALLOC_LOCK, TASK_MM, TASK_ACTIVE_MM, TASK_STATE,
  TASK_ON_CPU, TASK_EXIT_CODE, TASK_PARENT, TASK_TASKS_NEXT, TASK_TASKS_PREV, TASK_RUNNING, TASK_DEAD, PF_KTHREAD,
  MM_USERS, MM_COUNT } from "../mm/mm_types";
import { kmem_cache_alloc, kmem_cache_free } from "../mm/slab";
import { __GFP_ZERO } from "../mm/page_alloc";
import { spin_lock, spin_unlock } from "../locking/spinlock";
import { smp_processor_id, this_cpu } from "../percpu";
import { switch_mm, enter_lazy_tlb, leave_mm } from "../arch/x86/mm_tlb";
import { mmdrop } from "../mm/mm_struct";
import { EBUSY, ESRCH } from "../errno";
import { VM_BUG_ON } from "../debug";

// @ts-ignore: decorator
@inline export function current(): usize {
  return load<u32>(this_cpu() + PC_CURRENT);
}

// @ts-ignore: decorator
@inline export function task_pid(t: usize): u32 { return load<u32>(t + TASK_PID); }
// @ts-ignore: decorator
@inline export function task_mm(t: usize): usize { return atomic.load<u32>(t + TASK_MM); }

/** task_lock / task_unlock: the task's alloc_lock, guarding ->mm and ->active_mm (include/linux/sched/task.h). */
export function task_lock(t: usize): void { spin_lock(t + TASK_ALLOC_LOCK); }
export function task_unlock(t: usize): void { spin_unlock(t + TASK_ALLOC_LOCK); }

/**
 * alloc_task - a new task_struct with a fresh pid, for address space mm (0 for a kernel thread; the
 * caller has already taken the mm_users reference the task holds), in thread group tgid (0: its own
 * pid), child of parent (0 for none), linked on the task list.
 * Takes tasklist_lock. Returns the task, or 0 when the kernel heap is exhausted (nothing changed).
 */
export function alloc_task(mm: usize, tgid: u32, parent: usize, flags: u32): usize {
  const t = kmem_cache_alloc(KMEM_TASK_STRUCT, __GFP_ZERO);
  if (t == 0) return 0;
  const pid = atomic.add<u32>(machine_base + HDR_LAST_PID, 1) + 1;
  store<u32>(t + TASK_PID, pid);
  store<u32>(t + TASK_TGID, tgid != 0 ? tgid : pid);
  store<u32>(t + TASK_FLAGS, flags | (mm == 0 ? PF_KTHREAD : 0));
  store<u32>(t + TASK_MM, mm);
  store<u32>(t + TASK_ACTIVE_MM, mm);
  store<u32>(t + TASK_STATE, TASK_RUNNING);
  store<i32>(t + TASK_ON_CPU, -1);
  store<u32>(t + TASK_PARENT, parent);
  const lock = machine_base + HDR_TASKLIST_LOCK;
  spin_lock(lock);
  const first = load<u32>(machine_base + HDR_TASKS);
  store<u32>(t + TASK_TASKS_NEXT, first);
  store<u32>(t + TASK_TASKS_PREV, 0);
  if (first != 0) store<u32>(first + TASK_TASKS_PREV, t);
  store<u32>(machine_base + HDR_TASKS, t);
  store<u32>(machine_base + HDR_NR_THREADS, load<u32>(machine_base + HDR_NR_THREADS) + 1);
  spin_unlock(lock);
  return t;
}

/**
 * release_task - unlink a dead task (TASK_DEAD, not running, its mm already released by exit_mm)
 * from the task list and free it. Takes tasklist_lock.
 */
export function release_task(t: usize): void {
  VM_BUG_ON(load<u32>(t + TASK_STATE) != TASK_DEAD, "release_task: the task is dead");
  VM_BUG_ON(load<i32>(t + TASK_ON_CPU) >= 0, "release_task: the task is not running");
  VM_BUG_ON(load<u32>(t + TASK_MM) != 0, "release_task: exit_mm released the mm");
  const lock = machine_base + HDR_TASKLIST_LOCK;
  spin_lock(lock);
  const next = load<u32>(t + TASK_TASKS_NEXT);
  const prev = load<u32>(t + TASK_TASKS_PREV);
  if (prev != 0) store<u32>(prev + TASK_TASKS_NEXT, next); else store<u32>(machine_base + HDR_TASKS, next);
  if (next != 0) store<u32>(next + TASK_TASKS_PREV, prev);
  store<u32>(machine_base + HDR_NR_THREADS, load<u32>(machine_base + HDR_NR_THREADS) - 1);
  spin_unlock(lock);
  kmem_cache_free(KMEM_TASK_STRUCT, t);
}

/** find_task_by_pid - the task with pid, or 0. Takes tasklist_lock. */
export function find_task_by_pid(pid: u32): usize {
  const lock = machine_base + HDR_TASKLIST_LOCK;
  spin_lock(lock);
  let t = load<u32>(machine_base + HDR_TASKS);
  while (t != 0 && load<u32>(t + TASK_PID) != pid) t = load<u32>(t + TASK_TASKS_NEXT);
  spin_unlock(lock);
  return t;
}

/**
 * context_switch - make next (0: the idle state) the task running on this CPU, after
 * kernel/sched/core.c context_switch: a task with an mm switches to it (switch_mm: CR3 with the mm's
 * PCID, the CPU enters the mm's cpumask); a kernel thread or the idle state borrows the previous
 * active_mm, in lazy-TLB mode, with an mm_count reference; the reference a previous borrower held is
 * dropped (mmdrop) once the switch is done.
 * next must not be running on another CPU. Holds nothing.
 */
export function context_switch(next: usize): void {
  const p = this_cpu();
  const prev = load<u32>(p + PC_CURRENT);
  if (prev == next) return;
  const oldmm = prev != 0 ? load<u32>(prev + TASK_ACTIVE_MM) : idle_active_mm(p);
  if (next != 0) {
    const mm = task_mm(next);
    if (mm == 0) { // a kernel thread borrows the previous mm
      if (oldmm != 0) atomic.add<i32>(oldmm + MM_COUNT, 1); // mmgrab
      store<u32>(next + TASK_ACTIVE_MM, oldmm);
      if (oldmm != 0) enter_lazy_tlb(oldmm);
    } else {
      switch_mm(oldmm, mm);
    }
    store<i32>(next + TASK_ON_CPU, smp_processor_id());
  } else if (oldmm != 0) {
    if (prev != 0 && load<u32>(prev + TASK_STATE) == TASK_DEAD) {
      // The last task of this CPU exited: the idle state loads init_mm's tables (leave_mm) rather than
      // keeping the dead mm lazily (a simplification: Linux's idle task would keep it until the next
      // switch; here nothing else would ever switch this CPU, and the pgd would never be freed).
      leave_mm();
    } else {
      // Going idle: keep the mm loaded lazily (the idle task is a kernel thread) with a reference.
      atomic.add<i32>(oldmm + MM_COUNT, 1);
      set_idle_active_mm(p, oldmm);
      enter_lazy_tlb(oldmm);
    }
  }
  store<u32>(p + PC_CURRENT, next);
  if (prev != 0) {
    store<i32>(prev + TASK_ON_CPU, -1);
    // A kernel thread gives back the mm it borrowed.
    if (task_mm(prev) == 0 && oldmm != 0) { store<u32>(prev + TASK_ACTIVE_MM, 0); mmdrop(oldmm); }
  } else if (next != 0 && oldmm != 0) {
    set_idle_active_mm(p, 0);
    mmdrop(oldmm);
  }
}

// The idle state's active_mm (the idle task's, in Linux): the mm it borrowed, with a reference.
// @ts-ignore: decorator
@inline function idle_active_mm(p: usize): usize { return load<u32>(p + PC_IDLE_ACTIVE_MM); }
// @ts-ignore: decorator
@inline function set_idle_active_mm(p: usize, mm: usize): void { store<u32>(p + PC_IDLE_ACTIVE_MM, mm); }

/**
 * task_run_on - make task t current on this CPU (switching out whatever ran), so that system calls
 * and accesses issued on this CPU are t's. Returns 0; -ESRCH for a dead task; -EBUSY when t is
 * current on another CPU.
 */
export function task_run_on(t: usize): i32 {
  if (load<u32>(t + TASK_STATE) == TASK_DEAD) return -ESRCH;
  const on = load<i32>(t + TASK_ON_CPU);
  if (on >= 0 && on != smp_processor_id()) return -EBUSY;
  context_switch(t);
  return 0;
}

/** The number of threads on the task list. */
export function nr_threads(): u32 {
  return atomic.load<u32>(machine_base + HDR_NR_THREADS);
}

/** Whether CPU cpu runs task t. */
export function task_is_current_on(t: usize, cpu: i32): bool {
  return load<u32>(per_cpu_ptr(cpu) + PC_CURRENT) == t;
}

/** Set a task's exit code and mark it dead (do_exit's end; the caller has run exit_mm). */
export function task_set_dead(t: usize, code: i32): void {
  store<i32>(t + TASK_EXIT_CODE, code);
  store<u32>(t + TASK_STATE, TASK_DEAD);
  VM_BUG_ON(atomic.load<i32>(t + TASK_MM) != 0 && atomic.load<i32>(task_mm(t) + MM_USERS) <= 0, "task_set_dead: mm_users");
}
