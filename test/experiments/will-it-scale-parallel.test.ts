// will-it-scale in parallel mode (worker CPUs, host time) at a tiny size: complete JSON with every
// declared field, the mode and the time unit stated, every CPU run for the host-time budget, the
// loop figures (2 iterations per brk pair, one fault per page_fault1 page, a flush per tlb_flush1
// page, IPIs only between threads) and the MM invariant checker clean; CPU counts above the host's
// cores and budgets of the other mode refused; the report states the mode; the CLI's --mode parallel
// (the table's header) and --mode bogus (exit 2). Two CPUs at most: the host has 2 cores.
import { describe, it, expect, vi, afterEach } from "vitest";
import { runWillItScale, WIS_RUN_FIELDS, WIS_TESTCASES, type WillItScaleResult } from "../../src/experiments/will-it-scale.js";
import { hostCores } from "../../src/experiments/parallel.js";
import { renderReport } from "../../src/report/html.js";
import { ConfigError } from "../../src/core/errors.js";
import { main } from "../../src/cli.js";

const N = Math.min(2, hostCores());
const CPUS = [N];

describe("will-it-scale, parallel mode", () => {
  afterEach(() => vi.restoreAllMocks());

  it("produces complete JSON in host time, states its mode, and leaves the MM consistent", async () => {
    const budgetNs = 2_000_000;
    const done: number[] = [];
    // every testcase as threads; brk2 and tlb_flush1 as processes too (6 runs: each boots its workers)
    const r = await runWillItScale({ mode: "parallel", eras: ["2.6.25"], cpus: CPUS, modes: ["threads"], budgetNs, regionBytes: 16 * 4096,
      onProgress: (d) => done.push(d) });
    const p = await runWillItScale({ mode: "parallel", eras: ["2.6.25"], cpus: CPUS, modes: ["processes"], testcases: ["brk2", "tlb_flush1"],
      budgetNs, regionBytes: 16 * 4096 });
    const total = 4 * CPUS.length;
    expect(done).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    const j = JSON.parse(JSON.stringify({ ...r, runs: [...r.runs, ...p.runs] })) as WillItScaleResult;
    expect(j).toMatchObject({ experiment: "will-it-scale", mode: "parallel", timeUnit: "ns", hostCores: hostCores(), budgetNs, budgetCycles: null,
      cpus: CPUS, testcases: [...WIS_TESTCASES], modes: ["threads"], regionBytes: 16 * 4096 });
    expect(r.scaling).toHaveLength(4);
    expect(j.notes[0]).toMatch(/parallel mode: real host threads[\s\S]*not reproducible/);
    expect(j.notes.join(" ")).toMatch(/lock wait and hold are host nanoseconds/);
    expect(j.notes.join(" ")).toMatch(/unmeasured for a tenth of the budget/);
    expect(j.runs).toHaveLength(total + 2);
    for (const run of j.runs) {
      const what = `${run.testcase}/${run.shape}/${run.cpus}`;
      for (const f of WIS_RUN_FIELDS) expect(run, `${what}: ${f}`).toHaveProperty(f);
      expect(run.invariantViolations, what).toEqual([]);
      expect(run.iterations, what).toBeGreaterThan(0);
      // every CPU ran until its own host clock passed the budget: the run lasted at least that
      expect(run.hostElapsedNs, what).toBeGreaterThanOrEqual(budgetNs);
      expect(run.seconds, what).toBeCloseTo(run.hostElapsedNs! / 1e9, 12);
      expect(run.iterationsPerSec, what).toBeCloseTo(run.iterations / run.seconds, 3);
      expect(run, what).toMatchObject({ makespanCycles: 0, schedulerSwitches: 0, digest: "" });
      if (run.testcase.startsWith("brk")) expect(run.iterations % 2, what).toBe(0);
      if (run.testcase === "page_fault1") expect(run.faults, what).toBe(run.iterations);
      if (run.testcase === "tlb_flush1") {
        expect(run.tlb.flushesPerIteration, what).toBeGreaterThanOrEqual(1);
        if (run.shape === "processes") expect(run.tlb.ipis, what).toBe(0);
        if (run.shape === "threads" && run.cpus === 2) {
          expect(run.tlb.ipis, what).toBeGreaterThan(0);
          expect(run.tlb.received, what).toBeGreaterThan(0);
        }
      }
    }
    // 2.6.25: every brk's vma_adjust takes the anon_vma lock the forked heaps share
    const b = j.runs.find((x) => x.testcase === "brk2" && x.shape === "processes" && x.cpus === N)!;
    expect(b.locks.find((l) => l.class === "anon_vma")!.acquisitions).toBeGreaterThanOrEqual(b.iterations);
    // The report states the mode and the unit.
    const html = renderReport({ title: "t", experiments: [{ name: "will-it-scale", result: j }] });
    expect(html).toMatch(/per era, shape and CPU count \(parallel mode\)/);
    expect(html).toMatch(/<dt>mode<\/dt><dd>parallel: one worker thread per emulated CPU/);
    expect(html).toMatch(/<dt>budget<\/dt><dd>2,000,000 ns of host time per CPU/);
    expect(html).toMatch(/anon_vma avg wait \(ns\)/);
    expect(html).not.toMatch(/avg wait \(cycles\)/);
  });

  it("refuses CPU counts above the host's cores and the other mode's budget with a ConfigError", () => {
    const cores = hostCores();
    expect(() => runWillItScale({ mode: "parallel", cpus: [1, cores + 1] })).toThrow(ConfigError);
    expect(() => runWillItScale({ mode: "parallel", cpus: [cores + 1] })).toThrow(new RegExp(`${cores + 1} CPUs in parallel mode, but this host has ${cores} core`));
    expect(() => runWillItScale({ mode: "parallel", budgetCycles: 1_000_000 })).toThrow(/budgetCycles: a virtual-time budget/);
    expect(() => runWillItScale({ mode: "parallel", budgetNs: 10 })).toThrow(/budgetNs/);
  });

  it.skipIf(hostCores() < 3)("refuses a region x CPU count that does not fit the machine", () => {
    expect(() => runWillItScale({ mode: "parallel", testcases: ["page_fault1"], cpus: [3], regionBytes: 1 << 30 })).toThrow(/do not fit/);
    // brk1 and brk2 map no region: nothing to refuse
    expect(() => runWillItScale({ mode: "parallel", testcases: ["brk1"], cpus: [hostCores() + 1], regionBytes: 1 << 30 })).toThrow(/host has/);
  });

  it("CLI: --mode parallel states the mode in the table's header; --mode bogus and too many CPUs exit 2", async () => {
    const err = vi.spyOn(console, "error").mockImplementation(() => {});
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    for (const bad of [["--mode", "bogus"], ["--mode", "parallel", "--cpus", String(hostCores() + 1)]]) {
      err.mockClear();
      expect(await main(["experiment", "will-it-scale", ...bad]), bad.join(" ")).toBe(2);
      expect(err).toHaveBeenCalledTimes(1);
      expect(String(err.mock.calls[0]![0]).split("\n"), bad.join(" ")).toHaveLength(1);
    }
    expect(String(err.mock.calls[0]![0])).toMatch(/this host has/);
    expect(await main(["experiment", "will-it-scale", "--mode", "parallel", "--test", "tlb_flush1", "--threads", "--cpus", String(N),
      "--era", "3.16", "--budget", "1000000", "--region-mib", "1"])).toBe(0);
    expect(String(log.mock.calls[0]![0])).toMatch(/1,000,000 ns of host time per CPU[\s\S]*parallel \(worker threads, host time on \d+ cores: not reproducible\)/);
    expect(String(log.mock.calls[0]![0])).toMatch(/tlb_flush1\s+threads\s+3\.16/);
    log.mockClear();
    expect(await main(["experiment", "will-it-scale", "--mode", "parallel", "--test", "brk1", "--processes", "--cpus", "1",
      "--era", "3.16", "--budget", "1000000", "--json"])).toBe(0);
    expect(JSON.parse(String(log.mock.calls[0]![0]))).toMatchObject({ mode: "parallel", timeUnit: "ns", budgetNs: 1_000_000, cpus: [1] });
  });
});
