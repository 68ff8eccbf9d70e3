// fork-server in parallel mode (worker CPUs, host time) at a tiny size: complete JSON with every
// declared field, the mode and the time unit stated, every fork's child exited, the MM invariant and
// leak checks clean, for both workloads; CPU counts above the host's cores and the other mode's budget
// refused; the CLI's --mode parallel (the table header states the mode) and --mode bogus (exit 2).
// Two CPUs at most: the host has 2 cores.
import { describe, it, expect, vi, afterEach } from "vitest";
import { runForkServer, forkServerOk, FORK_SERVER_RUN_FIELDS, type ForkServerResult } from "../../src/experiments/fork-server.js";
import { hostCores } from "../../src/experiments/parallel.js";
import { renderReport } from "../../src/report/html.js";
import { ConfigError } from "../../src/core/errors.js";
import { main } from "../../src/cli.js";

const N = Math.min(2, hostCores());

describe("fork-server, parallel mode", () => {
  for (const workload of ["exim", "fork_test"] as const) {
    it(`${workload}: complete JSON in host time, states its mode, every child exited, MM and leak checks clean`, async () => {
      const budgetNs = 2_000_000;
      const done: number[] = [];
      const r = await runForkServer({ mode: "parallel", workload, eras: ["3.0", "3.9"], cpus: [N], budgetNs, heapPages: 8, touchPages: 2,
        bufferPages: 1, onProgress: (d) => done.push(d) });
      expect(done).toEqual([1, 2]);
      const j = JSON.parse(JSON.stringify(r)) as ForkServerResult;
      expect(j).toMatchObject({ experiment: "fork-server", mode: "parallel", timeUnit: "ns", hostCores: hostCores(), workload, budgetNs,
        budgetCycles: null, cpus: [N] });
      expect(j.notes[0]).toMatch(/parallel mode: real host threads[\s\S]*not reproducible/);
      expect(j.notes.join(" ")).toMatch(/unmeasured for a tenth of the budget/);
      expect(j.runs).toHaveLength(2);
      for (const run of j.runs) {
        const what = `${workload} ${run.era}`;
        for (const f of FORK_SERVER_RUN_FIELDS) expect(run, `${what}: ${f}`).toHaveProperty(f);
        expect(run.invariantViolations, what).toEqual([]);
        expect(run.ops, what).toBeGreaterThan(0);
        expect(run.forks, what).toBe(run.ops);
        expect(run.exits, what).toBe(run.forks);
        if (workload === "fork_test") expect(run.faults, what).toBe(0);
        else expect(run.faults, what).toBeGreaterThanOrEqual(run.ops * 2); // at least one COW and one buffer fault per message
        // every CPU ran until its host clock passed the budget (no op cap)
        expect(run.makespanCycles, what).toBeGreaterThanOrEqual(budgetNs);
        expect(run.hostElapsedNs, what).toBeGreaterThan(0);
        expect(run.seconds).toBeCloseTo(run.makespanCycles / 1e9, 12);
        expect(run.opsPerSec).toBeCloseTo(run.ops / run.seconds, 3);
        expect(run.digest).toBe("");
        expect(run.locks.find((l) => l.class === "anon_vma")!.writeAcquisitions, what).toBeGreaterThan(0);
      }
      expect(forkServerOk(r)).toBe(true);
      const html = renderReport({ title: "t", experiments: [{ name: "fork-server", result: j }] });
      expect(html).toMatch(/per era and CPU count \(parallel mode\)/);
      expect(html).toMatch(/<dt>mode<\/dt><dd>parallel: one worker thread per emulated CPU/);
      expect(html).toMatch(/ns of host time per CPU/);
      expect(html).toMatch(/anon_vma avg wait \(ns\)/);
    });
  }

  it("refuses too many CPUs and the other mode's budget before making a machine", () => {
    const cores = hostCores();
    expect(() => runForkServer({ mode: "parallel", cpus: [1, cores + 1] })).toThrow(ConfigError);
    expect(() => runForkServer({ mode: "parallel", cpus: [cores + 1] })).toThrow(new RegExp(`${cores + 1} CPUs in parallel mode, but this host has ${cores} core`));
    expect(() => runForkServer({ mode: "parallel", cpus: [1], budgetCycles: 1e6 })).toThrow(/parallel mode takes budgetNs/);
    expect(() => runForkServer({ mode: "parallel", cpus: [1], budgetNs: 10 })).toThrow(/budgetNs/);
  });
});

describe("fork-server CLI --mode", () => {
  afterEach(() => vi.restoreAllMocks());

  it("--mode parallel runs and says so; --mode bogus and too many CPUs exit 2 with one line", async () => {
    const err = vi.spyOn(console, "error").mockImplementation(() => {});
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    for (const bad of [["--mode", "bogus"], ["--mode", "parallel", "--cpus", String(hostCores() + 1)]]) {
      err.mockClear();
      expect(await main(["experiment", "fork-server", ...bad]), bad.join(" ")).toBe(2);
      expect(err).toHaveBeenCalledTimes(1);
      expect(String(err.mock.calls[0]![0]).split("\n")).toHaveLength(1);
      expect(String(err.mock.calls[0]![0])).toMatch(bad[1] === "bogus" ? /"bogus" is not a mode of fork-server \(timed, parallel\)/ : /this host has/);
    }
    log.mockClear();
    expect(await main(["experiment", "fork-server", "--mode", "parallel", "--cpus", String(N), "--era", "3.0", "--budget", "1000000"])).toBe(0);
    expect(String(log.mock.calls[0]![0])).toMatch(/^fork-server: .*parallel \(worker threads, host time on \d+ cores: not reproducible\)[\s\S]*av wait ns/);
    log.mockClear();
    expect(await main(["experiment", "fork-server", "--mode", "parallel", "--workload", "fork_test", "--cpus", "1", "--era", "3.8",
      "--budget", "1000000", "--json"])).toBe(0);
    const printed = JSON.parse(String(log.mock.calls[0]![0])) as ForkServerResult;
    expect(printed).toMatchObject({ mode: "parallel", timeUnit: "ns", budgetNs: 1_000_000, budgetCycles: null, workload: "fork_test" });
    expect(printed.runs[0]!.invariantViolations).toEqual([]);
  });
});
