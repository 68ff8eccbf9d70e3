// Experiment aim9-brk (issue 5): AIM9 brk_test (or page_test) throughput for each era across CPU
// counts, with the lock statistics that explain it. This answers Andrea Arcangeli's 2008 question
// (seed 002): how many context switches does the anon_vma rwsem add per sbrk?
//
// One run per (era, CPU count): a fresh VirtualMachine with the era's lock types and MM switches; one
// parent process whose heap has an anon_vma (it touched its heap before, as the AIM harness's malloc
// does), then
//   - processes mode: N-1 children forked from it, so all N heap vmas share one anon_vma lock (2.6.25:
//     the same anon_vma; 2.6.34+: the root anon_vma's lock), the mechanism of the 2008 regression;
//   - threads mode: N-1 threads (CLONE_VM): one mm, one mmap_sem, one heap;
// one task per CPU, every CPU running the AIM9 job (assembly/lib/aim9.ts) in timed mode. Throughput is
// AIM9's: loops/s and ops/s (= sbrk calls/s, 17,000 per loop) from virtual time, cycles converted to
// seconds with the cost profile's clock; summed over the N tasks (per task alongside).
//
// Timed mode (the default) is deterministic: the same options give the same result object (and JSON),
// bit for bit; host time is not part of the result. Parallel mode (mode: "parallel", asynchronous) sets
// up the same processes on a machine of worker CPUs (src/experiments/parallel.ts) and runs the same job
// on every CPU for real: seconds are host time (the barrier's release to the last task's end), lock wait
// and hold are nanoseconds (timeUnit "ns"), makespanCycles and schedulerSwitches are 0 and digest is "";
// figures are host-dependent and not reproducible (the notes say so). CPU counts are limited to the
// host's cores.
import { harnessTasks } from "./harness.js";
import { resolveTimeout, resolveSeed, resolveMode, resolveEras, resolveCpus, runGrid, type ExperimentOptions } from "./grid.js";
import { lockStatDiff, type RunLockStat } from "./lock-diff.js";
import { VirtualMachine } from "../sched/virtual-machine.js";
import { MmModel, type Process } from "../mm/process.js";
import { constant } from "../core/abi.js";
import { ConfigError, MmemuError } from "../core/errors.js";
import type { CostProfile } from "../cost/profile.js";
import { DEFAULT_PROFILE } from "../cost/default-profile.js";
import type { LockClassStat } from "../locking/lock-stat.js";
import { ERA_NAMES, type Era } from "./eras.js";
import type { Mmu } from "../mmu.js";
import { hostCores, PARALLEL_NOTE, withParallelMachine } from "./parallel.js";

export type Aim9Workload = "brk_test" | "page_test";
export type Aim9Shape = "processes" | "threads";

export interface Aim9BrkOptions extends ExperimentOptions {
  /** Era names or eras (with overrides from eras.ts era()); default every era. */
  eras?: (string | Era)[];
  /** CPU counts, one task per CPU; default [1, 2, 4, 8]. */
  cpus?: number[];
  /** processes (forked from one parent, default) or threads of one process. */
  shape?: Aim9Shape;
  /** brk_test (default) or page_test (the same loop, dirtying every 128 bytes of each page grown). */
  workload?: Aim9Workload;
  /** AIM9 loops per task (17,000 sbrk calls each); default 1. */
  loops?: number;
  /** Seed of the timed schedule (ties between equal clocks); default 1. */
  seed?: number;
}

/** Lock statistics of one class over one run (lock-diff.ts), with the per-sbrk rates. */
export interface Aim9LockStat extends RunLockStat {
  sleepsPerSbrk: number;
  contentionsPerSbrk: number;
}

export interface Aim9Run {
  era: string;
  cpus: number;
  tasks: number;
  /** Loops done, summed over the tasks. */
  loops: number;
  /** sbrk calls of the timed loops (17,000 per loop), summed. */
  sbrkCalls: number;
  /** Other brk calls (sbrk(0), the 1 MiB grow, the cleanup brk), summed. */
  otherBrkCalls: number;
  /** page_test's user stores, summed. */
  userWrites: number;
  /** Virtual time from start to the last task's end (timed; 0 in parallel mode). */
  makespanCycles: number;
  /** parallel: host time from the start barrier's release to the last task's end, ns (null in timed mode). */
  hostElapsedNs: number | null;
  /** makespanCycles / the profile's clock (timed), or hostElapsedNs / 1e9 (parallel). */
  seconds: number;
  /** AIM9's figures, all tasks together. */
  loopsPerSec: number;
  opsPerSec: number;
  /** The same per task (the mean). */
  loopsPerSecPerTask: number;
  /** Sleeps of every lock class per sbrk call: the context switches Arcangeli asked about. */
  contextSwitchesPerSbrk: number;
  /** Times the scheduler resumed a different CPU (engine detail, not a kernel context switch; 0 in parallel mode). */
  schedulerSwitches: number;
  /** The schedule's digest (equal runs have equal digests; "" in parallel mode: no schedule is recorded). */
  digest: string;
  /** The checks of the loop structure: 17,000 sbrk calls per loop; the heap back where it began. */
  sbrkPerLoop: number;
  heapRestored: boolean;
  locks: Aim9LockStat[];
}

export interface Aim9Ratio {
  cpus: number;
  era: string;
  baseline: string;
  /** opsPerSec(era) / opsPerSec(baseline) at this CPU count. */
  throughputRatio: number;
  /** contextSwitchesPerSbrk(era) - contextSwitchesPerSbrk(baseline). */
  addedContextSwitchesPerSbrk: number;
}

export interface Aim9BrkResult {
  experiment: "aim9-brk";
  mode: "timed" | "parallel";
  /** Unit of the lock statistics' wait and hold (fields named *Cycles): virtual cycles (timed) or host ns (parallel). */
  timeUnit: "cycles" | "ns";
  /** parallel: the host's cores (os.availableParallelism()); null in timed mode. */
  hostCores: number | null;
  workload: Aim9Workload;
  shape: Aim9Shape;
  /** The timed schedule's seed (no effect in parallel mode). */
  seed: number;
  loops: number;
  cpus: number[];
  /** Clock of the cost profile: cycles per nanosecond. */
  ghz: number;
  profile: string;
  eras: Era[];
  runs: Aim9Run[];
  /** Each era's throughput against the baseline era (the first spinlock era listed: 2.6.25 if present). */
  ratios: Aim9Ratio[];
  /** What the figures do and do not include (read before comparing them with history). */
  notes: string[];
}

/** The caveats every result carries (src/experiments/README.md "Reading the figures"). */
export const AIM9_NOTES: readonly string[] = [
  "timed mode: deterministic virtual time from the cost model; the same options and seed give the same figures",
  "virtual time charges the locks (atomics, cache-line transfers, spins, sleeps, wake-ups, context switches), each " +
    "brk's system-call entry/exit, and the MM core's memory traffic at cache-line granularity (vma lookups, slab and " +
    "page allocation, refcount and rmap atomics, PTE writes, page walks, TLB-shootdown IPIs: kernel/mm_charge.ts); " +
    "instruction execution between those loads is not charged, so a brk is still cheaper than a real kernel's and " +
    "contention is exaggerated: compare eras' mechanisms, not magnitudes",
  "sleeps are context switches: a waiter on a sleeping lock gave up its CPU (Arcangeli's question in seed 002)",
  "lock wait percentiles (p50/p90/p99, JSON wait.p50 ...) come from lock_stat's per-CPU log2 wait histogram (wait.histogram: " +
    "bucket k holds waits in [2^k, 2^(k+1)) cycles): the upper bound of the bucket holding the percentile, capped at the run's " +
    "maximum wait, so at most twice the true figure and never below it",
];

/** The fields every Aim9Run has (tests check the JSON has each). */
export const AIM9_RUN_FIELDS: readonly (keyof Aim9Run)[] = ["era", "cpus", "tasks", "loops", "sbrkCalls", "otherBrkCalls",
  "userWrites", "makespanCycles", "hostElapsedNs", "seconds", "loopsPerSec", "opsPerSec", "loopsPerSecPerTask", "contextSwitchesPerSbrk",
  "schedulerSwitches", "digest", "sbrkPerLoop", "heapRestored", "locks"];

export const DEFAULT_CPUS = [1, 2, 4, 8];

function resolve(o: Aim9BrkOptions) {
  if (o === null || typeof o !== "object") throw new ConfigError("aim9-brk: expected an options object");
  const eras = resolveEras(o.eras, ERA_NAMES);
  const mode = resolveMode("aim9-brk", o.mode);
  const cpus = resolveCpus(o.cpus, DEFAULT_CPUS, mode);
  const shape = o.shape ?? "processes";
  if (shape !== "processes" && shape !== "threads") throw new ConfigError(`shape: "${String(shape)}" is not processes or threads`);
  const workload = o.workload ?? "brk_test";
  if (workload !== "brk_test" && workload !== "page_test") throw new ConfigError(`workload: "${String(workload)}" is not brk_test or page_test`);
  if (workload === "page_test" && shape === "threads") {
    throw new ConfigError("workload: page_test needs processes: threads share one break and would store beyond it (SIGSEGV)");
  }
  const loops = o.loops ?? 1;
  if (!Number.isInteger(loops) || loops < 1 || loops > 1_000_000) throw new ConfigError(`loops: ${String(loops)} is out of range (1..1000000)`);
  const seed = resolveSeed(o.seed);
  const timeoutMs = resolveTimeout(o.timeoutMs);
  return { eras, cpus, shape, workload, loops, seed, mode, debug: o.debug ?? false, timeoutMs };
}


interface Aim9Setup {
  tasks: Process[];
  /** The job's base argument (threads: the shared break every loop starts from), heap breaks before. */
  base: bigint;
  heapBefore: bigint[];
  outs: number[];
}

/**
 * The harness on a booted machine (timed or parallel), from the host thread: the parent with its
 * touched heap, N-1 children or threads, a report per task. Leaves CPU 0 with the parent current.
 */
function setUp(mmu: Mmu, r: ReturnType<typeof resolve>, n: number, alloc: (bytes: number) => number): Aim9Setup {
  const model = new MmModel(mmu);
  const h = harnessTasks(model, { experiment: "aim9-brk", shape: r.shape, count: n - 1, firstCpu: 1 });
  const parent = h.parent;
  const tasks: Process[] = [parent, ...h.tasks];
  const base = r.shape === "threads" ? parent.brk(0n) : 0n;
  const heapBefore = tasks.map((t) => t.brk(0n, { cpu: 0 }));
  // Leave CPU 0 with the parent current (the others idle): the job makes each task current on its CPU.
  parent.brk(0n, { cpu: 0 });
  const outSize = constant(mmu.exports, "AIM9_OUT_SIZE");
  return { tasks, base, heapBefore, outs: tasks.map(() => alloc(outSize)) };
}

/** What one run measured, whichever the mode. */
interface Aim9Measured {
  results: bigint[];
  makespanCycles: number;
  hostElapsedNs: number | null;
  seconds: number;
  schedulerSwitches: number;
  digest: string;
  before: LockClassStat[] | null;
  after: LockClassStat[] | null;
  locks?: RunLockStat[];
}

/** The run's figures from the tasks' reports (read64) and what the run measured; checks each job's result. */
function collect(mmu: Mmu, r: ReturnType<typeof resolve>, e: Era, n: number, s: Aim9Setup, m: Aim9Measured,
  read64: (addr: number) => bigint): Aim9Run {
  const x = mmu.exports;
  m.results.forEach((res, cpu) => {
    if (res !== BigInt(r.loops)) throw new MmemuError(`aim9-brk: era ${e.name}, ${n} CPUs: CPU ${cpu}'s job returned ${res} (a negative errno)`);
  });
  const sum = (off: string) => s.outs.reduce((t, o) => t + Number(read64(o + constant(x, off as "AIM9_OUT_SBRK"))), 0);
  const sbrkCalls = sum("AIM9_OUT_SBRK");
  const loops = n * r.loops;
  const heapAfter = s.tasks.map((t, cpu) => t.brk(0n, { cpu })); // each task is still current on its CPU
  const seconds = m.seconds;
  const runLocks = m.locks ?? lockStatDiff(m.before!, m.after!);
  const locks = runLocks.map((l) => ({
    ...l, sleepsPerSbrk: sbrkCalls ? l.sleeps / sbrkCalls : 0, contentionsPerSbrk: sbrkCalls ? l.contentions / sbrkCalls : 0,
  }));
  const sleeps = locks.reduce((t, l) => t + l.sleeps, 0);
  return {
    era: e.name, cpus: n, tasks: n, loops, sbrkCalls, otherBrkCalls: sum("AIM9_OUT_OTHER_BRK"), userWrites: sum("AIM9_OUT_WRITES"),
    makespanCycles: m.makespanCycles, hostElapsedNs: m.hostElapsedNs, seconds,
    loopsPerSec: seconds > 0 ? loops / seconds : 0, opsPerSec: seconds > 0 ? sbrkCalls / seconds : 0,
    loopsPerSecPerTask: seconds > 0 ? r.loops / seconds : 0,
    contextSwitchesPerSbrk: sbrkCalls ? sleeps / sbrkCalls : 0,
    schedulerSwitches: m.schedulerSwitches, digest: m.digest,
    sbrkPerLoop: sbrkCalls / loops,
    heapRestored: heapAfter.every((h, i) => h === s.heapBefore[i]),
    locks,
  };
}

/** Whether every run's loop check passed (17,000 sbrk calls per loop, the heap back where it began). */
export const aim9Ok = (r: Aim9BrkResult) => r.runs.every((x) => x.sbrkPerLoop === 17000 && x.heapRestored);

function jobName(r: ReturnType<typeof resolve>): string {
  return r.workload === "brk_test" ? "aim9_brk" : "aim9_page";
}

function memoryFor(r: ReturnType<typeof resolve>): string {
  return r.workload === "page_test" ? "64MiB" : "32MiB";
}

/** One (era, CPU count) run in virtual time. */
function runOne(r: ReturnType<typeof resolve>, e: Era, n: number, profile: CostProfile | undefined): Aim9Run {
  const vm = VirtualMachine.create({ cpus: n, memory: memoryFor(r), debug: r.debug,
    locks: e.locks, mm: e.mm, ...(profile ? { profile } : {}) });
  const s = setUp(vm.mmu, r, n, (b) => vm.alloc(b));
  const before = vm.mmu.lockStats();
  const res = vm.run({ mode: "timed", seed: r.seed, jobs: s.tasks.map((t, cpu) => ({ cpu, job: jobName(r), args: [t.pid, r.loops, s.base, s.outs[cpu]!] })) });
  const after = vm.mmu.lockStats();
  const makespan = Number(res.makespan);
  return collect(vm.mmu, r, e, n, s, {
    results: res.cpus.map((c) => c.result), makespanCycles: makespan, hostElapsedNs: null, seconds: makespan / (vm.costs.ghz * 1e9),
    schedulerSwitches: res.switches, digest: res.digest, before, after,
  }, (a) => vm.read64(a));
}

/** One (era, CPU count) run on worker CPUs, for real (parallel.ts). */
async function runOneParallel(r: ReturnType<typeof resolve>, e: Era, n: number): Promise<Aim9Run> {
  return withParallelMachine({ cpus: n, memory: memoryFor(r), debug: r.debug, locks: e.locks, mm: e.mm, timeoutMs: r.timeoutMs }, async (pm) => {
    const s = setUp(pm.mmu, r, n, (b) => pm.alloc(b));
    // Warm-up, unmeasured: one loop per task (the heap ends where it began), so that each worker's
    // JIT tier-up of the core is not in the figures.
    await pm.warmUp(s.tasks.map((t, cpu) => ({ cpu, job: jobName(r), args: [t.pid, 1, s.base, 0] })), `aim9-brk: era ${e.name}, ${n} CPUs`);
    const res = await pm.run(s.tasks.map((t, cpu) => ({ cpu, job: jobName(r), args: [t.pid, r.loops, s.base, s.outs[cpu]!] })));
    return collect(pm.mmu, r, e, n, s, {
      results: res.cpus.map((c) => c.result), makespanCycles: 0, hostElapsedNs: res.elapsedNs, seconds: res.elapsedNs / 1e9,
      schedulerSwitches: 0, digest: "", before: null, after: null, locks: res.locks,
    }, (a) => pm.read64(a));
  });
}

/** The baseline of the ratios: the first listed era whose anon_vma lock is a spinlock, else the first. */
function baselineEra(eras: Era[]): Era {
  return eras.find((e) => e.locks.anon_vma === "ticket" || e.locks.anon_vma === "tas") ?? eras[0]!;
}

/**
 * Run the experiment. Timed mode (the default): synchronous, every run in virtual time; throws
 * ConfigError for bad options and MmemuError when a job fails (its negative errno named). Parallel mode
 * (options.mode "parallel"): returns a Promise of the same result, every run on worker CPUs; bad options
 * (a CPU count above the host's cores among them) throw the ConfigError before any machine is made; it
 * rejects with MmemuError for a failed job, CpuDiedError / CpuStuckError for a dead or stuck worker.
 */
export function runAim9Brk(options: Aim9BrkOptions & { mode: "parallel" }): Promise<Aim9BrkResult>;
export function runAim9Brk(options?: Aim9BrkOptions & { mode?: "timed" }): Aim9BrkResult;
export function runAim9Brk(options?: Aim9BrkOptions): Aim9BrkResult | Promise<Aim9BrkResult>;
export function runAim9Brk(options: Aim9BrkOptions = {}): Aim9BrkResult | Promise<Aim9BrkResult> {
  const r = resolve(options);
  return runGrid({
    mode: r.mode, points: r.eras.flatMap((e) => r.cpus.map((n) => ({ e, n }))),
    label: ({ e, n }) => `era ${e.name}, ${n} CPU${n === 1 ? "" : "s"}`,
    timed: ({ e, n }) => runOne(r, e, n, options.profile), parallel: ({ e, n }) => runOneParallel(r, e, n),
    onProgress: options.onProgress, finish: (runs) => finish(r, options, runs),
  });
}

/** The parallel notes: PARALLEL_NOTE first, then the timed notes that still apply (AIM9_NOTES[2] on). */
export const AIM9_PARALLEL_NOTES: readonly string[] = [
  PARALLEL_NOTE,
  "seconds are host time from the start barrier's release to the last task's end; lock wait and hold are host " +
    "nanoseconds (timeUnit), measured with two clock reads per acquisition and one per release inside the run; " +
    "makespanCycles and schedulerSwitches are 0 and digest is empty (no virtual clock, no recorded schedule); the seed has no effect; " +
    "every task first runs one unmeasured warm-up loop (the workers' JIT tier-up)",
  "the emulated CPUs are worker threads running the core's Wasm: a brk costs the emulator's instructions, not a kernel's, " +
    "and the host's cores, caches and scheduler decide who contends; compare eras on the same host and run, not with history",
  AIM9_NOTES[2]!,
];

function finish(r: ReturnType<typeof resolve>, options: Aim9BrkOptions, runs: Aim9Run[]): Aim9BrkResult {
  const profile = options.profile ?? DEFAULT_PROFILE;
  const base = baselineEra(r.eras);
  const ratios: Aim9Ratio[] = [];
  for (const n of r.cpus) {
    const b = runs.find((x) => x.era === base.name && x.cpus === n)!;
    for (const e of r.eras) {
      if (e.name === base.name) continue;
      const x = runs.find((y) => y.era === e.name && y.cpus === n)!;
      ratios.push({ cpus: n, era: e.name, baseline: base.name, throughputRatio: b.opsPerSec ? x.opsPerSec / b.opsPerSec : 0,
        addedContextSwitchesPerSbrk: x.contextSwitchesPerSbrk - b.contextSwitchesPerSbrk });
    }
  }
  const parallel = r.mode === "parallel";
  return { experiment: "aim9-brk", mode: r.mode, timeUnit: parallel ? "ns" : "cycles", hostCores: parallel ? hostCores() : null,
    workload: r.workload, shape: r.shape, seed: r.seed, loops: r.loops,
    cpus: r.cpus, ghz: profile.ghz, profile: profile.description ?? "", eras: r.eras, runs, ratios,
    notes: [...(parallel ? AIM9_PARALLEL_NOTES : AIM9_NOTES)] };
}

/** The result as a terminal table (one row per run) and the ratios. */
export function formatAim9Brk(res: Aim9BrkResult, table: (h: string[], rows: string[][]) => string): string {
  const f = (v: number, d = 0) => v.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
  const lock = (run: Aim9Run, cls: string) => run.locks.find((l) => l.class === cls);
  const rows = res.runs.map((run) => {
    const av = lock(run, "anon_vma"), ms = lock(run, "mmap_sem");
    return [run.era, String(run.cpus), f(run.loopsPerSec, 2), f(run.opsPerSec), f(run.contextSwitchesPerSbrk, 3),
      av ? f(av.contentionsPerSbrk, 3) : "-", av ? f(av.handoffs) : "-", av ? f(av.wait.avgCycles) : "-", av ? f(av.wait.p99) : "-",
      av ? f(av.hold.avgCycles) : "-", ms ? f(ms.contentionsPerSbrk, 3) : "-", run.sbrkPerLoop === 17000 && run.heapRestored ? "ok" : "FAIL"];
  });
  const mode = res.mode === "parallel"
    ? `parallel (worker threads, host time on ${res.hostCores ?? "?"} cores: not reproducible)`
    : `timed (virtual time at ${res.ghz} GHz), seed ${res.seed}`;
  const head = `aim9-brk: ${res.workload}, ${res.shape}, ${res.loops} loop(s) per task, ${mode}`;
  const u = res.timeUnit === "ns" ? "ns" : "cyc";
  const t = table(["era", "cpus", "loops/s", "ops/s", "ctxsw/sbrk", "av cont/sbrk", "av handoffs", `av wait ${u}`, `av p99 wait ${u}`, `av hold ${u}`,
    "mmap_sem cont/sbrk", "loop check"], rows);
  const ratioRows = res.ratios.map((q) => [q.era, String(q.cpus), `${f(q.throughputRatio, 3)}x`, f(q.addedContextSwitchesPerSbrk, 3)]);
  const rt = ratioRows.length ? `\n\nthroughput against ${res.ratios[0]!.baseline} (spinlock anon_vma):\n` +
    table(["era", "cpus", "ops/s ratio", "added ctxsw/sbrk"], ratioRows) : "";
  return `${head}\n\n${t}${rt}\n\nnotes:\n${res.notes.map((n) => `  - ${n}`).join("\n")}`;
}
