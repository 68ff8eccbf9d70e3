// Experiment history (issue 5): the lock regressions of ../shared/notes/kernel-history.md side by side
// with the emulator's measured figure for the same comparison, each labelled with its source.
//
// A comparison names a workload, the era before the kernel change and the era after it, and what was
// reported at the time (a relative throughput change, with the machine size where it is known). The
// emulator runs both eras on the same workload at each CPU count asked for (timed mode, the shipped or
// a calibrated cost profile) and reports its own relative change next to history's, with a verdict.
// Nothing is tuned to land on the historical figure: the runs are the aim9-brk and fork-server
// experiments' own (their full results are kept in the JSON), and where the emulator disagrees with
// history the verdict says so.
//
// Verdicts (historyVerdict): history's change h and the emulator's m, both after/before - 1.
//   - h reported as "no loss" (|h| < SMALL, e.g. "recovered it fully", "on par"): agrees if |m| <= 10%,
//     else disagrees.
//   - otherwise: agrees if m has h's sign and either |m - h| <= 5 points or the sizes, compared as log
//     throughput ratios (ln(1 + m) / ln(1 + h)), are within 0.5x..2x; "direction only" if the sign
//     agrees but the size does not (the emulator's effect is stated as a multiple of history's);
//     disagrees if the emulator shows no change (|m| < 2%) or the opposite one.
//
// Deterministic: the same options give the same result object (and JSON), bit for bit.
//
// Parallel mode (mode: "parallel", asynchronous): the same comparisons from the sub-experiments'
// parallel modes (worker CPUs, host time, src/experiments/parallel.ts) at CPU counts up to the host's
// cores (default: the host's core count, when it is at least 2); the fork-server runs take a host-time
// budget (budgetNs). The verdict rule is the same, but the figures are host time on this machine's few
// cores, not comparable in size with history's 32-80-core machines; the result's notes say so.
import { aim9Ok, runAim9Brk, type Aim9BrkResult } from "./aim9-brk.js";
import { forkServerOk, runForkServer, type ForkServerResult } from "./fork-server.js";
import { ConfigError } from "../core/errors.js";
import { DEFAULT_PROFILE } from "../cost/default-profile.js";
import { hostCores, PARALLEL_NOTE } from "./parallel.js";
import { resolveCpus, resolveMode, resolveSeed, type ExperimentOptions } from "./grid.js";

export type HistoryWorkload = "aim9-brk" | "exim" | "fork_test";

/** One regression (or recovery) from kernel-history.md and how the emulator reproduces it. */
export interface HistoryComparison {
  id: string;
  title: string;
  /** Where history's figure comes from. */
  source: string;
  /** The emulator's workload for it, and how far it stands in for the historical one. */
  workload: HistoryWorkload;
  workloadNote: string;
  /** Eras (src/experiments/eras.ts) before and after the change. */
  before: string;
  after: string;
  /** What was reported: the relative change of throughput after/before - 1, its text, the machine. */
  historical: { change: number; text: string; cores: number | null; workload: string };
}

/** Below this, a historical change is "no loss" (a recovery, "on par"). */
const SMALL = 0.02;

/** The comparisons, in the order of history. Each cites kernel-history.md's line and its origin. */
export const HISTORY: readonly HistoryComparison[] = [
  {
    id: "aim9-brk-2008-rwsem",
    title: "anon_vma spinlock -> rwsem with FIFO handoff (Apr 2008, not merged)",
    source: "seed 002 (the 2008 anon_vma rwsem thread: \"Aim9 brk ... down by 10-15%\"); kernel-history.md",
    workload: "aim9-brk",
    workloadNote: "AIM9 brk_test exactly, N processes forked from one parent (their heaps share one anon_vma)",
    before: "2.6.25", after: "2008-rwsem",
    historical: { change: -0.125, text: "Aim9 brk down by 10-15% (midpoint -12.5%)", cores: null, workload: "AIM9 brk_test" },
  },
  {
    id: "aim7-shared-2009-skip",
    title: "vma_adjust skips the anon_vma lock when only vm_end moves (Lee Schermerhorn, 2.6.31)",
    source: "kernel-history.md (Lee Schermerhorn, 2009: AIM7 shared on 32 cores, 2.6.31-rc6)",
    workload: "aim9-brk",
    workloadNote: "AIM9 brk_test stands in for the sbrk-heavy part of AIM7 shared (which mixes many tests)",
    before: "2.6.25", after: "2.6.31",
    historical: { change: 0.039, text: "+3.9%; before it, throughput bounced between ~65K and ~130K jobs/min, after it ~130K", cores: 32, workload: "AIM7 shared" },
  },
  {
    id: "exim-3.0-mutex",
    title: "anon_vma and i_mmap locks become mutexes (3.0, preemptible mmu_gather)",
    source: "kernel-history.md (Tim Chen on the 3.0 series: exim -52% on 40 cores; anon_vma contention 3.25% -> 18.6% of CPU)",
    workload: "exim",
    workloadNote: "the exim-like fork server (fork per message, COW touches, exit); era 2.6.34 stands in for 2.6.39 (same locks)",
    before: "2.6.34", after: "3.0",
    historical: { change: -0.52, text: "exim -52%", cores: 40, workload: "MOSBENCH exim" },
  },
  {
    id: "fork_test-3.8-rwsem",
    title: "anon_vma mutex -> rwsem, rmap walks shared, strict FIFO writer handoff (3.8)",
    source: "kernel-history.md (3.8, Ingo Molnar's anon_vma rwsem: aim7 fork_test -50%)",
    workload: "fork_test",
    workloadNote: "AIM7 fork_test (fork, the child exits at once, the parent waits); era 3.0 stands in for 3.7 (same locks)",
    before: "3.0", after: "3.8",
    historical: { change: -0.5, text: "aim7 fork_test -50%", cores: null, workload: "AIM7 fork_test" },
  },
  {
    id: "fork_test-3.9-steal",
    title: "rwsem writer lock-stealing (3.9) against the mutex (3.7)",
    source: "kernel-history.md (3.9: writer lock-stealing \"recovered it fully\")",
    workload: "fork_test",
    workloadNote: "AIM7 fork_test; era 3.0 stands in for 3.7",
    before: "3.0", after: "3.9",
    historical: { change: 0, text: "fork_test recovered fully (no loss against the mutex)", cores: null, workload: "AIM7 fork_test" },
  },
  {
    id: "fork_test-3.16-spin",
    title: "rwsem optimistic spinning (3.16) against 3.9's stealing rwsem",
    source: "kernel-history.md (3.16, 2014: aim7 alltests +20% on 80 cores; the 2013 series +5..17% per workload)",
    workload: "fork_test",
    workloadNote: "AIM7 fork_test stands in for alltests (the mix); history's per-workload gains were +5..17%",
    before: "3.9", after: "3.16",
    historical: { change: 0.2, text: "aim7 alltests +20%", cores: 80, workload: "AIM7 alltests" },
  },
  {
    id: "fork_test-3.16-vs-mutex",
    title: "optimistic-spinning rwsem (3.16) against the mutex (3.0)",
    source: "kernel-history.md (3.16: rwsem \"on par with mutex\")",
    workload: "fork_test",
    workloadNote: "AIM7 fork_test",
    before: "3.0", after: "3.16",
    historical: { change: 0, text: "on par with mutex", cores: null, workload: "AIM7 (the rwsem-spin series)" },
  },
];

export const HISTORY_IDS: readonly string[] = HISTORY.map((c) => c.id);

export type HistoryVerdict = "agrees" | "direction only" | "disagrees";

/** A relative change as a signed percentage ("+3.9%", "-52.0%"); "-" when not finite. */
export const pct = (v: number) => (Number.isFinite(v) ? `${v >= 0 ? "+" : ""}${(v * 100).toFixed(1)}%` : "-");

/** The verdict rule of the header comment, and the sentence that explains it. */
export function historyVerdict(h: number, m: number): { verdict: HistoryVerdict; explanation: string } {
  const x = (v: number) => `${(1 + v).toFixed(2)}x`;
  if (!Number.isFinite(m)) return { verdict: "disagrees", explanation: "the emulator measured no throughput" };
  if (Math.abs(h) < SMALL) {
    return Math.abs(m) <= 0.1
      ? { verdict: "agrees", explanation: `history reports no loss; the emulator measures ${pct(m)} (within 10%)` }
      : { verdict: "disagrees", explanation: `history reports no loss; the emulator measures ${pct(m)}` };
  }
  if (Math.abs(m) < SMALL || Math.sign(m) !== Math.sign(h)) {
    return { verdict: "disagrees", explanation: `history reports ${pct(h)}; the emulator measures ${pct(m)}` +
      (Math.abs(m) < SMALL ? " (no change)" : " (the opposite direction)") };
  }
  // Sizes compared as log throughput ratios: a loss cannot pass -100%, so -93% against -50% is a
  // 0.07x against a 0.50x throughput, 3.8 times the effect, not 1.9 times.
  const size = m <= -1 ? Infinity : Math.log1p(m) / Math.log1p(h);
  const both = `history ${pct(h)} (${x(h)} throughput), emulator ${pct(m)} (${x(m)})`;
  if (Math.abs(m - h) <= 0.05 || (size >= 0.5 && size <= 2)) {
    return { verdict: "agrees", explanation: `${both}: same direction and size` };
  }
  return { verdict: "direction only", explanation: `${both}: same direction, ${size > 1 ? `${size.toFixed(1)}x history's effect` : `${(1 / size).toFixed(1)}x smaller than history's`} (log throughput ratio)` };
}

export interface HistoryOptions extends ExperimentOptions {
  /** Comparison ids (HISTORY_IDS); default all. */
  comparisons?: string[];
  /** CPU counts the emulator runs each comparison at; default [8, 32]. */
  cpus?: number[];
  /** AIM9 loops per task for the aim9-brk comparisons; default 1. */
  loops?: number;
  /** timed: virtual-time budget per CPU of the fork-server runs, in cycles; default HISTORY_DEFAULT_BUDGET. */
  budgetCycles?: number;
  /** parallel: host-time budget per CPU of the fork-server runs, in ns; default HISTORY_DEFAULT_BUDGET_NS. */
  budgetNs?: number;
  /** Seed of every timed schedule (and of fork-server's message sizes); default 1. */
  seed?: number;
}

/** One comparison at one CPU count. */
export interface HistoryMeasurement {
  cpus: number;
  beforeOpsPerSec: number;
  afterOpsPerSec: number;
  /** afterOpsPerSec / beforeOpsPerSec - 1. */
  change: number;
  beforeContextSwitchesPerOp: number;
  afterContextSwitchesPerOp: number;
  verdict: HistoryVerdict;
  explanation: string;
}

export interface HistoryRow extends HistoryComparison {
  /** What "op" means for this workload (sbrk call, exim message, fork+exit). */
  opUnit: string;
  measured: HistoryMeasurement[];
}

export interface HistoryResult {
  experiment: "history";
  mode: "timed" | "parallel";
  /** Unit of the sub-experiments' times: virtual cycles (timed) or host ns (parallel). */
  timeUnit: "cycles" | "ns";
  /** parallel: the host's cores (os.availableParallelism()); null in timed mode. */
  hostCores: number | null;
  seed: number;
  cpus: number[];
  ghz: number;
  profile: string;
  rows: HistoryRow[];
  /** The experiments' own results the rows were measured from (every figure, lock statistics included). */
  measurements: { aim9Brk: Aim9BrkResult | null; exim: ForkServerResult | null; forkTest: ForkServerResult | null };
  /** Every measured run passed its own checks (aim9's loop checks; fork-server's invariant and leak checks). */
  ok: boolean;
  notes: string[];
}

/** The fields every row has (tests check the JSON has each). */
export const HISTORY_ROW_FIELDS: readonly (keyof HistoryRow)[] = ["id", "title", "source", "workload", "workloadNote", "before", "after",
  "historical", "opUnit", "measured"];

export const HISTORY_DEFAULT_CPUS = [8, 32];
/** The fork-server runs' budget per CPU (virtual cycles): 13 ms of virtual time, about a minute for the default run. */
export const HISTORY_DEFAULT_BUDGET = 40_000_000;
/** parallel: the fork-server runs' host-time budget per CPU, in ns (20 ms). */
export const HISTORY_DEFAULT_BUDGET_NS = 20_000_000;

export const HISTORY_NOTES: readonly string[] = [
  "timed mode: deterministic virtual time from the cost model; the same options and seed give the same figures",
  "history's figures come from different machines (32 to 80 cores), kernels and workload mixes; the emulator runs each " +
    "comparison's two eras on one model workload at the CPU counts listed, and compares relative changes only",
  "nothing is tuned to land on history's figure: the runs are the aim9-brk and fork-server experiments' own, with the " +
    "cost profile stated here; where the emulator disagrees, the verdict says so",
  "the model charges lock traffic, sleeps, wake-ups and the MM core's memory traffic, not instruction execution: " +
    "critical sections are shorter than a real kernel's, so contention effects come out larger (src/experiments/README.md)",
];

/** The parallel notes: what the figures are, and why their sizes do not compare with history's. */
export const HISTORY_PARALLEL_NOTES: readonly string[] = [
  PARALLEL_NOTE,
  "parallel figures are host time on this machine's few cores (hostCores), measured with the sub-experiments' parallel modes " +
    "(aim9-brk's loops, fork-server's host-time budget budgetNs); they are not comparable in size with history's 32 to 80-core " +
    "machines: a verdict here says whether a change shows on a handful of real cores, not whether the emulator reproduces history's size",
  HISTORY_NOTES[2]!,
];

function resolve(o: HistoryOptions) {
  if (o === null || typeof o !== "object") throw new ConfigError("history: expected an options object");
  const ids = o.comparisons ?? [...HISTORY_IDS];
  if (!Array.isArray(ids) || ids.length === 0) throw new ConfigError("comparisons: expected a non-empty list");
  for (const id of ids) {
    if (!HISTORY_IDS.includes(id)) throw new ConfigError(`comparisons: unknown comparison "${String(id)}" (comparisons: ${HISTORY_IDS.join(", ")})`);
  }
  const mode = resolveMode("history", o.mode);
  if (mode === "parallel" && o.cpus === undefined && hostCores() < 2) {
    throw new ConfigError(`cpus: parallel mode needs at least 2 CPUs and this host has ${hostCores()} core (use timed mode)`);
  }
  // at least 2 CPUs: one CPU has no contention, every comparison would read "no change"
  const cpus = resolveCpus(o.cpus, mode === "parallel" ? [hostCores()] : HISTORY_DEFAULT_CPUS, mode, 2);
  const seed = resolveSeed(o.seed);
  if (mode === "parallel" && o.budgetCycles !== undefined) throw new ConfigError("budgetCycles: a virtual-time budget; parallel mode takes budgetNs (host time)");
  if (mode === "timed" && o.budgetNs !== undefined) throw new ConfigError("budgetNs: a host-time budget; timed mode takes budgetCycles (virtual time)");
  return { comparisons: HISTORY.filter((c) => ids.includes(c.id)), cpus: [...new Set(cpus)], seed, loops: o.loops ?? 1, mode };
}

/** The eras one workload needs, in era order. */
const erasFor = (cs: readonly HistoryComparison[], w: HistoryWorkload) => [...new Set(cs.filter((c) => c.workload === w).flatMap((c) => [c.before, c.after]))];

/** A workload's runs reduced to what a row needs. */
interface Figures { opsPerSec: number; ctxswPerOp: number }

/**
 * Run the comparisons. Timed mode (the default): synchronous, virtual time: each workload once per era
 * it needs and CPU count, then one row per comparison; throws ConfigError for bad options and
 * MmemuError when a run fails. Parallel mode (options.mode "parallel"): returns a Promise of the same
 * result from the sub-experiments' parallel modes; bad options (a CPU count above the host's cores
 * among them) throw the ConfigError before any machine is made; it rejects as the sub-experiments do.
 */
export function runHistory(options: HistoryOptions & { mode: "parallel" }): Promise<HistoryResult>;
export function runHistory(options?: HistoryOptions & { mode?: "timed" }): HistoryResult;
export function runHistory(options?: HistoryOptions): HistoryResult | Promise<HistoryResult>;
export function runHistory(options: HistoryOptions = {}): HistoryResult | Promise<HistoryResult> {
  const r = resolve(options);
  const aimEras = erasFor(r.comparisons, "aim9-brk"), eximEras = erasFor(r.comparisons, "exim"), forkEras = erasFor(r.comparisons, "fork_test");
  const total = (aimEras.length + eximEras.length + forkEras.length) * r.cpus.length;
  let base = 0;
  const progress = (label: string) => (done: number) => options.onProgress?.(base + done, total, `${label}: ${done}`);
  const debug = options.debug ?? false;
  if (r.mode === "parallel") {
    const budgetNs = options.budgetNs ?? HISTORY_DEFAULT_BUDGET_NS;
    const common = { cpus: r.cpus, seed: r.seed, mode: "parallel" as const, debug, ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}) };
    return (async () => {
      let aim9: Aim9BrkResult | null = null;
      if (aimEras.length) {
        aim9 = await runAim9Brk({ ...common, eras: aimEras, shape: "processes", workload: "brk_test", loops: r.loops, onProgress: (d) => progress("aim9-brk")(d) });
        base += aimEras.length * r.cpus.length;
      }
      const fork = async (workload: "exim" | "fork_test", eras: string[]) => {
        if (eras.length === 0) return null;
        const res = await runForkServer({ ...common, workload, eras, budgetNs, onProgress: (d) => progress(workload)(d) });
        base += eras.length * r.cpus.length;
        return res;
      };
      const exim = await fork("exim", eximEras);
      const forkTest = await fork("fork_test", forkEras);
      return assemble(r, options, aim9, exim, forkTest);
    })();
  }
  const common = { cpus: r.cpus, seed: r.seed, mode: "timed" as const, ...(options.profile ? { profile: options.profile } : {}), debug };
  const fork = (workload: "exim" | "fork_test", eras: string[]) => {
    if (eras.length === 0) return null;
    const res = runForkServer({ ...common, workload, eras, budgetCycles: options.budgetCycles ?? HISTORY_DEFAULT_BUDGET,
      onProgress: (d) => progress(workload)(d) });
    base += eras.length * r.cpus.length;
    return res;
  };
  let aim9: Aim9BrkResult | null = null;
  if (aimEras.length) {
    aim9 = runAim9Brk({ ...common, eras: aimEras, shape: "processes", workload: "brk_test", loops: r.loops, onProgress: (d) => progress("aim9-brk")(d) });
    base += aimEras.length * r.cpus.length;
  }
  const exim = fork("exim", eximEras);
  const forkTest = fork("fork_test", forkEras);
  return assemble(r, options, aim9, exim, forkTest);
}

/** The rows and verdicts from the sub-experiments' results (either mode). */
function assemble(r: ReturnType<typeof resolve>, options: HistoryOptions, aim9: Aim9BrkResult | null, exim: ForkServerResult | null,
  forkTest: ForkServerResult | null): HistoryResult {
  const figures = (w: HistoryWorkload, era: string, cpus: number): Figures => {
    if (w === "aim9-brk") {
      const run = aim9!.runs.find((x) => x.era === era && x.cpus === cpus)!;
      return { opsPerSec: run.opsPerSec, ctxswPerOp: run.contextSwitchesPerSbrk };
    }
    const run = (w === "exim" ? exim : forkTest)!.runs.find((x) => x.era === era && x.cpus === cpus)!;
    return { opsPerSec: run.opsPerSec, ctxswPerOp: run.contextSwitchesPerOp };
  };
  const rows: HistoryRow[] = r.comparisons.map((c) => ({
    ...c, historical: { ...c.historical },
    opUnit: c.workload === "aim9-brk" ? "sbrk call" : c.workload === "exim" ? "message (fork, child's work, exit)" : "fork + exit + wait",
    measured: r.cpus.map((n) => {
      const b = figures(c.workload, c.before, n), a = figures(c.workload, c.after, n);
      const change = b.opsPerSec > 0 ? a.opsPerSec / b.opsPerSec - 1 : NaN;
      return { cpus: n, beforeOpsPerSec: b.opsPerSec, afterOpsPerSec: a.opsPerSec, change,
        beforeContextSwitchesPerOp: b.ctxswPerOp, afterContextSwitchesPerOp: a.ctxswPerOp, ...historyVerdict(c.historical.change, change) };
    }),
  }));
  const profile = options.profile ?? DEFAULT_PROFILE;
  const parallel = r.mode === "parallel";
  return { experiment: "history", mode: r.mode, timeUnit: parallel ? "ns" : "cycles", hostCores: parallel ? hostCores() : null,
    seed: r.seed, cpus: r.cpus, ghz: profile.ghz, profile: profile.description ?? "",
    rows, measurements: { aim9Brk: aim9, exim, forkTest },
    ok: (aim9 === null || aim9Ok(aim9)) && (exim === null || forkServerOk(exim)) && (forkTest === null || forkServerOk(forkTest)),
    notes: [...(parallel ? HISTORY_PARALLEL_NOTES : HISTORY_NOTES)] };
}


/** The result as a terminal table: one line per comparison and CPU count, then the sources. */
export function formatHistory(res: HistoryResult, table: (h: string[], rows: string[][]) => string): string {
  const f = (v: number, d = 0) => v.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
  const rows = res.rows.flatMap((row) => row.measured.map((m) => [row.id, `${row.before} -> ${row.after}`,
    `${pct(row.historical.change)}${row.historical.cores ? ` (${row.historical.cores} cores)` : ""}`, String(m.cpus), pct(m.change),
    `${f(m.beforeContextSwitchesPerOp, 3)} -> ${f(m.afterContextSwitchesPerOp, 3)}`, m.verdict]));
  const head = res.mode === "parallel"
    ? `history: kernel lock regressions against the emulator, parallel (worker threads, host time on ${res.hostCores ?? "?"} cores: ` +
      "not reproducible, not comparable in size with history's 32-80-core machines)"
    : `history: kernel lock regressions against the emulator, timed (virtual time at ${res.ghz} GHz), seed ${res.seed}`;
  const t = table(["comparison", "eras", "history", "cpus", "emulator", "ctxsw/op", "verdict"], rows);
  const sources = res.rows.map((row) => `  ${row.id}: ${row.title}\n    history: ${row.historical.text} (${row.historical.workload}); ` +
    `source: ${row.source}\n    emulator: ${row.workloadNote}`).join("\n");
  return `${head}\n\n${t}\n\ncomparisons and sources:\n${sources}\n\nnotes:\n${res.notes.map((n) => `  - ${n}`).join("\n")}`;
}
