// Test kernels for the vma set (mm/vma.ts, mm/mmap.ts): direct calls of vma_merge, split_vma and
// vma_adjust under mmap_sem, and a bare address_space (its i_mmap lock and tree) for file mappings
// until mm-c's filemap.ts (address_space_create) is merged.
import { kmem_cache_alloc } from "../mm/slab";
import { __GFP_ZERO } from "../mm/page_alloc";
import { KMEM_ADDRESS_SPACE, AS_I_MMAP_LOCK, AS_SIZE_PAGES, AS_INO, MM_MMAP_SEM } from "../mm/mm_types";
import { lock_init, lock_acquire, lock_release, MODE_WRITE, MODE_READ } from "../locking/lock";
import { LOCK_CLASS_I_MMAP } from "../locking/lock_types";
import { vma_merge, split_vma, vma_adjust, find_vma } from "../mm/vma";

/** A file (address_space) of size_pages with its i_mmap lock initialised and inode number ino. */
export function test_file_new(size_pages: u32, ino: u32): usize {
  const as = kmem_cache_alloc(KMEM_ADDRESS_SPACE, __GFP_ZERO);
  if (as == 0) return 0;
  lock_init(as + AS_I_MMAP_LOCK, LOCK_CLASS_I_MMAP, 0);
  store<u32>(as + AS_SIZE_PAGES, size_pages);
  store<u32>(as + AS_INO, ino);
  return as;
}

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
