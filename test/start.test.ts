// `mmemu start` at a tiny size: both experiments run, both tables printed, one report with both
// sections written where --out says and its absolute path printed, --json with both results; usage
// errors exit 2; runStart reports a failed check as ok: false.
import { describe, it, expect, vi, afterEach } from "vitest";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, isAbsolute } from "node:path";
import { main } from "../src/cli.js";
import { runStart, type StartResult } from "../src/start.js";
import { rmapOk } from "../src/experiments/rmap-locks.js";
import { aim9Ok } from "../src/experiments/aim9-brk.js";

describe("mmemu start", () => {
  afterEach(() => vi.restoreAllMocks());

  it("writes one report with both sections, prints both tables and the report's absolute path", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mmemu-start-"));
    const out = join(dir, "both.html"), json = join(dir, "both.json");
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    expect(await main(["start", "--tiny", "--out", out, "--json", json, "--seed", "2"])).toBe(0);
    const printed = log.mock.calls.flat().join("\n");
    expect(printed).toMatch(/^aim9-brk: brk_test, processes/m);
    expect(printed).toMatch(/^rmap-locks: 4 shared pages/m);
    expect(printed).toContain(`HTML report written to ${out}`);
    const page = readFileSync(out, "utf8");
    expect(page).toContain(`data-experiment="aim9-brk"`);
    expect(page).toContain(`data-experiment="rmap-locks"`);
    expect(page).toContain(`data-figure="x0-aim9-brk-throughput"`);
    expect(page).toContain(`data-figure="x1-rmap-locks-walker-2x1"`);
    expect(page).toMatch(/<nav>/); // a table of contents for the two sections
    const j = JSON.parse(readFileSync(json, "utf8")) as StartResult;
    expect(j).toMatchObject({ experiment: "start", ok: true, aim9Brk: { experiment: "aim9-brk", seed: 2 }, rmapLocks: { experiment: "rmap-locks", seed: 2 } });
    // mmemu report --from the start JSON redraws both sections
    const again = join(dir, "again.html");
    expect(await main(["report", "--from", json, "--out", again])).toBe(0);
    const page2 = readFileSync(again, "utf8");
    expect(page2).toContain(`data-figure="x0-aim9-brk-throughput"`);
    expect(page2).toContain(`data-figure="x1-rmap-locks-walker-2x1"`);
  });

  it("writes mmemu-report.html in the current directory by default and prints its absolute path", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mmemu-start-cwd-"));
    const cwd = process.cwd();
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    process.chdir(dir);
    try {
      expect(await main(["start", "--tiny"])).toBe(0);
    } finally {
      process.chdir(cwd);
    }
    const line = log.mock.calls.flat().map(String).find((l) => l.startsWith("HTML report written to "))!;
    const path = line.slice("HTML report written to ".length);
    expect(isAbsolute(path)).toBe(true);
    expect(path.endsWith("mmemu-report.html")).toBe(true);
    expect(readFileSync(join(dir, "mmemu-report.html"), "utf8")).toContain(`data-experiment="rmap-locks"`);
  });

  it("usage errors exit 2; --help exits 0", async () => {
    const err = vi.spyOn(console, "error").mockImplementation(() => {});
    vi.spyOn(console, "log").mockImplementation(() => {});
    for (const args of [["--seed", "x"], ["--out", ""], ["--json", ""], ["--bogus"]]) {
      expect(await main(["start", ...args]), args.join(" ")).toBe(2);
    }
    expect(err.mock.calls.flat().join("\n")).toMatch(/--seed: "x" is not an integer/);
    expect(await main(["start", "--help"])).toBe(0);
  });

  it("runStart's ok is the loop checks and the invariant checks", () => {
    const { result, html } = runStart({ log: () => {}, aim9: { eras: ["2.6.25"], cpus: [1] },
      rmap: { configs: ["mutex"], cpus: [2], trees: [{ width: 1, depth: 1 }], pages: 2, budgetCycles: 50_000 } });
    expect(result.ok).toBe(true);
    expect(html).toContain(`data-experiment="aim9-brk"`);
    const bad = structuredClone(result);
    bad.aim9Brk.runs[0]!.heapRestored = false;
    expect(aim9Ok(bad.aim9Brk)).toBe(false);
    bad.rmapLocks.runs[0]!.invariantViolations = ["x"];
    expect(rmapOk(bad.rmapLocks)).toBe(false);
  });
});
