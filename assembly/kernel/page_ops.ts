// Page-level operations on one page of a process, as the kernel's own callers drive them: reclaim's
// shrink_page_list (page_referenced, try_to_unmap, page_mkclean) and move_pages(2) (migrate_page).
// The host names the page by (pid, user address); the page is found with follow_page under the
// mm's mmap_sem for read and pinned with a reference (FOLL_GET), then the mm is let go and the
// operation runs on the page alone, through the reverse maps, as kswapd would: in whatever context
// is current on the CPU (no switch to the process).
//
// Locks: mmap_sem (read) only around the lookup; then the page lock where the operation needs it
// (try_to_unmap, page_mkclean; migrate_page takes it itself), and the rmap walk's own locks below it.
import { ESRCH, EINVAL } from "../errno";
import { MM_MMAP_SEM } from "../mm/mm_types";
import { lock_acquire, lock_release, MODE_READ } from "../locking/lock";
import { get_task_mm, mmput } from "../mm/mm_struct";
import { follow_page, FOLL_GET } from "../mm/follow_page";
import { put_page } from "../mm/page_alloc";
import { lock_page, unlock_page } from "../mm/filemap";
import { page_referenced, try_to_unmap, page_mkclean } from "../mm/rmap_walk";
import { migrate_page } from "../mm/migrate";
import { find_task_by_pid } from "./task";

/** The frame only (follow_page): its pfn. */
export const PAGEOP_PFN: u32 = 0;
/** page_referenced: how many mappings had the Accessed bit (now clear). */
export const PAGEOP_REFERENCED: u32 = 1;
/** try_to_unmap (page locked): how many PTEs were removed. */
export const PAGEOP_UNMAP: u32 = 2;
/** migrate_page (move_pages(2) for one page): the new pfn. */
export const PAGEOP_MIGRATE: u32 = 3;
/** page_mkclean (page locked): how many shared PTEs were write-protected and cleaned. */
export const PAGEOP_MKCLEAN: u32 = 4;

/**
 * page_op - run op (PAGEOP_*) on the page mapped at va by the process with pid. Holds nothing on
 * entry or return. Returns the op's result (>= 0), or -ESRCH (no such process, or a kernel thread),
 * -EFAULT (nothing mapped at va), -EINVAL (unknown op), or the op's own -errno (migrate_page:
 * -ENOMEM, -EAGAIN, -EBUSY, -EINVAL).
 */
export function page_op(pid: u32, va: u64, op: u32): i64 {
  if (op > PAGEOP_MKCLEAN) return -EINVAL;
  const t = find_task_by_pid(pid);
  if (t == 0) return -ESRCH;
  const mm = get_task_mm(t);
  if (mm == 0) return -ESRCH;
  lock_acquire(mm + MM_MMAP_SEM, MODE_READ, "page_op");
  const found = follow_page(mm, va, FOLL_GET);
  lock_release(mm + MM_MMAP_SEM, MODE_READ);
  mmput(mm);
  if (found < 0) return found;
  const pfn = <u32>found;
  let r: i64 = <i64>pfn;
  if (op == PAGEOP_REFERENCED) {
    r = page_referenced(pfn, 0, 0);
  } else if (op == PAGEOP_UNMAP) {
    lock_page(pfn);
    r = try_to_unmap(pfn, 0);
    unlock_page(pfn);
  } else if (op == PAGEOP_MKCLEAN) {
    lock_page(pfn);
    r = page_mkclean(pfn);
    unlock_page(pfn);
  } else if (op == PAGEOP_MIGRATE) {
    r = migrate_page(pfn); // keeps our reference on the old frame either way
  }
  put_page(pfn); // the lookup's reference (after a migration: the old frame's last one)
  return r;
}
