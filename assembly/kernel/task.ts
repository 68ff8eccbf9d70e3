// Tasks and their address spaces, after Linux 2.6.3x kernel/fork.c (copy_mm with CLONE_VM),
// kernel/exit.c (exit_mm) and kernel/sched.c (context_switch, finish_task_switch): which mm a task
// uses, and what a CPU does to its TLB state when it switches tasks. No scheduler: the caller says
// which task a CPU runs next.
//
// A task_struct (mm_types.ts TASK_*) has mm (0 for a kernel thread) and active_mm (the mm whose page
// tables are loaded while it runs: its own, or for a kernel thread the one it borrowed from the task
// before it, pinned with mmgrab). Each CPU's current task is PC_CURRENT (0: none yet, as at boot,
// with init_mm loaded). Threads (CLONE_VM) share the mm and count in mm_users.
//
// Locking: task->mm changes under task_lock (alloc_lock, a spinlock word), as get_task_mm expects;
// context_switch runs on the CPU itself; exit_mm runs on the exiting task's CPU.
import { TASK_PID, TASK_TGID, TASK_FLAGS, TASK_ALLOC_LOCK, TASK_MM, TASK_ACTIVE_MM, TASK_STATE, TASK_ON_CPU,
  TASK_EXIT_CODE, TASK_PARENT, KMEM_TASK_STRUCT, PF_KTHREAD, PF_EXITING, TASK_RUNNING, TASK_DEAD } from "../mm/mm_types";
import { machine_base, HDR_NEXT_PID, PC_CURRENT } from "../layout";
import { this_cpu, smp_processor_id } from "../percpu";
import { kmem_cache_alloc, kmem_cache_free } from "../mm/slab";
import { __GFP_ZERO } from "../mm/page_alloc";
import { spin_lock, spin_unlock } from "../locking/spinlock";
import { switch_mm, enter_lazy_tlb } from "../arch/x86/mm_tlb";
import { mmget, mmgrab, mmput, mmdrop } from "../mm/mm_struct";
import { dup_mm } from "./fork_mm";
import { VM_BUG_ON } from "../debug";
import { EINVAL, EBUSY } from "../errno";

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
  return t;
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
 * context_switch - make next the current task of this CPU (not running anywhere else): a user task
 * gets its mm loaded (switch_mm, PCID and lazy-TLB rules in arch/x86/mm_tlb.ts); a kernel thread
 * borrows the previous task's active_mm (mmgrab) and enters lazy TLB mode. Then finish_task_switch:
 * a previous kernel thread (or exited task) drops its borrowed mm (mmdrop), a dead one is freed.
 * Returns 0, -EINVAL (next is 0, dead, or already current), -EBUSY (next runs on another CPU).
 */
export function context_switch(next: usize): i32 {
  const p = this_cpu();
  const prev = <usize>load<u32>(p + PC_CURRENT);
  if (next == 0 || next == prev || load<u32>(next + TASK_STATE) == TASK_DEAD) return -EINVAL;
  if (load<i32>(next + TASK_ON_CPU) >= 0) return -EBUSY;
  const oldmm = prev != 0 ? task_active_mm(prev) : 0; // no task yet: init_mm (0)
  const mm = task_mm(next);
  if (mm == 0) {
    store<u32>(next + TASK_ACTIVE_MM, <u32>oldmm);
    if (oldmm != 0) mmgrab(oldmm);
    enter_lazy_tlb(oldmm);
  } else {
    const r = switch_mm(oldmm, mm);
    if (r < 0) return r;
  }
  let drop: usize = 0;
  if (prev != 0) {
    if (task_mm(prev) == 0) {
      drop = oldmm;
      store<u32>(prev + TASK_ACTIVE_MM, 0);
    }
    store<i32>(prev + TASK_ON_CPU, -1);
  }
  store<i32>(next + TASK_ON_CPU, smp_processor_id());
  store<u32>(p + PC_CURRENT, <u32>next);
  // finish_task_switch
  if (drop != 0) mmdrop(drop);
  if (prev != 0 && load<u32>(prev + TASK_STATE) == TASK_DEAD) kmem_cache_free(KMEM_TASK_STRUCT, prev);
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
