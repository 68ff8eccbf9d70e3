// The history section of the HTML report (src/report/html.ts): each kernel lock regression of
// kernel-history.md next to the emulator's figure for the same comparison, with its source and the
// verdict, and one chart: history's relative change and the emulator's at each CPU count, per
// comparison. Chart ids: PREFIX-change (PREFIX is the section's id prefix).
import { pct, type HistoryResult } from "../experiments/history.js";
import { barChart } from "./svg.js";
import { escapeHtml, figure, htmlTable, ReportError, num as f, type SectionContext } from "./html-parts.js";


function check(r: unknown): HistoryResult {
  const o = r as Partial<HistoryResult> | null;
  const bad = (what: string) => new ReportError(`history result: ${what}`);
  if (!o || typeof o !== "object" || o.experiment !== "history") throw bad("not a history result (experiment field)");
  if (!Array.isArray(o.rows) || !Array.isArray(o.cpus)) throw bad("rows and cpus must be arrays");
  o.rows.forEach((row, i) => {
    if (!row || typeof row.id !== "string" || typeof row.historical?.change !== "number" || !Array.isArray(row.measured)) {
      throw bad(`row ${i} lacks id, historical.change or measured`);
    }
  });
  return o as HistoryResult;
}

function rowsTable(r: HistoryResult): string {
  const rows = r.rows.flatMap((row) => row.measured.map((m) => [row.id, row.title, `${row.before} -> ${row.after}`,
    `${row.historical.text}${row.historical.cores ? `, ${row.historical.cores} cores` : ""} (${row.historical.workload})`,
    String(m.cpus), f(m.beforeOpsPerSec), f(m.afterOpsPerSec), pct(m.change),
    `${f(m.beforeContextSwitchesPerOp, 3)} -> ${f(m.afterContextSwitchesPerOp, 3)}`, m.verdict, m.explanation]));
  return `<div class="scroll">${htmlTable(["comparison", "kernel change", "eras", "history", "emulator CPUs", "before (ops/s)", "after (ops/s)",
    "emulator change", "context switches per op", "verdict", "why"], rows,
  [false, false, false, false, true, true, true, true, true, false, false])}</div>`;
}

function sourcesTable(r: HistoryResult): string {
  return htmlTable(["comparison", "source of history's figure", "the emulator's workload", "op"],
    r.rows.map((row) => [row.id, row.source, row.workloadNote, String(row.opUnit)]));
}

function changeChart(r: HistoryResult, p: string): string {
  const cpus = [...new Set(r.rows.flatMap((row) => row.measured.map((m) => m.cpus)))].sort((a, b) => a - b);
  const svg = barChart({
    id: `${p}-change`, title: "Throughput change after the kernel change: history and the emulator", xLabel: "comparison",
    yLabel: "after / before - 1 (%)", categories: r.rows.map((row) => row.id),
    series: [{ name: "history", values: r.rows.map((row) => row.historical.change * 100) },
      ...cpus.map((c) => ({ name: `emulator, ${c} CPUs`, values: r.rows.map((row) => {
        const m = row.measured.find((x) => x.cpus === c);
        return m && Number.isFinite(m.change) ? m.change * 100 : null;
      }) }))],
  });
  return figure(`${p}-change`, svg, "Each comparison's relative throughput change (after the kernel change against before it), as history " +
    "reported it and as the emulator measures it at each CPU count. A history bar of 0 is a reported recovery or parity. " +
    "History's machines had 32 to 80 cores and other workload mixes: compare directions and rough sizes.");
}

/** The history section (a SectionRenderer). Throws ReportError on a malformed result. */
export function historySection(result: unknown, ctx: SectionContext): string {
  const r = check(result);
  const p = ctx.idPrefix;
  const counts = { agrees: 0, "direction only": 0, disagrees: 0 } as Record<string, number>;
  for (const row of r.rows) for (const m of row.measured) counts[m.verdict] = (counts[m.verdict] ?? 0) + 1;
  return `<section id="${escapeHtml(p)}" data-experiment="history">` +
    `<h2>history: kernel lock regressions against the emulator (${escapeHtml(String(r.mode))} mode)</h2>` +
    `<dl class="config"><dt>mode</dt><dd>${escapeHtml(r.mode === "parallel"
      ? `parallel: the sub-experiments' parallel modes, one worker thread per emulated CPU on a host of ${String(r.hostCores ?? "?")} cores; ` +
        "figures are host time (ns), host-dependent and not reproducible; host time on this machine's few cores is not comparable in size " +
        "with history's 32-80-core machines (the verdict rule is the same)"
      : `${r.mode}: deterministic virtual time (cycles at ${r.ghz} GHz), seed ${r.seed}`)}</dd>` +
    `<dt>CPU counts</dt><dd>${escapeHtml(r.cpus.join(", "))}</dd><dt>cost profile</dt><dd>${escapeHtml(r.profile || "(unnamed)")}</dd>` +
    `<dt>verdicts</dt><dd>${escapeHtml(`${counts.agrees} agree, ${counts["direction only"]} agree in direction only, ${counts.disagrees} disagree`)}</dd></dl>` +
    changeChart(r, p) + `<h3>Comparisons</h3>` + rowsTable(r) + `<h3>Sources</h3>` + sourcesTable(r) +
    `<h3>Reading the figures</h3><ul class="notes">${(Array.isArray(r.notes) ? r.notes : []).map((n) => `<li>${escapeHtml(n)}</li>`).join("")}</ul>` +
    `</section>`;
}
