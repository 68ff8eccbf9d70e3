// Test kernels for the vma set (mm/vma.ts, mm/mmap.ts): direct calls of vma_merge, split_vma and
// vma_adjust under mmap_sem, and the objects the tests need before mm-c's rmap and filemap exist:
// a bare anon_vma (its lock and root, no chains) and a bare address_space (its i_mmap lock and tree).
import { kmem_cache_alloc } from "../mm/slab";
import { __GFP_ZERO } from "../mm/page_alloc";
import { KMEM_ANON_VMA, KMEM_ADDRESS_SPACE, AV_LOCK, AV_ROOT, AV_REFCOUNT, AS_I_MMAP_LOCK, AS_SIZE_PAGES, AS_INO,
  VMA_ANON_VMA, MM_MMAP_SEM } from "../mm/mm_types";
import { lock_init, lock_acquire, lock_release, MODE_WRITE, MODE_READ } from "../locking/lock";
import { LOCK_CLASS_ANON_VMA, LOCK_CLASS_I_MMAP } from "../locking/lock_types";
import { vma_merge, split_vma, vma_adjust, find_vma } from "../mm/vma";

/**
 * A root anon_vma with its lock initialised (what anon_vma_alloc gives), for tests that attach one to
 * a vma by hand. TODO(integrate): tests can use mm-c's anon_vma_prepare once merged.
 */
export function test_anon_vma_new(): usize {
  const av = kmem_cache_alloc(KMEM_ANON_VMA, __GFP_ZERO);
  if (av == 0) return 0;
  lock_init(av + AV_LOCK, LOCK_CLASS_ANON_VMA, 0);
  store<u32>(av + AV_ROOT, <u32>av);
  store<i32>(av + AV_REFCOUNT, 1);
  return av;
}

/** A file (address_space) of size_pages with its i_mmap lock initialised and inode number ino. */
export function test_file_new(size_pages: u32, ino: u32): usize {
  const as = kmem_cache_alloc(KMEM_ADDRESS_SPACE, __GFP_ZERO);
  if (as == 0) return 0;
  lock_init(as + AS_I_MMAP_LOCK, LOCK_CLASS_I_MMAP, 0);
  store<u32>(as + AS_SIZE_PAGES, size_pages);
  store<u32>(as + AS_INO, ino);
  return as;
}

/** vma->anon_vma = av (as anon_vma_prepare would leave it, without the chain). */
export function test_vma_set_anon_vma(vma: usize, av: usize): i32 {
  store<u32>(vma + VMA_ANON_VMA, <u32>av);
  return 0;
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
