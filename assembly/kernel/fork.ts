// fork and clone as the MM sees them (kernel/fork.c: copy_process -> copy_mm -> dup_mm -> dup_mmap).
//
// dup_mmap holds the parent's mmap_sem for writing and the child's (new, invisible to anyone else) for
// writing too, as Linux does (SINGLE_DEPTH_NESTING), and walks the parent's vmas in order: each is
// copied (vm_area_dup), joined to the anon_vma tree (anon_vma_fork: a child anon_vma chained under the
// parent's, 2.6.34; or with the 2.6.25 design the parent's anon_vma itself), linked to its file's
// i_mmap tree next to the parent's vma (under the i_mmap lock), linked into the child's vma set, and
// its page tables copied (copy_page_range: private writable PTEs write-protected in both, frames
// shared). A failure anywhere returns -ENOMEM: the child mm, with whatever it got so far, is torn down
// by mmput like any other (exit_mmap), so nothing leaks and nothing stays half-linked.
import { KMEM_VM_AREA, VMA_SIZE, VMA_MM, VMA_NEXT, VMA_PREV, VMA_RB, VMA_START, VMA_END, VMA_FLAGS, 
  VMA_ANON_VMA, VMA_ANON_VMA_CHAIN, VMA_SHARED_RB, VMA_SHARED_SUBTREE_LAST, VM_DONTCOPY, MM_MMAP, MM_MMAP_SEM,
  MM_USERS, MM_START_BRK, MM_BRK, MM_MMAP_BASE, MM_TASK_SIZE, MM_TOTAL_VM, RB_NODE_SIZE } from "../mm/mm_types";
import { kmem_cache_alloc, kmem_cache_free } from "../mm/slab";
import { lock_acquire, lock_release, MODE_WRITE, MODE_NESTED } from "../locking/lock";
import { mm_alloc, mmput } from "../mm/mm_struct";
import { find_vma_links, vma_link } from "../mm/vma";
import { anon_vma_fork } from "../mm/rmap";
import { copy_page_range } from "../mm/memory_copy";
import { flush_tlb_mm, TLB_CAUSE_COW } from "../arch/x86/mm_tlb";
import { ENOMEM } from "../errno";
import { VM_BUG_ON } from "../debug";

/**
 * vm_area_dup - a copy of vma (every field; the list, tree, anon_vma chain and i_mmap links cleared
 * for the caller to set). Returns the copy, or 0 when the kernel heap is exhausted.
 */
export function vm_area_dup(vma: usize): usize {
  const n = kmem_cache_alloc(KMEM_VM_AREA, 0);
  if (n == 0) return 0;
  memory.copy(n, vma, VMA_SIZE);
  store<u32>(n + VMA_NEXT, 0);
  store<u32>(n + VMA_PREV, 0);
  memory.fill(n + VMA_RB, 0, RB_NODE_SIZE);
  store<u32>(n + VMA_ANON_VMA, 0);
  store<u32>(n + VMA_ANON_VMA_CHAIN, 0);
  memory.fill(n + VMA_SHARED_RB, 0, RB_NODE_SIZE);
  store<u64>(n + VMA_SHARED_SUBTREE_LAST, 0);
  return n;
}

/**
 * dup_mmap - copy oldmm's vmas and page tables into the new mm (kernel/fork.c).
 * Takes oldmm's mmap_sem for writing and mm's nested. Returns 0 or -ENOMEM; on failure mm holds a
 * consistent prefix of the copy, which the caller releases with mmput.
 */
export function dup_mmap(mm: usize, oldmm: usize): i32 {
  lock_acquire(oldmm + MM_MMAP_SEM, MODE_WRITE, "dup_mmap");
  lock_acquire(mm + MM_MMAP_SEM, MODE_WRITE | MODE_NESTED, "dup_mmap");
  store<u64>(mm + MM_START_BRK, load<u64>(oldmm + MM_START_BRK));
  store<u64>(mm + MM_BRK, load<u64>(oldmm + MM_BRK));
  store<u64>(mm + MM_MMAP_BASE, load<u64>(oldmm + MM_MMAP_BASE));
  store<u64>(mm + MM_TASK_SIZE, load<u64>(oldmm + MM_TASK_SIZE));
  let err: i32 = 0;
  for (let mpnt = load<u32>(oldmm + MM_MMAP); mpnt != 0; mpnt = load<u32>(mpnt + VMA_NEXT)) {
    if ((load<u32>(mpnt + VMA_FLAGS) & VM_DONTCOPY) != 0) continue;
    const tmp = vm_area_dup(mpnt);
    if (tmp == 0) { err = -ENOMEM; break; }
    store<u32>(tmp + VMA_MM, mm);
    if (load<u32>(mpnt + VMA_ANON_VMA) != 0 && anon_vma_fork(tmp, mpnt) != 0) {
      kmem_cache_free(KMEM_VM_AREA, tmp);
      err = -ENOMEM;
      break;
    }
    // Linked after the previous copy: into the child's list and tree, and (file vmas) its file's
    // i_mmap tree under the i_mmap lock (vma_link).
    const links = find_vma_links(mm, load<u64>(tmp + VMA_START), load<u64>(tmp + VMA_END));
    VM_BUG_ON(links < 0, "dup_mmap: the child's vmas do not overlap");
    vma_link(mm, tmp, <usize>(<u64>links & 0xffffffff), <usize>(<u64>links >> 32));
    store<u64>(mm + MM_TOTAL_VM, load<u64>(mm + MM_TOTAL_VM) + ((load<u64>(tmp + VMA_END) - load<u64>(tmp + VMA_START)) >> 12));
    err = copy_page_range(mm, oldmm, mpnt);
    if (err != 0) break;
  }
  // The parent's private writable PTEs are now write-protected: its TLBs must drop the writable
  // entries before it runs on (Linux: flush_tlb_mm(oldmm) at the end of dup_mmap).
  flush_tlb_mm(oldmm, TLB_CAUSE_COW);
  lock_release(mm + MM_MMAP_SEM, MODE_WRITE | MODE_NESTED);
  lock_release(oldmm + MM_MMAP_SEM, MODE_WRITE);
  return err;
}

/**
 * dup_mm - a new mm that is a copy of oldmm (mm_users 1). Returns the mm, or 0 on -ENOMEM (the
 * partial copy already released).
 */
export function dup_mm(oldmm: usize): usize {
  const mm = mm_alloc();
  if (mm == 0) return 0;
  if (dup_mmap(mm, oldmm) != 0) {
    mmput(mm);
    return 0;
  }
  return mm;
}

/** CLONE_VM: the child shares the parent's mm (a thread). */
export const CLONE_VM: u32 = 0x100;

/**
 * copy_mm - the child's mm for clone_flags: with CLONE_VM the parent's (mm_users + 1), else a copy.
 * Returns the mm, or 0 on -ENOMEM.
 */
export function copy_mm(clone_flags: u32, oldmm: usize): usize {
  if ((clone_flags & CLONE_VM) != 0) {
    atomic.add<i32>(oldmm + MM_USERS, 1); // mmget
    return oldmm;
  }
  return dup_mm(oldmm);
}
