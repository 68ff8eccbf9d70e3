// Experiment rmap-locks (issue 5): "spinlock or rwsem?" for the anon_vma lock, asked by the rmap storm.
// Walker and writer throughput for the anon_vma lock as a ticket spinlock, an adaptive mutex, an rwsem
// whose walks are exclusive and an rwsem whose walks are shared, each with and without seed 003's
// lockless special case, as CPUs grow and as the fork tree grows.
//
// One run per (configuration, fork tree, CPU count): a fresh VirtualMachine of era 3.16 (rwsem-spin
// mmap_sem, mutex-spin i_mmap, anon_vma_chain, split PTE locks) with the configuration's anon_vma lock
// type and switches; on CPU 0, the tree's root mmaps `pages` anonymous pages and writes each (its own
// anon_vma, the tree's root anon_vma), then forks `width` children, each of which forks `width`
// children, down to `depth` levels: the pages are mapped (COW, read-only) in every process of the tree,
// and every anon_vma of the tree shares the root's lock. Then, all at once in timed mode:
//   - walker CPUs (the first `walkers`) run assembly/lib/rmap_storm.ts job_rmap_walker over the root's
//     pages: page_referenced from seed 003's page-table-locked caller, and every 4th walk a migration;
//   - writer CPUs (the rest) run job_rmap_writer, each as one process of the tree (the leaves first, the
//     root last): fork + exit of a child, mmap + touch + munmap of `writerPages` pages.
// Every CPU runs until its virtual clock reaches `budgetCycles` (the budget is fixed; the operations
// done in it are counted). Throughput per role = operations / the role's elapsed virtual time (the
// latest final clock among its CPUs, cycles / the profile's GHz).
//
// Deterministic: the same options give the same result object (and JSON), bit for bit. Host time is
// not part of the result.
import { emptyRunLockStat, lockStatDiff, type RunLockStat } from "./lock-diff.js";
import { VirtualMachine } from "../sched/virtual-machine.js";
import { MmModel, type Process } from "../mm/process.js";
import { constant } from "../core/abi.js";
import { ConfigError, MmemuError } from "../core/errors.js";
import type { CostProfile } from "../cost/profile.js";
import { DEFAULT_PROFILE } from "../cost/default-profile.js";
import type { LockSpec } from "../locking/lock-config.js";
import { MAX_CPUS } from "../options.js";
import { era as eraByName, type Era } from "./eras.js";

/** The era every configuration starts from (its other locks and switches). */
export const RMAP_LOCKS_BASE_ERA = "3.16";

/** An anon_vma lock configuration. */
export interface RmapLockConfig {
  /** spinlock, mutex, rwsem-excl, rwsem-shared; "+lockless" when seed 003's case is on. */
  name: string;
  anonVmaLock: LockSpec;
  /** How rmap walks take the anon_vma lock: shared only with an rwsem whose walks are not made exclusive. */
  walks: "exclusive" | "shared";
  /** mm.rmapLockless: seed 003's lockless special case. */
  lockless: boolean;
}

const BASE_CONFIGS: { name: string; anonVmaLock: LockSpec; walkExclusive: boolean }[] = [
  { name: "spinlock", anonVmaLock: "ticket", walkExclusive: false },        // 2.6.x .. 2.6.39
  { name: "mutex", anonVmaLock: "mutex-spin", walkExclusive: false },       // 3.0 .. 3.7
  { name: "rwsem-excl", anonVmaLock: "rwsem-spin", walkExclusive: true },   // 3.8's first commit: an rwsem, walks still exclusive
  { name: "rwsem-shared", anonVmaLock: "rwsem-spin", walkExclusive: false }, // 3.8+: walks take it for read
];

/** Every configuration, in table order: each base configuration without and with the lockless case. */
export const RMAP_LOCK_CONFIGS: readonly RmapLockConfig[] = BASE_CONFIGS.flatMap((c) => [false, true].map((lockless) => ({
  name: c.name + (lockless ? "+lockless" : ""), anonVmaLock: c.anonVmaLock, walks: c.walkExclusive || c.anonVmaLock !== "rwsem-spin" ? "exclusive" : "shared",
  lockless,
} as RmapLockConfig)));
export const RMAP_LOCK_CONFIG_NAMES: readonly string[] = RMAP_LOCK_CONFIGS.map((c) => c.name);

export interface RmapTree { width: number; depth: number }

export interface RmapLocksOptions {
  /** Configuration names (RMAP_LOCK_CONFIG_NAMES); default all eight. */
  configs?: string[];
  /** CPU counts (walkers + writers); default [2, 4, 8]. */
  cpus?: number[];
  /** Walker CPUs per run (the rest write); default half the CPUs, rounded up, leaving at least one writer. */
  walkers?: number;
  /** Fork trees (width x depth); default RMAP_DEFAULT_TREES (2x2: 7 processes, 4x2: 21). depth 0: the root alone. */
  trees?: RmapTree[];
  /** Pages the root maps, touches and shares with the tree (the walkers' pages); default 64. */
  pages?: number;
  /** Pages a writer mmaps, touches and munmaps per cycle; default 4. */
  writerPages?: number;
  /** Virtual-time budget of every CPU, in cycles; default 20,000,000. */
  budgetCycles?: number;
  /** Seed of the timed schedule; default 1. */
  seed?: number;
  mode?: "timed";
  profile?: CostProfile;
  debug?: boolean;
  /** Run the MM invariant checker after each run (default true); its violations go in the run. */
  check?: boolean;
  onProgress?: (done: number, total: number, label: string) => void;
}

/** Lock statistics of one class over one run (lock-diff.ts). */
export type RmapLockStat = RunLockStat;

export interface RmapLocksRun {
  config: string;
  anonVmaLock: LockSpec;
  walks: "exclusive" | "shared";
  lockless: boolean;
  cpus: number;
  walkers: number;
  writers: number;
  width: number;
  depth: number;
  /** Processes in the tree at the start (the root included). */
  processes: number;
  /** Walker operations: page_referenced walks + migrations + skipped (a page in flight). */
  walkerOps: number;
  referencedWalks: number;
  /** page_referenced walks that took seed 003's lockless path (no anon_vma lock). */
  locklessWalks: number;
  migrations: number;
  skippedWalks: number;
  /** Writer operations: forks + exits + mmaps + munmaps. */
  writerOps: number;
  forks: number;
  exits: number;
  mmaps: number;
  munmaps: number;
  /** Elapsed virtual time of each role (the latest final clock of its CPUs). */
  walkerCycles: number;
  writerCycles: number;
  walkerOpsPerSec: number;
  writerOpsPerSec: number;
  /** The anon_vma class's statistics (all zero if it was never taken). */
  anonVma: RmapLockStat;
  /** Every class acquired during the run. */
  locks: RmapLockStat[];
  schedulerSwitches: number;
  digest: string;
  /** The MM invariant checker's findings after the run (empty: clean; null: not checked). */
  invariantViolations: string[] | null;
}

export interface RmapLocksResult {
  experiment: "rmap-locks";
  mode: "timed";
  seed: number;
  baseEra: string;
  cpus: number[];
  walkers: number | null;
  trees: RmapTree[];
  pages: number;
  writerPages: number;
  budgetCycles: number;
  migrateEvery: number;
  ghz: number;
  profile: string;
  configs: RmapLockConfig[];
  runs: RmapLocksRun[];
  notes: string[];
}

export const RMAP_LOCKS_NOTES: readonly string[] = [
  "timed mode: deterministic virtual time from the cost model; the same options and seed give the same figures",
  "every CPU runs for the same virtual-time budget; throughput = operations done / the role's elapsed virtual time",
  "virtual time charges the locks (atomics, cache-line transfers, spins, sleeps, wake-ups, context switches), the " +
    "writers' mmap/munmap system-call entry/exit (not fork's or exit's), and the MM core's memory traffic at cache-line granularity (kernel/mm_charge.ts): here " +
    "page_referenced's PTE atomics (ptep_test_and_clear_young), migration's PTE clears and migration-entry stores, fork's " +
    "copy_page_range (PTE writes, get_page and page_dup_rmap atomics, rss), the writers' page allocation and zeroing, " +
    "slab objects, vma lookups and TLB-shootdown IPIs; not charged: migration's copy of the page contents (migrate.ts " +
    "copies without a charge), plain loads of lines already held, and instruction execution between the loads, so " +
    "critical sections are shorter than a real kernel's and contention is exaggerated: compare configurations, not magnitudes",
  "seed 003's lockless case needs a chain of length one (vma->anon_vma its own root, refcount 1): pages shared by a fork tree " +
    "never qualify, so it changes nothing here unless the tree is the root alone (depth 0) between the writers' forks",
  "lock wait percentiles (p50/p90/p99, JSON wait.p50 ...) come from lock_stat's per-CPU log2 wait histogram (wait.histogram: " +
    "bucket k holds waits in [2^k, 2^(k+1)) cycles): the upper bound of the bucket holding the percentile, capped at the run's " +
    "maximum wait, so at most twice the true figure and never below it",
];

export const RMAP_LOCKS_RUN_FIELDS: readonly (keyof RmapLocksRun)[] = ["config", "anonVmaLock", "walks", "lockless", "cpus", "walkers",
  "writers", "width", "depth", "processes", "walkerOps", "referencedWalks", "locklessWalks", "migrations", "skippedWalks", "writerOps",
  "forks", "exits", "mmaps", "munmaps", "walkerCycles", "writerCycles", "walkerOpsPerSec", "writerOpsPerSec", "anonVma", "locks",
  "schedulerSwitches", "digest", "invariantViolations"];

export const RMAP_DEFAULT_CPUS = [2, 4, 8];
export const RMAP_DEFAULT_TREES: readonly RmapTree[] = [{ width: 2, depth: 2 }, { width: 4, depth: 2 }];

/** Processes in a tree: 1 + w + w^2 + ... + w^d. */
export function treeSize(t: RmapTree): number {
  let n = 1, level = 1;
  for (let d = 0; d < t.depth; d++) { level *= t.width; n += level; }
  return n;
}

const MAX_PROCESSES = 256;

function int(what: string, v: unknown, lo: number, hi: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < lo || v > hi) throw new ConfigError(`${what}: ${String(v)} is out of range (${lo}..${hi})`);
  return v;
}

function resolve(o: RmapLocksOptions) {
  if (o === null || typeof o !== "object") throw new ConfigError("rmap-locks: expected an options object");
  const names = o.configs ?? [...RMAP_LOCK_CONFIG_NAMES];
  if (!Array.isArray(names) || names.length === 0) throw new ConfigError("configs: expected a non-empty list");
  const configs = names.map((n) => {
    const c = RMAP_LOCK_CONFIGS.find((x) => x.name === n);
    if (!c) throw new ConfigError(`configs: unknown configuration "${String(n)}" (known: ${RMAP_LOCK_CONFIG_NAMES.join(", ")})`);
    return c;
  });
  const cpus = o.cpus ?? RMAP_DEFAULT_CPUS;
  if (!Array.isArray(cpus) || cpus.length === 0) throw new ConfigError("cpus: expected a non-empty list of CPU counts");
  for (const c of cpus) int("cpus", c, 2, MAX_CPUS);
  const walkers = o.walkers === undefined ? null : int("walkers", o.walkers, 1, MAX_CPUS - 1);
  if (walkers !== null) {
    for (const c of cpus) if (c <= walkers) throw new ConfigError(`walkers: ${walkers} walkers leave no writer CPU with ${c} CPUs`);
  }
  const trees = o.trees ?? RMAP_DEFAULT_TREES;
  if (!Array.isArray(trees) || trees.length === 0) throw new ConfigError("trees: expected a non-empty list of { width, depth }");
  for (const t of trees) {
    if (t === null || typeof t !== "object") throw new ConfigError("trees: expected { width, depth }");
    int("width", t.width, 1, 16);
    int("depth", t.depth, 0, 8);
    if (treeSize(t) > MAX_PROCESSES) throw new ConfigError(`tree ${t.width}x${t.depth}: ${treeSize(t)} processes (at most ${MAX_PROCESSES})`);
  }
  const pages = int("pages", o.pages ?? 64, 1, 4096);
  const writerPages = int("writerPages", o.writerPages ?? 4, 1, 512);
  const budgetCycles = int("budgetCycles", o.budgetCycles ?? 20_000_000, 1000, 1e12);
  const seed = o.seed ?? 1;
  if (!Number.isSafeInteger(seed) || seed < 0) throw new ConfigError(`seed: ${String(seed)} is not a non-negative integer`);
  if ((o.mode ?? "timed") !== "timed") throw new ConfigError(`mode: "${String(o.mode)}" is not available for rmap-locks yet (timed)`);
  for (const t of trees) {
    for (const c of cpus) {
      const w = walkers ?? Math.ceil(c / 2);
      if (c - w > treeSize(t)) {
        throw new ConfigError(`tree ${t.width}x${t.depth} has ${treeSize(t)} processes: too few for ${c - w} writers (one process each)`);
      }
    }
  }
  return { configs, cpus: [...cpus], walkers, trees: trees.map((t) => ({ width: t.width, depth: t.depth })), pages, writerPages,
    budgetCycles, seed, debug: o.debug ?? false, check: o.check ?? true };
}


const NO_LOCK: RmapLockStat = emptyRunLockStat("anon_vma");

function configEra(c: RmapLockConfig): Era {
  return eraByName(RMAP_LOCKS_BASE_ERA, { locks: { anon_vma: c.anonVmaLock },
    mm: { rmapLockless: c.lockless, rmapWalkExclusive: c.walks === "exclusive" && c.anonVmaLock === "rwsem-spin" } });
}

/** One (configuration, tree, CPU count) run. */
function runOne(r: ReturnType<typeof resolve>, c: RmapLockConfig, tree: RmapTree, n: number, profile: CostProfile | undefined): RmapLocksRun {
  const e = configEra(c);
  const vm = VirtualMachine.create({ cpus: n, memory: "32MiB", debug: r.debug, locks: e.locks, mm: e.mm, ...(profile ? { profile } : {}) });
  const x = vm.exports;
  const model = new MmModel(vm.mmu);
  const root = model.spawn({ cpu: 0 });
  const va = root.mmap(r.pages * 4096);
  if (va < 0n) throw new MmemuError(`rmap-locks: the root's mmap failed (${va})`);
  for (let p = 0; p < r.pages; p++) {
    if (root.write(va + BigInt(p * 4096), p + 1, { cpu: 0 }) !== 0) throw new MmemuError("rmap-locks: the root could not touch its pages");
  }
  // The tree, breadth first; writers take its processes leaves first (the root last).
  const levels: Process[][] = [[root]];
  for (let d = 0; d < tree.depth; d++) {
    const next: Process[] = [];
    for (const p of levels[d]!) {
      for (let k = 0; k < tree.width; k++) {
        const ch = p.fork({ cpu: 0 });
        if (typeof ch === "number") throw new MmemuError(`rmap-locks: fork failed (${ch})`);
        next.push(ch);
      }
    }
    levels.push(next);
  }
  const order = levels.slice().reverse().flat();
  model.idle({ cpu: 0 }); // every CPU idle: each writer job makes its process current on its own CPU
  const walkers = r.walkers ?? Math.ceil(n / 2);
  const writers = n - walkers;
  const outSize = constant(x, "RMAP_OUT_SIZE");
  const outs = Array.from({ length: n }, () => vm.alloc(outSize));
  const maxops = 0xffff_ffff;
  const budget = BigInt(r.budgetCycles);
  const jobs = outs.map((out, cpu) => cpu < walkers
    ? { cpu, job: "rmap_walker", args: [root.pid, va, r.pages, budget, maxops, out] }
    : { cpu, job: "rmap_writer", args: [order[cpu - walkers]!.pid, r.writerPages, budget, maxops, out] });
  const before = vm.mmu.lockStats();
  const res = vm.run({ mode: "timed", seed: r.seed, jobs });
  for (const cr of res.cpus) {
    if (cr.result < 0n) throw new MmemuError(`rmap-locks: ${c.name}, ${n} CPUs: CPU ${cr.cpu}'s ${cr.job} job returned ${cr.result} (a negative errno)`);
  }
  const after = vm.mmu.lockStats();
  const field = (cpu: number, name: string) => Number(vm.read64(outs[cpu]! + constant(x, name as "RMAP_OUT_OPS")));
  const sum = (from: number, to: number, name: string) => { let s = 0; for (let k = from; k < to; k++) s += field(k, name); return s; };
  const maxClock = (from: number, to: number) => res.cpus.slice(from, to).reduce((m, cr) => Math.max(m, Number(cr.clock)), 0);
  const ghz = vm.costs.ghz;
  const walkerCycles = maxClock(0, walkers), writerCycles = maxClock(walkers, n);
  const walkerOps = sum(0, walkers, "RMAP_OUT_OPS"), writerOps = sum(walkers, n, "RMAP_OUT_OPS");
  const locks = lockStatDiff(before, after);
  let invariantViolations: string[] | null = null;
  if (r.check) {
    for (let cpu = 0; cpu < n; cpu++) model.idle({ cpu });
    invariantViolations = model.check().violations;
  }
  return {
    config: c.name, anonVmaLock: c.anonVmaLock, walks: c.walks, lockless: c.lockless, cpus: n, walkers, writers,
    width: tree.width, depth: tree.depth, processes: treeSize(tree),
    walkerOps, referencedWalks: sum(0, walkers, "RMAP_OUT_REFERENCED"), locklessWalks: sum(0, walkers, "RMAP_OUT_LOCKLESS"),
    migrations: sum(0, walkers, "RMAP_OUT_MIGRATED"), skippedWalks: sum(0, walkers, "RMAP_OUT_SKIPPED"),
    writerOps, forks: sum(walkers, n, "RMAP_OUT_FORKS"), exits: sum(walkers, n, "RMAP_OUT_EXITS"),
    mmaps: sum(walkers, n, "RMAP_OUT_MMAPS"), munmaps: sum(walkers, n, "RMAP_OUT_MUNMAPS"),
    walkerCycles, writerCycles,
    walkerOpsPerSec: walkerCycles > 0 ? walkerOps / (walkerCycles / (ghz * 1e9)) : 0,
    writerOpsPerSec: writerCycles > 0 ? writerOps / (writerCycles / (ghz * 1e9)) : 0,
    anonVma: locks.find((l) => l.class === "anon_vma") ?? { ...NO_LOCK },
    locks, schedulerSwitches: res.switches, digest: res.digest, invariantViolations,
  };
}

/**
 * Run the experiment (synchronously; every run in virtual time). Throws ConfigError for bad options
 * and MmemuError when a job fails (its negative errno named).
 */
export function runRmapLocks(options: RmapLocksOptions = {}): RmapLocksResult {
  const r = resolve(options);
  const total = r.configs.length * r.trees.length * r.cpus.length;
  const runs: RmapLocksRun[] = [];
  for (const c of r.configs) {
    for (const t of r.trees) {
      for (const n of r.cpus) {
        runs.push(runOne(r, c, t, n, options.profile));
        options.onProgress?.(runs.length, total, `${c.name}, tree ${t.width}x${t.depth}, ${n} CPUs`);
      }
    }
  }
  const profile = options.profile ?? DEFAULT_PROFILE;
  return { experiment: "rmap-locks", mode: "timed", seed: r.seed, baseEra: RMAP_LOCKS_BASE_ERA, cpus: r.cpus, walkers: r.walkers,
    trees: r.trees, pages: r.pages, writerPages: r.writerPages, budgetCycles: r.budgetCycles, migrateEvery: 4,
    ghz: profile.ghz, profile: profile.description ?? "", configs: r.configs.map((c) => ({ ...c })), runs, notes: [...RMAP_LOCKS_NOTES] };
}

/** The result as a terminal table, one row per run. */
export function formatRmapLocks(res: RmapLocksResult, table: (h: string[], rows: string[][]) => string): string {
  const f = (v: number, d = 0) => v.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
  const rows = res.runs.map((run) => {
    const av = run.anonVma;
    return [run.config, `${run.width}x${run.depth}`, String(run.cpus), `${run.walkers}/${run.writers}`, f(run.walkerOpsPerSec),
      f(run.writerOpsPerSec), f(run.locklessWalks), `${f(av.readAcquisitions)}/${f(av.writeAcquisitions)}`, f(av.contentions), f(av.sleeps),
      f(av.wait.avgCycles), f(av.wait.p99), run.invariantViolations === null ? "-" : run.invariantViolations.length === 0 ? "ok" : "FAIL"];
  });
  const head = `rmap-locks: ${res.pages} shared pages, base era ${res.baseEra}, ${f(res.budgetCycles)} cycles per CPU, ` +
    `timed (virtual time at ${res.ghz} GHz), seed ${res.seed}`;
  const t = table(["config", "tree", "cpus", "walk/write", "walker ops/s", "writer ops/s", "lockless", "av read/write",
    "av cont", "av sleeps", "av wait cyc", "av p99 wait", "mm check"], rows);
  return `${head}\n\n${t}\n\nnotes:\n${res.notes.map((n) => `  - ${n}`).join("\n")}`;
}
