// Emulated files and the page cache (mm/filemap.c, include/linux/pagemap.h), the i_mmap lock helpers
// (include/linux/fs.h), and the page lock (lock_page / unlock_page / wait_on_page_locked).
//
// A file is one struct address_space (mm_types.ts: the inode and its mapping in one object) of
// size_pages pages. Its page cache is a flat index: one frame (page_tree) of PAGE_CACHE_SLOTS u32
// slots, slot i holding the pfn of page i or 0 (pfn 0 is reserved, so 0 is "absent"), under the
// mapping's tree_lock (a ticket spinlock word, as the kernel's mapping->tree_lock / i_pages lock).
// A page in the page cache has page->mapping = the address_space, page->index = its page offset and
// one reference owned by the cache.
//
// On a miss, filemap_fault allocates the page and fills it as if read from the file: word i of page
// index of the file with inode number ino is filemap_pattern(ino, index, i) (frames without contents
// have nothing to fill), so tests can check that a mapping, a migration, ... shows the right bytes.
//
// Simplifications: files of at most PAGE_CACHE_SLOTS (1024) pages; no readahead, no writeback, no
// truncation; no LRU; a fault is synchronous (the "read" is the fill).
//
// The page lock, PG_locked, with PG_waiters (4.10) so that unlock_page wakes only when someone sleeps:
// waiters sleep on the page's flags word with the scheduling hooks (kernel/sched.ts sched_sleep /
// sched_wake: wait32/notify on workers, the virtual scheduler in virtual time) instead of the
// kernel's hashed page wait queues.
import { PAGE_SIZE } from "../config";
import { ENOMEM, ENOENT, EEXIST, EFAULT, EAGAIN } from "../errno";
import { kheap_base } from "../layout";
import { VM_BUG_ON } from "../debug";
import { lock_init, lock_acquire, lock_release, MODE_READ, MODE_WRITE } from "../locking/lock";
import { lock_class_type, LOCK_RWSEM, LOCK_CLASS_I_MMAP } from "../locking/lock_types";
import { spin_lock, spin_unlock } from "../locking/spinlock";
import { sched_sleep, sched_wake } from "../kernel/sched";
import { kmem_cache_alloc, kmem_cache_free } from "./slab";
import { alloc_page, put_page, get_page, page_address, page_has_data, __GFP_ZERO, GFP_HIGHUSER } from "./page_alloc";
import { KMEM_ADDRESS_SPACE, ADDRESS_SPACE_SIZE, AS_I_MMAP_LOCK, AS_I_MMAP, AS_TREE_LOCK, AS_NRPAGES, AS_PAGE_TREE,
  AS_SIZE_PAGES, AS_INO, VMA_FILE, pfn_to_page, PAGE_FLAGS, PAGE_REFCOUNT, PAGE_MAPPING, PAGE_INDEX, PG_locked,
  PG_waiters } from "./mm_types";

/** Page-cache slots per file: one frame of u32 pfns. */
export const PAGE_CACHE_SLOTS: u32 = <u32>PAGE_SIZE / 4;

// ---- the page lock ------------------------------------------------------------------------------

/** trylock_page - take PG_locked if it is clear. Returns true when taken. */
export function trylock_page(pfn: u32): bool {
  return (atomic.or<u32>(pfn_to_page(pfn) + PAGE_FLAGS, PG_locked) & PG_locked) == 0;
}

/**
 * wait_on_page_locked - sleep until PG_locked is clear (it may be set again by the time this returns:
 * callers that need the lock use lock_page). The caller holds a reference on the page and no spinlock.
 */
export function wait_on_page_locked(pfn: u32): void {
  const word = pfn_to_page(pfn) + PAGE_FLAGS;
  for (;;) {
    if ((atomic.load<u32>(word) & PG_locked) == 0) return;
    const old = atomic.or<u32>(word, PG_waiters);
    if ((old & PG_locked) == 0) return;
    sched_sleep(word, old | PG_waiters); // returns once the word changed (unlock_page, or another flag)
  }
}

/** lock_page - take PG_locked, sleeping while another holder has it. A reference held, no spinlock. */
export function lock_page(pfn: u32): void {
  while (!trylock_page(pfn)) wait_on_page_locked(pfn);
}

/** unlock_page - clear PG_locked (held by the caller) and wake the sleepers, if any. */
export function unlock_page(pfn: u32): void {
  const word = pfn_to_page(pfn) + PAGE_FLAGS;
  const old = atomic.and<u32>(word, ~(PG_locked | PG_waiters));
  VM_BUG_ON((old & PG_locked) == 0, "unlock_page: the page is not locked");
  if ((old & PG_waiters) != 0) sched_wake(word, u32.MAX_VALUE);
}

// ---- files --------------------------------------------------------------------------------------

/** The word filemap_fault puts at word i of page index of the file with inode number ino. */
// @ts-ignore: decorator
@inline export function filemap_pattern(ino: u32, index: u32, i: u32): u32 {
  return (ino * 0x01000193) ^ (index * 0x9e3779b1) ^ (i * 0x85ebca77) ^ 0x5a5a5a5a;
}

/**
 * address_space_create - a new emulated file of size_pages pages: its address_space (i_mmap lock of
 * class i_mmap, empty i_mmap tree, empty page cache). Holds nothing. Returns it, or 0 for a size of 0
 * or above PAGE_CACHE_SLOTS, or when memory is short.
 */
export function address_space_create(size_pages: u32): usize {
  if (size_pages == 0 || size_pages > PAGE_CACHE_SLOTS) return 0;
  const mapping = kmem_cache_alloc(KMEM_ADDRESS_SPACE, __GFP_ZERO);
  if (mapping == 0) return 0;
  const tree = alloc_page(__GFP_ZERO); // ZONE_NORMAL: the index is kernel data with contents
  if (tree < 0) {
    kmem_cache_free(KMEM_ADDRESS_SPACE, mapping);
    return 0;
  }
  lock_init(mapping + AS_I_MMAP_LOCK, LOCK_CLASS_I_MMAP, 0);
  store<u32>(mapping + AS_I_MMAP, 0);
  store<u32>(mapping + AS_TREE_LOCK, 0);
  store<u32>(mapping + AS_NRPAGES, 0);
  store<u32>(mapping + AS_PAGE_TREE, <u32>tree);
  store<u32>(mapping + AS_SIZE_PAGES, size_pages);
  store<u32>(mapping + AS_INO, <u32>((mapping - kheap_base) / ADDRESS_SPACE_SIZE) + 1);
  return mapping;
}

// @ts-ignore: decorator
@inline function slot_ptr(mapping: usize, index: u32): usize {
  return page_address(load<u32>(mapping + AS_PAGE_TREE)) + (<usize>index << 2);
}

/**
 * find_get_page - the page at index in mapping's page cache, with a reference taken for the caller.
 * Holds nothing (takes tree_lock). Returns the pfn, or -ENOENT (also for an index past the end).
 */
export function find_get_page(mapping: usize, index: u32): i32 {
  if (index >= load<u32>(mapping + AS_SIZE_PAGES)) return -ENOENT;
  spin_lock(mapping + AS_TREE_LOCK);
  const pfn = load<u32>(slot_ptr(mapping, index));
  if (pfn != 0) get_page(pfn);
  spin_unlock(mapping + AS_TREE_LOCK);
  return pfn != 0 ? <i32>pfn : -ENOENT;
}

/**
 * add_to_page_cache - insert page pfn at index: the cache takes a reference; page->mapping and
 * page->index are set. The caller holds a reference (and, in Linux, the page lock). Returns 0, or
 * -EEXIST when the slot is taken (a racing fault won), -ENOENT past the end of the file.
 */
export function add_to_page_cache(pfn: u32, mapping: usize, index: u32): i32 {
  if (index >= load<u32>(mapping + AS_SIZE_PAGES)) return -ENOENT;
  const page = pfn_to_page(pfn);
  spin_lock(mapping + AS_TREE_LOCK);
  const slot = slot_ptr(mapping, index);
  if (load<u32>(slot) != 0) {
    spin_unlock(mapping + AS_TREE_LOCK);
    return -EEXIST;
  }
  get_page(pfn);
  store<u32>(page + PAGE_INDEX, index);
  atomic.store<u32>(page + PAGE_MAPPING, <u32>mapping);
  store<u32>(slot, pfn);
  store<u32>(mapping + AS_NRPAGES, load<u32>(mapping + AS_NRPAGES) + 1);
  spin_unlock(mapping + AS_TREE_LOCK);
  return 0;
}

/**
 * delete_from_page_cache - take an unmapped page out of its file's cache, clear its mapping and drop
 * the cache's reference. The caller holds its own reference. Returns 0, or -ENOENT when it is not
 * in a page cache.
 */
export function delete_from_page_cache(pfn: u32): i32 {
  const page = pfn_to_page(pfn);
  const mapping = <usize>load<u32>(page + PAGE_MAPPING);
  if (mapping == 0 || (mapping & 1) != 0) return -ENOENT;
  spin_lock(mapping + AS_TREE_LOCK);
  const slot = slot_ptr(mapping, load<u32>(page + PAGE_INDEX));
  VM_BUG_ON(load<u32>(slot) != pfn, "delete_from_page_cache: the slot holds another page");
  store<u32>(slot, 0);
  store<u32>(mapping + AS_NRPAGES, load<u32>(mapping + AS_NRPAGES) - 1);
  atomic.store<u32>(page + PAGE_MAPPING, 0);
  spin_unlock(mapping + AS_TREE_LOCK);
  put_page(pfn);
  return 0;
}

/**
 * migrate_page_move_mapping - (migration) make newpfn take oldpfn's place in the page cache when
 * oldpfn has exactly expected references (the cache's, the migrator's and no others: page_ref_freeze).
 * Both pages locked; oldpfn unmapped. newpfn gets the cache's reference and mapping/index; oldpfn
 * keeps the migrator's reference, loses its mapping. Returns 0, or -EAGAIN when other references
 * exist (someone found the page meanwhile).
 */
export function migrate_page_move_mapping(mapping: usize, newpfn: u32, oldpfn: u32, expected: i32): i32 {
  const old = pfn_to_page(oldpfn);
  const np = pfn_to_page(newpfn);
  spin_lock(mapping + AS_TREE_LOCK);
  if (atomic.cmpxchg<i32>(old + PAGE_REFCOUNT, expected, 0) != expected) {
    spin_unlock(mapping + AS_TREE_LOCK);
    return -EAGAIN;
  }
  const index = load<u32>(old + PAGE_INDEX);
  get_page(newpfn);
  store<u32>(np + PAGE_INDEX, index);
  atomic.store<u32>(np + PAGE_MAPPING, <u32>mapping);
  store<u32>(slot_ptr(mapping, index), newpfn);
  atomic.store<u32>(old + PAGE_MAPPING, 0);
  atomic.store<i32>(old + PAGE_REFCOUNT, expected - 1); // page_ref_unfreeze: less the cache's
  spin_unlock(mapping + AS_TREE_LOCK);
  return 0;
}

/**
 * filemap_fault - the page at page offset pgoff of vma's file, with a reference for the caller (the
 * mapping's, once mapped). On a miss it allocates a page, fills it (filemap_pattern) and adds it to the
 * page cache. mmap_sem held for read; no spinlock. Returns the pfn, or -EFAULT past the end of the
 * file (SIGBUS), -ENOMEM, -ENOENT for a vma without a file.
 */
export function filemap_fault(vma: usize, pgoff: u32): i32 {
  const mapping = <usize>load<u32>(vma + VMA_FILE);
  if (mapping == 0) return -ENOENT;
  if (pgoff >= load<u32>(mapping + AS_SIZE_PAGES)) return -EFAULT;
  let err: i32 = -EEXIST;
  while (err == -EEXIST) {
    const found = find_get_page(mapping, pgoff);
    if (found >= 0) return found;
    const pfn = alloc_page(GFP_HIGHUSER);
    if (pfn < 0) return -ENOMEM;
    if (page_has_data(<u32>pfn)) {
      const ino = load<u32>(mapping + AS_INO);
      const a = page_address(<u32>pfn);
      for (let i: u32 = 0; i < PAGE_CACHE_SLOTS; i++) store<u32>(a + (<usize>i << 2), filemap_pattern(ino, pgoff, i));
    }
    err = add_to_page_cache(<u32>pfn, mapping, pgoff);
    if (err == 0) return pfn; // the caller keeps the allocation's reference
    put_page(<u32>pfn);
  }
  return err;
}

// ---- the i_mmap lock ------------------------------------------------------------------------------

/** i_mmap_lock_write - take mapping's i_mmap lock exclusively (vma link/unlink). */
export function i_mmap_lock_write(mapping: usize): void {
  lock_acquire(mapping + AS_I_MMAP_LOCK, MODE_WRITE, "i_mmap_lock_write");
}

export function i_mmap_unlock_write(mapping: usize): void {
  lock_release(mapping + AS_I_MMAP_LOCK, MODE_WRITE);
}

// @ts-ignore: decorator
@inline function i_mmap_read_mode(): u32 {
  return lock_class_type(LOCK_CLASS_I_MMAP) == LOCK_RWSEM ? MODE_READ : MODE_WRITE;
}

/** i_mmap_lock_read - take it for a walk: shared with an rwsem class (3.19's i_mmap_rwsem), else exclusively. */
export function i_mmap_lock_read(mapping: usize): void {
  lock_acquire(mapping + AS_I_MMAP_LOCK, i_mmap_read_mode(), "i_mmap_lock_read");
}

export function i_mmap_unlock_read(mapping: usize): void {
  lock_release(mapping + AS_I_MMAP_LOCK, i_mmap_read_mode());
}
