// What every mmemu command shares: the usage error, option parsers for the ecosystem's conventions
// (--cpus 1,2,4,8,16,32,64, --era, --mode timed|parallel, --seed, --json, --out, --report), the
// package version, and how an experiment emits its result (table or JSON, --out, --report).
//
// An experiment command lives in its own file (src/cli/experiment-NAME.ts) and is listed once in
// src/cli/experiments.ts; src/cli.ts is the entry (main) and the other commands.
import { readFileSync, writeFileSync } from "node:fs";
import { renderReport } from "../report/html.js";
import { table } from "../report/format.js";
import { ERAS, ERA_NAMES } from "../experiments/eras.js";
import { MAX_CPUS } from "../options.js";
import { loadProfile, type CostProfile } from "../cost/profile.js";
import { ConfigError } from "../core/errors.js";
import { checkParallelCpus } from "../experiments/parallel.js";

export interface Command {
  summary: string;
  usage: string;
  run(args: string[]): Promise<number>;
}

/** A bad command line: printed with the command's usage, exit code 2. */
export class UsageError extends Error {}

/** A command list for --help: each name padded to the longest (plus two spaces), then its summary. */
export function commandList(cmds: Record<string, { summary: string }>): string {
  const w = Math.max(...Object.keys(cmds).map((n) => n.length)) + 2;
  return Object.entries(cmds).map(([n, c]) => `  ${n.padEnd(w)}${c.summary}`).join("\n");
}

export function version(): string {
  // dist/src/cli/common.js (built) or src/cli/common.ts (run from the sources, as the tests do)
  for (const rel of ["../../../package.json", "../../package.json"]) {
    try {
      return (JSON.parse(readFileSync(new URL(rel, import.meta.url), "utf8")) as { version: string }).version;
    } catch { /* try the next */ }
  }
  return "unknown";
}

export function intOption(name: string, v: string | undefined, lo: number, hi: number, dflt: number): number {
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v) || Number(v) < lo || Number(v) > hi) throw new UsageError(`--${name}: "${v}" is not an integer in ${lo}..${hi}`);
  return Number(v);
}

/** A comma-separated list of integers in lo..hi (--cpus 1,2,4,8), duplicates dropped, order kept. */
export function intList(name: string, v: string | undefined, lo: number, hi: number, dflt: number[]): number[] {
  if (v === undefined) return dflt;
  const parts = v.split(",");
  for (const p of parts) {
    if (!/^\d+$/.test(p) || Number(p) < lo || Number(p) > hi) throw new UsageError(`--${name}: "${p}" is not an integer in ${lo}..${hi}`);
  }
  return [...new Set(parts.map(Number))];
}

/** --era LIST: era names, each checked (default every era). */
export function eraList(v: string | undefined, dflt: readonly string[] = ERA_NAMES): string[] {
  const eras = v === undefined ? [...dflt] : v.split(",");
  for (const e of eras) if (!ERAS.has(e)) throw new UsageError(`--era: unknown era "${e}" (eras: ${ERA_NAMES.join(", ")})`);
  return eras;
}

/** The --era lines of a usage text: every era with its summary. */
export function eraHelp(indent = 18): string {
  return ERA_NAMES.map((e) => `${" ".repeat(indent)}${e.padEnd(12)}${ERAS.get(e)!.summary}`).join("\n");
}

export type ExperimentMode = "timed" | "parallel";

/** --mode: one of the modes the experiment offers (default timed). */
export function modeOption<M extends ExperimentMode>(experiment: string, v: string | undefined, offered: readonly M[]): M {
  const mode = v ?? "timed";
  if (!(offered as readonly string[]).includes(mode)) {
    throw new UsageError(`--mode: "${mode}" is not a mode of ${experiment} (${offered.join(", ")})`);
  }
  return mode as M;
}

/** The options every experiment takes: parseArgs({ args, strict: true, options: { ...EXPERIMENT_OPTIONS, its own } }). */
export const EXPERIMENT_OPTIONS = {
  cpus: { type: "string" }, era: { type: "string" }, mode: { type: "string" }, seed: { type: "string" },
  json: { type: "boolean" }, out: { type: "string" }, report: { type: "string" }, profile: { type: "string" },
  help: { type: "boolean" },
} as const;

/** The usage lines of the options every experiment takes (after its own). */
export const EXPERIMENT_OPTIONS_HELP =
  "  --seed S        seed of the timed schedule (default 1): the same seed gives the same figures\n" +
  "  --json          print every figure, the configuration and the seed as JSON\n" +
  "  --out FILE      also write that JSON to FILE\n" +
  "  --report FILE   write a self-contained HTML report (tables and charts, opens from disk) to FILE\n" +
  "  --profile FILE  timed mode: the cost profile of virtual time (mmemu calibrate --out FILE writes this host's);\n" +
  "                  default the shipped profile (README: cost model)\n\n" +
  "Figures are virtual time from the cost model in timed mode (README: cost model); a progress bar (a\n" +
  "terminal) or one line per run (otherwise) goes to stderr, with an estimate of the time left.";

/**
 * --cpus in parallel mode: the CPU counts must fit the host's cores (src/experiments/parallel.ts);
 * a UsageError naming both numbers otherwise. Timed mode: any count, nothing checked.
 */
export function checkModeCpus(mode: ExperimentMode, cpus: readonly number[]): void {
  if (mode !== "parallel") return;
  try {
    checkParallelCpus(cpus);
  } catch (e) {
    throw new UsageError(`--${(e as Error).message}`);
  }
}

/** The --mode lines of an experiment's usage that offers both modes. */
export const MODE_HELP =
  "  --mode M        timed (default): deterministic virtual time from the cost model, any CPU count;\n" +
  "                  parallel: one worker thread per CPU, real host contention, host time (not reproducible),\n" +
  "                  CPU counts up to the host's cores (default: the default counts that fit)\n";

/** --seed (default 1). */
export const seedOption = (v: string | undefined) => intOption("seed", v, 0, Number.MAX_SAFE_INTEGER, 1);

/** --cpus LIST within lo..MAX_CPUS. */
export const cpusOption = (v: string | undefined, dflt: number[], lo = 1) => intList("cpus", v, lo, MAX_CPUS, dflt);

/**
 * --profile FILE: the cost profile to run timed mode with, as an options fragment to spread into an
 * experiment's options ({} without the option). A usage error in parallel mode (host time has no cost
 * model) or when the file cannot be read or is not a valid profile.
 */
export function profileOption(file: string | undefined, mode: ExperimentMode): { profile?: CostProfile } {
  if (file === undefined) return {};
  if (mode !== "timed") throw new UsageError("--profile: a cost profile applies to timed mode only (parallel mode measures host time)");
  try {
    return { profile: loadProfile(file) };
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(`--profile: ${e.message}`);
    throw e;
  }
}

/** Reject an empty --report / --out file name. */
export function checkFileOptions(values: { out?: string; report?: string }): void {
  if (values.report === "") throw new UsageError("--report: expected a file name");
  if (values.out === "") throw new UsageError("--out: expected a file name");
}

/**
 * Emit an experiment's result as the conventions say: --json prints the JSON (else the formatted
 * table and the host time), --out writes the JSON, --report the self-contained HTML report drawn by
 * the report section registered under `name` (src/report/html.ts), with the command line under the title.
 */
export function emitExperiment(o: {
  name: string; args: string[]; result: unknown; title: string; t0: number;
  values: { json?: boolean; out?: string; report?: string };
  format: (t: typeof table) => string;
}): void {
  const { values } = o;
  const json = JSON.stringify(o.result, null, 2);
  if (values.out !== undefined) writeFileSync(values.out, json + "\n");
  if (values.report !== undefined) {
    writeFileSync(values.report, renderReport({ title: o.title,
      subtitle: `mmemu ${version()}, ${new Date().toISOString()}: mmemu experiment ${o.name} ${o.args.join(" ")}`,
      experiments: [{ name: o.name, result: o.result }] }));
  }
  if (values.json) {
    console.log(json);
    if (values.report !== undefined) console.error(`HTML report written to ${values.report}`);
  } else {
    console.log(o.format(table));
    console.log(`\n${((performance.now() - o.t0) / 1000).toFixed(1)} s of host time` + (values.out !== undefined ? `; JSON written to ${values.out}` : ""));
    if (values.report !== undefined) console.log(`HTML report written to ${values.report}`);
  }
}
