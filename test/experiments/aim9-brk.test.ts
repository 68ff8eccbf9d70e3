// Experiment aim9-brk at a tiny size: complete JSON (every declared field of every run, the
// configuration and the seed), the loop checks, reproducibility from the seed, option and CLI errors.
import { describe, it, expect, vi, afterEach } from "vitest";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runAim9Brk, AIM9_RUN_FIELDS, type Aim9BrkResult } from "../../src/experiments/aim9-brk.js";
import { era } from "../../src/experiments/eras.js";
import { ConfigError } from "../../src/core/errors.js";
import { main } from "../../src/cli.js";

const TINY = { eras: ["2.6.25", "2008-rwsem"], cpus: [1, 2], loops: 1, seed: 7 };

describe("experiment aim9-brk", () => {
  afterEach(() => vi.restoreAllMocks());

  it("produces complete JSON with every declared field, and passes its loop checks", () => {
    const progress: number[] = [];
    const r = runAim9Brk({ ...TINY, onProgress: (done) => progress.push(done) });
    expect(progress).toEqual([1, 2, 3, 4]);
    const j = JSON.parse(JSON.stringify(r)) as Aim9BrkResult;
    expect(j).toMatchObject({ experiment: "aim9-brk", mode: "timed", workload: "brk_test", shape: "processes", seed: 7, loops: 1, cpus: [1, 2] });
    expect(j.ghz).toBeGreaterThan(0);
    expect(j.notes.join(" ")).toMatch(/MM core.s memory traffic/);
    expect(j.eras.map((e) => e.name)).toEqual(["2.6.25", "2008-rwsem"]);
    expect(j.eras[1]!.locks.anon_vma).toBe("rwsem-handoff");
    expect(j.runs).toHaveLength(4);
    for (const run of j.runs) {
      for (const f of AIM9_RUN_FIELDS) expect(run, `${run.era}/${run.cpus}: ${f}`).toHaveProperty(f);
      expect(run.sbrkPerLoop).toBe(17_000);
      expect(run.heapRestored).toBe(true);
      expect(run.sbrkCalls).toBe(17_000 * run.cpus);
      expect(run.opsPerSec).toBeCloseTo(run.loopsPerSec * 17_000, 3);
      expect(run.makespanCycles).toBeGreaterThan(0);
      const av = run.locks.find((l) => l.class === "anon_vma")!;
      // 2.6.25 and 2008-rwsem: vma_adjust always takes the anon_vma lock, so at least once per sbrk
      expect(av.acquisitions).toBeGreaterThanOrEqual(run.sbrkCalls);
      for (const k of ["contentions", "sleeps", "handoffs", "sleepsPerSbrk", "wait", "hold", "fairness"]) expect(av).toHaveProperty(k);
      if (run.cpus === 1) expect(av.contentions).toBe(0);
    }
    // processes share the anon_vma lock through fork: 2 CPUs contend on it
    expect(j.runs.find((x) => x.era === "2.6.25" && x.cpus === 2)!.locks.find((l) => l.class === "anon_vma")!.contentions).toBeGreaterThan(0);
    expect(j.ratios).toEqual([
      expect.objectContaining({ cpus: 1, era: "2008-rwsem", baseline: "2.6.25" }),
      expect.objectContaining({ cpus: 2, era: "2008-rwsem", baseline: "2.6.25" }),
    ]);
    expect(j.ratios[0]!.throughputRatio).toBeCloseTo(1, 9); // one CPU: nothing contends, the lock types cost alike
  });

  it("is reproducible from its seed: the same options give identical JSON", () => {
    const a = JSON.stringify(runAim9Brk({ ...TINY, cpus: [2] }));
    const b = JSON.stringify(runAim9Brk({ ...TINY, cpus: [2] }));
    expect(a).toBe(b);
  });

  it("runs threads of one process and eras with single switches overridden", () => {
    const r = runAim9Brk({ eras: [era("3.16", { locks: { anon_vma: "ticket" } })], cpus: [2], shape: "threads", loops: 1 });
    expect(r.eras[0]!.locks.anon_vma).toBe("ticket");
    const run = r.runs[0]!;
    expect(run.sbrkPerLoop).toBe(17_000);
    expect(run.heapRestored).toBe(true);
    // one mm: every brk takes the one mmap_sem for write, so two threads contend on it
    expect(run.locks.find((l) => l.class === "mmap_sem")!.contentions).toBeGreaterThan(0);
  });

  it("refuses bad options with a ConfigError", () => {
    expect(() => runAim9Brk({ eras: ["2.7"] })).toThrow(/unknown era "2.7"/);
    expect(() => runAim9Brk({ cpus: [0] })).toThrow(ConfigError);
    expect(() => runAim9Brk({ cpus: [65] })).toThrow(/out of range/);
    expect(() => runAim9Brk({ seed: 1.5 })).toThrow(/seed/);
    expect(() => runAim9Brk({ workload: "page_test", shape: "threads" })).toThrow(/page_test needs processes/);
    expect(() => runAim9Brk({ mode: "bogus" as "timed" })).toThrow(/"bogus" is not a mode of aim9-brk \(timed, parallel\)/);
  });

  it("CLI: one line and exit 2 for bad values; --help; a tiny --json --out run", async () => {
    const err = vi.spyOn(console, "error").mockImplementation(() => {});
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    for (const bad of [["--era", "2.6.99"], ["--cpus", "0"], ["--cpus", "1,65"], ["--seed", "1.5"], ["--seed", "x"], ["--mode", "explore"],
      ["--loops", "0"], ["--bogus"], ["--threads", "--page-test"]]) {
      err.mockClear();
      expect(await main(["experiment", "aim9-brk", ...bad]), bad.join(" ")).toBe(2);
      expect(err).toHaveBeenCalledTimes(1);
      expect(String(err.mock.calls[0]![0]).split("\n"), bad.join(" ")).toHaveLength(1);
    }
    expect(await main(["experiment", "nope"])).toBe(2);
    expect(await main(["experiment", "aim9-brk", "--help"])).toBe(0);
    expect(String(log.mock.calls.at(-1)![0])).toMatch(/--era LIST/);
    const out = join(mkdtempSync(join(tmpdir(), "mmemu-aim9-")), "r.json");
    log.mockClear();
    expect(await main(["experiment", "aim9-brk", "--cpus", "1,2", "--era", "2.6.34", "--seed", "5", "--json", "--out", out])).toBe(0);
    const printed = JSON.parse(String(log.mock.calls[0]![0])) as Aim9BrkResult;
    expect(JSON.parse(readFileSync(out, "utf8"))).toEqual(printed);
    expect(printed).toMatchObject({ seed: 5, cpus: [1, 2], eras: [expect.objectContaining({ name: "2.6.34" })] });
    log.mockClear();
    expect(await main(["experiment", "aim9-brk", "--cpus", "2", "--era", "2.6.25,3.16"])).toBe(0);
    expect(String(log.mock.calls[0]![0])).toMatch(/ops\/s[\s\S]*2\.6\.25[\s\S]*3\.16/);
  });
});
