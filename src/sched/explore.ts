// Exploration: many explore-mode schedules of the same jobs, one per seed (seed, seed + 1, ...), each
// checked, until one fails. A failure names its seed and the run options that replay it exactly; every
// schedule's seed is in its RunResult.
//
// PCT draws its priority change points over an estimate of the number of steps. When pctSteps is not
// given, the first schedule uses the default estimate and its step count becomes the estimate of all
// the later ones (reported as pctSteps; every failure's replay options carry the estimate it used).
import { ConfigError } from "../core/errors.js";
import { checkSeed, replayText, resolveRunOptions, DEFAULT_PCT_DEPTH, DEFAULT_PCT_STEPS, type RunOptions } from "./run-options.js";
import type { RunResult, VirtualMachine } from "./virtual-machine.js";

/** The run options of every schedule (RunOptions, explore mode), then the exploration's own. */
export interface ExploreOptions extends Omit<RunOptions, "mode" | "seed"> {
  /** How many schedules to try, at most. */
  runs: number;
  /** The first seed; schedule i uses seed + i. */
  seed: number;
  /** Put the jobs' shared state back before each schedule (e.g. zero a counter). */
  setup?: (vm: VirtualMachine, seed: number) => void;
  /** Judge a finished schedule: true or undefined = fine, false or a message = a failure. */
  check: (result: RunResult, vm: VirtualMachine) => boolean | string | void;
  /** Where the exploration reports (its seeds and a failure); default console.log, null for silence. */
  log?: ((line: string) => void) | null;
}

export interface ExploreFailure {
  seed: number;
  message: string;
  /** The schedule's result when it finished and check refused it. */
  result?: RunResult;
  /** The error when the run itself failed (a deadlock, an invariant, ...). */
  error?: unknown;
  /** Options for VirtualMachine.run that replay the failing schedule (add the same jobs). */
  replay: RunOptions;
}

export interface ExploreResult {
  /** Schedules run (not counting a PCT calibration run). */
  runs: number;
  /** The first failing seed, if any schedule failed. */
  failingSeed?: number;
  failure?: ExploreFailure;
  /** The step estimate PCT used. */
  pctSteps?: number;
}

const EXPLORE_KEYS = new Set(["runs", "seed", "jobs", "strategy", "pctDepth", "pctSteps", "maxSteps", "setup", "check", "log"]);

export function explore(vm: VirtualMachine, o: ExploreOptions): ExploreResult {
  if (o === null || typeof o !== "object") throw new ConfigError("explore: expected { runs, seed, jobs, check, ... }");
  for (const k of Object.keys(o)) {
    if (!EXPLORE_KEYS.has(k)) throw new ConfigError(`explore: unknown option "${k}" (known: ${[...EXPLORE_KEYS].join(", ")})`);
  }
  if (!Number.isInteger(o.runs) || o.runs < 1) throw new ConfigError(`runs: ${String(o.runs)} is not a positive whole number`);
  const first = checkSeed("seed", o.seed);
  if (!Number.isSafeInteger(first + o.runs)) throw new ConfigError(`seed: ${first} + ${o.runs} runs passes 2^53`);
  if (typeof o.check !== "function") throw new ConfigError("check: expected a function (result, vm) => boolean | string");
  if (o.setup !== undefined && typeof o.setup !== "function") throw new ConfigError("setup: expected a function (vm, seed) => void");
  const log = o.log === undefined ? (line: string) => console.log(line) : o.log;
  const base: RunOptions = { mode: "explore", seed: first, jobs: o.jobs };
  if (o.strategy !== undefined) base.strategy = o.strategy;
  if (o.pctDepth !== undefined) base.pctDepth = o.pctDepth;
  if (o.pctSteps !== undefined) base.pctSteps = o.pctSteps;
  if (o.maxSteps !== undefined) base.maxSteps = o.maxSteps;
  resolveRunOptions(base); // every bad option before anything runs

  const fail = (runs: number, f: ExploreFailure): ExploreResult => {
    log?.(`explore: seed ${f.seed} fails after ${runs} schedules: ${f.message}; ` +
      `replay with run(${replayText(resolveRunOptions(f.replay)).replace(/ }$/, ", jobs }")})`);
    const out: ExploreResult = { runs, failingSeed: f.seed, failure: f };
    if (base.pctSteps !== undefined) out.pctSteps = base.pctSteps;
    return out;
  };
  // PCT without a step estimate: the first schedule uses the default, and its step count becomes the
  // estimate of all the others. Each failure's replay options carry the estimate its run used.
  const calibrate = base.strategy === "pct" && base.pctSteps === undefined;
  if (calibrate) base.pctSteps = DEFAULT_PCT_STEPS;
  const name = (base.strategy ?? "random") + (base.strategy === "pct"
    ? ` (depth ${base.pctDepth ?? DEFAULT_PCT_DEPTH}, ${calibrate ? "steps measured by the first schedule" : `${base.pctSteps} steps`})` : "");
  log?.(`explore: up to ${o.runs} schedules, ${name}, seeds ${first}..${first + o.runs - 1}`);
  for (let i = 0; i < o.runs; i++) {
    const r = attempt(vm, o, { ...base, seed: first + i });
    if ("failure" in r) return fail(i + 1, r.failure);
    if (calibrate && i === 0) base.pctSteps = Math.max(1, r.result.steps);
  }
  log?.(`explore: no failure in ${o.runs} schedules`);
  const out: ExploreResult = { runs: o.runs };
  if (base.pctSteps !== undefined) out.pctSteps = base.pctSteps;
  return out;
}

/** One schedule: setup, run, check. ConfigErrors (bad jobs or options) are thrown, not failures. */
function attempt(vm: VirtualMachine, o: ExploreOptions, run: RunOptions): { result: RunResult } | { failure: ExploreFailure } {
  o.setup?.(vm, run.seed);
  let result: RunResult;
  try {
    result = vm.run(run);
  } catch (e) {
    if (e instanceof ConfigError || !(e instanceof Error)) throw e;
    return { failure: { seed: run.seed, message: e.message, error: e, replay: run } };
  }
  const verdict = o.check(result, vm);
  if (verdict === false || typeof verdict === "string") {
    return { failure: { seed: run.seed, message: verdict === false ? "check failed" : verdict, result, replay: run } };
  }
  return { result };
}
