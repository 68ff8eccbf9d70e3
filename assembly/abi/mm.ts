// Address spaces and page tables: exports for the host and the tests.
// Part of the core's exported interface (assembly/index.ts re-exports every file of assembly/abi/).
import { EINVAL } from "../errno";
import { mm_alloc, mmput, mmdrop, mmget, mm_setup_brk } from "../mm/mm_struct";
import { sys_mmap, sys_munmap, sys_brk } from "../mm/mmap";
import { sys_mprotect } from "../mm/mprotect_vma";
import { dup_mm } from "../kernel/fork_mm";
import { task_alloc, task_fork, context_switch, task_exit, current_task } from "../kernel/task";
import { sys_madvise } from "../mm/madvise";
import { test_vma_merge, test_vma_split, test_vma_adjust, test_find_vma } from "../lib/test_mmap";
import { enter } from "./enter";

// ---- the MM core's page-table side (mm-b: mm/pgtable.ts, mm/mmu_gather.ts, arch/x86/mm_tlb.ts,
// mm/memory.ts, mm/mprotect.ts, mm/mmu_notifier.ts; test kernels in lib/test_memory.ts) ----
export * from "../lib/test_memory";

// ---------------------------------------------------------------------------------------------
// Address spaces (mm/mm_struct.ts, mm/vma.ts, mm/mmap.ts, mm/mprotect_vma.ts, mm/madvise.ts).
// The syscalls take mmap_sem themselves; results are the kernel's (addresses or -errno).
// ---------------------------------------------------------------------------------------------
export { MMC_VMA_ADJUST_ANON_ALWAYS } from "../layout";
export { PROT_READ, PROT_WRITE, PROT_EXEC, MAP_SHARED, MAP_PRIVATE, MAP_FIXED, MAP_ANONYMOUS } from "../mm/mmap";
export { MADV_DONTNEED } from "../mm/madvise";
export { VM_EXEC, VM_ACCOUNT } from "../mm/mm_types";
/** A new empty address space (mm_alloc), or 0. */
export function cpu_mm_alloc(cpu: i32): usize { return enter(cpu) ? mm_alloc() : 0; }
/** mmput: drop a user; the last one tears the address space down and drops its reference. */
export function cpu_mmput(cpu: i32, mm: usize): i32 { if (!enter(cpu)) return -EINVAL; mmput(mm); return 0; }
export function cpu_mmget(cpu: i32, mm: usize): i32 { if (!enter(cpu)) return -EINVAL; mmget(mm); return 0; }
export function cpu_mmdrop(cpu: i32, mm: usize): i32 { if (!enter(cpu)) return -EINVAL; mmdrop(mm); return 0; }
/** start_brk = brk = addr, as exec's loader sets them. */
export function cpu_mm_setup_brk(cpu: i32, mm: usize, addr: u64): i32 { return enter(cpu) ? mm_setup_brk(mm, addr) : -EINVAL; }
/** mmap(2) on mm: the address or -errno. */
export function cpu_mmap(cpu: i32, mm: usize, addr: u64, len: u64, prot: u32, flags: u32, file: usize, pgoff: u32): i64 {
  return enter(cpu) ? sys_mmap(mm, addr, len, prot, flags, file, pgoff) : -EINVAL;
}
/** munmap(2) on mm: 0 or -errno. */
export function cpu_munmap(cpu: i32, mm: usize, addr: u64, len: u64): i32 { return enter(cpu) ? sys_munmap(mm, addr, len) : -EINVAL; }
/** brk(2) on mm: the break after the call. */
export function cpu_brk(cpu: i32, mm: usize, brk: u64): i64 { return enter(cpu) ? <i64>sys_brk(mm, brk) : -EINVAL; }
/** mprotect(2) on mm: 0 or -errno. */
export function cpu_mprotect(cpu: i32, mm: usize, start: u64, len: u64, prot: u32): i32 {
  return enter(cpu) ? sys_mprotect(mm, start, len, prot) : -EINVAL;
}
/** madvise(2) on mm: 0 or -errno. */
export function cpu_madvise(cpu: i32, mm: usize, start: u64, len: u64, behavior: i32): i32 {
  return enter(cpu) ? sys_madvise(mm, start, len, behavior) : -EINVAL;
}
/** fork's dup_mm: a copy of oldmm (vmas, anon_vmas, COW page tables) with one user, or 0 (-ENOMEM). */
export function cpu_dup_mm(cpu: i32, oldmm: usize): usize { return enter(cpu) ? dup_mm(oldmm) : 0; }
/** A new task using mm (0: a kernel thread); takes over a user reference on mm. The task, or 0. */
export function cpu_task_alloc(cpu: i32, mm: usize): usize { return enter(cpu) ? task_alloc(mm) : 0; }
/** fork/clone: a child of parent sharing (CLONE_VM 0x100) or copying its mm. The child, or 0 (-ENOMEM). */
export function cpu_task_fork(cpu: i32, parent: usize, clone_flags: u32): usize { return enter(cpu) ? task_fork(parent, clone_flags) : 0; }
/** Run next on CPU cpu (switch_mm or lazy borrowing). 0 or -errno. */
export function cpu_context_switch(cpu: i32, next: usize): i32 { return enter(cpu) ? context_switch(next) : -EINVAL; }
/** The task current on CPU cpu exits (exit_mm, then TASK_DEAD). 0 or -EINVAL. */
export function cpu_task_exit(cpu: i32, task: usize, code: i32): i32 { return enter(cpu) ? task_exit(task, code) : -EINVAL; }
/** CPU cpu's current task, or 0. */
export function cpu_current_task(cpu: i32): usize { return enter(cpu) ? current_task() : 0; }
export { CLONE_VM } from "../kernel/task";
export { TASK_PID, TASK_TGID, TASK_MM, TASK_ACTIVE_MM, TASK_STATE, TASK_ON_CPU } from "../mm/mm_types";
/** find_vma under mmap_sem for read: the first vma ending above addr, or 0. */
export function cpu_find_vma(cpu: i32, mm: usize, addr: u64): usize { return enter(cpu) ? test_find_vma(mm, addr) : 0; }

// Test kernels (lib/test_mmap.ts).
export function cpu_test_vma_merge(cpu: i32, mm: usize, prev: usize, addr: u64, end: u64, flags: u32, av: usize, file: usize, pgoff: u32): usize {
  return enter(cpu) ? test_vma_merge(mm, prev, addr, end, flags, av, file, pgoff) : 0;
}
export function cpu_test_vma_split(cpu: i32, mm: usize, vma: usize, addr: u64, new_below: bool): i32 {
  return enter(cpu) ? test_vma_split(mm, vma, addr, new_below) : -EINVAL;
}
export function cpu_test_vma_adjust(cpu: i32, mm: usize, vma: usize, start: u64, end: u64, pgoff: u32): i32 {
  return enter(cpu) ? test_vma_adjust(mm, vma, start, end, pgoff) : -EINVAL;
}

