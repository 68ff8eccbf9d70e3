// Parallel mode of the experiments (issue 5): the same virtual-CPU jobs as timed mode, run for real,
// one worker thread per emulated CPU over the machine's one shared WebAssembly.Memory (src/machine.ts),
// so the contention is the host's own: real cache-line transfers, real spinning, real futex sleeps
// (memory.atomic.wait32 / notify in the parallel build of the core).
//
// How an experiment uses it (aim9-brk.ts and rmap-locks.ts do exactly this):
//
//   checkParallelCpus(n);                                  // n <= os.availableParallelism(), else ConfigError
//   await withParallelMachine({ cpus: n, memory, locks, mm, debug }, async (pm) => {
//     const model = new MmModel(pm.mmu);                   // set up from this thread (no worker runs yet)
//     const p = model.spawn({ cpu: 0 }); ...               // processes, forks, threads, vmas, pages
//     const out = pm.alloc(bytes);                         // kernel memory for a job's report
//     const r = await pm.run([{ cpu: 0, job: "aim9_brk", args: [p.pid, 1, 0, out] }, ...]);
//     r.cpus[k].result, r.cpus[k].endNs, r.elapsedNs, r.locks, pm.read64(out)  // after the run, from this thread
//   });                                                    // the workers are always stopped
//
// The host thread and the workers are separate instances of the core on the same memory: the host's
// MmModel calls run as the CPU they name (each instance has its own per-CPU globals), and must not run
// while a job does (run() awaits every CPU before it returns). Jobs are the core's job table
// (assembly/kernel/vcpu.ts, by name as src/sched/jobs.ts finds them): recorded with vcpu_set_job from
// this thread, then run by every worker at once behind the machine's start barrier with cpu_run_job.
//
// What is measured, and in what unit: host time in nanoseconds (process.hrtime: the one monotonic clock
// of every thread of the process), read on each worker as the start barrier releases it and as its job
// returns; the run's elapsed time is from the earliest release to the last CPU's end (the run alone: not
// the set-up, not the messages to and from the workers). Lock statistics are the run's alone (after -
// before, src/experiments/lock-diff.ts) with every class LC_TIMED (lockStatTiming: two host clock reads per
// acquisition and one per release, CONFIG_LOCK_STAT's cost, paid inside the measured run): their wait and hold figures are
// nanoseconds although lock-diff.ts names the fields *Cycles; the run says so (timeUnit: "ns").
//
// Warm-up: each run first runs its jobs unmeasured (warmUp), so that the workers' JIT tier-up of the
// core is not in the figures. A budget job warms up for warmupBudgetNs(budget): a tenth of the
// budget, at least PARALLEL_MIN_WARMUP_NS (fork-server measured 6.8k, then 24k, then 38k messages/s in
// successive runs of one era at 1 CPU after a 2 ms warm-up: the tier-up outlives a short one).
//
// Not reproducible: the figures depend on the host (its cores, its load, the other threads of the
// process, the JIT). Nothing here is deterministic, and no digest or seed applies.
import { availableParallelism } from "node:os";
import { Machine, type CpuJob } from "../machine.js";
import type { Mmu } from "../mmu.js";
import type { MmOptions } from "../options.js";
import { ConfigError, MmemuError } from "../core/errors.js";
import { JobMemory, resolveJobs, setJobs, type JobSpec } from "../sched/jobs.js";
import { lockStatDiff, type RunLockStat } from "./lock-diff.js";

/** What a parallel experiment states about its mode (timed experiments: the virtual clock). */
export const PARALLEL_NOTE =
  "parallel mode: real host threads (one worker per emulated CPU) and real contention; figures are host time " +
  "and host-dependent (cores, load, JIT): they vary from run to run and are not reproducible from a seed";

/** Default time a worker may take for one job before it is reported stuck and terminated: 10 minutes. */
export const PARALLEL_DEFAULT_TIMEOUT_MS = 600_000;

/** The least unmeasured warm-up of a budget job, host ns (100 ms). */
export const PARALLEL_MIN_WARMUP_NS = 100_000_000;

/** The warm-up budget of a job whose measured budget is budgetNs: a tenth of it, at least PARALLEL_MIN_WARMUP_NS. */
export function warmupBudgetNs(budgetNs: number): bigint {
  return BigInt(Math.max(PARALLEL_MIN_WARMUP_NS, Math.floor(budgetNs / 10)));
}

/** The host's cores as Node counts them (os.availableParallelism()): the most CPUs parallel mode runs. */
export function hostCores(): number {
  return availableParallelism();
}

/**
 * checkParallelCpus - refuse a CPU count parallel mode cannot run for real: above the host's cores
 * (os.availableParallelism()), every emulated CPU would not have a core, and time slicing by the host
 * scheduler would stand in for contention. Takes the count (or counts) and the option's name for the
 * message. Throws a ConfigError naming both numbers; returns nothing.
 */
export function checkParallelCpus(cpus: number | readonly number[], what = "cpus"): void {
  const cores = hostCores();
  for (const n of typeof cpus === "number" ? [cpus] : cpus) {
    if (n > cores) {
      throw new ConfigError(`${what}: ${n} CPUs in parallel mode, but this host has ${cores} core${cores === 1 ? "" : "s"} ` +
        `(os.availableParallelism()): at most ${cores}, or use timed mode (any CPU count)`);
    }
  }
}

/**
 * The CPU counts of a default list that parallel mode can run here (those <= the host's cores); the
 * smallest of the list if none fits (checkParallelCpus then names it).
 */
export function parallelDefaultCpus(dflt: readonly number[]): number[] {
  const fit = dflt.filter((n) => n <= hostCores());
  return fit.length ? fit : [Math.min(...dflt)];
}

export interface ParallelMachineOptions {
  /** Emulated CPUs = worker threads, 1..host cores. */
  cpus: number;
  memory?: number | string;
  debug?: boolean;
  /** Lock type per class (an era's locks). */
  locks?: Record<string, string>;
  /** MM switches (an era's mm). */
  mm?: MmOptions;
  /** Time wait and hold of every lock class (LC_TIMED, nanoseconds); default true. */
  lockStatTiming?: boolean;
  /** A job still running after this many ms: CpuStuckError, its worker terminated (default 10 minutes). */
  timeoutMs?: number;
}

/** One CPU's job in a parallel run, its times relative to the run's start (the earliest barrier release). */
export interface ParallelCpuResult {
  cpu: number;
  job: string;
  /** The job's i64 result (a count, or a negative errno). */
  result: bigint;
  /** When the barrier released this CPU and when its job returned, ns after the run's start. */
  startNs: number;
  endNs: number;
}

export interface ParallelRunResult {
  cpus: ParallelCpuResult[];
  /** Host time of the run alone: earliest barrier release to the last CPU's end, ns. */
  elapsedNs: number;
  /** Lock statistics of the run alone, per class acquired in it; wait and hold in ns (timeUnit). */
  locks: RunLockStat[];
  timeUnit: "ns";
}

/** A Machine of worker CPUs set up for an experiment run; see the top of this file. */
export class ParallelMachine {
  private readonly mem: JobMemory;

  private constructor(readonly machine: Machine) {
    this.mem = new JobMemory(machine.mmu);
  }

  /**
   * create - boot a machine of o.cpus worker CPUs (checked against the host's cores: ConfigError) with
   * o's locks and MM switches, every lock class timed unless lockStatTiming is false. Rejects with a
   * ConfigError for bad options, CpuDiedError if a worker fails to start.
   */
  static async create(o: ParallelMachineOptions): Promise<ParallelMachine> {
    if (o === null || typeof o !== "object") throw new ConfigError("parallel: expected an options object");
    if (!Number.isInteger(o.cpus) || o.cpus < 1) throw new ConfigError(`cpus: ${String(o.cpus)} is not a positive integer`);
    checkParallelCpus(o.cpus);
    const timeoutMs = o.timeoutMs ?? PARALLEL_DEFAULT_TIMEOUT_MS;
    const machine = await Machine.create({ cpus: o.cpus, memory: o.memory ?? "32MiB", debug: o.debug ?? false,
      locks: o.locks ?? {}, mm: o.mm ?? {}, lockStatTiming: o.lockStatTiming ?? true, callTimeoutMs: timeoutMs });
    return new ParallelMachine(machine);
  }

  /** The host thread's view of the machine: set-up (MmModel) and inspection, never while run() is pending. */
  get mmu(): Mmu {
    return this.machine.mmu;
  }

  get cpus(): number {
    return this.machine.cpus;
  }

  /**
   * alloc - zeroed kernel memory for a job's report or shared words: bytes (1..4096) rounded up to a
   * 64-byte line of its own, in frames with contents (what vcpu_set_job accepts). Never freed.
   * Throws ConfigError for a bad size, ErrnoError(-ENOMEM) when no frame is left.
   */
  alloc(bytes = 64): number {
    return this.mem.alloc(bytes);
  }

  /** The u64 at addr (8-byte aligned), read atomically; for job reports after run(). */
  read64(addr: number): bigint {
    return this.mem.read64(addr);
  }

  /**
   * warmUp - run jobs once, unmeasured (see the top of this file), before the measured run. Throws
   * MmemuError naming `what` and the CPU when a job returns a negative errno; rejects as run() does.
   */
  async warmUp(jobs: JobSpec[], what: string): Promise<void> {
    const warm = await this.run(jobs);
    for (const c of warm.cpus) if (c.result < 0n) throw new MmemuError(`${what}: CPU ${c.cpu}'s warm-up returned ${c.result}`);
  }

  /**
   * run - record each job (a core job name and up to six integer arguments, one job per CPU) with
   * vcpu_set_job from this thread, then run them all at once on their workers behind the start barrier
   * (cpu_run_job), and read the lock statistics before and after. Nothing of this thread's may run
   * meanwhile (it awaits). Resolves with each CPU's result and host times, the run's elapsed ns and
   * its lock statistics (ns). Rejects with ConfigError for a bad job or arguments the core refuses,
   * CpuDiedError when a worker died, CpuStuckError when a job outlived timeoutMs (the worker is then
   * terminated and the machine unusable: destroy it). A job's negative result is returned, not thrown.
   */
  async run(jobs: JobSpec[]): Promise<ParallelRunResult> {
    const x = this.mmu.exports;
    const resolved = resolveJobs(x, this.cpus, 6, jobs);
    setJobs(x, resolved);
    const before = this.mmu.lockStats();
    const cpuJobs: CpuJob[] = resolved.map((j) => ({ cpu: j.cpu, fn: "cpu_run_job" }));
    const timed = await this.machine.runTimed(cpuJobs);
    const after = this.mmu.lockStats();
    const t0 = timed.reduce((m, t) => (t.startNs < m ? t.startNs : m), timed[0]!.startNs);
    const cpus = timed.map((t, i): ParallelCpuResult => ({
      cpu: resolved[i]!.cpu, job: resolved[i]!.job, result: BigInt(t.result),
      startNs: Number(t.startNs - t0), endNs: Number(t.endNs - t0),
    }));
    const elapsedNs = cpus.reduce((m, c) => Math.max(m, c.endNs), 0);
    if (after.some((s) => s.unit !== "ns")) throw new MmemuError("parallel: the machine's lock statistics are not in ns (a virtual build?)");
    return { cpus, elapsedNs, locks: lockStatDiff(before, after), timeUnit: "ns" };
  }

  /** Stop every worker; safe to call twice and after a CPU died. */
  async destroy(): Promise<void> {
    await this.machine.destroy();
  }
}

/**
 * withParallelMachine - create a ParallelMachine (see create), run body on it and always destroy it.
 * Resolves with body's value; rejects with create's errors or body's.
 */
export async function withParallelMachine<T>(o: ParallelMachineOptions, body: (pm: ParallelMachine) => Promise<T>): Promise<T> {
  const pm = await ParallelMachine.create(o);
  try {
    return await body(pm);
  } finally {
    await pm.destroy();
  }
}
