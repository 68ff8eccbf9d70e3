// The mmu_gather: batching the pages and page-table pages an unmap frees until the TLBs no longer
// reach them (mm/mmu_gather.c, include/asm-generic/tlb.h; x86's tlb_flush). The rule it exists for:
// unmap (clear the PTEs), THEN flush every TLB that may cache them and wait for the
// acknowledgements, THEN free the pages and the page-table pages. Never the other way round: a CPU
// could otherwise still write through a stale TLB entry into a frame that has been reused.
//
//  struct mmu_gather (MMU_GATHER_SIZE = 3072 bytes at struct percpu +PC_MMU_GATHER; only its CPU
//  touches it; the kernel keeps it on the caller's stack, the model keeps one per CPU)
//   +0    mm           u32   the address space being unmapped
//   +4    fullmm       u8    the whole mm goes (exit_mmap): flush everything at the end
//   +5    freed_tables u8    page-table pages were unlinked since the last flush (lazy CPUs too)
//   +6    cause        u8    TLB_CAUSE_* of the shootdowns (munmap, or exit for fullmm)
//   +7    active       u8    between tlb_gather_mmu and tlb_finish_mmu
//   +8    start        u64   lowest address whose translation was cleared since the last flush
//   +16   end          u64   end of the highest one (start >= end: nothing to flush)
//   +24   nr_pages     u32   pfns batched in pages[]
//   +28   nr_tables    u32   pfns batched in tables[]
//   +32   (pad to 64)
//   +64   pages[MMU_GATHER_PAGES]   u32 pfns: pages whose mapping reference the unmap dropped
//   +2112 tables[MMU_GATHER_TABLES] u32 pfns: page-table pages unlinked from their parent entry
// When either batch fills, the caller flushes (tlb_flush_mmu) after dropping its page-table lock,
// as zap_pte_range's force_flush does.
// Simplifications: one fixed-size batch per kind (no extra batch pages), no RCU table freeing (the
// tables are freed after the IPIs, as x86 without paravirt does).
import { PC_MMU_GATHER, MMU_GATHER_SIZE } from "../layout";
import { PAGE_SHIFT } from "../config";
import { this_cpu } from "../percpu";
import { put_page } from "./page_alloc";
import { pgtable_page_free } from "./pgtable";
import { flush_tlb_mm_range, TLB_FLUSH_ALL, TLB_CAUSE_MUNMAP, TLB_CAUSE_EXIT } from "../arch/x86/mm_tlb";
import { VM_BUG_ON } from "../debug";

export const TLB_MM: usize = 0;
export const TLB_FULLMM: usize = 4;
export const TLB_FREED_TABLES: usize = 5;
export const TLB_CAUSE: usize = 6;
export const TLB_ACTIVE: usize = 7;
export const TLB_START: usize = 8;
export const TLB_END: usize = 16;
export const TLB_NR_PAGES: usize = 24;
export const TLB_NR_TABLES: usize = 28;
export const TLB_PAGES: usize = 64;
export const MMU_GATHER_PAGES: u32 = 512;
export const TLB_TABLES: usize = TLB_PAGES + <usize>MMU_GATHER_PAGES * 4;
export const MMU_GATHER_TABLES: u32 = 240;
if (<u32>TLB_TABLES + MMU_GATHER_TABLES * 4 > MMU_GATHER_SIZE) ERROR("mmu_gather: the batches do not fit");

/** This CPU's gather. */
// @ts-ignore: decorator
@inline export function this_cpu_gather(): usize { return this_cpu() + PC_MMU_GATHER; }

// @ts-ignore: decorator
@inline function __tlb_reset_range(tlb: usize): void {
  store<u64>(tlb + TLB_START, u64.MAX_VALUE);
  store<u64>(tlb + TLB_END, 0);
  store<u8>(tlb + TLB_FREED_TABLES, 0);
}

/**
 * tlb_gather_mmu - start gathering for an unmap of [start, end) of mm on this CPU (start 0 and end
 * TLB_FLUSH_ALL: the whole mm, exit_mmap). Holds nothing in particular (mmap_sem as the caller's
 * operation needs). tlb must be this CPU's gather (this_cpu_gather()).
 */
export function tlb_gather_mmu(tlb: usize, mm: usize, start: u64, end: u64): void {
  VM_BUG_ON(load<u8>(tlb + TLB_ACTIVE) != 0, "tlb_gather_mmu: this CPU's mmu_gather is already in use");
  VM_BUG_ON(tlb != this_cpu_gather(), "tlb_gather_mmu: not this CPU's mmu_gather");
  const fullmm = start == 0 && end == TLB_FLUSH_ALL;
  store<u32>(tlb + TLB_MM, <u32>mm);
  store<u8>(tlb + TLB_FULLMM, fullmm ? 1 : 0);
  store<u8>(tlb + TLB_CAUSE, <u8>(fullmm ? TLB_CAUSE_EXIT : TLB_CAUSE_MUNMAP));
  store<u8>(tlb + TLB_ACTIVE, 1);
  store<u32>(tlb + TLB_NR_PAGES, 0);
  store<u32>(tlb + TLB_NR_TABLES, 0);
  __tlb_reset_range(tlb);
}

/** __tlb_adjust_range - widen the range to flush by [addr, addr + size). */
export function __tlb_adjust_range(tlb: usize, addr: u64, size: u64): void {
  if (addr < load<u64>(tlb + TLB_START)) store<u64>(tlb + TLB_START, addr);
  if (addr + size > load<u64>(tlb + TLB_END)) store<u64>(tlb + TLB_END, addr + size);
}

/** tlb_remove_tlb_entry - a PTE mapping addr was cleared: its translation must be flushed. */
// @ts-ignore: decorator
@inline export function tlb_remove_tlb_entry(tlb: usize, addr: u64): void {
  __tlb_adjust_range(tlb, addr, 1 << PAGE_SHIFT);
}

/**
 * __tlb_remove_page - batch frame pfn (whose PTE was cleared and rmap removed) to be released after
 * the flush: the gather now owns the mapping's reference. Callable under the pte lock. Returns true
 * when the batch is full: the caller must drop its locks and call tlb_flush_mmu before batching more.
 */
export function __tlb_remove_page(tlb: usize, pfn: u32): bool {
  const n = load<u32>(tlb + TLB_NR_PAGES);
  VM_BUG_ON(n >= MMU_GATHER_PAGES, "__tlb_remove_page: batch overflow (a full batch was not flushed)");
  store<u32>(tlb + TLB_PAGES + (<usize>n << 2), pfn);
  store<u32>(tlb + TLB_NR_PAGES, n + 1);
  return n + 1 >= MMU_GATHER_PAGES;
}

/** tlb_remove_page - __tlb_remove_page, flushing at once when the batch fills (no locks held). */
export function tlb_remove_page(tlb: usize, pfn: u32): void {
  if (__tlb_remove_page(tlb, pfn)) tlb_flush_mmu(tlb);
}

/**
 * tlb_remove_table - batch page-table page pfn (already unlinked from its parent entry) to be freed
 * after the flush; marks the gather freed_tables. Flushes when the batch fills (no locks held:
 * free_pgtables holds only mmap_sem).
 */
export function tlb_remove_table(tlb: usize, pfn: u32): void {
  store<u8>(tlb + TLB_FREED_TABLES, 1);
  const n = load<u32>(tlb + TLB_NR_TABLES);
  store<u32>(tlb + TLB_TABLES + (<usize>n << 2), pfn);
  store<u32>(tlb + TLB_NR_TABLES, n + 1);
  if (n + 1 >= MMU_GATHER_TABLES) tlb_flush_mmu(tlb);
}

/**
 * pte_free_tlb / pmd_free_tlb / pud_free_tlb - a table covering [addr, addr + span) was unlinked:
 * its translations' range is flushed (with the lazy CPUs) and the page freed afterwards.
 */
export function free_table_tlb(tlb: usize, pfn: u32, addr: u64, span: u64): void {
  __tlb_adjust_range(tlb, addr, span);
  tlb_remove_table(tlb, pfn);
}

/**
 * tlb_flush_mmu_tlbonly - flush the TLBs for the range gathered since the last flush (the whole mm
 * for fullmm) and wait for every CPU; then start a new range.
 */
export function tlb_flush_mmu_tlbonly(tlb: usize): void {
  const start = load<u64>(tlb + TLB_START), end = load<u64>(tlb + TLB_END);
  if (start >= end) return;
  const mm = <usize>load<u32>(tlb + TLB_MM);
  const freed = load<u8>(tlb + TLB_FREED_TABLES) != 0;
  const cause = <u32>load<u8>(tlb + TLB_CAUSE);
  if (load<u8>(tlb + TLB_FULLMM) != 0) flush_tlb_mm_range(mm, 0, TLB_FLUSH_ALL, PAGE_SHIFT, freed, cause);
  else flush_tlb_mm_range(mm, start, end, PAGE_SHIFT, freed, cause);
  __tlb_reset_range(tlb);
}

/** tlb_flush_mmu_free - free the batched page-table pages and drop the batched page references. */
export function tlb_flush_mmu_free(tlb: usize): void {
  const nt = load<u32>(tlb + TLB_NR_TABLES);
  for (let i: u32 = 0; i < nt; i++) pgtable_page_free(load<u32>(tlb + TLB_TABLES + (<usize>i << 2)));
  store<u32>(tlb + TLB_NR_TABLES, 0);
  const np = load<u32>(tlb + TLB_NR_PAGES);
  for (let i: u32 = 0; i < np; i++) {
    const r = put_page(load<u32>(tlb + TLB_PAGES + (<usize>i << 2)));
    VM_BUG_ON(r < 0, "tlb_flush_mmu_free: releasing a gathered page failed");
  }
  store<u32>(tlb + TLB_NR_PAGES, 0);
}

/**
 * tlb_flush_mmu - flush the TLBs (waiting for every acknowledgement), THEN free what was gathered.
 * No page-table lock held (it sends and waits for IPIs; spinlocks of other classes are fine).
 */
export function tlb_flush_mmu(tlb: usize): void {
  tlb_flush_mmu_tlbonly(tlb);
  tlb_flush_mmu_free(tlb);
}

/** tlb_finish_mmu - the last flush and free of the unmap of [start, end); the gather is free again. */
export function tlb_finish_mmu(tlb: usize, start: u64, end: u64): void {
  VM_BUG_ON(load<u8>(tlb + TLB_ACTIVE) == 0, "tlb_finish_mmu: no gather in progress");
  tlb_flush_mmu(tlb);
  store<u8>(tlb + TLB_ACTIVE, 0);
}
