// fork's copy of the page tables (mm/memory.c: copy_page_range, copy_pud/pmd/pte_range, copy_one_pte).
//
// For every vma dup_mmap copies, the child gets page tables of its own that map the same frames: a
// private writable PTE is write-protected in parent AND child (both fault on the next write: COW); a
// shared mapping's PTEs are copied clean; every mapped page gains a reference (get_page) and a
// mapping (page_dup_rmap), and counts in the child's RSS. Around the copy of a COW mapping the
// parent's mmu notifiers see invalidate_range_start/end, balanced on every path, including -ENOMEM
// when a child page table cannot be allocated (seed 002: Jack Steiner's report, Andrea Arcangeli's
// fix: the error path used to return without invalidate_range_end).
// Locks: both mmap_sems held for write by dup_mmap; per PTE page the child's pte lock, then the
// parent's (nested, the kernel's SINGLE_DEPTH_NESTING); child tables are allocated with no pte lock held.
// Difference from Linux: the write-protected parent PTEs are flushed from every TLB here, per vma
// (cause COW), where dup_mmap calls flush_tlb_mm(oldmm) once at the end; no periodic lock break
// (need_resched) in copy_pte_range.
import { PAGE_SIZE_64 } from "../config";
import { VMA_START, VMA_END, VMA_FLAGS, VMA_ANON_VMA, VM_SHARED, MM_SWAPENTS } from "./mm_types";
import { pgd_offset, pud_offset, pmd_offset, pte_offset_map, pte_lockptr, pud_alloc, pmd_alloc, pte_alloc,
  table_present, ptep_get, ptep_set_wrprotect, set_pte_at, pte_none, pte_present, pte_write, pte_wrprotect,
  pte_mkclean, pte_mkold, pgd_addr_end, pud_addr_end, pmd_addr_end, add_mm_counter } from "./pgtable";
import { get_page } from "./page_alloc";
import { lock_acquire, lock_release, MODE_WRITE, MODE_NESTED } from "../locking/lock";
import { flush_tlb_mm_range, TLB_CAUSE_COW } from "../arch/x86/mm_tlb";
import { mmu_notifier_invalidate_range_start, mmu_notifier_invalidate_range_end } from "./mmu_notifier";
import { vm_normal_page, mm_counter, is_cow_mapping } from "./memory";
import { page_dup_rmap } from "./rmap";
import { is_migration_entry, is_write_migration_entry, make_migration_entry_read, migration_entry_to_pfn } from "./swapops";
import { ENOMEM } from "../errno";

// copy_one_pte: returns 1 if it write-protected the parent's PTE, else 0. Both pte locks held.
function copy_one_pte(dst_mm: usize, dst_pte: usize, src_pte: usize, vm_flags: u32): i32 {
  let pte = ptep_get(src_pte);
  if (!pte_present(pte)) {
    // A swap or migration entry. A write migration entry of a COW mapping becomes a read one in both
    // (the page must be write-faulted after the migration). The child's RSS counts it.
    // Swap entries: MM_SWAPENTS (the mmlist insertion of seed 000 belongs to swap, not modelled).
    if (is_migration_entry(pte)) {
      if (is_write_migration_entry(pte) && is_cow_mapping(vm_flags)) {
        pte = make_migration_entry_read(pte);
        set_pte_at(src_pte, pte);
      }
      // The entry holds neither a reference nor a mapcount (try_to_unmap dropped them;
      // remove_migration_ptes adds them to the new page for every entry, the child's too).
      add_mm_counter(dst_mm, mm_counter(migration_entry_to_pfn(pte)), 1);
    } else {
      add_mm_counter(dst_mm, MM_SWAPENTS, 1);
    }
    set_pte_at(dst_pte, pte);
    return 0;
  }
  let wp = 0;
  if (is_cow_mapping(vm_flags) && pte_write(pte)) {
    ptep_set_wrprotect(src_pte);
    pte = pte_wrprotect(ptep_get(src_pte));
    wp = 1;
  }
  if ((vm_flags & VM_SHARED) != 0) pte = pte_mkclean(pte);
  pte = pte_mkold(pte);
  const r = vm_normal_page(pte);
  if (r >= 0) {
    const pfn = <u32>r;
    get_page(pfn);
    page_dup_rmap(pfn);
    add_mm_counter(dst_mm, mm_counter(pfn), 1);
  }
  set_pte_at(dst_pte, pte);
  return wp;
}

function copy_pte_range(dst_mm: usize, src_mm: usize, dst_pmd: usize, src_pmd: usize, vm_flags: u32, addr: u64, end: u64): i32 {
  if (pte_alloc(dst_mm, dst_pmd) < 0) return -ENOMEM;
  const dst_ptl = pte_lockptr(dst_mm, dst_pmd);
  const src_ptl = pte_lockptr(src_mm, src_pmd);
  lock_acquire(dst_ptl, MODE_WRITE, "copy_pte_range");
  if (src_ptl != dst_ptl) lock_acquire(src_ptl, MODE_WRITE | MODE_NESTED, "copy_pte_range(src)");
  let wp = 0;
  for (; addr != end; addr += PAGE_SIZE_64) {
    const src_pte = pte_offset_map(src_pmd, addr);
    if (pte_none(ptep_get(src_pte))) continue;
    wp += copy_one_pte(dst_mm, pte_offset_map(dst_pmd, addr), src_pte, vm_flags);
  }
  if (src_ptl != dst_ptl) lock_release(src_ptl, MODE_WRITE | MODE_NESTED);
  lock_release(dst_ptl, MODE_WRITE);
  return wp;
}

function copy_pmd_range(dst_mm: usize, src_mm: usize, dst_pud: usize, src_pud: usize, vm_flags: u32, addr: u64, end: u64): i32 {
  const dst_pmd0 = pmd_alloc(dst_mm, dst_pud, addr);
  if (dst_pmd0 == 0) return -ENOMEM;
  let wp = 0;
  do {
    const next = pmd_addr_end(addr, end);
    const src_pmd = pmd_offset(src_pud, addr);
    if (table_present(atomic.load<u64>(src_pmd))) {
      const r = copy_pte_range(dst_mm, src_mm, pmd_offset(dst_pud, addr), src_pmd, vm_flags, addr, next);
      if (r < 0) return r;
      wp += r;
    }
    addr = next;
  } while (addr != end);
  return wp;
}

function copy_pud_range(dst_mm: usize, src_mm: usize, dst_pgd: usize, src_pgd: usize, vm_flags: u32, addr: u64, end: u64): i32 {
  if (pud_alloc(dst_mm, dst_pgd, addr) == 0) return -ENOMEM;
  let wp = 0;
  do {
    const next = pud_addr_end(addr, end);
    const src_pud = pud_offset(src_pgd, addr);
    if (table_present(atomic.load<u64>(src_pud))) {
      const r = copy_pmd_range(dst_mm, src_mm, pud_offset(dst_pgd, addr), src_pud, vm_flags, addr, next);
      if (r < 0) return r;
      wp += r;
    }
    addr = next;
  } while (addr != end);
  return wp;
}

/**
 * copy_page_range - give dst_mm (the child) the page-table entries of vma (the parent's vma of
 * src_mm) over [vm_start, vm_end). A vma without an anon_vma is skipped (its faults will fill the
 * child's tables from the page cache). Both mmap_sems held for write. Returns 0, or -ENOMEM when a
 * child page table could not be allocated: the entries copied so far stay (exit_mmap of the child
 * frees them), and the mmu notifier pair is balanced on this path too.
 */
export function copy_page_range(dst_mm: usize, src_mm: usize, vma: usize): i32 {
  const vm_flags = load<u32>(vma + VMA_FLAGS);
  if (load<u32>(vma + VMA_ANON_VMA) == 0) return 0;
  let addr = load<u64>(vma + VMA_START);
  const end = load<u64>(vma + VMA_END);
  const is_cow = is_cow_mapping(vm_flags);
  if (is_cow) mmu_notifier_invalidate_range_start(src_mm, addr, end);
  let ret = 0;
  let wp = 0;
  do {
    const next = pgd_addr_end(addr, end);
    const src_pgd = pgd_offset(src_mm, addr);
    if (table_present(atomic.load<u64>(src_pgd))) {
      const r = copy_pud_range(dst_mm, src_mm, pgd_offset(dst_mm, addr), src_pgd, vm_flags, addr, next);
      if (r < 0) {
        ret = -ENOMEM;
        break; // seed 002: not "return -ENOMEM" -- the notifier pair must be closed below
      }
      wp += r;
    }
    addr = next;
  } while (addr != end);
  if (is_cow) {
    // The parent may still hold writable TLB entries for what was just write-protected.
    if (wp > 0) flush_tlb_mm_range(src_mm, load<u64>(vma + VMA_START), end, 12, false, TLB_CAUSE_COW);
    mmu_notifier_invalidate_range_end(src_mm, load<u64>(vma + VMA_START), end);
  }
  return ret;
}
