// Exploration (src/sched/explore.ts): explore mode finds the planted race (racy_increment's unlocked
// read-modify-write) within a bounded number of schedules and replays it exactly from its seed; a
// correct lock survives the same search.
import { describe, expect, it } from "vitest";
import { ConfigError, type RunResult } from "../../src/index.js";
import { lockLoop, racy, vmachine } from "./helpers.js";

describe("explore", () => {
  for (const strategy of ["random", "pct"] as const) {
    it(`finds the lost update (${strategy}) and replays it from the printed seed`, () => {
      const vm = vmachine(4);
      const cpus = 3, n = 4;
      const t = racy(vm, cpus, n);
      const lines: string[] = [];
      const found = vm.explore({
        runs: 50, seed: 1000, strategy, jobs: t.jobs,
        setup: () => t.reset(),
        check: () => vm.read64(t.counter) === BigInt(cpus * n) || `counter ${vm.read64(t.counter)}, expected ${cpus * n}`,
        log: (l) => lines.push(l),
      });
      expect(found.failingSeed).toBeDefined();
      expect(found.runs).toBeLessThanOrEqual(50);
      const failure = found.failure!;
      expect(failure.seed).toBe(found.failingSeed);
      expect(failure.message).toMatch(/^counter \d+, expected 12$/);
      // The report names the seed and how to replay it.
      expect(lines.some((l) => l.includes(`seed ${failure.seed} fails`) && l.includes(`seed: ${failure.seed}`))).toBe(true);
      if (strategy === "pct") expect(found.pctSteps).toBeGreaterThan(0);
      // Replay: the same schedule (digest), the same lost update (counter), twice.
      const lost = vm.read64(t.counter);
      for (let i = 0; i < 2; i++) {
        t.reset();
        const again: RunResult = vm.run(failure.replay);
        expect(again.digest).toBe(failure.result!.digest);
        expect(again.seed).toBe(failure.seed);
        expect(vm.read64(t.counter)).toBe(lost);
        expect(lost).toBeLessThan(BigInt(cpus * n));
      }
    });
  }

  it("finds nothing wrong with a lock that excludes (both strategies)", () => {
    const vm = vmachine(4);
    const t = lockLoop(vm, 4, 10);
    for (const strategy of ["random", "pct"] as const) {
      const r = vm.explore({
        runs: 30, seed: 1, strategy, jobs: t.jobs, log: null,
        setup: () => t.reset(),
        check: () => vm.read64(t.counter) === 40n,
      });
      expect(r.failingSeed).toBeUndefined();
      expect(r.runs).toBe(30);
    }
  });

  it("counts a run that fails outright (a deadlock) as the failing schedule", () => {
    const vm = vmachine(2);
    const word = vm.alloc(64);
    const r = vm.explore({
      runs: 5, seed: 3, log: null,
      jobs: [{ cpu: 0, job: "sleep_pingpong", args: [word, 1, 0] }, { cpu: 1, job: "sleep_pingpong", args: [word, 2, 1] }],
      setup: () => vm.write32(word, 0),
      check: () => true,
    });
    expect(r.failingSeed).toBe(3);
    expect(r.failure!.message).toMatch(/^deadlock: CPU 1 is sleeping/);
  });

  it("refuses bad options before running anything", () => {
    const vm = vmachine(2);
    const t = racy(vm, 2, 1);
    const base = { runs: 1, seed: 1, jobs: t.jobs, check: () => true, log: null };
    expect(() => vm.explore({ ...base, runs: 0 })).toThrow(/runs: 0/);
    expect(() => vm.explore({ ...base, seed: 0.5 })).toThrow(/seed: 0\.5 is not an integer seed/);
    expect(() => vm.explore({ ...base, strategy: "bfs" as never })).toThrow(/unknown strategy "bfs"/);
    expect(() => vm.explore({ ...base, check: undefined as never })).toThrow(/check: expected a function/);
    expect(() => vm.explore({ ...base, jobs: [{ cpu: 0, job: "nope" }] })).toThrow(ConfigError);
  });
});
