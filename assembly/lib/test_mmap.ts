// Test kernels for the vma set (mm/vma.ts, mm/mmap.ts): direct calls of vma_merge, split_vma and
// vma_adjust under mmap_sem (files come from mm-c's address_space_create).
import { MM_MMAP_SEM } from "../mm/mm_types";
import { lock_acquire, lock_release, MODE_WRITE, MODE_READ } from "../locking/lock";
import { vma_merge, split_vma, vma_adjust, find_vma } from "../mm/vma";

/** vma_merge under mmap_sem for write; returns the merged vma or 0. */
export function test_vma_merge(mm: usize, prev: usize, addr: u64, end: u64, flags: u32, av: usize, file: usize, pgoff: u32): usize {
  lock_acquire(mm + MM_MMAP_SEM, MODE_WRITE, "test_vma_merge");
  const r = vma_merge(mm, prev, addr, end, flags, av, file, pgoff);
  lock_release(mm + MM_MMAP_SEM, MODE_WRITE);
  return r;
}

/** split_vma under mmap_sem for write. */
export function test_vma_split(mm: usize, vma: usize, addr: u64, new_below: bool): i32 {
  lock_acquire(mm + MM_MMAP_SEM, MODE_WRITE, "test_split_vma");
  const r = split_vma(mm, vma, addr, new_below);
  lock_release(mm + MM_MMAP_SEM, MODE_WRITE);
  return r;
}

/** vma_adjust (no insert) under mmap_sem for write. */
export function test_vma_adjust(mm: usize, vma: usize, start: u64, end: u64, pgoff: u32): i32 {
  lock_acquire(mm + MM_MMAP_SEM, MODE_WRITE, "test_vma_adjust");
  const r = vma_adjust(vma, start, end, pgoff, 0);
  lock_release(mm + MM_MMAP_SEM, MODE_WRITE);
  return r;
}

/** find_vma under mmap_sem for read. */
export function test_find_vma(mm: usize, addr: u64): usize {
  lock_acquire(mm + MM_MMAP_SEM, MODE_READ, "test_find_vma");
  const r = find_vma(mm, addr);
  lock_release(mm + MM_MMAP_SEM, MODE_READ);
  return r;
}
