// Experiment will-it-scale at a tiny size: complete JSON (every declared field of every run, the
// configuration and the seed), the scaling table, reproducibility from the seed, option and CLI errors.
import { describe, it, expect, vi, afterEach } from "vitest";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runWillItScale, WIS_RUN_FIELDS, WIS_TESTCASES, WIS_DEFAULT_REGION, type WillItScaleResult } from "../../src/experiments/will-it-scale.js";
import { VirtualMachine } from "../../src/sched/virtual-machine.js";
import { constant } from "../../src/core/abi.js";
import { ConfigError } from "../../src/core/errors.js";
import { main } from "../../src/cli.js";

const TINY = { eras: ["2.6.25", "3.16"], cpus: [1, 2], budgetCycles: 200_000, regionBytes: 64 * 4096, seed: 7 };

describe("experiment will-it-scale", () => {
  afterEach(() => vi.restoreAllMocks());

  it("produces complete JSON with every declared field", () => {
    const progress: number[] = [];
    const r = runWillItScale({ ...TINY, onProgress: (done) => progress.push(done) });
    expect(progress).toHaveLength(4 * 2 * 2 * 2);
    const j = JSON.parse(JSON.stringify(r)) as WillItScaleResult;
    expect(j).toMatchObject({ experiment: "will-it-scale", mode: "timed", seed: 7, cpus: [1, 2], budgetCycles: 200_000, regionBytes: 64 * 4096,
      testcases: [...WIS_TESTCASES], modes: ["processes", "threads"] });
    expect(j.ghz).toBeGreaterThan(0);
    expect(j.eras.map((e) => e.name)).toEqual(["2.6.25", "3.16"]);
    expect(j.notes.join(" ")).toMatch(/tmpfile/);
    expect(j.runs).toHaveLength(32);
    for (const run of j.runs) {
      const what = `${run.testcase}/${run.shape}/${run.era}/${run.cpus}`;
      for (const f of WIS_RUN_FIELDS) expect(run, `${what}: ${f}`).toHaveProperty(f);
      for (const k of ["flushes", "ipis", "received", "flushesPerIteration", "ipisPerIteration"]) expect(run.tlb, what).toHaveProperty(k);
      expect(run.iterations, what).toBeGreaterThan(0);
      expect(run.invariantViolations, what).toEqual([]);
      expect(run.makespanCycles, what).toBeGreaterThanOrEqual(200_000);
      expect(run.iterationsPerSec, what).toBeCloseTo(run.iterations / run.seconds, 6);
      expect(run.perTaskPerSec * run.cpus, what).toBeCloseTo(run.iterationsPerSec, 6);
      if (run.testcase.startsWith("brk")) expect(run.iterations % 2, what).toBe(0); // 2 per brk pair
      if (run.testcase === "page_fault1") expect(run.faults, what).toBe(run.iterations); // one fault per page
      if (run.testcase === "tlb_flush1") {
        expect(run.tlb.flushesPerIteration, what).toBeGreaterThanOrEqual(1);
        // threads: each madvise's flush reaches the other thread's CPU; processes: no IPI
        if (run.shape === "threads" && run.cpus === 2) expect(run.tlb.ipisPerIteration, what).toBeGreaterThanOrEqual(1);
        if (run.shape === "processes") expect(run.tlb.ipis, what).toBe(0);
      }
    }
    // 2.6.25: every brk's vma_adjust takes the anon_vma lock the forked heaps share
    const b = j.runs.find((x) => x.testcase === "brk2" && x.shape === "processes" && x.era === "2.6.25" && x.cpus === 2)!;
    expect(b.locks.find((l) => l.class === "anon_vma")!.acquisitions).toBeGreaterThanOrEqual(b.iterations);
    // 3.16 (anon_vma_chain): a forked child's brk cannot merge into its heap vma (is_mergeable_anon_vma's
    // list_is_singular check), so brk1 creates and removes a vma of its own and takes no anon_vma lock
    const c = j.runs.find((x) => x.testcase === "brk1" && x.shape === "processes" && x.era === "3.16" && x.cpus === 2)!;
    expect(c.locks.find((l) => l.class === "anon_vma")).toBeUndefined();
    expect(j.scaling).toHaveLength(4 * 2 * 2);
    for (const s of j.scaling) {
      expect(s.baseCpus).toBe(1);
      expect(s.points.map((p) => p.cpus)).toEqual([1, 2]);
      expect(s.points[0]!.speedup).toBe(1);
      expect(s.points[1]!.efficiency).toBeCloseTo(s.points[1]!.speedup / 2, 9);
    }
  });

  it("defaults to will-it-scale's 128 MiB region, the core's WIS_REGION_DEFAULT", () => {
    expect(WIS_DEFAULT_REGION).toBe(128 << 20);
    expect(constant(VirtualMachine.create({ cpus: 1, memory: "1MiB" }).exports, "WIS_REGION_DEFAULT")).toBe(WIS_DEFAULT_REGION);
  });

  it("is reproducible from its seed: the same options give identical JSON", () => {
    const o = { ...TINY, testcases: ["brk1" as const, "tlb_flush1" as const], modes: ["threads" as const], cpus: [2] };
    expect(JSON.stringify(runWillItScale(o))).toBe(JSON.stringify(runWillItScale(o)));
  });

  it("runs every testcase and shape on the debug build (invariants and lockdep checked) at 3 CPUs", () => {
    const r = runWillItScale({ ...TINY, eras: ["2.6.34"], cpus: [3], budgetCycles: 150_000, debug: true });
    expect(r.runs).toHaveLength(8);
    for (const run of r.runs) {
      expect(run.iterations).toBeGreaterThan(0);
      expect(run.invariantViolations).toEqual([]);
    }
    expect(runWillItScale({ ...TINY, testcases: ["brk1"], modes: ["threads"], cpus: [1], check: false }).runs[0]!.invariantViolations).toBeNull();
  });

  it("refuses bad options with a ConfigError", () => {
    expect(() => runWillItScale({ testcases: ["brk3" as "brk1"] })).toThrow(/unknown testcase "brk3"/);
    expect(() => runWillItScale({ modes: ["fibers" as "threads"] })).toThrow(/unknown mode "fibers"/);
    expect(() => runWillItScale({ eras: ["2.7"] })).toThrow(/unknown era "2.7"/);
    expect(() => runWillItScale({ cpus: [0] })).toThrow(ConfigError);
    expect(() => runWillItScale({ cpus: [65] })).toThrow(/out of range/);
    expect(() => runWillItScale({ regionBytes: 5000 })).toThrow(/page size/);
    expect(() => runWillItScale({ budgetCycles: 10 })).toThrow(/budgetCycles/);
    expect(() => runWillItScale({ seed: -1 })).toThrow(/seed/);
    expect(() => runWillItScale({ mode: "bogus" as "timed" })).toThrow(/"bogus" is not a mode of will-it-scale \(timed, parallel\)/);
    expect(() => runWillItScale({ budgetNs: 1_000_000 })).toThrow(/budgetNs: a host-time budget/);
  });

  it("CLI: one line and exit 2 for bad values; --help; a tiny --json --out run", async () => {
    const err = vi.spyOn(console, "error").mockImplementation(() => {});
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    for (const bad of [["--test", "brk3"], ["--era", "2.6.99"], ["--cpus", "0"], ["--cpus", "1,65"], ["--seed", "x"], ["--mode", "bogus"],
      ["--budget", "5"], ["--region-mib", "0"], ["--region-mib", "2048"], ["--bogus"]]) {
      err.mockClear();
      expect(await main(["experiment", "will-it-scale", ...bad]), bad.join(" ")).toBe(2);
      expect(err).toHaveBeenCalledTimes(1);
      expect(String(err.mock.calls[0]![0]).split("\n"), bad.join(" ")).toHaveLength(1);
    }
    expect(await main(["experiment", "will-it-scale", "--help"])).toBe(0);
    expect(String(log.mock.calls.at(-1)![0])).toMatch(/--region-mib M[\s\S]*tlb_flush1/);
    const out = join(mkdtempSync(join(tmpdir(), "mmemu-wis-")), "r.json");
    log.mockClear();
    expect(await main(["experiment", "will-it-scale", "--test", "brk1,page_fault1", "--threads", "--cpus", "1,2", "--era", "3.16",
      "--budget", "100000", "--region-mib", "1", "--seed", "5", "--json", "--out", out])).toBe(0);
    const printed = JSON.parse(String(log.mock.calls[0]![0])) as WillItScaleResult;
    expect(JSON.parse(readFileSync(out, "utf8"))).toEqual(printed);
    expect(printed).toMatchObject({ seed: 5, cpus: [1, 2], modes: ["threads"], testcases: ["brk1", "page_fault1"], regionBytes: 1 << 20,
      eras: [expect.objectContaining({ name: "3.16" })] });
    expect(printed.runs).toHaveLength(4);
    log.mockClear();
    expect(await main(["experiment", "will-it-scale", "--test", "brk2", "--processes", "--cpus", "2", "--era", "2.6.25,3.16", "--budget", "100000"])).toBe(0);
    expect(String(log.mock.calls[0]![0])).toMatch(/iterations\/s[\s\S]*brk2\s+processes\s+2\.6\.25[\s\S]*3\.16/);
  });
});
