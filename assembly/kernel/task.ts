// Tasks and their address spaces, after Linux 2.6.3x kernel/fork.c (copy_mm with CLONE_VM),
// kernel/exit.c (exit_mm) and kernel/sched.c (context_switch, finish_task_switch): which mm a task
// uses, and what a CPU does to its TLB state when it switches tasks. No scheduler: the caller says
// which task a CPU runs next.
//
// A task_struct (mm_types.ts TASK_*) has mm (0 for a kernel thread) and active_mm (the mm whose page
// tables are loaded while it runs: its own, or for a kernel thread the one it borrowed from the task
// before it, pinned with mmgrab). Each CPU's current task is PC_CURRENT; 0 is the idle state, which
// is a kernel thread too: its borrowed mm is PC_IDLE_ACTIVE_MM (0 at boot: init_mm). Threads
// (CLONE_VM) share the mm and count in mm_users. Every task is on the task list (HDR_TASKS, linked
// through tasks_next/tasks_prev) from task_alloc until its CPU switches away from it dead.
//
// Locking: the task list and nr_threads under tasklist_lock (a spinlock word in the header);
// task->mm changes under task_lock (alloc_lock, a spinlock word), as get_task_mm expects;
// context_switch runs on the CPU itself; exit_mm runs on the exiting task's CPU.
import { charge } from "./sched";
import { cost, COST_CTX_SWITCH } from "./cost";
import { TASK_PID, TASK_TGID, TASK_FLAGS, TASK_ALLOC_LOCK, TASK_MM, TASK_ACTIVE_MM, TASK_STATE, TASK_ON_CPU,
  TASK_EXIT_CODE, TASK_PARENT, TASK_TASKS_NEXT, TASK_TASKS_PREV, KMEM_TASK_STRUCT, PF_KTHREAD, PF_EXITING, TASK_RUNNING, TASK_DEAD } from "../mm/mm_types";
import { machine_base, HDR_NEXT_PID, HDR_TASKLIST_LOCK, HDR_TASKS, HDR_NR_THREADS, PC_CURRENT, PC_IDLE_ACTIVE_MM } from "../layout";
import { this_cpu, smp_processor_id } from "../percpu";
import { kmem_cache_alloc, kmem_cache_free } from "../mm/slab";
import { __GFP_ZERO } from "../mm/page_alloc";
import { spin_lock, spin_unlock } from "../locking/spinlock";
import { switch_mm, enter_lazy_tlb, leave_mm } from "../arch/x86/mm_tlb";
import { mmget, mmgrab, mmput, mmdrop } from "../mm/mm_struct";
import { dup_mm } from "./fork_mm";
import { VM_BUG_ON } from "../debug";
import { EINVAL, EBUSY, ESRCH } from "../errno";

/** clone(2) flag: share the address space (a thread). */
export const CLONE_VM: u32 = 0x100;

// @ts-ignore: decorator
@inline function task_mm(t: usize): usize { return <usize>load<u32>(t + TASK_MM); }
// @ts-ignore: decorator
@inline function task_active_mm(t: usize): usize { return <usize>load<u32>(t + TASK_ACTIVE_MM); }

/**
 * task_alloc - a new runnable task using mm (0: a kernel thread, PF_KTHREAD) with a fresh pid, its
 * own thread group. Takes over the caller's user reference on mm. Returns the task, or 0.
 */
export function task_alloc(mm: usize): usize {
  const t = kmem_cache_alloc(KMEM_TASK_STRUCT, __GFP_ZERO);
  if (t == 0) return 0;
  const pid = atomic.add<u32>(machine_base + HDR_NEXT_PID, 1) + 1;
  store<u32>(t + TASK_PID, pid);
  store<u32>(t + TASK_TGID, pid);
  store<u32>(t + TASK_FLAGS, mm == 0 ? PF_KTHREAD : 0);
  store<u32>(t + TASK_MM, <u32>mm);
  store<u32>(t + TASK_ACTIVE_MM, <u32>mm);
  store<u32>(t + TASK_STATE, TASK_RUNNING);
  store<i32>(t + TASK_ON_CPU, -1);
  const lock = machine_base + HDR_TASKLIST_LOCK;
  spin_lock(lock);
  const first = <usize>load<u32>(machine_base + HDR_TASKS);
  store<u32>(t + TASK_TASKS_NEXT, <u32>first);
  if (first != 0) store<u32>(first + TASK_TASKS_PREV, <u32>t);
  store<u32>(machine_base + HDR_TASKS, <u32>t);
  store<u32>(machine_base + HDR_NR_THREADS, load<u32>(machine_base + HDR_NR_THREADS) + 1);
  spin_unlock(lock);
  return t;
}

// release_task: off the task list (tasklist_lock), then freed. The task is dead and runs nowhere.
function release_task(t: usize): void {
  const lock = machine_base + HDR_TASKLIST_LOCK;
  spin_lock(lock);
  const next = <usize>load<u32>(t + TASK_TASKS_NEXT);
  const prev = <usize>load<u32>(t + TASK_TASKS_PREV);
  if (prev != 0) store<u32>(prev + TASK_TASKS_NEXT, <u32>next); else store<u32>(machine_base + HDR_TASKS, <u32>next);
  if (next != 0) store<u32>(next + TASK_TASKS_PREV, <u32>prev);
  store<u32>(machine_base + HDR_NR_THREADS, load<u32>(machine_base + HDR_NR_THREADS) - 1);
  spin_unlock(lock);
  kmem_cache_free(KMEM_TASK_STRUCT, t);
}

/** find_task_by_pid - the live task with pid, or 0. Takes tasklist_lock. */
export function find_task_by_pid(pid: u32): usize {
  const lock = machine_base + HDR_TASKLIST_LOCK;
  spin_lock(lock);
  let t = <usize>load<u32>(machine_base + HDR_TASKS);
  while (t != 0 && (load<u32>(t + TASK_PID) != pid || load<u32>(t + TASK_STATE) == TASK_DEAD)) t = <usize>load<u32>(t + TASK_TASKS_NEXT);
  spin_unlock(lock);
  return t;
}

/** The number of tasks on the task list (nr_threads). */
export function nr_threads(): u32 {
  return atomic.load<u32>(machine_base + HDR_NR_THREADS);
}

/**
 * task_fork - copy_process's mm half: a child of parent that shares its mm (CLONE_VM: a thread of its
 * group, mm_users + 1) or gets a copy (dup_mm). Returns the child, or 0 when memory ran out (nothing
 * is left behind). A kernel thread's child is a kernel thread.
 */
export function task_fork(parent: usize, clone_flags: u32): usize {
  const oldmm = task_mm(parent);
  let mm: usize = 0;
  if (oldmm != 0) {
    if ((clone_flags & CLONE_VM) != 0) {
      mmget(oldmm);
      mm = oldmm;
    } else {
      mm = dup_mm(oldmm);
      if (mm == 0) return 0;
    }
  }
  const t = task_alloc(mm);
  if (t == 0) {
    if (mm != 0) mmput(mm);
    return 0;
  }
  if ((clone_flags & CLONE_VM) != 0) store<u32>(t + TASK_TGID, load<u32>(parent + TASK_TGID));
  store<u32>(t + TASK_PARENT, <u32>parent);
  return t;
}

/**
 * context_switch - make next the current task of this CPU (next not running anywhere else; 0: the
 * idle state): a user task gets its mm loaded (switch_mm, PCID and lazy-TLB rules in
 * arch/x86/mm_tlb.ts); a kernel thread, and the idle state, borrow the previous active_mm (mmgrab)
 * in lazy TLB mode. Then finish_task_switch: a previous kernel thread, the idle state, or an exited
 * task drops its borrowed mm (mmdrop), and a dead one is released. After a task's exit the idle
 * state loads init_mm (leave_mm) rather than borrowing the dead mm: a simplification (README), so
 * that nothing keeps a dead address space's PML4 once every process has exited.
 * Returns 0, -EINVAL (next dead or already current), -EBUSY (next runs on another CPU).
 */
export function context_switch(next: usize): i32 {
  const p = this_cpu();
  const prev = <usize>load<u32>(p + PC_CURRENT);
  if (next == prev) return next == 0 ? 0 : -EINVAL;
  if (next != 0) {
    if (load<u32>(next + TASK_STATE) == TASK_DEAD) return -EINVAL;
    if (load<i32>(next + TASK_ON_CPU) >= 0) return -EBUSY;
  }
  charge(cost(COST_CTX_SWITCH)); // the switch itself (switch_to, register state), charged to this CPU
  const oldmm = prev != 0 ? task_active_mm(prev) : <usize>load<u32>(p + PC_IDLE_ACTIVE_MM);
  const prev_dead = prev != 0 && load<u32>(prev + TASK_STATE) == TASK_DEAD;
  if (next == 0) {
    if (prev_dead) {
      leave_mm();
      store<u32>(p + PC_IDLE_ACTIVE_MM, 0);
    } else {
      if (oldmm != 0) mmgrab(oldmm);
      store<u32>(p + PC_IDLE_ACTIVE_MM, <u32>oldmm);
      enter_lazy_tlb(oldmm);
    }
  } else {
    const mm = task_mm(next);
    if (mm == 0) {
      store<u32>(next + TASK_ACTIVE_MM, <u32>oldmm);
      if (oldmm != 0) mmgrab(oldmm);
      enter_lazy_tlb(oldmm);
    } else {
      const r = switch_mm(oldmm, mm);
      if (r < 0) return r;
    }
  }
  // What the previous context borrowed is given back once the switch is done.
  let drop: usize = 0;
  if (prev != 0) {
    if (task_mm(prev) == 0) {
      drop = oldmm;
      store<u32>(prev + TASK_ACTIVE_MM, 0);
    }
    store<i32>(prev + TASK_ON_CPU, -1);
  } else if (next != 0) {
    drop = oldmm;
    store<u32>(p + PC_IDLE_ACTIVE_MM, 0);
  }
  if (next != 0) store<i32>(next + TASK_ON_CPU, smp_processor_id());
  store<u32>(p + PC_CURRENT, <u32>next);
  // finish_task_switch
  if (drop != 0) mmdrop(drop);
  if (prev_dead) release_task(prev);
  return 0;
}

/**
 * task_run_on - make task t current on this CPU (switching out whatever ran there), so that system
 * calls and accesses issued on this CPU are t's. Returns 0; -ESRCH for a dead task; -EBUSY when t is
 * current on another CPU.
 */
export function task_run_on(t: usize): i32 {
  if (load<u32>(t + TASK_STATE) == TASK_DEAD) return -ESRCH;
  if (<usize>load<u32>(this_cpu() + PC_CURRENT) == t) return 0;
  return context_switch(t);
}

/**
 * use_mm - the current kernel thread adopts mm as its own (mm/mmu_context.c use_mm, as AIO and vhost
 * workers do): task_lock, ->mm and ->active_mm = mm (mmgrab when it was borrowing another), switch_mm.
 * The caller holds a user reference on mm (mmget_not_zero) for as long as it uses it. Such a thread
 * keeps PF_KTHREAD, so get_task_mm refuses its mm (seed 000: PF_BORROWED_MM). Returns 0, or
 * -EINVAL when the current task is not a kernel thread or already has an mm.
 */
export function use_mm(mm: usize): i32 {
  const t = current_task();
  if (t == 0 || (load<u32>(t + TASK_FLAGS) & PF_KTHREAD) == 0 || task_mm(t) != 0 || mm == 0) return -EINVAL;
  spin_lock(t + TASK_ALLOC_LOCK);
  const active = task_active_mm(t);
  if (active != mm) {
    mmgrab(mm);
    store<u32>(t + TASK_ACTIVE_MM, <u32>mm);
  }
  store<u32>(t + TASK_MM, <u32>mm);
  const r = switch_mm(active, mm);
  spin_unlock(t + TASK_ALLOC_LOCK);
  if (active != mm && active != 0) mmdrop(active);
  return r < 0 ? r : 0;
}

/**
 * unuse_mm - the current kernel thread gives up the mm it adopted: ->mm = 0, and it goes on borrowing
 * it lazily as active_mm (enter_lazy_tlb), as Linux's unuse_mm does. Returns 0, or -EINVAL when the
 * current task is not a kernel thread using an mm.
 */
export function unuse_mm(): i32 {
  const t = current_task();
  if (t == 0 || (load<u32>(t + TASK_FLAGS) & PF_KTHREAD) == 0) return -EINVAL;
  const mm = task_mm(t);
  if (mm == 0) return -EINVAL;
  spin_lock(t + TASK_ALLOC_LOCK);
  store<u32>(t + TASK_MM, 0);
  enter_lazy_tlb(mm);
  spin_unlock(t + TASK_ALLOC_LOCK);
  return 0;
}

/**
 * task_exit - do_exit's mm half for the task current on this CPU: exit_mm (the task drops its mm
 * under task_lock but keeps it as active_mm, pinned, in lazy TLB mode, then mmput: the last user tears
 * the address space down), then TASK_DEAD: the next context_switch away drops the pinned mm and frees
 * the task. Returns 0, or -EINVAL when task is not current here.
 */
export function task_exit(task: usize, code: i32): i32 {
  const p = this_cpu();
  if (task == 0 || <usize>load<u32>(p + PC_CURRENT) != task) return -EINVAL;
  atomic.or<u32>(task + TASK_FLAGS, PF_EXITING);
  const mm = task_mm(task);
  if (mm != 0) {
    // exit_mm: serialize with get_task_mm, keep the mm as active_mm until we switch away.
    spin_lock(task + TASK_ALLOC_LOCK);
    mmgrab(mm);
    VM_BUG_ON(task_active_mm(task) != mm, "task_exit: a user task's active_mm is its mm");
    store<u32>(task + TASK_MM, 0);
    spin_unlock(task + TASK_ALLOC_LOCK);
    enter_lazy_tlb(mm);
    mmput(mm);
  }
  store<i32>(task + TASK_EXIT_CODE, code);
  store<u32>(task + TASK_STATE, TASK_DEAD);
  return 0;
}

/** The task current on this CPU, or 0. */
export function current_task(): usize {
  return <usize>load<u32>(this_cpu() + PC_CURRENT);
}
