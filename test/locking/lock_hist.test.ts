// The host's view of the lock-time histograms (src/locking/lock-hist.ts): bucket bounds as the core
// counts them, and the percentile estimate (upper bound of the bucket holding the rank, capped at max).
import { describe, it, expect } from "vitest";
import { histogramBounds, histogramBucket, histogramDiff, histogramLabel, histogramPercentile, LOCK_HIST_BUCKETS } from "../../src/locking/lock-hist.js";

const hist = (entries: [number, number][]) => {
  const h = new Array<number>(LOCK_HIST_BUCKETS).fill(0);
  for (const [i, n] of entries) h[i] = n;
  return h;
};

describe("lock-time histograms (host)", () => {
  it("buckets d by floor(log2(max(d, 1))), exactly at powers of two, clamped to the last", () => {
    expect([0, 1, 2, 3, 4, 7, 8, 1023, 1024, 2 ** 31 - 1, 2 ** 31, 2 ** 50].map((d) => histogramBucket(d)))
      .toEqual([0, 0, 1, 1, 2, 2, 3, 9, 10, 30, 31, 31]);
    for (let k = 1; k < 31; k++) {
      expect(histogramBucket(2 ** k)).toBe(k);
      expect(histogramBucket(2 ** k - 1)).toBe(k - 1);
    }
    expect(histogramBounds(0)).toEqual({ lo: 0, hi: 2 });
    expect(histogramBounds(10)).toEqual({ lo: 1024, hi: 2048 });
    expect(histogramBounds(31)).toEqual({ lo: 2 ** 31, hi: Infinity });
    expect(() => histogramBounds(32)).toThrow(RangeError);
    expect([histogramLabel(0), histogramLabel(5), histogramLabel(31)]).toEqual(["<2", "2^5", ">=2^31"]);
  });

  it("estimates percentiles as the upper bound of the bucket holding the rank, capped at the maximum", () => {
    // 90 waits in [1024, 2048), 9 in [8192, 16384), 1 in [2^20, 2^21)
    const h = hist([[10, 90], [13, 9], [20, 1]]);
    expect(histogramPercentile(h, 50)).toBe(2048);
    expect(histogramPercentile(h, 90)).toBe(2048); // rank 90 is the last of bucket 10
    expect(histogramPercentile(h, 91)).toBe(16384);
    expect(histogramPercentile(h, 99)).toBe(16384);
    expect(histogramPercentile(h, 100)).toBe(2 ** 21);
    expect(histogramPercentile(h, 100, 1_500_000)).toBe(1_500_000); // capped at the known maximum
    expect(histogramPercentile(h, 50, 1_500_000)).toBe(2048);
    // the open-ended last bucket: its lower bound, or the maximum when known
    expect(histogramPercentile(hist([[31, 2]]), 50)).toBe(2 ** 31);
    expect(histogramPercentile(hist([[31, 2]]), 50, 5e9)).toBe(5e9);
    expect(histogramPercentile(hist([]), 99)).toBe(0);
    expect(() => histogramPercentile(h, 0)).toThrow(RangeError);
    expect(() => histogramPercentile(h, 101)).toThrow(RangeError);
  });

  it("diffs bucket by bucket", () => {
    expect(histogramDiff([3, 5, 0], [1, 5, 0])).toEqual([2, 0, 0]);
    expect(histogramDiff([3, 5])).toEqual([3, 5]);
  });
});
