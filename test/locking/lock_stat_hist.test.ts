// Lock-time histograms (assembly/locking/lock_stat.ts, struct lock_class_hist): known durations land in
// their log2 bucket on the CPU that recorded them and the host sums CPUs; in a timed run every wait and
// every hold is counted once, the buckets agree with min and max, and a replay gives the same histograms;
// on worker CPUs (lockStatTiming: nanoseconds) the same holds.
import { describe, it, expect } from "vitest";
import { Mmu, Machine } from "../../src/index.js";
import { tortureObjects } from "../../src/locking/torture.js";
import { constant } from "../../src/core/abi.js";
import { tortureVirtual } from "../../src/locking/torture.js";
import { histogramBucket, LOCK_HIST_BUCKETS } from "../../src/locking/lock-hist.js";

const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);

describe("lock_stat histograms", () => {
  it("puts a known duration in bucket floor(log2(max(d, 1))), clamped to the last, per CPU, summed by the host", () => {
    const mmu = Mmu.create({ cpus: 2, memory: "1MiB", debug: true });
    const x = mmu.exports;
    expect(constant(x, "LOCK_HIST_BUCKETS")).toBe(LOCK_HIST_BUCKETS);
    const av = constant(x, "LOCK_CLASS_ANON_VMA"), W = constant(x, "LS_WAIT"), H = constant(x, "LS_HOLD");
    const waits = [0n, 1n, 2n, 3n, 4n, 1000n, 1023n, 1024n, (1n << 31n) - 1n, 1n << 31n, 1n << 40n];
    waits.forEach((d, i) => expect(mmu.call("cpu_test_lock_stat_time", i % 2, av, W, d)).toBe(0));
    expect(mmu.call("cpu_test_lock_stat_time", 1, av, H, 5000n)).toBe(0);
    // Bad CPU, class or group: -EINVAL (22), nothing recorded.
    expect(mmu.call("cpu_test_lock_stat_time", 2, av, W, 7n)).toBe(-22);
    expect(mmu.call("cpu_test_lock_stat_time", 0, 99, W, 7n)).toBe(-22);
    expect(mmu.call("cpu_test_lock_stat_time", 0, av, constant(x, "LS_SPIN"), 7n)).toBe(-22);
    const s = mmu.lockStats(true).find((l) => l.class === "anon_vma")!;
    const expected = new Array<number>(32).fill(0);
    for (const b of [0, 0, 1, 1, 2, 9, 9, 10, 30, 31, 31]) expected[b]!++;
    expect(s.waitHistogram).toEqual(expected);
    expect(sum(s.waitHistogram)).toBe(s.wait.count);
    expect(s.holdHistogram[12]).toBe(1); // 4096 <= 5000 < 8192
    expect(sum(s.holdHistogram)).toBe(1);
    // The host's bucket function agrees with the core's.
    expect(waits.map((d) => histogramBucket(Number(d)))).toEqual([0, 0, 1, 1, 2, 9, 9, 10, 30, 31, 31]);
    // Other classes saw nothing.
    for (const l of mmu.lockStats(true).filter((l) => l.class !== "anon_vma")) expect(sum(l.waitHistogram) + sum(l.holdHistogram)).toBe(0);
  });

  it("counts every wait and hold of a timed run once, between min and max, and replays them from the seed", async () => {
    const run = () => tortureVirtual({ lock: "rwsem-handoff", mode: "timed", seed: 4, cpus: 4, iters: 100, readers: 2 });
    const [a, b] = [await run(), await run()];
    const s = a.stat;
    expect(s.contentions).toBeGreaterThan(0);
    expect(s.waitHistogram).toHaveLength(LOCK_HIST_BUCKETS);
    expect(sum(s.waitHistogram)).toBe(s.wait.count);
    expect(sum(s.holdHistogram)).toBe(s.hold.count);
    expect(s.hold.count).toBe(400);
    for (const [h, t] of [[s.waitHistogram, s.wait], [s.holdHistogram, s.hold]] as const) {
      const used = h.flatMap((n, i) => (n > 0 ? [i] : []));
      expect(used[0]).toBe(histogramBucket(t.min));
      expect(used[used.length - 1]).toBe(histogramBucket(t.max));
    }
    expect(b.stat.waitHistogram).toEqual(s.waitHistogram);
    expect(b.stat.holdHistogram).toEqual(s.holdHistogram);
  });

  it("on worker CPUs with lockStatTiming, counts every timed hold and wait once (nanoseconds)", async () => {
    const m = await Machine.create({ cpus: 2, memory: "4MiB", locks: { torture_a: "ticket" }, lockStatTiming: true });
    try {
      const { lock, data } = tortureObjects(m.mmu, "torture_a");
      await m.run([0, 1].map((cpu) => ({ cpu, fn: "cpu_torture_writer" as const, args: [lock, data, 2000, 8] })));
      const s = m.mmu.lockStats().find((l) => l.class === "torture_a")!;
      expect(s.unit).toBe("ns");
      expect(s.hold.count).toBe(4000);
      expect(sum(s.holdHistogram)).toBe(4000);
      expect(sum(s.waitHistogram)).toBe(s.wait.count);
      const used = s.holdHistogram.flatMap((n, i) => (n > 0 ? [i] : []));
      expect(used[0]).toBe(histogramBucket(s.hold.min));
      expect(used[used.length - 1]).toBe(histogramBucket(s.hold.max));
    } finally {
      await m.destroy();
    }
  });
});
