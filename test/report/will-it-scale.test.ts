// The will-it-scale section of the HTML report, from a tiny run: every chart present (by id), the
// drawn figures equal to the result's, the configuration printed, and the CLI's --report.
import { describe, it, expect, vi, afterEach, beforeAll } from "vitest";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runWillItScale, type WillItScaleResult } from "../../src/experiments/will-it-scale.js";
import { renderReport, reportSectionNames, ReportError } from "../../src/report/html.js";
import { main } from "../../src/cli.js";

let tiny: WillItScaleResult;
beforeAll(() => {
  tiny = runWillItScale({ testcases: ["brk1", "tlb_flush1"], eras: ["2.6.25", "3.16"], cpus: [1, 2, 4], budgetCycles: 150_000,
    regionBytes: 32 * 4096, seed: 3 });
});

function chart(html: string, id: string): string {
  const m = new RegExp(`<svg [^>]*data-chart="${id}"[\\s\\S]*?</svg>`).exec(html);
  expect(m, `chart ${id}`).not.toBeNull();
  return m![0];
}

describe("HTML report: will-it-scale section", () => {
  afterEach(() => vi.restoreAllMocks());

  it("is registered and draws a throughput chart per testcase and shape, with the configuration", () => {
    expect(reportSectionNames()).toContain("will-it-scale");
    const html = renderReport({ title: "tiny", experiments: [{ name: "will-it-scale", result: tiny }] });
    expect(html).toContain(`data-experiment="will-it-scale"`);
    expect(html).not.toMatch(/<script|https?:\/\//i);
    for (const t of ["brk1", "tlb_flush1"]) {
      for (const s of ["processes", "threads"]) {
        expect(html).toContain(`data-figure="x0-will-it-scale-${t}-${s}-throughput"`);
        for (const id of [`${t}-${s}-throughput-linear`, `${t}-${s}-throughput-log`, `${t}-${s}-ctxsw`]) chart(html, `x0-will-it-scale-${id}`);
      }
    }
    chart(html, "x0-will-it-scale-tlb_flush1-ipis");
    // brk1 as processes at 4 CPUs: 2.6.25's shared anon_vma spinlock is waited for, so its distribution is drawn
    const dist = chart(html, "x0-will-it-scale-brk1-processes-waitdist-linear");
    expect(dist).toContain(`data-series="2.6.25 (p99`);
    expect(html).toMatch(/<dt>seed<\/dt><dd>3<\/dd>/);
    expect(html).toMatch(/<dt>mode<\/dt><dd>timed: deterministic virtual time/);
    expect(html).toMatch(/<dt>budget<\/dt><dd>150,000 virtual cycles per CPU<\/dd>/);
    expect(html).toContain("Scaling against 1 CPU");
    expect(html).toContain("MM invariant checks passed after every run.");
  });

  it("draws the result's figures: each era's line has the runs' iterations/s", () => {
    const html = renderReport({ title: "tiny", experiments: [{ name: "will-it-scale", result: tiny }], });
    const svg = chart(html, "x0-will-it-scale-brk1-threads-throughput-linear");
    for (const e of ["2.6.25", "3.16"]) {
      const g = new RegExp(`<g class="series" data-series="${e.replace(/\./g, "\\.")}">[\\s\\S]*?</g>`).exec(svg);
      expect(g, e).not.toBeNull();
      const ys = [...g![0].matchAll(/data-y="([^"]*)"/g)].map((m) => Number(m[1]));
      const want = tiny.runs.filter((x) => x.testcase === "brk1" && x.shape === "threads" && x.era === e).sort((a, b) => a.cpus - b.cpus)
        .map((x) => x.iterationsPerSec);
      expect(ys).toHaveLength(want.length);
      ys.forEach((y, i) => expect(y).toBeCloseTo(want[i]!, 0));
    }
  });

  it("refuses a malformed result", () => {
    expect(() => renderReport({ title: "x", experiments: [{ name: "will-it-scale", result: { experiment: "will-it-scale", runs: [{}], cpus: [], eras: [] } }] }))
      .toThrow(ReportError);
  });

  it("CLI: --report writes the section and its charts", async () => {
    vi.spyOn(console, "log").mockImplementation(() => {});
    vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    const file = join(mkdtempSync(join(tmpdir(), "mmemu-wis-report-")), "r.html");
    expect(await main(["experiment", "will-it-scale", "--test", "page_fault1", "--cpus", "1,2", "--era", "3.16", "--budget", "100000",
      "--region-mib", "1", "--report", file])).toBe(0);
    const html = readFileSync(file, "utf8");
    expect(html).toContain(`data-experiment="will-it-scale"`);
    for (const s of ["processes", "threads"]) chart(html, `x0-will-it-scale-page_fault1-${s}-throughput-linear`);
    expect(html).not.toContain("tlb_flush1-ipis");
  });
});
