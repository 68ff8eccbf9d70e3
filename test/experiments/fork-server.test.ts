// Experiment fork-server at a tiny size: complete JSON (every declared field of every run, the
// configuration and the seed), reproducibility from the seed, every fork's child exited and the MM
// checker clean after each run (nothing left behind), the ratios against the first era, the
// workloads' shapes (exim faults, fork_test none), option and CLI errors, --help.
import { describe, it, expect, vi, afterEach } from "vitest";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runForkServer, formatForkServer, forkServerOk, FORK_SERVER_RUN_FIELDS, FORK_SERVER_DEFAULT_ERAS, type ForkServerResult } from "../../src/experiments/fork-server.js";
import { era } from "../../src/experiments/eras.js";
import { table } from "../../src/report/format.js";
import { ConfigError } from "../../src/core/errors.js";
import { main } from "../../src/cli.js";

const TINY = { cpus: [1, 3], eras: ["2.6.34", "3.8", "3.9"], budgetCycles: 400_000, seed: 3 };

describe("experiment fork-server", () => {
  afterEach(() => vi.restoreAllMocks());

  it("exim: complete JSON with every declared field; every child exited; MM checker clean; ratios against the first era", () => {
    const progress: number[] = [];
    const r = runForkServer({ ...TINY, varySizes: false, onProgress: (done) => progress.push(done) });
    expect(progress).toEqual([1, 2, 3, 4, 5, 6]);
    const j = JSON.parse(JSON.stringify(r)) as ForkServerResult;
    expect(j).toMatchObject({ experiment: "fork-server", mode: "timed", workload: "exim", seed: 3, cpus: [1, 3], budgetCycles: 400_000,
      heapPages: 32, touchPages: 4, bufferPages: 4, deliver: false, varySizes: false, sizeSeed: 0, timeUnit: "cycles", hostCores: null, budgetNs: null });
    expect(j.ghz).toBeGreaterThan(0);
    expect(j.eras.map((e) => e.name)).toEqual(["2.6.34", "3.8", "3.9"]);
    expect(j.notes.length).toBeGreaterThan(0);
    expect(j.runs).toHaveLength(6);
    for (const run of j.runs) {
      const what = `${run.era}/${run.cpus}`;
      for (const f of FORK_SERVER_RUN_FIELDS) expect(run, `${what}: ${f}`).toHaveProperty(f);
      expect(run.workload).toBe("exim");
      expect(run.invariantViolations, what).toEqual([]);
      expect(run.ops, what).toBeGreaterThan(0);
      expect(run.forks, what).toBe(run.ops); // one fork per message
      expect(run.exits, what).toBe(run.forks);
      expect(run.faults, what).toBe(run.ops * 8); // 4 COW pages + 4 buffer pages per message (fixed sizes)
      expect(run.hostElapsedNs, what).toBeNull();
      expect(run.makespanCycles).toBeGreaterThanOrEqual(400_000);
      expect(run.opsPerSec).toBeCloseTo(run.ops / run.seconds, 6);
      expect(run.seconds).toBeCloseTo(run.makespanCycles / (j.ghz * 1e9), 12);
      const sleeps = run.locks.reduce((s, l) => s + l.sleeps, 0);
      expect(run.contextSwitchesPerOp).toBeCloseTo(sleeps / run.ops, 12);
      expect(run.locks.find((l) => l.class === "anon_vma")!.writeAcquisitions, what).toBeGreaterThan(0);
    }
    expect(j.ratios.map((q) => `${q.era}/${q.cpus}`)).toEqual(["3.8/1", "3.9/1", "3.8/3", "3.9/3"]);
    for (const q of j.ratios) {
      expect(q.baseline).toBe("2.6.34");
      const x = j.runs.find((y) => y.era === q.era && y.cpus === q.cpus)!, b = j.runs.find((y) => y.era === "2.6.34" && y.cpus === q.cpus)!;
      expect(q.throughputRatio).toBeCloseTo(x.opsPerSec / b.opsPerSec, 12);
    }
    expect(forkServerOk(r)).toBe(true);
    expect(formatForkServer(r, table)).toMatch(/messages[\s\S]*2\.6\.34[\s\S]*throughput against 2\.6\.34/);
  });

  it("is reproducible from its seed: the same options give identical JSON", () => {
    const o = { ...TINY, eras: ["3.8"], cpus: [3] };
    expect(JSON.stringify(runForkServer(o))).toBe(JSON.stringify(runForkServer(o)));
  });

  it("varies message sizes by default, from the seed: the size seed recorded, same seed same sizes, --fixed-sizes the old shape", () => {
    const o = { eras: ["3.0"], cpus: [2], budgetCycles: 1_500_000, heapPages: 16, touchPages: 4, bufferPages: 2 };
    const a = runForkServer({ ...o, seed: 7 });
    expect(a).toMatchObject({ varySizes: true, sizeSeed: 8 });
    expect(a.notes.join(" ")).toMatch(/message sizes vary[\s\S]*size seed 8/);
    expect(runForkServer({ ...o, seed: 7 + 32767 }).sizeSeed).toBe(8); // (seed mod 32767) + 1
    expect(JSON.stringify(runForkServer({ ...o, seed: 7 }))).toBe(JSON.stringify(a));
    const b = runForkServer({ ...o, seed: 8 });
    expect(b.sizeSeed).toBe(9);
    expect(b.runs[0]!.digest).not.toBe(a.runs[0]!.digest);
    const fixed = runForkServer({ ...o, seed: 7, varySizes: false });
    expect(fixed).toMatchObject({ varySizes: false, sizeSeed: 0 });
    expect(fixed.runs[0]!.faults).toBe(fixed.runs[0]!.ops * 6);
    for (const r of [a, b]) {
      const run = r.runs[0]!;
      expect(run.invariantViolations).toEqual([]);
      expect(run.faults).not.toBe(run.ops * 6); // not every message the same
      expect(Math.abs(run.faults / run.ops - 6)).toBeLessThan(1.5); // the same mean (a few dozen messages)
    }
    expect(formatForkServer(a, table)).toMatch(/sizes vary, size seed 8/);
    expect(formatForkServer(fixed, table)).toMatch(/fixed sizes/);
  });

  it("fork_test: fork + exit pairs without faults; 3.8's FIFO rwsem sleeps where 3.9's lock stealing does not as much", () => {
    const r = runForkServer({ workload: "fork_test", cpus: [4], eras: ["3.8", "3.9"], budgetCycles: 1_000_000, seed: 1 });
    expect(r.workload).toBe("fork_test");
    for (const run of r.runs) {
      expect(run.forks).toBe(run.ops);
      expect(run.exits).toBe(run.ops);
      expect(run.faults).toBe(0);
      expect(run.invariantViolations).toEqual([]);
    }
    const [fifo, steal] = [r.runs[0]!, r.runs[1]!];
    expect(fifo.locks.find((l) => l.class === "anon_vma")!.handoffs).toBeGreaterThan(0);
    expect(steal.locks.find((l) => l.class === "anon_vma")!.handoffs).toBe(0);
    expect(fifo.contextSwitchesPerOp).toBeGreaterThan(steal.contextSwitchesPerOp);
  });

  it("takes eras with overrides, deliver forks twice per message, and runs clean on the debug build", () => {
    const r = runForkServer({ eras: [era("3.0", { locks: { anon_vma: "ticket" } })], cpus: [2], budgetCycles: 300_000, deliver: true,
      heapPages: 8, touchPages: 2, bufferPages: 1, debug: true });
    const run = r.runs[0]!;
    expect(r.eras[0]!.locks.anon_vma).toBe("ticket");
    expect(run.forks).toBe(2 * run.ops);
    expect(run.exits).toBe(run.forks);
    expect(run.invariantViolations).toEqual([]);
    expect(r.ratios).toEqual([]);
  });

  it("refuses bad options with a ConfigError", () => {
    expect(() => runForkServer({ workload: "shared" as "exim" })).toThrow(/workload/);
    expect(() => runForkServer({ eras: ["2.6.99"] })).toThrow(ConfigError);
    expect(() => runForkServer({ eras: [] })).toThrow(/at least one era/);
    expect(() => runForkServer({ cpus: [0] })).toThrow(/out of range/);
    expect(() => runForkServer({ cpus: [65] })).toThrow(/out of range/);
    expect(() => runForkServer({ budgetCycles: 10 })).toThrow(/budgetCycles/);
    expect(() => runForkServer({ seed: -1 })).toThrow(/seed/);
    expect(() => runForkServer({ mode: "bogus" as "timed" })).toThrow(/not a mode of fork-server/);
    expect(() => runForkServer({ mode: "parallel", budgetCycles: 1e6 })).toThrow(/budgetNs/);
    expect(() => runForkServer({ budgetNs: 1e6 })).toThrow(/budgetCycles/);
    expect(() => runForkServer({ varySizes: 1 as unknown as boolean })).toThrow(/varySizes/);
    expect(() => runForkServer({ heapPages: 2, touchPages: 3 })).toThrow(/touchPages/);
    expect(() => runForkServer({ bufferPages: 513 })).toThrow(/bufferPages/);
    expect(FORK_SERVER_DEFAULT_ERAS).toEqual(["2.6.34", "3.0", "3.8", "3.9", "3.16"]);
  });

  it("CLI: one line and exit 2 for bad values; --help; a tiny --json --out run", async () => {
    const err = vi.spyOn(console, "error").mockImplementation(() => {});
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    for (const bad of [["--cpus", "0"], ["--cpus", "2,65"], ["--era", "2.6.99"], ["--workload", "shared"], ["--seed", "x"],
      ["--mode", "bogus"], ["--mode", "parallel", "--cpus", "999"], ["--budget", "5"], ["--heap-pages", "0"], ["--heap-pages", "2", "--touch-pages", "3"], ["--buffer-pages", "600"],
      ["--bogus"], ["--out", ""]]) {
      err.mockClear();
      expect(await main(["experiment", "fork-server", ...bad]), bad.join(" ")).toBe(2);
      expect(err).toHaveBeenCalledTimes(1);
      expect(String(err.mock.calls[0]![0]).split("\n"), bad.join(" ")).toHaveLength(1);
    }
    expect(await main(["experiment", "fork-server", "--help"])).toBe(0);
    expect(String(log.mock.calls.at(-1)![0])).toMatch(/--workload W[\s\S]*fork_test[\s\S]*--mode M[\s\S]*--budget N[\s\S]*--fixed-sizes/);
    const out = join(mkdtempSync(join(tmpdir(), "mmemu-fork-")), "r.json");
    log.mockClear();
    expect(await main(["experiment", "fork-server", "--workload", "fork_test", "--cpus", "2", "--era", "3.0,3.16", "--budget", "200000",
      "--seed", "5", "--json", "--out", out])).toBe(0);
    const printed = JSON.parse(String(log.mock.calls[0]![0])) as ForkServerResult;
    expect(JSON.parse(readFileSync(out, "utf8"))).toEqual(printed);
    expect(printed).toMatchObject({ experiment: "fork-server", workload: "fork_test", seed: 5, cpus: [2], budgetCycles: 200_000 });
    expect(printed.eras.map((e) => e.name)).toEqual(["3.0", "3.16"]);
    log.mockClear();
    expect(await main(["experiment", "fork-server", "--cpus", "1", "--era", "2.6.34", "--budget", "200000", "--deliver"])).toBe(0);
    expect(String(log.mock.calls[0]![0])).toMatch(/deliver fork[\s\S]*messages/);
    log.mockClear();
    expect(await main(["experiment", "fork-server", "--cpus", "1", "--era", "2.6.34", "--budget", "200000", "--fixed-sizes", "--json"])).toBe(0);
    expect(JSON.parse(String(log.mock.calls[0]![0]))).toMatchObject({ varySizes: false, sizeSeed: 0, mode: "timed" });
  });
});
