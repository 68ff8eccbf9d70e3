// An intrusive LIFO list with its lock, the one shape behind the zone free lists, the per-CPU page
// lists and the slab free lists.
//
//  struct freelist (12 bytes)
//   +0 lock u32 (ticket spinlock) | +4 count u32 | +8 head u32 (first node, NODE_NIL = empty)
//
// Nodes are numbers (a pfn, or an object's address); node n's link word lives at base + n x stride
// (for pfns: the lru_next field of its struct page; for objects: the object's first word).
// The caller holds the list's lock around every call.
export const FL_LOCK: usize = 0;
export const FL_COUNT: usize = 4;
export const FL_HEAD: usize = 8;
export const NODE_NIL: u32 = 0xffffffff;

// @ts-ignore: decorator
@inline function link(node: u32, base: usize, stride: usize): usize {
  return base + <usize>node * stride;
}

/** Reset the list at fl to empty (its lock too): at machine_init, before any CPU runs. */
export function freelist_init(fl: usize): void {
  store<u32>(fl + FL_LOCK, 0);
  store<u32>(fl + FL_COUNT, 0);
  store<u32>(fl + FL_HEAD, NODE_NIL);
}

/** Push node on the list at fl. */
// @ts-ignore: decorator
@inline export function freelist_push(fl: usize, node: u32, base: usize, stride: usize): void {
  store<u32>(link(node, base, stride), load<u32>(fl + FL_HEAD));
  store<u32>(fl + FL_HEAD, node);
  store<u32>(fl + FL_COUNT, load<u32>(fl + FL_COUNT) + 1);
}

/** Pop the first node of the list at fl; NODE_NIL when empty. */
// @ts-ignore: decorator
@inline export function freelist_pop(fl: usize, base: usize, stride: usize): u32 {
  const node = load<u32>(fl + FL_HEAD);
  if (node == NODE_NIL) return NODE_NIL;
  store<u32>(fl + FL_HEAD, load<u32>(link(node, base, stride)));
  store<u32>(fl + FL_COUNT, load<u32>(fl + FL_COUNT) - 1);
  return node;
}

/** Move up to n nodes from the list at from to the list at to (both locked); returns how many. */
export function freelist_move(from: usize, to: usize, n: u32, base: usize, stride: usize): u32 {
  let moved: u32 = 0;
  while (moved < n) {
    const node = freelist_pop(from, base, stride);
    if (node == NODE_NIL) break;
    freelist_push(to, node, base, stride);
    moved++;
  }
  return moved;
}

// @ts-ignore: decorator
@inline export function freelist_count(fl: usize): u32 {
  return atomic.load<u32>(fl + FL_COUNT);
}
