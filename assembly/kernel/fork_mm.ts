// fork's address-space half, after Linux 2.6.3x kernel/fork.c: dup_mm (a new mm like the old one)
// and dup_mmap (copy every vma, give it its anon_vmas with anon_vma_fork, put file vmas on their
// i_mmap trees, and copy the page tables with copy_page_range, which write-protects private pages
// in both).
//
// Locking: dup_mmap takes the parent's mmap_sem for write, then the child's (nested: the child is not
// yet visible to anyone); the i_mmap lock around each file vma's insertion; anon_vma_fork takes the
// anon_vma root locks; copy_page_range the page-table locks.
import { MM_MMAP_SEM, MM_MMAP, MM_RB, MM_MAP_COUNT, MM_MMAP_CACHE, MM_MMAP_BASE, MM_START_BRK, MM_BRK, MM_TOTAL_VM,
  VMA_MM, VMA_NEXT, VMA_PREV, VMA_START, VMA_END, VMA_RB, VMA_ANON_VMA_CHAIN, VMA_SIZE, KMEM_VM_AREA, VM_DONTCOPY, RB_RIGHT } from "../mm/mm_types";
import { kmem_cache_alloc, kmem_cache_free } from "../mm/slab";
import { lock_acquire, lock_release, MODE_WRITE, MODE_NESTED } from "../locking/lock";
import { rb_link_node, rb_insert_color } from "../lib/rbtree";
import { anon_vma_fork } from "../mm/rmap";
import { i_mmap_lock_write, i_mmap_unlock_write } from "../mm/filemap";
import { __vma_link_file, vm_next, vm_flags, vm_file } from "../mm/vma";
import { copy_page_range } from "../mm/memory_copy";
import { mm_alloc, mmput } from "../mm/mm_struct";
import { ENOMEM } from "../errno";

/**
 * dup_mmap - copy oldmm's vmas and page tables into mm (new, empty, not yet visible). Takes both
 * mmap_sems for write (oldmm's first). Returns 0, or -ENOMEM: what was copied stays in mm, for the
 * caller's mmput to tear down (as the kernel's dup_mm does).
 */
export function dup_mmap(mm: usize, oldmm: usize): i32 {
  lock_acquire(oldmm + MM_MMAP_SEM, MODE_WRITE, "dup_mmap");
  lock_acquire(mm + MM_MMAP_SEM, MODE_WRITE | MODE_NESTED, "dup_mmap(child)");
  store<u32>(mm + MM_MMAP, 0);
  store<u32>(mm + MM_MMAP_CACHE, 0);
  store<u32>(mm + MM_MAP_COUNT, 0);
  store<u32>(mm + MM_RB, 0);
  // The vmas arrive in address order: each links as the right child of the previous one (then
  // rebalanced), and at the end of the list.
  let rb_link = mm + MM_RB;
  let rb_parent: usize = 0;
  let pprev = mm + MM_MMAP;
  let prev: usize = 0;
  let retval: i32 = 0;
  for (let mpnt = <usize>load<u32>(oldmm + MM_MMAP); mpnt != 0; mpnt = vm_next(mpnt)) {
    if ((vm_flags(mpnt) & VM_DONTCOPY) != 0) {
      store<u64>(mm + MM_TOTAL_VM, load<u64>(mm + MM_TOTAL_VM) - ((load<u64>(mpnt + VMA_END) - load<u64>(mpnt + VMA_START)) >> 12));
      continue;
    }
    const tmp = kmem_cache_alloc(KMEM_VM_AREA, 0);
    if (tmp == 0) { retval = -ENOMEM; break; }
    memory.copy(tmp, mpnt, VMA_SIZE); // *tmp = *mpnt
    store<u32>(tmp + VMA_ANON_VMA_CHAIN, 0);
    store<u32>(tmp + VMA_MM, <u32>mm);
    store<u32>(tmp + VMA_NEXT, 0);
    if (anon_vma_fork(tmp, mpnt) != 0) {
      kmem_cache_free(KMEM_VM_AREA, tmp);
      retval = -ENOMEM;
      break;
    }
    const mapping = vm_file(tmp);
    if (mapping != 0) {
      // Insert tmp into the share list (Linux: just after mpnt, vma_interval_tree_insert_after; the
      // model inserts by key, which puts it after every vma with the same vm_pgoff).
      i_mmap_lock_write(mapping);
      __vma_link_file(tmp);
      i_mmap_unlock_write(mapping);
    }
    // Link in the new vma and copy the page table entries.
    store<u32>(pprev, <u32>tmp);
    pprev = tmp + VMA_NEXT;
    store<u32>(tmp + VMA_PREV, <u32>prev);
    prev = tmp;
    rb_link_node(tmp + VMA_RB, rb_parent, rb_link);
    rb_insert_color(tmp + VMA_RB, mm + MM_RB);
    rb_link = tmp + VMA_RB + RB_RIGHT;
    rb_parent = tmp + VMA_RB;
    store<u32>(mm + MM_MAP_COUNT, load<u32>(mm + MM_MAP_COUNT) + 1);
    retval = copy_page_range(mm, oldmm, mpnt);
    if (retval != 0) break;
  }
  lock_release(mm + MM_MMAP_SEM, MODE_WRITE | MODE_NESTED);
  lock_release(oldmm + MM_MMAP_SEM, MODE_WRITE);
  return retval;
}

/**
 * dup_mm - a copy of oldmm for a forked child: a new mm (its own PML4 and PCID) with oldmm's layout
 * (mmap_base, start_brk, brk, total_vm), its vmas and page tables (dup_mmap). Returns the mm (one
 * user), or 0 when memory ran out (everything partly copied is freed again).
 */
export function dup_mm(oldmm: usize): usize {
  const mm = mm_alloc();
  if (mm == 0) return 0;
  store<u64>(mm + MM_MMAP_BASE, load<u64>(oldmm + MM_MMAP_BASE));
  store<u64>(mm + MM_START_BRK, load<u64>(oldmm + MM_START_BRK));
  store<u64>(mm + MM_BRK, load<u64>(oldmm + MM_BRK));
  store<u64>(mm + MM_TOTAL_VM, load<u64>(oldmm + MM_TOTAL_VM));
  if (dup_mmap(mm, oldmm) != 0) {
    // free_pt: the child's mmput tears down what dup_mmap copied (exit_mmap).
    mmput(mm);
    return 0;
  }
  return mm;
}
