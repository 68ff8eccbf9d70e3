// Experiment will-it-scale (issue 5): will-it-scale's brk1, brk2, page_fault1 and tlb_flush1
// testcases (assembly/lib/will_it_scale.ts) as N processes and as N threads, for each era and CPU
// count, in virtual time, with the lock statistics and TLB shootdowns that explain the scaling.
//
// One run per (testcase, shape, era, CPU count): a fresh VirtualMachine with the era's lock types
// and MM switches; a parent process (will-it-scale's runner) whose heap has an anon_vma (the runner's
// malloc arena, touched), then
//   - processes: N children forked from it, as the runner forks its children: their heaps share the
//     parent's anon_vma (2.6.25 .. 2.6.31: the same anon_vma; 2.6.34+: the root anon_vma's lock);
//   - threads: N threads of it (CLONE_VM): one mm, one mmap_sem, one heap, one mm_cpumask;
// the parent itself goes idle (the runner only samples); each of CPUs 0..N-1 runs one task's
// testcase job for the same virtual-time budget. Throughput as will-it-scale reports it: iterations
// per second (all tasks), from virtual time (cycles / the profile's GHz).
//
// Timed mode (the default) is deterministic: the same options give the same result object (and
// JSON), bit for bit; host time is not part of the result. Parallel mode (mode: "parallel",
// asynchronous) sets up the same parent and tasks on a machine of worker CPUs
// (src/experiments/parallel.ts) and runs the same jobs for real, with a host-time budget instead of
// the cycle budget: every CPU runs `budgetNs` nanoseconds of host time (the jobs read the host's
// monotonic clock in the parallel build). There seconds are host time (the start barrier's release
// to the last task's end), lock wait/hold are host ns (timeUnit "ns"), makespanCycles and
// schedulerSwitches are 0 and digest ""; figures are host-dependent and not reproducible (the notes
// say so). CPU counts are limited to the host's cores.
//
// Memory sizing (page_fault1, tlb_flush1): timed mode bounds the pages a task can fault by its
// cycle budget (a fault costs at least MIN_FAULT_CYCLES); a host-time budget bounds nothing, so
// parallel mode sizes the machine for the whole region of every task (a task never has more than its
// region's pages mapped: each loop munmaps it) and refuses, up front, a region times CPU count that
// does not fit MAX_MEMORY (ConfigError). The iterations are not capped (maxiters stays 2^32 - 1), so
// every CPU runs for the whole budget, as in timed mode.
import { harnessTasks } from "./harness.js";
import { resolveTimeout, resolveSeed, resolveMode, resolveEras, resolveCpus, resolveBudgets, intIn, runGrid, type ExperimentOptions } from "./grid.js";
import { lockStatDiff, type RunLockStat } from "./lock-diff.js";
import { VirtualMachine } from "../sched/virtual-machine.js";
import { MmModel } from "../mm/process.js";
import { constant } from "../core/abi.js";
import { ConfigError, MmemuError } from "../core/errors.js";
import type { CostProfile } from "../cost/profile.js";
import { DEFAULT_PROFILE } from "../cost/default-profile.js";
import type { Era } from "./eras.js";
import type { Mmu } from "../mmu.js";
import type { JobSpec } from "../sched/jobs.js";
import { hostCores, PARALLEL_NOTE, warmupBudgetNs, withParallelMachine } from "./parallel.js";

export const WIS_TESTCASES = ["brk1", "brk2", "page_fault1", "tlb_flush1"] as const;
export type WisTestcase = (typeof WIS_TESTCASES)[number];
export const WIS_SHAPES = ["processes", "threads"] as const;
export type WisShape = (typeof WIS_SHAPES)[number];

/** What each testcase does (will-it-scale's testcase_description, and the loop). */
export const WIS_DESCRIPTIONS: Readonly<Record<WisTestcase, string>> = {
  brk1: "brk increase/decrease of one page: from sbrk(0), brk(+1 page), brk(back); 2 iterations per pair",
  brk2: "brk unshared increase/decrease of one page: sbrk(page) first, then the break toggles between 1 and 2 pages above it",
  page_fault1: "anonymous memory page fault: mmap the region, write one byte per page (1 iteration each), munmap",
  tlb_flush1: "TLB flush: per page of the region, write, madvise(MADV_DONTNEED) that page, read it back (1 iteration each); munmap",
};

export interface WillItScaleOptions extends ExperimentOptions {
  /** Testcases; default all four. */
  testcases?: WisTestcase[];
  /** processes (forked from one parent) and/or threads of one process; default both. */
  modes?: WisShape[];
  /** Era names or eras (with overrides from eras.ts era()); default WIS_DEFAULT_ERAS. */
  eras?: (string | Era)[];
  /** CPU counts, one task per CPU; default [1, 2, 4, 8]. */
  cpus?: number[];
  /** timed: virtual cycles every CPU runs its testcase for; default 20,000,000. */
  budgetCycles?: number;
  /** parallel: host-time budget of every CPU, in nanoseconds; default 20,000,000 (20 ms). */
  budgetNs?: number;
  /** page_fault1's and tlb_flush1's region in bytes (page aligned, 4 KiB .. 1 GiB); default 128 MiB, will-it-scale's. */
  regionBytes?: number;
  /** Seed of the timed schedule (ties between equal clocks); default 1. */
  seed?: number;
  /** Run the MM invariant checker (src/mm/check.ts) after each run; default true. */
  check?: boolean;
}

export interface WisTlb {
  /** flush_tlb_mm_range requests made by the tasks' CPUs (every cause). */
  flushes: number;
  /** Remote CPUs asked to flush (shootdown IPIs, or flushes on behalf of an idle CPU). */
  ipis: number;
  /** Shootdown requests the CPUs serviced (IPIs taken) or had serviced for them while idle. */
  received: number;
  flushesPerIteration: number;
  ipisPerIteration: number;
}

export interface WisRun {
  testcase: WisTestcase;
  shape: WisShape;
  era: string;
  cpus: number;
  tasks: number;
  /** Iterations as will-it-scale counts them, summed over the tasks. */
  iterations: number;
  /** System calls made (brk, mmap, munmap, madvise), summed. */
  syscalls: number;
  /** Page faults taken, summed. */
  faults: number;
  /** Virtual time from start to the last task's end (timed; 0 in parallel mode). */
  makespanCycles: number;
  /** parallel: host time from the start barrier's release to the last task's end, ns (null in timed mode). */
  hostElapsedNs: number | null;
  /** makespanCycles / the profile's clock (timed), or hostElapsedNs / 1e9 (parallel). */
  seconds: number;
  /** Iterations per second of virtual (timed) or host (parallel) time, all tasks together (will-it-scale's figure). */
  iterationsPerSec: number;
  /** The same per task (the mean). */
  perTaskPerSec: number;
  /** Sleeps of every lock class per iteration (context switches). */
  contextSwitchesPerIteration: number;
  tlb: WisTlb;
  /** Times the scheduler resumed a different CPU (engine detail, not a kernel context switch; 0 in parallel mode). */
  schedulerSwitches: number;
  /** The schedule's digest (equal runs have equal digests; "" in parallel mode: no schedule is recorded). */
  digest: string;
  locks: RunLockStat[];
  /** The MM invariant checker's violations after the run ([] when clean; null when not checked). */
  invariantViolations: string[] | null;
}

export interface WisScalingPoint {
  cpus: number;
  /** iterationsPerSec(cpus) / iterationsPerSec(base CPU count). */
  speedup: number;
  /** speedup / (cpus / base CPU count): 1 = linear scaling. */
  efficiency: number;
}

export interface WisScaling {
  testcase: WisTestcase;
  shape: WisShape;
  era: string;
  /** The smallest CPU count run (1 by default). */
  baseCpus: number;
  points: WisScalingPoint[];
}

export interface WillItScaleResult {
  experiment: "will-it-scale";
  mode: "timed" | "parallel";
  /** Unit of the lock statistics' wait and hold (fields named *Cycles): virtual cycles (timed) or host ns (parallel). */
  timeUnit: "cycles" | "ns";
  /** parallel: the host's cores (os.availableParallelism()); null in timed mode. */
  hostCores: number | null;
  /** The timed schedule's seed (no effect in parallel mode). */
  seed: number;
  testcases: WisTestcase[];
  modes: WisShape[];
  cpus: number[];
  /** Every CPU's budget: virtual cycles (timed; null in parallel mode) or host ns (parallel; null in timed mode). */
  budgetCycles: number | null;
  budgetNs: number | null;
  regionBytes: number;
  /** Clock of the cost profile: cycles per nanosecond. */
  ghz: number;
  profile: string;
  eras: Era[];
  runs: WisRun[];
  scaling: WisScaling[];
  /** What the figures do and do not include (read before comparing them with history). */
  notes: string[];
}

export const WIS_NOTES: readonly string[] = [
  "timed mode: deterministic virtual time from the cost model; the same options and seed give the same figures",
  "every CPU runs its testcase for the same virtual-time budget (will-it-scale samples a running counter once a " +
    "second instead); throughput = iterations / the makespan (the last task's end, just past the budget)",
  "processes are forked from one parent whose heap has an anon_vma, as will-it-scale's runner forks its children: " +
    "their heap vmas share the anon_vma lock (one anon_vma before 2.6.34, the root's lock after), which is what brk1 " +
    "and brk2 contend on in eras whose vma_adjust always takes it; threads share one mm: mmap_sem and the shootdowns",
  "tlb_flush1 maps an anonymous private region where will-it-scale maps a private mapping of a tmpfile (the " +
    "emulator's files hold at most 1024 pages and are not zero-filled): the faults are demand-zero instead of a " +
    "page-cache copy, and the read after MADV_DONTNEED maps a fresh zeroed page (the emulator has no shared zero page); " +
    "the TLB shootdown per page is the same",
  "a page_fault1 or tlb_flush1 task stopped by the budget mid-region still munmaps the region (counted in the makespan)",
  "virtual time charges the locks (atomics, cache-line transfers, spins, sleeps, wake-ups, context switches), each " +
    "system call's entry/exit, page faults, page walks, page zeroing and the MM core's memory traffic at cache-line " +
    "granularity, and TLB-shootdown IPIs (kernel/mm_charge.ts); instruction execution between those loads is not " +
    "charged, so compare eras' and shapes' mechanisms, not magnitudes",
];

/** The fields every WisRun has (tests check the JSON has each). */
export const WIS_RUN_FIELDS: readonly (keyof WisRun)[] = ["testcase", "shape", "era", "cpus", "tasks", "iterations", "syscalls", "faults",
  "makespanCycles", "hostElapsedNs", "seconds", "iterationsPerSec", "perTaskPerSec", "contextSwitchesPerIteration", "tlb", "schedulerSwitches", "digest", "locks", "invariantViolations"];

export const WIS_DEFAULT_CPUS = [1, 2, 4, 8];
/** Spinlock with the lock on every brk, seed 002's rwsem, Lee Schermerhorn's skip, today's rwsem. */
export const WIS_DEFAULT_ERAS = ["2.6.25", "2008-rwsem", "2.6.31", "3.16"];
export const WIS_DEFAULT_BUDGET = 20_000_000;
export const WIS_DEFAULT_REGION = 128 << 20;
const REGION_MAX = 1 << 30;


function list<T extends string>(what: string, v: unknown, known: readonly T[], dflt: readonly T[]): T[] {
  const xs = v ?? dflt;
  if (!Array.isArray(xs) || xs.length === 0) throw new ConfigError(`${what}: expected a non-empty list`);
  for (const x of xs) {
    if (!known.includes(x as T)) throw new ConfigError(`${what}: unknown ${what === "testcases" ? "testcase" : "mode"} "${String(x)}" (known: ${known.join(", ")})`);
  }
  return [...new Set(xs as T[])];
}

function resolve(o: WillItScaleOptions) {
  if (o === null || typeof o !== "object") throw new ConfigError("will-it-scale: expected an options object");
  const testcases = list("testcases", o.testcases, WIS_TESTCASES, WIS_TESTCASES);
  const modes = list("modes", o.modes, WIS_SHAPES, WIS_SHAPES);
  const eras = resolveEras(o.eras, WIS_DEFAULT_ERAS);
  const mode = resolveMode("will-it-scale", o.mode);
  const cpus = resolveCpus(o.cpus, WIS_DEFAULT_CPUS, mode);
  const { budgetCycles, budgetNs } = resolveBudgets(mode, o, WIS_DEFAULT_BUDGET, WIS_DEFAULT_BUDGET);
  const regionBytes = intIn("regionBytes", o.regionBytes ?? WIS_DEFAULT_REGION, 4096, REGION_MAX);
  if (regionBytes % 4096 !== 0) throw new ConfigError(`regionBytes: ${regionBytes} is not a multiple of the page size (4096)`);
  const seed = resolveSeed(o.seed);
  const timeoutMs = resolveTimeout(o.timeoutMs);
  if (mode === "parallel" && testcases.some((t) => t === "page_fault1" || t === "tlb_flush1")) {
    const n = Math.max(...cpus);
    if (BASE_MEMORY + n * (regionBytes + REGION_SLACK) > MAX_MEMORY) {
      throw new ConfigError(`regionBytes: ${n} tasks of a ${regionBytes / (1 << 20)} MiB region do not fit the machine's ${MAX_MEMORY / (1 << 30)} GiB ` +
        "in parallel mode (each task's whole region is provided for: a host-time budget does not bound the faults); use a smaller region");
    }
  }
  return { testcases, modes, eras, cpus: [...new Set(cpus)], budgetCycles, budgetNs, regionBytes, seed, mode, timeoutMs,
    debug: o.debug ?? false, check: o.check ?? true };
}

type Resolved = ReturnType<typeof resolve>;

/** The fewest cycles a page fault costs in virtual time, for sizing the machine (a bound, not a figure). */
const MIN_FAULT_CYCLES = 1000;
const MAX_MEMORY = 3 * 1024 ** 3;
/** What a run needs besides page_fault1's and tlb_flush1's pages. */
const BASE_MEMORY = 64 << 20;
/** Per task, above its pages: its page tables and what the loop allocates besides. */
const REGION_SLACK = 1 << 20;

/**
 * The machine's memory for a run: room for the pages page_fault1's and tlb_flush1's tasks can fault
 * within the budget (at most the region each; tlb_flush1's read after MADV_DONTNEED maps a fresh
 * zeroed page, kept until munmap: the emulator has no shared zero page), above the 64 MiB the rest needs. Frames past 64 MiB hold no
 * contents (the machine's backed memory), so a large machine costs only its mem_map. Timed mode
 * bounds the pages by the cycle budget; parallel mode (a host-time budget) provides the whole region
 * of every task (resolve refused what does not fit).
 */
function memoryFor(r: Resolved, t: WisTestcase, n: number): number {
  const base = BASE_MEMORY;
  if (t !== "page_fault1" && t !== "tlb_flush1") return base;
  const pages = r.budgetCycles === null ? r.regionBytes : Math.min(r.regionBytes, Math.ceil(r.budgetCycles / MIN_FAULT_CYCLES) * 4096);
  const perTask = pages + REGION_SLACK;
  return Math.min(MAX_MEMORY, base + n * perTask);
}

const JOBS: Record<WisTestcase, string> = { brk1: "wis_brk1", brk2: "wis_brk2", page_fault1: "wis_page_fault1", tlb_flush1: "wis_tlb_flush1" };

interface WisSetup {
  model: MmModel;
  outs: number[];
  /** The run's jobs with a budget (cycles or ns), writing their reports to outs or (report false) none. */
  jobs: (budget: bigint, report: boolean) => JobSpec[];
}

/**
 * The runner and its tasks on a booted machine (timed or parallel), from the host thread, and the
 * run's jobs: a parent whose heap has an anon_vma, then N children forked from it (processes) or N
 * threads of it (threads). Leaves every CPU idle (the runner only samples: each job makes its task
 * current). Throws MmemuError if the set-up fails.
 */
function setUp(mmu: Mmu, r: Resolved, t: WisTestcase, shape: WisShape, n: number, alloc: (bytes: number) => number): WisSetup {
  const model = new MmModel(mmu);
  const { tasks } = harnessTasks(model, { experiment: "will-it-scale", shape, count: n, firstCpu: 0 });
  model.idle({ cpu: 0 }); // the runner only samples: every CPU idle, each job makes its task current
  const outs = tasks.map(() => alloc(constant(mmu.exports, "WIS_OUT_SIZE")));
  const region = t === "brk1" || t === "brk2" ? 0 : r.regionBytes;
  const jobs = (budget: bigint, report: boolean) => tasks.map((task, cpu): JobSpec =>
    ({ cpu, job: JOBS[t], args: [task.pid, region, budget, 0xffff_ffff, report ? outs[cpu]! : 0] }));
  return { model, outs, jobs };
}

/** What a run measured besides the jobs' reports: timed from the virtual machine, parallel from the host. */
interface WisMeasure {
  results: bigint[];
  locks: RunLockStat[];
  /** Shootdowns received, summed over the CPUs (stats shootdownRecv + shootdownRemote of the run). */
  received: number;
  makespanCycles: number;
  hostElapsedNs: number | null;
  seconds: number;
  schedulerSwitches: number;
  digest: string;
}

/** The run's figures from the jobs' reports and m; runs the invariant checker (r.check). Throws MmemuError for a failed job. */
function collect(mmu: Mmu, r: Resolved, t: WisTestcase, shape: WisShape, e: Era, n: number, s: WisSetup, m: WisMeasure,
  read64: (addr: number) => bigint): WisRun {
  const x = mmu.exports;
  m.results.forEach((res, cpu) => {
    if (res < 0n) {
      throw new MmemuError(`will-it-scale: ${t}, ${shape}, era ${e.name}, ${n} CPUs: CPU ${cpu}'s job returned ${res} (a negative errno)` +
        (res === -12n ? "; the machine ran out of memory: try a smaller --region-mib or --budget" : ""));
    }
  });
  const sum = (name: string) => s.outs.reduce((acc, o) => acc + Number(read64(o + constant(x, name as "WIS_OUT_ITERATIONS"))), 0);
  const iterations = sum("WIS_OUT_ITERATIONS");
  const { seconds, locks } = m;
  const sleeps = locks.reduce((acc, l) => acc + l.sleeps, 0);
  const flushes = sum("WIS_OUT_TLB_FLUSHES"), ipis = sum("WIS_OUT_TLB_IPIS");
  let invariantViolations: string[] | null = null;
  if (r.check) {
    for (let cpu = 0; cpu < n; cpu++) s.model.idle({ cpu });
    invariantViolations = s.model.check().violations;
  }
  const per = (v: number) => (iterations ? v / iterations : 0);
  const ips = seconds > 0 ? iterations / seconds : 0;
  return {
    testcase: t, shape, era: e.name, cpus: n, tasks: n, iterations, syscalls: sum("WIS_OUT_SYSCALLS"), faults: sum("WIS_OUT_FAULTS"),
    makespanCycles: m.makespanCycles, hostElapsedNs: m.hostElapsedNs, seconds, iterationsPerSec: ips, perTaskPerSec: ips / n,
    contextSwitchesPerIteration: per(sleeps),
    tlb: { flushes, ipis, received: m.received, flushesPerIteration: per(flushes), ipisPerIteration: per(ipis) },
    schedulerSwitches: m.schedulerSwitches, digest: m.digest, locks, invariantViolations,
  };
}

/** One (testcase, shape, era, CPU count) run in virtual time. */
function runOne(r: Resolved, t: WisTestcase, shape: WisShape, e: Era, n: number, profile: CostProfile | undefined): WisRun {
  const vm = VirtualMachine.create({ cpus: n, memory: memoryFor(r, t, n), debug: r.debug, locks: e.locks, mm: e.mm, ...(profile ? { profile } : {}) });
  const s = setUp(vm.mmu, r, t, shape, n, (b) => vm.alloc(b));
  const before = vm.mmu.lockStats();
  const res = vm.run({ mode: "timed", seed: r.seed, jobs: s.jobs(BigInt(r.budgetCycles!), true) });
  const after = vm.mmu.lockStats();
  const makespan = Number(res.makespan);
  const received = res.cpus.reduce((acc, c) => acc + Number(c.stats.shootdownRecv ?? 0n) + Number(c.stats.shootdownRemote ?? 0n), 0);
  return collect(vm.mmu, r, t, shape, e, n, s, {
    results: res.cpus.map((c) => c.result), locks: lockStatDiff(before, after), received, makespanCycles: makespan, hostElapsedNs: null,
    seconds: makespan / (vm.costs.ghz * 1e9), schedulerSwitches: res.switches, digest: res.digest,
  }, (a) => vm.read64(a));
}

/** One (testcase, shape, era, CPU count) run on worker CPUs, for real, with the host-time budget (parallel.ts). */
async function runOneParallel(r: Resolved, t: WisTestcase, shape: WisShape, e: Era, n: number): Promise<WisRun> {
  return withParallelMachine({ cpus: n, memory: memoryFor(r, t, n), debug: r.debug, locks: e.locks, mm: e.mm, timeoutMs: r.timeoutMs }, async (pm) => {
    const s = setUp(pm.mmu, r, t, shape, n, (b) => pm.alloc(b));
    // Warm-up, unmeasured, without reports (parallel.ts): brk1's break and page_fault1's and
    // tlb_flush1's regions end where they began; brk2's sbrk(page) leaves the break a page higher.
    await pm.warmUp(s.jobs(warmupBudgetNs(r.budgetNs!), false), `will-it-scale: ${t}, ${shape}, era ${e.name}, ${n} CPUs`);
    const shootdowns = () => Array.from({ length: n }, (_, cpu) => {
      const st = pm.mmu.cpuStats(cpu);
      return Number(st.shootdownRecv ?? 0n) + Number(st.shootdownRemote ?? 0n);
    }).reduce((a, b) => a + b, 0);
    const before = shootdowns();
    const res = await pm.run(s.jobs(BigInt(r.budgetNs!), true));
    const received = shootdowns() - before;
    return collect(pm.mmu, r, t, shape, e, n, s, {
      results: res.cpus.map((c) => c.result), locks: res.locks, received, makespanCycles: 0, hostElapsedNs: res.elapsedNs,
      seconds: res.elapsedNs / 1e9, schedulerSwitches: 0, digest: "",
    }, (a) => pm.read64(a));
  });
}

/** Speedup against the smallest CPU count, per (testcase, shape, era). */
function scalingOf(r: Resolved, runs: WisRun[]): WisScaling[] {
  const out: WisScaling[] = [];
  const base = Math.min(...r.cpus);
  for (const t of r.testcases) {
    for (const s of r.modes) {
      for (const e of r.eras) {
        const rs = runs.filter((x) => x.testcase === t && x.shape === s && x.era === e.name).sort((a, b) => a.cpus - b.cpus);
        const b = rs.find((x) => x.cpus === base)!;
        out.push({ testcase: t, shape: s, era: e.name, baseCpus: base, points: rs.map((x) => {
          const speedup = b.iterationsPerSec ? x.iterationsPerSec / b.iterationsPerSec : 0;
          return { cpus: x.cpus, speedup, efficiency: speedup / (x.cpus / base) };
        }) });
      }
    }
  }
  return out;
}

/**
 * runWillItScale - run the experiment. Timed mode (the default): synchronous, every run in virtual
 * time. Throws ConfigError for bad options (unknown testcase, mode or era; CPU counts outside 1..64;
 * a bad budget, region or seed) and MmemuError when a job fails (its negative errno named). Parallel
 * mode (options.mode "parallel"): returns a Promise of the same result, every run on worker CPUs with
 * the host-time budget; bad options (a CPU count above the host's cores, a region times CPU count
 * that does not fit the machine, budgetCycles among them) throw the ConfigError before any machine
 * is made; it rejects with MmemuError for a failed job, CpuDiedError / CpuStuckError for a dead or
 * stuck worker.
 */
export function runWillItScale(options: WillItScaleOptions & { mode: "parallel" }): Promise<WillItScaleResult>;
export function runWillItScale(options?: WillItScaleOptions & { mode?: "timed" }): WillItScaleResult;
export function runWillItScale(options?: WillItScaleOptions): WillItScaleResult | Promise<WillItScaleResult>;
export function runWillItScale(options: WillItScaleOptions = {}): WillItScaleResult | Promise<WillItScaleResult> {
  const r = resolve(options);
  return runGrid({
    mode: r.mode, points: r.testcases.flatMap((t) => r.modes.flatMap((s) => r.eras.flatMap((e) => r.cpus.map((n) => ({ t, s, e, n }))))),
    label: ({ t, s, e, n }) => `${t}, ${s}, era ${e.name}, ${n} CPU${n === 1 ? "" : "s"}`,
    timed: ({ t, s, e, n }) => runOne(r, t, s, e, n, options.profile), parallel: ({ t, s, e, n }) => runOneParallel(r, t, s, e, n),
    onProgress: options.onProgress, finish: (runs) => finish(r, options, runs),
  });
}

/** The parallel notes: PARALLEL_NOTE, the budget and units, then the timed notes that still apply. */
export const WIS_PARALLEL_NOTES: readonly string[] = [
  PARALLEL_NOTE,
  "every CPU runs its testcase for the same host-time budget (budgetNs; the jobs read the host's monotonic clock); " +
    "throughput = iterations / the run's host time (the start barrier's release to the last task's end); lock wait and " +
    "hold are host nanoseconds (timeUnit), measured with two clock reads per acquisition and one per release inside the run; " +
    "makespanCycles and schedulerSwitches are 0 and digest is empty; the seed has no effect; every CPU first runs its " +
    "testcase unmeasured for a tenth of the budget, at least 100 ms (the workers' JIT tier-up)",
  "the emulated CPUs are worker threads running the core's Wasm, as many as the host has cores at most: a system call " +
    "costs the emulator's instructions, not a kernel's, and the host's cores, caches and scheduler decide who contends; " +
    "compare eras and shapes on the same host and run, not with history",
  "page_fault1 and tlb_flush1: the machine is sized for every task's whole region (a host-time budget does not bound the " +
    "faults), so region x CPUs must fit 3 GiB",
  WIS_NOTES[2]!,
  WIS_NOTES[3]!,
  WIS_NOTES[4]!,
];

function finish(r: Resolved, options: WillItScaleOptions, runs: WisRun[]): WillItScaleResult {
  const profile = options.profile ?? DEFAULT_PROFILE;
  const parallel = r.mode === "parallel";
  return { experiment: "will-it-scale", mode: r.mode, timeUnit: parallel ? "ns" : "cycles", hostCores: parallel ? hostCores() : null,
    seed: r.seed, testcases: r.testcases, modes: r.modes, cpus: r.cpus,
    budgetCycles: r.budgetCycles, budgetNs: r.budgetNs, regionBytes: r.regionBytes, ghz: profile.ghz, profile: profile.description ?? "", eras: r.eras, runs,
    scaling: scalingOf(r, runs), notes: [...(parallel ? WIS_PARALLEL_NOTES : WIS_NOTES)] };
}

/** Whether every run passed the invariant checker (or was not checked). */
export const willItScaleOk = (r: WillItScaleResult) => r.runs.every((x) => x.invariantViolations === null || x.invariantViolations.length === 0);

/** The result as a terminal table, one row per run. */
export function formatWillItScale(res: WillItScaleResult, table: (h: string[], rows: string[][]) => string): string {
  const f = (v: number, d = 0) => v.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
  const eff = (run: WisRun) => res.scaling.find((s) => s.testcase === run.testcase && s.shape === run.shape && s.era === run.era)
    ?.points.find((p) => p.cpus === run.cpus)?.efficiency;
  const lock = (run: WisRun, cls: string) => run.locks.find((l) => l.class === cls);
  const rows = res.runs.map((run) => {
    const av = lock(run, "anon_vma"), ms = lock(run, "mmap_sem"), e = eff(run);
    return [run.testcase, run.shape, run.era, String(run.cpus), f(run.iterationsPerSec), f(run.perTaskPerSec),
      e === undefined ? "-" : `${f(e * 100)}%`, f(run.contextSwitchesPerIteration, 4), av ? f(av.contentions) : "-", ms ? f(ms.contentions) : "-",
      f(run.tlb.flushesPerIteration, 2), f(run.tlb.ipisPerIteration, 2),
      run.invariantViolations === null ? "-" : run.invariantViolations.length === 0 ? "ok" : "FAIL"];
  });
  const mib = res.regionBytes / (1 << 20);
  const region = `region ${Number.isInteger(mib) ? `${mib} MiB` : `${f(res.regionBytes)} bytes`}`;
  const head = res.mode === "parallel"
    ? `will-it-scale: ${f(res.budgetNs ?? 0)} ns of host time per CPU, ${region}, ` +
      `parallel (worker threads, host time on ${res.hostCores ?? "?"} cores: not reproducible)`
    : `will-it-scale: ${f(res.budgetCycles ?? 0)} cycles per CPU, ${region}, timed (virtual time at ${res.ghz} GHz), seed ${res.seed}`;
  const t = table(["testcase", "shape", "era", "cpus", res.mode === "parallel" ? "iterations/s (host)" : "iterations/s", "per task/s", "efficiency", "ctxsw/iter", "av cont", "mmap_sem cont",
    "flushes/iter", "IPIs/iter", "mm check"], rows);
  return `${head}\n\n${t}\n\nnotes:\n${res.notes.map((n) => `  - ${n}`).join("\n")}`;
}
