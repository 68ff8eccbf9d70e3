// The wait-time distribution figure (src/report/lock-hist.ts): shares of each series' waits over the
// buckets any series uses, percentiles in the caption, series without a histogram named, not drawn.
import { describe, it, expect } from "vitest";
import { waitDistributionFigure } from "../../src/report/lock-hist.js";

const hist = (entries: [number, number][]) => {
  const h = new Array<number>(32).fill(0);
  for (const [i, n] of entries) h[i] = n;
  return h;
};
const attrs = (svg: string, name: string) => [...svg.matchAll(new RegExp(`${name}="([^"]*)"`, "g"))].map((m) => m[1]!);

describe("wait-time distribution figure", () => {
  it("draws shares of waits over the used buckets, one outline per series, and says which series are missing", () => {
    const html = waitDistributionFigure("w", "anon_vma lock, 8 CPUs", [
      { name: "2.6.25", wait: { count: 4, histogram: hist([[10, 3], [12, 1]]), p50: 2048, p90: 8192, p99: 8192 } },
      { name: "3.0", wait: { count: 2, histogram: hist([[11, 2]]), p50: 4096, p90: 4096, p99: 4096 } },
      { name: "old", wait: { count: 5 } }, // a result from before histograms
      { name: "idle", wait: { count: 0, histogram: hist([]) } },
    ]);
    expect(html).toContain('<figure id="w" data-figure="w">');
    expect(html).toContain('data-chart="w-linear"');
    expect(html).toContain('data-chart="w-log"'); // behind the report's scale switch
    expect(waitDistributionFigure("w", "s", [{ name: "a", wait: { count: 1, histogram: hist([[3, 1]]) } }], "cycles", "log")).not.toContain("w-linear");
    expect(attrs(html, "data-category").slice(0, 3)).toEqual(["2^10", "2^11", "2^12"]); // trimmed to the used buckets
    expect(attrs(html, "data-value").map(Number).slice(0, 6)).toEqual([75, 0, 25, 0, 100, 0]);
    expect(html).toContain('data-series="2.6.25 (p99 8,192)"');
    expect(html).toContain("2.6.25: 4 waits, p50 2,048, p90 8,192, p99 8,192");
    expect(html).toContain("Not drawn (no contended wait, or no histogram in the result): old, idle.");
  });

  it("says there is nothing to draw when no series waited", () => {
    const html = waitDistributionFigure("w", "mmap_sem lock, 1 CPU", [{ name: "a", wait: { count: 0, histogram: hist([]) } }, { name: "b", wait: undefined }]);
    expect(html).toContain('<div id="w" data-figure="w">');
    expect(html).not.toContain("<svg");
    expect(html).toContain("no wait-time distribution to draw");
  });
});
