// Test kernels for lib/rbtree.ts and lib/interval_tree.ts (in the spirit of lib/rbtree_test.c and
// lib/interval_tree_test.c): the host builds trees of vmas from these and checks the red-black
// properties, the order and the augmented values by reading the nodes in shared memory. None of them
// takes a lock: the test owns every object.
import { kmem_cache_alloc, kmem_cache_free } from "../mm/slab";
import { __GFP_ZERO } from "../mm/page_alloc";
import { KMEM_VM_AREA, VMA_RB, VMA_START, VMA_END, VMA_PGOFF, RB_LEFT, RB_RIGHT } from "../mm/mm_types";
import { rb_link_node, rb_insert_color, rb_erase } from "./rbtree";
import { vma_interval_tree_insert, vma_interval_tree_remove } from "./interval_tree";
import { EINVAL } from "../errno";

/** A zeroed vma with [start, end) and pgoff (no mm, not linked anywhere); 0 when out of memory. */
export function test_rb_vma_new(start: u64, end: u64, pgoff: u32): usize {
  const vma = kmem_cache_alloc(KMEM_VM_AREA, __GFP_ZERO);
  if (vma == 0) return 0;
  store<u64>(vma + VMA_START, start);
  store<u64>(vma + VMA_END, end);
  store<u32>(vma + VMA_PGOFF, pgoff);
  return vma;
}

/** Free a vma from test_rb_vma_new (or a root holder). */
export function test_rb_vma_free(vma: usize): i32 {
  return kmem_cache_free(KMEM_VM_AREA, vma);
}

/**
 * Insert vma on the plain tree at root by vm_start, as __vma_link_rb does (equal keys go right).
 * Returns 0.
 */
export function test_rb_insert(root: usize, vma: usize): i32 {
  const key = load<u64>(vma + VMA_START);
  let link = root;
  let parent: usize = 0;
  let rb = <usize>load<u32>(link);
  while (rb != 0) {
    parent = rb;
    link = key < load<u64>(rb - VMA_RB + VMA_START) ? rb + RB_LEFT : rb + RB_RIGHT;
    rb = <usize>load<u32>(link);
  }
  rb_link_node(vma + VMA_RB, parent, link);
  rb_insert_color(vma + VMA_RB, root);
  return 0;
}

/** Erase vma from the plain tree at root. Returns 0, or -EINVAL for a null vma. */
export function test_rb_erase(root: usize, vma: usize): i32 {
  if (vma == 0) return -EINVAL;
  rb_erase(vma + VMA_RB, root);
  return 0;
}

/** Insert vma on the interval tree at root. */
export function test_it_insert(root: usize, vma: usize): i32 {
  vma_interval_tree_insert(vma, root);
  return 0;
}

/** Remove vma from the interval tree at root. */
export function test_it_remove(root: usize, vma: usize): i32 {
  vma_interval_tree_remove(vma, root);
  return 0;
}
