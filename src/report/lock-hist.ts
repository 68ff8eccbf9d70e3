// Lock wait-time distributions for the report sections (aim9-brk, rmap-locks, and any experiment whose
// runs carry RunLockStat from src/experiments/lock-diff.ts): one step outline per series (an era, a
// lock configuration) over the log2 buckets of lock_stat's wait histogram, y = share of that series'
// contended acquisitions, so series with different wait counts compare by shape.
import { histogramLabel } from "../locking/lock-hist.js";
import { stepChart } from "./svg.js";
import { escapeHtml, figure, scaleToggle, type ChartOptions } from "./html-parts.js";

/** One distribution: a name and a RunLockStat's wait (histogram, count, p50/p90/p99), if it has one. */
export interface WaitSeries {
  name: string;
  wait: { count?: number; histogram?: number[]; p50?: number; p90?: number; p99?: number } | undefined;
}

const g = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? "-" : v.toLocaleString("en-US", { maximumFractionDigits: 0 }));

/**
 * waitDistributionFigure - a <figure> with id `id` holding the step chart of the series that have
 * waits and a histogram, x trimmed to the buckets any of them uses, with a linear y (data-chart
 * `ID-linear`: the bulk) and a log y (`ID-log`: the tail), both behind the report's scale switch
 * unless `yScale` picks one; `subject` names
 * what is drawn (e.g. "anon_vma lock, 8 CPUs"). Series without contended waits, or from results made
 * before histograms existed, are left out and the caption says which. When none is left, returns a
 * <div> with the same id and a sentence saying there is no wait to draw. Never throws.
 */
export function waitDistributionFigure(id: string, subject: string, series: WaitSeries[], unit = "virtual cycles",
  yScale: ChartOptions["yScale"] = "both"): string {
  const drawn = series.filter((s) => Array.isArray(s.wait?.histogram) && (s.wait?.count ?? 0) > 0 &&
    s.wait!.histogram!.some((n) => n > 0));
  const missing = series.filter((s) => !drawn.includes(s)).map((s) => s.name);
  if (drawn.length === 0) {
    return `<div id="${escapeHtml(id)}" data-figure="${escapeHtml(id)}"><p>${escapeHtml(subject)}: no contended acquisition with a wait histogram, ` +
      `so there is no wait-time distribution to draw.</p></div>`;
  }
  const n = Math.max(...drawn.map((s) => s.wait!.histogram!.length));
  const used = (i: number) => drawn.some((s) => (s.wait!.histogram![i] ?? 0) > 0);
  let lo = 0, hi = n - 1;
  while (lo < hi && !used(lo)) lo++;
  while (hi > lo && !used(hi)) hi--;
  const bins: string[] = [];
  for (let i = lo; i <= hi; i++) bins.push(histogramLabel(i, n));
  const draw = (scale: "linear" | "log") => stepChart({
    id: `${id}-${scale}`, yScale: scale, title: `${subject}: wait-time distribution`, xLabel: `wait (${unit}, log2 buckets: 2^k holds [2^k, 2^(k+1)))`,
    yLabel: "share of contended acquisitions (%)", bins,
    series: drawn.map((s) => {
      const h = s.wait!.histogram!, total = h.reduce((a, b) => a + b, 0);
      return { name: `${s.name} (p99 ${g(s.wait!.p99)})`, values: bins.map((_, k) => Number(((100 * (h[lo + k] ?? 0)) / total).toPrecision(6))) };
    }),
  });
  const pct = drawn.map((s) => `${s.name}: ${g(s.wait!.count)} waits, p50 ${g(s.wait!.p50)}, p90 ${g(s.wait!.p90)}, p99 ${g(s.wait!.p99)}`).join("; ");
  return figure(id, scaleToggle(id, yScale, draw), `${subject}: how long contended acquisitions waited, as lock_stat's log2 histogram (per CPU in the core, summed), ` +
    `one outline per series, each as a share of its own waits (the log scale shows the tail; empty buckets sit on its floor). Percentiles (${unit}) are the upper bound of the bucket holding them ` +
    `(at most twice the true figure), capped at the run's maximum wait: ${pct}.` +
    (missing.length ? ` Not drawn (no contended wait, or no histogram in the result): ${missing.join(", ")}.` : ""));
}
