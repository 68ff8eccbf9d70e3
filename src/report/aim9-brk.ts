// The aim9-brk section of the HTML report (src/report/html.ts): configuration (mode, seed, workload,
// shape, eras with their lock types and switches, cost profile), the per-run summary table, the
// ratios against the spinlock baseline, and three kinds of chart:
//   - throughput (AIM9 ops/s, all tasks) vs CPU count, one line per era, linear or log y;
//   - context switches (sleeps of every lock class) per sbrk call, bars per CPU count and era;
//   - lock wait per class: average and maximum wait of contended acquisitions, bars per era and CPU
//     count;
//   - wait-time distributions (report/lock-hist.ts) of anon_vma and mmap_sem at the largest CPU count:
//     lock_stat's log2 wait histogram, one outline per era, as shares of each era's waits.
// Chart ids (data-chart of each <svg>, id of each <figure>): PREFIX-throughput(-linear|-log),
// PREFIX-ctxsw, PREFIX-lockwait and PREFIX-lockwait-CLASS, PREFIX-waitdist and PREFIX-waitdist-CLASS
// (CLASS anon_vma, mmap_sem; charts PREFIX-waitdist-CLASS(-linear|-log)), where PREFIX is the section's id prefix.
import type { Aim9BrkResult, Aim9Run } from "../experiments/aim9-brk.js";
import { barChart, lineChart } from "./svg.js";
import { waitDistributionFigure } from "./lock-hist.js";
import { escapeHtml, figure, htmlTable, ReportError, scaleToggle, num as f, idPart, timeUnitName as timeUnit, modeText, configList, type SectionContext } from "./html-parts.js";


/** Unit of the lock wait and hold figures (fields named *Cycles): virtual cycles, or host ns in parallel mode. */

/** Checks the fields the section draws; a ReportError names the first that is missing. */
function check(r: unknown): Aim9BrkResult {
  const o = r as Partial<Aim9BrkResult> | null;
  const bad = (what: string) => new ReportError(`aim9-brk result: ${what}`);
  if (!o || typeof o !== "object" || o.experiment !== "aim9-brk") throw bad("not an aim9-brk result (experiment field)");
  if (!Array.isArray(o.runs) || !Array.isArray(o.cpus) || !Array.isArray(o.eras)) throw bad("runs, cpus and eras must be arrays");
  o.runs.forEach((run, i) => {
    if (!run || typeof run.era !== "string" || typeof run.cpus !== "number" || typeof run.opsPerSec !== "number" ||
      typeof run.contextSwitchesPerSbrk !== "number" || !Array.isArray(run.locks)) {
      throw bad(`run ${i} lacks era, cpus, opsPerSec, contextSwitchesPerSbrk or locks`);
    }
  });
  return o as Aim9BrkResult;
}

/** Era names in the result's order (eras listed first, then any only the runs name). */
function eraOrder(r: Aim9BrkResult): string[] {
  const names = r.eras.map((e) => String(e?.name));
  for (const run of r.runs) if (!names.includes(run.era)) names.push(run.era);
  return names.filter((n) => r.runs.some((run) => run.era === n));
}

function cpuOrder(r: Aim9BrkResult): number[] {
  return [...new Set([...r.cpus, ...r.runs.map((x) => x.cpus)])].filter((c) => r.runs.some((x) => x.cpus === c)).sort((a, b) => a - b);
}


function config(r: Aim9BrkResult): string {
  const rows: [string, string][] = [
    ["experiment", "aim9-brk"],
    ["mode", modeText(r, "seconds and lock wait and hold are host time (ns); figures are host-dependent and vary from run to run (not reproducible from the seed)")],
    ["seed", r.mode === "parallel" ? `${String(r.seed)} (no effect in parallel mode)` : String(r.seed)],
    ["workload", `${String(r.workload)} (AIM9: 1 MiB grow, then 1000 x [sbrk(-64 KiB), 16 x sbrk(+4 KiB)]: 17,000 sbrk calls per loop)`],
    ["shape", r.shape === "threads" ? "threads: N threads of one process (one mm, one mmap_sem)" : "processes: N processes forked from one parent (their heaps share the anon_vma lock)"],
    ["loops per task", String(r.loops)],
    ["CPU counts", r.cpus.join(", ") + " (one task per CPU)"],
    ["eras", r.eras.map((e) => String(e?.name)).join(", ")],
    ["cost profile", `${String(r.profile || "(unnamed)")}, ${r.ghz} GHz`],
  ];
  return configList(rows);
}

function erasTable(r: Aim9BrkResult): string {
  const rows = r.eras.map((e) => [String(e?.name), String(e?.summary ?? ""), String(e?.locks?.anon_vma ?? ""), String(e?.locks?.i_mmap ?? ""),
    String(e?.locks?.mmap_sem ?? ""), e?.mm ? Object.entries(e.mm).map(([k, v]) => `${k}=${String(v)}`).join(", ") : "", String(e?.source ?? "")]);
  return htmlTable(["era", "what changed", "anon_vma lock", "i_mmap lock", "mmap_sem", "mm switches", "source"], rows);
}

const lockOf = (run: Aim9Run, cls: string) => run.locks.find((l) => l?.class === cls);

function summaryTable(r: Aim9BrkResult): string {
  const u = timeUnit(r);
  const rows = r.runs.map((run) => {
    const av = lockOf(run, "anon_vma"), ms = lockOf(run, "mmap_sem");
    const ok = run.sbrkPerLoop === 17000 && run.heapRestored === true;
    return [run.era, String(run.cpus), f(run.loopsPerSec, 2), f(run.opsPerSec), f(run.loopsPerSecPerTask, 2), f(run.contextSwitchesPerSbrk, 3),
      av ? f(av.contentionsPerSbrk, 3) : "-", av ? f(av.handoffs) : "-", av ? f(av.wait?.avgCycles) : "-", av ? f(av.wait?.p99 ?? NaN) : "-", av ? f(av.wait?.maxCycles) : "-",
      av ? f(av.hold?.avgCycles) : "-", ms ? f(ms.contentionsPerSbrk, 3) : "-", ok ? "ok" : "FAIL"];
  });
  const num = [false, true, true, true, true, true, true, true, true, true, true, true, true, false];
  return `<div class="scroll">${htmlTable(["era", "CPUs", "loops/s", "ops/s (sbrk/s)", "loops/s per task", "context switches/sbrk",
    "anon_vma contentions/sbrk", "anon_vma handoffs", `anon_vma avg wait (${u})`, `anon_vma p99 wait (${u})`, `anon_vma max wait (${u})`,
    `anon_vma avg hold (${u})`, "mmap_sem contentions/sbrk", "loop check"], rows, num)}</div>`;
}

function ratiosTable(r: Aim9BrkResult): string {
  if (!Array.isArray(r.ratios) || r.ratios.length === 0) return "";
  const rows = r.ratios.map((q) => [q.era, String(q.cpus), `${f(q.throughputRatio, 3)}x`, f(q.addedContextSwitchesPerSbrk, 3)]);
  return `<h3>Throughput against ${escapeHtml(r.ratios[0]!.baseline)} (the spinlock anon_vma baseline)</h3>` +
    htmlTable(["era", "CPUs", "ops/s ratio", "added context switches/sbrk"], rows, [false, true, true, true]);
}

function lockTable(r: Aim9BrkResult): string {
  const u = timeUnit(r);
  const rows = r.runs.flatMap((run) => run.locks.map((l) => [run.era, String(run.cpus), String(l.class), f(l.acquisitions), f(l.readAcquisitions),
    f(l.writeAcquisitions), f(l.contentions), f(l.spins), f(l.sleeps), f(l.wakeups), f(l.handoffs), f(l.steals), f(l.wait?.count),
    f(l.wait?.totalCycles), f(l.wait?.avgCycles, 1), f(l.wait?.p50 ?? NaN), f(l.wait?.p90 ?? NaN), f(l.wait?.p99 ?? NaN), f(l.wait?.maxCycles),
    f(l.hold?.avgCycles, 1), f(l.hold?.p99 ?? NaN), f(l.fairness, 2)]));
  return `<details><summary>Lock statistics per run and class (every figure)</summary><div class="scroll">` +
    htmlTable(["era", "CPUs", "class", "acquisitions", "read", "write", "contentions", "spins", "sleeps (context switches)", "wake-ups", "handoffs",
      "steals", "waits", `wait total (${u})`, `wait avg (${u})`, "wait p50", "wait p90", "wait p99", `wait max (${u})`, `hold avg (${u})`,
      "hold p99", "fairness (max/min per CPU)"],
    rows, [false, ...Array<boolean>(21).fill(true)]) + `</div></details>`;
}

function throughputChart(r: Aim9BrkResult, p: string, mode: SectionContext["charts"]["yScale"], eras: string[], cpus: number[]): string {
  const xScale = cpus.length > 2 && cpus[0]! > 0 && cpus[cpus.length - 1]! / cpus[0]! >= 4 ? "log" : "linear";
  const draw = (yScale: "linear" | "log") => lineChart({
    id: `${p}-throughput-${yScale}`, title: `AIM9 ${r.workload} throughput vs CPUs, per era`, xLabel: `CPUs (one task each${xScale === "log" ? ", log2 scale" : ""})`,
    yLabel: "ops/s (sbrk calls/s, all tasks)", yScale, xScale, xTicks: cpus,
    series: eras.map((e) => ({ name: e, points: r.runs.filter((x) => x.era === e).map((x) => ({ x: x.cpus, y: x.opsPerSec })) })),
  });
  return figure(`${p}-throughput`, scaleToggle(`${p}-throughput`, mode, draw),
    `Throughput as AIM9 reports it (sbrk calls per second of ${r.mode === "timed" ? "virtual" : "host"} time, summed over the tasks), one line per era. ` +
    "Hover a point for its exact figure.");
}

function ctxswChart(r: Aim9BrkResult, p: string, eras: string[], cpus: number[]): string {
  const svg = barChart({
    id: `${p}-ctxsw`, title: "Context switches per sbrk call", xLabel: "CPUs", yLabel: "context switches / sbrk",
    categories: cpus.map((c) => `${c} CPU${c === 1 ? "" : "s"}`),
    series: eras.map((e) => ({ name: e, values: cpus.map((c) => r.runs.find((x) => x.era === e && x.cpus === c)?.contextSwitchesPerSbrk ?? null) })),
  });
  return figure(`${p}-ctxsw`, svg, "Sleeps of every lock class (a waiter gave up its CPU) per sbrk call: the context switches Andrea Arcangeli asked about in 2008 (seed 002). " +
    "Missing bars: that era was not run at that CPU count.");
}

function lockWaitCharts(r: Aim9BrkResult, p: string, eras: string[]): string {
  const classes = [...new Set(r.runs.flatMap((x) => x.locks.map((l) => String(l.class))))];
  const parts: string[] = [];
  for (const cls of classes) {
    const runs = eras.flatMap((e) => r.runs.filter((x) => x.era === e).sort((a, b) => a.cpus - b.cpus))
      .filter((x) => (lockOf(x, cls)?.wait?.count ?? 0) > 0);
    if (runs.length === 0) continue;
    const svg = barChart({
      id: `${p}-lockwait-${idPart(cls)}`, title: `${cls}: wait of contended acquisitions`, xLabel: "era, CPUs",
      yLabel: r.timeUnit === "ns" ? "wait (host ns)" : "wait (virtual cycles)", yScale: "log", categories: runs.map((x) => `${x.era}, ${x.cpus} CPU${x.cpus === 1 ? "" : "s"}`),
      series: [{ name: "average wait", values: runs.map((x) => lockOf(x, cls)!.wait.avgCycles) },
        { name: "maximum wait", values: runs.map((x) => lockOf(x, cls)!.wait.maxCycles) }],
    });
    parts.push(figure(`${p}-lockwait-${idPart(cls)}`, svg, `Lock class ${cls}: average and maximum wait of its contended acquisitions per run ` +
      `(${r.timeUnit === "ns" ? "host nanoseconds" : `virtual cycles, ${f(r.ghz)} per ns`}). The shape of the distribution between them is in the wait-time distributions below. ` +
      "Runs without contention on this class are left out."));
  }
  const none = parts.length ? "" : "<p>No lock class had a contended acquisition in these runs: there is no wait to draw.</p>";
  return `<div id="${escapeHtml(p)}-lockwait" data-figure="${escapeHtml(p)}-lockwait">${parts.join("")}${none}</div>`;
}

/** Wait-time distributions of anon_vma and mmap_sem at the largest CPU count, one series per era. */
function waitDistCharts(r: Aim9BrkResult, p: string, mode: SectionContext["charts"]["yScale"], eras: string[], cpus: number[]): string {
  const top = cpus[cpus.length - 1];
  const parts = top === undefined ? [] : ["anon_vma", "mmap_sem"].map((cls) => waitDistributionFigure(`${p}-waitdist-${cls}`,
    `${cls} lock, ${top} CPU${top === 1 ? "" : "s"}`, eras.map((e) => {
      const run = r.runs.find((x) => x.era === e && x.cpus === top);
      return { name: e, wait: run ? lockOf(run, cls)?.wait : undefined };
    }), r.timeUnit === "ns" ? "host ns" : "virtual cycles", mode));
  return `<div id="${escapeHtml(p)}-waitdist" data-figure="${escapeHtml(p)}-waitdist">${parts.join("")}</div>`;
}

/** The aim9-brk section (a SectionRenderer). Throws ReportError on a malformed result. */
export function aim9BrkSection(result: unknown, ctx: SectionContext): string {
  const r = check(result);
  const p = ctx.idPrefix, eras = eraOrder(r), cpus = cpuOrder(r);
  const failed = r.runs.filter((x) => !(x.sbrkPerLoop === 17000 && x.heapRestored === true));
  return `<section id="${escapeHtml(p)}" data-experiment="aim9-brk">` +
    `<h2>aim9-brk: AIM9 ${escapeHtml(r.workload)} per era and CPU count (${escapeHtml(String(r.mode))} mode)</h2>` + config(r) +
    (failed.length ? `<p class="fail">Loop check failed in ${failed.length} run(s): ${escapeHtml(failed.map((x) => `${x.era}/${x.cpus}`).join(", "))}</p>`
      : `<p class="ok">Loop checks passed: 17,000 sbrk calls per loop and the heap back where it began, in every run.</p>`) +
    `<h3>Charts</h3>` + throughputChart(r, p, ctx.charts.yScale, eras, cpus) + ctxswChart(r, p, eras, cpus) +
    `<h3>Lock wait per class</h3>` + lockWaitCharts(r, p, eras) +
    `<h3>Lock wait-time distributions</h3>` + waitDistCharts(r, p, ctx.charts.yScale, eras, cpus) +
    `<h3>Summary</h3>` + summaryTable(r) + ratiosTable(r) + lockTable(r) +
    `<h3>Eras</h3><div class="scroll">${erasTable(r)}</div>` +
    `<h3>Reading the figures</h3><ul class="notes">${(Array.isArray(r.notes) ? r.notes : []).map((n) => `<li>${escapeHtml(n)}</li>`).join("")}</ul>` +
    `</section>`;
}
