// The rmap-locks section of the HTML report, from a tiny run: every chart present (by id), the
// figures in the SVG equal to the result's, the configuration printed, hostile text escaped, and
// the CLI's `experiment rmap-locks --report` and `report --from` with rmap-locks JSON.
import { describe, it, expect, vi, afterEach, beforeAll } from "vitest";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runRmapLocks, type RmapLocksResult } from "../../src/experiments/rmap-locks.js";
import { renderReport, reportSectionNames, ReportError } from "../../src/report/html.js";
import { main } from "../../src/cli.js";

let tiny: RmapLocksResult;
beforeAll(() => {
  tiny = runRmapLocks({ configs: ["spinlock", "mutex", "rwsem-shared"], cpus: [2, 3], trees: [{ width: 2, depth: 1 }, { width: 1, depth: 2 }],
    pages: 4, budgetCycles: 300_000, seed: 5 });
});

function chart(html: string, id: string): string {
  const m = new RegExp(`<svg [^>]*data-chart="${id}"[\\s\\S]*?</svg>`).exec(html);
  expect(m, `chart ${id}`).not.toBeNull();
  return m![0];
}

/** The data-series group named `name` inside an svg. */
function series(svg: string, name: string): string {
  const m = new RegExp(`<g class="series" data-series="${name.replace(/[+]/g, "\\+")}">[\\s\\S]*?</g>`).exec(svg);
  expect(m, `series ${name}`).not.toBeNull();
  return m![0];
}

const attrs = (svg: string, name: string) => [...svg.matchAll(new RegExp(`${name}="([^"]*)"`, "g"))].map((m) => Number(m[1]));

describe("HTML report: rmap-locks section", () => {
  afterEach(() => vi.restoreAllMocks());

  it("is registered and draws every chart of a tiny run, with the configuration, seed and mode", () => {
    expect(reportSectionNames()).toContain("rmap-locks");
    const html = renderReport({ title: "tiny", experiments: [{ name: "rmap-locks", result: tiny }] });
    expect(html).toContain(`data-experiment="rmap-locks"`);
    expect(html).not.toMatch(/<script|https?:\/\//i);
    for (const t of ["2x1", "1x2"]) {
      for (const id of [`walker-${t}`, `writer-${t}`, `anonvma-${t}`, `lockwait-${t}`]) expect(html).toContain(`data-figure="x0-rmap-locks-${id}"`);
      for (const id of [`walker-${t}-linear`, `walker-${t}-log`, `writer-${t}-linear`, `writer-${t}-log`, `sleeps-${t}`, `contentions-${t}`]) {
        chart(html, `x0-rmap-locks-${id}`);
      }
    }
    expect(html).toMatch(/<dt>seed<\/dt><dd>5<\/dd>/);
    expect(html).toMatch(/<dt>mode<\/dt><dd>timed: deterministic virtual time/);
    expect(html).toMatch(/<dt>base era<\/dt><dd>3\.16<\/dd>/);
    // the anon_vma wait-time distribution per tree at its largest CPU count (3), one outline per configuration
    for (const t of ["2x1", "1x2"]) {
      expect(html).toContain(`data-figure="x0-rmap-locks-waitdist-${t}"`);
      const [w, d] = t.split("x").map(Number);
      const waited = tiny.runs.filter((x) => x.width === w && x.depth === d && x.cpus === 3 && x.anonVma.wait.count > 0);
      if (waited.length === 0) continue;
      chart(html, `x0-rmap-locks-waitdist-${t}-log`);
      const svg = chart(html, `x0-rmap-locks-waitdist-${t}-linear`);
      for (const x of waited) {
        expect(svg).toContain(`data-series="${x.config} (p99 `);
        expect(x.anonVma.wait.histogram.reduce((a, b) => a + b, 0)).toBe(x.anonVma.wait.count);
      }
    }
    expect(html).toContain("MM invariant checks passed after every run.");
    expect(html).toContain("kernel/mm_charge.ts"); // the notes
  });

  it("draws the result's figures: line points, bars and wait bars match the JSON", () => {
    const html = renderReport({ title: "tiny", experiments: [{ name: "rmap-locks", result: tiny }] });
    for (const t of [{ width: 2, depth: 1 }, { width: 1, depth: 2 }]) {
      const tid = `${t.width}x${t.depth}`;
      const runs = tiny.runs.filter((x) => x.width === t.width && x.depth === t.depth);
      for (const role of ["walker", "writer"] as const) {
        const svg = chart(html, `x0-rmap-locks-${role}-${tid}-linear`);
        for (const c of ["spinlock", "mutex", "rwsem-shared"]) {
          const g = series(svg, c);
          const mine = runs.filter((x) => x.config === c).sort((a, b) => a.cpus - b.cpus);
          expect(attrs(g, "data-x")).toEqual(mine.map((x) => x.cpus));
          expect(attrs(g, "data-y")).toEqual(mine.map((x) => (role === "walker" ? x.walkerOpsPerSec : x.writerOpsPerSec)));
        }
      }
      for (const what of ["sleeps", "contentions"] as const) {
        const svg = chart(html, `x0-rmap-locks-${what}-${tid}`);
        for (const n of [2, 3]) {
          const g = series(svg, `${n} CPUs`);
          expect(attrs(g, "data-value")).toEqual(["spinlock", "mutex", "rwsem-shared"].map((c) => runs.find((x) => x.config === c && x.cpus === n)!.anonVma[what]));
        }
      }
      const waited = runs.filter((x) => x.anonVma.wait.count > 0);
      if (waited.length > 0) {
        const svg = chart(html, `x0-rmap-locks-lockwait-${tid}`);
        expect(attrs(series(svg, "average wait"), "data-value").sort()).toEqual(waited.map((x) => x.anonVma.wait.avgCycles).sort());
        expect(attrs(series(svg, "maximum wait"), "data-value").sort()).toEqual(waited.map((x) => x.anonVma.wait.maxCycles).sort());
      }
    }
    // some contention happened somewhere, or the charts above tested nothing of the wait
    expect(tiny.runs.some((x) => x.anonVma.wait.count > 0)).toBe(true);
  });

  it("escapes hostile text from the result and rejects a malformed one", () => {
    const evil = structuredClone(tiny);
    evil.configs[0]!.name = `<script>alert("x")</script>`;
    for (const run of evil.runs) if (run.config === "spinlock") run.config = evil.configs[0]!.name;
    evil.notes = [`<img src=x onerror=alert(1)>`];
    const html = renderReport({ title: "t", experiments: [{ name: "rmap-locks", result: evil }] });
    expect(html).not.toContain("<script>");
    expect(html).not.toContain("<img");
    expect(html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    expect(() => renderReport({ title: "t", experiments: [{ name: "rmap-locks", result: { experiment: "rmap-locks", runs: [{}] } }] }))
      .toThrow(ReportError);
  });

  it("mmemu experiment rmap-locks --report writes the report; mmemu report --from renders its JSON", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mmemu-rmap-report-"));
    const html = join(dir, "r.html"), json = join(dir, "r.json"), html2 = join(dir, "r2.html");
    vi.spyOn(console, "log").mockImplementation(() => {});
    vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    expect(await main(["experiment", "rmap-locks", "--cpus", "2", "--width", "2", "--depth", "1", "--pages", "4", "--budget", "100000",
      "--config", "spinlock,rwsem-shared", "--seed", "2", "--out", json, "--report", html])).toBe(0);
    const page = readFileSync(html, "utf8");
    expect(page).toContain(`data-figure="x0-rmap-locks-walker-2x1"`);
    expect(page).toContain("mmemu experiment rmap-locks --cpus 2");
    expect(await main(["report", "--from", json, "--out", html2])).toBe(0);
    expect(readFileSync(html2, "utf8")).toContain(`data-chart="x0-rmap-locks-writer-2x1-log"`);
    const err = vi.spyOn(console, "error").mockImplementation(() => {});
    expect(await main(["experiment", "rmap-locks", "--report", ""])).toBe(2);
    expect(err.mock.calls.flat().join("\n")).toMatch(/--report: expected a file name/);
  });
});
