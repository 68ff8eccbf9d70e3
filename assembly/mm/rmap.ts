// Reverse maps of anonymous memory (mm/rmap.c): anon_vma, anon_vma_chain, and the page-level rmap
// counts (page_add_*_rmap, page_remove_rmap). The walks over them are in mm/rmap_walk.ts.
//
// Two designs, chosen per machine by mm_config's MMC_AV_2625 bit (layout.ts):
//
//  2.6.34 and later (default): every vma that may hold anonymous pages has a list of anon_vma_chains
//  (vma->anon_vma_chain, linked by avc->same_vma), one per anon_vma whose pages it may map; every
//  anon_vma has the list of the chains that name it (av->head, linked by avc->same_anon_vma). fork
//  gives the child vma chains to every anon_vma of the parent vma plus a new anon_vma of its own,
//  whose root is the parent's root; the root's lock (and refcount) serves the whole tree (2.6.36's
//  root locking). vma->anon_vma is the one new pages go to.
//
//        vma P (parent)          vma C (child, after fork)
//          | anon_vma_chain         | anon_vma_chain
//        [avc P->AV0]            [avc C->AV1] -> [avc C->AV0]
//              \________________________________/     |
//                  AV0 (root): head: avc P, avc C     AV1 (root AV0): head: avc C
//
//  2.6.25: one anon_vma per fork family. Forked and split vmas join the parent's anon_vma, whose list
//  holds the vmas themselves (vma->anon_vma_node at VMA_AV_NODE_NEXT/PREV); no chains. Every process
//  of the family takes the same lock: the contention seed 002 and the 2008-2010 reports describe.
//
// Reference counting (seed 002's get_anon_vma / put_anon_vma): an anon_vma is born with refcount 1.
// With chains: that reference is dropped when its list becomes empty (unlink_anon_vmas), and every
// non-root anon_vma holds one on its root. In the 2.6.25 design the refcount counts the vmas on the
// list. In both, rmap walks and migration take temporary references (grab_anon_vma), so an anon_vma
// is freed only when the last of them is put.
//
// Locking (the order of mm/rmap.c's header): mmap_sem -> i_mmap -> anon_vma -> page_table_lock / pte
// lock. The anon_vma lock is the class LOCK_CLASS_ANON_VMA, whose type the machine configures: the
// *_read helpers take it shared only when that type is an rwsem (3.8 on), exclusively otherwise.
//
// Simplifications: find_mergeable_anon_vma looks only at vm_prev and vm_next, with the kernel's
// compatibility tests minus the mempolicy and the anon_vma-name checks; no anon_vma reuse in fork
// (4.0's degree heuristics): degree is informational (entries on the anon_vma's list); anon_vma_free
// does not do the kernel's lock/unlock dance against page_lock_anon_vma_read, because every walker
// here holds a reference (grab_anon_vma) while it locks; the slab keeps freed anon_vmas type-stable
// (as SLAB_TYPESAFE_BY_RCU) except for the debug build's poison word.
import { atomic_charge } from "../kernel/mm_charge";
import { PAGE_SHIFT } from "../config";
import { ENOMEM, EFAULT } from "../errno";
import { VM_BUG_ON } from "../debug";
import { lock_init, lock_acquire, lock_release, MODE_READ, MODE_WRITE } from "../locking/lock";
import { lock_class_type, LOCK_RWSEM, LOCK_CLASS_ANON_VMA } from "../locking/lock_types";
import { kmem_cache_alloc, kmem_cache_free } from "./slab";
import { __GFP_ZERO } from "./page_alloc";
import { mm_config_has } from "./mm_config";
import { MMC_AV_2625, MMC_RMAP_WALK_EXCL } from "../layout";
import { KMEM_ANON_VMA, KMEM_ANON_VMA_CHAIN, AV_LOCK, AV_ROOT, AV_REFCOUNT, AV_HEAD, AV_TAIL, AV_DEGREE,
  AVC_VMA, AVC_ANON_VMA, AVC_SAME_VMA, AVC_NEXT, AVC_PREV, VMA_MM, VMA_NEXT, VMA_PREV, VMA_START, VMA_END,
  VMA_FLAGS, VMA_PGOFF, VMA_FILE, VMA_ANON_VMA, VMA_ANON_VMA_CHAIN, VMA_AV_NODE_NEXT, VMA_AV_NODE_PREV,
  MM_PAGE_TABLE_LOCK, VM_READ, VM_WRITE, VM_EXEC, pfn_to_page, PAGE_FLAGS, PAGE_MAPCOUNT, PAGE_MAPPING,
  PAGE_INDEX, PAGE_MAPPING_ANON, PG_anon, PG_swapbacked } from "./mm_types";

// ---- the 2.6.25 switch ----------------------------------------------------------------------------

/** Is this machine on the 2.6.25 design (the anon_vma's list holds vmas, no chains)? */
// @ts-ignore: decorator
@inline export function anon_vma_2625(): bool {
  return mm_config_has(MMC_AV_2625);
}

// ---- allocation and references ---------------------------------------------------------------------

/** anon_vma_alloc - a new anon_vma: its own root, refcount 1, empty list. Returns it, or 0 (NULL). */
export function anon_vma_alloc(): usize {
  const av = kmem_cache_alloc(KMEM_ANON_VMA, __GFP_ZERO);
  if (av == 0) return 0;
  lock_init(av + AV_LOCK, LOCK_CLASS_ANON_VMA, 0);
  store<u32>(av + AV_ROOT, <u32>av);
  atomic.store<i32>(av + AV_REFCOUNT, 1);
  store<u32>(av + AV_HEAD, 0);
  store<u32>(av + AV_TAIL, 0);
  store<u32>(av + AV_DEGREE, 0);
  return av;
}

/** anon_vma_free - give an anon_vma whose refcount reached 0 back to its cache. */
function anon_vma_free(av: usize): void {
  VM_BUG_ON(atomic.load<i32>(av + AV_REFCOUNT) != 0, "anon_vma_free: refcount is not 0");
  VM_BUG_ON(load<u32>(av + AV_HEAD) != 0, "anon_vma_free: its list is not empty");
  kmem_cache_free(KMEM_ANON_VMA, av);
}

/** get_anon_vma - take a reference (seed 002). The caller already holds one, or the root's lock. */
export function get_anon_vma(av: usize): void {
  atomic_charge(1); // the locked add on the refcount
  atomic.add<i32>(av + AV_REFCOUNT, 1);
}

/**
 * put_anon_vma - drop a reference; the last one frees the anon_vma and drops its reference on its root
 * (__put_anon_vma). Holds no anon_vma lock on entry (it may free the lock's memory).
 */
export function put_anon_vma(av: usize): void {
  atomic_charge(1); // the locked sub on the refcount
  if (atomic.sub<i32>(av + AV_REFCOUNT, 1) != 1) return;
  const root = <usize>load<u32>(av + AV_ROOT);
  anon_vma_free(av);
  if (root != av && atomic.sub<i32>(root + AV_REFCOUNT, 1) == 1) anon_vma_free(root);
}

/**
 * grab_anon_vma - a reference on av unless it is already on its way to being freed (refcount 0):
 * atomic_inc_not_zero, seed 002's speculative reference for walkers that found av through a page.
 * Returns true with the reference taken.
 */
export function grab_anon_vma(av: usize): bool {
  let old = atomic.load<i32>(av + AV_REFCOUNT);
  while (old > 0) {
    atomic_charge(1); // each cmpxchg on the refcount
    const seen = atomic.cmpxchg<i32>(av + AV_REFCOUNT, old, old + 1);
    if (seen == old) return true;
    old = seen;
  }
  return false;
}

// ---- the root's lock ----------------------------------------------------------------------------

/**
 * The mode a read-side holder takes the anon_vma lock in: shared only when the class is an rwsem and
 * mm_config's MMC_RMAP_WALK_EXCL (walks exclusive, as briefly in 3.8) is clear.
 */
// @ts-ignore: decorator
@inline export function anon_vma_read_mode(): u32 {
  return lock_class_type(LOCK_CLASS_ANON_VMA) == LOCK_RWSEM && !mm_config_has(MMC_RMAP_WALK_EXCL) ? MODE_READ : MODE_WRITE;
}

/** anon_vma_lock_write - take av's root's lock exclusively. Holds no anon_vma lock on entry. */
export function anon_vma_lock_write(av: usize): void {
  lock_acquire(<usize>load<u32>(av + AV_ROOT) + AV_LOCK, MODE_WRITE, "anon_vma_lock_write");
}

/** anon_vma_unlock_write - release what anon_vma_lock_write(av) took. */
export function anon_vma_unlock_write(av: usize): void {
  lock_release(<usize>load<u32>(av + AV_ROOT) + AV_LOCK, MODE_WRITE);
}

/**
 * anon_vma_lock_read - take av's root's lock for a walk: shared with an rwsem class (3.8's
 * rmap_walk_anon), exclusively with a spinlock or mutex class (what the kernels of those eras did).
 */
export function anon_vma_lock_read(av: usize): void {
  lock_acquire(<usize>load<u32>(av + AV_ROOT) + AV_LOCK, anon_vma_read_mode(), "anon_vma_lock_read");
}

/** anon_vma_unlock_read - release what anon_vma_lock_read(av) took. */
export function anon_vma_unlock_read(av: usize): void {
  lock_release(<usize>load<u32>(av + AV_ROOT) + AV_LOCK, anon_vma_read_mode());
}

/**
 * lock_anon_vma_root - batch the root lock over a chain walk (3.0's fix for the exim regression):
 * switch from the root held (0 for none) to av's root. Returns the root now held.
 */
function lock_anon_vma_root(held: usize, av: usize): usize {
  const root = <usize>load<u32>(av + AV_ROOT);
  if (root != held) {
    if (held != 0) lock_release(held + AV_LOCK, MODE_WRITE);
    lock_acquire(root + AV_LOCK, MODE_WRITE, "lock_anon_vma_root");
  }
  return root;
}

function unlock_anon_vma_root(held: usize): void {
  if (held != 0) lock_release(held + AV_LOCK, MODE_WRITE);
}

// ---- anon_vma_chain (2.6.34) --------------------------------------------------------------------

function anon_vma_chain_alloc(): usize {
  return kmem_cache_alloc(KMEM_ANON_VMA_CHAIN, __GFP_ZERO);
}

function anon_vma_chain_free(avc: usize): void {
  kmem_cache_free(KMEM_ANON_VMA_CHAIN, avc);
}

/**
 * anon_vma_chain_link - fill avc for (vma, av), put it first on the vma's list (mmap_sem held for
 * write, or the vma not yet visible) and last on av's list (av's root lock held).
 */
function anon_vma_chain_link(vma: usize, avc: usize, av: usize): void {
  store<u32>(avc + AVC_VMA, <u32>vma);
  store<u32>(avc + AVC_ANON_VMA, <u32>av);
  store<u32>(avc + AVC_SAME_VMA, load<u32>(vma + VMA_ANON_VMA_CHAIN));
  store<u32>(vma + VMA_ANON_VMA_CHAIN, <u32>avc);
  av_list_add_tail(av, avc, AVC_NEXT, AVC_PREV);
}

// av's list is doubly linked through the entries' (next, prev) words: avcs, or vmas in 2.6.25.
function av_list_add_tail(av: usize, e: usize, next: usize, prev: usize): void {
  const tail = <usize>load<u32>(av + AV_TAIL);
  store<u32>(e + next, 0);
  store<u32>(e + prev, <u32>tail);
  if (tail == 0) store<u32>(av + AV_HEAD, <u32>e);
  else store<u32>(tail + next, <u32>e);
  store<u32>(av + AV_TAIL, <u32>e);
  store<u32>(av + AV_DEGREE, load<u32>(av + AV_DEGREE) + 1);
}

function av_list_del(av: usize, e: usize, next: usize, prev: usize): void {
  const n = <usize>load<u32>(e + next);
  const p = <usize>load<u32>(e + prev);
  if (p == 0) store<u32>(av + AV_HEAD, <u32>n);
  else store<u32>(p + next, <u32>n);
  if (n == 0) store<u32>(av + AV_TAIL, <u32>p);
  else store<u32>(n + prev, <u32>p);
  store<u32>(e + next, 0);
  store<u32>(e + prev, 0);
  store<u32>(av + AV_DEGREE, load<u32>(av + AV_DEGREE) - 1);
}

// ---- finding an anon_vma for a vma ----------------------------------------------------------------

/**
 * anon_vma_compatible - may vma b's anon_vma serve vma a (its neighbour)? Adjacent, both anonymous
 * (or the same file), the same flags but for VM_READ/WRITE/EXEC, and page offsets that continue.
 */
function anon_vma_compatible(a: usize, b: usize): bool {
  const ignore = VM_READ | VM_WRITE | VM_EXEC;
  if (load<u64>(a + VMA_END) != load<u64>(b + VMA_START)) return false;
  if (load<u32>(a + VMA_FILE) != load<u32>(b + VMA_FILE)) return false;
  if (((load<u32>(a + VMA_FLAGS) ^ load<u32>(b + VMA_FLAGS)) & ~ignore) != 0) return false;
  const pages = (load<u64>(a + VMA_END) - load<u64>(a + VMA_START)) >> PAGE_SHIFT;
  return <u64>load<u32>(a + VMA_PGOFF) + pages == <u64>load<u32>(b + VMA_PGOFF);
}

/**
 * reusable_anon_vma - old's anon_vma, when old is compatible with a (in the order given) and, with
 * chains, old's anon_vma is old's only one (list_is_singular: never share a forked anon_vma tree).
 */
function reusable_anon_vma(old: usize, a: usize, b: usize): usize {
  if (!anon_vma_compatible(a, b)) return 0;
  const av = <usize>load<u32>(old + VMA_ANON_VMA);
  if (av == 0) return 0;
  if (!anon_vma_2625()) {
    const first = <usize>load<u32>(old + VMA_ANON_VMA_CHAIN);
    if (first == 0 || load<u32>(first + AVC_SAME_VMA) != 0) return 0;
  }
  return av;
}

/**
 * find_mergeable_anon_vma - an anon_vma of vma's neighbour that vma could share, so that a later
 * vma_merge of the two is possible. mmap_sem held. Simplified: vm_next and vm_prev only.
 */
export function find_mergeable_anon_vma(vma: usize): usize {
  const next = <usize>load<u32>(vma + VMA_NEXT);
  if (next != 0) {
    const av = reusable_anon_vma(next, vma, next);
    if (av != 0) return av;
  }
  const prev = <usize>load<u32>(vma + VMA_PREV);
  if (prev != 0) return reusable_anon_vma(prev, prev, vma);
  return 0;
}

/**
 * anon_vma_prepare - give vma an anon_vma before its first anonymous page (the fault path).
 * mmap_sem held (for read is enough: concurrent faults race, and mm->page_table_lock decides).
 * Takes the anon_vma's root lock, then mm->page_table_lock inside it. Returns 0 (also when vma
 * already has one), or -ENOMEM.
 */
export function anon_vma_prepare(vma: usize): i32 {
  if (load<u32>(vma + VMA_ANON_VMA) != 0) return 0;
  const mm = <usize>load<u32>(vma + VMA_MM);
  const chains = !anon_vma_2625();
  let avc: usize = 0;
  if (chains) {
    avc = anon_vma_chain_alloc();
    if (avc == 0) return -ENOMEM;
  }
  let av = find_mergeable_anon_vma(vma);
  let allocated: usize = 0;
  if (av == 0) {
    av = anon_vma_alloc();
    if (av == 0) {
      if (avc != 0) anon_vma_chain_free(avc);
      return -ENOMEM;
    }
    allocated = av;
  }
  anon_vma_lock_write(av);
  lock_acquire(mm + MM_PAGE_TABLE_LOCK, MODE_WRITE, "anon_vma_prepare");
  if (load<u32>(vma + VMA_ANON_VMA) == 0) {
    store<u32>(vma + VMA_ANON_VMA, <u32>av);
    if (chains) {
      anon_vma_chain_link(vma, avc, av);
      avc = 0;
    } else {
      // 2.6.25: the vma joins the list; a new anon_vma's first reference is this vma's.
      av_list_add_tail(av, vma, VMA_AV_NODE_NEXT, VMA_AV_NODE_PREV);
      if (allocated == 0) get_anon_vma(av);
    }
    allocated = 0;
  }
  lock_release(mm + MM_PAGE_TABLE_LOCK, MODE_WRITE);
  anon_vma_unlock_write(av);
  if (allocated != 0) put_anon_vma(allocated);
  if (avc != 0) anon_vma_chain_free(avc);
  return 0;
}

// ---- clone, fork, unlink ----------------------------------------------------------------------

/**
 * anon_vma_clone - give dst the anon_vmas src has (split_vma, vma_merge's expansion, and fork's
 * first step). mmap_sem held for write. dst->anon_vma must already be what it should be (the
 * caller copied src's vma); dst's chain list is reset here, since that copy carried src's head.
 * Takes the roots' locks (batched). Returns 0, or -ENOMEM with dst left with no anon_vma.
 * 2.6.25: dst joins src's anon_vma's list (anon_vma_link).
 */
export function anon_vma_clone(dst: usize, src: usize): i32 {
  if (anon_vma_2625()) {
    const av = <usize>load<u32>(src + VMA_ANON_VMA);
    store<u32>(dst + VMA_ANON_VMA, <u32>av);
    store<u32>(dst + VMA_ANON_VMA_CHAIN, 0);
    if (av == 0) return 0;
    anon_vma_lock_write(av);
    get_anon_vma(av);
    av_list_add_tail(av, dst, VMA_AV_NODE_NEXT, VMA_AV_NODE_PREV);
    anon_vma_unlock_write(av);
    return 0;
  }
  store<u32>(dst + VMA_ANON_VMA_CHAIN, 0);
  // Walk src's chains in order, appending to dst's list, so dst's order is src's (the kernel walks
  // src in reverse and adds at the head).
  let root: usize = 0;
  let last: usize = 0;
  for (let pavc = <usize>load<u32>(src + VMA_ANON_VMA_CHAIN); pavc != 0; pavc = <usize>load<u32>(pavc + AVC_SAME_VMA)) {
    const avc = anon_vma_chain_alloc();
    if (avc == 0) {
      unlock_anon_vma_root(root);
      store<u32>(dst + VMA_ANON_VMA, 0);
      unlink_anon_vmas(dst);
      return -ENOMEM;
    }
    const av = <usize>load<u32>(pavc + AVC_ANON_VMA);
    root = lock_anon_vma_root(root, av);
    store<u32>(avc + AVC_VMA, <u32>dst);
    store<u32>(avc + AVC_ANON_VMA, <u32>av);
    store<u32>(avc + AVC_SAME_VMA, 0);
    if (last == 0) store<u32>(dst + VMA_ANON_VMA_CHAIN, <u32>avc);
    else store<u32>(last + AVC_SAME_VMA, <u32>avc);
    last = avc;
    av_list_add_tail(av, avc, AVC_NEXT, AVC_PREV);
  }
  unlock_anon_vma_root(root);
  return 0;
}

/**
 * anon_vma_fork - set up the anon_vmas of vma, the child's copy of pvma (dup_mmap). mmap_sem of the
 * parent held for write (the child's is not yet visible). With chains: vma gets pvma's chains and a
 * new anon_vma of its own, child of pvma's, sharing its root (and taking a reference on it). 2.6.25:
 * vma joins pvma's anon_vma. Returns 0, or -ENOMEM with vma left with no anon_vma.
 */
export function anon_vma_fork(vma: usize, pvma: usize): i32 {
  const pav = <usize>load<u32>(pvma + VMA_ANON_VMA);
  if (pav == 0) {
    store<u32>(vma + VMA_ANON_VMA, 0);
    store<u32>(vma + VMA_ANON_VMA_CHAIN, 0);
    return 0;
  }
  if (anon_vma_2625()) return anon_vma_clone(vma, pvma);
  store<u32>(vma + VMA_ANON_VMA, 0);
  const err = anon_vma_clone(vma, pvma);
  if (err != 0) return err;
  const av = anon_vma_alloc();
  const avc = av != 0 ? anon_vma_chain_alloc() : 0;
  if (avc == 0) {
    if (av != 0) put_anon_vma(av);
    unlink_anon_vmas(vma);
    return -ENOMEM;
  }
  const root = <usize>load<u32>(pav + AV_ROOT);
  store<u32>(av + AV_ROOT, <u32>root);
  get_anon_vma(root);
  store<u32>(vma + VMA_ANON_VMA, <u32>av);
  anon_vma_lock_write(av);
  anon_vma_chain_link(vma, avc, av);
  anon_vma_unlock_write(av);
  return 0;
}

/**
 * unlink_anon_vmas - take vma off every anon_vma list and free its chains; an anon_vma whose list
 * becomes empty loses its list's reference (and is freed when that was the last). mmap_sem held for
 * write, or the mm has no users (exit_mmap); called by free_pgtables before the page tables go (seed
 * 004). Takes the roots' locks (batched), and puts the anon_vmas only after releasing them.
 */
export function unlink_anon_vmas(vma: usize): void {
  if (anon_vma_2625()) {
    const av = <usize>load<u32>(vma + VMA_ANON_VMA);
    if (av == 0) return;
    anon_vma_lock_write(av);
    av_list_del(av, vma, VMA_AV_NODE_NEXT, VMA_AV_NODE_PREV);
    anon_vma_unlock_write(av);
    put_anon_vma(av);
    return;
  }
  // First pass, under the lock: off every anon_vma's list. Chains of anon_vmas left empty stay on
  // the vma's list, to be put outside the lock; the others are freed now.
  let root: usize = 0;
  let keep: usize = 0;
  let keep_last: usize = 0;
  let avc = <usize>load<u32>(vma + VMA_ANON_VMA_CHAIN);
  while (avc != 0) {
    const next = <usize>load<u32>(avc + AVC_SAME_VMA);
    const av = <usize>load<u32>(avc + AVC_ANON_VMA);
    root = lock_anon_vma_root(root, av);
    av_list_del(av, avc, AVC_NEXT, AVC_PREV);
    if (load<u32>(av + AV_HEAD) == 0) {
      store<u32>(avc + AVC_SAME_VMA, 0);
      if (keep_last == 0) keep = avc;
      else store<u32>(keep_last + AVC_SAME_VMA, <u32>avc);
      keep_last = avc;
    } else {
      anon_vma_chain_free(avc);
    }
    avc = next;
  }
  unlock_anon_vma_root(root);
  store<u32>(vma + VMA_ANON_VMA_CHAIN, 0);
  // Second pass, unlocked: the empty anon_vmas lose their list's reference. The tree's own anon_vmas
  // come before their root on the vma's list, so a root is put after its children.
  while (keep != 0) {
    const next = <usize>load<u32>(keep + AVC_SAME_VMA);
    put_anon_vma(<usize>load<u32>(keep + AVC_ANON_VMA));
    anon_vma_chain_free(keep);
    keep = next;
  }
}

// ---- page-level rmap ----------------------------------------------------------------------------

/** linear_page_index - the page offset that address has in vma's object (pagemap.h). */
// @ts-ignore: decorator
@inline export function linear_page_index(vma: usize, address: u64): u32 {
  return <u32>((address - load<u64>(vma + VMA_START)) >> PAGE_SHIFT) + load<u32>(vma + VMA_PGOFF);
}

/**
 * vma_address - where page pfn is (or would be) mapped in vma: from page->index. Returns the
 * address, or -EFAULT (as u64) when that falls outside vma.
 */
export function vma_address(pfn: u32, vma: usize): u64 {
  const index = <i64>load<u32>(pfn_to_page(pfn) + PAGE_INDEX);
  const addr = <i64>load<u64>(vma + VMA_START) + ((index - <i64>load<u32>(vma + VMA_PGOFF)) << PAGE_SHIFT);
  if (addr < <i64>load<u64>(vma + VMA_START) || addr >= <i64>load<u64>(vma + VMA_END)) return <u64>(-EFAULT);
  return <u64>addr;
}

/** PageAnon: is page->mapping an anon_vma? */
// @ts-ignore: decorator
@inline export function page_is_anon(pfn: u32): bool {
  return (load<u32>(pfn_to_page(pfn) + PAGE_MAPPING) & PAGE_MAPPING_ANON) != 0;
}

/** page_anon_vma - the anon_vma of an anonymous page, or 0. Stable only while the page is mapped or locked. */
// @ts-ignore: decorator
@inline export function page_anon_vma(pfn: u32): usize {
  const m = load<u32>(pfn_to_page(pfn) + PAGE_MAPPING);
  return (m & PAGE_MAPPING_ANON) != 0 ? <usize>(m & ~PAGE_MAPPING_ANON) : 0;
}

// __page_set_anon_rmap: point page at vma's anon_vma (exclusive: this vma's own one; else the
// oldest, the root, which every vma that may map the page reaches).
function page_set_anon_rmap(pfn: u32, vma: usize, address: u64, exclusive: bool): void {
  let av = <usize>load<u32>(vma + VMA_ANON_VMA);
  VM_BUG_ON(av == 0, "__page_set_anon_rmap: vma has no anon_vma (anon_vma_prepare first)");
  if (!exclusive) av = <usize>load<u32>(av + AV_ROOT);
  const page = pfn_to_page(pfn);
  store<u32>(page + PAGE_INDEX, linear_page_index(vma, address));
  atomic.or<u32>(page + PAGE_FLAGS, PG_anon);
  atomic.store<u32>(page + PAGE_MAPPING, <u32>av | PAGE_MAPPING_ANON);
}

/**
 * page_add_new_anon_rmap - the first mapping of a page new to this process (the anonymous fault, COW).
 * The PTE lock held; the page not yet visible to anyone else. Sets _mapcount to 0, PG_anon and
 * PG_swapbacked, mapping = vma->anon_vma | PAGE_MAPPING_ANON, index = its linear page index. The
 * caller counts RSS.
 */
export function page_add_new_anon_rmap(pfn: u32, vma: usize, address: u64): void {
  const page = pfn_to_page(pfn);
  VM_BUG_ON(address < load<u64>(vma + VMA_START) || address >= load<u64>(vma + VMA_END), "page_add_new_anon_rmap: address outside the vma");
  atomic.or<u32>(page + PAGE_FLAGS, PG_swapbacked);
  atomic.store<i32>(page + PAGE_MAPCOUNT, 0);
  page_set_anon_rmap(pfn, vma, address, true);
}

/**
 * page_add_anon_rmap - one more mapping of an anonymous page (remove_migration_pte, swap-in). The
 * PTE lock held; the page locked (or otherwise stable). The first mapping sets mapping/index (to the
 * root anon_vma: not exclusive); later ones leave them. The caller counts RSS.
 */
export function page_add_anon_rmap(pfn: u32, vma: usize, address: u64): void {
  const page = pfn_to_page(pfn);
  atomic_charge(1); // the locked add on _mapcount
  const first = atomic.add<i32>(page + PAGE_MAPCOUNT, 1) == -1;
  if (first) page_set_anon_rmap(pfn, vma, address, false);
  else VM_BUG_ON(page_anon_vma(pfn) == 0, "page_add_anon_rmap: a mapped page without an anon_vma");
}

/**
 * page_add_file_rmap - one more mapping of a page-cache page (mapping/index were set when it entered
 * the page cache). The PTE lock held. The caller counts RSS.
 */
export function page_add_file_rmap(pfn: u32): void {
  atomic_charge(1); // the locked add on _mapcount
  atomic.add<i32>(pfn_to_page(pfn) + PAGE_MAPCOUNT, 1);
}

/**
 * page_dup_rmap - one more mapping of a page already mapped (fork's copy_one_pte). Both PTE locks held.
 */
export function page_dup_rmap(pfn: u32): void {
  atomic_charge(1); // the locked add on _mapcount
  const old = atomic.add<i32>(pfn_to_page(pfn) + PAGE_MAPCOUNT, 1);
  VM_BUG_ON(old < 0, "page_dup_rmap: the page is not mapped");
}

/**
 * page_remove_rmap - one mapping fewer. The PTE lock held. An anonymous page keeps its mapping after
 * the last one goes (put_page clears it when the page is freed: a racing page_add_anon_rmap may have
 * set it). Returns true when that was the last mapping. The caller counts RSS.
 */
export function page_remove_rmap(pfn: u32): bool {
  atomic_charge(1); // the locked sub on _mapcount
  const old = atomic.sub<i32>(pfn_to_page(pfn) + PAGE_MAPCOUNT, 1);
  VM_BUG_ON(old < 0, "page_remove_rmap: mapcount underflow");
  return old == 0;
}
