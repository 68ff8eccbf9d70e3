// The HTML report (issue 5, "Output a user can read and reuse"): one self-contained file that opens
// from disk without a server: inline CSS, inline SVG charts (src/report/svg.ts), no script, no
// external font, image or link. Every text that comes from a result is escaped.
//
//   renderReport({ title, experiments: [{ name: "aim9-brk", result, charts: { yScale: "both" } }] }) -> string
//
// Each experiment is drawn by the section renderer registered under its JSON's `experiment` name
// (`registerReportSection`); aim9-brk's is src/report/aim9-brk.ts, rmap-locks' src/report/rmap-locks.ts. A new experiment plugs in with a
// renderer of the same shape and one registerReportSection line below (or a call from its own
// module); `mmemu report --from FILE.json` then renders its saved JSON.
//
// Command line (src/cli.ts):
//   mmemu experiment aim9-brk ... --report FILE.html     the run's report (no report unless asked)
//   mmemu report --from A.json [--from B.json ...] --out FILE.html [--title T] [--scale linear|log|both]
//                                                        a report of saved experiment JSON (--out files)
// Charts (data-chart of each <svg>, id and data-figure of each <figure>) are named
// x<index>-<experiment>-<chart>, e.g. x0-aim9-brk-throughput-log; see each section module.
import { aim9BrkSection } from "./aim9-brk.js";
import { rmapLocksSection } from "./rmap-locks.js";
import { forkServerSection } from "./fork-server.js";
import { historySection } from "./history.js";
import { willItScaleSection } from "./will-it-scale.js";
import { escapeHtml, ReportError, type ChartOptions, type SectionRenderer } from "./html-parts.js";

export * from "./html-parts.js";


export interface ReportExperiment {
  /** The experiment's name: the key of its section renderer (the JSON's `experiment` field). */
  name: string;
  /** The experiment's result object (as its library function returns it, or parsed from its JSON). */
  result: unknown;
  charts?: ChartOptions;
}

export interface ReportOptions {
  title: string;
  experiments: ReportExperiment[];
  /** A line under the title (e.g. how the report was produced); default none. */
  subtitle?: string;
}

const sections = new Map<string, SectionRenderer>();

/** Register (or replace) the renderer of experiment `name`. */
export function registerReportSection(name: string, render: SectionRenderer): void {
  sections.set(name, render);
}

/** The experiments a report can draw. */
export function reportSectionNames(): string[] {
  return [...sections.keys()];
}

registerReportSection("aim9-brk", aim9BrkSection);
registerReportSection("rmap-locks", rmapLocksSection);
registerReportSection("fork-server", forkServerSection);
registerReportSection("history", historySection);
registerReportSection("will-it-scale", willItScaleSection);

/** The experiment name of a saved result (its `experiment` field), or a ReportError. */
export function experimentName(result: unknown): string {
  const n = (result as { experiment?: unknown } | null)?.experiment;
  if (typeof n !== "string") throw new ReportError("the JSON has no \"experiment\" field: not an mmemu experiment result");
  return n;
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222;margin:0 auto;max-width:1240px;padding:16px 24px}
h1{font-size:1.6em;margin:.2em 0}h2{font-size:1.3em;border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}h3{font-size:1.05em}
.sub{color:#555}
table{border-collapse:collapse;margin:.6em 0;font-size:12.5px}th,td{border:1px solid #ddd;padding:2px 7px;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.scroll{overflow-x:auto}
dl.config{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px}dl.config dt{font-weight:600}dl.config dd{margin:0}
figure{margin:1em 0;display:inline-block;vertical-align:top;max-width:100%}figcaption{font-size:12.5px;color:#444;max-width:640px}
svg.chart{max-width:100%;height:auto;background:#fff}
svg .grid{stroke:#e6e6e6}svg .axis{stroke:#333}svg text{font:11px system-ui,sans-serif;fill:#333}
svg .chart-title{font-size:13px;font-weight:600}svg .axis-label{font-size:12px}svg .chart-note{font-size:10.5px;fill:#777}
.scale-toggle .log{display:none}.scale-toggle input:checked~.lin{display:none}.scale-toggle input:checked~.log{display:block}
.fail{color:#b00;font-weight:600}.ok{color:#070}
.notes li{margin:.2em 0}
`;

/** The report as one HTML document (a string). Throws ReportError for an experiment no renderer knows. */
export function renderReport(o: ReportOptions): string {
  const body = o.experiments.map((x, i) => {
    const render = sections.get(x.name);
    if (!render) throw new ReportError(`no report for experiment "${x.name}" (reports exist for: ${reportSectionNames().join(", ")})`);
    return render(x.result, { idPrefix: `x${i}-${x.name.replace(/[^A-Za-z0-9_-]/g, "_")}`, charts: x.charts ?? {} });
  }).join("\n");
  const toc = o.experiments.length > 1
    ? `<nav><ul>${o.experiments.map((x, i) => `<li><a href="#x${i}-${escapeHtml(x.name.replace(/[^A-Za-z0-9_-]/g, "_"))}">${escapeHtml(x.name)}</a></li>`).join("")}</ul></nav>`
    : "";
  return `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<title>${escapeHtml(o.title)}</title><style>${CSS}</style></head><body>\n` +
    `<h1>${escapeHtml(o.title)}</h1>` + (o.subtitle ? `<p class="sub">${escapeHtml(o.subtitle)}</p>` : "") + toc + "\n" +
    body + `\n</body></html>\n`;
}
