// A VirtualMachine: every CPU of an emulated machine as a coroutine of ONE instance of the virtual
// build of the core (assembly/ compiled with MMEMU_VIRTUAL, then Binaryen's Asyncify pass), run in the
// caller's thread in virtual time: "timed" (discrete events, the earliest clock first) or "explore"
// (a seeded schedule that looks for races). Up to 64 CPUs on any number of host cores, and the same
// seed gives the same run, bit for bit, on any machine: nothing here reads a host clock or
// Math.random, and every decision is taken by the Scheduler from shared memory and the seed.
//
// Coroutine mechanics (Binaryen Asyncify; the data at a CPU's save area is two i32s, the current
// position and the end of the area, followed by the saved stack):
//   - a CPU starts with vcpu_entry(cpu);
//   - at a preemption point past its horizon the core calls env.sched_switch(reason) (onSwitch). The
//     Scheduler decides; to go on with the same CPU the import just returns (with a new horizon). To
//     switch, it calls asyncify_start_unwind(the CPU's save area) and returns: the Wasm stack unwinds
//     into the save area and vcpu_entry returns to run(), which calls asyncify_stop_unwind;
//   - to resume CPU k, run() restores the instance's per-CPU globals (sched_enter_cpu(k)), sets its
//     horizon, calls asyncify_start_rewind(k's area) and vcpu_entry(k) again: the stack is rebuilt
//     up to the import call, where onSwitch calls asyncify_stop_rewind and returns into the core.
import { Mmu } from "../mmu.js";
import { resolveOptions, type MachineOptions } from "../options.js";
import { constant, type AsyncifyExports, type CoreExports } from "../core/abi.js";
import { readCpuActivity, readCpuStats, type CpuStats } from "../core/cpu-state.js";
import { ConfigError, DeadlockError, ErrnoError, MmemuError, StepLimitError } from "../core/errors.js";
import { resolveJobs, jobTable, setJobs, JobMemory, type ResolvedJob } from "./jobs.js";
import { applyProfile, cyclesByName, parseProfile, COST_NAMES, MAX_CYCLES, type CostName, type CostProfile } from "../cost/profile.js";
import { DEFAULT_PROFILE } from "../cost/default-profile.js";
import { resolveRunOptions, replayText, type RunOptions, type ResolvedRunOptions } from "./run-options.js";
import { Scheduler, NoRunnableCpu, ENTRY_FINISHED, ENTRY_START, type SchedLayout, type Strategy, type Mode } from "./scheduler.js";
import { explore, type ExploreOptions, type ExploreResult } from "./explore.js";

export interface VirtualMachineOptions extends MachineOptions {
  /** The cost profile (src/cost/profile.ts): default the shipped one, or one `mmemu calibrate` made. */
  profile?: CostProfile;
  /** Single costs to override on top of the profile, in cycles ({ atomic: 20 }). */
  costs?: Partial<Record<CostName, number>>;
}

/** The profile with overrides applied (a ConfigError for an unknown cost or a value that is not whole cycles). */
function withOverrides(base: CostProfile, overrides: Partial<Record<string, number>> | undefined): CostProfile {
  const p: CostProfile = { ...base, costs: { ...base.costs } };
  if (overrides === undefined) return p;
  if (overrides === null || typeof overrides !== "object" || Array.isArray(overrides)) {
    throw new ConfigError("costs: expected { name: cycles, ... }");
  }
  for (const [k, v] of Object.entries(overrides)) {
    if (!(COST_NAMES as readonly string[]).includes(k)) throw new ConfigError(`costs: unknown cost "${k}" (known: ${COST_NAMES.join(", ")})`);
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > MAX_CYCLES) {
      throw new ConfigError(`costs: ${k} must be a whole number of cycles (0..${MAX_CYCLES}), got ${String(v)}`);
    }
    p.costs[k as CostName] = { cycles: v, source: "given: an override in the VirtualMachine options" };
  }
  return p;
}

/** What one CPU's job ended with. */
export interface CpuRunResult {
  cpu: number;
  job: string;
  /** The job's i64 result (assembly/kernel/vcpu_jobs.ts says what each job returns). */
  result: bigint;
  /** The CPU's virtual clock at the end, in cycles. */
  clock: bigint;
  /** What its counters (STAT_*) grew by during the run. */
  stats: CpuStats;
}

export interface RunResult {
  mode: Mode;
  /** explore only. */
  strategy?: Strategy;
  pctDepth?: number;
  pctSteps?: number;
  seed: number;
  /** Scheduling decisions taken (every entry into the scheduler). */
  steps: number;
  /** Times a different CPU was resumed than the one that ran last. */
  switches: number;
  /** 64-bit hash of the sequence of CPUs chosen at every step: equal runs have equal digests. */
  digest: string;
  /** The latest final clock: how long the run took in virtual time, in cycles. */
  makespan: bigint;
  /** One entry per job, in the order of the jobs. */
  cpus: CpuRunResult[];
  /** The run options that replay this run exactly (same machine, same jobs, same costs). */
  replay: string;
}

const U64_MAX = (1n << 64n) - 1n;
const ASYNCIFY_UNWINDING = 1;
const ASYNCIFY_REWINDING = 2;

export class VirtualMachine {
  /** The machine's memory and MMU, for setting up what the jobs work on. */
  readonly mmu: Mmu;
  readonly exports: CoreExports;
  private readonly asy: AsyncifyExports;
  private readonly L: SchedLayout;
  private readonly vstackBase: number;
  private readonly vstackSize: number;
  private readonly nrJobArgs: number;
  private readonly jobState: number;
  private readonly jobResult: number;
  private readonly vjDone: number;
  private u32: Uint32Array;
  private profile: CostProfile;
  private baseProfile: CostProfile;
  // Run state (one run at a time).
  private sched: Scheduler | null = null;
  private opts: ResolvedRunOptions | null = null;
  private current = -1;
  private pending = -1;
  private rewinding = false;
  private unwinding = false;
  // Kernel memory handed out by alloc().
  private readonly mem: JobMemory;

  /**
   * Boot a machine (the options of Mmu.create, 1..64 CPUs, default 2; plus costs) on the virtual build
   * of the core (virtual-debug with debug: true). Throws ConfigError for bad options.
   */
  static create(opts: VirtualMachineOptions = {}): VirtualMachine {
    if (opts === null || typeof opts !== "object") throw new ConfigError("options: expected an object");
    const { costs, profile: base, ...machine } = opts;
    const profile = withOverrides(base === undefined ? DEFAULT_PROFILE : parseProfile(base, "profile"), costs);
    const o = resolveOptions(machine, 2);
    let vm: VirtualMachine | null = null;
    const mmu = Mmu.boot(o, { virtual: true, schedSwitch: (reason) => vm?.onSwitch(reason) });
    vm = new VirtualMachine(mmu, profile);
    return vm;
  }

  private constructor(mmu: Mmu, profile: CostProfile) {
    this.mmu = mmu;
    this.exports = mmu.exports;
    const x = mmu.exports;
    const a = x as unknown as Partial<AsyncifyExports>;
    if (typeof a.asyncify_start_unwind !== "function" || typeof a.asyncify_get_state !== "function") {
      throw new MmemuError(`the ${mmu.flavor} core was not processed by Asyncify: run \`npm run build:wasm -- --force\``);
    }
    this.asy = a as AsyncifyExports;
    const c = (n: keyof CoreExports) => constant(x, n);
    const layout = mmu.layout;
    this.u32 = new Uint32Array(mmu.memory.buffer);
    this.mem = new JobMemory(mmu);
    this.L = {
      percpuBase: layout.percpuBase, percpuSize: layout.percpuSize,
      vclock: c("PC_VCLOCK"), waitWord: c("PC_WAIT_WORD"), waitVal: c("PC_WAIT_VAL"), wakeAt: c("PC_WAKE_AT"),
      state: c("PC_STATE"), stateArg: c("PC_STATE_ARG"), stateArg2: c("PC_STATE_ARG2"),
      reasonPreempt: c("SWITCH_PREEMPT"), reasonSpin: c("SWITCH_SPIN"), reasonSleep: c("SWITCH_SLEEP"),
      cpuSpinning: c("CPU_SPINNING"), cpuWaitAck: c("CPU_WAIT_ACK"), cpuWaitMailbox: c("CPU_WAIT_MAILBOX"),
    };
    this.vstackBase = new DataView(mmu.memory.buffer).getUint32(layout.base + c("HDR_VSTACK_BASE"), true);
    this.vstackSize = c("VSTACK_SIZE");
    if (this.vstackBase === 0) throw new MmemuError("the machine has no Asyncify save areas (booted without MF_VIRTUAL)");
    this.nrJobArgs = c("NR_JOB_ARGS");
    this.jobState = c("PC_JOB_STATE");
    this.jobResult = c("PC_JOB_RESULT");
    this.vjDone = c("VJ_DONE");
    this.profile = profile;
    this.baseProfile = profile;
    applyProfile(x, profile);
  }

  get cpus(): number {
    return this.mmu.cpus;
  }

  /** The jobs the core offers (assembly/kernel/vcpu.ts), by name. */
  get jobs(): string[] {
    return [...jobTable(this.exports).keys()];
  }

  /** The cycles each operation costs in this machine's runs. */
  get costProfile(): Readonly<Record<CostName, number>> {
    return cyclesByName(this.profile);
  }

  /** The cost profile in force, with each constant's provenance. */
  get costs(): CostProfile {
    return { ...this.profile, costs: { ...this.profile.costs } };
  }

  /**
   * Override single costs for the next runs, on top of the profile the machine was created with (the
   * costs not named go back to it). A ConfigError for an unknown cost or a value that is not whole cycles.
   */
  setCosts(overrides: Partial<Record<CostName, number>>): void {
    const profile = withOverrides(this.baseProfile, overrides);
    applyProfile(this.exports, profile);
    this.profile = profile;
  }

  // ---- kernel memory for jobs -------------------------------------------------------------------

  /**
   * Zeroed kernel memory for a job's shared words (a lock, a counter): bytes (1..4096) rounded up to
   * a 64-byte cache line, never shared with another allocation's line. Returns its address in the
   * core's memory (what a job takes as an argument). Never freed. Throws ErrnoError(-ENOMEM) when no
   * frame is left.
   */
  alloc(bytes = 64): number {
    return this.mem.alloc(bytes);
  }

  read32(addr: number): number {
    return Atomics.load(this.u32, this.mem.word("read32", addr, 4) / 4);
  }

  write32(addr: number, v: number): void {
    Atomics.store(this.u32, this.mem.word("write32", addr, 4) / 4, v >>> 0);
  }

  read64(addr: number): bigint {
    return new DataView(this.mmu.memory.buffer).getBigUint64(this.mem.word("read64", addr, 8), true);
  }

  write64(addr: number, v: bigint | number): void {
    new DataView(this.mmu.memory.buffer).setBigUint64(this.mem.word("write64", addr, 8), BigInt.asUintN(64, BigInt(v)), true);
  }

  // ---- running ----------------------------------------------------------------------------------

  /**
   * Run jobs in virtual time to completion and return per-CPU results, final clocks, the number of
   * switches and the schedule's digest. Every CPU starts at clock 0. Synchronous; not re-entrant.
   * Throws ConfigError for bad options or jobs (before anything runs), DeadlockError when every
   * unfinished CPU waits for another, StepLimitError past maxSteps, and the core's own errors
   * (InvariantError, LockdepError, CpuStuckError) as they come; each carries the seed and the
   * options that replay the run (properties seed and replay). After a failed run the shared memory
   * is as the CPUs left it.
   */
  run(options: RunOptions): RunResult {
    if (this.sched) throw new ConfigError("run: a run is already in progress (run is not re-entrant)");
    const o = resolveRunOptions(options);
    const jobs = resolveJobs(this.exports, this.cpus, this.nrJobArgs, options.jobs);
    return this.runResolved(o, jobs);
  }

  /**
   * Run many schedules of the same jobs (seeds seed, seed + 1, ...), calling setup before each and
   * check after; returns the first failing seed (see explore.ts).
   */
  explore(options: ExploreOptions): ExploreResult {
    return explore(this, options);
  }

  private runResolved(o: ResolvedRunOptions, jobs: ResolvedJob[]): RunResult {
    const x = this.exports;
    setJobs(x, jobs);
    if (this.u32.buffer !== this.mmu.memory.buffer) this.u32 = new Uint32Array(this.mmu.memory.buffer);
    const replay = replayText(o);
    const before = jobs.map((j) => this.mmu.cpuStats(j.cpu));
    const sched = new Scheduler({
      mode: o.mode, strategy: o.strategy, seed: o.seed, pctDepth: o.pctDepth, pctSteps: o.pctSteps,
      nrCpus: this.cpus, cpus: jobs.map((j) => j.cpu),
    }, this.u32, this.L);
    this.resetAsyncify();
    this.sched = sched;
    this.opts = o;
    const started = new Uint8Array(this.cpus);
    let switches = 0;
    let last = -1;
    try {
      let next = this.decide(-1, ENTRY_START);
      while (next >= 0) {
        if (next !== last && last >= 0) switches++;
        last = next;
        this.current = next;
        this.setHorizon(sched.horizon);
        let r: number;
        if (started[next] === 0) {
          started[next] = 1;
          r = x.vcpu_entry(next);
        } else {
          x.sched_enter_cpu(next);
          this.rewinding = true;
          this.asy.asyncify_start_rewind(this.saveArea(next));
          r = x.vcpu_entry(next);
        }
        if (this.unwinding) {
          this.asy.asyncify_stop_unwind();
          this.unwinding = false;
          next = this.pending;
          continue;
        }
        if (r < 0) throw new ErrnoError("vcpu_entry", r, `CPU ${next} had no job to run`);
        next = this.decide(next, ENTRY_FINISHED);
      }
    } catch (e) {
      throw this.annotate(e, o, replay);
    } finally {
      this.sched = null;
      this.opts = null;
      this.current = -1;
      this.resetAsyncify();
      x.sched_set_horizon(U64_MAX);
    }
    const cpus = jobs.map((j, i): CpuRunResult => {
      const p = this.mmu.layout.percpuBase + j.cpu * this.mmu.layout.percpuSize;
      const v = new DataView(this.mmu.memory.buffer);
      if (v.getUint32(p + this.jobState, true) !== this.vjDone) throw new MmemuError(`CPU ${j.cpu}: its job did not finish`);
      const after = this.mmu.cpuStats(j.cpu);
      const stats: CpuStats = {};
      for (const k of Object.keys(after)) stats[k] = after[k]! - (before[i]![k] ?? 0n);
      return { cpu: j.cpu, job: j.job, result: v.getBigInt64(p + this.jobResult, true),
        clock: v.getBigUint64(p + this.L.vclock, true), stats };
    });
    const result: RunResult = {
      mode: o.mode, seed: o.seed, steps: sched.steps, switches, digest: sched.digest.hex(),
      makespan: cpus.reduce((m, c) => (c.clock > m ? c.clock : m), 0n), cpus, replay,
    };
    if (o.mode === "explore") {
      result.strategy = o.strategy;
      if (o.strategy === "pct") {
        result.pctDepth = o.pctDepth;
        result.pctSteps = o.pctSteps;
      }
    }
    return result;
  }

  /** env.sched_switch: the running CPU entered the scheduler (see the top of this file). */
  private onSwitch(reason: number): void {
    const sched = this.sched;
    if (!sched) return; // outside a run: the host drives this CPU itself, nobody to switch to
    if (this.rewinding) {
      this.rewinding = false;
      this.asy.asyncify_stop_rewind();
      return;
    }
    const c = this.current;
    const next = this.decide(c, reason);
    if (next === c) {
      if (this.opts!.mode === "timed") this.setHorizon(sched.horizon);
      return;
    }
    this.pending = next;
    const area = this.saveArea(c);
    this.u32[area >>> 2] = area + 8;
    this.u32[(area >>> 2) + 1] = area + this.vstackSize;
    this.asy.asyncify_start_unwind(area);
    this.unwinding = true;
  }

  private decide(c: number, reason: number): number {
    const sched = this.sched!;
    if (sched.steps >= this.opts!.maxSteps) {
      throw new StepLimitError(sched.steps, sched.unfinished().map((cpu) => this.mmu.activity(cpu)), this.opts!.seed,
        replayText(this.opts!));
    }
    return sched.decide(c, reason);
  }

  private saveArea(cpu: number): number {
    return this.vstackBase + cpu * this.vstackSize;
  }

  private setHorizon(h: number): void {
    this.exports.sched_set_horizon(h === Infinity ? U64_MAX : BigInt(h));
  }

  private resetAsyncify(): void {
    const s = this.asy.asyncify_get_state();
    if (s === ASYNCIFY_UNWINDING) this.asy.asyncify_stop_unwind();
    else if (s === ASYNCIFY_REWINDING) this.asy.asyncify_stop_rewind();
    this.rewinding = false;
    this.unwinding = false;
  }

  /** Give a failure of a run its schedule: the seed and the options that replay it. */
  private annotate(e: unknown, o: ResolvedRunOptions, replay: string): unknown {
    let err = e;
    if (e instanceof NoRunnableCpu) {
      err = new DeadlockError(e.waiting.map((cpu) => this.mmu.activity(cpu)), o.seed, replay);
    } else if (e instanceof WebAssembly.RuntimeError) {
      const cpu = this.current;
      err = new MmemuError(`CPU ${cpu} trapped in the core (${e.message}; a stack deeper than its ` +
        `${this.vstackSize}-byte save area traps too) [${replay}]`, { cause: e });
    }
    if (err instanceof MmemuError && !("seed" in err)) Object.assign(err, { seed: o.seed, replay });
    return err;
  }

  /** What CPU cpu is doing, from its state word. */
  activity(cpu: number): ReturnType<typeof readCpuActivity> {
    return this.mmu.activity(cpu);
  }

  /** CPU cpu's counters. */
  cpuStats(cpu: number): ReturnType<typeof readCpuStats> {
    return this.mmu.cpuStats(cpu);
  }
}
