// Reverse maps and the page cache: exports for the host and the tests.
// Part of the core's exported interface (assembly/index.ts re-exports every file of assembly/abi/).
import { EINVAL } from "../errno";
import { mm_config, mm_config_set } from "../mm/mm_config";
import { anon_vma_prepare, anon_vma_clone, anon_vma_fork, unlink_anon_vmas, vma_address, get_anon_vma,
  put_anon_vma, page_add_new_anon_rmap, page_add_anon_rmap, page_add_file_rmap, page_remove_rmap,
  page_dup_rmap } from "../mm/rmap";
import { test_mm_create, test_vma_create, test_pte_read, test_fault_anon, test_anon_pattern,
  test_map_file_page, test_fork_vma, test_split_vma, test_unmap_vma, test_vma_link_file,
  test_page_referenced_ptl, test_rmap_fork_churn, test_rmap_walk_loop, test_pte_alloc } from "../lib/test_rmap";
import { page_referenced, try_to_unmap, try_to_unmap_ptl, page_mkclean, TTU_MIGRATION } from "../mm/rmap_walk";
import { address_space_create, find_get_page, filemap_fault, add_to_page_cache, delete_from_page_cache,
  filemap_pattern, lock_page, unlock_page, trylock_page, PAGE_CACHE_SLOTS } from "../mm/filemap";
import { make_migration_entry, is_swap_pte, is_migration_entry, is_write_migration_entry,
  migration_entry_to_pfn, make_migration_entry_read } from "../mm/swapops";
import { migrate_page, migration_entry_wait } from "../mm/migrate";
import { enter } from "./enter";

// ---- reverse maps (mm/rmap.ts, rmap_walk.ts, filemap.ts, swapops.ts, migrate.ts) and their test
// kernels (lib/test_rmap.ts). Object arguments are byte addresses; each cpu_* enters as that CPU.
export { MMC_AV_2625, MMC_RMAP_LOCKLESS, MMC_SPLIT_PTL, MMC_RMAP_WALK_EXCL, MMC_KNOWN, HDR_MM_CONFIG } from "../layout";
export { AV_LOCK, AV_ROOT, AV_REFCOUNT, AV_HEAD, AV_TAIL, AV_DEGREE, AVC_VMA, AVC_ANON_VMA, AVC_SAME_VMA, AVC_NEXT,
  AVC_PREV, VMA_AV_NODE_NEXT, VMA_AV_NODE_PREV, MM_RSS, MM_PCID, PAGE_MAPPING_ANON, PG_anon, PG_locked, PG_dirty,
  PG_referenced, PG_waiters, VM_READ, VM_WRITE, VM_SHARED, VM_MAYSHARE, KMEM_ANON_VMA, KMEM_ANON_VMA_CHAIN } from "../mm/mm_types";

/** The MM configuration word (layout.ts HDR_MM_CONFIG, MMC_*). */
export function mm_config_get(): u32 { return mm_config(); }
/** Set the MM configuration word before any MM object exists. 0 or -EINVAL for unknown bits. */
export function mm_config_write(word: u32): i32 { return mm_config_set(word); }

export function cpu_anon_vma_prepare(cpu: i32, vma: usize): i32 { return enter(cpu) ? anon_vma_prepare(vma) : -EINVAL; }
export function cpu_anon_vma_clone(cpu: i32, dst: usize, src: usize): i32 { return enter(cpu) ? anon_vma_clone(dst, src) : -EINVAL; }
export function cpu_anon_vma_fork(cpu: i32, vma: usize, pvma: usize): i32 { return enter(cpu) ? anon_vma_fork(vma, pvma) : -EINVAL; }
export function cpu_unlink_anon_vmas(cpu: i32, vma: usize): i32 { if (!enter(cpu)) return -EINVAL; unlink_anon_vmas(vma); return 0; }
export function cpu_get_anon_vma(cpu: i32, av: usize): i32 { if (!enter(cpu)) return -EINVAL; get_anon_vma(av); return 0; }
export function cpu_put_anon_vma(cpu: i32, av: usize): i32 { if (!enter(cpu)) return -EINVAL; put_anon_vma(av); return 0; }
/** vma_address(pfn, vma): the address, or -EFAULT. */
export function rmap_vma_address(pfn: u32, vma: usize): i64 { return <i64>vma_address(pfn, vma); }
export function cpu_page_add_new_anon_rmap(cpu: i32, pfn: u32, vma: usize, addr: u64): i32 { if (!enter(cpu)) return -EINVAL; page_add_new_anon_rmap(pfn, vma, addr); return 0; }
export function cpu_page_add_anon_rmap(cpu: i32, pfn: u32, vma: usize, addr: u64): i32 { if (!enter(cpu)) return -EINVAL; page_add_anon_rmap(pfn, vma, addr); return 0; }
export function cpu_page_add_file_rmap(cpu: i32, pfn: u32): i32 { if (!enter(cpu)) return -EINVAL; page_add_file_rmap(pfn); return 0; }
export function cpu_page_dup_rmap(cpu: i32, pfn: u32): i32 { if (!enter(cpu)) return -EINVAL; page_dup_rmap(pfn); return 0; }
export function cpu_page_remove_rmap(cpu: i32, pfn: u32): i32 { return enter(cpu) ? (page_remove_rmap(pfn) ? 1 : 0) : -EINVAL; }

export function cpu_test_mm_create(cpu: i32, pcid: u32): usize { return enter(cpu) ? test_mm_create(pcid) : 0; }
export function cpu_test_vma_create(cpu: i32, mm: usize, start: u64, end: u64, flags: u32, file: usize, pgoff: u32): usize {
  return enter(cpu) ? test_vma_create(mm, start, end, flags, file, pgoff) : 0;
}
export function test_rmap_pte_read(mm: usize, addr: u64): u64 { return test_pte_read(mm, addr); }
export function test_rmap_anon_pattern(seed: u32, i: u32): u32 { return test_anon_pattern(seed, i); }
export function cpu_test_fault_anon(cpu: i32, vma: usize, addr: u64, seed: u32): i32 { return enter(cpu) ? test_fault_anon(vma, addr, seed) : -EINVAL; }
export function cpu_test_map_file_page(cpu: i32, vma: usize, addr: u64, pfn: u32): i32 { return enter(cpu) ? test_map_file_page(vma, addr, pfn) : -EINVAL; }
export function cpu_test_fork_vma(cpu: i32, child_mm: usize, pvma: usize): usize { return enter(cpu) ? test_fork_vma(child_mm, pvma) : 0; }
export function cpu_test_split_vma(cpu: i32, vma: usize, addr: u64): usize { return enter(cpu) ? test_split_vma(vma, addr) : 0; }
export function cpu_test_unmap_vma(cpu: i32, vma: usize): i32 { return enter(cpu) ? test_unmap_vma(vma) : -EINVAL; }
export function cpu_test_vma_link_file(cpu: i32, vma: usize): i32 { return enter(cpu) ? test_vma_link_file(vma) : -EINVAL; }
export function cpu_test_page_referenced_ptl(cpu: i32, pfn: u32, vma: usize): i32 { return enter(cpu) ? test_page_referenced_ptl(pfn, vma) : -EINVAL; }

export { TTU_MIGRATION, PAGE_CACHE_SLOTS };
export { RMAP_STOP_UNMAPPED, RMAP_PTL_HELD } from "../mm/rmap_walk";
/** page_referenced(pfn): mappings whose Accessed bit was set (and is now clear). */
export function cpu_page_referenced(cpu: i32, pfn: u32): i32 { return enter(cpu) ? page_referenced(pfn, 0, 0) : -EINVAL; }
/** try_to_unmap(pfn, flags): PTEs removed (TTU_MIGRATION: migration entries left). */
export function cpu_try_to_unmap(cpu: i32, pfn: u32, flags: u32): i32 { return enter(cpu) ? try_to_unmap(pfn, flags) : -EINVAL; }
export function cpu_try_to_unmap_ptl(cpu: i32, pfn: u32, flags: u32, vma: usize): i32 { return enter(cpu) ? try_to_unmap_ptl(pfn, flags, vma) : -EINVAL; }
export function cpu_page_mkclean(cpu: i32, pfn: u32): i32 { return enter(cpu) ? page_mkclean(pfn) : -EINVAL; }

export function cpu_address_space_create(cpu: i32, size_pages: u32): usize { return enter(cpu) ? address_space_create(size_pages) : 0; }
export function cpu_find_get_page(cpu: i32, mapping: usize, index: u32): i32 { return enter(cpu) ? find_get_page(mapping, index) : -EINVAL; }
export function cpu_add_to_page_cache(cpu: i32, pfn: u32, mapping: usize, index: u32): i32 { return enter(cpu) ? add_to_page_cache(pfn, mapping, index) : -EINVAL; }
export function cpu_delete_from_page_cache(cpu: i32, pfn: u32): i32 { return enter(cpu) ? delete_from_page_cache(pfn) : -EINVAL; }
export function cpu_filemap_fault(cpu: i32, vma: usize, pgoff: u32): i32 { return enter(cpu) ? filemap_fault(vma, pgoff) : -EINVAL; }
export function rmap_filemap_pattern(ino: u32, index: u32, i: u32): u32 { return filemap_pattern(ino, index, i); }
export function cpu_lock_page(cpu: i32, pfn: u32): i32 { if (!enter(cpu)) return -EINVAL; lock_page(pfn); return 0; }
export function cpu_trylock_page(cpu: i32, pfn: u32): i32 { return enter(cpu) ? (trylock_page(pfn) ? 1 : 0) : -EINVAL; }
export function cpu_unlock_page(cpu: i32, pfn: u32): i32 { if (!enter(cpu)) return -EINVAL; unlock_page(pfn); return 0; }

export function swp_make_migration_entry(pfn: u32, write: bool): u64 { return make_migration_entry(pfn, write); }
export function swp_make_migration_entry_read(pte: u64): u64 { return make_migration_entry_read(pte); }
export function swp_is_swap_pte(pte: u64): bool { return is_swap_pte(pte); }
export function swp_is_migration_entry(pte: u64): bool { return is_migration_entry(pte); }
export function swp_is_write_migration_entry(pte: u64): bool { return is_write_migration_entry(pte); }
export function swp_migration_entry_to_pfn(pte: u64): u32 { return migration_entry_to_pfn(pte); }

/** migrate_page(pfn): the new pfn, or -EINVAL/-ENOMEM/-EAGAIN/-EBUSY (the caller holds a reference on pfn). */
export function cpu_migrate_page(cpu: i32, pfn: u32): i32 { return enter(cpu) ? migrate_page(pfn) : -EINVAL; }
/** migration_entry_wait(mm, addr): 1 if it waited on a migration entry, 0 if the PTE was not one. */
export function cpu_migration_entry_wait(cpu: i32, mm: usize, addr: u64): i32 { return enter(cpu) ? migration_entry_wait(mm, addr) : -EINVAL; }
export function cpu_test_rmap_fork_churn(cpu: i32, pvma: usize, child_mm: usize, iters: u32): i32 { return enter(cpu) ? test_rmap_fork_churn(pvma, child_mm, iters) : -EINVAL; }
export function cpu_test_rmap_walk_loop(cpu: i32, pfn: u32, ptep: usize, hi: i32, iters: u32): i32 { return enter(cpu) ? test_rmap_walk_loop(pfn, ptep, hi, iters) : -EINVAL; }
/** The host address of address's PTE in mm (allocating tables), or 0. */
export function cpu_test_pte_alloc(cpu: i32, mm: usize, addr: u64): usize { return enter(cpu) ? test_pte_alloc(mm, addr) : 0; }

