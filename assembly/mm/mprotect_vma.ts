// mprotect(2)'s vma side, after Linux 2.6.3x mm/mprotect.c (mprotect_fixup, sys_mprotect). The
// page-table side (change_protection) is mm/mprotect.ts (mm-b).
//
// Locking: sys_mprotect takes mmap_sem for write; mprotect_fixup needs it held for write.
import { PAGE_MASK_64 } from "../config";
import { EACCES } from "../errno";
import { syscall_charge } from "../kernel/mm_charge";
import { VMA_FLAGS, VMA_PAGE_PROT, VM_READ, VM_WRITE, VM_EXEC, VM_SHARED, VM_ACCOUNT,
  MM_MMAP_SEM } from "./mm_types";
import { find_vma, vma_merge, split_vma, vm_start, vm_end, vm_next, vm_prev, vm_flags, vm_pgoff, vm_anon_vma,
  vm_file } from "./vma";
import { vm_get_page_prot, calc_vm_prot_bits, PAGE_ALIGN, PROT_READ, PROT_WRITE, PROT_EXEC } from "./mmap";
import { lock_acquire, lock_release, MODE_WRITE } from "../locking/lock";
import { change_protection } from "./mprotect";
import { EINVAL, ENOMEM } from "../errno";


/**
 * mprotect_fixup - give [start, end) of vma (inside it) the flags newflags: merge with a neighbour
 * when the result matches one (vma_merge), else split off the parts outside the range; then set
 * vm_flags and vm_page_prot and change the PTEs. prev is vma's predecessor for the merge (or vma
 * itself when start is inside vma). Caller holds mmap_sem for write. Returns the vma now covering
 * the range's end (the caller's next prev), or -ENOMEM (a split failed; the set is unchanged unless
 * the first of two splits succeeded, as in Linux).
 */
export function mprotect_fixup(mm: usize, vma: usize, prev: usize, start: u64, end: u64, newflags: u32): i64 {
  const oldflags = vm_flags(vma);
  if (newflags == oldflags) return <i64>vma;
  // If we make a private mapping writable we increase our commit; the model keeps no commit limit
  // but marks the vma VM_ACCOUNT as the kernel does.
  if ((newflags & VM_WRITE) != 0 && (oldflags & (VM_ACCOUNT | VM_WRITE | VM_SHARED)) == 0) newflags |= VM_ACCOUNT;

  // First try to merge with the previous and/or next vma.
  const pgoff = vm_pgoff(vma) + <u32>((start - vm_start(vma)) >> 12);
  const merged = vma_merge(mm, prev, start, end, newflags, vm_anon_vma(vma), vm_file(vma), pgoff);
  if (merged != 0) {
    vma = merged;
  } else {
    if (start != vm_start(vma)) {
      const err = split_vma(mm, vma, start, true);
      if (err != 0) return err;
    }
    if (end != vm_end(vma)) {
      const err = split_vma(mm, vma, end, false);
      if (err != 0) return err;
    }
  }
  // vm_flags and vm_page_prot are protected by the mmap_sem held in write mode.
  store<u32>(vma + VMA_FLAGS, newflags);
  store<u64>(vma + VMA_PAGE_PROT, vm_get_page_prot(newflags));
  // The PTEs: change_protection brackets itself with mmu_notifier_invalidate_range_start/end and
  // flushes the TLBs. (No vma_wants_writenotify: the model keeps no dirty accounting for shared
  // file pages, so a shared writable vma's PTEs are writable at once.)
  change_protection(vma, start, end, load<u64>(vma + VMA_PAGE_PROT), 0);
  return <i64>vma;
}

/**
 * sys_mprotect - mprotect(2) on mm: set prot (PROT_READ|PROT_WRITE|PROT_EXEC) on [start, start+len).
 * Takes mmap_sem for write. Returns 0, -EINVAL (misaligned start, unknown prot bits), -ENOMEM (a hole
 * in the range or wraparound; the vmas before the hole keep their new protection, as in Linux),
 * -EACCES (prot beyond a vma's VM_MAY* bits).
 */
export function sys_mprotect(mm: usize, start: u64, len: u64, prot: u32): i32 {
  syscall_charge(); // the system call's entry and exit
  if ((start & ~PAGE_MASK_64) != 0) return -EINVAL;
  if (len == 0) return 0;
  len = PAGE_ALIGN(len);
  const end = start + len;
  if (end <= start) return -ENOMEM;
  if ((prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC)) != 0) return -EINVAL;
  const vm_flags_new = calc_vm_prot_bits(prot);

  lock_acquire(mm + MM_MMAP_SEM, MODE_WRITE, "sys_mprotect");
  let error: i32 = -ENOMEM;
  let vma = find_vma(mm, start);
  let prev: usize = vma != 0 ? vm_prev(vma) : 0;
  if (vma != 0 && vm_start(vma) <= start) {
    if (start > vm_start(vma)) prev = vma;
    let nstart = start;
    while (true) {
      // Here we know that vma->vm_start <= nstart < vma->vm_end.
      const newflags = vm_flags_new | (vm_flags(vma) & ~(VM_READ | VM_WRITE | VM_EXEC));
      // newflags >> 4 shifts VM_MAY* in place of VM_*.
      if (((newflags & ~(newflags >> 4)) & (VM_READ | VM_WRITE | VM_EXEC)) != 0) { error = -EACCES; break; }
      let tmp = vm_end(vma);
      if (tmp > end) tmp = end;
      const r = mprotect_fixup(mm, vma, prev, nstart, tmp, newflags);
      if (r < 0) { error = <i32>r; break; }
      prev = <usize>r;
      nstart = tmp;
      if (nstart < vm_end(prev)) nstart = vm_end(prev);
      if (nstart >= end) { error = 0; break; }
      vma = vm_next(prev);
      if (vma == 0 || vm_start(vma) != nstart) { error = -ENOMEM; break; }
    }
  }
  lock_release(mm + MM_MMAP_SEM, MODE_WRITE);
  return error;
}
