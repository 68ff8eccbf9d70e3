// Walking the reverse maps (mm/rmap.c: rmap_walk, page_referenced, try_to_unmap, page_mkclean,
// and migration's remove_migration_ptes' walk; mm/page_vma_mapped.c's lookup).
//
// rmap_walk visits every vma that may map a page and calls a function for each (vma, address):
//   anonymous page: the vmas on its anon_vma's list (through the chains, or directly with the 2.6.25
//     design), under the root's anon_vma lock taken for read (anon_vma_lock_read: shared with an rwsem
//     class, exclusive with a spinlock or mutex class), holding a reference on the anon_vma meanwhile
//     (seed 002's grab_anon_vma: the reference, not RCU, keeps it alive);
//   file page: the vmas of its address_space's i_mmap interval tree that cover page->index, under the
//     i_mmap lock taken for read (the same rule).
// Seed 003's special case (mm_config MMC_RMAP_LOCKLESS): a caller that holds the page table lock of a
// vma of the page (RMAP_PTL_HELD, naming that vma) walks without the anon_vma lock when that vma's
// anon_vma is the page's, is its own root, and the root's refcount is 1: then the chain cannot reach
// another process, and fork/munmap/split in this mm block on the page table lock it holds. Only that
// vma is visited. When the conditions do not hold the walk returns -EAGAIN without taking anything:
// the caller drops the page table lock (the anon_vma lock ranks above it) and walks again normally.
//
// PTE access: page_check_address walks the mm's tables from mm->pgd (pfns of table pages, read with
// atomics) and takes the PTE's lock (rmap_pte_lockptr: the PTE page's split lock, kept in its struct
// page private by mm/pgtable.ts, else mm->page_table_lock). TLB: rmap_flush_tlb_page is
// arch/x86/mm_tlb.ts's flush_tlb_mm_range for one page (mm_cpumask; lazy CPUs skipped; per cause).
//
// MMU notifiers: invalidate_page after each PTE is cleared or write-protected (ptep_clear_flush_notify),
// clear_young per mapping in page_referenced. Simplifications: no huge pages; try_to_unmap without TTU_MIGRATION
// discards an anonymous page's contents (no swap yet: like a clean lazy-free page) and does not refuse
// recently referenced pages (every caller here behaves as TTU_IGNORE_ACCESS).
import { pte_rmw_charge, pte_store_charge } from "../kernel/mm_charge";
import { pte_lockptr_table, pte_present } from "./pgtable";
import { flush_tlb_page as x86_flush_tlb_page, TLB_CAUSE_RECLAIM, TLB_CAUSE_MIGRATION, TLB_CAUSE_OTHER } from "../arch/x86/mm_tlb";
import { mmu_notifier_invalidate_page, mmu_notifier_clear_young } from "./mmu_notifier";
import { PAGE_SHIFT } from "../config";
import { EAGAIN, EFAULT } from "../errno";
import { nr_backed, MMC_RMAP_LOCKLESS, MMC_AV_2625 } from "../layout";
import { lock_acquire, lock_release, MODE_WRITE } from "../locking/lock";
import { _PAGE_PRESENT, _PAGE_PSE, _PAGE_RW, _PAGE_ACCESSED, _PAGE_DIRTY, PTE_PFN_MASK } from "../arch/x86/pgtable_types";
import { vma_interval_tree_iter_first, vma_interval_tree_iter_next } from "../lib/interval_tree";
import { put_page, get_page, page_address } from "./page_alloc";
import { mm_config_has } from "./mm_config";
import { is_migration_entry, migration_entry_to_pfn, is_write_migration_entry, make_migration_entry } from "./swapops";
import { i_mmap_lock_read, i_mmap_unlock_read } from "./filemap";
import { page_anon_vma, page_is_anon, vma_address, grab_anon_vma, put_anon_vma, anon_vma_lock_read,
  anon_vma_unlock_read, page_remove_rmap, page_add_anon_rmap, page_add_file_rmap } from "./rmap";
import { AV_ROOT, AV_REFCOUNT, AV_HEAD, AVC_VMA, AVC_NEXT, VMA_MM, VMA_FLAGS, VMA_PAGE_PROT, VMA_ANON_VMA,
  VMA_AV_NODE_NEXT, AS_I_MMAP, MM_PGD, MM_RSS, MM_ANONPAGES, MM_FILEPAGES, VM_SHARED, VM_WRITE, pfn_to_page,
  page_mapcount, PAGE_MAPPING, PAGE_INDEX, PAGE_FLAGS, PG_dirty } from "./mm_types";

/** rmap_walk flag: stop as soon as the page is no longer mapped (try_to_unmap's done()). */
export const RMAP_STOP_UNMAPPED: u32 = 1 << 0;
/** rmap_walk flag: the caller holds the page table lock of the vma it names (seed 003's case). */
export const RMAP_PTL_HELD: u32 = 1 << 1;

/** try_to_unmap flag: replace each mapping with a migration entry (mm/migrate.ts). */
export const TTU_MIGRATION: u32 = 1 << 0;

/**
 * What rmap_walk calls for each (vma, address) that may map page pfn: returns how many mappings it
 * handled (summed by rmap_walk). walk_flags has RMAP_PTL_HELD when the caller already holds that PTE's
 * lock (do not take it).
 */
export type rmap_one_fn = (pfn: u32, vma: usize, address: u64, arg: u64, walk_flags: u32) => i32;

// ---- page-table access ------------------------------------------------------------------------

/**
 * rmap_pte_lockptr - the lock of PTE page table_pfn of mm: its split PTE lock when it has one, else
 * mm->page_table_lock (mm/pgtable.ts pte_lockptr_table: the rule the fault and unmap paths use).
 */
// @ts-ignore: decorator
@inline export function rmap_pte_lockptr(mm: usize, table_pfn: u32): usize {
  return pte_lockptr_table(mm, table_pfn);
}

/**
 * mm_find_pte - the host address of address's PTE in mm, walking from mm->pgd without allocating;
 * 0 when a level is not present (or is a large page). Holds nothing: the tables stay because the
 * caller holds mmap_sem, or reached the vma through an rmap lock (seed 004: free_pgtables unlinks
 * the vma first).
 */
export function mm_find_pte(mm: usize, address: u64): usize {
  let table = load<u32>(mm + MM_PGD);
  for (let shift: u64 = 39; shift > 12; shift -= 9) {
    const e = atomic.load<u64>(page_address(table) + <usize>(((address >> shift) & 511) << 3));
    if ((e & _PAGE_PRESENT) == 0 || (shift < 39 && (e & _PAGE_PSE) != 0)) return 0;
    table = <u32>((e & PTE_PFN_MASK) >> PAGE_SHIFT);
    if (table >= nr_backed) return 0;
  }
  return page_address(table) + <usize>(((address >> PAGE_SHIFT) & 511) << 3);
}

/** The PTE page of a PTE's host address. */
// @ts-ignore: decorator
@inline export function ptep_table_pfn(ptep: usize): u32 {
  return <u32>((ptep - page_address(0)) >> PAGE_SHIFT);
}

/**
 * page_check_address - the PTE at address in mm if it maps page pfn (pte_present, PROT_NONE included:
 * that frame), or with
 * migration if it is a migration entry naming pfn; its PTE lock taken unless ptl_held. Returns the
 * PTE's host address, or 0 (no lock held).
 */
export function page_check_address(pfn: u32, mm: usize, address: u64, migration: bool, ptl_held: bool): usize {
  const ptep = mm_find_pte(mm, address);
  if (ptep == 0) return 0;
  const ptl = rmap_pte_lockptr(mm, ptep_table_pfn(ptep));
  if (!ptl_held) lock_acquire(ptl, MODE_WRITE, "page_check_address");
  const pte = atomic.load<u64>(ptep);
  let match: bool;
  if (migration) match = is_migration_entry(pte) && migration_entry_to_pfn(pte) == pfn;
  // pte_present: a PROT_NONE PTE (P clear, _PAGE_PROTNONE set) still maps its frame.
  else match = pte_present(pte) && <u32>((pte & PTE_PFN_MASK) >> PAGE_SHIFT) == pfn;
  if (!match) {
    if (!ptl_held) lock_release(ptl, MODE_WRITE);
    return 0;
  }
  return ptep;
}

/** pte_unmap_unlock - release the lock page_check_address took for ptep (unless it was held already). */
export function pte_unmap_unlock(mm: usize, ptep: usize, ptl_held: bool): void {
  if (!ptl_held) lock_release(rmap_pte_lockptr(mm, ptep_table_pfn(ptep)), MODE_WRITE);
}

/**
 * rmap_flush_tlb_page - drop address's translation of vma's mm from every CPU that may cache it,
 * waiting for each: arch/x86/mm_tlb.ts flush_tlb_page (mm_cpumask, lazy CPUs skipped), counted under
 * cause (TLB_CAUSE_*). May be called with PTE locks held.
 */
function rmap_flush_tlb_page(vma: usize, address: u64, cause: u32 = TLB_CAUSE_RECLAIM): void {
  x86_flush_tlb_page(<usize>load<u32>(vma + VMA_MM), address, cause);
}

// ---- the walks ----------------------------------------------------------------------------------

// Does the caller's page table lock (of hint's mm) cover vma's PTEs? With one lock per mm: same mm.
// @ts-ignore: decorator
@inline function ptl_covers(flags: u32, hint: usize, vma: usize): u32 {
  return (flags & RMAP_PTL_HELD) != 0 && hint != 0 && load<u32>(hint + VMA_MM) == load<u32>(vma + VMA_MM) ? RMAP_PTL_HELD : 0;
}

function rmap_walk_anon(pfn: u32, one: rmap_one_fn, arg: u64, flags: u32, hint: usize): i32 {
  const av = page_anon_vma(pfn);
  if (av == 0) return 0;
  if ((flags & RMAP_PTL_HELD) != 0) {
    // Seed 003: lockless only when the chain provably has length one.
    if (!mm_config_has(MMC_RMAP_LOCKLESS) || hint == 0 || <usize>load<u32>(hint + VMA_ANON_VMA) != av ||
        <usize>load<u32>(av + AV_ROOT) != av || atomic.load<i32>(av + AV_REFCOUNT) != 1) return -EAGAIN;
    const address = vma_address(pfn, hint);
    if (<i64>address == -EFAULT) return 0;
    return one(pfn, hint, address, arg, RMAP_PTL_HELD);
  }
  if (!grab_anon_vma(av)) return 0;
  anon_vma_lock_read(av);
  let n = 0;
  const direct = mm_config_has(MMC_AV_2625);
  for (let e = <usize>load<u32>(av + AV_HEAD); e != 0; e = <usize>load<u32>(e + (direct ? VMA_AV_NODE_NEXT : AVC_NEXT))) {
    const vma = direct ? e : <usize>load<u32>(e + AVC_VMA);
    const address = vma_address(pfn, vma);
    if (<i64>address == -EFAULT) continue;
    n += one(pfn, vma, address, arg, 0);
    if ((flags & RMAP_STOP_UNMAPPED) != 0 && page_mapcount(pfn_to_page(pfn)) == 0) break;
  }
  anon_vma_unlock_read(av);
  put_anon_vma(av);
  return n;
}

function rmap_walk_file(pfn: u32, one: rmap_one_fn, arg: u64, flags: u32, hint: usize): i32 {
  const page = pfn_to_page(pfn);
  const mapping = <usize>atomic.load<u32>(page + PAGE_MAPPING);
  if (mapping == 0) return 0;
  if ((flags & RMAP_PTL_HELD) != 0) return -EAGAIN; // the i_mmap lock ranks above the page table lock
  const pgoff = <u64>load<u32>(page + PAGE_INDEX);
  i_mmap_lock_read(mapping);
  let n = 0;
  let vma = vma_interval_tree_iter_first(mapping + AS_I_MMAP, pgoff, pgoff);
  while (vma != 0) {
    const address = vma_address(pfn, vma);
    if (<i64>address != -EFAULT) {
      n += one(pfn, vma, address, arg, 0);
      if ((flags & RMAP_STOP_UNMAPPED) != 0 && page_mapcount(page) == 0) break;
    }
    vma = vma_interval_tree_iter_next(vma, pgoff, pgoff);
  }
  i_mmap_unlock_read(mapping);
  return n;
}

/**
 * rmap_walk - call one(pfn, vma, address, arg, walk_flags) for every vma that may map page pfn (see the
 * top of this file for the locks). The caller holds a reference on the page (and, for migration, its
 * lock and a reference on its anon_vma). flags: RMAP_STOP_UNMAPPED; RMAP_PTL_HELD with hint, the vma
 * whose page table lock the caller holds (seed 003). Returns the sum of one's results, or -EAGAIN when
 * RMAP_PTL_HELD was given and the lockless conditions do not hold (nothing was visited or taken).
 */
export function rmap_walk(pfn: u32, one: rmap_one_fn, arg: u64, flags: u32, hint: usize): i32 {
  return page_is_anon(pfn) ? rmap_walk_anon(pfn, one, arg, flags, hint) : rmap_walk_file(pfn, one, arg, flags, hint);
}

// ---- page_referenced ----------------------------------------------------------------------------

function page_referenced_one(pfn: u32, vma: usize, address: u64, arg: u64, wf: u32): i32 {
  const mm = <usize>load<u32>(vma + VMA_MM);
  const held = (wf & RMAP_PTL_HELD) != 0;
  const ptep = page_check_address(pfn, mm, address, false, held);
  if (ptep == 0) return 0;
  // ptep_clear_flush_young: test and clear A, and flush that page if it was set (the generic
  // version; x86 has skipped the flush since 3.18, accepting a stale A bit).
  let referenced = 0;
  pte_rmw_charge(); // ptep_test_and_clear_young: a PTE write
  if ((atomic.and<u64>(ptep, ~_PAGE_ACCESSED) & _PAGE_ACCESSED) != 0) {
    rmap_flush_tlb_page(vma, address);
    referenced = 1;
  }
  pte_unmap_unlock(mm, ptep, held);
  // The secondary MMUs' accessed bits count too (mmu_notifier_clear_young, seed 002's notifiers).
  if (mmu_notifier_clear_young(mm, address, address + (1 << PAGE_SHIFT)) != 0) referenced = 1;
  return referenced;
}

/**
 * page_referenced - test and clear the Accessed bit in every PTE that maps page pfn, flushing each
 * page whose bit was set. The caller holds a reference on the page. flags/hint as rmap_walk
 * (RMAP_PTL_HELD: seed 003's lockless case). Returns how many mappings had been referenced, or -EAGAIN
 * (see rmap_walk).
 */
export function page_referenced(pfn: u32, flags: u32, hint: usize): i32 {
  if (page_mapcount(pfn_to_page(pfn)) == 0) return 0;
  return rmap_walk(pfn, page_referenced_one, 0, flags & RMAP_PTL_HELD, hint);
}

// ---- try_to_unmap -------------------------------------------------------------------------------

function try_to_unmap_one(pfn: u32, vma: usize, address: u64, arg: u64, wf: u32): i32 {
  const mm = <usize>load<u32>(vma + VMA_MM);
  const held = (wf & RMAP_PTL_HELD) != 0;
  const ptep = page_check_address(pfn, mm, address, false, held);
  if (ptep == 0) return 0;
  // ptep_clear_flush: take the PTE away, then flush, so no CPU keeps using the frame.
  pte_rmw_charge(); // ptep_clear_flush: a PTE write
  const pteval = atomic.xchg<u64>(ptep, 0);
  rmap_flush_tlb_page(vma, address, (<u32>arg & TTU_MIGRATION) != 0 ? TLB_CAUSE_MIGRATION : TLB_CAUSE_RECLAIM);
  mmu_notifier_invalidate_page(mm, address); // ptep_clear_flush_notify
  const page = pfn_to_page(pfn);
  if ((pteval & _PAGE_DIRTY) != 0) atomic.or<u32>(page + PAGE_FLAGS, PG_dirty);
  if ((<u32>arg & TTU_MIGRATION) != 0) {
    pte_store_charge(); // set_pte_at of the migration entry
    atomic.store<u64>(ptep, make_migration_entry(pfn, (pteval & _PAGE_RW) != 0));
  } else {
    const idx = page_is_anon(pfn) ? MM_ANONPAGES : MM_FILEPAGES;
    atomic.sub<i32>(mm + MM_RSS + <usize>idx * 4, 1);
  }
  page_remove_rmap(pfn);
  pte_unmap_unlock(mm, ptep, held);
  put_page(pfn); // the mapping's reference; the caller's own keeps the page
  return 1;
}

/**
 * try_to_unmap - remove every PTE that maps page pfn (TTU_MIGRATION in flags: leave a migration entry
 * in each; else clear it and count RSS). Each mapping's page reference and mapcount go. The caller
 * holds a reference and the page lock. Returns the number of PTEs removed; page_mapcount is then 0
 * unless a mapping appeared meanwhile (the caller checks page_mapped).
 */
export function try_to_unmap(pfn: u32, flags: u32): i32 {
  return rmap_walk(pfn, try_to_unmap_one, <u64>flags, RMAP_STOP_UNMAPPED, 0);
}

/**
 * try_to_unmap_ptl - try_to_unmap from a caller that holds hint's page table lock (seed 003's case):
 * -EAGAIN when the lockless conditions do not hold (drop the lock, call try_to_unmap).
 */
export function try_to_unmap_ptl(pfn: u32, flags: u32, hint: usize): i32 {
  return rmap_walk(pfn, try_to_unmap_one, <u64>flags, RMAP_STOP_UNMAPPED | RMAP_PTL_HELD, hint);
}

// ---- page_mkclean -------------------------------------------------------------------------------

function page_mkclean_one(pfn: u32, vma: usize, address: u64, arg: u64, wf: u32): i32 {
  if ((load<u32>(vma + VMA_FLAGS) & VM_SHARED) == 0) return 0; // invalid_mkclean_vma
  const mm = <usize>load<u32>(vma + VMA_MM);
  const held = (wf & RMAP_PTL_HELD) != 0;
  const ptep = page_check_address(pfn, mm, address, false, held);
  if (ptep == 0) return 0;
  let cleaned = 0;
  if ((atomic.load<u64>(ptep) & (_PAGE_DIRTY | _PAGE_RW)) != 0) {
    pte_rmw_charge(); // ptep_clear_flush: a PTE write
    const old = atomic.xchg<u64>(ptep, 0); // ptep_clear_flush, then the write-protected, clean entry
    rmap_flush_tlb_page(vma, address, TLB_CAUSE_OTHER);
    mmu_notifier_invalidate_page(mm, address);
    if ((old & _PAGE_DIRTY) != 0) atomic.or<u32>(pfn_to_page(pfn) + PAGE_FLAGS, PG_dirty);
    pte_store_charge(); // set_pte_at of the clean entry
    atomic.store<u64>(ptep, old & ~(_PAGE_RW | _PAGE_DIRTY));
    cleaned = 1;
  }
  pte_unmap_unlock(mm, ptep, held);
  return cleaned;
}

/**
 * page_mkclean - write-protect and clean every shared mapping of page-cache page pfn, so the next
 * write faults (writeback's clear_page_dirty_for_io). A dirty PTE's bit moves to PG_dirty (the
 * caller's set_page_dirty, folded in). The caller holds the page lock. Returns how many PTEs changed;
 * 0 for an anonymous or unmapped page.
 */
export function page_mkclean(pfn: u32): i32 {
  const page = pfn_to_page(pfn);
  if (page_mapcount(page) == 0 || page_is_anon(pfn) || atomic.load<u32>(page + PAGE_MAPPING) == 0) return 0;
  return rmap_walk(pfn, page_mkclean_one, 0, 0, 0);
}

// ---- remove_migration_ptes ---------------------------------------------------------------------

function remove_migration_pte(newpfn: u32, vma: usize, address: u64, arg: u64, wf: u32): i32 {
  const oldpfn = <u32>arg;
  const mm = <usize>load<u32>(vma + VMA_MM);
  const held = (wf & RMAP_PTL_HELD) != 0;
  const ptep = page_check_address(oldpfn, mm, address, true, held);
  if (ptep == 0) return 0;
  const entry = atomic.load<u64>(ptep);
  let pte = (<u64>newpfn << PAGE_SHIFT) | (load<u64>(vma + VMA_PAGE_PROT) & ~(_PAGE_RW | PTE_PFN_MASK));
  if (is_write_migration_entry(entry) && (load<u32>(vma + VMA_FLAGS) & VM_WRITE) != 0) pte |= _PAGE_RW; // maybe_mkwrite
  get_page(newpfn);
  if (page_is_anon(newpfn)) page_add_anon_rmap(newpfn, vma, address);
  else page_add_file_rmap(newpfn);
  pte_store_charge(); // set_pte_at: a PTE write
  atomic.store<u64>(ptep, pte); // was not present: nothing to flush
  pte_unmap_unlock(mm, ptep, held);
  return 1;
}

/**
 * remove_migration_ptes - replace every migration entry naming oldpfn, in the vmas that map newpfn
 * (which has oldpfn's mapping and index by now), with a PTE of newpfn (writable if the entry was).
 * Called with migration == newpfn == oldpfn to undo a failed migration. Both pages locked; the
 * caller holds a reference on an anonymous page's anon_vma. Returns the number of PTEs restored.
 */
export function remove_migration_ptes(oldpfn: u32, newpfn: u32): i32 {
  return rmap_walk(newpfn, remove_migration_pte, <u64>oldpfn, 0, 0);
}
