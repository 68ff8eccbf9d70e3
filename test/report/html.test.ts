// The HTML report of a tiny aim9-brk run: one self-contained file (no URL to fetch, no script), every
// chart present, hostile text escaped, the SVG's figures equal to the result's; the CLI's --report and
// `mmemu report --from`.
import { describe, it, expect, vi, afterEach, beforeAll } from "vitest";
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runAim9Brk, type Aim9BrkResult } from "../../src/experiments/aim9-brk.js";
import { renderReport, registerReportSection, reportSectionNames, ReportError } from "../../src/report/html.js";
import { main } from "../../src/cli.js";

let tiny: Aim9BrkResult;
beforeAll(() => {
  tiny = runAim9Brk({ eras: ["2.6.25", "2008-rwsem"], cpus: [1, 2], loops: 1, seed: 3 });
});

/** The markup of the <svg> whose data-chart is `id`. */
function chart(html: string, id: string): string {
  const m = new RegExp(`<svg [^>]*data-chart="${id}"[\\s\\S]*?</svg>`).exec(html);
  expect(m, `chart ${id}`).not.toBeNull();
  return m![0];
}

const attrs = (svg: string, name: string) => [...svg.matchAll(new RegExp(`${name}="([^"]*)"`, "g"))].map((m) => Number(m[1]));

/** Checks that nothing in the page would be fetched: no URL in src/href, no external script, style or font. */
function expectSelfContained(html: string): void {
  expect(html).not.toMatch(/\b(src|href|xlink:href)\s*=\s*["']?\s*(https?:|\/\/)/i);
  expect(html).not.toMatch(/<script\b[^>]*\bsrc\s*=/i);
  expect(html).not.toMatch(/<link\b/i);
  expect(html).not.toMatch(/@import|url\(/i);
  expect(html).not.toMatch(/https?:\/\//i);
}

describe("HTML report", () => {
  afterEach(() => vi.restoreAllMocks());

  it("renders a tiny aim9-brk run as one self-contained file with each chart", () => {
    const html = renderReport({ title: "tiny", experiments: [{ name: "aim9-brk", result: tiny }] });
    expect(html.startsWith("<!DOCTYPE html>")).toBe(true);
    expectSelfContained(html);
    expect(html).not.toMatch(/<script/i);
    for (const id of ["throughput", "ctxsw", "lockwait", "lockwait-anon_vma"]) expect(html).toContain(`data-figure="x0-aim9-brk-${id}"`);
    for (const id of ["throughput-linear", "throughput-log", "ctxsw", "lockwait-anon_vma"]) chart(html, `x0-aim9-brk-${id}`);
    // the configuration, the seed and the mode are printed
    expect(html).toMatch(/<dt>seed<\/dt><dd>3<\/dd>/);
    expect(html).toMatch(/<dt>mode<\/dt><dd>timed: deterministic virtual time/);
    expect(html).toContain("brk_test");
    // axis labels and units, a legend entry per era
    const tp = chart(html, "x0-aim9-brk-throughput-linear");
    expect(tp).toContain("ops/s (sbrk calls/s, all tasks)");
    expect(tp).toContain(">CPUs");
    for (const e of ["2.6.25", "2008-rwsem"]) expect(tp).toContain(`data-series="${e}"`);
    // wait-time distributions at the largest CPU count (2), anon_vma and mmap_sem, one outline per era
    for (const id of ["waitdist", "waitdist-anon_vma", "waitdist-mmap_sem"]) expect(html).toContain(`data-figure="x0-aim9-brk-waitdist${id.slice(8)}"`);
    chart(html, "x0-aim9-brk-waitdist-anon_vma-log");
    const wd = chart(html, "x0-aim9-brk-waitdist-anon_vma-linear");
    for (const e of ["2.6.25", "2008-rwsem"]) {
      const w = tiny.runs.find((r) => r.era === e && r.cpus === 2)!.locks.find((l) => l.class === "anon_vma")!.wait;
      expect(w.histogram.reduce((a, b) => a + b, 0)).toBe(w.count);
      const g = new RegExp(`<g class="series" data-series="${e.replace(/\./g, "\\.")} \\(p99 [^"]*\\)">[\\s\\S]*?</g>`).exec(wd);
      expect(g, e).not.toBeNull();
      const shares = attrs(g![0], "data-value");
      expect(shares.reduce((a, b) => a + b, 0)).toBeCloseTo(100, 1);
      expect(Math.max(...shares)).toBeCloseTo((100 * Math.max(...w.histogram)) / w.count, 2);
    }
  });

  it("draws the result's figures: points, bars and axis range match the JSON", () => {
    const html = renderReport({ title: "tiny", experiments: [{ name: "aim9-brk", result: tiny }], });
    for (const scale of ["linear", "log"]) {
      const tp = chart(html, `x0-aim9-brk-throughput-${scale}`);
      const ys = attrs(tp, "data-y");
      expect(ys).toHaveLength(tiny.runs.length);
      expect(Math.max(...ys)).toBe(Math.max(...tiny.runs.map((r) => r.opsPerSec)));
      expect(Math.min(...ys)).toBe(Math.min(...tiny.runs.map((r) => r.opsPerSec)));
      // each (era, cpus) point carries its own figure
      for (const run of tiny.runs) {
        expect(tp).toMatch(new RegExp(`<g class="series" data-series="${run.era.replace(/\./g, "\\.")}">[\\s\\S]*?data-x="${run.cpus}" data-y="${run.opsPerSec}"`));
      }
    }
    const cs = chart(html, "x0-aim9-brk-ctxsw");
    expect(attrs(cs, "data-value").sort()).toEqual(tiny.runs.map((r) => r.contextSwitchesPerSbrk).sort());
    const lw = chart(html, "x0-aim9-brk-lockwait-anon_vma");
    const maxWait = Math.max(...tiny.runs.map((r) => r.locks.find((l) => l.class === "anon_vma")!.wait.maxCycles));
    expect(maxWait).toBeGreaterThan(0);
    expect(Math.max(...attrs(lw, "data-value"))).toBe(maxWait);
    // the tallest bar reaches no higher than the top of the plot, the top tick is at least the maximum
    const ticks = [...lw.matchAll(/class="tick" x="[\d.]+" y="[\d.]+" dy="0.32em" text-anchor="end">([^<]+)</g)].map((m) => m[1]!);
    const top = ticks.at(-1)!;
    const unit: Record<string, number> = { k: 1e3, M: 1e6, G: 1e9 };
    expect(parseFloat(top) * (unit[top.slice(-1)] ?? 1)).toBeGreaterThanOrEqual(maxWait);
  });

  it("escapes hostile text from a result (an era named <script>)", () => {
    const evil = "<script>alert(1)</script>\"'&";
    const fake = JSON.parse(JSON.stringify(tiny).replaceAll('"2008-rwsem"', JSON.stringify(evil))) as Aim9BrkResult;
    fake.notes = [...fake.notes, "<img src=x onerror=alert(2)>"];
    const html = renderReport({ title: "<b>title</b>", experiments: [{ name: "aim9-brk", result: fake }] });
    expect(html).not.toContain("<script>");
    expect(html).not.toContain("<img");
    expect(html).not.toContain("<b>title");
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;");
    expect(html).toContain("&lt;img src=x onerror=alert(2)&gt;");
    expectSelfContained(html);
  });

  it("refuses an experiment it has no renderer for, and a malformed result; sections plug in by name", () => {
    expect(() => renderReport({ title: "t", experiments: [{ name: "nope", result: {} }] })).toThrow(ReportError);
    expect(() => renderReport({ title: "t", experiments: [{ name: "aim9-brk", result: { experiment: "aim9-brk" } }] })).toThrow(/runs, cpus and eras/);
    expect(reportSectionNames()).toContain("aim9-brk");
    registerReportSection("test-exp", (r, ctx) => `<section id="${ctx.idPrefix}">${String((r as { v: number }).v)}</section>`);
    const html = renderReport({ title: "t", experiments: [{ name: "aim9-brk", result: tiny }, { name: "test-exp", result: { v: 42 } }] });
    expect(html).toContain(`<section id="x1-test-exp">42</section>`);
    expect(html).toContain(`href="#x0-aim9-brk"`); // a table of contents with two experiments
  });

  it("CLI: experiment aim9-brk --report writes the file; mmemu report --from renders saved JSON", async () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    const err = vi.spyOn(console, "error").mockImplementation(() => {});
    vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    const dir = mkdtempSync(join(tmpdir(), "mmemu-report-"));
    const json = join(dir, "r.json"), html = join(dir, "r.html");
    expect(await main(["experiment", "aim9-brk", "--cpus", "1,2", "--era", "2.6.25", "--seed", "4", "--out", json, "--report", html])).toBe(0);
    expect(existsSync(html)).toBe(true);
    expect(log.mock.calls.map((c) => String(c[0])).join("\n")).toContain(`HTML report written to ${html}`);
    const page = readFileSync(html, "utf8");
    expectSelfContained(page);
    expect(page).toContain('data-chart="x0-aim9-brk-throughput-linear"');
    expect(page).toMatch(/<dt>seed<\/dt><dd>4<\/dd>/);

    const html2 = join(dir, "again.html");
    log.mockClear();
    expect(await main(["report", "--from", json, "--out", html2, "--title", "saved", "--scale", "log"])).toBe(0);
    const page2 = readFileSync(html2, "utf8");
    expect(page2).toContain("<title>saved</title>");
    expect(page2).toContain('data-chart="x0-aim9-brk-throughput-log"');
    expect(page2).not.toContain('data-chart="x0-aim9-brk-throughput-linear"');
    expect(String(log.mock.calls[0]![0])).toBe(`HTML report written to ${html2}`);

    // errors: exit 2 with a message
    const other = join(dir, "other.json");
    writeFileSync(other, JSON.stringify({ experiment: "rmap-storm-unknown" }));
    const bad = join(dir, "bad.json");
    writeFileSync(bad, "{ not json");
    for (const args of [["--out", html2], ["--from", json], ["--from", other, "--out", html2], ["--from", bad, "--out", html2],
      ["--from", join(dir, "missing.json"), "--out", html2], ["--from", json, "--out", html2, "--scale", "cubic"]]) {
      err.mockClear();
      expect(await main(["report", ...args]), args.join(" ")).toBe(2);
      expect(err).toHaveBeenCalledTimes(1);
    }
    expect(String(err.mock.calls[0]![0])).toMatch(/--scale/);
    expect(await main(["report", "--help"])).toBe(0);
  });
});
