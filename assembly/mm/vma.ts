// The set of vmas of an mm, after Linux 2.6.3x mm/mmap.c: a red-black tree by vm_start (mm->mm_rb,
// vma->vm_rb), the same vmas on a sorted doubly linked list (mm->mmap, vm_next / vm_prev), the count
// mm->map_count and the lookup hint mm->mmap_cache; file vmas also sit on their address_space's i_mmap
// interval tree (lib/interval_tree.ts). find_vma and friends, linking and unlinking, vma_adjust,
// vma_merge (its eight cases) and split_vma.
//
// Locking (the kernel's, mm/rmap.c's order mmap_sem -> i_mmap -> anon_vma -> page_table_lock):
// everything here needs mm->mmap_sem, for write when it changes the set (find_vma*: for read). The
// i_mmap tree is changed under the mapping's i_mmap lock, and vma_adjust holds the vma's anon_vma
// (root) lock while it moves boundaries that rmap walks look at.
import { PAGE_SHIFT } from "../config";
import { llc_charge } from "../kernel/mm_charge";
import { VMA_MM, VMA_NEXT, VMA_PREV, VMA_RB, VMA_START, VMA_END, VMA_FLAGS, VMA_PGOFF, VMA_FILE, VMA_ANON_VMA,
  VMA_ANON_VMA_CHAIN, VMA_SIZE, KMEM_VM_AREA, MM_MMAP, MM_RB, MM_MAP_COUNT, MM_MMAP_CACHE, RB_LEFT,
  RB_RIGHT, VM_SHARED, AS_I_MMAP, AS_I_MMAP_WRITABLE, AVC_SAME_VMA } from "./mm_types";
import { rb_link_node, rb_insert_color, rb_erase, rb_last } from "../lib/rbtree";
import { vma_interval_tree_insert, vma_interval_tree_remove } from "../lib/interval_tree";
import { kmem_cache_alloc, kmem_cache_free } from "./slab";
import { mm_config_has } from "./mm_config";
import { anon_vma_clone, unlink_anon_vmas, anon_vma_lock_write, anon_vma_unlock_write } from "./rmap";
import { i_mmap_lock_write, i_mmap_unlock_write } from "./filemap";
import { MMC_VMA_ADJUST_ANON_ALWAYS } from "../layout";
import { VM_BUG_ON } from "../debug";
import { ENOMEM } from "../errno";

/** sysctl_max_map_count's default (DEFAULT_MAX_MAP_COUNT). */
export const MAX_MAP_COUNT: u32 = 65530;

// ---------------------------------------------------------------------------------------------
// Field accessors
// ---------------------------------------------------------------------------------------------
// @ts-ignore: decorator
@inline export function vm_start(vma: usize): u64 { return load<u64>(vma + VMA_START); }
// @ts-ignore: decorator
@inline export function vm_end(vma: usize): u64 { return load<u64>(vma + VMA_END); }
// @ts-ignore: decorator
@inline export function vm_next(vma: usize): usize { return <usize>load<u32>(vma + VMA_NEXT); }
// @ts-ignore: decorator
@inline export function vm_prev(vma: usize): usize { return <usize>load<u32>(vma + VMA_PREV); }
// @ts-ignore: decorator
@inline export function vm_flags(vma: usize): u32 { return load<u32>(vma + VMA_FLAGS); }
// @ts-ignore: decorator
@inline export function vm_pgoff(vma: usize): u32 { return load<u32>(vma + VMA_PGOFF); }
// @ts-ignore: decorator
@inline export function vm_file(vma: usize): usize { return <usize>load<u32>(vma + VMA_FILE); }
// @ts-ignore: decorator
@inline export function vm_anon_vma(vma: usize): usize { return <usize>load<u32>(vma + VMA_ANON_VMA); }
// @ts-ignore: decorator
@inline export function vma_pages(vma: usize): u64 { return (vm_end(vma) - vm_start(vma)) >> <u64>PAGE_SHIFT; }
// @ts-ignore: decorator
@inline function rb_vma(rb: usize): usize { return rb - VMA_RB; }

// The i_mmap lock for write (mm/filemap.ts): every change to the i_mmap tree here.
// @ts-ignore: decorator
@inline function i_mmap_lock(mapping: usize, site: string): void { i_mmap_lock_write(mapping); }
// @ts-ignore: decorator
@inline function i_mmap_unlock(mapping: usize): void { i_mmap_unlock_write(mapping); }

// ---------------------------------------------------------------------------------------------
// Lookup
// ---------------------------------------------------------------------------------------------

/**
 * find_vma - the first vma with vm_end > addr (it may start above addr), or 0. Updates the
 * mm->mmap_cache hint. Caller holds mmap_sem (read or write).
 */
export function find_vma(mm: usize, addr: u64): usize {
  // The hint: a racy read under mmap_sem for read, validated before use (as the kernel's).
  let vma = <usize>atomic.load<u32>(mm + MM_MMAP_CACHE);
  if (vma != 0) llc_charge(1); // the cached vma's line
  if (vma != 0 && vm_end(vma) > addr && vm_start(vma) <= addr) return vma;
  vma = 0;
  let rb = <usize>load<u32>(mm + MM_RB);
  while (rb != 0) {
    llc_charge(1); // one rbtree node (a vma) visited
    const tmp = rb_vma(rb);
    if (vm_end(tmp) > addr) {
      vma = tmp;
      if (vm_start(tmp) <= addr) break;
      rb = <usize>load<u32>(rb + RB_LEFT);
    } else {
      rb = <usize>load<u32>(rb + RB_RIGHT);
    }
  }
  if (vma != 0) atomic.store<u32>(mm + MM_MMAP_CACHE, <u32>vma);
  return vma;
}

/**
 * find_vma_prev - find_vma(mm, addr), and its predecessor on the list stored as a u32 at pprev (the
 * last vma when none is above addr; 0 when none is below). Caller holds mmap_sem.
 */
export function find_vma_prev(mm: usize, addr: u64, pprev: usize): usize {
  const vma = find_vma(mm, addr);
  if (vma != 0) {
    store<u32>(pprev, <u32>vm_prev(vma));
  } else {
    const rb = rb_last(mm + MM_RB);
    store<u32>(pprev, rb != 0 ? <u32>rb_vma(rb) : 0);
  }
  return vma;
}

/** find_vma_intersection - the first vma overlapping [start, end), or 0. Caller holds mmap_sem. */
export function find_vma_intersection(mm: usize, start: u64, end: u64): usize {
  const vma = find_vma(mm, start);
  if (vma != 0 && end <= vm_start(vma)) return 0;
  return vma;
}

/**
 * find_vma_links - where a vma for [addr, end) goes (2.6.3x's find_vma_prepare, in its 3.x form).
 * Returns -ENOMEM when a vma overlaps the range; otherwise (rb_parent node << 32) | prev vma, both 0
 * when absent. The child link below rb_parent is vma_rb_link(mm, rb_parent, addr). Caller holds
 * mmap_sem.
 */
export function find_vma_links(mm: usize, addr: u64, end: u64): i64 {
  let rb = <usize>load<u32>(mm + MM_RB);
  let parent: usize = 0, prev_rb: usize = 0;
  while (rb != 0) {
    llc_charge(1); // one rbtree node (a vma) visited
    parent = rb;
    const tmp = rb_vma(rb);
    if (vm_end(tmp) > addr) {
      // Fail if an existing vma overlaps the area.
      if (vm_start(tmp) < end) return -ENOMEM;
      rb = <usize>load<u32>(rb + RB_LEFT);
    } else {
      prev_rb = rb;
      rb = <usize>load<u32>(rb + RB_RIGHT);
    }
  }
  const prev = prev_rb != 0 ? rb_vma(prev_rb) : 0;
  return (<i64>parent << 32) | <i64>prev;
}

/** The child word below rb_parent (or the root) a vma starting at addr links to. */
export function vma_rb_link(mm: usize, rb_parent: usize, addr: u64): usize {
  if (rb_parent == 0) return mm + MM_RB;
  return vm_end(rb_vma(rb_parent)) > addr ? rb_parent + RB_LEFT : rb_parent + RB_RIGHT;
}

// ---------------------------------------------------------------------------------------------
// Linking and unlinking
// ---------------------------------------------------------------------------------------------

function __vma_link_list(mm: usize, vma: usize, prev: usize): void {
  let next: usize;
  store<u32>(vma + VMA_PREV, <u32>prev);
  if (prev != 0) {
    next = vm_next(prev);
    store<u32>(prev + VMA_NEXT, <u32>vma);
  } else {
    next = <usize>load<u32>(mm + MM_MMAP);
    store<u32>(mm + MM_MMAP, <u32>vma);
  }
  store<u32>(vma + VMA_NEXT, <u32>next);
  if (next != 0) store<u32>(next + VMA_PREV, <u32>vma);
}

function __vma_link_rb(mm: usize, vma: usize, rb_parent: usize): void {
  rb_link_node(vma + VMA_RB, rb_parent, vma_rb_link(mm, rb_parent, vm_start(vma)));
  rb_insert_color(vma + VMA_RB, mm + MM_RB);
}

/**
 * __vma_link_file - put a file vma on its mapping's i_mmap tree (and count a shared one in
 * i_mmap_writable). Caller holds the mapping's i_mmap lock for write. Anonymous vmas: nothing.
 */
export function __vma_link_file(vma: usize): void {
  const mapping = vm_file(vma);
  if (mapping == 0) return;
  if ((vm_flags(vma) & VM_SHARED) != 0) store<u32>(mapping + AS_I_MMAP_WRITABLE, load<u32>(mapping + AS_I_MMAP_WRITABLE) + 1);
  vma_interval_tree_insert(vma, mapping + AS_I_MMAP);
}

// __remove_shared_vm_struct: the reverse of __vma_link_file; caller holds the i_mmap lock.
function __remove_shared_vm_struct(vma: usize, mapping: usize): void {
  if ((vm_flags(vma) & VM_SHARED) != 0) store<u32>(mapping + AS_I_MMAP_WRITABLE, load<u32>(mapping + AS_I_MMAP_WRITABLE) - 1);
  vma_interval_tree_remove(vma, mapping + AS_I_MMAP);
}

/**
 * unlink_file_vma - take a file vma off its mapping's i_mmap tree, under the i_mmap lock (which it
 * takes). Called when the vma goes away (free_pgtables in 2.6.34+). Anonymous vmas: nothing.
 */
export function unlink_file_vma(vma: usize): void {
  const mapping = vm_file(vma);
  if (mapping == 0) return;
  i_mmap_lock(mapping, "unlink_file_vma");
  __remove_shared_vm_struct(vma, mapping);
  i_mmap_unlock(mapping);
}

/**
 * vma_link - add vma (not overlapping any) to mm's list and tree after prev, below rb_parent (from
 * find_vma_links), and to its file's i_mmap tree under the i_mmap lock. Caller holds mmap_sem for
 * write.
 */
export function vma_link(mm: usize, vma: usize, prev: usize, rb_parent: usize): void {
  const mapping = vm_file(vma);
  if (mapping != 0) i_mmap_lock(mapping, "vma_link");
  __vma_link_list(mm, vma, prev);
  __vma_link_rb(mm, vma, rb_parent);
  __vma_link_file(vma);
  if (mapping != 0) i_mmap_unlock(mapping);
  store<u32>(mm + MM_MAP_COUNT, load<u32>(mm + MM_MAP_COUNT) + 1);
}

// __insert_vm_struct: list and tree only (the caller links the file), counting it. Used by vma_adjust
// for split_vma's new vma, under the locks vma_adjust holds.
function __insert_vm_struct(mm: usize, vma: usize): void {
  const r = find_vma_links(mm, vm_start(vma), vm_end(vma));
  VM_BUG_ON(r < 0, "__insert_vm_struct: the new vma overlaps none");
  __vma_link_list(mm, vma, <usize>(<u64>r & 0xffffffff));
  __vma_link_rb(mm, vma, <usize>(<u64>r >> 32));
  store<u32>(mm + MM_MAP_COUNT, load<u32>(mm + MM_MAP_COUNT) + 1);
}

// __vma_unlink: off the list (prev is its predecessor, never 0 here) and the tree; fix the hint.
function __vma_unlink(mm: usize, vma: usize, prev: usize): void {
  const next = vm_next(vma);
  store<u32>(prev + VMA_NEXT, <u32>next);
  if (next != 0) store<u32>(next + VMA_PREV, <u32>prev);
  rb_erase(vma + VMA_RB, mm + MM_RB);
  if (<usize>load<u32>(mm + MM_MMAP_CACHE) == vma) store<u32>(mm + MM_MMAP_CACHE, <u32>prev);
}

// ---------------------------------------------------------------------------------------------
// vma_adjust
// ---------------------------------------------------------------------------------------------

/**
 * vma_adjust - change vma to [start, end) at pgoff, and with it what the change implies for its
 * neighbour: insert (split_vma's new half, not yet linked), remove the next vma (or the next two:
 * mprotect case 6) that vma now covers, or move the boundary with the next one (mprotect cases 4
 * and 5). Caller holds mmap_sem for write. Takes the file's i_mmap lock (file vmas), then the anon_vma
 * lock: only when it inserts (2.6.32+; with MMC_VMA_ADJUST_ANON_ALWAYS, 2.6.31: always when vma has one),
 * imports from a neighbour or changes vm_start. Returns 0, or -ENOMEM when an importing vma needs an
 * anon_vma chain and cannot get one (then nothing has changed).
 */
export function vma_adjust(vma: usize, start: u64, end: u64, pgoff: u32, insert: usize): i32 {
  const mm = <usize>load<u32>(vma + VMA_MM);
  let next = vm_next(vma);
  let importer: usize = 0, exporter: usize = 0;
  const mapping = vm_file(vma);
  let adjust_next: i64 = 0;
  let remove_next = 0;

  if (next != 0 && insert == 0) {
    if (end >= vm_end(next)) {
      // vma expands over all of next, and perhaps the one after too (mprotect case 6).
      remove_next = 1 + (end > vm_end(next) ? 1 : 0);
      end = vm_end(next);
      exporter = next;
      importer = vma;
    } else if (end > vm_start(next)) {
      // vma expands over part of next: mprotect case 5 shifting the boundary up.
      adjust_next = <i64>((end - vm_start(next)) >> <u64>PAGE_SHIFT);
      exporter = next;
      importer = vma;
    } else if (end < vm_end(vma)) {
      // vma shrinks and !insert says it is not split_vma: mprotect case 4 shifting the boundary down.
      adjust_next = -<i64>((vm_end(vma) - end) >> <u64>PAGE_SHIFT);
      exporter = vma;
      importer = next;
    }
    // Easily overlooked: when mprotect shifts the boundary, make sure the expanding vma has an
    // anon_vma if the shrinking one had, to cover any anon pages imported.
    if (exporter != 0 && vm_anon_vma(exporter) != 0 && vm_anon_vma(importer) == 0) {
      // Nothing has changed yet when this fails.
      if (anon_vma_clone(importer, exporter) != 0) return -ENOMEM;
      store<u32>(importer + VMA_ANON_VMA, load<u32>(exporter + VMA_ANON_VMA));
    }
  }

  if (mapping != 0) {
    i_mmap_lock(mapping, "vma_adjust");
    if (insert != 0) __vma_link_file(insert);
  }

  // The anon_vma lock (the 2009 switch decides whether a vm_end-only change takes it).
  let locked_av: usize = 0;
  const av = vm_anon_vma(vma);
  if (av != 0) {
    const skip = !mm_config_has(MMC_VMA_ADJUST_ANON_ALWAYS) && insert == 0 && importer == 0 && start == vm_start(vma);
    if (!skip) {
      locked_av = av;
      anon_vma_lock_write(av);
    }
  }

  if (mapping != 0) {
    vma_interval_tree_remove(vma, mapping + AS_I_MMAP);
    if (adjust_next != 0) vma_interval_tree_remove(next, mapping + AS_I_MMAP);
  }

  store<u64>(vma + VMA_START, start);
  store<u64>(vma + VMA_END, end);
  store<u32>(vma + VMA_PGOFF, pgoff);
  if (adjust_next != 0) {
    store<u64>(next + VMA_START, <u64>(<i64>vm_start(next) + (adjust_next << 12)));
    store<u32>(next + VMA_PGOFF, <u32>(<i64>vm_pgoff(next) + adjust_next));
  }

  if (mapping != 0) {
    if (adjust_next != 0) vma_interval_tree_insert(next, mapping + AS_I_MMAP);
    vma_interval_tree_insert(vma, mapping + AS_I_MMAP);
  }

  if (remove_next != 0) {
    // vma_merge has merged next into vma, and needs us to remove next before dropping the locks.
    __vma_unlink(mm, next, vma);
    if (mapping != 0) __remove_shared_vm_struct(next, mapping);
  } else if (insert != 0) {
    // split_vma has split insert from vma, and needs us to insert it before dropping the locks
    // (it may either follow vma or precede it).
    __insert_vm_struct(mm, insert);
  }

  if (locked_av != 0) anon_vma_unlock_write(locked_av);
  if (mapping != 0) i_mmap_unlock(mapping);

  if (remove_next != 0) {
    // anon_vma_merge(vma, next): the same anon_vma (vma_merge checked), so next's chain just goes.
    if (vm_anon_vma(next) != 0) {
      VM_BUG_ON(vm_anon_vma(vma) != vm_anon_vma(next), "vma_adjust: a removed next shares vma's anon_vma");
      unlink_anon_vmas(next);
    }
    store<u32>(mm + MM_MAP_COUNT, load<u32>(mm + MM_MAP_COUNT) - 1);
    kmem_cache_free(KMEM_VM_AREA, next);
    // In mprotect's case 6 (see the comments on vma_merge) we must remove another next too.
    if (remove_next == 2) {
      next = vm_next(vma);
      return vma_adjust_again(vma, end, next);
    }
  }
  return 0;
}

// The `goto again` of vma_adjust's case 6: vma now also swallows the vma after the one removed.
function vma_adjust_again(vma: usize, end: u64, next: usize): i32 {
  VM_BUG_ON(next == 0 || vm_start(next) != vm_end(vma), "vma_adjust: case 6 has a second next");
  // vma_adjust with end == next->vm_end: remove_next = 1, importer = vma, same locks as the first.
  return vma_adjust(vma, vm_start(vma), vm_end(next), vm_pgoff(vma), 0);
}

// ---------------------------------------------------------------------------------------------
// vma_merge
// ---------------------------------------------------------------------------------------------

// is_mergeable_vma: same flags and file (no vm_ops->close in the model).
// @ts-ignore: decorator
@inline function is_mergeable_vma(vma: usize, file: usize, flags: u32): bool {
  return vm_flags(vma) == flags && vm_file(vma) == file;
}

// is_mergeable_anon_vma (Linux 2.6.36, "avoid merging cloned VMAs"; the model applies it with the
// anon_vma_chain design, so from its 2.6.34 era on: README, differences): an anon_vma may be absent on one side only when the vma has at
// most one chain entry (else its pages could belong to several anon_vmas).
function is_mergeable_anon_vma(av1: usize, av2: usize, vma: usize): bool {
  if ((av1 == 0 || av2 == 0)) {
    if (vma == 0) return true;
    const avc = <usize>load<u32>(vma + VMA_ANON_VMA_CHAIN);
    if (avc == 0 || load<u32>(avc + AVC_SAME_VMA) == 0) return true;
  }
  return av1 == av2;
}

// can_vma_merge_before: a range ending at vma->vm_start with file offset vm_pgoff can join vma.
function can_vma_merge_before(vma: usize, flags: u32, anon_vma: usize, file: usize, pgoff: u32): bool {
  return is_mergeable_vma(vma, file, flags) && is_mergeable_anon_vma(anon_vma, vm_anon_vma(vma), vma) &&
    vm_pgoff(vma) == pgoff;
}

// can_vma_merge_after: a range starting at vma->vm_end with file offset vm_pgoff can join vma.
// (pgoffs are 32 bits in the model: anonymous vmas' vm_pgoff is vm_start >> 12 truncated, so pgoff
// arithmetic wraps modulo 2^32 here, consistently on both sides.)
function can_vma_merge_after(vma: usize, flags: u32, anon_vma: usize, file: usize, pgoff: u32): bool {
  return is_mergeable_vma(vma, file, flags) && is_mergeable_anon_vma(anon_vma, vm_anon_vma(vma), vma) &&
    vm_pgoff(vma) + <u32>vma_pages(vma) == pgoff;
}

/**
 * vma_merge - given a new range [addr, end) after prev (0: at the start of the list) with the
 * attributes given, try to merge it with prev, the next vma, or both (mm/mmap.c's cases):
 *
 *     AAAA             AAAA                AAAA              AAAA
 *    PPPPPPNNNNNN    PPPPPPNNNNNN    PPPPPPNNNNNN    PPPPNNNNXXXX
 *    cannot merge    might become    might become    might become
 *                    PPNNNNNNNNNN    PPPPPPPPPPNN    PPPPPPPPPPPP 6 or
 *    mmap, brk or    case 4 below    case 5 below    PPPPPPPPXXXX 7 or
 *    mremap move:                                    PPPPNNNNNNNN 8
 *        AAAA
 *    PPPP    NNNN    PPPPPPPPPPPP    PPPPPPPPNNNN    PPPPNNNNNNNN
 *    might become    case 1 below    case 2 below    case 3 below
 *
 * Returns the vma that now covers the range (prev or next), or 0 when no merge is possible (or
 * vma_adjust failed); the vma set is unchanged then. Caller holds mmap_sem for write.
 */
export function vma_merge(mm: usize, prev: usize, addr: u64, end: u64, flags: u32, anon_vma: usize, file: usize, pgoff: u32): usize {
  const pglen = (end - addr) >> <u64>PAGE_SHIFT;
  // VM_SPECIAL (VM_IO, VM_DONTEXPAND, VM_RESERVED, VM_PFNMAP) vmas never merge: the model has none.
  let next = prev != 0 ? vm_next(prev) : <usize>load<u32>(mm + MM_MMAP);
  const area = next;
  if (next != 0 && vm_end(next) == end) next = vm_next(next); // cases 6, 7, 8

  // Can it merge with the predecessor?
  if (prev != 0 && vm_end(prev) == addr && can_vma_merge_after(prev, flags, anon_vma, file, pgoff)) {
    let err: i32;
    // OK, it can. Can we now merge in the successor as well?
    if (next != 0 && end == vm_start(next) && can_vma_merge_before(next, flags, anon_vma, file, pgoff + <u32>pglen) &&
        is_mergeable_anon_vma(vm_anon_vma(prev), vm_anon_vma(next), 0)) {
      err = vma_adjust(prev, vm_start(prev), vm_end(next), vm_pgoff(prev), 0); // cases 1, 6
    } else {
      err = vma_adjust(prev, vm_start(prev), end, vm_pgoff(prev), 0); // cases 2, 5, 7
    }
    return err != 0 ? 0 : prev;
  }

  // Can this new request be merged in front of next?
  if (next != 0 && end == vm_start(next) && can_vma_merge_before(next, flags, anon_vma, file, pgoff + <u32>pglen)) {
    let err: i32;
    if (prev != 0 && addr < vm_end(prev)) {
      err = vma_adjust(prev, vm_start(prev), addr, vm_pgoff(prev), 0); // case 4
    } else {
      err = vma_adjust(area, addr, vm_end(next), <u32>(<u64>vm_pgoff(next) - pglen), 0); // cases 3, 8
    }
    return err != 0 ? 0 : area;
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// split_vma
// ---------------------------------------------------------------------------------------------

/**
 * __split_vma - split vma at addr (strictly inside it) into two vmas: the new one below addr when
 * new_below, else above. Caller holds mmap_sem for write. Returns 0, or -ENOMEM (no memory for the
 * vma or its anon_vma chain): the vma set is unchanged then.
 */
export function __split_vma(mm: usize, vma: usize, addr: u64, new_below: bool): i32 {
  VM_BUG_ON(addr <= vm_start(vma) || addr >= vm_end(vma) || (addr & 0xfff) != 0, "__split_vma: addr inside the vma, aligned");
  const nw = kmem_cache_alloc(KMEM_VM_AREA, 0);
  if (nw == 0) return -ENOMEM;
  llc_charge(((VMA_SIZE + 63) >> 6) - 1); // *new = *vma: the new object's lines past the one slab charged
  memory.copy(nw, vma, VMA_SIZE); // *new = *vma
  store<u32>(nw + VMA_ANON_VMA_CHAIN, 0); // INIT_LIST_HEAD(&new->anon_vma_chain)
  if (new_below) {
    store<u64>(nw + VMA_END, addr);
  } else {
    store<u64>(nw + VMA_START, addr);
    store<u32>(nw + VMA_PGOFF, vm_pgoff(vma) + <u32>((addr - vm_start(vma)) >> <u64>PAGE_SHIFT));
  }
  let err = anon_vma_clone(nw, vma);
  if (err != 0) {
    kmem_cache_free(KMEM_VM_AREA, nw);
    return err;
  }
  if (new_below) {
    err = vma_adjust(vma, addr, vm_end(vma), vm_pgoff(vma) + <u32>((addr - vm_start(nw)) >> <u64>PAGE_SHIFT), nw);
  } else {
    err = vma_adjust(vma, vm_start(vma), addr, vm_pgoff(vma), nw);
  }
  if (err == 0) return 0;
  unlink_anon_vmas(nw);
  kmem_cache_free(KMEM_VM_AREA, nw);
  return err;
}

/**
 * split_vma - __split_vma, refused with -ENOMEM when the mm already has sysctl_max_map_count vmas.
 * Caller holds mmap_sem for write.
 */
export function split_vma(mm: usize, vma: usize, addr: u64, new_below: bool): i32 {
  if (load<u32>(mm + MM_MAP_COUNT) >= MAX_MAP_COUNT) return -ENOMEM;
  return __split_vma(mm, vma, addr, new_below);
}
