// The command line shared by the benchmarks (bench/*.ts): --help, --quick, --json, --out=PATH and
// --default-tiering for every one, and, per benchmark, --no-native, --stat=min|median|mean and other
// flags or --name=VALUE options. Unknown arguments end the process with status 2, --help with 0 after
// printing the usage line. Nothing here is specific to one benchmark.
import { setFlagsFromString } from "node:v8";

/** Summary statistic of a Timing (bench/lib/report.ts) by its --stat name. */
export type StatName = "min" | "median" | "mean";
export type StatKey = "nsMin" | "nsMedian" | "nsMean";
export const STAT_KEYS: Record<StatName, StatKey> = { min: "nsMin", median: "nsMedian", mean: "nsMean" };

export interface BenchArgSpec {
  /** The benchmark's name in messages, e.g. "bench:walk". */
  name: string;
  /** The compiled script for the usage line, e.g. "dist/bench/walk.js". */
  script: string;
  /** The JSON file written when --out is not given. */
  defaultOut: string;
  /** Boolean flags besides the common ones, e.g. ["--no-native"]. */
  flags?: string[];
  /** --name=VALUE options besides --out, each with its placeholder, e.g. { seed: "N" }. "stat" is validated. */
  options?: Record<string, string>;
  /** The arguments (default process.argv.slice(2)). */
  argv?: string[];
}

export interface BenchArgs {
  quick: boolean;
  /** --json: only the JSON document on stdout (log() is silent). */
  json: boolean;
  /** True unless --default-tiering: the Wasm core is compiled by TurboFan from the start. */
  turbofanOnly: boolean;
  out: string;
  /** --stat (only when the spec lists it; "min" by default). */
  stat: StatName;
  statKey: StatKey;
  flag(f: string): boolean;
  option(name: string): string | undefined;
  /** Progress on stderr, silent with --json. */
  log(s: string): void;
}

const COMMON_FLAGS = ["--quick", "--json", "--default-tiering"];

/** The usage line of a spec. */
export function usage(spec: BenchArgSpec): string {
  const opts = Object.entries(spec.options ?? {}).map(([k, v]) => `[--${k}=${v}]`);
  const flags = ["--quick", "--json", ...(spec.flags ?? []), "--default-tiering"].map((f) => `[${f}]`);
  return `usage: node --expose-gc ${spec.script} ${[...flags, ...opts, "[--out=PATH]"].join(" ")}`;
}

/** Parse the command line; exits on --help (0) and on bad arguments (2). */
export function parseBenchArgs(spec: BenchArgSpec): BenchArgs {
  const argv = spec.argv ?? process.argv.slice(2);
  const flags = [...COMMON_FLAGS, ...(spec.flags ?? [])];
  const optionNames = ["out", ...Object.keys(spec.options ?? {})];
  const flag = (f: string) => argv.includes(f);
  const option = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const fail = (msg: string): never => {
    console.error(`${spec.name}: ${msg}`);
    process.exit(2);
  };
  if (flag("--help") || flag("-h")) {
    console.log(usage(spec));
    process.exit(0);
  }
  for (const a of argv) {
    if (!flags.includes(a) && !optionNames.some((o) => a.startsWith(`--${o}=`))) fail(`unknown argument ${a} (try --help)`);
  }
  const stat = (option("stat") ?? "min") as StatName;
  if (!Object.hasOwn(STAT_KEYS, stat)) fail(`--stat=${stat}: expected min, median or mean`);
  const json = flag("--json");
  return {
    quick: flag("--quick"),
    json,
    turbofanOnly: !flag("--default-tiering"),
    out: option("out") ?? spec.defaultOut,
    stat,
    statKey: STAT_KEYS[stat],
    flag,
    option,
    log: (s: string) => { if (!json) process.stderr.write(s + "\n"); },
  };
}

/**
 * Apply the tiering choice: unless --default-tiering, V8 compiles Wasm with TurboFan only
 * (--no-liftoff; see bench/README.md). Call before the first Mmu or machine compiles the core.
 */
export function applyWasmTiering(args: BenchArgs): void {
  if (args.turbofanOnly) setFlagsFromString("--no-liftoff");
}
