// aim9-brk and rmap-locks in parallel mode (worker CPUs, host time) at a tiny size: complete JSON with
// every declared field, the mode and the time unit stated, the loop checks (17,000 sbrk per loop, the
// heap restored) and the MM invariant checker clean; CPU counts above the host's cores refused; the
// CLI's --mode parallel (table header and report state the mode) and --mode bogus (exit 2).
// Two CPUs at most: the host has 2 cores.
import { describe, it, expect, vi, afterEach } from "vitest";
import { runAim9Brk, AIM9_RUN_FIELDS, type Aim9BrkResult } from "../../src/experiments/aim9-brk.js";
import { runRmapLocks, RMAP_LOCKS_RUN_FIELDS, type RmapLocksResult } from "../../src/experiments/rmap-locks.js";
import { hostCores } from "../../src/experiments/parallel.js";
import { renderReport } from "../../src/report/html.js";
import { ConfigError } from "../../src/core/errors.js";
import { main } from "../../src/cli.js";

const N = Math.min(2, hostCores());

describe("aim9-brk, parallel mode", () => {
  it("produces complete JSON in host time, states its mode, and passes its loop checks", async () => {
    const done: number[] = [];
    const r = await runAim9Brk({ mode: "parallel", eras: ["2.6.25", "2008-rwsem"], cpus: [1, N], loops: 1, onProgress: (d) => done.push(d) });
    expect(done).toEqual([1, 2, 3, 4].slice(0, 2 * new Set([1, N]).size));
    const j = JSON.parse(JSON.stringify(r)) as Aim9BrkResult;
    expect(j).toMatchObject({ experiment: "aim9-brk", mode: "parallel", timeUnit: "ns", hostCores: hostCores(), workload: "brk_test", shape: "processes" });
    expect(j.notes[0]).toMatch(/parallel mode: real host threads[\s\S]*not reproducible/);
    expect(j.notes.join(" ")).toMatch(/lock wait and hold are host nanoseconds/);
    expect(j.notes.join(" ")).toMatch(/unmeasured warm-up loop/);
    for (const run of j.runs) {
      for (const f of AIM9_RUN_FIELDS) expect(run, `${run.era}/${run.cpus}: ${f}`).toHaveProperty(f);
      expect(run.sbrkPerLoop).toBe(17_000);
      expect(run.heapRestored).toBe(true);
      expect(run.sbrkCalls).toBe(17_000 * run.cpus);
      expect(run.hostElapsedNs).toBeGreaterThan(0);
      expect(run.seconds).toBeCloseTo(run.hostElapsedNs! / 1e9, 12);
      expect(run.opsPerSec).toBeCloseTo(run.sbrkCalls / run.seconds, 3);
      expect(run).toMatchObject({ makespanCycles: 0, schedulerSwitches: 0, digest: "" });
      expect(run.locks.find((l) => l.class === "anon_vma")!.acquisitions).toBeGreaterThanOrEqual(run.sbrkCalls);
    }
    // The report states the mode and the unit.
    const html = renderReport({ title: "t", experiments: [{ name: "aim9-brk", result: j }] });
    expect(html).toMatch(/per era and CPU count \(parallel mode\)/);
    expect(html).toMatch(/<dt>mode<\/dt><dd>parallel: one worker thread per emulated CPU/);
    expect(html).toMatch(/anon_vma avg wait \(ns\)/);
  });

  it("runs threads of one process", async () => {
    const r = await runAim9Brk({ mode: "parallel", eras: ["3.16"], cpus: [N], shape: "threads" });
    expect(r.runs[0]).toMatchObject({ sbrkPerLoop: 17_000, heapRestored: true, cpus: N });
  });

  it("refuses a CPU count above the host's cores with a ConfigError naming both", () => {
    const cores = hostCores();
    expect(() => runAim9Brk({ mode: "parallel", cpus: [1, cores + 1] })).toThrow(ConfigError);
    expect(() => runAim9Brk({ mode: "parallel", cpus: [cores + 1] })).toThrow(new RegExp(`${cores + 1} CPUs in parallel mode, but this host has ${cores} core`));
  });
});

describe("rmap-locks, parallel mode", () => {
  it("produces complete JSON with a host-time budget, states its mode, and leaves the MM consistent", async () => {
    const budgetNs = 3_000_000;
    const r = await runRmapLocks({ mode: "parallel", configs: ["spinlock", "rwsem-shared"], cpus: [2], trees: [{ width: 2, depth: 1 }],
      pages: 8, budgetNs });
    const j = JSON.parse(JSON.stringify(r)) as RmapLocksResult;
    expect(j).toMatchObject({ experiment: "rmap-locks", mode: "parallel", timeUnit: "ns", hostCores: hostCores(), budgetNs, budgetCycles: null, cpus: [2] });
    expect(j.notes[0]).toMatch(/not reproducible/);
    expect(j.notes.join(" ")).toMatch(/unmeasured for a tenth of the budget/);
    expect(j.runs).toHaveLength(2);
    for (const run of j.runs) {
      for (const f of RMAP_LOCKS_RUN_FIELDS) expect(run, `${run.config}: ${f}`).toHaveProperty(f);
      expect(run.invariantViolations).toEqual([]);
      expect(run.walkerOps).toBeGreaterThan(0);
      expect(run.writerOps).toBeGreaterThan(0);
      expect(run.writerOps % 4).toBe(0); // whole writer cycles: fork, exit, mmap, munmap
      // every CPU ran until its host clock passed the budget (no op cap)
      expect(run.walkerCycles).toBeGreaterThanOrEqual(budgetNs);
      expect(run.writerCycles).toBeGreaterThanOrEqual(budgetNs);
      expect(run.hostElapsedNs).toBeGreaterThanOrEqual(Math.max(run.walkerCycles, run.writerCycles));
      expect(run.walkerOpsPerSec).toBeCloseTo(run.walkerOps / (run.walkerCycles / 1e9), 3);
      expect(run).toMatchObject({ schedulerSwitches: 0, digest: "" });
    }
    expect(j.runs.find((x) => x.config === "rwsem-shared")!.anonVma.readAcquisitions).toBeGreaterThan(0);
    expect(j.runs.find((x) => x.config === "spinlock")!.anonVma.readAcquisitions).toBe(0);
    const html = renderReport({ title: "t", experiments: [{ name: "rmap-locks", result: j }] });
    expect(html).toMatch(/under an rmap storm \(parallel mode\)/);
    expect(html).toMatch(/ns of host time per CPU/);
  });

  it("refuses too many CPUs and the other mode's budget", () => {
    expect(() => runRmapLocks({ mode: "parallel", cpus: [hostCores() + 1] })).toThrow(/this host has/);
    expect(() => runRmapLocks({ mode: "parallel", cpus: [2], budgetCycles: 1e6 })).toThrow(/parallel mode takes budgetNs/);
  });
});

describe("CLI --mode", () => {
  afterEach(() => vi.restoreAllMocks());

  it("--mode parallel runs both experiments and says so; --mode bogus and too many CPUs exit 2 with one line", async () => {
    const err = vi.spyOn(console, "error").mockImplementation(() => {});
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    for (const exp of ["aim9-brk", "rmap-locks"]) {
      for (const bad of [["--mode", "bogus"], ["--mode", "parallel", "--cpus", String(hostCores() + 1)]]) {
        err.mockClear();
        expect(await main(["experiment", exp, ...bad]), `${exp} ${bad.join(" ")}`).toBe(2);
        expect(err).toHaveBeenCalledTimes(1);
        expect(String(err.mock.calls[0]![0]).split("\n")).toHaveLength(1);
        expect(String(err.mock.calls[0]![0])).toMatch(bad[1] === "bogus" ? /"bogus" is not a mode of .*\(timed, parallel\)/ : /this host has/);
      }
    }
    log.mockClear();
    expect(await main(["experiment", "aim9-brk", "--mode", "parallel", "--cpus", String(N), "--era", "2.6.25"])).toBe(0);
    expect(String(log.mock.calls[0]![0])).toMatch(/^aim9-brk: .*parallel \(worker threads, host time on \d+ cores: not reproducible\)[\s\S]*av wait ns/);
    log.mockClear();
    expect(await main(["experiment", "rmap-locks", "--mode", "parallel", "--cpus", "2", "--config", "mutex", "--width", "1", "--depth", "1",
      "--pages", "4", "--budget", "2000000", "--json"])).toBe(0);
    const printed = JSON.parse(String(log.mock.calls[0]![0])) as RmapLocksResult;
    expect(printed).toMatchObject({ mode: "parallel", timeUnit: "ns", budgetNs: 2_000_000, budgetCycles: null });
    expect(printed.runs[0]!.invariantViolations).toEqual([]);
    log.mockClear();
    expect(await main(["experiment", "rmap-locks", "--help"])).toBe(0);
    expect(String(log.mock.calls.at(-1)![0])).toMatch(/--mode M +timed \(default\)[\s\S]*parallel: one worker thread per CPU/);
  });
});
