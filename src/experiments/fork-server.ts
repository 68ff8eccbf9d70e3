// Experiment fork-server (issue 5): fork-heavy workloads per era and CPU count, with the lock
// statistics that explain them. ../shared/notes/kernel-history.md:
//   - exim (MOSBENCH): 3.0's anon_vma mutex cost -52% on 40 cores, contention in anon_vma_clone,
//     unlink_anon_vmas, anon_vma_fork and anon_vma_free on the fork tree's root lock;
//   - AIM7 fork_test: 3.8's anon_vma rwsem with strict FIFO writer handoff cost -50%, recovered fully
//     by 3.9's writer lock-stealing; 3.16's optimistic spinning "on par with mutex".
// The history experiment calls runForkServer with those eras (its contract: the types below).
//
// One run per (era, CPU count): a fresh VirtualMachine with the era's lock types and MM switches; on
// CPU 0 a master process gets a heap (brk, every page touched: an anon_vma and present pages) and two
// more touched anonymous mappings (libc's data and the daemon's stack, in spirit), then forks one
// daemon per CPU. Every daemon's vmas share the master's root anon_vma lock (2.6.34+: anon_vma_chain)
// or its one anon_vma (before). Then every CPU runs, in timed mode, until its virtual clock passes
// the budget (assembly/lib/fork_server.ts):
//   - exim: job_fork_server: per message, fork a child, switch to it, the child writes `touchPages` of
//     the COW-shared heap (a COW fault each), mmaps + touches + munmaps `bufferPages` pages (with
//     `deliver`: in a grandchild it forks, as MOSBENCH's receiver forks to deliver), exits; the daemon
//     reaps it. ops = messages.
//   - fork_test: job_aim7_fork: fork, the child exits at once, the parent waits. ops = fork + exit pairs.
// Throughput = ops / the makespan (the latest final clock, cycles / the profile's GHz). After each run
// every CPU goes idle, the MM invariant checker runs, and the live task_struct, mm_struct, anon_vma and
// anon_vma_chain objects are compared with those before the run (a child left behind is a violation).
//
// Message sizes (varySizes, default true): each message draws its COW-touched pages uniformly from
// 1..2*touchPages-1 and its buffer pages from 1..2*bufferPages-1 (the same means), from a generator
// seeded by the size seed ((seed mod 32767) + 1, so each run's seed picks its sizes) and the daemon's
// pid (so CPUs differ). Identical messages let the daemons' identical loops phase-lock into a stagger
// in deterministic virtual time and stop contending; real mail varies (MOSBENCH's exim delivers
// messages of varied sizes). varySizes false: every message the same (size seed 0).
//
// Deterministic: the same options give the same result object (and JSON), bit for bit. Host time is
// not part of the result. Parallel mode (mode: "parallel", asynchronous) sets up the same tree on a
// machine of worker CPUs (src/experiments/parallel.ts) and runs the same jobs for real with a host-time
// budget (budgetNs: the jobs read the host's monotonic clock in the parallel build), after an
// unmeasured warm-up of a tenth of it (at least 100 ms); makespanCycles and lock wait/hold are then host ns (timeUnit),
// digest is "" and the figures are host-dependent; the invariant and leak checks run as in timed mode.
import { resolveSeed, resolveMode, resolveEras, resolveCpus, resolveBudgets, intIn, runGrid, type ExperimentOptions } from "./grid.js";
import { lockStatDiff, type RunLockStat } from "./lock-diff.js";
import { VirtualMachine } from "../sched/virtual-machine.js";
import { MmModel, type Process } from "../mm/process.js";
import { constant, type CoreExports } from "../core/abi.js";
import { ConfigError, MmemuError } from "../core/errors.js";
import type { CostProfile } from "../cost/profile.js";
import { DEFAULT_PROFILE } from "../cost/default-profile.js";
import type { Era } from "./eras.js";
import type { Mmu } from "../mmu.js";
import type { JobSpec } from "../sched/jobs.js";
import { hostCores, PARALLEL_NOTE, warmupBudgetNs, withParallelMachine } from "./parallel.js";

export type ForkServerWorkload = "exim" | "fork_test";

export interface ForkServerOptions extends ExperimentOptions {
  /** exim (the MOSBENCH-like fork server, default) or fork_test (AIM7). */
  workload?: ForkServerWorkload;
  /** Era names or eras (with overrides from eras.ts era()); default FORK_SERVER_DEFAULT_ERAS. */
  eras?: (string | Era)[];
  /** CPU counts, one daemon per CPU; default [1, 2, 4, 8]. */
  cpus?: number[];
  /** timed: virtual cycles every CPU runs (checked before each op); default FORK_SERVER_DEFAULT_BUDGET. */
  budgetCycles?: number;
  /** parallel: host-time budget of every CPU, in nanoseconds; default FORK_SERVER_DEFAULT_BUDGET_NS. */
  budgetNs?: number;
  /** Seed of the timed schedule and of the message sizes; default 1. */
  seed?: number;
  /** exim: pages of the master's heap (COW-shared by the whole tree); default 32. */
  heapPages?: number;
  /** exim: heap pages each message's child writes (a COW fault each); default 4. */
  touchPages?: number;
  /** exim: pages of the buffer each message mmaps, touches and munmaps; default 4. */
  bufferPages?: number;
  /** exim: the child forks again to deliver (MOSBENCH's second fork); default false: one fork per message. */
  deliver?: boolean;
  /** exim: message sizes vary around touchPages and bufferPages (see the top of this file); default true. */
  varySizes?: boolean;
}

export interface ForkServerRun {
  era: string;
  cpus: number;
  workload: string;
  /** Messages (exim) or fork + exit pairs (fork_test), all CPUs. */
  ops: number;
  opsPerSec: number;
  forks: number;
  exits: number;
  /** Page faults taken during the jobs (COW faults on the heap, the buffer's faults), all CPUs. */
  faults: number;
  /** Sleeps of every lock class (a waiter gave up its CPU) per op. */
  contextSwitchesPerOp: number;
  /** Time from start to the last CPU's end: virtual cycles, or host ns in parallel mode (timeUnit). */
  makespanCycles: number;
  seconds: number;
  /** The schedule's digest (equal runs have equal digests); "" in parallel mode. */
  digest: string;
  /** parallel: host time of the run, the start barrier's release to the last CPU's end, ns (null in timed mode). */
  hostElapsedNs: number | null;
  /** The MM checker's findings and any object left behind (empty: clean; null: not checked). */
  invariantViolations: string[] | null;
  locks: RunLockStat[];
}

export interface ForkServerRatio { cpus: number; era: string; baseline: string; throughputRatio: number }

export interface ForkServerResult {
  experiment: "fork-server";
  mode: "timed" | "parallel";
  /** Unit of makespanCycles and the lock wait/hold (fields named *Cycles): virtual cycles (timed) or host ns (parallel). */
  timeUnit: "cycles" | "ns";
  /** parallel: the host's cores (os.availableParallelism()); null in timed mode. */
  hostCores: number | null;
  workload: ForkServerWorkload;
  seed: number;
  cpus: number[];
  ghz: number;
  /** Every CPU's budget: virtual cycles (timed; null in parallel mode) or host ns (parallel; null in timed mode). */
  budgetCycles: number | null;
  budgetNs: number | null;
  eras: Era[];
  runs: ForkServerRun[];
  /** Each era's ops/s against the first listed era, per CPU count. */
  ratios: ForkServerRatio[];
  notes: string[];
  /** The exim workload's shape (also recorded for fork_test, where it only shapes the master). */
  heapPages: number;
  touchPages: number;
  bufferPages: number;
  deliver: boolean;
  /** Whether message sizes vary (exim), and the size seed the jobs got (0: every message the same). */
  varySizes: boolean;
  sizeSeed: number;
  profile: string;
}

export const FORK_SERVER_DEFAULT_ERAS: readonly string[] = ["2.6.34", "3.0", "3.8", "3.9", "3.16"];
export const FORK_SERVER_DEFAULT_CPUS: readonly number[] = [1, 2, 4, 8];
/** Default budget per CPU: 200,000,000 cycles (67 ms at 3 GHz): the default exim run (5 eras x 1,2,4,8 CPUs) takes about 45 s of host time here. */
export const FORK_SERVER_DEFAULT_BUDGET = 200_000_000;
/** Default host-time budget per CPU in parallel mode: 20,000,000 ns (20 ms). */
export const FORK_SERVER_DEFAULT_BUDGET_NS = 20_000_000;
/** The largest size seed (15 bits of the job's parameter word). */
export const FORK_SERVER_SIZE_SEED_MAX = 32767;

export const FORK_SERVER_RUN_FIELDS: readonly (keyof ForkServerRun)[] = ["era", "cpus", "workload", "ops", "opsPerSec", "forks", "exits",
  "faults", "contextSwitchesPerOp", "makespanCycles", "seconds", "digest", "hostElapsedNs", "invariantViolations", "locks"];

export const FORK_SERVER_NOTES: readonly string[] = [
  "timed mode: deterministic virtual time from the cost model; the same options and seed give the same figures",
  "every CPU runs one daemon (a child of one master: one fork tree, one root anon_vma lock) for the same virtual-time budget; " +
    "throughput = ops / the makespan",
  "virtual time charges the locks (atomics, cache-line transfers, spins, sleeps, wake-ups, context switches), the system calls' " +
    "entry/exit (fork, exit, wait4, mmap, munmap), task context switches, and the MM core's memory traffic at cache-line granularity " +
    "(dup_mmap's vma and anon_vma_chain objects, copy_page_range's PTE writes and page refcounts, COW copies, page zeroing, " +
    "exit_mmap's teardown; kernel/mm_charge.ts); not charged: copy_process's other work (credentials, files, signals, pids), " +
    "instruction execution between the loads; so critical sections are short and contention is exaggerated: compare eras, not magnitudes",
  "no wait queue or zombie: the exiting child switches straight back to its parent, whose wait4 returns; children run on their parent's CPU",
  "contextSwitchesPerOp counts lock sleeps only; every op also has two task switches (to the child and back), charged as ctx_switch",
];

/** The note on message sizes (exim), varying or fixed. */
export function forkServerSizeNote(varySizes: boolean, sizeSeed: number): string {
  return varySizes
    ? `exim message sizes vary: each message touches 1..2*touchPages-1 heap pages and 1..2*bufferPages-1 buffer pages (uniform, ` +
      `the same means), drawn per daemon from size seed ${sizeSeed} ((seed mod 32767) + 1) and its pid; fixed sizes let the ` +
      `daemons' identical loops phase-lock into a stagger in virtual time`
    : "exim message sizes fixed (--fixed-sizes): every message touches touchPages heap pages and bufferPages buffer pages";
}

/** The parallel notes: PARALLEL_NOTE, the budget and units, then the timed notes that still apply. */
export const FORK_SERVER_PARALLEL_NOTES: readonly string[] = [
  PARALLEL_NOTE,
  "every CPU runs one daemon (a child of one master: one fork tree, one root anon_vma lock) for the same host-time budget " +
    "(budgetNs; the jobs read the host's monotonic clock); throughput = ops / the makespan (the latest CPU's final budget clock); " +
    "makespanCycles and lock wait/hold are host nanoseconds (timeUnit), lock times measured with two clock reads per " +
    "acquisition and one per release inside the run; digest is empty; the seed only picks the message sizes; every CPU first " +
    "runs its job unmeasured for a tenth of the budget, at least 100 ms (the JIT's tier-up)",
  "the emulated CPUs are worker threads running the core's Wasm, as many as the host has cores at most: the host's cores, " +
    "caches and scheduler decide who contends; compare eras on the same host and run",
  FORK_SERVER_NOTES[3]!,
];


function resolve(o: ForkServerOptions) {
  if (o === null || typeof o !== "object") throw new ConfigError("fork-server: expected an options object");
  const workload = o.workload ?? "exim";
  if (workload !== "exim" && workload !== "fork_test") throw new ConfigError(`workload: "${String(workload)}" is not exim or fork_test`);
  const eras = resolveEras(o.eras, FORK_SERVER_DEFAULT_ERAS);
  const mode = resolveMode("fork-server", o.mode);
  const cpus = resolveCpus(o.cpus, FORK_SERVER_DEFAULT_CPUS, mode);
  const { budgetCycles, budgetNs } = resolveBudgets(mode, o, FORK_SERVER_DEFAULT_BUDGET, FORK_SERVER_DEFAULT_BUDGET_NS);
  const seed = resolveSeed(o.seed);
  const timeoutMs = o.timeoutMs === undefined ? undefined : intIn("timeoutMs", o.timeoutMs, 1, 1e9);
  const heapPages = intIn("heapPages", o.heapPages ?? 32, 1, 4096);
  const touchPages = intIn("touchPages", o.touchPages ?? 4, 0, heapPages);
  const bufferPages = intIn("bufferPages", o.bufferPages ?? 4, 0, 512);
  const deliver = o.deliver ?? false;
  if (typeof deliver !== "boolean") throw new ConfigError("deliver: expected true or false");
  const varySizes = o.varySizes ?? true;
  if (typeof varySizes !== "boolean") throw new ConfigError("varySizes: expected true or false");
  const sizeSeed = varySizes ? (seed % FORK_SERVER_SIZE_SEED_MAX) + 1 : 0;
  return { workload, eras, cpus, mode, budgetCycles, budgetNs, timeoutMs, seed, debug: o.debug ?? false, heapPages, touchPages,
    bufferPages, deliver, varySizes, sizeSeed };
}

type Resolved = ReturnType<typeof resolve>;

/** Pages of each of the master's two extra anonymous mappings (touched: they have an anon_vma). */
const EXTRA_VMA_PAGES = 4;

/** The kmem caches whose live objects must be the same before and after a run (a leak otherwise). */
const LEAK_CACHES = ["KMEM_TASK_STRUCT", "KMEM_MM_STRUCT", "KMEM_VM_AREA", "KMEM_ANON_VMA", "KMEM_ANON_VMA_CHAIN"] as const;

function liveObjects(x: CoreExports): Record<string, number> {
  const out: Record<string, number> = {};
  const call = x as unknown as Record<string, (c: number) => number>;
  for (const k of LEAK_CACHES) {
    const c = constant(x, k as keyof CoreExports);
    out[k] = call.kmem_cache_nr_objs!(c) - call.kmem_cache_nr_free!(c);
  }
  return out;
}

/** The fork-server job's packed parameter word (assembly/lib/fork_server.ts diagram). */
/** sizeSeed: 0 (every message the same; the default) or 1..32767 (sizes vary); the caller validates it. */
export function forkServerParams(x: CoreExports, o: { heapPages: number; touchPages: number; bufferPages: number; deliver: boolean; sizeSeed?: number }): bigint {
  const heapShift = BigInt(constant(x, "FS_HEAP_SHIFT"));
  return BigInt(o.touchPages) << BigInt(constant(x, "FS_TOUCH_SHIFT")) | BigInt(o.bufferPages) << BigInt(constant(x, "FS_BUF_SHIFT")) |
    BigInt(o.heapPages) << heapShift | (o.deliver ? 1n << (heapShift + 16n) : 0n) |
    BigInt(o.sizeSeed ?? 0) << BigInt(constant(x, "FS_SIZE_SEED_SHIFT"));
}

interface ForkSetup {
  model: MmModel;
  outs: number[];
  live0: Record<string, number>;
  /** The run's jobs with a budget (cycles or ns), writing their reports to outs or (report false) none. */
  jobs: (budget: bigint, report: boolean) => JobSpec[];
}

/**
 * The fork tree on a booted machine (timed or parallel), from the host thread: the master, its heap
 * and two more touched mappings, one daemon per CPU; every CPU left idle. Throws MmemuError when the
 * set-up fails.
 */
function setUp(mmu: Mmu, r: Resolved, n: number, alloc: (bytes: number) => number): ForkSetup {
  const x = mmu.exports;
  const model = new MmModel(mmu);
  const master = model.spawn({ cpu: 0 });
  const heap = master.brk(0n);
  const heapEnd = heap + BigInt(r.heapPages) * 4096n;
  if (master.brk(heapEnd) !== heapEnd) throw new MmemuError("fork-server: the master's heap could not grow");
  for (let p = 0; p < r.heapPages; p++) {
    if (master.write(heap + BigInt(p * 4096), p + 1) !== 0) throw new MmemuError("fork-server: the master could not touch its heap");
  }
  for (let k = 0; k < 2; k++) {
    const va = master.mmap(EXTRA_VMA_PAGES * 4096);
    if (va < 0n) throw new MmemuError(`fork-server: the master's mmap failed (${va})`);
    for (let p = 0; p < EXTRA_VMA_PAGES; p++) master.write(va + BigInt(p * 4096), 1);
  }
  const daemons: Process[] = [];
  for (let k = 0; k < n; k++) {
    const d = master.fork({ cpu: 0 });
    if (typeof d === "number") throw new MmemuError(`fork-server: fork of daemon ${k} failed (${d})`);
    daemons.push(d);
  }
  model.idle({ cpu: 0 }); // every CPU idle: each job makes its daemon current on its own CPU
  const live0 = liveObjects(x);
  const outSize = constant(x, "FS_OUT_SIZE");
  const outs = daemons.map(() => alloc(outSize));
  const maxops = 0xffff_ffff;
  const params = forkServerParams(x, r);
  const jobs = (budget: bigint, report: boolean) => daemons.map((d, cpu): JobSpec => {
    const out = report ? outs[cpu]! : 0;
    return r.workload === "exim"
      ? { cpu, job: "fork_server", args: [d.pid, heap, params, budget, maxops, out] }
      : { cpu, job: "aim7_fork", args: [d.pid, budget, maxops, out] };
  });
  return { model, outs, live0, jobs };
}

/**
 * The run's figures from the jobs' reports and results, then the invariant and leak checks (every CPU
 * idled). makespan: virtual cycles or host ns; toSeconds converts it. Throws MmemuError for a job's
 * negative result.
 */
function collect(mmu: Mmu, r: Resolved, e: Era, n: number, s: ForkSetup, m: { results: bigint[]; locks: RunLockStat[]; makespan: number;
  toSeconds: (t: number) => number; digest: string; hostElapsedNs: number | null }, read64: (addr: number) => bigint): ForkServerRun {
  const x = mmu.exports;
  m.results.forEach((res, cpu) => {
    if (res < 0n) {
      throw new MmemuError(`fork-server: era ${e.name}, ${n} CPUs: CPU ${cpu}'s ${r.workload === "exim" ? "fork_server" : "aim7_fork"} job returned ${res} (a negative errno)`);
    }
  });
  const sum = (name: string) => s.outs.reduce((t, o) => t + Number(read64(o + constant(x, name as keyof CoreExports))), 0);
  const ops = sum("FS_OUT_OPS");
  const sleeps = m.locks.reduce((t, l) => t + l.sleeps, 0);
  for (let cpu = 0; cpu < n; cpu++) s.model.idle({ cpu });
  const violations = s.model.check().violations;
  const live1 = liveObjects(x);
  for (const k of LEAK_CACHES) {
    if (live1[k] !== s.live0[k]) violations.push(`${k}: ${live1[k]! - s.live0[k]!} object(s) left behind by the run (${s.live0[k]} live before, ${live1[k]} after)`);
  }
  const seconds = m.toSeconds(m.makespan);
  return {
    era: e.name, cpus: n, workload: r.workload, ops, opsPerSec: seconds > 0 ? ops / seconds : 0,
    forks: sum("FS_OUT_FORKS"), exits: sum("FS_OUT_EXITS"), faults: sum("FS_OUT_FAULTS"),
    contextSwitchesPerOp: ops ? sleeps / ops : 0, makespanCycles: m.makespan, seconds, digest: m.digest, hostElapsedNs: m.hostElapsedNs,
    invariantViolations: violations, locks: m.locks,
  };
}

/** One (era, CPU count) run in virtual time. */
function runOne(r: Resolved, e: Era, n: number, profile: CostProfile | undefined): ForkServerRun {
  const vm = VirtualMachine.create({ cpus: n, memory: "32MiB", debug: r.debug, locks: e.locks, mm: e.mm, ...(profile ? { profile } : {}) });
  const s = setUp(vm.mmu, r, n, (b) => vm.alloc(b));
  const before = vm.mmu.lockStats();
  const res = vm.run({ mode: "timed", seed: r.seed, jobs: s.jobs(BigInt(r.budgetCycles!), true) });
  const after = vm.mmu.lockStats();
  const ghz = vm.costs.ghz;
  return collect(vm.mmu, r, e, n, s, { results: res.cpus.map((cr) => cr.result), locks: lockStatDiff(before, after),
    makespan: Number(res.makespan), toSeconds: (cycles) => cycles / (ghz * 1e9), digest: res.digest, hostElapsedNs: null }, (a) => vm.read64(a));
}

/** One (era, CPU count) run on worker CPUs, for real, with the host-time budget (parallel.ts). */
async function runOneParallel(r: Resolved, e: Era, n: number): Promise<ForkServerRun> {
  return withParallelMachine({ cpus: n, memory: "32MiB", debug: r.debug, locks: e.locks, mm: e.mm,
    ...(r.timeoutMs !== undefined ? { timeoutMs: r.timeoutMs } : {}) }, async (pm) => {
    const s = setUp(pm.mmu, r, n, (b) => pm.alloc(b));
    // Warm-up, unmeasured, without reports (parallel.ts); every child exits again.
    await pm.warmUp(s.jobs(warmupBudgetNs(r.budgetNs!), false), `fork-server: era ${e.name}, ${n} CPUs`);
    const res = await pm.run(s.jobs(BigInt(r.budgetNs!), true));
    // the makespan: the latest CPU's final budget clock (host ns since its job began)
    let makespan = 0;
    for (const o of s.outs) makespan = Math.max(makespan, Number(pm.read64(o + constant(pm.mmu.exports, "FS_OUT_CLOCK"))));
    return collect(pm.mmu, r, e, n, s, { results: res.cpus.map((cr) => cr.result), locks: res.locks, makespan,
      toSeconds: (ns) => ns / 1e9, digest: "", hostElapsedNs: res.elapsedNs }, (a) => pm.read64(a));
  });
}

/**
 * runForkServer - run the experiment. Timed mode (the default): synchronous, every run in virtual time;
 * returns the result with one run per (era, CPU count), eras outer; throws ConfigError for bad options
 * and MmemuError when a job fails (its negative errno named). Parallel mode (options.mode "parallel"):
 * returns a Promise of the same result, every run on worker CPUs with the host-time budget; bad options
 * (a CPU count above the host's cores among them) throw the ConfigError before any machine is made; it
 * rejects with MmemuError for a failed job, CpuDiedError / CpuStuckError for a dead or stuck worker.
 */
export function runForkServer(options: ForkServerOptions & { mode: "parallel" }): Promise<ForkServerResult>;
export function runForkServer(options?: ForkServerOptions & { mode?: "timed" }): ForkServerResult;
export function runForkServer(options?: ForkServerOptions): ForkServerResult | Promise<ForkServerResult>;
export function runForkServer(options: ForkServerOptions = {}): ForkServerResult | Promise<ForkServerResult> {
  const r = resolve(options);
  return runGrid({
    mode: r.mode, points: r.eras.flatMap((e) => r.cpus.map((n) => ({ e, n }))),
    label: ({ e, n }) => `${r.workload}, era ${e.name}, ${n} CPU${n === 1 ? "" : "s"}`,
    timed: ({ e, n }) => runOne(r, e, n, options.profile), parallel: ({ e, n }) => runOneParallel(r, e, n),
    onProgress: options.onProgress, finish: (runs) => finish(r, options, runs),
  });
}

function finish(r: Resolved, options: ForkServerOptions, runs: ForkServerRun[]): ForkServerResult {
  const profile = options.profile ?? DEFAULT_PROFILE;
  const base = r.eras[0]!.name;
  const ratios: ForkServerRatio[] = [];
  for (const n of r.cpus) {
    const b = runs.find((x) => x.era === base && x.cpus === n)!;
    for (const e of r.eras.slice(1)) {
      const x = runs.find((y) => y.era === e.name && y.cpus === n)!;
      ratios.push({ cpus: n, era: e.name, baseline: base, throughputRatio: b.opsPerSec ? x.opsPerSec / b.opsPerSec : 0 });
    }
  }
  const parallel = r.mode === "parallel";
  const notes = [...(parallel ? FORK_SERVER_PARALLEL_NOTES : FORK_SERVER_NOTES)];
  if (r.workload === "exim") notes.push(forkServerSizeNote(r.varySizes, r.sizeSeed));
  return { experiment: "fork-server", mode: r.mode, timeUnit: parallel ? "ns" : "cycles", hostCores: parallel ? hostCores() : null,
    workload: r.workload, seed: r.seed, cpus: r.cpus, ghz: profile.ghz,
    budgetCycles: r.budgetCycles, budgetNs: r.budgetNs, eras: r.eras, runs, ratios, notes, heapPages: r.heapPages,
    touchPages: r.touchPages, bufferPages: r.bufferPages, deliver: r.deliver, varySizes: r.varySizes, sizeSeed: r.sizeSeed,
    profile: profile.description ?? "" };
}

/** Whether every run is clean (no invariant violation, no object left behind, every fork's child exited). */
export function forkServerOk(res: ForkServerResult): boolean {
  return res.runs.every((x) => (x.invariantViolations === null || x.invariantViolations.length === 0) && x.forks === x.exits);
}

/** formatForkServer - the result as a terminal table (one row per run) and the ratios. */
export function formatForkServer(res: ForkServerResult, table: (h: string[], rows: string[][]) => string): string {
  const f = (v: number, d = 0) => v.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
  const lock = (run: ForkServerRun, cls: string) => run.locks.find((l) => l.class === cls);
  const rows = res.runs.map((run) => {
    const av = lock(run, "anon_vma");
    return [run.era, String(run.cpus), f(run.ops), f(run.opsPerSec), f(run.faults), f(run.contextSwitchesPerOp, 3),
      av ? f(av.contentions) : "-", av ? f(av.sleeps) : "-", av ? f(av.handoffs) : "-", av ? f(av.steals) : "-", av ? f(av.wait.avgCycles) : "-",
      run.invariantViolations === null ? "-" : run.invariantViolations.length === 0 && run.forks === run.exits ? "ok" : "FAIL"];
  });
  const what = res.workload === "exim"
    ? `exim-like: ${res.varySizes ? "mean " : ""}${res.touchPages} COW pages of ${res.heapPages}, ${res.varySizes ? "mean " : ""}${res.bufferPages}-page buffer` +
      `${res.deliver ? ", deliver fork" : ""} per message${res.varySizes ? ` (sizes vary, size seed ${res.sizeSeed})` : " (fixed sizes)"}`
    : "AIM7 fork_test: fork, the child exits, the parent waits";
  const head = res.mode === "parallel"
    ? `fork-server: ${what}; ${f(res.budgetNs ?? 0)} ns of host time per CPU, parallel (worker threads, host time on ${res.hostCores ?? "?"} cores: not reproducible)`
    : `fork-server: ${what}; ${f(res.budgetCycles ?? 0)} cycles per CPU, timed (virtual time at ${res.ghz} GHz), seed ${res.seed}`;
  const t = table(["era", "cpus", res.workload === "exim" ? "messages" : "forks", "ops/s", "faults", "ctxsw/op", "av cont", "av sleeps",
    "av handoffs", "av steals", res.timeUnit === "ns" ? "av wait ns" : "av wait cyc", "check"], rows);
  const ratioRows = res.ratios.map((q) => [q.era, String(q.cpus), `${f(q.throughputRatio, 3)}x`]);
  const rt = ratioRows.length ? `\n\nthroughput against ${res.ratios[0]!.baseline}:\n` + table(["era", "cpus", "ops/s ratio"], ratioRows) : "";
  return `${head}\n\n${t}${rt}\n\nnotes:\n${res.notes.map((n) => `  - ${n}`).join("\n")}`;
}
