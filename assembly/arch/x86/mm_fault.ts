// User page faults and user memory accesses (arch/x86/mm/fault.c: do_user_addr_fault, access_error).
//
// A user access on a CPU is a translation at CPL 3 (ACC_USER) through the TLB and the walker; a #PF
// goes to do_user_addr_fault, which finds the vma under mmap_sem (read), checks the access against
// the vma's rights and calls handle_mm_fault; the access is then retried, as the CPU re-executes the
// faulting instruction. Stack growth (VM_GROWSDOWN expansion) is not modelled: an access below a vma
// is SIGSEGV.
import { PF_PROT, PF_WRITE, PF_INSTR, ACC_USER, ACC_WRITE, ACC_FETCH } from "./pgtable_types";
import { mmu_translate } from "./mmu";
import { this_cpu } from "../../percpu";
import { frames_base, backed_limit, PC_FAULT_ERROR, PC_FAULT_CR2 } from "../../layout";
import { X86_TRAP_PF, X86_TRAP_GP } from "./fault";
import { MM_MMAP_SEM, VMA_START, VMA_FLAGS, VM_READ, VM_WRITE, VM_EXEC, TASK_MM } from "../../mm/mm_types";
import { lock_acquire, lock_release, MODE_READ } from "../../locking/lock";
import { find_vma } from "../../mm/vma";
import { handle_mm_fault, FAULT_FLAG_WRITE, FAULT_FLAG_INSTRUCTION, FAULT_FLAG_USER, VM_FAULT_OOM,
  VM_FAULT_SIGBUS, VM_FAULT_ERROR } from "../../mm/memory";
import { current_task } from "../../kernel/task";
import { EFAULT, ENOMEM, EINVAL, ESRCH, EIO } from "../../errno";

/** How many times a user access is re-executed after handled faults before it is reported as SIGSEGV. */
export const USER_ACCESS_RETRIES: i32 = 4;

// access_error - true when an access with this error code is not allowed in a vma with these flags.
// @ts-ignore: decorator
@inline function access_error(error_code: u32, vm_flags: u32): bool {
  if ((error_code & PF_WRITE) != 0) return (vm_flags & VM_WRITE) == 0;
  if ((error_code & PF_PROT) != 0) return true; // a read of a present page that faulted: e.g. NX
  return (vm_flags & (VM_READ | VM_EXEC | VM_WRITE)) == 0;
}

/**
 * do_user_addr_fault - handle a #PF with error_code at address for the current task.
 * Takes the mm's mmap_sem for reading. Returns 0 when the fault was handled (retry the access);
 * -EFAULT for SIGSEGV (no vma, or the vma does not allow the access); -ENOMEM when memory ran out
 * (VM_FAULT_OOM); -EIO for SIGBUS (e.g. a file page beyond the end of the file).
 */
export function do_user_addr_fault(error_code: u32, address: u64): i32 {
  const t = current_task();
  if (t == 0) return -ESRCH;
  const mm = <usize>atomic.load<u32>(t + TASK_MM);
  if (mm == 0) return -EFAULT;
  lock_acquire(mm + MM_MMAP_SEM, MODE_READ, "do_user_addr_fault");
  const vma = find_vma(mm, address);
  if (vma == 0 || load<u64>(vma + VMA_START) > address || access_error(error_code, load<u32>(vma + VMA_FLAGS))) {
    lock_release(mm + MM_MMAP_SEM, MODE_READ);
    return -EFAULT; // bad_area: SIGSEGV
  }
  let flags = FAULT_FLAG_USER;
  if ((error_code & PF_WRITE) != 0) flags |= FAULT_FLAG_WRITE;
  if ((error_code & PF_INSTR) != 0) flags |= FAULT_FLAG_INSTRUCTION;
  const fault = handle_mm_fault(mm, vma, address, flags);
  lock_release(mm + MM_MMAP_SEM, MODE_READ);
  if ((fault & VM_FAULT_ERROR) == 0) return 0;
  if ((fault & VM_FAULT_OOM) != 0) return -ENOMEM;
  if ((fault & VM_FAULT_SIGBUS) != 0) return -EIO; // SIGBUS
  return -EFAULT;
}

/**
 * user_access - the current task's 32-bit access (ACC_WRITE stores value; a read returns the word;
 * ACC_FETCH reads as an instruction fetch) at va, which must be 4-byte aligned. Page faults are
 * handled and the access retried, as the CPU re-executes the instruction.
 * Returns the word read (0..2^32-1; 0 after a write or from a frame without contents), or a negative
 * errno: -EINVAL for a misaligned or non-canonical va, -EFAULT for SIGSEGV, -ENOMEM, -EIO (SIGBUS),
 * -ESRCH with no current task.
 */
export function user_access(va: u64, access: u32, value: u32): i64 {
  if ((va & 3) != 0) return -EINVAL;
  if (current_task() == 0) return -ESRCH;
  const p = this_cpu();
  const acc = (access & (ACC_WRITE | ACC_FETCH)) | ACC_USER;
  for (let i = 0; i < USER_ACCESS_RETRIES; i++) {
    const pa = mmu_translate(p, va, acc);
    if (pa >= 0) {
      if (<u64>pa >= backed_limit) return 0; // a metadata-only frame: no contents
      const host = frames_base + <usize>pa;
      if ((acc & ACC_WRITE) != 0) { atomic.store<u32>(host, value); return 0; }
      return <i64>atomic.load<u32>(host);
    }
    if (<i32>pa != -X86_TRAP_PF) return <i32>pa == -X86_TRAP_GP ? -EINVAL : -EFAULT; // #GP: non-canonical; a bus fault
    const r = do_user_addr_fault(load<u32>(p + PC_FAULT_ERROR), load<u64>(p + PC_FAULT_CR2));
    if (r != 0) return r;
  }
  return -EFAULT; // the fault handler kept succeeding without the access getting through
}
