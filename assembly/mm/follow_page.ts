// follow_page (mm/memory.c): the page a user address of an mm maps, looked up in the page tables
// without faulting, as get_user_pages, move_pages(2) and the host's page-level operations do.
import { EFAULT } from "../errno";
import { lock_acquire, lock_release, MODE_WRITE } from "../locking/lock";
import { pte_present, pte_pfn } from "./pgtable";
import { get_page } from "./page_alloc";
import { mm_find_pte, rmap_pte_lockptr, ptep_table_pfn } from "./rmap_walk";

/** follow_page flag: take a reference on the page (get_page) before the PTE lock is dropped. */
export const FOLL_GET: u32 = 0x04;

/**
 * follow_page - the frame mapped at address in mm: its PTE read under the PTE's lock (the split lock
 * or page_table_lock); with FOLL_GET the page's refcount is raised before the lock is dropped, so it
 * cannot be freed under the caller. A PROT_NONE PTE still maps its frame (pte_present). The caller
 * holds mm->mmap_sem (read is enough: the tables cannot be freed under it). Returns the pfn, or
 * -EFAULT when nothing is mapped there (no table, none, or a swap/migration entry).
 * Simplification: no FOLL_WRITE/FOLL_TOUCH, no huge pages, no zero page.
 */
export function follow_page(mm: usize, address: u64, flags: u32): i64 {
  const ptep = mm_find_pte(mm, address);
  if (ptep == 0) return -EFAULT;
  const ptl = rmap_pte_lockptr(mm, ptep_table_pfn(ptep));
  lock_acquire(ptl, MODE_WRITE, "follow_page");
  const pte = atomic.load<u64>(ptep);
  let r: i64 = -EFAULT;
  if (pte_present(pte)) {
    const pfn = pte_pfn(pte);
    if ((flags & FOLL_GET) != 0) get_page(pfn);
    r = <i64>pfn;
  }
  lock_release(ptl, MODE_WRITE);
  return r;
}
