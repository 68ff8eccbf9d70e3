// The MM core's view of the page tables: entry helpers, the four-level descent, allocation of
// page-table pages and the page-table locks (include/linux/mm.h, include/asm-generic/pgtable.h,
// arch/x86/include/asm/pgtable.h, mm/memory.c __pte_alloc & co.).
//
// A page-table page is an order-0 frame from ZONE_NORMAL (it always has contents), zeroed, with
// PG_pgtable set in its struct page. Its entries are read and written with 64-bit atomics: the
// paging unit (arch/x86/pgtable.ts) walks them concurrently and sets A and D with compare-and-swap.
//
//  Level    Linux      x86 name   entry address
//  4        pgd_t      PML4E      pgd_offset(mm, addr)         (mm->pgd is the PML4's pfn)
//  3        pud_t      PDPTE      pud_offset(pgd, addr)
//  2        pmd_t      PDE        pmd_offset(pud, addr)
//  1        pte_t      PTE        pte_offset_map(pmd, addr)
// Entry addresses here are host byte addresses in the shared memory (frames_base + pa), not physical.
//
// Locks (mm/memory.c, Documentation/vm/split_page_table_lock):
//   - populating an empty pgd/pud/pmd entry: mm->page_table_lock, with the "someone else populated
//     it first" recheck; the loser frees its page.
//   - the PTEs of one PTE page: its pte lock, pte_lockptr(mm, pmd): with MMC_SPLIT_PTL (machine's
//     mm_config word) a struct mm_lock of class pte_lock allocated with the page (KMEM_PTLOCK) and kept
//     in page->private; without it, mm->page_table_lock. A PTE page allocated while the switch was off
//     has no lock of its own and keeps using page_table_lock, so flipping the switch is safe.
//   - freeing page tables: mmap_sem held for write (or mm_users == 0) and the vmas unlinked from rmap
//     first (free_pgtables, seed 004); no page-table lock.
// Counting: mm->rss[MM_PGTABLES] counts the PUD, PMD and PTE pages of the mm (not the PGD), atomically.
// Simplifications: no huge pages (a PS entry below the PGD is treated as "bad" and left alone by the
// MM core), no split PMD locks (pmd_lock is page_table_lock), no pte_offset_map highmem mapping.
import { frames_base, MMC_SPLIT_PTL } from "../layout";
import { mm_config_has } from "./mm_config";
import { PAGE_SHIFT, PMD_SHIFT, PUD_SHIFT, PGDIR_SHIFT } from "../config";
import { ENOMEM } from "../errno";
import { _PAGE_PRESENT, _PAGE_RW, _PAGE_USER, _PAGE_ACCESSED, _PAGE_DIRTY, _PAGE_PROTNONE, _PAGE_PCD, _PAGE_PWT,
  _PAGE_SOFTW1, _PAGE_PSE, _PAGE_NX, PTE_PFN_MASK } from "../arch/x86/pgtable_types";
import { alloc_page, put_page, GFP_PGTABLE } from "./page_alloc";
import { kmem_cache_alloc, kmem_cache_free } from "./slab";
import { pfn_to_page, set_page_flag, clear_page_flag, PAGE_PRIVATE, PG_pgtable, KMEM_PTLOCK, MM_PGD,
  MM_PAGE_TABLE_LOCK, MM_RSS, MM_PGTABLES } from "./mm_types";
import { lock_init, lock_acquire, lock_release, MODE_WRITE } from "../locking/lock";
import { LOCK_CLASS_PTE_LOCK } from "../locking/lock_types";
import { VM_BUG_ON } from "../debug";
import { pte_rmw_charge, pte_store_charge, atomic_charge } from "../kernel/mm_charge";

// ---- the split-PTL switch of the machine's mm_config word (layout.ts MMC_SPLIT_PTL) ---------------
/** Whether new PTE pages get their own lock (read at each allocation). */
// @ts-ignore: decorator
@inline export function split_ptlocks(): bool {
  return mm_config_has(MMC_SPLIT_PTL);
}

// ---- entry bits (arch/x86/include/asm/pgtable_types.h) ---------------------------------------------
/** A user page-table entry pointing to a lower table (_PAGE_TABLE): present, writable, user, A, D. */
export const _PAGE_TABLE: u64 = _PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED | _PAGE_DIRTY;
/** _PAGE_SPECIAL (software bit 9): a PTE with no struct page behind it (vm_normal_page returns none). */
export const _PAGE_SPECIAL: u64 = _PAGE_SOFTW1;
/** Bits change_protection keeps (_PAGE_CHG_MASK): frame, caching, special, A, D. */
export const _PAGE_CHG_MASK: u64 = PTE_PFN_MASK | _PAGE_PCD | _PAGE_PWT | _PAGE_SPECIAL | _PAGE_ACCESSED | _PAGE_DIRTY;
/** The protection bits of a vm_page_prot: what mk_pte ORs into the frame. */
export const _PAGE_PROT_MASK: u64 = _PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_PWT | _PAGE_PCD | _PAGE_PROTNONE | _PAGE_NX;

// @ts-ignore: decorator
@inline export function pte_none(pte: u64): bool { return pte == 0; }
// @ts-ignore: decorator
@inline export function pte_present(pte: u64): bool { return (pte & (_PAGE_PRESENT | _PAGE_PROTNONE)) != 0; }
// @ts-ignore: decorator
@inline export function pte_write(pte: u64): bool { return (pte & _PAGE_RW) != 0; }
// @ts-ignore: decorator
@inline export function pte_dirty(pte: u64): bool { return (pte & _PAGE_DIRTY) != 0; }
// @ts-ignore: decorator
@inline export function pte_young(pte: u64): bool { return (pte & _PAGE_ACCESSED) != 0; }
// @ts-ignore: decorator
@inline export function pte_special(pte: u64): bool { return (pte & _PAGE_SPECIAL) != 0; }
// @ts-ignore: decorator
@inline export function pte_pfn(pte: u64): u32 { return <u32>((pte & PTE_PFN_MASK) >> PAGE_SHIFT); }
/** mk_pte - the PTE that maps frame pfn with protection prot (a vm_page_prot). */
// @ts-ignore: decorator
@inline export function mk_pte(pfn: u32, prot: u64): u64 { return (<u64>pfn << PAGE_SHIFT) | (prot & _PAGE_PROT_MASK); }
// @ts-ignore: decorator
@inline export function pte_wrprotect(pte: u64): u64 { return pte & ~_PAGE_RW; }
// @ts-ignore: decorator
@inline export function pte_mkwrite(pte: u64): u64 { return pte | _PAGE_RW; }
// @ts-ignore: decorator
@inline export function pte_mkdirty(pte: u64): u64 { return pte | _PAGE_DIRTY; }
// @ts-ignore: decorator
@inline export function pte_mkclean(pte: u64): u64 { return pte & ~_PAGE_DIRTY; }
// @ts-ignore: decorator
@inline export function pte_mkold(pte: u64): u64 { return pte & ~_PAGE_ACCESSED; }
// @ts-ignore: decorator
@inline export function pte_mkyoung(pte: u64): u64 { return pte | _PAGE_ACCESSED; }
/** pte_modify - change a PTE's protection to newprot, keeping the frame, A, D and special. */
// @ts-ignore: decorator
@inline export function pte_modify(pte: u64, newprot: u64): u64 { return (pte & _PAGE_CHG_MASK) | (newprot & _PAGE_PROT_MASK); }

/** An upper-level entry (pgd, pud, pmd) that points to a table: present, not a large page. */
// @ts-ignore: decorator
@inline export function table_present(e: u64): bool { return (e & (_PAGE_PRESENT | _PAGE_PSE)) == _PAGE_PRESENT; }
/** An upper-level entry the MM core does not descend: present as a large page, or garbage (pmd_bad). */
// @ts-ignore: decorator
@inline export function table_bad(e: u64): bool { return e != 0 && !table_present(e); }

// ---- the descent ------------------------------------------------------------------------------------
export const PTRS_PER_PTE: u32 = 512;
export const PMD_SIZE: u64 = <u64>1 << PMD_SHIFT;
export const PUD_SIZE: u64 = <u64>1 << PUD_SHIFT;
export const PGDIR_SIZE: u64 = <u64>1 << PGDIR_SHIFT;
export const PMD_MASK: u64 = ~(PMD_SIZE - 1);
export const PUD_MASK: u64 = ~(PUD_SIZE - 1);
export const PGDIR_MASK: u64 = ~(PGDIR_SIZE - 1);
/** First byte past the user address space's PGD entries (pgd_addr_end never goes past 2^48). */
export const USER_PGTABLES_CEILING: u64 = 0;

/** Host address of entry idx of the table in frame pfn. */
// @ts-ignore: decorator
@inline export function table_entry(pfn: u32, idx: u32): usize {
  return frames_base + (<usize>pfn << PAGE_SHIFT) + (<usize>idx << 3);
}
/** The frame of the table an upper-level entry at ep points to. */
// @ts-ignore: decorator
@inline export function entry_table_pfn(ep: usize): u32 { return pte_pfn(atomic.load<u64>(ep)); }
/** The pfn of the table an entry address lies in. */
// @ts-ignore: decorator
@inline export function entry_page_pfn(ep: usize): u32 { return <u32>((ep - frames_base) >> PAGE_SHIFT); }

// @ts-ignore: decorator
@inline export function pgd_index(addr: u64): u32 { return <u32>(addr >> PGDIR_SHIFT) & 511; }
// @ts-ignore: decorator
@inline export function pud_index(addr: u64): u32 { return <u32>(addr >> PUD_SHIFT) & 511; }
// @ts-ignore: decorator
@inline export function pmd_index(addr: u64): u32 { return <u32>(addr >> PMD_SHIFT) & 511; }
// @ts-ignore: decorator
@inline export function pte_index(addr: u64): u32 { return <u32>(addr >> PAGE_SHIFT) & 511; }

/** pgd_offset - address of the PML4 entry of mm that covers addr. */
// @ts-ignore: decorator
@inline export function pgd_offset(mm: usize, addr: u64): usize { return table_entry(load<u32>(mm + MM_PGD), pgd_index(addr)); }
/** pud_offset - address of the PDPT entry under the (present) pgd entry at pgd. */
// @ts-ignore: decorator
@inline export function pud_offset(pgd: usize, addr: u64): usize { return table_entry(entry_table_pfn(pgd), pud_index(addr)); }
// @ts-ignore: decorator
@inline export function pmd_offset(pud: usize, addr: u64): usize { return table_entry(entry_table_pfn(pud), pmd_index(addr)); }
/** pte_offset_map - address of the PTE under the (present) pmd entry at pmd. */
// @ts-ignore: decorator
@inline export function pte_offset_map(pmd: usize, addr: u64): usize { return table_entry(entry_table_pfn(pmd), pte_index(addr)); }

// *_addr_end: the end of the entry's span containing addr, or end if that comes first (with the
// kernel's "- 1" comparison, so an end of 0 means the top of the address space).
// @ts-ignore: decorator
@inline function span_end(addr: u64, end: u64, size: u64): u64 {
  const b = (addr + size) & ~(size - 1);
  return b - 1 < end - 1 ? b : end;
}
export function pgd_addr_end(addr: u64, end: u64): u64 { return span_end(addr, end, PGDIR_SIZE); }
export function pud_addr_end(addr: u64, end: u64): u64 { return span_end(addr, end, PUD_SIZE); }
export function pmd_addr_end(addr: u64, end: u64): u64 { return span_end(addr, end, PMD_SIZE); }

// ---- counters ---------------------------------------------------------------------------------------
/** add_mm_counter - mm->rss[member] += value (atomic; the kernel's per-thread cache is not modelled). */
// @ts-ignore: decorator
@inline export function add_mm_counter(mm: usize, member: i32, value: i32): void {
  atomic_charge(1); // the locked add on mm->rss
  atomic.add<i32>(mm + MM_RSS + (<usize>member << 2), value);
}
// @ts-ignore: decorator
@inline export function get_mm_counter(mm: usize, member: i32): i32 {
  return atomic.load<i32>(mm + MM_RSS + (<usize>member << 2));
}

// ---- page-table pages -------------------------------------------------------------------------------
/**
 * pgtable_page_alloc - a zeroed page-table page (PG_pgtable). With split_ptl, its pte lock too
 * (pgtable_page_ctor / ptlock_init). Holds nothing. Returns the pfn or -ENOMEM.
 */
function pgtable_page_alloc(split_ptl: bool): i32 {
  const pfn = alloc_page(GFP_PGTABLE);
  if (pfn < 0) return -ENOMEM;
  const page = pfn_to_page(<u32>pfn);
  if (split_ptl) {
    const ptl = kmem_cache_alloc(KMEM_PTLOCK, 0);
    if (ptl == 0) {
      put_page(<u32>pfn);
      return -ENOMEM;
    }
    lock_init(ptl, LOCK_CLASS_PTE_LOCK, 0);
    store<u32>(page + PAGE_PRIVATE, <u32>ptl);
  }
  set_page_flag(page, PG_pgtable);
  return pfn;
}

/**
 * pgtable_page_free - give a page-table page back (pgtable_page_dtor + __free_page): its split lock
 * to KMEM_PTLOCK, its frame to the allocator. The page must no longer be reachable from any table and
 * no CPU may still walk it (the mmu_gather frees tables only after the TLB flush).
 */
export function pgtable_page_free(pfn: u32): void {
  const page = pfn_to_page(pfn);
  VM_BUG_ON((load<u32>(page) & PG_pgtable) == 0, "pgtable_page_free: not a page-table page");
  const ptl = load<u32>(page + PAGE_PRIVATE);
  if (ptl != 0) {
    kmem_cache_free(KMEM_PTLOCK, ptl);
    store<u32>(page + PAGE_PRIVATE, 0);
  }
  clear_page_flag(page, PG_pgtable);
  put_page(pfn);
}

/**
 * pgd_alloc - give mm a PML4 (mm->pgd), zeroed: no kernel half is modelled. Returns 0 or -ENOMEM.
 * Called by mm_alloc before the mm is visible; pgd_free by the last mmdrop.
 */
export function pgd_alloc(mm: usize): i32 {
  const pfn = pgtable_page_alloc(false);
  if (pfn < 0) return pfn;
  store<u32>(mm + MM_PGD, <u32>pfn);
  return 0;
}

/** pgd_free - free mm's PML4 (its user entries must all be empty: free_pgtables ran). */
export function pgd_free(mm: usize): void {
  const pfn = load<u32>(mm + MM_PGD);
  if (pfn == 0) return;
  store<u32>(mm + MM_PGD, 0);
  pgtable_page_free(pfn);
}

/**
 * The pfn of init_mm's PML4 (swapper_pg_dir): the reserved frame 0, which nothing ever writes, so it
 * maps nothing (the model has no kernel half). leave_mm loads it.
 */
// @ts-ignore: decorator
@inline export function swapper_pgd(): u32 { return 0; }

// Populate the empty entry at ep with a new table, under mm->page_table_lock: the common body of
// __pud_alloc, __pmd_alloc and __pte_alloc. Returns 0 (populated, by us or by a racing thread) or
// -ENOMEM. mmap_sem held (read or write).
function __table_alloc(mm: usize, ep: usize, split_ptl: bool): i32 {
  const pfn = pgtable_page_alloc(split_ptl);
  if (pfn < 0) return pfn;
  // The zeroed table must be visible before the entry that points to it (smp_wmb in the kernel): the
  // entry is stored with a sequentially consistent atomic.
  const ptl = mm + MM_PAGE_TABLE_LOCK;
  lock_acquire(ptl, MODE_WRITE, "__pte_alloc");
  let mine = false;
  if (atomic.load<u64>(ep) == 0) {
    add_mm_counter(mm, MM_PGTABLES, 1);
    pte_store_charge(); // pmd/pud/pgd_populate: a page-table write
    atomic.store<u64>(ep, (<u64>pfn << PAGE_SHIFT) | _PAGE_TABLE);
    mine = true;
  }
  lock_release(ptl, MODE_WRITE);
  if (!mine) pgtable_page_free(<u32>pfn); // someone else populated it first
  return 0;
}

/** __pud_alloc - populate the empty pgd entry at pgd with a PDPT. mmap_sem held. 0 or -ENOMEM. */
export function __pud_alloc(mm: usize, pgd: usize): i32 { return __table_alloc(mm, pgd, false); }
/** __pmd_alloc - populate the empty pud entry at pud with a page directory. 0 or -ENOMEM. */
export function __pmd_alloc(mm: usize, pud: usize): i32 { return __table_alloc(mm, pud, false); }
/**
 * __pte_alloc - populate the empty pmd entry at pmd with a PTE page (with its own pte lock when the
 * machine's mm_config MMC_SPLIT_PTL is on). mmap_sem held. 0 or -ENOMEM.
 */
export function __pte_alloc(mm: usize, pmd: usize): i32 {
  return __table_alloc(mm, pmd, split_ptlocks());
}

/** pud_alloc - the pud entry for addr, allocating the PDPT if needed; 0 on -ENOMEM. */
export function pud_alloc(mm: usize, pgd: usize, addr: u64): usize {
  if (atomic.load<u64>(pgd) == 0 && __pud_alloc(mm, pgd) < 0) return 0;
  return pud_offset(pgd, addr);
}
/** pmd_alloc - the pmd entry for addr, allocating the page directory if needed; 0 on -ENOMEM. */
export function pmd_alloc(mm: usize, pud: usize, addr: u64): usize {
  if (atomic.load<u64>(pud) == 0 && __pmd_alloc(mm, pud) < 0) return 0;
  return pmd_offset(pud, addr);
}
/** pte_alloc - make sure the pmd entry at pmd points to a PTE page. 0 or -ENOMEM. */
export function pte_alloc(mm: usize, pmd: usize): i32 {
  if (atomic.load<u64>(pmd) == 0) return __pte_alloc(mm, pmd);
  return 0;
}

/**
 * walk_to_pmd - the pmd entry of mm for addr without allocating, or 0 when an upper level is empty
 * or not a table (the descent of the MM's walkers: zap, change_protection, rmap's page_check_address).
 * Caller holds mmap_sem, or an rmap lock with the vma still linked (seed 004 keeps the tables alive).
 */
export function walk_to_pmd(mm: usize, addr: u64): usize {
  const pgd = pgd_offset(mm, addr);
  if (!table_present(atomic.load<u64>(pgd))) return 0;
  const pud = pud_offset(pgd, addr);
  if (!table_present(atomic.load<u64>(pud))) return 0;
  return pmd_offset(pud, addr);
}

/**
 * pte_lockptr - the lock that guards the PTE page the (present) pmd entry at pmd points to: its own
 * split lock if it has one, else mm->page_table_lock.
 */
export function pte_lockptr(mm: usize, pmd: usize): usize {
  return pte_lockptr_table(mm, entry_table_pfn(pmd));
}

/** pte_lockptr_table - the lock of the PTE page in frame table_pfn of mm (rmap walks come from the PTE). */
export function pte_lockptr_table(mm: usize, table_pfn: u32): usize {
  const ptl = load<u32>(pfn_to_page(table_pfn) + PAGE_PRIVATE);
  return ptl != 0 ? <usize>ptl : mm + MM_PAGE_TABLE_LOCK;
}

/**
 * pte_offset_map_lock - take the pte lock of the PTE page under the (present) pmd entry at pmd and
 * return the address of addr's PTE. Release with pte_unmap_unlock(pte_lockptr(mm, pmd)).
 * site names the caller for lockdep. mode: MODE_WRITE, | MODE_NESTED for a second pte lock.
 */
export function pte_offset_map_lock(mm: usize, pmd: usize, addr: u64, mode: u32, site: string): usize {
  lock_acquire(pte_lockptr(mm, pmd), mode, site);
  return pte_offset_map(pmd, addr);
}

/** pte_unmap_unlock - release a pte lock taken by pte_offset_map_lock. */
export function pte_unmap_unlock(ptl: usize, mode: u32): void {
  lock_release(ptl, mode);
}

/**
 * ptep_get_and_clear - clear the PTE at ptep and return what it held, atomically against the paging
 * unit's A/D updates (xchg, as native_ptep_get_and_clear on SMP). pte lock held.
 */
// @ts-ignore: decorator
@inline export function ptep_get_and_clear(ptep: usize): u64 {
  pte_rmw_charge(); // xchg: a PTE write
  return atomic.xchg<u64>(ptep, 0);
}
/** ptep_set_wrprotect - clear R/W in place (clear_bit: atomic against A/D updates). pte lock held. */
// @ts-ignore: decorator
@inline export function ptep_set_wrprotect(ptep: usize): void {
  pte_rmw_charge(); // lock and: a PTE write
  atomic.and<u64>(ptep, ~_PAGE_RW);
}
/** set_pte_at - store a PTE (one atomic 64-bit store). pte lock held. */
// @ts-ignore: decorator
@inline export function set_pte_at(ptep: usize, pte: u64): void {
  pte_store_charge(); // a plain store: a PTE write
  atomic.store<u64>(ptep, pte);
}
// @ts-ignore: decorator
@inline export function ptep_get(ptep: usize): u64 { return atomic.load<u64>(ptep); }
