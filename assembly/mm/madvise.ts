// madvise(2) with MADV_DONTNEED, after Linux 2.6.3x mm/madvise.c: the range walk and its checks.
// Dropping the pages is zap_page_range (mm/memory.ts, mm-b).
//
// Locking: sys_madvise takes mmap_sem for read (MADV_DONTNEED does not change the vma set).
import { syscall_charge } from "../kernel/mm_charge";
import { MM_MMAP_SEM } from "./mm_types";
import { find_vma, vm_start, vm_end, vm_next, vm_prev, vm_flags } from "./vma";
import { PAGE_SIZE_64, PAGE_MASK_64 } from "../config";
import { lock_acquire, lock_release, MODE_READ } from "../locking/lock";
import { zap_page_range } from "./memory_unmap";
import { EINVAL, ENOMEM } from "../errno";

export const MADV_NORMAL: i32 = 0;
export const MADV_DONTNEED: i32 = 4;
/** VM_LOCKED, VM_HUGETLB, VM_PFNMAP (include/linux/mm.h): vmas madvise(DONTNEED) refuses. */
const VM_LOCKED: u32 = 0x2000;
const VM_PFNMAP: u32 = 0x400;
const VM_HUGETLB: u32 = 0x400000;

/**
 * madvise_dontneed - drop the pages of [start, end) in vma (the range is inside it). Caller holds
 * mmap_sem for read. Returns 0, or -EINVAL for a locked, hugetlb or PFN-map vma.
 */
export function madvise_dontneed(vma: usize, start: u64, end: u64): i32 {
  if ((vm_flags(vma) & (VM_LOCKED | VM_HUGETLB | VM_PFNMAP)) != 0) return -EINVAL;
  zap_page_range(vma, start, end - start);
  return 0;
}

/**
 * sys_madvise - madvise(2) on mm for behavior MADV_DONTNEED (MADV_NORMAL: accepted, nothing to do).
 * Takes mmap_sem for read. Returns 0; -EINVAL for an unknown behavior, a misaligned start, a length
 * that wraps; -ENOMEM when part of the range is unmapped (the mapped parts are still advised).
 */
export function sys_madvise(mm: usize, start: u64, len_in: u64, behavior: i32): i32 {
  syscall_charge(); // the system call's entry and exit
  if (behavior != MADV_DONTNEED && behavior != MADV_NORMAL) return -EINVAL;
  if ((start & ~PAGE_MASK_64) != 0) return -EINVAL;
  const len = (len_in + PAGE_SIZE_64 - 1) & PAGE_MASK_64;
  // Check to see whether len was rounded up from small -ve to zero.
  if (len_in != 0 && len == 0) return -EINVAL;
  const end = start + len;
  if (end < start) return -EINVAL;
  if (end == start) return 0;

  lock_acquire(mm + MM_MMAP_SEM, MODE_READ, "sys_madvise");
  let error: i32 = 0, unmapped_error: i32 = 0;
  let vma = find_vma(mm, start);
  let prev: usize = vma != 0 ? vm_prev(vma) : 0;
  if (vma != 0 && start > vm_start(vma)) prev = vma;
  while (true) {
    // Still start < end.
    error = -ENOMEM;
    if (vma == 0) break;
    // Here start < (end | vma->vm_end).
    if (start < vm_start(vma)) {
      unmapped_error = -ENOMEM;
      start = vm_start(vma);
      if (start >= end) break;
    }
    // Here vma->vm_start <= start < (end | vma->vm_end).
    let tmp = vm_end(vma);
    if (end < tmp) tmp = end;
    // Here vma->vm_start <= start < tmp <= (end | vma->vm_end).
    error = behavior == MADV_DONTNEED ? madvise_dontneed(vma, start, tmp) : 0;
    if (error != 0) break;
    prev = vma;
    start = tmp;
    if (start < vm_end(prev)) start = vm_end(prev);
    error = unmapped_error;
    if (start >= end) break;
    vma = vm_next(prev);
  }
  lock_release(mm + MM_MMAP_SEM, MODE_READ);
  return error;
}
