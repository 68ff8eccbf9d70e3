// `mmemu torture`: writers and readers hammer one lock of a chosen type and check that it excludes
// (kernel/locking/locktorture.c's idea). Parallel mode runs on worker CPUs; the virtual-time modes
// (timed, explore) run the same Wasm loops as coroutines (src/sched/).
import { Machine, type CpuJob } from "../machine.js";
import type { Mmu } from "../mmu.js";
import { constant } from "../core/abi.js";
import { ConfigError } from "../core/errors.js";
import { checkLockSpec, lockClassId, type LockSpec } from "./lock-config.js";
import { newLock, kobj } from "./lock-objects.js";
import type { LockClassStat } from "./lock-stat.js";

export interface TortureOptions {
  lock: string;
  cpus: number;
  /** CPUs that take the lock for read (the rest write); default: half, rounded down, for rwsems; 0 otherwise. */
  readers?: number;
  iters: number;
  /** Work inside each critical section (loads of the protected data). */
  hold?: number;
  debug?: boolean;
}

export interface TortureResult {
  mode: "parallel";
  lock: LockSpec;
  cpus: number;
  writers: number;
  readers: number;
  iters: number;
  /** Inconsistencies seen (a critical section watched from outside the lock): 0 for a correct lock. */
  errors: number;
  /** Writer sections lost (the protected counter is short of writers x iters). */
  lost: number;
  elapsedMs: number;
  stat: LockClassStat;
  ok: boolean;
}

/** The lock (with per-instance counters) and its protected data, as 64-byte kernel objects. */
export function tortureObjects(mmu: Mmu, className: string): { lock: number; data: number } {
  return { lock: newLock(mmu, className, true), data: kobj(mmu) };
}

export function tortureShape(o: TortureOptions): { spec: LockSpec; writers: number; readers: number } {
  const spec = checkLockSpec("--lock", o.lock);
  const readers = o.readers ?? (spec.startsWith("rwsem") ? Math.floor(o.cpus / 2) : 0);
  if (!Number.isInteger(readers) || readers < 0 || readers >= o.cpus) {
    throw new ConfigError(`--readers: ${String(readers)} must leave at least one writer among ${o.cpus} CPUs`);
  }
  if (!Number.isInteger(o.iters) || o.iters < 1) throw new ConfigError(`--iters: ${String(o.iters)} is not a positive integer`);
  return { spec, writers: o.cpus - readers, readers };
}

/** Torture a lock on worker CPUs. */
export async function tortureParallel(o: TortureOptions): Promise<TortureResult> {
  const { spec, writers, readers } = tortureShape(o);
  const machine = await Machine.create({ cpus: o.cpus, memory: "4MiB", debug: o.debug ?? false, locks: { torture_a: spec } });
  try {
    const { lock, data } = tortureObjects(machine.mmu, "torture_a");
    const hold = o.hold ?? 8;
    const jobs: CpuJob[] = Array.from({ length: o.cpus }, (_, cpu) => ({
      cpu, fn: cpu < writers ? "cpu_torture_writer" as const : "cpu_torture_reader" as const, args: [lock, data, o.iters, hold] }));
    const t0 = performance.now();
    const bad = await machine.run(jobs);
    const elapsedMs = performance.now() - t0;
    const v = new DataView(machine.mmu.memory.buffer);
    const errors = bad.reduce<number>((s, b) => s + Number(b), 0);
    const lost = writers * o.iters - Number(v.getBigUint64(data, true));
    const stat = machine.mmu.lockStats().find((s) => s.class === "torture_a")!;
    return { mode: "parallel", lock: spec, cpus: o.cpus, writers, readers, iters: o.iters, errors, lost, elapsedMs, stat,
      ok: errors === 0 && lost === 0 };
  } finally {
    await machine.destroy();
  }
}

export interface VirtualTortureOptions extends TortureOptions {
  mode: "timed" | "explore";
  seed: number;
  /** explore: schedules to try (seed, seed + 1, ...); default 100. */
  runs?: number;
  strategy?: "random" | "pct";
}

export interface VirtualTortureResult extends Omit<TortureResult, "mode" | "elapsedMs"> {
  mode: "timed" | "explore";
  seed: number;
  /** explore: schedules run, and the seed of the first that broke exclusion (it replays exactly). */
  runs: number;
  failingSeed?: number;
  /** timed: virtual time of the run (cycles), switches and the schedule digest. */
  makespan?: bigint;
  switches?: number;
  digest?: string;
  elapsedMs: number;
}

/**
 * Torture a lock in virtual time: timed (one deterministic run from seed) or explore (schedules from
 * seed on, stopping at the first that breaks exclusion).
 */
export async function tortureVirtual(o: VirtualTortureOptions): Promise<VirtualTortureResult> {
  const { spec, writers, readers } = tortureShape(o);
  // Imported here so that the parallel mode does not load the virtual build.
  const { VirtualMachine } = await import("../sched/virtual-machine.js");
  const vm = VirtualMachine.create({ cpus: o.cpus, memory: "4MiB", debug: o.debug ?? false, locks: { torture_a: spec } });
  const { lock, data } = tortureObjects(vm.mmu, "torture_a");
  const hold = o.hold ?? 8;
  const jobs = Array.from({ length: o.cpus }, (_, cpu) => ({
    cpu, job: cpu < writers ? "torture_writer" : "torture_reader", args: [lock, data, o.iters, hold] }));
  const lostOf = () => writers * o.iters - Number(vm.read64(data));
  const errorsOf = (r: { cpus: { result: bigint }[] }) => r.cpus.reduce((s, c) => s + Number(c.result), 0);
  const t0 = performance.now();
  const base = { lock: spec, cpus: o.cpus, writers, readers, iters: o.iters, seed: o.seed };
  if (o.mode === "timed") {
    const r = vm.run({ mode: "timed", seed: o.seed, jobs });
    const errors = errorsOf(r), lost = lostOf();
    const stat = vm.mmu.lockStats().find((s) => s.class === "torture_a")!;
    return { ...base, mode: "timed", runs: 1, errors, lost, stat, ok: errors === 0 && lost === 0, makespan: r.makespan,
      switches: r.switches, digest: r.digest, elapsedMs: performance.now() - t0 };
  }
  let errors = 0, lost = 0;
  const x = await vm.explore({
    runs: o.runs ?? 100, seed: o.seed, jobs, strategy: o.strategy ?? "pct", log: null,
    setup: (m) => {
      m.exports.mm_lock_init(lock, lockClassId(m.exports, "torture_a"), constant(m.exports, "ML_STATS"));
      m.write64(data, 0);
      m.write64(data + 8, 0);
    },
    check: (r) => {
      errors = errorsOf(r);
      lost = lostOf();
      return errors === 0 && lost === 0 ? true : `${errors} inconsistent sections, ${lost} writer sections lost`;
    },
  });
  const stat = vm.mmu.lockStats().find((s) => s.class === "torture_a")!;
  return { ...base, mode: "explore", runs: x.runs, failingSeed: x.failingSeed, errors, lost, stat,
    ok: x.failingSeed === undefined, elapsedMs: performance.now() - t0 };
}
