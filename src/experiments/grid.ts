// What every experiment's library function shares: the options common to all of them, and the driver
// that runs one measurement per point of the experiment's grid (era x CPU count, configuration x
// tree x CPU count, ...) in timed mode (synchronously, virtual time) or parallel mode (one run after
// another on worker CPUs, asynchronously), with progress after each run.
import type { CostProfile } from "../cost/profile.js";

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
