// Building blocks of the HTML report's sections (src/report/html.ts): escaping, tables, figures, the
// linear/log switch, and the types a section renderer implements. Kept apart from html.ts so that
// section modules (src/report/aim9-brk.ts, later rmap-locks) import them without an import cycle.
import { escapeXml } from "./svg.js";

/** Escape text for HTML content and attribute values. */
export const escapeHtml = escapeXml;

/** How a section draws its charts. */
export interface ChartOptions {
  /**
   * Throughput's y axis: linear, log, or both (default: both drawn, a checkbox that works without
   * script switches between them).
   */
  yScale?: "linear" | "log" | "both";
}

/** The context a section renderer gets: a prefix that makes its element ids unique in the page. */
export interface SectionContext { idPrefix: string; charts: ChartOptions }

/** Renders one experiment's result as an HTML fragment (a <section>); throws ReportError on a malformed result. */
export type SectionRenderer = (result: unknown, ctx: SectionContext) => string;

/** A result a report cannot draw: unknown experiment, or a malformed result. */
export class ReportError extends Error {
  override name = "ReportError";
}

/** An HTML table; cells are escaped. `numeric` columns are right-aligned. */
export function htmlTable(header: string[], rows: string[][], numeric: boolean[] = []): string {
  const cls = (i: number) => (numeric[i] ? ` class="num"` : "");
  return `<table><thead><tr>${header.map((h, i) => `<th${cls(i)}>${escapeHtml(h)}</th>`).join("")}</tr></thead><tbody>` +
    rows.map((r) => `<tr>${r.map((c, i) => `<td${cls(i)}>${escapeHtml(c)}</td>`).join("")}</tr>`).join("") + `</tbody></table>`;
}

/** A chart in a <figure> with its caption (escaped); `id` is the figure's id and data-figure. */
export function figure(id: string, svg: string, caption: string): string {
  return `<figure id="${escapeHtml(id)}" data-figure="${escapeHtml(id)}">${svg}<figcaption>${escapeHtml(caption)}</figcaption></figure>`;
}

/**
 * Two renderings of one chart (linear and log y) with a checkbox that switches between them in CSS
 * alone (no script), or just one of them when `mode` says so.
 */
export function scaleToggle(id: string, mode: ChartOptions["yScale"], draw: (scale: "linear" | "log") => string): string {
  if (mode === "linear" || mode === "log") return draw(mode);
  return `<div class="scale-toggle"><input type="checkbox" id="${escapeHtml(id)}-log"><label for="${escapeHtml(id)}-log">log scale</label>` +
    `<div class="lin">${draw("linear")}</div><div class="log">${draw("log")}</div></div>`;
}


/** A number for a table: grouped, d decimals, "-" when not finite. */
export const num = (v: number, d = 0) => (Number.isFinite(v) ? v.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d }) : "-");

/** "1 CPU", "4 CPUs". */
export const cpuText = (n: number) => `${n} CPU${n === 1 ? "" : "s"}`;

/** Text made safe for an element id. */
export const idPart = (s: string) => s.replace(/[^A-Za-z0-9_-]/g, "_");

/** The unit of a result's wait and hold figures (fields named *Cycles): "ns" in parallel mode, else "cycles". */
export const timeUnitName = (r: { timeUnit?: string }) => (r.timeUnit === "ns" ? "ns" : "cycles");

/**
 * The configuration's "mode" line: timed mode's (virtual time at the profile's clock), or parallel
 * mode's (worker threads on the host's cores) followed by `parallelFigures`, what the experiment's
 * figures then are.
 */
export function modeText(r: { mode?: unknown; ghz?: number; hostCores?: number | null }, parallelFigures: string): string {
  if (r.mode === "timed") return `timed: deterministic virtual time from the cost model (cycles converted at ${String(r.ghz)} GHz); the same options and seed give the same figures`;
  if (r.mode === "parallel") return `parallel: one worker thread per emulated CPU on a host of ${String(r.hostCores ?? "?")} cores, real contention; ${parallelFigures}`;
  return String(r.mode);
}

/** A section's configuration as a definition list; keys and values are escaped. */
export function configList(rows: [string, string][]): string {
  return `<dl class="config">${rows.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join("")}</dl>`;
}
