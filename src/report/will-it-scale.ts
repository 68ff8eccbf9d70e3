// The will-it-scale section of the HTML report (src/report/html.ts): configuration (mode, seed,
// testcases, shapes, budget, region, eras, cost profile; the title and the mode line state timed or
// parallel mode, and the time unit: virtual cycles or host ns), the per-run summary table, the scaling
// table, and per testcase and shape:
//   - throughput (iterations/s, all tasks) vs CPU count, one line per era, linear or log y;
//   - context switches (sleeps of every lock class) per iteration, bars per CPU count and era;
// and for tlb_flush1 the shootdown IPIs per iteration (bars per shape, CPU count and era).
// Chart ids (data-chart of each <svg>, id of each <figure>): PREFIX-TESTCASE-SHAPE-throughput
// (-linear|-log), PREFIX-TESTCASE-SHAPE-ctxsw and PREFIX-tlb_flush1-ipis, where PREFIX is the
// section's id prefix.
import type { WillItScaleResult, WisRun } from "../experiments/will-it-scale.js";
import { barChart, lineChart } from "./svg.js";
import { escapeHtml, figure, htmlTable, ReportError, scaleToggle, num as f, cpuText as cpuWord, idPart, timeUnitName as timeUnit, modeText, configList, type SectionContext } from "./html-parts.js";
import { waitDistributionFigure } from "./lock-hist.js";

/** Unit of the lock wait and hold figures (fields named *Cycles): virtual cycles, or host ns in parallel mode. */

/** Checks the fields the section draws; a ReportError names the first that is missing. */
function check(r: unknown): WillItScaleResult {
  const o = r as Partial<WillItScaleResult> | null;
  const bad = (what: string) => new ReportError(`will-it-scale result: ${what}`);
  if (!o || typeof o !== "object" || o.experiment !== "will-it-scale") throw bad("not a will-it-scale result (experiment field)");
  if (!Array.isArray(o.runs) || !Array.isArray(o.cpus) || !Array.isArray(o.eras)) throw bad("runs, cpus and eras must be arrays");
  o.runs.forEach((run, i) => {
    if (!run || typeof run.testcase !== "string" || typeof run.shape !== "string" || typeof run.era !== "string" || typeof run.cpus !== "number" ||
      typeof run.iterationsPerSec !== "number" || typeof run.contextSwitchesPerIteration !== "number" || !run.tlb || !Array.isArray(run.locks)) {
      throw bad(`run ${i} lacks testcase, shape, era, cpus, iterationsPerSec, contextSwitchesPerIteration, tlb or locks`);
    }
  });
  return o as WillItScaleResult;
}

const uniq = <T>(xs: T[]) => [...new Set(xs)];

function config(r: WillItScaleResult): string {
  const mib = r.regionBytes / (1 << 20);
  const rows: [string, string][] = [
    ["experiment", "will-it-scale"],
    ["mode", modeText(r, "iterations/s are per second of host time and lock wait and hold are host ns; figures are host-dependent and vary from run to run (not reproducible from the seed)")],
    ["seed", r.mode === "parallel" ? `${String(r.seed)} (no effect in parallel mode)` : String(r.seed)],
    ["testcases", (Array.isArray(r.testcases) ? r.testcases : []).join(", ")],
    ["shapes", (Array.isArray(r.modes) ? r.modes : []).map((m) => m === "threads" ? "threads (N threads of one process: one mm, one mmap_sem)"
      : "processes (N processes forked from one parent: their heaps share its anon_vma lock)").join("; ")],
    ["budget", r.mode === "parallel" ? `${f(r.budgetNs ?? NaN)} ns of host time per CPU` : `${f(r.budgetCycles ?? NaN)} virtual cycles per CPU`],
    ["region", `${Number.isInteger(mib) ? `${mib} MiB` : `${f(r.regionBytes)} bytes`} (page_fault1, tlb_flush1)`],
    ["CPU counts", r.cpus.join(", ") + " (one task per CPU)"],
    ["eras", r.eras.map((e) => String(e?.name)).join(", ")],
    ...(r.mode === "parallel" ? [] : [["cost profile", `${String(r.profile || "(unnamed)")}, ${r.ghz} GHz`] as [string, string]]),
  ];
  return configList(rows);
}

const lockOf = (run: WisRun, cls: string) => run.locks.find((l) => l?.class === cls);

function summaryTable(r: WillItScaleResult): string {
  const u = timeUnit(r);
  const rows = r.runs.map((run) => {
    const av = lockOf(run, "anon_vma"), ms = lockOf(run, "mmap_sem");
    return [run.testcase, run.shape, run.era, String(run.cpus), f(run.iterations), f(run.iterationsPerSec), f(run.perTaskPerSec),
      f(run.contextSwitchesPerIteration, 4), av ? f(av.contentions) : "-", av ? f(av.wait?.avgCycles) : "-", ms ? f(ms.contentions) : "-",
      ms ? f(ms.wait?.avgCycles) : "-", f(run.tlb?.flushesPerIteration, 2), f(run.tlb?.ipisPerIteration, 2), f(run.faults)];
  });
  return `<div class="scroll">${htmlTable(["testcase", "shape", "era", "CPUs", "iterations", "iterations/s", "per task/s", "context switches/iteration",
    "anon_vma contentions", `anon_vma avg wait (${u})`, "mmap_sem contentions", `mmap_sem avg wait (${u})`, "TLB flushes/iteration",
    "shootdown IPIs/iteration", "page faults"], rows, [false, false, false, ...Array<boolean>(12).fill(true)])}</div>`;
}

function scalingTable(r: WillItScaleResult): string {
  if (!Array.isArray(r.scaling) || r.scaling.length === 0) return "";
  const rows = r.scaling.flatMap((s) => s.points.map((p) => [s.testcase, s.shape, s.era, String(p.cpus), `${f(p.speedup, 2)}x`, `${f(p.efficiency * 100)}%`]));
  return `<h3>Scaling against ${escapeHtml(cpuWord(r.scaling[0]!.baseCpus))}</h3>` +
    htmlTable(["testcase", "shape", "era", "CPUs", "speedup", "efficiency (1 = linear)"], rows, [false, false, false, true, true, true]);
}

function lockTable(r: WillItScaleResult): string {
  const u = timeUnit(r);
  const rows = r.runs.flatMap((run) => run.locks.map((l) => [run.testcase, run.shape, run.era, String(run.cpus), String(l.class), f(l.acquisitions),
    f(l.readAcquisitions), f(l.writeAcquisitions), f(l.contentions), f(l.spins), f(l.sleeps), f(l.handoffs), f(l.steals),
    f(l.wait?.avgCycles, 1), f(l.wait?.maxCycles), f(l.hold?.avgCycles, 1)]));
  return `<details><summary>Lock statistics per run and class (every figure)</summary><div class="scroll">` +
    htmlTable(["testcase", "shape", "era", "CPUs", "class", "acquisitions", "read", "write", "contentions", "spins", "sleeps (context switches)",
      "handoffs", "steals", `wait avg (${u})`, `wait max (${u})`, `hold avg (${u})`], rows, [false, false, false, ...Array<boolean>(13).fill(true)]) +
    `</div></details>`;
}

function throughputChart(r: WillItScaleResult, p: string, mode: SectionContext["charts"]["yScale"], t: string, s: string, eras: string[], cpus: number[]): string {
  const id = `${p}-${idPart(t)}-${idPart(s)}-throughput`;
  const xScale = cpus.length > 2 && cpus[0]! > 0 && cpus[cpus.length - 1]! / cpus[0]! >= 4 ? "log" : "linear";
  const draw = (yScale: "linear" | "log") => lineChart({
    id: `${id}-${yScale}`, title: `${t}, ${s}: iterations/s vs CPUs, per era`, xLabel: `CPUs (one task each${xScale === "log" ? ", log2 scale" : ""})`,
    yLabel: "iterations/s (all tasks)", yScale, xScale, xTicks: cpus,
    series: eras.map((e) => ({ name: e, points: r.runs.filter((x) => x.testcase === t && x.shape === s && x.era === e)
      .sort((a, b) => a.cpus - b.cpus).map((x) => ({ x: x.cpus, y: x.iterationsPerSec })) })),
  });
  return figure(id, scaleToggle(id, mode, draw),
    `${t} as ${s}: iterations per second of ${r.mode === "timed" ? "virtual" : "host"} time, summed over the tasks, one line per era ` +
    "(linear scaling is a straight line through the origin on the linear scale). Hover a point for its exact figure.");
}

function ctxswChart(r: WillItScaleResult, p: string, t: string, s: string, eras: string[], cpus: number[]): string {
  const id = `${p}-${idPart(t)}-${idPart(s)}-ctxsw`;
  const svg = barChart({
    id, title: `${t}, ${s}: context switches per iteration`, xLabel: "CPUs", yLabel: "context switches / iteration",
    categories: cpus.map(cpuWord),
    series: eras.map((e) => ({ name: e, values: cpus.map((c) => r.runs.find((x) => x.testcase === t && x.shape === s && x.era === e && x.cpus === c)
      ?.contextSwitchesPerIteration ?? null) })),
  });
  return figure(id, svg, "Sleeps of every lock class (a waiter gave up its CPU) per iteration. Missing bars: not run.");
}

/**
 * The wait-time distribution of the lock class with the most contended waits in testcase t as shape s
 * at the largest CPU count, one series per era ("" when no class waited).
 */
function waitDistChart(r: WillItScaleResult, p: string, mode: SectionContext["charts"]["yScale"], t: string, s: string, eras: string[], cpus: number[]): string {
  const top = cpus[cpus.length - 1];
  const runs = r.runs.filter((x) => x.testcase === t && x.shape === s && x.cpus === top);
  const waits = new Map<string, number>();
  for (const run of runs) for (const l of run.locks) waits.set(String(l.class), (waits.get(String(l.class)) ?? 0) + (l.wait?.count ?? 0));
  const [cls, n] = [...waits.entries()].sort((a, b) => b[1] - a[1])[0] ?? ["", 0];
  if (top === undefined || n === 0) return "";
  return waitDistributionFigure(`${p}-${idPart(t)}-${idPart(s)}-waitdist`, `${t}, ${s}: ${cls} lock (the most waited-for class), ${cpuWord(top)}`,
    eras.map((e) => {
      const run = runs.find((x) => x.era === e);
      return { name: e, wait: run ? lockOf(run, cls)?.wait : undefined };
    }), r.timeUnit === "ns" ? "host ns" : "virtual cycles", mode);
}

function ipiChart(r: WillItScaleResult, p: string, eras: string[], cpus: number[]): string {
  const runs = r.runs.filter((x) => x.testcase === "tlb_flush1");
  if (runs.length === 0) return "";
  const shapes = uniq(runs.map((x) => x.shape));
  const cats = shapes.flatMap((s) => cpus.map((c) => ({ s, c })));
  const id = `${p}-tlb_flush1-ipis`;
  const svg = barChart({
    id, title: "tlb_flush1: shootdown IPIs per iteration", xLabel: "shape, CPUs", yLabel: "IPIs / iteration",
    categories: cats.map((k) => `${k.s}, ${cpuWord(k.c)}`),
    series: eras.map((e) => ({ name: e, values: cats.map((k) => runs.find((x) => x.shape === k.s && x.cpus === k.c && x.era === e)?.tlb.ipisPerIteration ?? null) })),
  });
  return figure(id, svg, "Remote CPUs asked to flush per iteration (one madvise(MADV_DONTNEED) of one page each): processes flush only their " +
    "own CPU; threads' flushes reach every other CPU running a thread of the mm (mm_cpumask).");
}

/** The will-it-scale section (a SectionRenderer). Throws ReportError on a malformed result. */
export function willItScaleSection(result: unknown, ctx: SectionContext): string {
  const r = check(result);
  const p = ctx.idPrefix;
  const eras = uniq([...r.eras.map((e) => String(e?.name)), ...r.runs.map((x) => x.era)]).filter((e) => r.runs.some((x) => x.era === e));
  const cpus = uniq([...r.cpus, ...r.runs.map((x) => x.cpus)]).filter((c) => r.runs.some((x) => x.cpus === c)).sort((a, b) => a - b);
  const pairs = uniq(r.runs.map((x) => `${x.testcase}\u0000${x.shape}`)).map((k) => k.split("\u0000") as [string, string]);
  const failed = r.runs.filter((x) => Array.isArray(x.invariantViolations) && x.invariantViolations.length > 0);
  const charts = pairs.map(([t, s]) => `<h4>${escapeHtml(`${t}, ${s}`)}</h4>` + throughputChart(r, p, ctx.charts.yScale, t, s, eras, cpus) +
    ctxswChart(r, p, t, s, eras, cpus) + waitDistChart(r, p, ctx.charts.yScale, t, s, eras, cpus)).join("");
  return `<section id="${escapeHtml(p)}" data-experiment="will-it-scale">` +
    `<h2>will-it-scale: brk, page-fault and TLB-flush testcases per era, shape and CPU count (${escapeHtml(String(r.mode))} mode)</h2>` + config(r) +
    (failed.length ? `<p class="fail">MM invariant violations after ${failed.length} run(s): ${escapeHtml(failed.map((x) => `${x.testcase}/${x.shape}/${x.era}/${x.cpus}`).join(", "))}</p>`
      : r.runs.some((x) => Array.isArray(x.invariantViolations)) ? `<p class="ok">MM invariant checks passed after every run.</p>` : "") +
    `<h3>Charts</h3>` + charts + ipiChart(r, p, eras, cpus) +
    `<h3>Summary</h3>` + summaryTable(r) + scalingTable(r) + lockTable(r) +
    `<h3>Reading the figures</h3><ul class="notes">${(Array.isArray(r.notes) ? r.notes : []).map((n) => `<li>${escapeHtml(n)}</li>`).join("")}</ul>` +
    `</section>`;
}
