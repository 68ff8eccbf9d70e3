// The fork-server section of the HTML report, from a tiny run: registered, every chart present (by
// id), the figures in the SVG equal to the result's, the configuration printed, hostile text
// escaped, a malformed result rejected, and the CLI's `experiment fork-server --report` and
// `report --from` with fork-server JSON.
import { describe, it, expect, vi, afterEach, beforeAll } from "vitest";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runForkServer, type ForkServerResult } from "../../src/experiments/fork-server.js";
import { renderReport, reportSectionNames, ReportError } from "../../src/report/html.js";
import { main } from "../../src/cli.js";

let tiny: ForkServerResult;
beforeAll(() => {
  tiny = runForkServer({ workload: "fork_test", eras: ["3.0", "3.8", "3.9"], cpus: [1, 4], budgetCycles: 500_000, seed: 5 });
});

function chart(html: string, id: string): string {
  const m = new RegExp(`<svg [^>]*data-chart="${id}"[\\s\\S]*?</svg>`).exec(html);
  expect(m, `chart ${id}`).not.toBeNull();
  return m![0];
}

function series(svg: string, name: string): string {
  const m = new RegExp(`<g class="series" data-series="${name.replace(/[.]/g, "\\.")}">[\\s\\S]*?</g>`).exec(svg);
  expect(m, `series ${name}`).not.toBeNull();
  return m![0];
}

const attrs = (svg: string, name: string) => [...svg.matchAll(new RegExp(`${name}="([^"]*)"`, "g"))].map((m) => Number(m[1]));

describe("HTML report: fork-server section", () => {
  afterEach(() => vi.restoreAllMocks());

  it("is registered and draws both charts of a tiny run, with the configuration, seed and mode", () => {
    expect(reportSectionNames()).toContain("fork-server");
    const html = renderReport({ title: "tiny", experiments: [{ name: "fork-server", result: tiny }] });
    expect(html).toContain(`data-experiment="fork-server"`);
    expect(html).not.toMatch(/<script|https?:\/\//i);
    for (const id of ["throughput", "ctxsw"]) expect(html).toContain(`data-figure="x0-fork-server-${id}"`);
    for (const id of ["throughput-linear", "throughput-log", "ctxsw"]) chart(html, `x0-fork-server-${id}`);
    // the root anon_vma's wait-time distribution at 4 CPUs: one outline per era that waited (3.8's convoy at least)
    const dist = chart(html, "x0-fork-server-waitdist-anon_vma-linear");
    expect(tiny.runs.find((x) => x.era === "3.8" && x.cpus === 4)!.locks.find((l) => l.class === "anon_vma")!.wait.count).toBeGreaterThan(0);
    expect(dist).toContain(`data-series="3.8 (p99`);
    expect(html).toMatch(/<dt>seed<\/dt><dd>5<\/dd>/);
    expect(html).toMatch(/<dt>mode<\/dt><dd>timed: deterministic virtual time/);
    expect(html).toMatch(/<dt>workload<\/dt><dd>AIM7 fork_test/);
    expect(html).toContain("MM checks passed");
    expect(html).toContain("Throughput against 3.0");
  });

  it("draws the result's figures: line points and bars match the JSON", () => {
    const html = renderReport({ title: "tiny", experiments: [{ name: "fork-server", result: tiny }] });
    const svg = chart(html, "x0-fork-server-throughput-linear");
    for (const e of ["3.0", "3.8", "3.9"]) {
      const g = series(svg, e);
      const mine = tiny.runs.filter((x) => x.era === e).sort((a, b) => a.cpus - b.cpus);
      expect(attrs(g, "data-x")).toEqual(mine.map((x) => x.cpus));
      expect(attrs(g, "data-y")).toEqual(mine.map((x) => x.opsPerSec));
    }
    const bars = chart(html, "x0-fork-server-ctxsw");
    for (const e of ["3.0", "3.8", "3.9"]) {
      expect(attrs(series(bars, e), "data-value")).toEqual([1, 4].map((c) => tiny.runs.find((x) => x.era === e && x.cpus === c)!.contextSwitchesPerOp));
    }
    // the FIFO rwsem's convoy is in the data the bars draw
    expect(tiny.runs.find((x) => x.era === "3.8" && x.cpus === 4)!.contextSwitchesPerOp).toBeGreaterThan(0);
  });

  it("escapes hostile text from the result and rejects a malformed one", () => {
    const evil = structuredClone(tiny);
    evil.eras[0]!.summary = `<script>alert("x")</script>`;
    evil.notes = [`<img src=x onerror=alert(1)>`];
    const html = renderReport({ title: "t", experiments: [{ name: "fork-server", result: evil }] });
    expect(html).not.toContain("<script>");
    expect(html).not.toContain("<img");
    expect(html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    expect(() => renderReport({ title: "t", experiments: [{ name: "fork-server", result: { experiment: "fork-server", runs: [{}], cpus: [], eras: [] } }] }))
      .toThrow(ReportError);
    expect(() => renderReport({ title: "t", experiments: [{ name: "fork-server", result: { experiment: "aim9-brk" } }] })).toThrow(/not a fork-server result/);
  });

  it("mmemu experiment fork-server --report writes the report; mmemu report --from renders its JSON", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mmemu-fork-report-"));
    const html = join(dir, "r.html"), json = join(dir, "r.json"), html2 = join(dir, "r2.html");
    vi.spyOn(console, "log").mockImplementation(() => {});
    vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    expect(await main(["experiment", "fork-server", "--cpus", "1,2", "--era", "2.6.34,3.0", "--budget", "200000", "--seed", "2",
      "--out", json, "--report", html])).toBe(0);
    const page = readFileSync(html, "utf8");
    expect(page).toContain(`data-figure="x0-fork-server-throughput"`);
    expect(page).toContain("mmemu experiment fork-server --cpus 1,2");
    expect(await main(["report", "--from", json, "--out", html2])).toBe(0);
    expect(readFileSync(html2, "utf8")).toContain(`data-chart="x0-fork-server-ctxsw"`);
  });
});
