// A Machine: the shared memory of an emulated machine with one worker thread per CPU, each running
// its own instance of the core on that memory (parallel mode). The host thread keeps an Mmu view of
// the same memory for setup and inspection.
//
// Failure handling: a call to a CPU whose worker dies rejects with CpuDiedError (CPU id, cause and
// what the CPU was doing, read from shared memory); a call that does not finish within
// callTimeoutMs rejects with CpuStuckError and the worker is terminated; a CPU that spins past its
// bound inside the core is reported as CpuStuckError too. destroy() always succeeds.
import { Worker } from "node:worker_threads";
import { wrap, type Remote } from "comlink";
import nodeEndpoint from "comlink/dist/esm/node-adapter.mjs";
import { Mmu } from "./mmu.js";
import { resolveOptions, type MachineOptions } from "./options.js";
import type { CoreFunction } from "./core/abi.js";
import type { cpuApi, CpuWorkerData } from "./cpu/worker.js";
import { ConfigError, CpuDiedError, CpuStuckError, MachineDestroyedError } from "./core/errors.js";
import { installErrorTransfer } from "./core/error-transfer.js";

export interface MachineCreateOptions extends MachineOptions {
  /** Reject a CPU call that has not finished after this many milliseconds (default: no limit). */
  callTimeoutMs?: number;
}

/** A job for Machine.run: core function fn (a cpu_* export) with args after the CPU id. */
export interface CpuJob {
  cpu: number;
  fn: CoreFunction;
  args?: (number | bigint)[];
}

/** One job's result from Machine.runTimed: host monotonic nanoseconds after the barrier and at its end. */
export interface TimedCpuResult {
  result: number | bigint;
  startNs: bigint;
  endNs: bigint;
}

type CpuApi = typeof cpuApi;

interface CpuSlot {
  cpu: number;
  worker: Worker;
  remote: Remote<CpuApi>;
  dead?: CpuDiedError;
  died: Promise<never>;
  online: Promise<void>;
}

function workerEntry(): { url: URL; data: Record<string, unknown> } {
  if (import.meta.url.endsWith(".ts")) {
    const entry = new URL("./cpu/worker.ts", import.meta.url).href;
    return { url: new URL("./cpu/worker-tsx.mjs", import.meta.url), data: { entry } };
  }
  return { url: new URL("./cpu/worker.js", import.meta.url), data: {} };
}

export class Machine {
  /** The host thread's view of the machine (setup, inspection). */
  readonly mmu: Mmu;
  private readonly slots: CpuSlot[] = [];
  private destroyed = false;
  private readonly timeoutMs: number | undefined;

  static async create(opts: MachineCreateOptions = {}): Promise<Machine> {
    const { callTimeoutMs, ...machineOpts } = opts;
    if (callTimeoutMs !== undefined && (!Number.isFinite(callTimeoutMs) || callTimeoutMs <= 0)) {
      throw new ConfigError(`callTimeoutMs: ${String(callTimeoutMs)} is not a positive number of milliseconds`);
    }
    const o = resolveOptions(machineOpts, 2);
    const m = new Machine(Mmu.boot(o), callTimeoutMs);
    try {
      await Promise.all(m.slots.map((s) => Promise.race([s.online, s.died])));
    } catch (e) {
      await m.destroy();
      throw e;
    }
    return m;
  }

  private constructor(mmu: Mmu, timeoutMs: number | undefined) {
    installErrorTransfer();
    this.mmu = mmu;
    this.timeoutMs = timeoutMs;
    const { url, data } = workerEntry();
    for (let cpu = 0; cpu < mmu.cpus; cpu++) {
      const workerData: CpuWorkerData & Record<string, unknown> = { ...data, memory: mmu.memory, flavor: mmu.flavor, cpu };
      const worker = new Worker(url, { workerData });
      const slot = { cpu, worker } as CpuSlot;
      slot.died = new Promise<never>((_, reject) => {
        const die = (reason: string) => {
          if (slot.dead) return;
          slot.dead = new CpuDiedError(mmu.activity(cpu), reason);
          reject(slot.dead);
        };
        worker.on("error", (e) => die(`uncaught ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`));
        worker.on("exit", (code) => { if (!this.destroyed) die(`its worker exited with code ${code}`); });
      });
      slot.died.catch(() => { /* observed through calls */ });
      slot.online = new Promise<void>((resolve) => worker.once("online", () => resolve()));
      slot.remote = wrap<CpuApi>(nodeEndpoint(worker));
      this.slots.push(slot);
    }
  }

  get cpus(): number {
    return this.mmu.cpus;
  }

  private slot(cpu: number): CpuSlot {
    if (this.destroyed) throw new MachineDestroyedError();
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.cpus) {
      throw new ConfigError(`cpu: ${String(cpu)} is not a CPU of this machine (0..${this.cpus - 1})`);
    }
    const s = this.slots[cpu]!;
    if (s.dead) throw s.dead;
    return s;
  }

  private async guard<T>(cpu: number, op: Promise<T>): Promise<T> {
    const s = this.slot(cpu);
    const racers: Promise<T>[] = [op, s.died];
    let timer: NodeJS.Timeout | undefined;
    if (this.timeoutMs !== undefined) {
      const ms = this.timeoutMs;
      racers.push(new Promise<T>((_, reject) => {
        timer = setTimeout(() => {
          const err = new CpuStuckError(this.mmu.activity(cpu), `no answer after ${ms} ms; its worker was terminated`);
          s.dead = new CpuDiedError(err.state, err.message);
          void s.worker.terminate();
          reject(err);
        }, ms);
      }));
    }
    try {
      return await Promise.race(racers);
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  /** Run core function fn (a cpu_* export) on CPU cpu's worker with args after the CPU id. */
  async call(cpu: number, fn: CoreFunction, ...args: (number | bigint)[]): Promise<number | bigint> {
    const s = this.slot(cpu);
    return this.guard(cpu, s.remote.call(fn, args) as Promise<number | bigint>);
  }

  /** Every job's CPU exists and has one job at most (ConfigError otherwise). */
  private checkJobs(jobs: CpuJob[]): void {
    const seen = new Set<number>();
    for (const j of jobs) {
      this.slot(j.cpu);
      if (seen.has(j.cpu)) throw new ConfigError(`run: CPU ${j.cpu} has two jobs`);
      seen.add(j.cpu);
    }
  }

  /**
   * Run jobs on their CPUs at once: every CPU waits at the shared-memory start barrier until all
   * have arrived, then runs its job. One job per CPU. Resolves with the results in job order; rejects
   * with the first CPU failure.
   */
  async run(jobs: CpuJob[]): Promise<(number | bigint)[]> {
    this.checkJobs(jobs);
    return Promise.all(jobs.map((j) =>
      this.guard(j.cpu, this.slots[j.cpu]!.remote.callBehindBarrier(j.fn, j.args ?? [], jobs.length) as Promise<number | bigint>)));
  }

  /**
   * As run, with each CPU's host time: its monotonic clock (process.hrtime, shared by every thread)
   * read on the worker as the start barrier released it and as its job returned, in nanoseconds.
   * Resolves with one { result, startNs, endNs } per job, in job order; rejects as run does.
   */
  async runTimed(jobs: CpuJob[]): Promise<TimedCpuResult[]> {
    this.checkJobs(jobs);
    return Promise.all(jobs.map((j) =>
      this.guard(j.cpu, this.slots[j.cpu]!.remote.callBehindBarrierTimed(j.fn, j.args ?? [], jobs.length) as Promise<TimedCpuResult>)));
  }

  /**
   * Fault injection for tests: make CPU cpu's worker die ("throw": an uncaught exception; "exit":
   * exit code 3). Resolves once the machine has seen it die.
   */
  async injectFault(cpu: number, kind: "throw" | "exit"): Promise<void> {
    const s = this.slot(cpu);
    await s.remote.injectFault(kind);
    await s.died.catch(() => undefined);
  }

  /** Stop every worker. Safe to call more than once, and after CPUs died. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    await Promise.all(this.slots.map(async (s) => {
      await s.worker.terminate();
    }));
  }
}
