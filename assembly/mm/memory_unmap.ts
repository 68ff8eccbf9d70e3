// Unmapping and freeing page tables (mm/memory.c: unmap_vmas, unmap_page_range, zap_pte_range,
// zap_page_range, free_pgtables, free_pgd_range and its levels), inside an mmu_gather.
//
// Order (seed 004, Hugh Dickins' "mm: unlink vma before pagetables"):
//   tlb_gather_mmu; unmap_vmas (the pte lock, i.e. page_table_lock or the split lock, held only
//   around each PTE page's unmapping); free_pgtables (unlink each vma from its anon_vma and from
//   i_mmap FIRST, then free its page tables: rmap and truncation descend page tables without
//   mmap_sem, reaching them only through those links); tlb_finish_mmu (flush the TLBs, wait, THEN
//   free the pages and the page-table pages).
// The anon_vma and i_mmap locks are never taken inside a page-table lock (lockdep checks the order).
import { PAGE_SIZE } from "../config";
import { _PAGE_ACCESSED } from "../arch/x86/pgtable_types";
import { pfn_to_page, set_page_flag, PG_referenced, VMA_MM, VMA_START, VMA_END, VMA_NEXT, VMA_ANON_VMA_CHAIN,
  MM_ANONPAGES, MM_FILEPAGES, MM_SWAPENTS } from "./mm_types";
import { pgd_offset, pud_offset, pmd_offset, pte_offset_map, pte_lockptr, table_present,
  ptep_get, ptep_get_and_clear, pte_none, pte_present, pte_dirty, pgd_addr_end, pud_addr_end, pmd_addr_end,
  add_mm_counter, PMD_SIZE } from "./pgtable";
import { lock_acquire, lock_release, MODE_WRITE } from "../locking/lock";
import { tlb_remove_tlb_entry, __tlb_remove_page, tlb_flush_mmu, tlb_gather_mmu, tlb_finish_mmu,
  this_cpu_gather, TLB_MM } from "./mmu_gather";
import { mmu_notifier_invalidate_range_start, mmu_notifier_invalidate_range_end } from "./mmu_notifier";
import { vm_normal_page, PageAnon, set_page_dirty, mm_counter } from "./memory";
import { is_migration_entry, migration_entry_to_pfn } from "./swapops";
import { page_remove_rmap, unlink_anon_vmas } from "./rmap";
import { unlink_file_vma } from "./vma";
import { free_pgd_range } from "./memory_pgd";
import { VM_BUG_ON } from "../debug";

// @ts-ignore: decorator
@inline function tlb_mm(tlb: usize): usize { return <usize>load<u32>(tlb + TLB_MM); }

/**
 * zap_pte_range - clear the PTEs of [addr, end) under the pmd entry at pmd, holding the PTE page's
 * lock: each present PTE's page leaves the rmap (page_remove_rmap), its RSS counter, and goes into
 * the gather with the mapping's reference (a dirty PTE dirties a file page). When the gather's batch
 * fills, the lock is dropped, the gather flushed (TLBs, then frees), and the walk goes on.
 */
function zap_pte_range(tlb: usize, vma: usize, pmd: usize, addr: u64, end: u64): void {
  const mm = tlb_mm(tlb);
  while (addr != end) {
    let force_flush = false;
    const ptl = pte_lockptr(mm, pmd);
    lock_acquire(ptl, MODE_WRITE, "zap_pte_range");
    for (; addr != end; addr += PAGE_SIZE) {
      const pte = pte_offset_map(pmd, addr);
      if (pte_none(ptep_get(pte))) continue;
      const ptent = ptep_get_and_clear(pte); // atomic against the walker's A/D updates
      if (pte_present(ptent)) {
        tlb_remove_tlb_entry(tlb, addr);
        const r = vm_normal_page(ptent);
        if (r < 0) continue;
        const pfn = <u32>r;
        if (PageAnon(pfn)) {
          add_mm_counter(mm, MM_ANONPAGES, -1);
        } else {
          if (pte_dirty(ptent)) set_page_dirty(pfn);
          if ((ptent & _PAGE_ACCESSED) != 0) set_page_flag(pfn_to_page(pfn), PG_referenced); // mark_page_accessed
          add_mm_counter(mm, MM_FILEPAGES, -1);
        }
        page_remove_rmap(pfn);
        if (__tlb_remove_page(tlb, pfn)) {
          force_flush = true;
          addr += PAGE_SIZE;
          break;
        }
        continue;
      }
      // A swap or migration entry, cleared above: a migration entry still counts in its page's RSS
      // counter; a swap entry in MM_SWAPENTS (swap slots are not modelled: nothing to free).
      if (is_migration_entry(ptent)) add_mm_counter(mm, mm_counter(migration_entry_to_pfn(ptent)), -1);
      else add_mm_counter(mm, MM_SWAPENTS, -1);
    }
    lock_release(ptl, MODE_WRITE);
    if (force_flush) tlb_flush_mmu(tlb); // no page-table lock held while the IPIs go out
  }
}

function zap_pmd_range(tlb: usize, vma: usize, pud: usize, addr: u64, end: u64): void {
  do {
    const next = pmd_addr_end(addr, end);
    const pmd = pmd_offset(pud, addr);
    if (table_present(atomic.load<u64>(pmd))) zap_pte_range(tlb, vma, pmd, addr, next);
    addr = next;
  } while (addr != end);
}

function zap_pud_range(tlb: usize, vma: usize, pgd: usize, addr: u64, end: u64): void {
  do {
    const next = pud_addr_end(addr, end);
    const pud = pud_offset(pgd, addr);
    if (table_present(atomic.load<u64>(pud))) zap_pmd_range(tlb, vma, pud, addr, next);
    addr = next;
  } while (addr != end);
}

/** unmap_page_range - zap [addr, end) of vma's page tables into tlb. mmap_sem held. */
export function unmap_page_range(tlb: usize, vma: usize, addr: u64, end: u64): void {
  const mm = <usize>load<u32>(vma + VMA_MM);
  do {
    const next = pgd_addr_end(addr, end);
    const pgd = pgd_offset(mm, addr);
    if (table_present(atomic.load<u64>(pgd))) zap_pud_range(tlb, vma, pgd, addr, next);
    addr = next;
  } while (addr != end);
}

/**
 * unmap_vmas - unmap [start_addr, end_addr) in vma and the vmas after it (vm_next) into tlb, between
 * one mmu_notifier_invalidate_range_start/end pair. mmap_sem held for write (munmap, exit) or read
 * (madvise). Leaves the page tables in place (free_pgtables frees them).
 */
export function unmap_vmas(tlb: usize, vma: usize, start_addr: u64, end_addr: u64): void {
  if (vma == 0) return;
  const mm = <usize>load<u32>(vma + VMA_MM);
  mmu_notifier_invalidate_range_start(mm, start_addr, end_addr);
  for (; vma != 0 && load<u64>(vma + VMA_START) < end_addr; vma = <usize>load<u32>(vma + VMA_NEXT)) {
    const vs = load<u64>(vma + VMA_START), ve = load<u64>(vma + VMA_END);
    const start = vs > start_addr ? vs : start_addr;
    const end = ve < end_addr ? ve : end_addr;
    if (start < end) unmap_page_range(tlb, vma, start, end);
  }
  mmu_notifier_invalidate_range_end(mm, start_addr, end_addr);
}

// Hide vma from rmap and truncation before its page tables go (seed 004).
function unlink_vma_rmap(vma: usize): void {
  unlink_anon_vmas(vma);
  VM_BUG_ON(load<u32>(vma + VMA_ANON_VMA_CHAIN) != 0, "free_pgtables: a vma is still reachable from its anon_vma when its page tables go (seed 004)");
  unlink_file_vma(vma); // i_mmap removal under the i_mmap lock (mm/vma.ts; nothing for anonymous vmas)
}

/**
 * free_pgtables - free the page tables of vma and the vmas after it (vm_next, up to the end of the
 * list: the caller detached them), between floor (the previous vma's end) and ceiling (the next
 * remaining vma's start, 0 = the top). Each vma is unlinked from its anon_vma (unlink_anon_vmas) and
 * from i_mmap BEFORE its tables are freed (seed 004). mmap_sem held for write, or mm_users 0; no
 * page-table lock (the anon_vma and i_mmap locks rank above it). Neighbouring vmas less than a PMD
 * apart are freed together.
 */
export function free_pgtables(tlb: usize, vma: usize, floor: u64, ceiling: u64): void {
  while (vma != 0) {
    let next = <usize>load<u32>(vma + VMA_NEXT);
    const addr = load<u64>(vma + VMA_START);
    unlink_vma_rmap(vma);
    while (next != 0 && load<u64>(next + VMA_START) <= load<u64>(vma + VMA_END) + PMD_SIZE) {
      vma = next;
      next = <usize>load<u32>(vma + VMA_NEXT);
      unlink_vma_rmap(vma);
    }
    free_pgd_range(tlb, addr, load<u64>(vma + VMA_END), floor, next != 0 ? load<u64>(next + VMA_START) : ceiling);
    vma = next;
  }
}

/**
 * zap_page_range - unmap [start, start + size) of vma (and the vmas after it that the range covers)
 * in a gather of its own, keeping the page tables and the vmas (madvise(MADV_DONTNEED)). mmap_sem
 * held for read. Uses this CPU's mmu_gather, which must be free.
 */
export function zap_page_range(vma: usize, start: u64, size: u64): void {
  if (vma == 0 || size == 0) return;
  const mm = <usize>load<u32>(vma + VMA_MM);
  const end = start + size;
  const tlb = this_cpu_gather();
  tlb_gather_mmu(tlb, mm, start, end);
  unmap_vmas(tlb, vma, start, end);
  tlb_finish_mmu(tlb, start, end);
}
