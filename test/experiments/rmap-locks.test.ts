// Experiment rmap-locks at a tiny size: complete JSON (every declared field of every run, the
// configuration and the seed), reproducibility from the seed, the anon_vma lock mode visible in the
// statistics, seed 003's lockless case taking fewer anon_vma acquisitions, a clean MM invariant check
// after every run, option and CLI errors.
import { describe, it, expect, vi, afterEach } from "vitest";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runRmapLocks, RMAP_LOCKS_RUN_FIELDS, RMAP_LOCK_CONFIG_NAMES, treeSize, type RmapLocksResult } from "../../src/experiments/rmap-locks.js";
import { ConfigError } from "../../src/core/errors.js";
import { main } from "../../src/cli.js";

const TINY = { cpus: [2, 3], trees: [{ width: 2, depth: 1 }], pages: 8, budgetCycles: 300_000, seed: 3 };

describe("experiment rmap-locks", () => {
  afterEach(() => vi.restoreAllMocks());

  it("produces complete JSON with every declared field for every configuration, and the MM checker is clean after each run", () => {
    const progress: number[] = [];
    const r = runRmapLocks({ ...TINY, onProgress: (done) => progress.push(done) });
    expect(progress).toHaveLength(16);
    const j = JSON.parse(JSON.stringify(r)) as RmapLocksResult;
    expect(j).toMatchObject({ experiment: "rmap-locks", mode: "timed", seed: 3, cpus: [2, 3], pages: 8, budgetCycles: 300_000, baseEra: "3.16",
      trees: [{ width: 2, depth: 1 }] });
    expect(j.ghz).toBeGreaterThan(0);
    expect(j.configs.map((c) => c.name)).toEqual([...RMAP_LOCK_CONFIG_NAMES]);
    expect(j.runs).toHaveLength(16);
    for (const run of j.runs) {
      const what = `${run.config}/${run.cpus}`;
      for (const f of RMAP_LOCKS_RUN_FIELDS) expect(run, `${what}: ${f}`).toHaveProperty(f);
      expect(run.invariantViolations, what).toEqual([]);
      expect(run.processes).toBe(3);
      expect(run.walkers + run.writers).toBe(run.cpus);
      expect(run.walkerOps, what).toBeGreaterThan(0);
      expect(run.writerOps, what).toBeGreaterThan(0);
      expect(run.walkerOps).toBe(run.referencedWalks + run.migrations + run.skippedWalks);
      expect(run.writerOps).toBe(run.forks + run.exits + run.mmaps + run.munmaps);
      expect(run.walkerCycles).toBeGreaterThanOrEqual(300_000);
      expect(run.walkerOpsPerSec).toBeCloseTo(run.walkerOps / (run.walkerCycles / (j.ghz * 1e9)), 3);
      for (const k of ["contentions", "sleeps", "wait", "hold", "readAcquisitions", "writeAcquisitions"]) expect(run.anonVma).toHaveProperty(k);
      // a fork tree's anon_vmas are never a chain of one: the lockless case never applies to its pages
      expect(run.locklessWalks, what).toBe(0);
    }
  });

  it("is reproducible from its seed: the same options give identical JSON", () => {
    const o = { ...TINY, cpus: [3], configs: ["rwsem-shared", "spinlock"] };
    expect(JSON.stringify(runRmapLocks(o))).toBe(JSON.stringify(runRmapLocks(o)));
  });

  it("shows the lock mode: rwsem shared walks take the anon_vma class for read, spinlock, mutex and exclusive rwsem walks for write", () => {
    const r = runRmapLocks({ ...TINY, cpus: [2], configs: ["spinlock", "mutex", "rwsem-excl", "rwsem-shared"] });
    const av = (name: string) => r.runs.find((x) => x.config === name)!.anonVma;
    expect(av("rwsem-shared").readAcquisitions).toBeGreaterThan(0);
    for (const n of ["spinlock", "mutex", "rwsem-excl"]) {
      expect(av(n).readAcquisitions, n).toBe(0);
      expect(av(n).writeAcquisitions, n).toBeGreaterThan(0);
    }
    expect(r.configs.find((c) => c.name === "rwsem-excl")).toMatchObject({ anonVmaLock: "rwsem-spin", walks: "exclusive" });
    expect(r.configs.find((c) => c.name === "rwsem-shared")).toMatchObject({ anonVmaLock: "rwsem-spin", walks: "shared" });
  });

  it("seed 003's lockless case takes fewer anon_vma acquisitions per walk where the chain has length one (the root alone)", () => {
    const o = { cpus: [2], trees: [{ width: 1, depth: 0 }], pages: 8, budgetCycles: 300_000, seed: 1 };
    const r = runRmapLocks({ ...o, configs: ["spinlock", "spinlock+lockless"] });
    const [off, on] = [r.runs[0]!, r.runs[1]!];
    expect(off.locklessWalks).toBe(0);
    expect(on.locklessWalks).toBeGreaterThan(0);
    expect(on.invariantViolations).toEqual([]);
    const perWalk = (x: typeof off) => x.anonVma.acquisitions / x.walkerOps;
    expect(perWalk(on)).toBeLessThan(perWalk(off));
  });

  it("runs clean on the debug build (lockdep's order and VM_BUG_ON invariants checked on every step)", () => {
    const r = runRmapLocks({ cpus: [3], trees: [{ width: 2, depth: 1 }], pages: 8, budgetCycles: 200_000, debug: true,
      configs: ["spinlock", "rwsem-excl", "rwsem-shared+lockless"] });
    for (const run of r.runs) {
      expect(run.invariantViolations, run.config).toEqual([]);
      expect(run.walkerOps + run.writerOps, run.config).toBeGreaterThan(0);
    }
  });

  it("refuses bad options with a ConfigError", () => {
    expect(() => runRmapLocks({ configs: ["rwlock"] })).toThrow(/unknown configuration "rwlock"/);
    expect(() => runRmapLocks({ cpus: [1] })).toThrow(ConfigError);
    expect(() => runRmapLocks({ cpus: [65] })).toThrow(/out of range/);
    expect(() => runRmapLocks({ cpus: [4], walkers: 4 })).toThrow(/no writer/);
    expect(() => runRmapLocks({ cpus: [8], walkers: 1, trees: [{ width: 1, depth: 1 }] })).toThrow(/too few for 7 writers/);
    expect(() => runRmapLocks({ trees: [{ width: 0, depth: 1 }] })).toThrow(/width/);
    expect(() => runRmapLocks({ seed: -1 })).toThrow(/seed/);
    expect(() => runRmapLocks({ mode: "bogus" as "timed" })).toThrow(/"bogus" is not a mode of rmap-locks \(timed, parallel\)/);
    expect(() => runRmapLocks({ budgetNs: 1_000_000 })).toThrow(/budgetNs: a host-time budget/);
    expect(treeSize({ width: 2, depth: 2 })).toBe(7);
  });

  it("CLI: one line and exit 2 for bad values; --help; a tiny --json --out run", async () => {
    const err = vi.spyOn(console, "error").mockImplementation(() => {});
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    for (const bad of [["--cpus", "1"], ["--cpus", "2,65"], ["--walkers", "2", "--cpus", "2"], ["--width", "0"], ["--depth", "9"],
      ["--pages", "0"], ["--config", "rwlock"], ["--seed", "x"], ["--mode", "bogus"], ["--budget", "5"], ["--bogus"],
      ["--cpus", "8", "--walkers", "1", "--width", "1", "--depth", "1"]]) {
      err.mockClear();
      expect(await main(["experiment", "rmap-locks", ...bad]), bad.join(" ")).toBe(2);
      expect(err).toHaveBeenCalledTimes(1);
      expect(String(err.mock.calls[0]![0]).split("\n"), bad.join(" ")).toHaveLength(1);
    }
    expect(await main(["experiment", "rmap-locks", "--help"])).toBe(0);
    expect(String(log.mock.calls.at(-1)![0])).toMatch(/--walkers N[\s\S]*rwsem-shared\+lockless/);
    const out = join(mkdtempSync(join(tmpdir(), "mmemu-rmap-")), "r.json");
    log.mockClear();
    expect(await main(["experiment", "rmap-locks", "--cpus", "2", "--config", "mutex", "--width", "1", "--depth", "1", "--pages", "4",
      "--budget", "200000", "--seed", "5", "--json", "--out", out])).toBe(0);
    const printed = JSON.parse(String(log.mock.calls[0]![0])) as RmapLocksResult;
    expect(JSON.parse(readFileSync(out, "utf8"))).toEqual(printed);
    expect(printed).toMatchObject({ seed: 5, cpus: [2], pages: 4, trees: [{ width: 1, depth: 1 }], configs: [expect.objectContaining({ name: "mutex" })] });
    log.mockClear();
    expect(await main(["experiment", "rmap-locks", "--cpus", "2", "--config", "spinlock,rwsem-shared", "--width", "1", "--depth", "1",
      "--budget", "200000"])).toBe(0);
    expect(String(log.mock.calls[0]![0])).toMatch(/walker ops\/s[\s\S]*spinlock[\s\S]*rwsem-shared/);
  });
});
