// The i_mmap interval tree of vmas, after Linux mm/interval_tree.c (INTERVAL_TREE_DEFINE of
// include/linux/interval_tree_generic.h instantiated for struct vm_area_struct).
//
// Each vma of a file mapping is a node on its address_space's i_mmap tree through vma->shared.rb
// (VMA_SHARED_RB), keyed by [vma->vm_pgoff, vma_last_pgoff(vma)] (file pages, inclusive); the tree is
// ordered by the start and augmented with vma->shared.rb_subtree_last (VMA_SHARED_SUBTREE_LAST):
// the largest last page in the node's subtree, kept by lib/rbtree.ts's RB_AUG_VMA_SHARED callbacks
// through rotations and erasure.
//
// Caller holds the address_space's i_mmap lock for write to insert or remove and at least for read
// to iterate. The root is the u32 word mapping->i_mmap (AS_I_MMAP); any u32 word serves in tests.
import { RB_LEFT, RB_RIGHT, VMA_SHARED_RB, VMA_SHARED_SUBTREE_LAST, VMA_PGOFF } from "../mm/mm_types";
import { rb_link_node, rb_insert_augmented, rb_erase_augmented, rb_parent, vma_last_pgoff, RB_AUG_VMA_SHARED } from "./rbtree";

// @ts-ignore: decorator
@inline function vma_start_pgoff(vma: usize): u64 { return <u64>load<u32>(vma + VMA_PGOFF); }
// @ts-ignore: decorator
@inline function subtree_last(vma: usize): u64 { return load<u64>(vma + VMA_SHARED_SUBTREE_LAST); }
// @ts-ignore: decorator
@inline function node_vma(rb: usize): usize { return rb == 0 ? 0 : rb - VMA_SHARED_RB; }
// @ts-ignore: decorator
@inline function vma_left(vma: usize): usize { return node_vma(<usize>load<u32>(vma + VMA_SHARED_RB + RB_LEFT)); }
// @ts-ignore: decorator
@inline function vma_right(vma: usize): usize { return node_vma(<usize>load<u32>(vma + VMA_SHARED_RB + RB_RIGHT)); }

/**
 * vma_interval_tree_insert - add vma to the tree at root. Its vm_pgoff, vm_start and vm_end must
 * not change while it is on the tree. Caller holds the i_mmap lock for write.
 */
export function vma_interval_tree_insert(vma: usize, root: usize): void {
  const start = vma_start_pgoff(vma);
  const last = vma_last_pgoff(vma);
  let link = root;
  let parent_rb: usize = 0;
  let rb = <usize>load<u32>(link);
  while (rb != 0) {
    parent_rb = rb;
    const parent = rb - VMA_SHARED_RB;
    if (subtree_last(parent) < last) store<u64>(parent + VMA_SHARED_SUBTREE_LAST, last);
    link = start < vma_start_pgoff(parent) ? rb + RB_LEFT : rb + RB_RIGHT;
    rb = <usize>load<u32>(link);
  }
  store<u64>(vma + VMA_SHARED_SUBTREE_LAST, last);
  rb_link_node(vma + VMA_SHARED_RB, parent_rb, link);
  rb_insert_augmented(vma + VMA_SHARED_RB, root, RB_AUG_VMA_SHARED);
}

/** vma_interval_tree_remove - take vma off the tree at root. Caller holds the i_mmap lock for write. */
export function vma_interval_tree_remove(vma: usize, root: usize): void {
  rb_erase_augmented(vma + VMA_SHARED_RB, root, RB_AUG_VMA_SHARED);
}

// Find the leftmost node of vma's subtree that overlaps [start, last] (interval_tree_subtree_search).
// The caller has checked start <= subtree_last(vma).
function subtree_search(vma: usize, start: u64, last: u64): usize {
  while (true) {
    const left = vma_left(vma);
    if (left != 0 && start <= subtree_last(left)) {
      // Some nodes in the left subtree satisfy the condition, and they come first.
      vma = left;
      continue;
    }
    if (vma_start_pgoff(vma) <= last) {
      if (start <= vma_last_pgoff(vma)) return vma;
      const right = vma_right(vma);
      if (right != 0) {
        vma = right;
        if (start <= subtree_last(vma)) continue;
      }
    }
    return 0; // no node overlaps
  }
}

/**
 * vma_interval_tree_iter_first - the first vma (in vm_pgoff order) on the tree at root mapping any
 * file page in [first_pgoff, last_pgoff], or 0. Caller holds the i_mmap lock.
 */
export function vma_interval_tree_iter_first(root: usize, first_pgoff: u64, last_pgoff: u64): usize {
  const rb = <usize>load<u32>(root);
  if (rb == 0) return 0;
  const vma = rb - VMA_SHARED_RB;
  if (subtree_last(vma) < first_pgoff) return 0;
  return subtree_search(vma, first_pgoff, last_pgoff);
}

/**
 * vma_interval_tree_iter_next - the next vma after vma (as returned by iter_first/iter_next with the
 * same range) overlapping [first_pgoff, last_pgoff], or 0. Caller holds the i_mmap lock.
 */
export function vma_interval_tree_iter_next(vma: usize, first_pgoff: u64, last_pgoff: u64): usize {
  let rb = <usize>load<u32>(vma + VMA_SHARED_RB + RB_RIGHT);
  while (true) {
    // Loop invariant: rb is vma's right child (or 0); everything left of vma has been visited.
    if (rb != 0) {
      const right = rb - VMA_SHARED_RB;
      if (first_pgoff <= subtree_last(right)) return subtree_search(right, first_pgoff, last_pgoff);
    }
    // Move up until we come from a node's left child.
    let prev: usize;
    do {
      rb = rb_parent(vma + VMA_SHARED_RB);
      if (rb == 0) return 0;
      prev = vma + VMA_SHARED_RB;
      vma = rb - VMA_SHARED_RB;
      rb = <usize>load<u32>(vma + VMA_SHARED_RB + RB_RIGHT);
    } while (prev == rb);
    // Check whether vma overlaps.
    if (last_pgoff < vma_start_pgoff(vma)) return 0;
    if (first_pgoff <= vma_last_pgoff(vma)) return vma;
  }
}
