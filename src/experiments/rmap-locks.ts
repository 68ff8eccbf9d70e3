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
// Timed mode (the default) is deterministic: the same options give the same result object (and JSON),
// bit for bit; host time is not part of the result. Parallel mode (mode: "parallel", asynchronous) sets
// up the same tree on a machine of worker CPUs (src/experiments/parallel.ts) and runs the same jobs for
// real, with a host-time budget instead of the cycle budget: every CPU runs `budgetNs` nanoseconds of
// host time (the jobs read the host's monotonic clock in the parallel build), so the roles overlap for
// the whole run as in timed mode. There walkerCycles/writerCycles and the lock wait/hold figures are
// host nanoseconds (timeUnit "ns"), schedulerSwitches is 0 and digest ""; figures are host-dependent
// and not reproducible (the notes say so). CPU counts are limited to the host's cores.
import { resolveTimeout, resolveSeed, resolveMode, resolveCpus, resolveBudgets, intIn, runGrid, type ExperimentOptions } from "./grid.js";
import { emptyRunLockStat, lockStatDiff, type RunLockStat } from "./lock-diff.js";
import { VirtualMachine } from "../sched/virtual-machine.js";
import { MmModel, type Process } from "../mm/process.js";
import { constant } from "../core/abi.js";
import { ConfigError, MmemuError } from "../core/errors.js";
import type { CostProfile } from "../cost/profile.js";
import { DEFAULT_PROFILE } from "../cost/default-profile.js";
import type { LockSpec } from "../locking/lock-config.js";
import { era as eraByName, type Era } from "./eras.js";
import { MAX_CPUS } from "../options.js";
import type { Mmu } from "../mmu.js";
import type { JobSpec } from "../sched/jobs.js";
import { hostCores, PARALLEL_NOTE, warmupBudgetNs, withParallelMachine } from "./parallel.js";

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

export interface RmapLocksOptions extends ExperimentOptions {
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
  /** timed: virtual-time budget of every CPU, in cycles; default 20,000,000. */
  budgetCycles?: number;
  /** parallel: host-time budget of every CPU, in nanoseconds; default 20,000,000 (20 ms). */
  budgetNs?: number;
  /** Seed of the timed schedule; default 1. */
  seed?: number;
  /** Run the MM invariant checker after each run (default true); its violations go in the run. */
  check?: boolean;
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
  /** Elapsed time of each role (the latest final budget clock of its CPUs): virtual cycles, or host ns in parallel mode (timeUnit). */
  walkerCycles: number;
  writerCycles: number;
  walkerOpsPerSec: number;
  writerOpsPerSec: number;
  /** The anon_vma class's statistics (all zero if it was never taken). */
  anonVma: RmapLockStat;
  /** Every class acquired during the run. */
  locks: RmapLockStat[];
  /** Scheduler switches and the schedule's digest (timed); 0 and "" in parallel mode (no schedule is recorded). */
  schedulerSwitches: number;
  digest: string;
  /** parallel: host time of the run, the start barrier's release to the last CPU's end, ns (null in timed mode). */
  hostElapsedNs: number | null;
  /** The MM invariant checker's findings after the run (empty: clean; null: not checked). */
  invariantViolations: string[] | null;
}

export interface RmapLocksResult {
  experiment: "rmap-locks";
  mode: "timed" | "parallel";
  /** Unit of walkerCycles/writerCycles and the lock wait/hold (fields named *Cycles): virtual cycles (timed) or host ns (parallel). */
  timeUnit: "cycles" | "ns";
  /** parallel: the host's cores (os.availableParallelism()); null in timed mode. */
  hostCores: number | null;
  /** The timed schedule's seed (no effect in parallel mode). */
  seed: number;
  baseEra: string;
  cpus: number[];
  walkers: number | null;
  trees: RmapTree[];
  pages: number;
  writerPages: number;
  /** Every CPU's budget: virtual cycles (timed; null in parallel mode) or host ns (parallel; null in timed mode). */
  budgetCycles: number | null;
  budgetNs: number | null;
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
  "schedulerSwitches", "digest", "hostElapsedNs", "invariantViolations"];

export const RMAP_DEFAULT_CPUS = [2, 4, 8];
export const RMAP_DEFAULT_TREES: readonly RmapTree[] = [{ width: 2, depth: 2 }, { width: 4, depth: 2 }];

/** Processes in a tree: 1 + w + w^2 + ... + w^d. */
export function treeSize(t: RmapTree): number {
  let n = 1, level = 1;
  for (let d = 0; d < t.depth; d++) { level *= t.width; n += level; }
  return n;
}

const MAX_PROCESSES = 256;


function resolve(o: RmapLocksOptions) {
  if (o === null || typeof o !== "object") throw new ConfigError("rmap-locks: expected an options object");
  const names = o.configs ?? [...RMAP_LOCK_CONFIG_NAMES];
  if (!Array.isArray(names) || names.length === 0) throw new ConfigError("configs: expected a non-empty list");
  const configs = names.map((n) => {
    const c = RMAP_LOCK_CONFIGS.find((x) => x.name === n);
    if (!c) throw new ConfigError(`configs: unknown configuration "${String(n)}" (known: ${RMAP_LOCK_CONFIG_NAMES.join(", ")})`);
    return c;
  });
  const mode = resolveMode("rmap-locks", o.mode);
  const cpus = resolveCpus(o.cpus, RMAP_DEFAULT_CPUS, mode, 2);
  const walkers = o.walkers === undefined ? null : intIn("walkers", o.walkers, 1, MAX_CPUS - 1);
  if (walkers !== null) {
    for (const c of cpus) if (c <= walkers) throw new ConfigError(`walkers: ${walkers} walkers leave no writer CPU with ${c} CPUs`);
  }
  const trees = o.trees ?? RMAP_DEFAULT_TREES;
  if (!Array.isArray(trees) || trees.length === 0) throw new ConfigError("trees: expected a non-empty list of { width, depth }");
  for (const t of trees) {
    if (t === null || typeof t !== "object") throw new ConfigError("trees: expected { width, depth }");
    intIn("width", t.width, 1, 16);
    intIn("depth", t.depth, 0, 8);
    if (treeSize(t) > MAX_PROCESSES) throw new ConfigError(`tree ${t.width}x${t.depth}: ${treeSize(t)} processes (at most ${MAX_PROCESSES})`);
  }
  const pages = intIn("pages", o.pages ?? 64, 1, 4096);
  const writerPages = intIn("writerPages", o.writerPages ?? 4, 1, 512);
  const { budgetCycles, budgetNs } = resolveBudgets(mode, o, 20_000_000, 20_000_000);
  const seed = resolveSeed(o.seed);
  const timeoutMs = resolveTimeout(o.timeoutMs);
  for (const t of trees) {
    for (const c of cpus) {
      const w = walkers ?? Math.ceil(c / 2);
      if (c - w > treeSize(t)) {
        throw new ConfigError(`tree ${t.width}x${t.depth} has ${treeSize(t)} processes: too few for ${c - w} writers (one process each)`);
      }
    }
  }
  return { configs, cpus, walkers, trees: trees.map((t) => ({ width: t.width, depth: t.depth })), pages, writerPages,
    budgetCycles, budgetNs, seed, mode, timeoutMs, debug: o.debug ?? false, check: o.check ?? true };
}


const NO_LOCK: RmapLockStat = emptyRunLockStat("anon_vma");

function configEra(c: RmapLockConfig): Era {
  return eraByName(RMAP_LOCKS_BASE_ERA, { locks: { anon_vma: c.anonVmaLock },
    mm: { rmapLockless: c.lockless, rmapWalkExclusive: c.walks === "exclusive" && c.anonVmaLock === "rwsem-spin" } });
}

interface RmapSetup {
  model: MmModel;
  walkers: number;
  writers: number;
  outs: number[];
  /** The run's jobs with a budget (cycles or ns), writing their reports to outs or (report false) none. */
  jobs: (budget: bigint, report: boolean) => JobSpec[];
}

/**
 * The tree on a booted machine (timed or parallel), from the host thread, and the run's jobs. Leaves
 * every CPU idle.
 */
function setUp(mmu: Mmu, r: ReturnType<typeof resolve>, tree: RmapTree, n: number, alloc: (bytes: number) => number): RmapSetup {
  const model = new MmModel(mmu);
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
  const outSize = constant(mmu.exports, "RMAP_OUT_SIZE");
  const outs = Array.from({ length: n }, () => alloc(outSize));
  const maxops = 0xffff_ffff;
  const jobs = (budget: bigint, report: boolean) => outs.map((o, cpu): JobSpec => {
    const out = report ? o : 0;
    return cpu < walkers
      ? { cpu, job: "rmap_walker", args: [root.pid, va, r.pages, budget, maxops, out] }
      : { cpu, job: "rmap_writer", args: [order[cpu - walkers]!.pid, r.writerPages, budget, maxops, out] };
  });
  return { model, walkers, writers: n - walkers, outs, jobs };
}

/** The run's figures from the jobs' reports; perSec converts a role's elapsed clock to seconds. */
function collect(mmu: Mmu, r: ReturnType<typeof resolve>, c: RmapLockConfig, tree: RmapTree, n: number, s: RmapSetup,
  m: { results: bigint[]; locks: RmapLockStat[]; toSeconds: (clock: number) => number; schedulerSwitches: number; digest: string;
    hostElapsedNs: number | null }, read64: (addr: number) => bigint): RmapLocksRun {
  const x = mmu.exports;
  m.results.forEach((res, cpu) => {
    if (res < 0n) {
      throw new MmemuError(`rmap-locks: ${c.name}, ${n} CPUs: CPU ${cpu}'s ${cpu < s.walkers ? "rmap_walker" : "rmap_writer"} job returned ${res} (a negative errno)`);
    }
  });
  const { walkers } = s;
  const field = (cpu: number, name: string) => Number(read64(s.outs[cpu]! + constant(x, name as "RMAP_OUT_OPS")));
  const sum = (from: number, to: number, name: string) => { let t = 0; for (let k = from; k < to; k++) t += field(k, name); return t; };
  const maxClock = (from: number, to: number) => { let t = 0; for (let k = from; k < to; k++) t = Math.max(t, field(k, "RMAP_OUT_CLOCK")); return t; };
  const walkerCycles = maxClock(0, walkers), writerCycles = maxClock(walkers, n);
  const walkerOps = sum(0, walkers, "RMAP_OUT_OPS"), writerOps = sum(walkers, n, "RMAP_OUT_OPS");
  let invariantViolations: string[] | null = null;
  if (r.check) {
    for (let cpu = 0; cpu < n; cpu++) s.model.idle({ cpu });
    invariantViolations = s.model.check().violations;
  }
  return {
    config: c.name, anonVmaLock: c.anonVmaLock, walks: c.walks, lockless: c.lockless, cpus: n, walkers, writers: s.writers,
    width: tree.width, depth: tree.depth, processes: treeSize(tree),
    walkerOps, referencedWalks: sum(0, walkers, "RMAP_OUT_REFERENCED"), locklessWalks: sum(0, walkers, "RMAP_OUT_LOCKLESS"),
    migrations: sum(0, walkers, "RMAP_OUT_MIGRATED"), skippedWalks: sum(0, walkers, "RMAP_OUT_SKIPPED"),
    writerOps, forks: sum(walkers, n, "RMAP_OUT_FORKS"), exits: sum(walkers, n, "RMAP_OUT_EXITS"),
    mmaps: sum(walkers, n, "RMAP_OUT_MMAPS"), munmaps: sum(walkers, n, "RMAP_OUT_MUNMAPS"),
    walkerCycles, writerCycles,
    walkerOpsPerSec: walkerCycles > 0 ? walkerOps / m.toSeconds(walkerCycles) : 0,
    writerOpsPerSec: writerCycles > 0 ? writerOps / m.toSeconds(writerCycles) : 0,
    anonVma: m.locks.find((l) => l.class === "anon_vma") ?? { ...NO_LOCK },
    locks: m.locks, schedulerSwitches: m.schedulerSwitches, digest: m.digest, hostElapsedNs: m.hostElapsedNs, invariantViolations,
  };
}

/** One (configuration, tree, CPU count) run in virtual time. */
function runOne(r: ReturnType<typeof resolve>, c: RmapLockConfig, tree: RmapTree, n: number, profile: CostProfile | undefined): RmapLocksRun {
  const e = configEra(c);
  const vm = VirtualMachine.create({ cpus: n, memory: "32MiB", debug: r.debug, locks: e.locks, mm: e.mm, ...(profile ? { profile } : {}) });
  const s = setUp(vm.mmu, r, tree, n, (b) => vm.alloc(b));
  const before = vm.mmu.lockStats();
  const res = vm.run({ mode: "timed", seed: r.seed, jobs: s.jobs(BigInt(r.budgetCycles!), true) });
  const after = vm.mmu.lockStats();
  const ghz = vm.costs.ghz;
  return collect(vm.mmu, r, c, tree, n, s, { results: res.cpus.map((cr) => cr.result), locks: lockStatDiff(before, after),
    toSeconds: (cycles) => cycles / (ghz * 1e9), schedulerSwitches: res.switches, digest: res.digest, hostElapsedNs: null },
  (a) => vm.read64(a));
}

/** One (configuration, tree, CPU count) run on worker CPUs, for real, with the host-time budget (parallel.ts). */
async function runOneParallel(r: ReturnType<typeof resolve>, c: RmapLockConfig, tree: RmapTree, n: number): Promise<RmapLocksRun> {
  const e = configEra(c);
  return withParallelMachine({ cpus: n, memory: "32MiB", debug: r.debug, locks: e.locks, mm: e.mm, timeoutMs: r.timeoutMs }, async (pm) => {
    const s = setUp(pm.mmu, r, tree, n, (b) => pm.alloc(b));
    // Warm-up, unmeasured, without reports (parallel.ts); the writers' children exit again.
    await pm.warmUp(s.jobs(warmupBudgetNs(r.budgetNs!), false), `rmap-locks: ${c.name}, ${n} CPUs`);
    const res = await pm.run(s.jobs(BigInt(r.budgetNs!), true));
    return collect(pm.mmu, r, c, tree, n, s, { results: res.cpus.map((cr) => cr.result), locks: res.locks,
      toSeconds: (ns) => ns / 1e9, schedulerSwitches: 0, digest: "", hostElapsedNs: res.elapsedNs }, (a) => pm.read64(a));
  });
}

/**
 * Run the experiment. Timed mode (the default): synchronous, every run in virtual time; throws
 * ConfigError for bad options and MmemuError when a job fails (its negative errno named). Parallel mode
 * (options.mode "parallel"): returns a Promise of the same result, every run on worker CPUs with the
 * host-time budget; bad options (a CPU count above the host's cores among them) throw the ConfigError
 * before any machine is made; it rejects with MmemuError for a failed job, CpuDiedError / CpuStuckError
 * for a dead or stuck worker.
 */
/** Whether no run's MM invariant check found a violation. */
export const rmapOk = (r: RmapLocksResult) => r.runs.every((x) => x.invariantViolations === null || x.invariantViolations.length === 0);

export function runRmapLocks(options: RmapLocksOptions & { mode: "parallel" }): Promise<RmapLocksResult>;
export function runRmapLocks(options?: RmapLocksOptions & { mode?: "timed" }): RmapLocksResult;
export function runRmapLocks(options?: RmapLocksOptions): RmapLocksResult | Promise<RmapLocksResult>;
export function runRmapLocks(options: RmapLocksOptions = {}): RmapLocksResult | Promise<RmapLocksResult> {
  const r = resolve(options);
  return runGrid({
    mode: r.mode, points: r.configs.flatMap((c) => r.trees.flatMap((t) => r.cpus.map((n) => ({ c, t, n })))),
    label: ({ c, t, n }) => `${c.name}, tree ${t.width}x${t.depth}, ${n} CPUs`,
    timed: ({ c, t, n }) => runOne(r, c, t, n, options.profile), parallel: ({ c, t, n }) => runOneParallel(r, c, t, n),
    onProgress: options.onProgress, finish: (runs) => finish(r, options, runs),
  });
}

/** The parallel notes: PARALLEL_NOTE, the budget and units, then the timed notes that still apply. */
export const RMAP_LOCKS_PARALLEL_NOTES: readonly string[] = [
  PARALLEL_NOTE,
  "every CPU runs for the same host-time budget (budgetNs; the jobs read the host's monotonic clock); throughput = " +
    "operations done / the role's elapsed host time; walkerCycles, writerCycles and lock wait/hold are host nanoseconds " +
    "(timeUnit), lock times measured with two clock reads per acquisition and one per release inside the run; " +
    "schedulerSwitches is 0 and digest is empty; the seed has no effect; every CPU first runs its job unmeasured for a " +
    "tenth of the budget, at least 100 ms (the workers' JIT tier-up)",
  "the emulated CPUs are worker threads running the core's Wasm, as many as the host has cores at most: the host's " +
    "cores, caches and scheduler decide who contends; compare configurations on the same host and run",
  RMAP_LOCKS_NOTES[3]!,
];

function finish(r: ReturnType<typeof resolve>, options: RmapLocksOptions, runs: RmapLocksRun[]): RmapLocksResult {
  const profile = options.profile ?? DEFAULT_PROFILE;
  const parallel = r.mode === "parallel";
  return { experiment: "rmap-locks", mode: r.mode, timeUnit: parallel ? "ns" : "cycles", hostCores: parallel ? hostCores() : null,
    seed: r.seed, baseEra: RMAP_LOCKS_BASE_ERA, cpus: r.cpus, walkers: r.walkers,
    trees: r.trees, pages: r.pages, writerPages: r.writerPages, budgetCycles: r.budgetCycles, budgetNs: r.budgetNs, migrateEvery: 4,
    ghz: profile.ghz, profile: profile.description ?? "", configs: r.configs.map((c) => ({ ...c })), runs,
    notes: [...(parallel ? RMAP_LOCKS_PARALLEL_NOTES : RMAP_LOCKS_NOTES)] };
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
  const head = res.mode === "parallel"
    ? `rmap-locks: ${res.pages} shared pages, base era ${res.baseEra}, ${f(res.budgetNs ?? 0)} ns of host time per CPU, ` +
      `parallel (worker threads, host time on ${res.hostCores ?? "?"} cores: not reproducible)`
    : `rmap-locks: ${res.pages} shared pages, base era ${res.baseEra}, ${f(res.budgetCycles ?? 0)} cycles per CPU, ` +
      `timed (virtual time at ${res.ghz} GHz), seed ${res.seed}`;
  const t = table(["config", "tree", "cpus", "walk/write", "walker ops/s", "writer ops/s", "lockless", "av read/write",
    "av cont", "av sleeps", res.timeUnit === "ns" ? "av wait ns" : "av wait cyc", res.timeUnit === "ns" ? "av p99 wait ns" : "av p99 wait cyc", "mm check"], rows);
  return `${head}\n\n${t}\n\nnotes:\n${res.notes.map((n) => `  - ${n}`).join("\n")}`;
}
