// Red-black trees, after Linux lib/rbtree.c and include/linux/rbtree_augmented.h (3.5+ form:
// rebalancing in place, parent pointer and colour in one word, augmented callbacks).
//
// A node is a struct rb_node embedded in its object (layout RB_* in mm/mm_types.ts):
//
//   +0  __rb_parent_color u32   31..1: parent address (nodes are 4-byte aligned)  0: colour (0 red, 1 black)
//   +4  rb_right          u32   right child (0 = none)
//   +8  rb_left           u32   left child (0 = none)
//
// A root is one u32 word at an address (struct rb_root: the top node or 0). Ordering is the caller's:
// it walks down from the root comparing keys, then calls rb_link_node(node, parent, link) with the
// address of the child word it stopped at, then rb_insert_color (or rb_insert_augmented).
//
// Augmentation: Linux passes a struct rb_augment_callbacks (propagate, copy, rotate) of function
// pointers. AssemblyScript has no cheap closures, so the augmented entry points take an `aug` id
// instead, and rb_aug_* below switch on it. There is one augmented tree in the model: the i_mmap
// interval tree of vmas (RB_AUG_VMA_SHARED, lib/interval_tree.ts), whose augmented value is
// vma->shared.rb_subtree_last. RB_AUG_NONE gives the plain tree (the callbacks do nothing).
//
// Locking is the caller's (the lock that protects the tree: mmap_sem for mm->mm_rb, i_mmap for the
// interval tree). Plain loads and stores: no lockless readers are modelled.
import { RB_PARENT_COLOR, RB_RIGHT, RB_LEFT, VMA_SHARED_RB, VMA_SHARED_SUBTREE_LAST, VMA_START, VMA_END, VMA_PGOFF } from "../mm/mm_types";

export const RB_RED: u32 = 0;
export const RB_BLACK: u32 = 1;

/** Augmentation ids (the model's stand-in for struct rb_augment_callbacks). */
export const RB_AUG_NONE: i32 = 0;
export const RB_AUG_VMA_SHARED: i32 = 1;

// ---------------------------------------------------------------------------------------------
// Node accessors
// ---------------------------------------------------------------------------------------------

// @ts-ignore: decorator
@inline function pc_of(n: usize): u32 { return load<u32>(n + RB_PARENT_COLOR); }
// @ts-ignore: decorator
@inline function left_of(n: usize): usize { return <usize>load<u32>(n + RB_LEFT); }
// @ts-ignore: decorator
@inline function right_of(n: usize): usize { return <usize>load<u32>(n + RB_RIGHT); }
// @ts-ignore: decorator
@inline function set_left(n: usize, v: usize): void { store<u32>(n + RB_LEFT, <u32>v); }
// @ts-ignore: decorator
@inline function set_right(n: usize, v: usize): void { store<u32>(n + RB_RIGHT, <u32>v); }
// @ts-ignore: decorator
@inline function __rb_parent(pc: u32): usize { return <usize>(pc & ~3); }
// @ts-ignore: decorator
@inline function __rb_is_black(pc: u32): bool { return (pc & 1) != 0; }
// @ts-ignore: decorator
@inline function rb_is_black(n: usize): bool { return (pc_of(n) & 1) != 0; }
// @ts-ignore: decorator
@inline function rb_is_red(n: usize): bool { return (pc_of(n) & 1) == 0; }
// The parent of a red node: its parent_color word is the parent itself.
// @ts-ignore: decorator
@inline function rb_red_parent(n: usize): usize { return <usize>pc_of(n); }
// @ts-ignore: decorator
@inline function rb_set_parent(n: usize, p: usize): void {
  store<u32>(n + RB_PARENT_COLOR, (pc_of(n) & 1) | <u32>p);
}
// @ts-ignore: decorator
@inline function rb_set_parent_color(n: usize, p: usize, color: u32): void {
  store<u32>(n + RB_PARENT_COLOR, <u32>p | color);
}
// @ts-ignore: decorator
@inline function rb_set_black(n: usize): void {
  store<u32>(n + RB_PARENT_COLOR, pc_of(n) | RB_BLACK);
}

/** rb_parent - the parent of node, 0 for the root. */
export function rb_parent(node: usize): usize {
  return __rb_parent(pc_of(node));
}

/** rb_color - RB_RED or RB_BLACK (for checks). */
export function rb_color(node: usize): u32 {
  return pc_of(node) & 1;
}

/**
 * rb_link_node - attach node as a leaf below parent (0 for an empty tree), at link: the address of
 * the u32 child word (or root word) the caller's search stopped at. The node is red and unbalanced
 * until rb_insert_color. Caller holds the tree's lock.
 */
export function rb_link_node(node: usize, parent: usize, link: usize): void {
  store<u32>(node + RB_PARENT_COLOR, <u32>parent); // red
  set_left(node, 0);
  set_right(node, 0);
  store<u32>(link, <u32>node);
}

// Replace old by new in parent's child slot (or the root word when parent is 0).
// @ts-ignore: decorator
@inline function __rb_change_child(old: usize, nw: usize, parent: usize, root: usize): void {
  if (parent != 0) {
    if (left_of(parent) == old) set_left(parent, nw);
    else set_right(parent, nw);
  } else {
    store<u32>(root, <u32>nw);
  }
}

// Helper for rotations: new takes old's parent and colour, old becomes new's child with color.
// @ts-ignore: decorator
@inline function __rb_rotate_set_parents(old: usize, nw: usize, root: usize, color: u32): void {
  const parent = rb_parent(old);
  store<u32>(nw + RB_PARENT_COLOR, pc_of(old));
  rb_set_parent_color(old, nw, color);
  __rb_change_child(old, nw, parent, root);
}

// ---------------------------------------------------------------------------------------------
// Augmentation (RB_DECLARE_CALLBACKS for the one augmented tree)
// ---------------------------------------------------------------------------------------------

// The vma of a node on the i_mmap tree, and its augmented value.
// @ts-ignore: decorator
@inline function shared_vma(rb: usize): usize { return rb - VMA_SHARED_RB; }
// @ts-ignore: decorator
@inline function shared_last(rb: usize): u64 { return load<u64>(shared_vma(rb) + VMA_SHARED_SUBTREE_LAST); }
// @ts-ignore: decorator
@inline function set_shared_last(rb: usize, v: u64): void { store<u64>(shared_vma(rb) + VMA_SHARED_SUBTREE_LAST, v); }

/** vma_last_pgoff - the last file page a vma maps (mm/interval_tree.c). */
// @ts-ignore: decorator
@inline export function vma_last_pgoff(vma: usize): u64 {
  return <u64>load<u32>(vma + VMA_PGOFF) + ((load<u64>(vma + VMA_END) - load<u64>(vma + VMA_START)) >> 12) - 1;
}

// compute_subtree_last: max of the node's own last and its children's subtree_last.
function shared_compute(rb: usize): u64 {
  let max = vma_last_pgoff(shared_vma(rb));
  const l = left_of(rb), r = right_of(rb);
  if (l != 0) { const v = shared_last(l); if (v > max) max = v; }
  if (r != 0) { const v = shared_last(r); if (v > max) max = v; }
  return max;
}

/** augment->propagate: recompute from rb up to (not including) stop, ending early once unchanged. */
export function rb_aug_propagate(rb: usize, stop: usize, aug: i32): void {
  if (aug != RB_AUG_VMA_SHARED) return;
  while (rb != stop) {
    const v = shared_compute(rb);
    if (shared_last(rb) == v) break;
    set_shared_last(rb, v);
    rb = rb_parent(rb);
  }
}

// augment->copy: new takes old's augmented value (new replaces old at its place).
// @ts-ignore: decorator
@inline function rb_aug_copy(old: usize, nw: usize, aug: i32): void {
  if (aug == RB_AUG_VMA_SHARED) set_shared_last(nw, shared_last(old));
}

// augment->rotate: new took old's place, old is now new's child.
// @ts-ignore: decorator
@inline function rb_aug_rotate(old: usize, nw: usize, aug: i32): void {
  if (aug == RB_AUG_VMA_SHARED) {
    set_shared_last(nw, shared_last(old));
    set_shared_last(old, shared_compute(old));
  }
}

// ---------------------------------------------------------------------------------------------
// Insertion
// ---------------------------------------------------------------------------------------------

// __rb_insert: rebalance after linking the red leaf node.
function __rb_insert(node: usize, root: usize, aug: i32): void {
  let parent = rb_red_parent(node);
  while (true) {
    if (parent == 0) {
      // The inserted node is the root (or case 1 propagated up to it): black.
      rb_set_parent_color(node, 0, RB_BLACK);
      break;
    }
    if (rb_is_black(parent)) break;
    const gparent = rb_red_parent(parent);
    let tmp = right_of(gparent);
    if (parent != tmp) { // parent == gparent->rb_left
      if (tmp != 0 && rb_is_red(tmp)) {
        // Case 1: uncle red: flip colours, continue at the grandparent.
        rb_set_parent_color(tmp, gparent, RB_BLACK);
        rb_set_parent_color(parent, gparent, RB_BLACK);
        node = gparent;
        parent = rb_parent(node);
        rb_set_parent_color(node, parent, RB_RED);
        continue;
      }
      tmp = right_of(parent);
      if (node == tmp) {
        // Case 2: node is the right child: left rotate at parent.
        tmp = left_of(node);
        set_right(parent, tmp);
        set_left(node, parent);
        if (tmp != 0) rb_set_parent_color(tmp, parent, RB_BLACK);
        rb_set_parent_color(parent, node, RB_RED);
        rb_aug_rotate(parent, node, aug);
        parent = node;
        tmp = right_of(node);
      }
      // Case 3: node is the left child: right rotate at gparent.
      set_left(gparent, tmp);
      set_right(parent, gparent);
      if (tmp != 0) rb_set_parent_color(tmp, gparent, RB_BLACK);
      __rb_rotate_set_parents(gparent, parent, root, RB_RED);
      rb_aug_rotate(gparent, parent, aug);
      break;
    } else {
      tmp = left_of(gparent);
      if (tmp != 0 && rb_is_red(tmp)) {
        rb_set_parent_color(tmp, gparent, RB_BLACK);
        rb_set_parent_color(parent, gparent, RB_BLACK);
        node = gparent;
        parent = rb_parent(node);
        rb_set_parent_color(node, parent, RB_RED);
        continue;
      }
      tmp = left_of(parent);
      if (node == tmp) {
        tmp = right_of(node);
        set_left(parent, tmp);
        set_right(node, parent);
        if (tmp != 0) rb_set_parent_color(tmp, parent, RB_BLACK);
        rb_set_parent_color(parent, node, RB_RED);
        rb_aug_rotate(parent, node, aug);
        parent = node;
        tmp = left_of(node);
      }
      set_right(gparent, tmp);
      set_left(parent, gparent);
      if (tmp != 0) rb_set_parent_color(tmp, gparent, RB_BLACK);
      __rb_rotate_set_parents(gparent, parent, root, RB_RED);
      rb_aug_rotate(gparent, parent, aug);
      break;
    }
  }
}

/** rb_insert_color - rebalance after rb_link_node (plain tree). Caller holds the tree's lock. */
export function rb_insert_color(node: usize, root: usize): void {
  __rb_insert(node, root, RB_AUG_NONE);
}

/**
 * rb_insert_augmented - rebalance after rb_link_node, keeping tree aug's augmented values: the caller
 * has already set node's value and updated those of its ancestors on the way down (as
 * interval_tree_generic.h's insert does). Caller holds the tree's lock.
 */
export function rb_insert_augmented(node: usize, root: usize, aug: i32): void {
  __rb_insert(node, root, aug);
}

// ---------------------------------------------------------------------------------------------
// Erasure
// ---------------------------------------------------------------------------------------------

// ____rb_erase_color: restore the black height below parent, whose subtree on one side lost a black.
function __rb_erase_color(parent: usize, root: usize, aug: i32): void {
  let node: usize = 0;
  let sibling: usize, tmp1: usize, tmp2: usize;
  while (true) {
    sibling = right_of(parent);
    if (node != sibling) { // node == parent->rb_left
      if (rb_is_red(sibling)) {
        // Case 1: red sibling: left rotate at parent.
        tmp1 = left_of(sibling);
        set_right(parent, tmp1);
        set_left(sibling, parent);
        rb_set_parent_color(tmp1, parent, RB_BLACK);
        __rb_rotate_set_parents(parent, sibling, root, RB_RED);
        rb_aug_rotate(parent, sibling, aug);
        sibling = tmp1;
      }
      tmp1 = right_of(sibling);
      if (tmp1 == 0 || rb_is_black(tmp1)) {
        tmp2 = left_of(sibling);
        if (tmp2 == 0 || rb_is_black(tmp2)) {
          // Case 2: sibling's children black: flip the sibling red, move up (or stop at a red parent).
          rb_set_parent_color(sibling, parent, RB_RED);
          if (rb_is_red(parent)) {
            rb_set_black(parent);
          } else {
            node = parent;
            parent = rb_parent(node);
            if (parent != 0) continue;
          }
          break;
        }
        // Case 3: right rotate at sibling.
        tmp1 = right_of(tmp2);
        set_left(sibling, tmp1);
        set_right(tmp2, sibling);
        set_right(parent, tmp2);
        if (tmp1 != 0) rb_set_parent_color(tmp1, sibling, RB_BLACK);
        rb_aug_rotate(sibling, tmp2, aug);
        tmp1 = sibling;
        sibling = tmp2;
      }
      // Case 4: left rotate at parent, colour flips.
      tmp2 = left_of(sibling);
      set_right(parent, tmp2);
      set_left(sibling, parent);
      rb_set_parent_color(tmp1, sibling, RB_BLACK);
      if (tmp2 != 0) rb_set_parent(tmp2, parent);
      __rb_rotate_set_parents(parent, sibling, root, RB_BLACK);
      rb_aug_rotate(parent, sibling, aug);
      break;
    } else {
      sibling = left_of(parent);
      if (rb_is_red(sibling)) {
        tmp1 = right_of(sibling);
        set_left(parent, tmp1);
        set_right(sibling, parent);
        rb_set_parent_color(tmp1, parent, RB_BLACK);
        __rb_rotate_set_parents(parent, sibling, root, RB_RED);
        rb_aug_rotate(parent, sibling, aug);
        sibling = tmp1;
      }
      tmp1 = left_of(sibling);
      if (tmp1 == 0 || rb_is_black(tmp1)) {
        tmp2 = right_of(sibling);
        if (tmp2 == 0 || rb_is_black(tmp2)) {
          rb_set_parent_color(sibling, parent, RB_RED);
          if (rb_is_red(parent)) {
            rb_set_black(parent);
          } else {
            node = parent;
            parent = rb_parent(node);
            if (parent != 0) continue;
          }
          break;
        }
        tmp1 = left_of(tmp2);
        set_right(sibling, tmp1);
        set_left(tmp2, sibling);
        set_left(parent, tmp2);
        if (tmp1 != 0) rb_set_parent_color(tmp1, sibling, RB_BLACK);
        rb_aug_rotate(sibling, tmp2, aug);
        tmp1 = sibling;
        sibling = tmp2;
      }
      tmp2 = right_of(sibling);
      set_left(parent, tmp2);
      set_right(sibling, parent);
      rb_set_parent_color(tmp1, sibling, RB_BLACK);
      if (tmp2 != 0) rb_set_parent(tmp2, parent);
      __rb_rotate_set_parents(parent, sibling, root, RB_BLACK);
      rb_aug_rotate(parent, sibling, aug);
      break;
    }
  }
}

// __rb_erase_augmented: unlink node; returns the node below which a black went missing (0: none).
function __rb_erase_augmented(node: usize, root: usize, aug: i32): usize {
  const child = right_of(node);
  let tmp = left_of(node);
  let parent: usize, rebalance: usize;
  let pc: u32;
  if (tmp == 0) {
    // Case 1: at most a right child (then red, and node black): the child takes node's place.
    pc = pc_of(node);
    parent = __rb_parent(pc);
    __rb_change_child(node, child, parent, root);
    if (child != 0) {
      store<u32>(child + RB_PARENT_COLOR, pc);
      rebalance = 0;
    } else {
      rebalance = __rb_is_black(pc) ? parent : 0;
    }
    tmp = parent;
  } else if (child == 0) {
    // Still case 1, with only a left child.
    pc = pc_of(node);
    store<u32>(tmp + RB_PARENT_COLOR, pc);
    parent = __rb_parent(pc);
    __rb_change_child(node, tmp, parent, root);
    rebalance = 0;
    tmp = parent;
  } else {
    let successor = child;
    let child2: usize;
    tmp = left_of(child);
    if (tmp == 0) {
      // Case 2: the successor is node's right child.
      parent = successor;
      child2 = right_of(successor);
      rb_aug_copy(node, successor, aug);
    } else {
      // Case 3: the successor is the leftmost node of node's right subtree.
      do {
        parent = successor;
        successor = tmp;
        tmp = left_of(tmp);
      } while (tmp != 0);
      child2 = right_of(successor);
      set_left(parent, child2);
      set_right(successor, child);
      rb_set_parent(child, successor);
      rb_aug_copy(node, successor, aug);
      rb_aug_propagate(parent, successor, aug);
    }
    tmp = left_of(node);
    set_left(successor, tmp);
    rb_set_parent(tmp, successor);
    pc = pc_of(node);
    tmp = __rb_parent(pc);
    __rb_change_child(node, successor, tmp, root);
    if (child2 != 0) {
      store<u32>(successor + RB_PARENT_COLOR, pc);
      rb_set_parent_color(child2, parent, RB_BLACK);
      rebalance = 0;
    } else {
      const pc2 = pc_of(successor);
      store<u32>(successor + RB_PARENT_COLOR, pc);
      rebalance = __rb_is_black(pc2) ? parent : 0;
    }
    tmp = successor;
  }
  rb_aug_propagate(tmp, 0, aug);
  return rebalance;
}

/** rb_erase - remove node from the plain tree at root. Caller holds the tree's lock. */
export function rb_erase(node: usize, root: usize): void {
  const rebalance = __rb_erase_augmented(node, root, RB_AUG_NONE);
  if (rebalance != 0) __rb_erase_color(rebalance, root, RB_AUG_NONE);
}

/** rb_erase_augmented - remove node from augmented tree aug at root. Caller holds the tree's lock. */
export function rb_erase_augmented(node: usize, root: usize, aug: i32): void {
  const rebalance = __rb_erase_augmented(node, root, aug);
  if (rebalance != 0) __rb_erase_color(rebalance, root, aug);
}

/**
 * rb_replace_node - put nw in victim's place (same key position) without rebalancing. Plain trees
 * only (no augmented value is recomputed). Caller holds the tree's lock.
 */
export function rb_replace_node(victim: usize, nw: usize, root: usize): void {
  const parent = rb_parent(victim);
  store<u32>(nw + RB_PARENT_COLOR, pc_of(victim));
  set_left(nw, left_of(victim));
  set_right(nw, right_of(victim));
  if (left_of(victim) != 0) rb_set_parent(left_of(victim), nw);
  if (right_of(victim) != 0) rb_set_parent(right_of(victim), nw);
  __rb_change_child(victim, nw, parent, root);
}

// ---------------------------------------------------------------------------------------------
// Traversal
// ---------------------------------------------------------------------------------------------

/** rb_first - the leftmost node of the tree at root, or 0. */
export function rb_first(root: usize): usize {
  let n = <usize>load<u32>(root);
  if (n == 0) return 0;
  while (left_of(n) != 0) n = left_of(n);
  return n;
}

/** rb_last - the rightmost node of the tree at root, or 0. */
export function rb_last(root: usize): usize {
  let n = <usize>load<u32>(root);
  if (n == 0) return 0;
  while (right_of(n) != 0) n = right_of(n);
  return n;
}

/** rb_next - the in-order successor of node, or 0. */
export function rb_next(node: usize): usize {
  let n = right_of(node);
  if (n != 0) {
    while (left_of(n) != 0) n = left_of(n);
    return n;
  }
  let parent = rb_parent(node);
  while (parent != 0 && node == right_of(parent)) {
    node = parent;
    parent = rb_parent(node);
  }
  return parent;
}

/** rb_prev - the in-order predecessor of node, or 0. */
export function rb_prev(node: usize): usize {
  let n = left_of(node);
  if (n != 0) {
    while (right_of(n) != 0) n = right_of(n);
    return n;
  }
  let parent = rb_parent(node);
  while (parent != 0 && node == left_of(parent)) {
    node = parent;
    parent = rb_parent(node);
  }
  return parent;
}
