// Lock classes, the kernel's lock order, and the lock types and policies a machine can give each class.
//
// THE LOCK ORDER (mm/rmap.c's header comment, abridged to the classes modelled; kernel-history.md):
//
//     mmap_sem -> i_mmap -> anon_vma -> page_table_lock / pte lock -> swap_lock -> mmlist_lock
//
// It lives here once, as data: lock_class_rank below. Lockdep (locking/lockdep.ts) checks every
// acquisition against it; classes of rank RANK_NONE (the torture classes) are ordered only by what
// lockdep observes at run time.
//
// Every lock in the model is a struct mm_lock (locking/lock.ts) whose behaviour is its class's type
// and policy, chosen per machine (an "era" picks them for all classes at once):
//
//   LOCK_TICKET   ticket spinlock, FIFO (x86 Linux from 2.6.25)
//   LOCK_TAS      test-and-test-and-set spinlock (for comparison)
//   LOCK_MUTEX    sleeping mutex (3.0's anon_vma and i_mmap); policy MUTEX_OPT_SPIN: spin on a running owner
//   LOCK_RWSEM    readers-writer semaphore with sleeping waiters; policies:
//                   RWSEM_HANDOFF   2008 (seed 002): up_read/up_write hand the lock to the waiters at the
//                                   head of the queue in FIFO order: waiting tasks run first
//                   RWSEM_STEAL     3.9: waiters are woken, not handed the lock; a running writer may steal it
//                   RWSEM_OPT_SPIN  3.16: with RWSEM_STEAL, a writer spins on a running writer owner
//   LOCK_BROKEN   a deliberately broken lock (test, then set, non-atomically) that exists only so the
//                 torture test can prove it catches a lock that does not exclude
//
//  struct lock_class (LOCK_CLASS_STRIDE bytes in the machine header)
//   +0 type u8 | +1 policy u8 | +2 flags u16 (LC_*) | +4 reserved
import { machine_base, HDR_LOCK_CLASSES } from "../layout";
import { MAX_LOCK_CLASSES } from "../config";
import { EINVAL } from "../errno";

export const LOCK_CLASS_MMAP_SEM: i32 = 0;
export const LOCK_CLASS_I_MMAP: i32 = 1;
export const LOCK_CLASS_ANON_VMA: i32 = 2;
export const LOCK_CLASS_PAGE_TABLE_LOCK: i32 = 3;
export const LOCK_CLASS_PTE_LOCK: i32 = 4;
export const LOCK_CLASS_SWAP_LOCK: i32 = 5;
export const LOCK_CLASS_MMLIST_LOCK: i32 = 6;
export const LOCK_CLASS_TORTURE_A: i32 = 7;
export const LOCK_CLASS_TORTURE_B: i32 = 8;
export const NR_LOCK_CLASSES: i32 = 9;

export const RANK_NONE: i32 = -1;

/** The class's name, as lock_stat and lockdep reports print it. */
export function lock_class_name(c: i32): string {
  switch (c) {
    case LOCK_CLASS_MMAP_SEM: return "mmap_sem";
    case LOCK_CLASS_I_MMAP: return "i_mmap";
    case LOCK_CLASS_ANON_VMA: return "anon_vma";
    case LOCK_CLASS_PAGE_TABLE_LOCK: return "page_table_lock";
    case LOCK_CLASS_PTE_LOCK: return "pte_lock";
    case LOCK_CLASS_SWAP_LOCK: return "swap_lock";
    case LOCK_CLASS_MMLIST_LOCK: return "mmlist_lock";
    case LOCK_CLASS_TORTURE_A: return "torture_a";
    case LOCK_CLASS_TORTURE_B: return "torture_b";
    default: return "";
  }
}

/**
 * The kernel's lock order as data: a lock of class c may be taken while holding one of class h only
 * if rank(h) < rank(c). page_table_lock and the split pte locks share a rank: the kernel never nests
 * them. Classes with RANK_NONE are not part of the declared order.
 */
export function lock_class_rank(c: i32): i32 {
  switch (c) {
    case LOCK_CLASS_MMAP_SEM: return 0;
    case LOCK_CLASS_I_MMAP: return 1;
    case LOCK_CLASS_ANON_VMA: return 2;
    case LOCK_CLASS_PAGE_TABLE_LOCK: return 3;
    case LOCK_CLASS_PTE_LOCK: return 3;
    case LOCK_CLASS_SWAP_LOCK: return 4;
    case LOCK_CLASS_MMLIST_LOCK: return 5;
    default: return RANK_NONE;
  }
}

export const LOCK_TICKET: u8 = 0;
export const LOCK_TAS: u8 = 1;
export const LOCK_MUTEX: u8 = 2;
export const LOCK_RWSEM: u8 = 3;
export const LOCK_BROKEN: u8 = 4;
export const NR_LOCK_TYPES: u8 = 5;

export const MUTEX_OPT_SPIN: u8 = 1 << 0;
export const RWSEM_HANDOFF: u8 = 1 << 1;
export const RWSEM_STEAL: u8 = 1 << 2;
export const RWSEM_OPT_SPIN: u8 = 1 << 3;
export const LOCK_POLICY_MASK: u8 = MUTEX_OPT_SPIN | RWSEM_HANDOFF | RWSEM_STEAL | RWSEM_OPT_SPIN;

/** Class flag: time acquisitions for lock_stat (wait and hold times). */
export const LC_TIMED: u16 = 1 << 0;

const LC_TYPE: usize = 0;
const LC_POLICY: usize = 1;
const LC_FLAGS: usize = 2;

// @ts-ignore: decorator
@inline function lock_class_ptr(c: i32): usize {
  return machine_base + HDR_LOCK_CLASSES + <usize>c * 16;
}

// @ts-ignore: decorator
@inline export function lock_class_type(c: i32): u8 {
  return load<u8>(lock_class_ptr(c) + LC_TYPE);
}

// @ts-ignore: decorator
@inline export function lock_class_policy(c: i32): u8 {
  return load<u8>(lock_class_ptr(c) + LC_POLICY);
}

// @ts-ignore: decorator
@inline export function lock_class_flags(c: i32): u16 {
  return load<u16>(lock_class_ptr(c) + LC_FLAGS);
}

/**
 * lock_class_set - give class c a lock type, policy and flags. Only before CPUs run (the locks of a
 * class must not change type while held). Returns 0, or -EINVAL for an unknown class, type,
 * policy bits, a policy that does not belong to the type (MUTEX_OPT_SPIN on a mutex; RWSEM_* on an
 * rwsem, RWSEM_HANDOFF excluding RWSEM_STEAL, RWSEM_OPT_SPIN requiring RWSEM_STEAL) or flags.
 */
export function lock_class_set(c: i32, type: u8, policy: u8, flags: u16): i32 {
  if (c < 0 || c >= NR_LOCK_CLASSES || type >= NR_LOCK_TYPES || (policy & ~LOCK_POLICY_MASK) != 0) return -EINVAL;
  if ((flags & ~LC_TIMED) != 0) return -EINVAL;
  if (type == LOCK_MUTEX && (policy & ~MUTEX_OPT_SPIN) != 0) return -EINVAL;
  if (type == LOCK_RWSEM) {
    if ((policy & MUTEX_OPT_SPIN) != 0) return -EINVAL;
    if ((policy & RWSEM_HANDOFF) != 0 && (policy & RWSEM_STEAL) != 0) return -EINVAL;
    if ((policy & RWSEM_OPT_SPIN) != 0 && (policy & RWSEM_STEAL) == 0) return -EINVAL;
  }
  if (type != LOCK_MUTEX && type != LOCK_RWSEM && policy != 0) return -EINVAL;
  const p = lock_class_ptr(c);
  store<u8>(p + LC_TYPE, type);
  store<u8>(p + LC_POLICY, policy);
  store<u16>(p + LC_FLAGS, flags);
  return 0;
}

/**
 * lock_classes_init - the default machine: every class a ticket spinlock except mmap_sem, an rwsem
 * that steals (the modern kernel's behaviour). Runs in machine_init.
 */
export function lock_classes_init(): void {
  for (let c = 0; c < MAX_LOCK_CLASSES; c++) {
    const p = lock_class_ptr(c);
    store<u8>(p + LC_TYPE, LOCK_TICKET);
    store<u8>(p + LC_POLICY, 0);
    store<u16>(p + LC_FLAGS, 0);
  }
  lock_class_set(LOCK_CLASS_MMAP_SEM, LOCK_RWSEM, RWSEM_STEAL, 0);
}

if (NR_LOCK_CLASSES > MAX_LOCK_CLASSES) ERROR("lock_types: more classes than MAX_LOCK_CLASSES");
