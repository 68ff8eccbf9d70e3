// Options of a run in virtual time (VirtualMachine.run) and of an exploration (VirtualMachine.explore),
// their defaults and their validation: every bad value is a ConfigError that names the option and
// what it accepts.
import { ConfigError } from "../core/errors.js";
import type { JobSpec } from "./jobs.js";
import type { Mode, Strategy } from "./scheduler.js";

export interface RunOptions {
  /** "timed": discrete-event execution in virtual time; "explore": a schedule chosen to find races. */
  mode: Mode;
  /** The seed of every random choice of the run: a non-negative safe integer. */
  seed: number;
  /** One job per CPU taking part (assembly/kernel/vcpu.ts has the table). */
  jobs: JobSpec[];
  /** explore: "random" (default) or "pct". */
  strategy?: Strategy;
  /** pct: the bug depth d (d - 1 priority change points), 1..64; default 3. */
  pctDepth?: number;
  /** pct: the estimated number of scheduling steps the change points are drawn over; default 10000. */
  pctSteps?: number;
  /** Give up (StepLimitError) after this many scheduling steps; default 50 million. */
  maxSteps?: number;
}

export interface ResolvedRunOptions {
  mode: Mode;
  seed: number;
  strategy: Strategy;
  pctDepth: number;
  pctSteps: number;
  maxSteps: number;
}

export const DEFAULT_PCT_DEPTH = 3;
export const DEFAULT_PCT_STEPS = 10_000;
export const DEFAULT_MAX_STEPS = 50_000_000;

const RUN_KEYS = new Set(["mode", "seed", "jobs", "strategy", "pctDepth", "pctSteps", "maxSteps"]);

function positiveInt(name: string, v: unknown, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > max) {
    throw new ConfigError(`${name}: ${String(v)} is not a whole number in 1..${max}`);
  }
  return v;
}

/** A seed: a non-negative safe integer. */
export function checkSeed(name: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
    throw new ConfigError(`${name}: ${typeof v === "string" ? JSON.stringify(v) : String(v)} is not an integer seed (0..2^53-1)`);
  }
  return v;
}

/** Check the options of a run (the jobs are checked against the machine by resolveJobs). */
export function resolveRunOptions(o: RunOptions, known: Set<string> = RUN_KEYS): ResolvedRunOptions {
  if (o === null || typeof o !== "object") throw new ConfigError("run: expected { mode, seed, jobs, ... }");
  for (const k of Object.keys(o)) {
    if (!known.has(k)) throw new ConfigError(`run: unknown option "${k}" (known: ${[...known].join(", ")})`);
  }
  const mode = o.mode;
  if (mode !== "timed" && mode !== "explore") {
    throw new ConfigError(`mode: unknown mode ${JSON.stringify(mode)} (timed, explore)`);
  }
  const seed = checkSeed("seed", o.seed);
  if (o.strategy !== undefined && o.strategy !== "random" && o.strategy !== "pct") {
    throw new ConfigError(`strategy: unknown strategy ${JSON.stringify(o.strategy)} (random, pct)`);
  }
  if (mode === "timed" && o.strategy !== undefined) {
    throw new ConfigError("strategy: only explore mode chooses a strategy (timed mode runs the earliest CPU)");
  }
  const strategy = o.strategy ?? "random";
  if (strategy !== "pct" && (o.pctDepth !== undefined || o.pctSteps !== undefined)) {
    throw new ConfigError("pctDepth, pctSteps: only with strategy \"pct\"");
  }
  const pctDepth = o.pctDepth === undefined ? DEFAULT_PCT_DEPTH : positiveInt("pctDepth", o.pctDepth, 64);
  const pctSteps = o.pctSteps === undefined ? DEFAULT_PCT_STEPS : positiveInt("pctSteps", o.pctSteps, 2 ** 32);
  const maxSteps = o.maxSteps === undefined ? DEFAULT_MAX_STEPS : positiveInt("maxSteps", o.maxSteps, Number.MAX_SAFE_INTEGER);
  return { mode, seed, strategy, pctDepth, pctSteps, maxSteps };
}

/** The options that replay a run exactly on the same machine with the same jobs, as text. */
export function replayText(o: ResolvedRunOptions): string {
  if (o.mode === "timed") return `{ mode: "timed", seed: ${o.seed} }`;
  if (o.strategy === "random") return `{ mode: "explore", strategy: "random", seed: ${o.seed} }`;
  return `{ mode: "explore", strategy: "pct", pctDepth: ${o.pctDepth}, pctSteps: ${o.pctSteps}, seed: ${o.seed} }`;
}
