// The fork-server section of the HTML report (src/report/html.ts): configuration (mode, seed,
// workload and its shape, budget, eras with their lock types, cost profile), the per-run summary
// table, the ratios against the first era, every class's lock statistics, and two charts:
//   - throughput (ops/s: messages or fork + exit pairs, all CPUs) vs CPU count, one line per era,
//     linear or log y;
//   - context switches (sleeps of every lock class) per op, bars per CPU count and era.
// Chart ids (data-chart of each <svg>, id of each <figure>): PREFIX-throughput(-linear|-log) and
// PREFIX-ctxsw, where PREFIX is the section's id prefix.
import type { ForkServerResult, ForkServerRun } from "../experiments/fork-server.js";
import { barChart, lineChart } from "./svg.js";
import { escapeHtml, figure, htmlTable, ReportError, scaleToggle, num as f, cpuText, timeUnitName as timeUnit, modeText, configList, type SectionContext } from "./html-parts.js";
import { waitDistributionFigure } from "./lock-hist.js";

/** Unit of makespan and the lock wait and hold figures (fields named *Cycles): virtual cycles, or host ns in parallel mode. */

/** Checks the fields the section draws; a ReportError names the first that is missing. */
function check(r: unknown): ForkServerResult {
  const o = r as Partial<ForkServerResult> | null;
  const bad = (what: string) => new ReportError(`fork-server result: ${what}`);
  if (!o || typeof o !== "object" || o.experiment !== "fork-server") throw bad("not a fork-server result (experiment field)");
  if (!Array.isArray(o.runs) || !Array.isArray(o.cpus) || !Array.isArray(o.eras)) throw bad("runs, cpus and eras must be arrays");
  o.runs.forEach((run, i) => {
    if (!run || typeof run.era !== "string" || typeof run.cpus !== "number" || typeof run.opsPerSec !== "number" ||
      typeof run.contextSwitchesPerOp !== "number" || !Array.isArray(run.locks)) {
      throw bad(`run ${i} lacks era, cpus, opsPerSec, contextSwitchesPerOp or locks`);
    }
  });
  return o as ForkServerResult;
}

function eraOrder(r: ForkServerResult): string[] {
  const names = r.eras.map((e) => String(e?.name));
  for (const run of r.runs) if (!names.includes(run.era)) names.push(run.era);
  return names.filter((n) => r.runs.some((run) => run.era === n));
}

function cpuOrder(r: ForkServerResult): number[] {
  return [...new Set([...r.cpus, ...r.runs.map((x) => x.cpus)])].filter((c) => r.runs.some((x) => x.cpus === c)).sort((a, b) => a - b);
}

const opName = (r: ForkServerResult) => (r.workload === "exim" ? "messages" : "fork + exit pairs");

function workloadText(r: ForkServerResult): string {
  if (r.workload === "exim") {
    const vary = r.varySizes === true;
    return `exim-like fork server (MOSBENCH exim): per message the daemon forks a child, which writes ${vary ? "on average " : ""}${r.touchPages} of the ` +
      `${r.heapPages} COW-shared heap pages (a COW fault each), mmaps, touches and munmaps a ${vary ? "mean " : ""}${r.bufferPages}-page buffer` +
      `${r.deliver ? " in a grandchild it forks to deliver" : ""}, and exits; the daemon reaps it; ` +
      (vary ? `message sizes vary (uniform 1..2x-1 around the means, size seed ${String(r.sizeSeed)})` : "every message the same size (fixed sizes)");
  }
  return "AIM7 fork_test: fork, the child exits at once, the parent waits";
}

function config(r: ForkServerResult): string {
  const rows: [string, string][] = [
    ["experiment", "fork-server"],
    ["mode", modeText(r, "figures are host time (ns) and host-dependent, not reproducible from the seed")],
    ["seed", r.mode === "parallel" ? `${String(r.seed)} (picks the message sizes only in parallel mode)` : String(r.seed)],
    ["workload", workloadText(r)],
    ["shape", "one daemon per CPU, all forked from one master: one fork tree, whose anon_vmas share the master's root anon_vma lock (2.6.34+)"],
    ["budget", r.mode === "parallel" ? `${f(r.budgetNs ?? NaN)} ns of host time per CPU` : `${f(r.budgetCycles ?? NaN)} virtual cycles per CPU`],
    ["CPU counts", r.cpus.join(", ")],
    ["eras", r.eras.map((e) => String(e?.name)).join(", ")],
    ["cost profile", `${String(r.profile || "(unnamed)")}, ${r.ghz} GHz`],
  ];
  return configList(rows);
}

function erasTable(r: ForkServerResult): string {
  const rows = r.eras.map((e) => [String(e?.name), String(e?.summary ?? ""), String(e?.locks?.anon_vma ?? ""), String(e?.locks?.mmap_sem ?? ""),
    String(e?.source ?? "")]);
  return htmlTable(["era", "what changed", "anon_vma lock", "mmap_sem", "source"], rows);
}

const lockOf = (run: ForkServerRun, cls: string) => run.locks.find((l) => l?.class === cls);
const clean = (run: ForkServerRun) => Array.isArray(run.invariantViolations) && run.invariantViolations.length === 0 && run.forks === run.exits;

function summaryTable(r: ForkServerResult): string {
  const u = timeUnit(r);
  const rows = r.runs.map((run) => {
    const av = lockOf(run, "anon_vma");
    return [run.era, String(run.cpus), f(run.ops), f(run.opsPerSec), f(run.forks), f(run.exits), f(run.faults), f(run.contextSwitchesPerOp, 3),
      av ? f(av.contentions) : "-", av ? f(av.sleeps) : "-", av ? f(av.handoffs) : "-", av ? f(av.steals) : "-", av ? f(av.wait?.avgCycles) : "-",
      av ? f(av.wait?.maxCycles) : "-", run.invariantViolations === null ? "-" : clean(run) ? "ok" : "FAIL"];
  });
  const num = [false, ...Array<boolean>(13).fill(true), false];
  return `<div class="scroll">${htmlTable(["era", "CPUs", opName(r), "ops/s", "forks", "exits", "page faults", "context switches/op",
    "anon_vma contentions", "anon_vma sleeps", "anon_vma handoffs", "anon_vma steals", `anon_vma avg wait (${u})`, `anon_vma max wait (${u})`,
    "MM check"], rows, num)}</div>`;
}

function ratiosTable(r: ForkServerResult): string {
  if (!Array.isArray(r.ratios) || r.ratios.length === 0) return "";
  const rows = r.ratios.map((q) => [q.era, String(q.cpus), `${f(q.throughputRatio, 3)}x`]);
  return `<h3>Throughput against ${escapeHtml(r.ratios[0]!.baseline)} (the first era listed)</h3>` +
    htmlTable(["era", "CPUs", "ops/s ratio"], rows, [false, true, true]);
}

function lockTable(r: ForkServerResult): string {
  const u = timeUnit(r);
  const rows = r.runs.flatMap((run) => run.locks.map((l) => [run.era, String(run.cpus), String(l.class), f(l.acquisitions), f(l.readAcquisitions),
    f(l.writeAcquisitions), f(l.contentions), f(l.spins), f(l.sleeps), f(l.wakeups), f(l.handoffs), f(l.steals), f(l.wait?.avgCycles, 1),
    f(l.wait?.maxCycles), f(l.hold?.avgCycles, 1), f(l.fairness, 2)]));
  return `<details><summary>Lock statistics per run and class (every figure)</summary><div class="scroll">` +
    htmlTable(["era", "CPUs", "class", "acquisitions", "read", "write", "contentions", "spins", "sleeps (context switches)", "wake-ups", "handoffs",
      "steals", `wait avg (${u})`, `wait max (${u})`, `hold avg (${u})`, "fairness (max/min per CPU)"],
    rows, [false, ...Array<boolean>(15).fill(true)]) + `</div></details>`;
}

function throughputChart(r: ForkServerResult, p: string, mode: SectionContext["charts"]["yScale"], eras: string[], cpus: number[]): string {
  const xScale = cpus.length > 2 && cpus[0]! > 0 && cpus[cpus.length - 1]! / cpus[0]! >= 4 ? "log" : "linear";
  const draw = (yScale: "linear" | "log") => lineChart({
    id: `${p}-throughput-${yScale}`, title: `${r.workload} throughput vs CPUs, per era`, xLabel: `CPUs (one daemon each${xScale === "log" ? ", log2 scale" : ""})`,
    yLabel: `ops/s (${opName(r)}/s, all CPUs)`, yScale, xScale, xTicks: cpus,
    series: eras.map((e) => ({ name: e, points: r.runs.filter((x) => x.era === e).map((x) => ({ x: x.cpus, y: x.opsPerSec })) })),
  });
  return figure(`${p}-throughput`, scaleToggle(`${p}-throughput`, mode, draw),
    `Throughput: ${opName(r)} per second of ${r.mode === "timed" ? "virtual" : "host"} time, all CPUs, one line per era. Hover a point for its exact figure.`);
}

function ctxswChart(r: ForkServerResult, p: string, eras: string[], cpus: number[]): string {
  const svg = barChart({
    id: `${p}-ctxsw`, title: "Context switches per op", xLabel: "CPUs", yLabel: "context switches / op",
    categories: cpus.map(cpuText),
    series: eras.map((e) => ({ name: e, values: cpus.map((c) => r.runs.find((x) => x.era === e && x.cpus === c)?.contextSwitchesPerOp ?? null) })),
  });
  return figure(`${p}-ctxsw`, svg, "Sleeps of every lock class (a waiter gave up its CPU) per op: the convoy of 3.8's FIFO rwsem shows here. " +
    "The two task switches every op makes (to the child and back) are not counted. Missing bars: that era was not run at that CPU count.");
}

/** The anon_vma (the tree's root lock) wait-time distribution at the largest CPU count, one series per era. */
function waitDistChart(r: ForkServerResult, p: string, mode: SectionContext["charts"]["yScale"], eras: string[], cpus: number[]): string {
  const top = cpus[cpus.length - 1];
  if (top === undefined) return "";
  return waitDistributionFigure(`${p}-waitdist-anon_vma`, `anon_vma lock (the tree's root), ${cpuText(top)}`, eras.map((e) => {
    const run = r.runs.find((x) => x.era === e && x.cpus === top);
    return { name: e, wait: run ? lockOf(run, "anon_vma")?.wait : undefined };
  }), r.timeUnit === "ns" ? "host ns" : "virtual cycles", mode);
}

/** The fork-server section (a SectionRenderer). Throws ReportError on a malformed result. */
export function forkServerSection(result: unknown, ctx: SectionContext): string {
  const r = check(result);
  const p = ctx.idPrefix, eras = eraOrder(r), cpus = cpuOrder(r);
  const failed = r.runs.filter((x) => x.invariantViolations !== null && !clean(x));
  return `<section id="${escapeHtml(p)}" data-experiment="fork-server">` +
    `<h2>fork-server: ${escapeHtml(r.workload)} per era and CPU count (${escapeHtml(String(r.mode))} mode)</h2>` + config(r) +
    (failed.length ? `<p class="fail">MM check failed in ${failed.length} run(s): ${escapeHtml(failed.map((x) => `${x.era}/${x.cpus}: ${(x.invariantViolations ?? []).join("; ") || "forks != exits"}`).join(", "))}</p>`
      : `<p class="ok">MM checks passed: the invariant checker is clean and no task, mm, vma or anon_vma is left behind, after every run.</p>`) +
    `<h3>Charts</h3>` + throughputChart(r, p, ctx.charts.yScale, eras, cpus) + ctxswChart(r, p, eras, cpus) +
    waitDistChart(r, p, ctx.charts.yScale, eras, cpus) +
    `<h3>Summary</h3>` + summaryTable(r) + ratiosTable(r) + lockTable(r) +
    `<h3>Eras</h3><div class="scroll">${erasTable(r)}</div>` +
    `<h3>Reading the figures</h3><ul class="notes">${(Array.isArray(r.notes) ? r.notes : []).map((n) => `<li>${escapeHtml(n)}</li>`).join("")}</ul>` +
    `</section>`;
}
