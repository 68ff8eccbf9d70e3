// `mmemu start` (and `npm start`): the two experiments of issue 5 at their default sizes, in timed
// mode, with one combined HTML report. aim9-brk: every era, CPUs 1,2,4,8,16,32, processes, 1 loop;
// rmap-locks: its defaults (8 configurations, trees 2x2 and 4x2, CPUs 2,4,8). Both tables go to the
// log, the report (and optionally both results as JSON) to files.
import { runAim9Brk, formatAim9Brk, aim9Ok, type Aim9BrkOptions, type Aim9BrkResult } from "./experiments/aim9-brk.js";
import { runRmapLocks, formatRmapLocks, rmapOk, type RmapLocksOptions, type RmapLocksResult } from "./experiments/rmap-locks.js";
import { ERA_NAMES } from "./experiments/eras.js";
import { renderReport } from "./report/html.js";
import { table } from "./report/format.js";
import type { Progress } from "./report/progress.js";

/** aim9-brk's CPU counts in the main job: up to 32, where the eras' differences are widest (npm start: about 30 s in all). */
export const START_AIM9_CPUS = [1, 2, 4, 8, 16, 32];

export interface StartOptions {
  /** Seed of both timed schedules; default 1. */
  seed?: number;
  /** Overrides of aim9-brk's options (tests shrink the run); default all eras, START_AIM9_CPUS, processes, 1 loop. */
  aim9?: Partial<Aim9BrkOptions>;
  /** Overrides of rmap-locks' options; default its own defaults. */
  rmap?: Partial<RmapLocksOptions>;
  /** A progress reporter per experiment (createProgress); default none. */
  progress?: (name: string) => Progress;
  /** Where the tables go; default console.log. */
  log?: (text: string) => void;
  /** The report's subtitle (how it was produced). */
  subtitle?: string;
}

/** Both results in one file (`mmemu start --json FILE`). */
export interface StartResult {
  experiment: "start";
  aim9Brk: Aim9BrkResult;
  rmapLocks: RmapLocksResult;
  /** Every aim9-brk loop check and every rmap-locks invariant check passed. */
  ok: boolean;
}


/**
 * Run both experiments (synchronously, virtual time), print both tables to `log`, and return the
 * results with the combined report's HTML. Throws ConfigError for bad overrides and MmemuError when
 * a run fails; a failed loop or invariant check is `ok: false`, not an exception.
 */
export function runStart(o: StartOptions = {}): { result: StartResult; html: string } {
  const log = o.log ?? ((s: string) => console.log(s));
  const seed = o.seed ?? 1;
  const p1 = o.progress?.("aim9-brk");
  const aim9 = runAim9Brk({ eras: [...ERA_NAMES], cpus: START_AIM9_CPUS, shape: "processes", workload: "brk_test", loops: 1,
    ...o.aim9, mode: "timed", seed, onProgress: p1 ? (d, t, l) => p1.update(d, t, l) : undefined });
  p1?.finish();
  log(formatAim9Brk(aim9, table));
  const p2 = o.progress?.("rmap-locks");
  const rmap = runRmapLocks({ ...o.rmap, mode: "timed", seed, onProgress: p2 ? (d, t, l) => p2.update(d, t, l) : undefined });
  p2?.finish();
  log(`\n${formatRmapLocks(rmap, table)}`);
  const html = renderReport({ title: "mmemu: aim9-brk and rmap-locks", ...(o.subtitle ? { subtitle: o.subtitle } : {}),
    experiments: [{ name: "aim9-brk", result: aim9 }, { name: "rmap-locks", result: rmap }] });
  return { result: { experiment: "start", aim9Brk: aim9, rmapLocks: rmap, ok: aim9Ok(aim9) && rmapOk(rmap) }, html };
}
