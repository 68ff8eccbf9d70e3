// Experiment history in parallel mode (the sub-experiments' parallel modes, host time) at a tiny
// size: one comparison at 2 CPUs with a short budget: complete JSON, the mode, unit and the host-time
// caveat stated, the sub-experiment's own checks passed, the report states the mode; too many CPUs and
// the other mode's budget refused; the CLI's --mode parallel.
import { describe, it, expect, vi, afterEach } from "vitest";
import { runHistory, HISTORY_ROW_FIELDS, type HistoryResult } from "../../src/experiments/history.js";
import { hostCores } from "../../src/experiments/parallel.js";
import { renderReport } from "../../src/report/html.js";
import { ConfigError } from "../../src/core/errors.js";
import { main } from "../../src/cli.js";

const multi = hostCores() >= 2;

describe("experiment history, parallel mode", () => {
  afterEach(() => vi.restoreAllMocks());

  it.runIf(multi)("one comparison: complete JSON in host time, mode and caveat stated, checks passed, the same verdict rule", async () => {
    const r = await runHistory({ mode: "parallel", comparisons: ["fork_test-3.8-rwsem"], cpus: [2], budgetNs: 2_000_000 });
    const j = JSON.parse(JSON.stringify(r)) as HistoryResult;
    expect(j).toMatchObject({ experiment: "history", mode: "parallel", timeUnit: "ns", hostCores: hostCores(), cpus: [2], ok: true });
    expect(j.notes[0]).toMatch(/parallel mode: real host threads[\s\S]*not reproducible/);
    expect(j.notes.join(" ")).toMatch(/not comparable in size with history's 32 to 80-core/);
    expect(j.rows).toHaveLength(1);
    const row = j.rows[0]!;
    for (const f of HISTORY_ROW_FIELDS) expect(row).toHaveProperty(f);
    expect(row.measured).toHaveLength(1);
    const m = row.measured[0]!;
    expect(m.cpus).toBe(2);
    expect(m.beforeOpsPerSec).toBeGreaterThan(0);
    expect(m.afterOpsPerSec).toBeGreaterThan(0);
    expect(m.change).toBeCloseTo(m.afterOpsPerSec / m.beforeOpsPerSec - 1, 12);
    expect(["agrees", "direction only", "disagrees"]).toContain(m.verdict);
    expect(j.measurements.forkTest).toMatchObject({ mode: "parallel", timeUnit: "ns", budgetNs: 2_000_000, workload: "fork_test" });
    expect(j.measurements.aim9Brk).toBeNull();
    expect(j.measurements.exim).toBeNull();
    for (const run of j.measurements.forkTest!.runs) expect(run.invariantViolations).toEqual([]);
    const html = renderReport({ title: "t", experiments: [{ name: "history", result: j }] });
    expect(html).toMatch(/against the emulator \(parallel mode\)/);
    expect(html).toMatch(/not comparable in size/);
  });

  it("refuses too many CPUs and the other mode's budget before making a machine", () => {
    expect(() => runHistory({ mode: "parallel", cpus: [hostCores() + 1] })).toThrow(/this host has/);
    expect(() => runHistory({ mode: "parallel", cpus: [2], budgetCycles: 1e6 })).toThrow(ConfigError);
  });

  it.runIf(multi)("CLI --mode parallel runs one comparison and says so", async () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    vi.spyOn(console, "error").mockImplementation(() => {});
    vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    expect(await main(["experiment", "history", "--mode", "parallel", "--only", "fork_test-3.9-steal", "--cpus", "2", "--budget", "1000000"])).toBe(0);
    expect(String(log.mock.calls[0]![0])).toMatch(/^history: .*parallel \(worker threads, host time on \d+ cores[\s\S]*fork_test-3.9-steal/);
  });
});
