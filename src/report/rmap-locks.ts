// The rmap-locks section of the HTML report (src/report/html.ts): configuration (mode, seed, base
// era, pages, budget, trees, cost profile), the anon_vma lock configurations, the per-run summary
// table, and per fork tree (width x depth):
//   - walker ops/s vs CPU count, one line per lock configuration, linear or log y;
//   - writer ops/s vs CPU count, the same;
//   - anon_vma lock sleeps (context switches) and contentions per configuration, bars per CPU count;
//   - anon_vma lock wait: average and maximum wait of contended acquisitions per configuration and
//     CPU count;
//   - anon_vma wait-time distribution at the tree's largest CPU count (report/lock-hist.ts): lock_stat's
//     log2 wait histogram, one outline per configuration, as shares of each configuration's waits.
// Chart ids (data-chart of each <svg>; id of each <figure>), TREE = WxD (e.g. 2x2):
//   PREFIX-walker-TREE(-linear|-log), PREFIX-writer-TREE(-linear|-log), PREFIX-sleeps-TREE,
//   PREFIX-contentions-TREE (both in figure PREFIX-anonvma-TREE), PREFIX-lockwait-TREE, PREFIX-waitdist-TREE
//   (charts PREFIX-waitdist-TREE(-linear|-log); all of them in PREFIX-waitdist).
import type { RmapLocksResult, RmapLocksRun } from "../experiments/rmap-locks.js";
import { barChart, lineChart } from "./svg.js";
import { waitDistributionFigure } from "./lock-hist.js";
import { escapeHtml, figure, htmlTable, ReportError, scaleToggle, num as f, cpuText, timeUnitName as timeUnit, modeText, configList, type SectionContext } from "./html-parts.js";

const treeId = (t: { width: number; depth: number }) => `${t.width}x${t.depth}`;

/** Unit of the lock wait and hold figures (fields named *Cycles): virtual cycles, or host ns in parallel mode. */

/** Checks the fields the section draws; a ReportError names the first that is missing. */
function check(r: unknown): RmapLocksResult {
  const o = r as Partial<RmapLocksResult> | null;
  const bad = (what: string) => new ReportError(`rmap-locks result: ${what}`);
  if (!o || typeof o !== "object" || o.experiment !== "rmap-locks") throw bad("not an rmap-locks result (experiment field)");
  if (!Array.isArray(o.runs) || !Array.isArray(o.cpus) || !Array.isArray(o.configs) || !Array.isArray(o.trees)) {
    throw bad("runs, cpus, configs and trees must be arrays");
  }
  o.runs.forEach((run, i) => {
    if (!run || typeof run.config !== "string" || typeof run.cpus !== "number" || typeof run.width !== "number" ||
      typeof run.depth !== "number" || typeof run.walkerOpsPerSec !== "number" || typeof run.writerOpsPerSec !== "number" ||
      !run.anonVma || typeof run.anonVma !== "object" || !run.anonVma.wait || !Array.isArray(run.locks)) {
      throw bad(`run ${i} lacks config, cpus, width, depth, walkerOpsPerSec, writerOpsPerSec, anonVma or locks`);
    }
  });
  return o as RmapLocksResult;
}

/** Configuration names in the result's order (configs first, then any only the runs name), those with runs. */
function configOrder(r: RmapLocksResult): string[] {
  const names = r.configs.map((c) => String(c?.name));
  for (const run of r.runs) if (!names.includes(run.config)) names.push(run.config);
  return names.filter((n) => r.runs.some((run) => run.config === n));
}

function treeOrder(r: RmapLocksResult): { width: number; depth: number }[] {
  const out: { width: number; depth: number }[] = [];
  for (const t of [...r.trees, ...r.runs]) {
    if (!out.some((x) => x.width === t.width && x.depth === t.depth)) out.push({ width: t.width, depth: t.depth });
  }
  return out.filter((t) => r.runs.some((x) => x.width === t.width && x.depth === t.depth));
}

const runsOf = (r: RmapLocksResult, t: { width: number; depth: number }) => r.runs.filter((x) => x.width === t.width && x.depth === t.depth);

function config(r: RmapLocksResult): string {
  const rows: [string, string][] = [
    ["experiment", "rmap-locks"],
    ["mode", modeText(r, "throughput, role times and lock wait and hold are host time (ns); figures are host-dependent and vary from run to run (not reproducible from the seed)")],
    ["seed", r.mode === "parallel" ? `${String(r.seed)} (no effect in parallel mode)` : String(r.seed)],
    ["base era", String(r.baseEra)],
    ["workload", `walker CPUs: page_referenced over the root's ${r.pages} shared pages, a migration every ${r.migrateEvery}th walk; ` +
      `writer CPUs: fork + exit of a child, mmap + touch + munmap of ${r.writerPages} pages, each as one process of the tree`],
    ["budget", r.mode === "parallel" ? `${f(r.budgetNs ?? NaN)} ns of host time per CPU` : `${f(r.budgetCycles ?? NaN)} virtual cycles per CPU`],
    ["CPU counts", r.cpus.join(", ") + ` (walkers: ${r.walkers === null || r.walkers === undefined ? "half, rounded up" : String(r.walkers)}; the rest write)`],
    ["fork trees", r.trees.map((t) => `${treeId(t)} (width x depth)`).join(", ")],
    ["configurations", r.configs.map((c) => String(c?.name)).join(", ")],
    ["cost profile", `${String(r.profile || "(unnamed)")}, ${r.ghz} GHz`],
  ];
  return configList(rows);
}

function configsTable(r: RmapLocksResult): string {
  return htmlTable(["configuration", "anon_vma lock", "rmap walks take it", "seed 003 lockless case"],
    r.configs.map((c) => [String(c?.name), String(c?.anonVmaLock), String(c?.walks), c?.lockless ? "on" : "off"]));
}

const checkText = (run: RmapLocksRun) => run.invariantViolations === null || run.invariantViolations === undefined ? "-"
  : run.invariantViolations.length === 0 ? "ok" : "FAIL";

function summaryTable(r: RmapLocksResult): string {
  const u = timeUnit(r);
  const rows = r.runs.map((run) => {
    const av = run.anonVma;
    return [run.config, `${run.width}x${run.depth}`, String(run.processes), String(run.cpus), `${run.walkers}/${run.writers}`,
      f(run.walkerOpsPerSec), f(run.writerOpsPerSec), f(run.walkerOps), f(run.writerOps), f(run.locklessWalks), f(run.migrations),
      `${f(av.readAcquisitions)}/${f(av.writeAcquisitions)}`, f(av.contentions), f(av.sleeps), f(av.wait.avgCycles, 1), f(av.wait.p99 ?? NaN), f(av.wait.maxCycles),
      f(av.hold?.avgCycles, 1), checkText(run)];
  });
  return `<div class="scroll">${htmlTable(["configuration", "tree", "processes", "CPUs", "walkers/writers", "walker ops/s", "writer ops/s",
    "walker ops", "writer ops", "lockless walks", "migrations", "anon_vma read/write", "anon_vma contentions", "anon_vma sleeps (context switches)",
    `anon_vma avg wait (${u})`, `anon_vma p99 wait (${u})`, `anon_vma max wait (${u})`, `anon_vma avg hold (${u})`, "mm check"], rows,
  [false, false, true, true, false, ...Array<boolean>(13).fill(true), false])}</div>`;
}

function lockTable(r: RmapLocksResult): string {
  const u = timeUnit(r);
  const rows = r.runs.flatMap((run) => run.locks.map((l) => [run.config, `${run.width}x${run.depth}`, String(run.cpus), String(l.class),
    f(l.acquisitions), f(l.readAcquisitions), f(l.writeAcquisitions), f(l.contentions), f(l.spins), f(l.sleeps), f(l.wakeups), f(l.handoffs),
    f(l.steals), f(l.wait?.count), f(l.wait?.totalCycles), f(l.wait?.avgCycles, 1), f(l.wait?.p50 ?? NaN), f(l.wait?.p90 ?? NaN),
    f(l.wait?.p99 ?? NaN), f(l.wait?.maxCycles), f(l.hold?.avgCycles, 1), f(l.hold?.p99 ?? NaN)]));
  return `<details><summary>Lock statistics per run and class (every figure)</summary><div class="scroll">` +
    htmlTable(["configuration", "tree", "CPUs", "class", "acquisitions", "read", "write", "contentions", "spins", "sleeps (context switches)",
      "wake-ups", "handoffs", "steals", "waits", `wait total (${u})`, `wait avg (${u})`, "wait p50", "wait p90", "wait p99",
      `wait max (${u})`, `hold avg (${u})`, "hold p99"],
    rows, [false, false, true, false, ...Array<boolean>(18).fill(true)]) + `</div></details>`;
}

function throughputChart(r: RmapLocksResult, p: string, mode: SectionContext["charts"]["yScale"], role: "walker" | "writer",
  t: { width: number; depth: number }, configs: string[]): string {
  const runs = runsOf(r, t);
  const cpus = [...new Set(runs.map((x) => x.cpus))].sort((a, b) => a - b);
  const xScale = cpus.length > 2 && cpus[0]! > 0 && cpus[cpus.length - 1]! / cpus[0]! >= 4 ? "log" : "linear";
  const id = `${p}-${role}-${treeId(t)}`;
  const what = role === "walker" ? "walker ops/s (page_referenced walks + migrations)" : "writer ops/s (forks + exits + mmaps + munmaps)";
  const draw = (yScale: "linear" | "log") => lineChart({
    id: `${id}-${yScale}`, title: `${role === "walker" ? "Walker" : "Writer"} throughput vs CPUs, tree ${treeId(t)}, per anon_vma lock configuration`,
    xLabel: `CPUs (walkers + writers${xScale === "log" ? ", log2 scale" : ""})`, yLabel: what, yScale, xScale, xTicks: cpus,
    series: configs.map((c) => ({ name: c, points: runs.filter((x) => x.config === c).map((x) => ({ x: x.cpus, y: role === "walker" ? x.walkerOpsPerSec : x.writerOpsPerSec })) })),
  });
  return figure(id, scaleToggle(id, mode, draw),
    `${role === "walker" ? "Walker" : "Writer"} operations per second of ${r.mode === "parallel" ? "host" : "virtual"} time (all ${role} CPUs), fork tree ${treeId(t)} ` +
    `(${runs[0]?.processes ?? "?"} processes), one line per anon_vma lock configuration. Hover a point for its exact figure.`);
}

function anonVmaCharts(r: RmapLocksResult, p: string, t: { width: number; depth: number }, configs: string[]): string {
  const runs = runsOf(r, t);
  const cpus = [...new Set(runs.map((x) => x.cpus))].sort((a, b) => a - b);
  const bars = (what: "sleeps" | "contentions") => barChart({
    id: `${p}-${what}-${treeId(t)}`, title: `anon_vma lock ${what === "sleeps" ? "sleeps (context switches)" : "contentions"}, tree ${treeId(t)}`,
    xLabel: "anon_vma lock configuration", yLabel: what === "sleeps" ? "sleeps (context switches)" : "contended acquisitions",
    categories: configs,
    series: cpus.map((n) => ({ name: cpuText(n), values: configs.map((c) => runs.find((x) => x.config === c && x.cpus === n)?.anonVma[what] ?? null) })),
  });
  return figure(`${p}-anonvma-${treeId(t)}`, bars("sleeps") + bars("contentions"),
    `anon_vma lock, fork tree ${treeId(t)}: sleeps (a waiter gave up its CPU: a context switch) and contended acquisitions over each run's ` +
    "budget, one bar per CPU count. A spinlock never sleeps; its waiters spin. Missing bars: that configuration was not run at that CPU count.");
}

function lockWaitChart(r: RmapLocksResult, p: string, t: { width: number; depth: number }, configs: string[]): string {
  const runs = configs.flatMap((c) => runsOf(r, t).filter((x) => x.config === c).sort((a, b) => a.cpus - b.cpus))
    .filter((x) => (x.anonVma.wait?.count ?? 0) > 0);
  const id = `${p}-lockwait-${treeId(t)}`;
  if (runs.length === 0) {
    return `<div id="${escapeHtml(id)}" data-figure="${escapeHtml(id)}"><p>No contended anon_vma acquisition in tree ${escapeHtml(treeId(t))}: there is no wait to draw.</p></div>`;
  }
  const svg = barChart({
    id, title: `anon_vma: wait of contended acquisitions, tree ${treeId(t)}`, xLabel: "configuration, CPUs",
    yLabel: r.timeUnit === "ns" ? "wait (host ns)" : "wait (virtual cycles)", yScale: "log", categories: runs.map((x) => `${x.config}, ${cpuText(x.cpus)}`),
    series: [{ name: "average wait", values: runs.map((x) => x.anonVma.wait.avgCycles) },
      { name: "maximum wait", values: runs.map((x) => x.anonVma.wait.maxCycles) }],
  });
  return figure(id, svg, `anon_vma lock, fork tree ${treeId(t)}: average and maximum wait of its contended acquisitions per run ` +
    `(${r.timeUnit === "ns" ? "host nanoseconds" : `virtual cycles, ${f(r.ghz)} per ns`}). The shape of the distribution between them is in the wait-time distribution below. ` +
    "Runs without contention are left out.");
}

/** The anon_vma wait-time distribution of tree t at its largest CPU count, one series per configuration. */
function waitDistChart(r: RmapLocksResult, p: string, mode: SectionContext["charts"]["yScale"], t: { width: number; depth: number }, configs: string[]): string {
  const runs = runsOf(r, t);
  const top = Math.max(...runs.map((x) => x.cpus));
  return waitDistributionFigure(`${p}-waitdist-${treeId(t)}`, `anon_vma lock, tree ${treeId(t)}, ${cpuText(top)}`,
    configs.map((c) => ({ name: c, wait: runs.find((x) => x.config === c && x.cpus === top)?.anonVma.wait })), r.timeUnit === "ns" ? "host ns" : "virtual cycles", mode);
}

/** The rmap-locks section (a SectionRenderer). Throws ReportError on a malformed result. */
export function rmapLocksSection(result: unknown, ctx: SectionContext): string {
  const r = check(result);
  const p = ctx.idPrefix, configs = configOrder(r), trees = treeOrder(r);
  const failed = r.runs.filter((x) => Array.isArray(x.invariantViolations) && x.invariantViolations.length > 0);
  const unchecked = r.runs.every((x) => x.invariantViolations === null || x.invariantViolations === undefined);
  const charts = trees.map((t) => `<h4>Fork tree ${escapeHtml(treeId(t))}</h4>` +
    throughputChart(r, p, ctx.charts.yScale, "walker", t, configs) + throughputChart(r, p, ctx.charts.yScale, "writer", t, configs) +
    anonVmaCharts(r, p, t, configs)).join("");
  const waits = trees.map((t) => lockWaitChart(r, p, t, configs)).join("");
  const dists = trees.map((t) => waitDistChart(r, p, ctx.charts.yScale, t, configs)).join("");
  return `<section id="${escapeHtml(p)}" data-experiment="rmap-locks">` +
    `<h2>rmap-locks: spinlock, mutex or rwsem for the anon_vma lock under an rmap storm (${escapeHtml(String(r.mode))} mode)</h2>` + config(r) +
    (failed.length
      ? `<p class="fail">MM invariant check failed in ${failed.length} run(s): ${escapeHtml(failed.map((x) => `${x.config}/${x.width}x${x.depth}/${x.cpus}: ${x.invariantViolations!.join("; ")}`).join(", "))}</p>`
      : unchecked ? `<p>The MM invariant checker was not run.</p>`
        : `<p class="ok">MM invariant checks passed after every run.</p>`) +
    `<h3>Charts</h3>` + charts +
    `<h3>anon_vma lock wait</h3><div id="${escapeHtml(p)}-lockwait" data-figure="${escapeHtml(p)}-lockwait">${waits}</div>` +
    `<h3>anon_vma lock wait-time distributions</h3><div id="${escapeHtml(p)}-waitdist" data-figure="${escapeHtml(p)}-waitdist">${dists}</div>` +
    `<h3>Summary</h3>` + summaryTable(r) + lockTable(r) +
    `<h3>Configurations</h3><div class="scroll">${configsTable(r)}</div>` +
    `<h3>Reading the figures</h3><ul class="notes">${(Array.isArray(r.notes) ? r.notes : []).map((n) => `<li>${escapeHtml(n)}</li>`).join("")}</ul>` +
    `</section>`;
}
