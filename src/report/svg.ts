// Inline SVG charts for the HTML report (issue 5, "Output a user can read and reuse"): line and
// grouped-bar charts with axes, ticks, axis labels and a legend, as strings of SVG markup with no
// script, no external font and no chart library, so that a report opens from disk.
//
// Reusable by any experiment's report section (src/report/aim9-brk.ts is one):
//   lineChart({ id, title, xLabel, yLabel, series: [{ name, points: [{ x, y }] }], yScale: "log" })
//   barChart({ id, title, xLabel, yLabel, categories: ["1", "2"], series: [{ name, values: [3, null] }] })
//   stepChart({ id, title, xLabel, yLabel, bins: ["<2", "2^1"], series: [{ name, values: [0.2, 0.8] }] })
//     (histograms: one step outline per series over shared bins, so several distributions overlay)
// Every data point carries its figure in data-x / data-y (lines) or data-category / data-value (bars, steps)
// and a <title> tooltip, so that tests and readers can check the drawing against the JSON. All text
// is escaped. A log scale leaves out values <= 0 (there is no log of zero); the chart says how many.

/** Escape text for XML/HTML content and attribute values. */
export function escapeXml(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/** A number for a tick label: SI suffixes above 10^3, up to 3 significant digits. */
export function formatTick(v: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  const units: [number, string][] = [[1e12, "T"], [1e9, "G"], [1e6, "M"], [1e3, "k"]];
  for (const [u, s] of units) if (a >= u) return `${trim(v / u)}${s}`;
  return trim(v);
}

function trim(v: number): string {
  const a = Math.abs(v);
  if (a >= 100) return String(Math.round(v));
  if (a >= 1) return String(Number(v.toPrecision(3)));
  return String(Number(v.toPrecision(2)));
}

/** "Nice" linear ticks covering [lo, hi] (steps 1, 2 or 5 x 10^k), about `count` of them. */
export function linearTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) hi = lo + (lo === 0 ? 1 : Math.abs(lo));
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const first = Math.floor(lo / step) * step, last = Math.ceil(hi / step) * step;
  const out: number[] = [];
  for (let v = first; v <= last + step / 2; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** Powers of ten covering [lo, hi] (both > 0). */
export function logTicks(lo: number, hi: number): number[] {
  const a = Math.floor(Math.log10(lo)), b = Math.max(a + 1, Math.ceil(Math.log10(hi)));
  const out: number[] = [];
  for (let k = a; k <= b; k++) out.push(10 ** k);
  return out;
}

/** Powers of two covering [lo, hi] (for CPU counts on a log x axis). */
function log2Ticks(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let k = Math.floor(Math.log2(lo)); k <= Math.ceil(Math.log2(hi)); k++) out.push(2 ** k);
  return out;
}

export type Scale = "linear" | "log";

interface Axis { ticks: number[]; map(v: number): number }

function axis(values: number[], scale: Scale, from: number, to: number, base: 2 | 10, zero: boolean): Axis {
  if (scale === "log") {
    const pos = values.filter((v) => v > 0);
    const lo = pos.length ? Math.min(...pos) : 1, hi = pos.length ? Math.max(...pos) : 10;
    const ticks = base === 2 ? log2Ticks(lo, hi) : logTicks(lo, hi);
    const t0 = Math.log(ticks[0]!), t1 = Math.log(ticks[ticks.length - 1]!);
    return { ticks, map: (v) => from + ((Math.log(v) - t0) / (t1 - t0 || 1)) * (to - from) };
  }
  const lo = zero ? Math.min(0, ...values) : Math.min(...values), hi = Math.max(...values, lo);
  const ticks = linearTicks(lo, hi === lo ? lo + 1 : hi);
  const t0 = ticks[0]!, t1 = ticks[ticks.length - 1]!;
  return { ticks, map: (v) => from + ((v - t0) / (t1 - t0 || 1)) * (to - from) };
}

/** A categorical palette distinguishable in colour and in grey (Okabe-Ito, then more). */
export const PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#882255", "#44AA99", "#999933"];
const DASHES = ["", "6 3", "2 3", "8 3 2 3"];

export interface ChartCommon {
  /** Identifies the chart: the <svg>'s data-chart attribute (tests and links find charts by it). */
  id: string;
  title: string;
  xLabel: string;
  /** With the unit, e.g. "ops/s". */
  yLabel: string;
  yScale?: Scale;
  width?: number;
  height?: number;
}

export interface LineSeries { name: string; points: { x: number; y: number }[] }
export interface LineChartOptions extends ChartCommon {
  series: LineSeries[];
  xScale?: Scale;
  /** Where to label the x axis (e.g. the CPU counts run); default nice ticks (powers of two on a log scale). */
  xTicks?: number[];
}

const M = { left: 78, right: 16, top: 34, bottom: 52 };

/** The chart around its body: title, axis labels, the note (top right), the legend below (`xLabelY`: the x label's baseline). */
function frame(o: ChartCommon, w: number, h: number, body: string, legend: string[], note: string, xLabelY = h - 10): string {
  const legendH = legend.length ? 18 * Math.ceil(legend.length / 4) + 6 : 0;
  return `<svg class="chart" data-chart="${escapeXml(o.id)}" role="img" ` +
    `viewBox="0 0 ${w} ${h + legendH}" width="${w}" height="${h + legendH}" aria-label="${escapeXml(o.title)}">` +
    `<title>${escapeXml(o.title)}</title>` +
    `<text class="chart-title" x="${w / 2}" y="18" text-anchor="middle">${escapeXml(o.title)}</text>` +
    body +
    `<text class="axis-label" x="${M.left + (w - M.left - M.right) / 2}" y="${xLabelY}" text-anchor="middle">${escapeXml(o.xLabel)}</text>` +
    `<text class="axis-label" transform="translate(14 ${M.top + (h - M.top - M.bottom) / 2}) rotate(-90)" text-anchor="middle">${escapeXml(o.yLabel)}</text>` +
    (note ? `<text class="chart-note" x="${w - M.right}" y="${M.top - 3}" text-anchor="end">${escapeXml(note)}</text>` : "") +
    legend.map((item, i) => `<g class="legend-item" transform="translate(${M.left + (i % 4) * ((w - M.left) / 4)} ${h + 4 + 18 * Math.floor(i / 4)})">${item}</g>`).join("") +
    `</svg>`;
}

function yAxis(ax: Axis, w: number): string {
  return ax.ticks.map((t) => {
    const y = ax.map(t).toFixed(1);
    return `<line class="grid" x1="${M.left}" x2="${w - M.right}" y1="${y}" y2="${y}"/>` +
      `<text class="tick" x="${M.left - 6}" y="${y}" dy="0.32em" text-anchor="end">${escapeXml(formatTick(t))}</text>`;
  }).join("");
}

function dropped(n: number): string {
  return n ? `${n} value${n === 1 ? "" : "s"} <= 0 not drawn on the log scale` : "";
}

/** A line chart: one polyline with markers per series, numeric x. Returns SVG markup. */
export function lineChart(o: LineChartOptions): string {
  const w = o.width ?? 640, h = o.height ?? 340;
  const yScale = o.yScale ?? "linear", xScale = o.xScale ?? "linear";
  const all = o.series.flatMap((s) => s.points);
  const keep = (p: { x: number; y: number }) => Number.isFinite(p.x) && Number.isFinite(p.y) &&
    (yScale !== "log" || p.y > 0) && (xScale !== "log" || p.x > 0);
  const shown = all.filter(keep);
  const xs = shown.length ? shown.map((p) => p.x) : [0, 1], ys = shown.length ? shown.map((p) => p.y) : [0, 1];
  const xa = axis(xs, xScale, M.left + 10, w - M.right - 10, 2, false);
  const ya = axis(ys, yScale, h - M.bottom, M.top, 10, true);
  let body = yAxis(ya, w);
  const xt = o.xTicks ? o.xTicks.filter((t) => Number.isFinite(t) && (xScale !== "log" || t > 0))
    : xScale === "log" ? xa.ticks.filter((t) => t >= Math.min(...xs) / 1.0001 && t <= Math.max(...xs) * 1.0001) : xa.ticks;
  body += xt.map((t) => `<text class="tick" x="${xa.map(t).toFixed(1)}" y="${h - M.bottom + 16}" text-anchor="middle">${escapeXml(formatTick(t))}</text>`).join("");
  body += `<line class="axis" x1="${M.left}" x2="${w - M.right}" y1="${h - M.bottom}" y2="${h - M.bottom}"/>` +
    `<line class="axis" x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${h - M.bottom}"/>`;
  const legend: string[] = [];
  o.series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length]!, dash = DASHES[Math.floor(i / PALETTE.length) % DASHES.length]!;
    const pts = s.points.filter(keep).sort((a, b) => a.x - b.x);
    const d = pts.map((p) => `${xa.map(p.x).toFixed(1)},${ya.map(p.y).toFixed(1)}`).join(" ");
    body += `<g class="series" data-series="${escapeXml(s.name)}">` +
      (pts.length > 1 ? `<polyline fill="none" stroke="${color}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ""} points="${d}"/>` : "") +
      pts.map((p) => `<circle cx="${xa.map(p.x).toFixed(1)}" cy="${ya.map(p.y).toFixed(1)}" r="3.5" fill="${color}" ` +
        `data-x="${p.x}" data-y="${p.y}"><title>${escapeXml(`${s.name}: ${o.xLabel} ${p.x}, ${formatTick(p.y)} (${p.y})`)}</title></circle>`).join("") +
      `</g>`;
    legend.push(`<line x1="0" x2="18" y1="6" y2="6" stroke="${color}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ""}/>` +
      `<circle cx="9" cy="6" r="3" fill="${color}"/><text class="legend" x="24" y="10">${escapeXml(s.name)}</text>`);
  });
  const note = [yScale === "log" ? "log scale" : "", dropped(all.length - shown.length)].filter(Boolean).join("; ");
  return frame(o, w, h, body, legend, note);
}

export interface BarSeries { name: string; values: (number | null)[] }
export interface BarChartOptions extends ChartCommon {
  /** The groups along x; each series has one value per category (null: no bar). */
  categories: string[];
  series: BarSeries[];
}

/** A grouped bar chart: per category, one bar per series. Returns SVG markup. */
export function barChart(o: BarChartOptions): string {
  const yScale = o.yScale ?? "linear";
  const n = Math.max(1, o.categories.length), k = Math.max(1, o.series.length);
  const angle = o.categories.length > 8 || o.categories.some((c) => c.length > 10);
  // Slanted category labels need room below the axis: the plot keeps its height, the chart grows.
  const extra = angle ? 8 + 5 * Math.min(24, Math.max(...o.categories.map((c) => c.length))) : 0;
  const w = o.width ?? Math.max(420, Math.min(1200, M.left + M.right + n * (k * 14 + 18))), h = (o.height ?? 340) + extra;
  const vals = o.series.flatMap((s) => s.values).filter((v): v is number => v !== null && Number.isFinite(v));
  const shown = yScale === "log" ? vals.filter((v) => v > 0) : vals;
  const bottom = M.bottom + extra;
  const ya = axis(shown.length ? shown : [0, 1], yScale, h - bottom, M.top, 10, true);
  const floor = yScale === "log" ? ya.ticks[0]! : 0;
  const y0 = ya.map(floor);
  const plotW = w - M.left - M.right, gw = plotW / n, bw = Math.max(2, Math.min(28, (gw - 10) / k));
  let body = yAxis(ya, w);
  o.categories.forEach((c, ci) => {
    const cx = M.left + gw * (ci + 0.5);
    body += angle
      ? `<text class="tick" transform="translate(${cx.toFixed(1)} ${h - bottom + 12}) rotate(${n > 12 ? -50 : -30})" text-anchor="end">${escapeXml(c)}</text>`
      : `<text class="tick" x="${cx.toFixed(1)}" y="${h - bottom + 16}" text-anchor="middle">${escapeXml(c)}</text>`;
  });
  const legend: string[] = [];
  let skipped = 0;
  o.series.forEach((s, si) => {
    const color = PALETTE[si % PALETTE.length]!;
    body += `<g class="series" data-series="${escapeXml(s.name)}">`;
    s.values.forEach((v, ci) => {
      if (v === null || !Number.isFinite(v) || ci >= n) return;
      if (yScale === "log" && v <= 0) { skipped++; return; }
      const x = M.left + gw * ci + (gw - bw * k) / 2 + bw * si, y = ya.map(v);
      body += `<rect x="${x.toFixed(1)}" y="${Math.min(y, y0).toFixed(1)}" width="${(bw - 1).toFixed(1)}" height="${Math.abs(y0 - y).toFixed(1)}" ` +
        `fill="${color}" data-category="${escapeXml(o.categories[ci])}" data-value="${v}">` +
        `<title>${escapeXml(`${s.name}, ${o.categories[ci]}: ${formatTick(v)} (${v})`)}</title></rect>`;
    });
    body += `</g>`;
    legend.push(`<rect x="0" y="1" width="14" height="10" fill="${color}"/><text class="legend" x="20" y="10">${escapeXml(s.name)}</text>`);
  });
  body += `<line class="axis" x1="${M.left}" x2="${w - M.right}" y1="${y0.toFixed(1)}" y2="${y0.toFixed(1)}"/>` +
    `<line class="axis" x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${h - bottom}"/>`;
  const note = [yScale === "log" ? "log scale" : "", dropped(skipped)].filter(Boolean).join("; ");
  return frame(o, w, h, body, legend, note);
}

export interface StepSeries { name: string; values: number[] }
export interface StepChartOptions extends ChartCommon {
  /** The bins along x, in order (e.g. log2 buckets); each series has one value per bin. */
  bins: string[];
  series: StepSeries[];
  /** Label every k-th bin only (default: about 16 labels at most). */
  labelEvery?: number;
}

/**
 * A step chart for histograms: per series one outline (a horizontal step at each bin's value, joined
 * by vertical risers), so several distributions overlay on the same bins; each bin's value is a marker
 * at the step's middle with data-category / data-value and a tooltip (radius 0 for a zero). Linear y from 0 (or log: values <= 0
 * are dropped from the axis and drawn at its floor). Returns SVG markup.
 */
export function stepChart(o: StepChartOptions): string {
  const yScale = o.yScale ?? "linear";
  const n = Math.max(1, o.bins.length);
  const w = o.width ?? 640, h = o.height ?? 340;
  const vals = o.series.flatMap((s) => s.values).filter((v) => Number.isFinite(v));
  const shown = yScale === "log" ? vals.filter((v) => v > 0) : vals;
  const ya = axis(shown.length ? shown : [0, 1], yScale, h - M.bottom, M.top, 10, true);
  const floor = yScale === "log" ? ya.ticks[0]! : 0, y0 = ya.map(floor);
  const yOf = (v: number) => (Number.isFinite(v) && (yScale !== "log" || v > 0) ? ya.map(v) : y0);
  const plotW = w - M.left - M.right, bw = plotW / n;
  const every = o.labelEvery ?? Math.max(1, Math.ceil(n / 16));
  let body = yAxis(ya, w);
  o.bins.forEach((b, i) => {
    if (i % every !== 0) return;
    body += `<text class="tick" x="${(M.left + bw * (i + 0.5)).toFixed(1)}" y="${h - M.bottom + 16}" text-anchor="middle">${escapeXml(b)}</text>`;
  });
  const legend: string[] = [];
  o.series.forEach((s, si) => {
    const color = PALETTE[si % PALETTE.length]!, dash = DASHES[Math.floor(si / PALETTE.length) % DASHES.length]!;
    const pts: string[] = [`${M.left.toFixed(1)},${y0.toFixed(1)}`];
    let marks = "";
    for (let i = 0; i < n; i++) {
      const v = s.values[i] ?? 0, y = yOf(v).toFixed(1), x0 = (M.left + bw * i).toFixed(1), x1 = (M.left + bw * (i + 1)).toFixed(1);
      pts.push(`${x0},${y}`, `${x1},${y}`);
      marks += `<circle cx="${(M.left + bw * (i + 0.5)).toFixed(1)}" cy="${y}" r="${v > 0 ? 2.5 : 0}" fill="${color}" ` +
        `data-category="${escapeXml(o.bins[i] ?? "")}" data-value="${v}"><title>${escapeXml(`${s.name}, ${o.bins[i] ?? ""}: ${formatTick(v)} (${v})`)}</title></circle>`;
    }
    pts.push(`${(M.left + bw * n).toFixed(1)},${y0.toFixed(1)}`);
    body += `<g class="series" data-series="${escapeXml(s.name)}"><polyline fill="none" stroke="${color}" stroke-width="2"` +
      `${dash ? ` stroke-dasharray="${dash}"` : ""} points="${pts.join(" ")}"/>${marks}</g>`;
    legend.push(`<line x1="0" x2="18" y1="6" y2="6" stroke="${color}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ""}/>` +
      `<text class="legend" x="24" y="10">${escapeXml(s.name)}</text>`);
  });
  body += `<line class="axis" x1="${M.left}" x2="${w - M.right}" y1="${y0.toFixed(1)}" y2="${y0.toFixed(1)}"/>` +
    `<line class="axis" x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${h - M.bottom}"/>`;
  const dropped0 = yScale === "log" ? vals.length - shown.length : 0;
  const note = [yScale === "log" ? "log scale" : "", dropped0 ? "values <= 0 on the floor" : ""].filter(Boolean).join("; ");
  return frame(o, w, h, body, legend, note);
}
