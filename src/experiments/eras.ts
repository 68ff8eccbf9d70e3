// Eras: bundles of kernel behaviour (issue 5). An era is a machine's lock type per lock class (the
// `locks` option, src/locking/lock-config.ts) plus the MM switches (the `mm` option, src/options.ts),
// each switch with the source that dates it. Sources: ../shared/notes/kernel-history.md (cited as
// "history: <section line>") and the seeds (/work/shared/seeds, "seed 002" etc.).
//
// What every era shares, unless it says otherwise:
//   - page_table_lock, pte_lock, swap_lock, mmlist_lock: ticket spinlocks (x86 ticket locks from
//     2.6.25; these stayed spinlocks through every era here).
//   - splitPtlock true: split page-table locks (CONFIG_SPLIT_PTLOCK_CPUS, 2.6.15 "mm: split page table
//     lock", Hugh Dickins) are on for SMP builds of 4+ CPUs in every era listed. Source: the kernel's
//     mm/Kconfig; not in the notes.
//   - mmap_sem: an rwsem, of the implementation of the era (the rwsem changes of 3.9 and 3.16 were
//     to the rwsem code, so they apply to mmap_sem as much as to the anon_vma lock; history: "3.8",
//     "3.16"). Before 3.9 up_read/up_write granted the lock to the queued waiters (rwsem-handoff).
//   - rmapLockless false: seed 003's lockless rmap_walk_anon case was a proposal (Linus, 2012), not a
//     kernel's behaviour; set it per experiment.
import { ConfigError } from "../core/errors.js";
import { checkLockSpec, type LockSpec } from "../locking/lock-config.js";
import { resolveMmOptions, type MmOptions, type ResolvedMmOptions } from "../options.js";

/** The lock classes an era sets (every MM class; the torture classes are the torture test's own). */
export const ERA_LOCK_CLASSES = ["mmap_sem", "i_mmap", "anon_vma", "page_table_lock", "pte_lock", "swap_lock", "mmlist_lock"] as const;
export type EraLockClass = (typeof ERA_LOCK_CLASSES)[number];

export interface Era {
  name: string;
  /** One line: what changed in this era. */
  summary: string;
  /** Where the era's behaviour is documented (kernel-history.md section, seed). */
  source: string;
  locks: Record<EraLockClass, LockSpec>;
  mm: ResolvedMmOptions;
}

/** Overrides of single switches on top of an era. */
export interface EraOverrides {
  locks?: Partial<Record<EraLockClass, string>>;
  mm?: MmOptions;
}

const SPIN = { page_table_lock: "ticket", pte_lock: "ticket", swap_lock: "ticket", mmlist_lock: "ticket" } as const;

const ERA_LIST: Era[] = [
  {
    name: "2.6.25",
    summary: "spinlock anon_vma and i_mmap locks; forked vmas share one anon_vma; vma_adjust always takes the anon_vma lock",
    // history: "2.6.x: anon_vma->lock is a spinlock; vma_adjust() takes it whenever the vma has an anon_vma,
    // so every brk takes it once. Before anon_vma_chain (2.6.34) a forked child's vmas join the parent's
    // single anon_vma: forked processes share one lock."
    source: "kernel-history.md: 2.6.x anon_vma spinlock; seed 002 (the base it patches)",
    locks: { mmap_sem: "rwsem-handoff", i_mmap: "ticket", anon_vma: "ticket", ...SPIN },
    mm: { anonVma: "shared", vmaAdjustAnonLock: "always", rmapLockless: false, splitPtlock: true, rmapWalkExclusive: false },
  },
  {
    name: "2008-rwsem",
    summary: "seed 002 applied to 2.6.25: anon_vma lock and i_mmap_lock become rwsems with FIFO handoff, anon_vma refcount",
    // seed 002 (Arcangeli/Lameter, Apr 2008): "anon_vma spinlock -> rw semaphore, i_mmap_lock -> i_mmap_sem";
    // the 2008 rwsem's up_xxx "lets waiting tasks run first" (history: "Apr 2008 (seed 002)"): rwsem-handoff.
    // Never merged. The anon_vma refcount is part of the core's anon_vma in every era.
    source: "seed 002 (002_dba1ac1a18bb275c.txt); kernel-history.md: Apr 2008",
    locks: { mmap_sem: "rwsem-handoff", i_mmap: "rwsem-handoff", anon_vma: "rwsem-handoff", ...SPIN },
    mm: { anonVma: "shared", vmaAdjustAnonLock: "always", rmapLockless: false, splitPtlock: true, rmapWalkExclusive: false },
  },
  {
    name: "2.6.31",
    summary: "Lee Schermerhorn's change: vma_adjust skips the anon_vma lock when only vm_end changes (brk growth)",
    // history: "2009 (Lee Schermerhorn): ... skipping the anon_vma lock when only vm_end changes settled it
    // at ~130K (+3.9% on 2.6.31-rc6)". Merged for 2.6.32 (assembly/layout.ts MMC_VMA_ADJUST_ANON_ALWAYS);
    // the era list names it 2.6.31 after the kernel it was measured on.
    source: "kernel-history.md: 2009 (Lee Schermerhorn)",
    locks: { mmap_sem: "rwsem-handoff", i_mmap: "ticket", anon_vma: "ticket", ...SPIN },
    mm: { anonVma: "shared", vmaAdjustAnonLock: "when-needed", rmapLockless: false, splitPtlock: true, rmapWalkExclusive: false },
  },
  {
    name: "2.6.34",
    summary: "anon_vma_chain: each forked vma gets its own anon_vma, every helper locks the root's lock",
    // history: "2.6.34: anon_vma_chain (AVC); later every helper locks anon_vma->root's lock (all anon_vmas
    // of a fork tree share it)".
    source: "kernel-history.md: 2.6.34",
    locks: { mmap_sem: "rwsem-handoff", i_mmap: "ticket", anon_vma: "ticket", ...SPIN },
    mm: { anonVma: "chain", vmaAdjustAnonLock: "when-needed", rmapLockless: false, splitPtlock: true, rmapWalkExclusive: false },
  },
  {
    name: "3.0",
    summary: "anon_vma lock and i_mmap_lock become mutexes (preemptible mmu_gather)",
    // history: "3.0 (Peter Zijlstra, preemptible mmu_gather): anon_vma lock and i_mmap_lock become mutexes".
    // The 3.0 mutex spins on a running owner (adaptive spinning, "mutex: implement adaptive spinning",
    // Peter Zijlstra, 2.6.30; kernel/mutex.c, not in the notes): "mutex-spin". Override with "mutex" for
    // a mutex that always sleeps.
    source: "kernel-history.md: 3.0 (Peter Zijlstra); kernel/mutex.c adaptive spinning since 2.6.30",
    locks: { mmap_sem: "rwsem-handoff", i_mmap: "mutex-spin", anon_vma: "mutex-spin", ...SPIN },
    mm: { anonVma: "chain", vmaAdjustAnonLock: "when-needed", rmapLockless: false, splitPtlock: true, rmapWalkExclusive: false },
  },
  {
    name: "3.8",
    summary: "anon_vma mutex -> rwsem, rmap walks take it shared; strict FIFO writer handoff",
    // history: "3.8 (Ingo Molnar): anon_vma mutex -> rwsem; rmap walks (rmap_walk_anon, try_to_unmap_anon)
    // take it for read. Side effect: aim7 fork_test -50% from strict FIFO writer handoff". i_mmap stays a
    // mutex until 3.19 (history: "3.19").
    source: "kernel-history.md: 3.8 (Ingo Molnar)",
    locks: { mmap_sem: "rwsem-handoff", i_mmap: "mutex-spin", anon_vma: "rwsem-handoff", ...SPIN },
    mm: { anonVma: "chain", vmaAdjustAnonLock: "when-needed", rmapLockless: false, splitPtlock: true, rmapWalkExclusive: false },
  },
  {
    name: "3.9",
    summary: "rwsem writer lock-stealing: woken writers retry, a running writer may take the lock first",
    // history: "writer lock-stealing recovered it fully" (the 3.8 entry); the issue dates it 3.9.
    source: "kernel-history.md: 3.8 entry (writer lock-stealing); issue 5 era list",
    locks: { mmap_sem: "rwsem-steal", i_mmap: "mutex-spin", anon_vma: "rwsem-steal", ...SPIN },
    mm: { anonVma: "chain", vmaAdjustAnonLock: "when-needed", rmapLockless: false, splitPtlock: true, rmapWalkExclusive: false },
  },
  {
    name: "3.16",
    summary: "rwsem optimistic spinning on a running writer owner",
    // history: "3.16 (2014): rwsem optimistic spinning; 'on par with mutex'".
    source: "kernel-history.md: 3.16",
    locks: { mmap_sem: "rwsem-spin", i_mmap: "mutex-spin", anon_vma: "rwsem-spin", ...SPIN },
    mm: { anonVma: "chain", vmaAdjustAnonLock: "when-needed", rmapLockless: false, splitPtlock: true, rmapWalkExclusive: false },
  },
];

/** The eras by name, in history order. */
export const ERAS: ReadonlyMap<string, Era> = new Map(ERA_LIST.map((e) => [e.name, e]));
export const ERA_NAMES: readonly string[] = ERA_LIST.map((e) => e.name);

/**
 * The era called name, with overrides of single switches applied (a copy: the table is not changed).
 * A ConfigError for an unknown era, lock class, lock type or mm switch, naming what is known.
 */
export function era(name: string, overrides: EraOverrides = {}): Era {
  const e = ERAS.get(name);
  if (e === undefined) throw new ConfigError(`unknown era "${name}" (eras: ${ERA_NAMES.join(", ")})`);
  if (overrides === null || typeof overrides !== "object") throw new ConfigError("era overrides: expected { locks?, mm? }");
  const locks = { ...e.locks };
  for (const [cls, spec] of Object.entries(overrides.locks ?? {})) {
    if (!(ERA_LOCK_CLASSES as readonly string[]).includes(cls)) {
      throw new ConfigError(`era ${name}: unknown lock class "${cls}" (classes: ${ERA_LOCK_CLASSES.join(", ")})`);
    }
    locks[cls as EraLockClass] = checkLockSpec(`era ${name}: locks.${cls}`, spec);
  }
  const mm = resolveMmOptions({ ...e.mm, ...(overrides.mm ?? {}) });
  return { ...e, locks, mm };
}

/** The machine options (locks, mm) that make a machine behave as era e. */
export function eraMachineOptions(e: Era): { locks: Record<string, string>; mm: ResolvedMmOptions } {
  return { locks: { ...e.locks }, mm: { ...e.mm } };
}
