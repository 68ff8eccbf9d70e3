// Test kernels for the reverse maps (mm/rmap.ts, rmap_walk.ts, filemap.ts, migrate.ts): a minimal
// stand-in for the address-space and fault code of other branches (mm/mmap.ts, mm/memory.ts), so that
// the rmap tests can build mms, vmas, forks, splits and mappings by themselves. None of this is the
// MM core's own path; each kernel does what its comment says, in the kernel's lock order, and returns
// 0 / an object / a negative errno for the test to check.
import { PAGE_SHIFT, PAGE_SIZE } from "../config";
import { ENOMEM, EEXIST } from "../errno";
import { frames_base } from "../layout";
import { lock_init, lock_acquire, lock_release, MODE_WRITE } from "../locking/lock";
import { LOCK_CLASS_MMAP_SEM, LOCK_CLASS_PAGE_TABLE_LOCK } from "../locking/lock_types";
import { kmem_cache_alloc, kmem_cache_free } from "../mm/slab";
import { alloc_page, put_page, get_page, page_address, page_has_data, __GFP_ZERO, GFP_PGTABLE, GFP_HIGHUSER } from "../mm/page_alloc";
import { _PAGE_PRESENT, _PAGE_RW, _PAGE_USER, _PAGE_ACCESSED, PTE_PFN_MASK } from "../arch/x86/pgtable_types";
import { KMEM_MM_STRUCT, KMEM_VM_AREA, MM_MMAP_SEM, MM_PAGE_TABLE_LOCK, MM_PGD, MM_PCID, MM_USERS, MM_COUNT,
  MM_RSS, MM_MMAP, MM_MAP_COUNT, MM_ANONPAGES, MM_FILEPAGES, VMA_MM, VMA_NEXT, VMA_PREV, VMA_START, VMA_END,
  VMA_FLAGS, VMA_PGOFF, VMA_PAGE_PROT, VMA_FILE, VMA_ANON_VMA, VM_WRITE, VM_SHARED } from "../mm/mm_types";
import { vma_interval_tree_insert, vma_interval_tree_remove } from "./interval_tree";
import { i_mmap_lock_write, i_mmap_unlock_write } from "../mm/filemap";
import { page_referenced, RMAP_PTL_HELD } from "../mm/rmap_walk";
import { AS_I_MMAP } from "../mm/mm_types";
import { anon_vma_prepare, anon_vma_clone, anon_vma_fork, unlink_anon_vmas, page_add_new_anon_rmap, page_dup_rmap,
  page_add_file_rmap, page_remove_rmap } from "../mm/rmap";

// ---- mm and vma ---------------------------------------------------------------------------------

/** A bare mm: locks, an empty PML4, one user, pcid. Returns it, or 0. */
export function test_mm_create(pcid: u32): usize {
  const mm = kmem_cache_alloc(KMEM_MM_STRUCT, __GFP_ZERO);
  if (mm == 0) return 0;
  const pgd = alloc_page(GFP_PGTABLE);
  if (pgd < 0) { kmem_cache_free(KMEM_MM_STRUCT, mm); return 0; }
  lock_init(mm + MM_MMAP_SEM, LOCK_CLASS_MMAP_SEM, 0);
  lock_init(mm + MM_PAGE_TABLE_LOCK, LOCK_CLASS_PAGE_TABLE_LOCK, 0);
  store<u32>(mm + MM_PGD, <u32>pgd);
  store<u32>(mm + MM_PCID, pcid);
  store<i32>(mm + MM_USERS, 1);
  store<i32>(mm + MM_COUNT, 1);
  return mm;
}

/**
 * A vma [start, end) of mm with vm_flags, file (an address_space or 0) and pgoff (anonymous: start
 * >> 12 when pgoff is u32.MAX), linked into the mm's sorted list. No anon_vma yet.
 */
export function test_vma_create(mm: usize, start: u64, end: u64, flags: u32, file: usize, pgoff: u32): usize {
  return test_vma_create_prot(mm, start, end, flags, _PAGE_PRESENT | _PAGE_USER | ((flags & VM_WRITE) != 0 ? _PAGE_RW : 0), file,
    pgoff == u32.MAX_VALUE ? <u32>(start >> PAGE_SHIFT) : pgoff);
}

/**
 * test_vma_create_prot - the test scaffolding's vma: [start, end) of mm with vm_flags, vm_page_prot
 * prot, file and pgoff, linked into the mm's sorted list only (no tree, no anon_vma). Returns it or 0.
 */
export function test_vma_create_prot(mm: usize, start: u64, end: u64, flags: u32, prot: u64, file: usize, pgoff: u32): usize {
  const vma = kmem_cache_alloc(KMEM_VM_AREA, __GFP_ZERO);
  if (vma == 0) return 0;
  store<u32>(vma + VMA_MM, <u32>mm);
  store<u64>(vma + VMA_START, start);
  store<u64>(vma + VMA_END, end);
  store<u32>(vma + VMA_FLAGS, flags);
  store<u32>(vma + VMA_PGOFF, pgoff);
  store<u64>(vma + VMA_PAGE_PROT, prot);
  store<u32>(vma + VMA_FILE, <u32>file);
  vma_list_insert(mm, vma);
  return vma;
}

function vma_list_insert(mm: usize, vma: usize): void {
  const start = load<u64>(vma + VMA_START);
  let prev: usize = 0;
  let cur = <usize>load<u32>(mm + MM_MMAP);
  while (cur != 0 && load<u64>(cur + VMA_START) < start) { prev = cur; cur = <usize>load<u32>(cur + VMA_NEXT); }
  store<u32>(vma + VMA_PREV, <u32>prev);
  store<u32>(vma + VMA_NEXT, <u32>cur);
  if (prev == 0) store<u32>(mm + MM_MMAP, <u32>vma); else store<u32>(prev + VMA_NEXT, <u32>vma);
  if (cur != 0) store<u32>(cur + VMA_PREV, <u32>vma);
  store<u32>(mm + MM_MAP_COUNT, load<u32>(mm + MM_MAP_COUNT) + 1);
}

function vma_list_remove(vma: usize): void {
  const mm = <usize>load<u32>(vma + VMA_MM);
  const prev = <usize>load<u32>(vma + VMA_PREV);
  const next = <usize>load<u32>(vma + VMA_NEXT);
  if (prev == 0) store<u32>(mm + MM_MMAP, <u32>next); else store<u32>(prev + VMA_NEXT, <u32>next);
  if (next != 0) store<u32>(next + VMA_PREV, <u32>prev);
  store<u32>(mm + MM_MAP_COUNT, load<u32>(mm + MM_MAP_COUNT) - 1);
}

// ---- page tables (a stand-in for mm/memory.ts's pte_alloc) -------------------------------------

/** The host address of the PTE for address in mm, allocating the tables on the way; 0 on -ENOMEM. */
export function test_pte_alloc(mm: usize, address: u64): usize {
  let table = load<u32>(mm + MM_PGD);
  for (let shift: u64 = 39; shift > 12; shift -= 9) {
    const e = page_address(table) + <usize>(((address >> shift) & 511) << 3);
    let v = atomic.load<u64>(e);
    if ((v & _PAGE_PRESENT) == 0) {
      const pfn = alloc_page(GFP_PGTABLE);
      if (pfn < 0) return 0;
      v = (<u64>pfn << PAGE_SHIFT) | _PAGE_PRESENT | _PAGE_RW | _PAGE_USER;
      atomic.store<u64>(e, v);
    }
    table = <u32>((v & PTE_PFN_MASK) >> PAGE_SHIFT);
  }
  return page_address(table) + <usize>(((address >> 12) & 511) << 3);
}

/** The PTE's value for address in mm (0 when a table is missing). */
export function test_pte_read(mm: usize, address: u64): u64 {
  let table = load<u32>(mm + MM_PGD);
  for (let shift: u64 = 39; shift > 12; shift -= 9) {
    const v = atomic.load<u64>(page_address(table) + <usize>(((address >> shift) & 511) << 3));
    if ((v & _PAGE_PRESENT) == 0) return 0;
    table = <u32>((v & PTE_PFN_MASK) >> PAGE_SHIFT);
  }
  return atomic.load<u64>(page_address(table) + <usize>(((address >> 12) & 511) << 3));
}

/** A deterministic word for anonymous test pages: which page, which word. */
// @ts-ignore: decorator
@inline function anon_pattern(pfn_seed: u32, i: u32): u32 {
  return (pfn_seed * 0x9e3779b1) ^ (i * 0x85ebca77);
}

/**
 * test_fault_anon - do_anonymous_page for address in vma: anon_vma_prepare, a new page filled with
 * anon_pattern(seed, i) (when frames carry data), its PTE (writable if the vma is), rmap, RSS.
 * Returns the pfn, or a negative errno.
 */
export function test_fault_anon(vma: usize, address: u64, seed: u32): i32 {
  const mm = <usize>load<u32>(vma + VMA_MM);
  if (anon_vma_prepare(vma) != 0) return -ENOMEM;
  const pfn = alloc_page(GFP_HIGHUSER | __GFP_ZERO);
  if (pfn < 0) return pfn;
  if (page_has_data(<u32>pfn)) {
    const a = page_address(<u32>pfn);
    for (let i: u32 = 0; i < <u32>PAGE_SIZE / 4; i++) store<u32>(a + (<usize>i << 2), anon_pattern(seed, i));
  }
  const ptep = test_pte_alloc(mm, address);
  if (ptep == 0) { put_page(<u32>pfn); return -ENOMEM; }
  lock_acquire(mm + MM_PAGE_TABLE_LOCK, MODE_WRITE, "test_fault_anon");
  if (atomic.load<u64>(ptep) != 0) {
    lock_release(mm + MM_PAGE_TABLE_LOCK, MODE_WRITE);
    put_page(<u32>pfn);
    return -EEXIST;
  }
  page_add_new_anon_rmap(<u32>pfn, vma, address);
  atomic.add<i32>(mm + MM_RSS + <usize>MM_ANONPAGES * 4, 1);
  atomic.store<u64>(ptep, (<u64>pfn << PAGE_SHIFT) | load<u64>(vma + VMA_PAGE_PROT));
  lock_release(mm + MM_PAGE_TABLE_LOCK, MODE_WRITE);
  return pfn;
}

/** The word test_fault_anon wrote at word i of a page made with seed (for the tests' checks). */
export function test_anon_pattern(seed: u32, i: u32): u32 {
  return anon_pattern(seed, i);
}

/**
 * test_map_file_page - map page-cache page pfn (the caller's reference becomes the mapping's) at
 * address in vma: PTE (writable for a writable shared vma), page_add_file_rmap, RSS. 0 or -errno.
 */
export function test_map_file_page(vma: usize, address: u64, pfn: u32): i32 {
  const mm = <usize>load<u32>(vma + VMA_MM);
  const ptep = test_pte_alloc(mm, address);
  if (ptep == 0) return -ENOMEM;
  lock_acquire(mm + MM_PAGE_TABLE_LOCK, MODE_WRITE, "test_map_file_page");
  if (atomic.load<u64>(ptep) != 0) { lock_release(mm + MM_PAGE_TABLE_LOCK, MODE_WRITE); return -EEXIST; }
  page_add_file_rmap(pfn);
  atomic.add<i32>(mm + MM_RSS + <usize>MM_FILEPAGES * 4, 1);
  let prot = load<u64>(vma + VMA_PAGE_PROT);
  if ((load<u32>(vma + VMA_FLAGS) & VM_SHARED) == 0) prot &= ~_PAGE_RW;
  atomic.store<u64>(ptep, (<u64>pfn << PAGE_SHIFT) | prot);
  lock_release(mm + MM_PAGE_TABLE_LOCK, MODE_WRITE);
  return 0;
}

/**
 * test_fork_vma - dup_mmap for one vma: a copy in child_mm, anon_vma_fork, and copy_page_range's
 * copy_one_pte for every present PTE (private writable mappings write-protected in both: COW;
 * page_dup_rmap, get_page, RSS). Returns the child's vma, or 0.
 */
export function test_fork_vma(child_mm: usize, pvma: usize): usize {
  const vma = test_vma_create(child_mm, load<u64>(pvma + VMA_START), load<u64>(pvma + VMA_END),
    load<u32>(pvma + VMA_FLAGS), <usize>load<u32>(pvma + VMA_FILE), load<u32>(pvma + VMA_PGOFF));
  if (vma == 0) return 0;
  store<u32>(vma + VMA_ANON_VMA, load<u32>(pvma + VMA_ANON_VMA));
  if (anon_vma_fork(vma, pvma) != 0) { vma_list_remove(vma); kmem_cache_free(KMEM_VM_AREA, vma); return 0; }
  if (load<u32>(vma + VMA_FILE) != 0) test_vma_link_file(vma);
  const pmm = <usize>load<u32>(pvma + VMA_MM);
  const cow = (load<u32>(pvma + VMA_FLAGS) & (VM_SHARED | VM_WRITE)) == VM_WRITE;
  for (let a = load<u64>(pvma + VMA_START); a < load<u64>(pvma + VMA_END); a += PAGE_SIZE) {
    const v = test_pte_read(pmm, a);
    if ((v & _PAGE_PRESENT) == 0) continue;
    const dst = test_pte_alloc(child_mm, a);
    if (dst == 0) return 0;
    const src = test_pte_alloc(pmm, a);
    lock_acquire(pmm + MM_PAGE_TABLE_LOCK, MODE_WRITE, "test_fork_vma");
    const pfn = <u32>((v & PTE_PFN_MASK) >> PAGE_SHIFT);
    get_page(pfn);
    page_dup_rmap(pfn);
    let nv = atomic.load<u64>(src);
    if (cow) { atomic.and<u64>(src, ~_PAGE_RW); nv &= ~_PAGE_RW; }
    atomic.store<u64>(dst, nv);
    const idx = (load<u32>(pvma + VMA_FILE) != 0 ? MM_FILEPAGES : MM_ANONPAGES);
    atomic.add<i32>(child_mm + MM_RSS + <usize>idx * 4, 1);
    lock_release(pmm + MM_PAGE_TABLE_LOCK, MODE_WRITE);
  }
  return vma;
}

/**
 * test_split_vma - split_vma(vma, addr, new_below = 0): vma keeps [start, addr), a new vma gets
 * [addr, end) with the matching pgoff and anon_vma_clone. Returns the new vma, or 0.
 */
export function test_split_vma(vma: usize, addr: u64): usize {
  const mm = <usize>load<u32>(vma + VMA_MM);
  const start = load<u64>(vma + VMA_START);
  if (addr <= start || addr >= load<u64>(vma + VMA_END)) return 0;
  const nv = test_vma_create(mm, addr, load<u64>(vma + VMA_END), load<u32>(vma + VMA_FLAGS),
    <usize>load<u32>(vma + VMA_FILE), load<u32>(vma + VMA_PGOFF) + <u32>((addr - start) >> PAGE_SHIFT));
  if (nv == 0) return 0;
  store<u32>(nv + VMA_ANON_VMA, load<u32>(vma + VMA_ANON_VMA));
  if (anon_vma_clone(nv, vma) != 0) { vma_list_remove(nv); kmem_cache_free(KMEM_VM_AREA, nv); return 0; }
  const file = load<u32>(vma + VMA_FILE) != 0;
  if (file) test_vma_unlink_file(vma);
  store<u64>(vma + VMA_END, addr);
  if (file) { test_vma_link_file(vma); test_vma_link_file(nv); }
  return nv;
}

/**
 * test_unmap_vma - unmap_vmas + free_pgtables' unlink for one vma: zap its PTEs (page_remove_rmap,
 * put_page, RSS), then unlink_anon_vmas (the tables themselves stay), and free the vma.
 * Returns the number of pages zapped.
 */
export function test_unmap_vma(vma: usize): i32 {
  const mm = <usize>load<u32>(vma + VMA_MM);
  let n = 0;
  for (let a = load<u64>(vma + VMA_START); a < load<u64>(vma + VMA_END); a += PAGE_SIZE) {
    if (test_pte_read(mm, a) == 0) continue;
    const ptep = test_pte_alloc(mm, a);
    lock_acquire(mm + MM_PAGE_TABLE_LOCK, MODE_WRITE, "test_unmap_vma");
    const v = atomic.xchg<u64>(ptep, 0);
    if ((v & _PAGE_PRESENT) != 0) {
      const pfn = <u32>((v & PTE_PFN_MASK) >> PAGE_SHIFT);
      page_remove_rmap(pfn);
      const idx = (load<u32>(vma + VMA_FILE) != 0 ? MM_FILEPAGES : MM_ANONPAGES);
      atomic.sub<i32>(mm + MM_RSS + <usize>idx * 4, 1);
      lock_release(mm + MM_PAGE_TABLE_LOCK, MODE_WRITE);
      put_page(pfn);
      n++;
    } else {
      lock_release(mm + MM_PAGE_TABLE_LOCK, MODE_WRITE);
    }
  }
  unlink_anon_vmas(vma);
  test_vma_unlink_file(vma);
  vma_list_remove(vma);
  kmem_cache_free(KMEM_VM_AREA, vma);
  return n;
}

/** The physical address of a PTE's host address (for the tests' translations). */
export function test_ptep_pa(ptep: usize): u64 {
  return <u64>(ptep - frames_base);
}


/** __vma_link_file: put a file vma on its address_space's i_mmap tree (i_mmap lock for write). */
export function test_vma_link_file(vma: usize): i32 {
  const mapping = <usize>load<u32>(vma + VMA_FILE);
  if (mapping == 0) return -22;
  i_mmap_lock_write(mapping);
  vma_interval_tree_insert(vma, mapping + AS_I_MMAP);
  i_mmap_unlock_write(mapping);
  return 0;
}

// unlink_file_vma (only for vmas test_vma_link_file linked: the tree node is non-zero).
function test_vma_unlink_file(vma: usize): void {
  const mapping = <usize>load<u32>(vma + VMA_FILE);
  if (mapping == 0) return;
  i_mmap_lock_write(mapping);
  vma_interval_tree_remove(vma, mapping + AS_I_MMAP);
  i_mmap_unlock_write(mapping);
}

/**
 * test_page_referenced_ptl - seed 003's caller: holding the page table lock of vma's mm, try the
 * lockless page_referenced; when its conditions fail (-EAGAIN), drop the lock and walk normally.
 * Returns the referenced count, plus 0x10000 if it had to fall back to the locked walk.
 */
export function test_page_referenced_ptl(pfn: u32, vma: usize): i32 {
  const mm = <usize>load<u32>(vma + VMA_MM);
  lock_acquire(mm + MM_PAGE_TABLE_LOCK, MODE_WRITE, "test_page_referenced_ptl");
  let r = page_referenced(pfn, RMAP_PTL_HELD, vma);
  lock_release(mm + MM_PAGE_TABLE_LOCK, MODE_WRITE);
  if (r == -11) r = page_referenced(pfn, 0, 0) + 0x10000;
  return r;
}

/**
 * test_rmap_fork_churn - iters times: fork pvma into child_mm (anon_vma_fork: chains and a new
 * anon_vma on the parent's tree) and unmap the copy again (unlink_anon_vmas), racing rmap walkers
 * on other CPUs. Returns iters, or -ENOMEM when a fork failed.
 */
export function test_rmap_fork_churn(pvma: usize, child_mm: usize, iters: u32): i32 {
  for (let i: u32 = 0; i < iters; i++) {
    const c = test_fork_vma(child_mm, pvma);
    if (c == 0) return -ENOMEM;
    test_unmap_vma(c);
  }
  return <i32>iters;
}

/**
 * test_rmap_walk_loop - iters page_referenced walks of page pfn, which has between lo and hi mappings
 * at any time; returns how many walks counted more than hi (a walk that saw a vma twice or a freed
 * chain would), and touches the A bit of the parent's PTE (ptep, a host address) before each walk.
 */
export function test_rmap_walk_loop(pfn: u32, ptep: usize, hi: i32, iters: u32): i32 {
  let bad = 0;
  for (let i: u32 = 0; i < iters; i++) {
    atomic.or<u64>(ptep, _PAGE_ACCESSED);
    const r = page_referenced(pfn, 0, 0);
    if (r < 1 || r > hi) bad++;
  }
  return bad;
}
