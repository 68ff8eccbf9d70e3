// Exit as the MM sees it (kernel/exit.c: do_exit -> exit_mm -> mmput -> exit_mmap).
import { TASK_MM, TASK_ACTIVE_MM, TASK_STATE, TASK_DEAD, TASK_FLAGS, PF_EXITING, MM_COUNT } from "../mm/mm_types";
import { mmput } from "../mm/mm_struct";
import { enter_lazy_tlb } from "../arch/x86/mm_tlb";
import { task_lock, task_unlock, task_set_dead, context_switch, release_task, current } from "./task";
import { VM_BUG_ON } from "../debug";

/**
 * exit_mm - detach the current task t from its mm: t keeps it as active_mm (an mm_count reference, in
 * lazy-TLB mode) until it is switched out, and drops its mm_users reference (mmput: the last user's
 * exit_mmap tears the address space down). Holds nothing.
 */
export function exit_mm(t: usize): void {
  const mm = load<u32>(t + TASK_MM);
  if (mm == 0) return;
  atomic.add<i32>(mm + MM_COUNT, 1); // mmgrab: active_mm
  task_lock(t);
  atomic.store<u32>(t + TASK_MM, 0);
  store<u32>(t + TASK_ACTIVE_MM, mm);
  task_unlock(t);
  enter_lazy_tlb(mm);
  mmput(mm);
}

/**
 * do_exit - the current task exits with code: its mm is released (exit_mm), it is marked dead,
 * switched out (the CPU goes idle) and freed. Must run on the CPU where t is current.
 */
export function do_exit(t: usize, code: i32): void {
  VM_BUG_ON(current() != t, "do_exit: the task runs here");
  store<u32>(t + TASK_FLAGS, load<u32>(t + TASK_FLAGS) | PF_EXITING);
  exit_mm(t);
  task_set_dead(t, code);
  context_switch(0);
  VM_BUG_ON(load<u32>(t + TASK_STATE) != TASK_DEAD, "do_exit: dead");
  release_task(t);
}
