// What every experiment's library function shares: the options common to all of them, and the driver
// that runs one measurement per point of the experiment's grid (era x CPU count, configuration x
// tree x CPU count, ...) in timed mode (synchronously, virtual time) or parallel mode (one run after
// another on worker CPUs, asynchronously), with progress after each run; and the checks of the options
// every experiment validates the same way (eras, CPU counts, seed, integer ranges).
import type { CostProfile } from "../cost/profile.js";
import { ConfigError } from "../core/errors.js";
import { MAX_CPUS } from "../options.js";
import { era as eraByName, type Era } from "./eras.js";
import { checkParallelCpus, parallelDefaultCpus } from "./parallel.js";

/** Options every experiment takes (each adds its own and documents its seed and budget). */
export interface ExperimentOptions {
  /** "timed" (default: virtual time, deterministic, synchronous) or "parallel" (worker CPUs, host time: a Promise). */
  mode?: "timed" | "parallel";
  /** parallel: a job still running after this many ms is reported stuck (CpuStuckError); default 10 minutes. */
  timeoutMs?: number;
  /** timed: the cost profile of virtual time (default the shipped one). */
  profile?: CostProfile;
  /** Use the debug build (invariants and lockdep checked; slower). */
  debug?: boolean;
  /** Called after each run with how many of the total are done and what the run was. */
  onProgress?: (done: number, total: number, label: string) => void;
}

/**
 * runGrid - one run per point, in order: timed(point) synchronously in timed mode, else
 * await parallel(point) one after another; onProgress after each; then finish(runs). Returns
 * finish's result, or a Promise of it in parallel mode. Errors from a run propagate (throw or reject).
 */
export function runGrid<P, R, Out>(o: {
  mode: "timed" | "parallel";
  points: readonly P[];
  label: (p: P) => string;
  timed: (p: P) => R;
  parallel: (p: P) => Promise<R>;
  onProgress?: (done: number, total: number, label: string) => void;
  finish: (runs: R[]) => Out;
}): Out | Promise<Out> {
  const runs: R[] = [];
  const done = (p: P, run: R) => {
    runs.push(run);
    o.onProgress?.(runs.length, o.points.length, o.label(p));
  };
  if (o.mode === "parallel") {
    return (async () => {
      for (const p of o.points) done(p, await o.parallel(p));
      return o.finish(runs);
    })();
  }
  for (const p of o.points) done(p, o.timed(p));
  return o.finish(runs);
}

/** v as an integer in lo..hi, else a ConfigError naming `what`. */
export function intIn(what: string, v: unknown, lo: number, hi: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < lo || v > hi) throw new ConfigError(`${what}: ${String(v)} is out of range (${lo}..${hi})`);
  return v;
}

/** The eras named (or given, with their overrides: eras.ts era()), default dflt; ConfigError for none or an unknown one. */
export function resolveEras(list: readonly (string | Era)[] | undefined, dflt: readonly string[]): Era[] {
  const names = list ?? dflt;
  if (!Array.isArray(names) || names.length === 0) throw new ConfigError("eras: expected at least one era");
  return names.map((e) => (typeof e === "string" ? eraByName(e) : eraByName(e.name, { locks: e.locks, mm: e.mm })));
}

/**
 * The CPU counts: cpus, or without them dflt (in parallel mode only the counts that fit the host);
 * each an integer in lo..MAX_CPUS, and in parallel mode at most the host's cores. ConfigError otherwise.
 */
export function resolveCpus(cpus: readonly number[] | undefined, dflt: readonly number[], mode: "timed" | "parallel", lo = 1): number[] {
  const list = cpus ?? (mode === "parallel" ? parallelDefaultCpus(dflt) : dflt);
  if (!Array.isArray(list) || list.length === 0) throw new ConfigError("cpus: expected a non-empty list of CPU counts");
  for (const c of list) intIn("cpus", c, lo, MAX_CPUS);
  if (mode === "parallel") checkParallelCpus(list);
  return [...list];
}

/** The seed (default 1): a non-negative safe integer, else a ConfigError. */
export function resolveSeed(seed: unknown): number {
  const s = seed ?? 1;
  if (typeof s !== "number" || !Number.isSafeInteger(s) || s < 0) throw new ConfigError(`seed: ${String(s)} is not a non-negative integer`);
  return s;
}

/** The mode (default timed): "timed" or "parallel", else a ConfigError naming the experiment. */
export function resolveMode(experiment: string, mode: unknown): "timed" | "parallel" {
  const m = mode ?? "timed";
  if (m !== "timed" && m !== "parallel") throw new ConfigError(`mode: "${String(m)}" is not a mode of ${experiment} (timed, parallel)`);
  return m;
}

/**
 * A budget job's budget: budgetCycles (virtual time) in timed mode, budgetNs (host time) in parallel
 * mode, each 1000..1e12 with its default; the other one is null, and giving it is a ConfigError.
 */
export function resolveBudgets(mode: "timed" | "parallel", o: { budgetCycles?: number; budgetNs?: number }, dfltCycles: number, dfltNs: number):
{ budgetCycles: number | null; budgetNs: number | null } {
  if (mode === "parallel" && o.budgetCycles !== undefined) throw new ConfigError("budgetCycles: a virtual-time budget; parallel mode takes budgetNs (host time)");
  if (mode === "timed" && o.budgetNs !== undefined) throw new ConfigError("budgetNs: a host-time budget; timed mode takes budgetCycles (virtual time)");
  return {
    budgetCycles: mode === "timed" ? intIn("budgetCycles", o.budgetCycles ?? dfltCycles, 1000, 1e12) : null,
    budgetNs: mode === "parallel" ? intIn("budgetNs", o.budgetNs ?? dfltNs, 1000, 1e12) : null,
  };
}

/** The parallel runs' stuck-job timeout: undefined (the default) or a positive number of ms, else a ConfigError. */
export function resolveTimeout(timeoutMs: unknown): number | undefined {
  if (timeoutMs !== undefined && (typeof timeoutMs !== "number" || !Number.isFinite(timeoutMs) || timeoutMs <= 0)) {
    throw new ConfigError(`timeoutMs: ${String(timeoutMs)} is not a positive number`);
  }
  return timeoutMs;
}
