// A run's lock statistics (src/experiments/lock-diff.ts): after - before per class, with the wait and
// hold histograms diffed and their p50/p90/p99 estimated; the existing fields unchanged.
import { describe, it, expect } from "vitest";
import { lockStatDiff, emptyRunLockStat } from "../../src/experiments/lock-diff.js";
import type { LockClassStat } from "../../src/locking/lock-stat.js";
import { runAim9Brk } from "../../src/experiments/aim9-brk.js";

function stat(acq: number, waits: [number, number][], holds: [number, number][], max: number): LockClassStat {
  const h = (e: [number, number][]) => { const a = new Array<number>(32).fill(0); for (const [i, n] of e) a[i] = n; return a; };
  const n = (e: [number, number][]) => e.reduce((s, [, k]) => s + k, 0);
  return { class: "anon_vma", acquisitions: { read: 0, write: acq }, contentions: n(waits), spins: 0, sleeps: 0, wakeups: 0, handoffs: 0, steals: 0,
    wait: { count: n(waits), total: 1000 * n(waits), min: 1, max, avg: 1000 }, hold: { count: n(holds), total: 10 * n(holds), min: 1, max: 20, avg: 10 },
    unit: "cycles", waitHistogram: h(waits), holdHistogram: h(holds), perCpu: [acq], fairness: 1 };
}

describe("lockStatDiff", () => {
  it("diffs the histograms and estimates percentiles from the run's buckets only", () => {
    const before = stat(10, [[3, 5]], [[4, 10]], 12);
    const after = stat(110, [[3, 5], [10, 98], [15, 2]], [[4, 110]], 40_000);
    const [d] = lockStatDiff([before], [after]);
    expect(d!.wait.histogram[3]).toBe(0); // the set-up's waits are left out
    expect(d!.wait.histogram[10]).toBe(98);
    expect(d!.wait.histogram.reduce((a, b) => a + b, 0)).toBe(d!.wait.count);
    expect([d!.wait.p50, d!.wait.p90, d!.wait.p99]).toEqual([2048, 2048, 40_000]); // p99: bucket 15 capped at the max
    expect([d!.hold.p50, d!.hold.p99, d!.hold.histogram[4]]).toEqual([32, 32, 100]);
    // the fields that were there before are unchanged
    expect(d).toMatchObject({ acquisitions: 100, contentions: 100, wait: { count: 100, totalCycles: 100_000, avgCycles: 1000, maxCycles: 40_000 },
      hold: { count: 100, totalCycles: 1000, avgCycles: 10 } });
    expect(emptyRunLockStat("x").wait).toMatchObject({ count: 0, p50: 0, p99: 0, histogram: new Array(32).fill(0) });
  });

  it("an experiment run carries each class's histograms, summing to its counts", () => {
    const r = runAim9Brk({ eras: ["2.6.25"], cpus: [2], loops: 1, seed: 2 });
    for (const l of r.runs[0]!.locks) {
      expect(l.wait.histogram.reduce((a, b) => a + b, 0)).toBe(l.wait.count);
      expect(l.hold.histogram.reduce((a, b) => a + b, 0)).toBe(l.hold.count);
      expect(l.wait.p50).toBeLessThanOrEqual(l.wait.p99);
      expect(l.wait.p99).toBeLessThanOrEqual(l.wait.maxCycles);
    }
    const av = r.runs[0]!.locks.find((l) => l.class === "anon_vma")!;
    expect(av.wait.count).toBeGreaterThan(0);
    expect(av.wait.p99).toBeGreaterThan(0);
  });
});
