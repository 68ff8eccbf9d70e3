// Page migration (mm/migrate.c): move one page's contents and every mapping of it to a new frame.
//
// migrate_page(pfn):
//   1. lock the page (PG_locked: the page lock, mm/filemap.ts); for an anonymous page take a reference
//      on its anon_vma (seed 002: the reference, not RCU, keeps it while the page is unmapped);
//   2. try_to_unmap(TTU_MIGRATION): every PTE becomes a migration entry naming the old frame (a fault
//      on one waits in migration_entry_wait until the page is unlocked);
//   3. allocate the new frame, lock it, copy the contents and the flags, give it the old page's
//      mapping and index (for a page-cache page: take its slot, migrate_page_move_mapping, which fails
//      with -EAGAIN if anyone else holds a reference);
//   4. remove_migration_ptes: walk the rmap of the new page (the anon_vma lock for read, or the i_mmap
//      lock: seed 003's subject) and turn each migration entry into a PTE of the new frame;
//   5. unlock both pages (waking migration_entry_wait's sleepers), drop the anon_vma reference.
// On failure after step 2 the migration entries are turned back into PTEs of the old frame.
//
// Sleeping: migration_entry_wait sleeps on the old page's flags word until PG_locked clears
// (wait_on_page_locked: kernel/sched.ts's sched_sleep / sched_wake, wait32/notify on workers, the
// virtual scheduler in virtual time) instead of the kernel's hashed page wait queues.
//
// Simplifications: one page at a time (no migrate_pages list, no LRU isolation: the caller's
// reference stands for the isolation reference); no dirty-page writeback, buffers, or movable_ops;
// the new frame comes from the old one's zone kind (with contents iff the old one has them).
import { page_lines_charge } from "../kernel/mm_charge";
import { PAGE_SIZE } from "../config";
import { EAGAIN, EBUSY, ENOMEM, EINVAL } from "../errno";
import { nr_frames } from "../layout";
import { lock_acquire, lock_release, MODE_WRITE } from "../locking/lock";
import { alloc_page, put_page, page_address, page_has_data, GFP_KERNEL, GFP_HIGHUSER } from "./page_alloc";
import { lock_page, unlock_page, wait_on_page_locked, migrate_page_move_mapping } from "./filemap";
import { page_anon_vma, grab_anon_vma, put_anon_vma, page_is_anon } from "./rmap";
import { try_to_unmap, remove_migration_ptes, mm_find_pte, rmap_pte_lockptr, ptep_table_pfn, TTU_MIGRATION } from "./rmap_walk";
import { is_migration_entry, migration_entry_to_pfn } from "./swapops";
import { pfn_to_page, page_mapcount, PAGE_FLAGS, PAGE_REFCOUNT, PAGE_MAPPING, PAGE_INDEX, PG_dirty, PG_referenced,
  PG_anon, PG_swapbacked, PG_buddy, PG_reserved, PG_slab, PG_pgtable } from "./mm_types";

// Flags that travel with the contents (migrate_page_states).
const MIGRATE_FLAGS: u32 = PG_dirty | PG_referenced | PG_anon | PG_swapbacked;

/**
 * migrate_page - move page pfn to a new frame (see the top of this file). The caller holds a reference
 * on pfn (it keeps it: on success the old frame is left with only that reference and no mapping, to
 * be put by the caller) and no MM lock. Returns the new pfn, or -EINVAL for a frame that is not a
 * user page, -ENOMEM, -EAGAIN when other references (or a racing mapping) prevent the move; on
 * failure every mapping is back on the old frame.
 */
export function migrate_page(pfn: u32): i32 {
  if (pfn >= nr_frames) return -EINVAL;
  const page = pfn_to_page(pfn);
  const f = atomic.load<u32>(page + PAGE_FLAGS);
  if ((f & (PG_buddy | PG_reserved | PG_slab | PG_pgtable)) != 0 || atomic.load<u32>(page + PAGE_MAPPING) == 0) return -EINVAL;
  const newpfn = alloc_page(page_has_data(pfn) ? GFP_KERNEL : GFP_HIGHUSER);
  if (newpfn < 0) return -ENOMEM;
  const np = pfn_to_page(<u32>newpfn);

  lock_page(pfn);
  const anon = page_is_anon(pfn);
  let av: usize = 0;
  if (anon) {
    av = page_anon_vma(pfn);
    if (!grab_anon_vma(av)) { unlock_page(pfn); put_page(<u32>newpfn); return -EAGAIN; }
  }
  if (page_mapcount(page) > 0) try_to_unmap(pfn, TTU_MIGRATION);
  let rc: i32 = 0;
  if (page_mapcount(page) > 0) rc = -EBUSY;

  if (rc == 0) {
    lock_page(<u32>newpfn); // nobody else can see it yet: never sleeps
    // move_to_new_page: contents, flags, mapping.
    if (page_has_data(pfn) && page_has_data(<u32>newpfn)) memory.copy(page_address(<u32>newpfn), page_address(pfn), PAGE_SIZE);
    page_lines_charge(); // migrate_page_copy: 64 lines at LLC latency (kernel/mm_charge.ts), contents or not
    atomic.or<u32>(np + PAGE_FLAGS, atomic.load<u32>(page + PAGE_FLAGS) & MIGRATE_FLAGS);
    if (anon) {
      // The caller's reference is the only one left (mappings dropped theirs).
      if (atomic.load<i32>(page + PAGE_REFCOUNT) != 1) rc = -EAGAIN;
      else {
        store<u32>(np + PAGE_INDEX, load<u32>(page + PAGE_INDEX));
        atomic.store<u32>(np + PAGE_MAPPING, atomic.load<u32>(page + PAGE_MAPPING));
      }
    } else {
      rc = migrate_page_move_mapping(<usize>atomic.load<u32>(page + PAGE_MAPPING), <u32>newpfn, pfn, 2);
    }
    if (rc == 0) {
      remove_migration_ptes(pfn, <u32>newpfn);
      atomic.and<u32>(page + PAGE_FLAGS, ~MIGRATE_FLAGS);
      if (anon) atomic.store<u32>(page + PAGE_MAPPING, 0);
    } else {
      atomic.and<u32>(np + PAGE_FLAGS, ~MIGRATE_FLAGS);
    }
    unlock_page(<u32>newpfn);
  }
  if (rc != 0) remove_migration_ptes(pfn, pfn); // put the old frame back in every PTE
  unlock_page(pfn);
  if (av != 0) put_anon_vma(av);
  // The allocation's reference: the new frame now lives on its mappings' (and the cache's) references.
  put_page(<u32>newpfn);
  return rc == 0 ? newpfn : rc;
}

/**
 * migration_entry_wait - a fault found address's PTE in mm to be (maybe) a migration entry: if it still
 * is, wait until the page it names is unlocked (the migration is over); the fault is then retried.
 * mmap_sem held for read; no spinlock. Returns 1 if it waited on a migration entry, 0 if the PTE was
 * no longer one.
 */
export function migration_entry_wait(mm: usize, address: u64): i32 {
  const ptep = mm_find_pte(mm, address);
  if (ptep == 0) return 0;
  const ptl = rmap_pte_lockptr(mm, ptep_table_pfn(ptep));
  lock_acquire(ptl, MODE_WRITE, "migration_entry_wait");
  const pte = atomic.load<u64>(ptep);
  if (!is_migration_entry(pte)) {
    lock_release(ptl, MODE_WRITE);
    return 0;
  }
  const pfn = migration_entry_to_pfn(pte);
  // get_page_unless_zero: the page may be on its way to being freed once the migration is done.
  const page = pfn_to_page(pfn);
  let ref = atomic.load<i32>(page + PAGE_REFCOUNT);
  let got = false;
  while (ref > 0) {
    const seen = atomic.cmpxchg<i32>(page + PAGE_REFCOUNT, ref, ref + 1);
    if (seen == ref) { got = true; break; }
    ref = seen;
  }
  lock_release(ptl, MODE_WRITE);
  if (!got) return 1;
  wait_on_page_locked(pfn);
  put_page(pfn);
  return 1;
}

