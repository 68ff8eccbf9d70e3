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
// Deterministic: the same options give the same result object (and JSON), bit for bit. Host time is
// not part of the result.
import { lockStatDiff, type RunLockStat } from "./lock-diff.js";
import { VirtualMachine } from "../sched/virtual-machine.js";
import { MmModel, type Process } from "../mm/process.js";
import { constant } from "../core/abi.js";
import { ConfigError, MmemuError } from "../core/errors.js";
import type { CostProfile } from "../cost/profile.js";
import { DEFAULT_PROFILE } from "../cost/default-profile.js";
import type { LockClassStat } from "../locking/lock-stat.js";
import { MAX_CPUS } from "../options.js";
import { era as eraByName, ERA_NAMES, type Era } from "./eras.js";

export type Aim9Workload = "brk_test" | "page_test";
export type Aim9Shape = "processes" | "threads";

export interface Aim9BrkOptions {
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
  /** Only "timed" so far. */
  mode?: "timed";
  /** Cost profile (default the shipped one). */
  profile?: CostProfile;
  /** Use the debug build (invariants and lockdep checked; slower). */
  debug?: boolean;
  /** Called after each run with how many of the total are done. */
  onProgress?: (done: number, total: number, label: string) => void;
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
  /** Virtual time from start to the last task's end. */
  makespanCycles: number;
  seconds: number;
  /** AIM9's figures, all tasks together. */
  loopsPerSec: number;
  opsPerSec: number;
  /** The same per task (the mean). */
  loopsPerSecPerTask: number;
  /** Sleeps of every lock class per sbrk call: the context switches Arcangeli asked about. */
  contextSwitchesPerSbrk: number;
  /** Times the scheduler resumed a different CPU (engine detail, not a kernel context switch). */
  schedulerSwitches: number;
  /** The schedule's digest (equal runs have equal digests). */
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
  mode: "timed";
  workload: Aim9Workload;
  shape: Aim9Shape;
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
  "userWrites", "makespanCycles", "seconds", "loopsPerSec", "opsPerSec", "loopsPerSecPerTask", "contextSwitchesPerSbrk",
  "schedulerSwitches", "digest", "sbrkPerLoop", "heapRestored", "locks"];

export const DEFAULT_CPUS = [1, 2, 4, 8];

function resolve(o: Aim9BrkOptions) {
  if (o === null || typeof o !== "object") throw new ConfigError("aim9-brk: expected an options object");
  const eras = (o.eras ?? [...ERA_NAMES]).map((e) => (typeof e === "string" ? eraByName(e) : eraByName(e.name, { locks: e.locks, mm: e.mm })));
  if (eras.length === 0) throw new ConfigError("eras: expected at least one era");
  const cpus = o.cpus ?? DEFAULT_CPUS;
  if (!Array.isArray(cpus) || cpus.length === 0) throw new ConfigError("cpus: expected a non-empty list of CPU counts");
  for (const c of cpus) {
    if (!Number.isInteger(c) || c < 1 || c > MAX_CPUS) throw new ConfigError(`cpus: ${String(c)} is out of range (1..${MAX_CPUS})`);
  }
  const shape = o.shape ?? "processes";
  if (shape !== "processes" && shape !== "threads") throw new ConfigError(`shape: "${String(shape)}" is not processes or threads`);
  const workload = o.workload ?? "brk_test";
  if (workload !== "brk_test" && workload !== "page_test") throw new ConfigError(`workload: "${String(workload)}" is not brk_test or page_test`);
  if (workload === "page_test" && shape === "threads") {
    throw new ConfigError("workload: page_test needs processes: threads share one break and would store beyond it (SIGSEGV)");
  }
  const loops = o.loops ?? 1;
  if (!Number.isInteger(loops) || loops < 1 || loops > 1_000_000) throw new ConfigError(`loops: ${String(loops)} is out of range (1..1000000)`);
  const seed = o.seed ?? 1;
  if (!Number.isSafeInteger(seed) || seed < 0) throw new ConfigError(`seed: ${String(seed)} is not a non-negative integer`);
  const mode = o.mode ?? "timed";
  if (mode !== "timed") throw new ConfigError(`mode: "${String(mode)}" is not available for aim9-brk yet (timed)`);
  return { eras, cpus: [...cpus], shape, workload, loops, seed, mode, debug: o.debug ?? false };
}

/** Pages of heap the parent has before the test (the harness's malloc arena); the first one touched. */
const HARNESS_HEAP_PAGES = 16n;

function lockDiff(before: LockClassStat[], after: LockClassStat[], sbrk: number): Aim9LockStat[] {
  return lockStatDiff(before, after).map((l) => ({
    ...l, sleepsPerSbrk: sbrk ? l.sleeps / sbrk : 0, contentionsPerSbrk: sbrk ? l.contentions / sbrk : 0,
  }));
}

/** One (era, CPU count) run. */
function runOne(r: ReturnType<typeof resolve>, e: Era, n: number, profile: CostProfile | undefined): Aim9Run {
  const vm = VirtualMachine.create({ cpus: n, memory: r.workload === "page_test" ? "64MiB" : "32MiB", debug: r.debug,
    locks: e.locks, mm: e.mm, ...(profile ? { profile } : {}) });
  const x = vm.exports;
  const model = new MmModel(vm.mmu);
  const parent = model.spawn({ cpu: 0 });
  const start = parent.brk(0n);
  if (parent.brk(start + HARNESS_HEAP_PAGES * 4096n) !== start + HARNESS_HEAP_PAGES * 4096n) throw new MmemuError("aim9-brk: the harness heap could not grow");
  if (parent.write(start, 1) !== 0) throw new MmemuError("aim9-brk: the harness heap could not be touched");
  const tasks: Process[] = [parent];
  for (let k = 1; k < n; k++) {
    const t = r.shape === "processes" ? parent.fork() : parent.thread({ homeCpu: k });
    if (typeof t === "number") throw new MmemuError(`aim9-brk: ${r.shape === "processes" ? "fork" : "clone"} failed (${t})`);
    tasks.push(t);
  }
  const base = r.shape === "threads" ? parent.brk(0n) : 0n;
  const heapBefore = tasks.map((t) => t.brk(0n, { cpu: 0 }));
  // Leave CPU 0 with the parent current (the others idle): the job makes each task current on its CPU.
  parent.brk(0n, { cpu: 0 });
  const outSize = constant(x, "AIM9_OUT_SIZE");
  const outs = tasks.map(() => vm.alloc(outSize));
  const job = r.workload === "brk_test" ? "aim9_brk" : "aim9_page";
  const before = vm.mmu.lockStats();
  const res = vm.run({ mode: "timed", seed: r.seed, jobs: tasks.map((t, cpu) => ({ cpu, job, args: [t.pid, r.loops, base, outs[cpu]!] })) });
  for (const c of res.cpus) {
    if (c.result !== BigInt(r.loops)) throw new MmemuError(`aim9-brk: era ${e.name}, ${n} CPUs: CPU ${c.cpu}'s job returned ${c.result} (a negative errno)`);
  }
  const after = vm.mmu.lockStats();
  const sum = (off: string) => outs.reduce((s, o) => s + Number(vm.read64(o + constant(x, off as "AIM9_OUT_SBRK"))), 0);
  const sbrkCalls = sum("AIM9_OUT_SBRK");
  const loops = n * r.loops;
  const heapAfter = tasks.map((t, cpu) => t.brk(0n, { cpu })); // each task is still current on its CPU
  const makespan = Number(res.makespan);
  const ghz = vm.costs.ghz;
  const seconds = makespan / (ghz * 1e9);
  const locks = lockDiff(before, after, sbrkCalls);
  const sleeps = locks.reduce((s, l) => s + l.sleeps, 0);
  return {
    era: e.name, cpus: n, tasks: n, loops, sbrkCalls, otherBrkCalls: sum("AIM9_OUT_OTHER_BRK"), userWrites: sum("AIM9_OUT_WRITES"),
    makespanCycles: makespan, seconds,
    loopsPerSec: seconds > 0 ? loops / seconds : 0, opsPerSec: seconds > 0 ? sbrkCalls / seconds : 0,
    loopsPerSecPerTask: seconds > 0 ? r.loops / seconds : 0,
    contextSwitchesPerSbrk: sbrkCalls ? sleeps / sbrkCalls : 0,
    schedulerSwitches: res.switches, digest: res.digest,
    sbrkPerLoop: sbrkCalls / loops,
    heapRestored: heapAfter.every((h, i) => h === heapBefore[i]),
    locks,
  };
}

/** The baseline of the ratios: the first listed era whose anon_vma lock is a spinlock, else the first. */
function baselineEra(eras: Era[]): Era {
  return eras.find((e) => e.locks.anon_vma === "ticket" || e.locks.anon_vma === "tas") ?? eras[0]!;
}

/**
 * Run the experiment (synchronously; every run in virtual time). Throws ConfigError for bad options
 * and MmemuError when a job fails (its negative errno named).
 */
export function runAim9Brk(options: Aim9BrkOptions = {}): Aim9BrkResult {
  const r = resolve(options);
  const total = r.eras.length * r.cpus.length;
  const runs: Aim9Run[] = [];
  for (const e of r.eras) {
    for (const n of r.cpus) {
      runs.push(runOne(r, e, n, options.profile));
      options.onProgress?.(runs.length, total, `era ${e.name}, ${n} CPU${n === 1 ? "" : "s"}`);
    }
  }
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
  return { experiment: "aim9-brk", mode: "timed", workload: r.workload, shape: r.shape, seed: r.seed, loops: r.loops,
    cpus: r.cpus, ghz: profile.ghz, profile: profile.description ?? "", eras: r.eras, runs, ratios, notes: [...AIM9_NOTES] };
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
  const head = `aim9-brk: ${res.workload}, ${res.shape}, ${res.loops} loop(s) per task, timed (virtual time at ${res.ghz} GHz), seed ${res.seed}`;
  const t = table(["era", "cpus", "loops/s", "ops/s", "ctxsw/sbrk", "av cont/sbrk", "av handoffs", "av wait cyc", "av p99 wait", "av hold cyc",
    "mmap_sem cont/sbrk", "loop check"], rows);
  const ratioRows = res.ratios.map((q) => [q.era, String(q.cpus), `${f(q.throughputRatio, 3)}x`, f(q.addedContextSwitchesPerSbrk, 3)]);
  const rt = ratioRows.length ? `\n\nthroughput against ${res.ratios[0]!.baseline} (spinlock anon_vma):\n` +
    table(["era", "cpus", "ops/s ratio", "added ctxsw/sbrk"], ratioRows) : "";
  return `${head}\n\n${t}${rt}\n\nnotes:\n${res.notes.map((n) => `  - ${n}`).join("\n")}`;
}
