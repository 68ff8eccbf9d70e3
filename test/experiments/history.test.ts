// Experiment history: the verdict rule, a tiny run with complete JSON (every declared field of every
// row, the sub-experiments' results kept), reproducibility from the seed, option and CLI errors,
// and the report section with its chart.
import { describe, it, expect, vi, afterEach } from "vitest";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runHistory, historyVerdict, HISTORY, HISTORY_IDS, HISTORY_ROW_FIELDS, type HistoryResult } from "../../src/experiments/history.js";
import { ERAS } from "../../src/experiments/eras.js";
import { ConfigError } from "../../src/core/errors.js";
import { main } from "../../src/cli.js";

// One comparison per workload, 2 CPUs, short budgets: a few seconds.
const TINY = { comparisons: ["aim9-brk-2008-rwsem", "exim-3.0-mutex", "fork_test-3.8-rwsem"], cpus: [2], budgetCycles: 300_000, seed: 3 };

describe("experiment history", () => {
  afterEach(() => vi.restoreAllMocks());

  it("every comparison names known eras, a source and a historical change", () => {
    expect(new Set(HISTORY_IDS).size).toBe(HISTORY.length);
    for (const c of HISTORY) {
      expect(ERAS.has(c.before), c.id).toBe(true);
      expect(ERAS.has(c.after), c.id).toBe(true);
      expect(c.source, c.id).toMatch(/kernel-history\.md|seed 00\d/);
      expect(Number.isFinite(c.historical.change), c.id).toBe(true);
    }
  });

  it("the verdict rule: same direction and size, direction only, disagreement, reported parity", () => {
    expect(historyVerdict(-0.125, -0.15).verdict).toBe("agrees");
    expect(historyVerdict(0.039, 0.07).verdict).toBe("agrees"); // within 5 points
    expect(historyVerdict(-0.125, -0.99)).toMatchObject({ verdict: "direction only", explanation: expect.stringMatching(/34\.5x history's effect/) });
    // -93% against -50%: a 0.07x against a 0.50x throughput is 3.8 times the effect (log ratios), not agreement
    expect(historyVerdict(-0.5, -0.934)).toMatchObject({ verdict: "direction only", explanation: expect.stringMatching(/3\.9x history's effect/) });
    expect(historyVerdict(0.2, 1.0)).toMatchObject({ verdict: "direction only", explanation: expect.stringMatching(/3\.8x/) });
    expect(historyVerdict(0.2, 0.01)).toMatchObject({ verdict: "disagrees" });
    expect(historyVerdict(-0.52, -0.084)).toMatchObject({ verdict: "direction only", explanation: expect.stringMatching(/smaller than history's/) });
    expect(historyVerdict(-0.5, 0.1).verdict).toBe("disagrees");
    expect(historyVerdict(-0.5, 0.005)).toMatchObject({ verdict: "disagrees", explanation: expect.stringMatching(/no change/) });
    expect(historyVerdict(0, 0.08).verdict).toBe("agrees");
    expect(historyVerdict(0, -0.3).verdict).toBe("disagrees");
    expect(historyVerdict(-0.5, NaN).verdict).toBe("disagrees");
  });

  it("produces complete JSON, each row measured from its workload's own runs", () => {
    const r = runHistory(TINY);
    const j = JSON.parse(JSON.stringify(r)) as HistoryResult;
    expect(j).toMatchObject({ experiment: "history", mode: "timed", seed: 3, cpus: [2] });
    expect(j.rows.map((x) => x.id)).toEqual(TINY.comparisons);
    for (const row of j.rows) {
      for (const f of HISTORY_ROW_FIELDS) expect(row, `${row.id}: ${f}`).toHaveProperty(f);
      expect(row.measured).toHaveLength(1);
      const m = row.measured[0]!;
      expect(m.beforeOpsPerSec).toBeGreaterThan(0);
      expect(m.afterOpsPerSec).toBeGreaterThan(0);
      expect(m.change).toBeCloseTo(m.afterOpsPerSec / m.beforeOpsPerSec - 1, 12);
      expect(["agrees", "direction only", "disagrees"]).toContain(m.verdict);
    }
    // the rows' figures are the sub-experiments' own
    const aim = j.measurements.aim9Brk!;
    expect(aim.eras.map((e) => e.name)).toEqual(["2.6.25", "2008-rwsem"]);
    expect(j.rows[0]!.measured[0]!.afterOpsPerSec).toBe(aim.runs.find((x) => x.era === "2008-rwsem")!.opsPerSec);
    expect(j.measurements.exim!.workload).toBe("exim");
    expect(j.measurements.forkTest!.eras.map((e) => e.name)).toEqual(["3.0", "3.8"]);
    expect(j.rows[2]!.measured[0]!.beforeOpsPerSec).toBe(j.measurements.forkTest!.runs.find((x) => x.era === "3.0")!.opsPerSec);
    expect(j.notes.join(" ")).toMatch(/nothing is tuned/);
    expect(j.ok).toBe(true);
  });

  it("is reproducible from its seed", () => {
    const o = { ...TINY, comparisons: ["fork_test-3.9-steal"] };
    expect(JSON.stringify(runHistory(o))).toBe(JSON.stringify(runHistory(o)));
  });

  it("rejects bad options with ConfigError", () => {
    expect(() => runHistory({ comparisons: ["nope"] })).toThrow(ConfigError);
    expect(() => runHistory({ cpus: [1] })).toThrow(/out of range/);
    expect(() => runHistory({ cpus: [65] })).toThrow(/out of range/);
    expect(() => runHistory({ seed: -1 })).toThrow(ConfigError);
    expect(() => runHistory({ mode: "bogus" as "timed" })).toThrow(/not a mode of history \(timed, parallel\)/);
    expect(() => runHistory({ budgetNs: 1e6 })).toThrow(/budgetCycles/);
  });

  it("CLI: --help, errors exit 2, JSON and the report with its chart", async () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    vi.spyOn(console, "error").mockImplementation(() => {});
    vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    expect(await main(["experiment", "history", "--help"])).toBe(0);
    expect(String(log.mock.calls.at(-1)![0])).toMatch(/--only LIST[\s\S]*fork_test-3.8-rwsem/);
    for (const bad of [["--only", "nope"], ["--cpus", "1"], ["--mode", "bogus"], ["--mode", "parallel", "--cpus", "99"], ["--era", "3.0"], ["--bogus"], ["--report", ""]]) {
      expect(await main(["experiment", "history", ...bad]), bad.join(" ")).toBe(2);
    }
    const dir = mkdtempSync(join(tmpdir(), "mmemu-history-"));
    const out = join(dir, "h.json"), html = join(dir, "h.html");
    expect(await main(["experiment", "history", "--only", "aim9-brk-2008-rwsem", "--cpus", "2", "--seed", "2", "--out", out, "--report", html])).toBe(0);
    const j = JSON.parse(readFileSync(out, "utf8")) as HistoryResult;
    expect(j.rows).toHaveLength(1);
    const page = readFileSync(html, "utf8");
    expect(page).toMatch(/data-experiment="history"/);
    expect(page).toMatch(/data-chart="x0-history-change"/);
    expect(page).toMatch(/seed 002/);
    const again = join(dir, "again.html");
    expect(await main(["report", "--from", out, "--out", again])).toBe(0);
    expect(readFileSync(again, "utf8")).toMatch(/data-chart="x0-history-change"/);
  });
});
