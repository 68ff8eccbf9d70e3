// Freeing page tables (mm/memory.c: free_pgd_range, free_pud_range, free_pmd_range, free_pte_range):
// the pure page-table part of free_pgtables (mm/memory_unmap.ts), which unlinks the vmas from rmap
// first (seed 004). Each table that maps nothing outside [floor, ceiling) is unlinked from its parent
// entry and handed to the mmu_gather, which frees it only after the TLB flush (freed_tables: lazy CPUs
// are flushed too).
import { pte_store_charge } from "../kernel/mm_charge";
import { PAGE_SIZE } from "../config";
import { MM_PGTABLES } from "./mm_types";
import { pgd_offset, pud_offset, pmd_offset, table_present, entry_table_pfn, pgd_addr_end, pud_addr_end,
  pmd_addr_end, add_mm_counter, PMD_SIZE, PMD_MASK, PUD_MASK, PGDIR_MASK } from "./pgtable";
import { free_table_tlb, TLB_MM } from "./mmu_gather";

// @ts-ignore: decorator
@inline function tlb_mm(tlb: usize): usize { return <usize>load<u32>(tlb + TLB_MM); }

// free_pte_range: unlink the PTE page under pmd and hand it to the gather.
function free_pte_range(tlb: usize, pmd: usize, addr: u64): void {
  const pfn = entry_table_pfn(pmd);
  pte_store_charge(); // pmd_clear: a page-table write
  atomic.store<u64>(pmd, 0); // pmd_clear
  free_table_tlb(tlb, pfn, addr, PAGE_SIZE);
  add_mm_counter(tlb_mm(tlb), MM_PGTABLES, -1);
}

function free_pmd_range(tlb: usize, pud: usize, addr: u64, end: u64, floor: u64, ceiling: u64): void {
  let start = addr;
  do {
    const next = pmd_addr_end(addr, end);
    const pmd = pmd_offset(pud, addr);
    if (table_present(atomic.load<u64>(pmd))) free_pte_range(tlb, pmd, addr);
    addr = next;
  } while (addr != end);
  start &= PUD_MASK;
  if (start < floor) return;
  if (ceiling != 0) {
    ceiling &= PUD_MASK;
    if (ceiling == 0) return;
  }
  if (end - 1 > ceiling - 1) return;
  const pfn = entry_table_pfn(pud);
  pte_store_charge(); // pud_clear: a page-table write
  atomic.store<u64>(pud, 0);
  free_table_tlb(tlb, pfn, start, PAGE_SIZE);
  add_mm_counter(tlb_mm(tlb), MM_PGTABLES, -1);
}

function free_pud_range(tlb: usize, pgd: usize, addr: u64, end: u64, floor: u64, ceiling: u64): void {
  let start = addr;
  do {
    const next = pud_addr_end(addr, end);
    const pud = pud_offset(pgd, addr);
    if (table_present(atomic.load<u64>(pud))) free_pmd_range(tlb, pud, addr, next, floor, ceiling);
    addr = next;
  } while (addr != end);
  start &= PGDIR_MASK;
  if (start < floor) return;
  if (ceiling != 0) {
    ceiling &= PGDIR_MASK;
    if (ceiling == 0) return;
  }
  if (end - 1 > ceiling - 1) return;
  const pfn = entry_table_pfn(pgd);
  pte_store_charge(); // pgd_clear: a page-table write
  atomic.store<u64>(pgd, 0);
  free_table_tlb(tlb, pfn, start, PAGE_SIZE);
  add_mm_counter(tlb_mm(tlb), MM_PGTABLES, -1);
}

/**
 * free_pgd_range - free the page tables that map only [addr, end), never those that also map below
 * floor or at/above ceiling (a neighbouring vma's; ceiling 0 = the top), as the kernel's does, level
 * by level. mmap_sem held for write or mm_users 0; the vmas there unlinked from rmap.
 */
export function free_pgd_range(tlb: usize, addr: u64, end: u64, floor: u64, ceiling: u64): void {
  addr &= PMD_MASK;
  if (addr < floor) {
    addr += PMD_SIZE;
    if (addr == 0) return;
  }
  if (ceiling != 0) {
    ceiling &= PMD_MASK;
    if (ceiling == 0) return;
  }
  if (end - 1 > ceiling - 1) end -= PMD_SIZE;
  if (addr > end - 1) return;
  const mm = tlb_mm(tlb);
  do {
    const next = pgd_addr_end(addr, end);
    const pgd = pgd_offset(mm, addr);
    if (table_present(atomic.load<u64>(pgd))) free_pud_range(tlb, pgd, addr, next, floor, ceiling);
    addr = next;
  } while (addr != end);
}

