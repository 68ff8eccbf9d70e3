// Lock-time histograms (assembly/locking/lock_stat.ts, struct lock_class_hist in layout.ts): per lock
// class, log2 buckets of contended acquisitions' wait times and of hold times, in the unit lock_stat
// measures in (virtual cycles, or ns in the parallel build). The core counts them per CPU; the host
// sums them (lock-stat.ts) and diffs them per run (experiments/lock-diff.ts).
//
// Bucket i holds the durations d with floor(log2(max(d, 1))) == i, the last bucket also everything
// longer:
//   bucket 0: [0, 2)    bucket i (1 .. n-2): [2^i, 2^(i+1))    bucket n-1: [2^(n-1), infinity)
// with n = LOCK_HIST_BUCKETS = 32. A histogram's counts sum to the group's count (wait.count, hold.count).

/** Buckets per histogram in the core (LOCK_HIST_BUCKETS of assembly/layout.ts). */
export const LOCK_HIST_BUCKETS = 32;

/**
 * histogramBucket - the bucket of duration d (>= 0): floor(log2(max(d, 1))), at most buckets - 1.
 * As the core's lock_hist_bucket.
 */
export function histogramBucket(d: number, buckets = LOCK_HIST_BUCKETS): number {
  if (!(d >= 2)) return 0;
  let b = Math.floor(Math.log2(d));
  // log2 of a double can round across a power of two; correct it against exact powers.
  if (2 ** b > d) b--;
  else if (2 ** (b + 1) <= d) b++;
  return Math.min(b, buckets - 1);
}

/**
 * histogramBounds - the durations bucket i holds, [lo, hi): lo = 0 for bucket 0 and 2^i otherwise;
 * hi = 2^(i+1), or Infinity for the last bucket. Throws a RangeError for i outside 0 .. buckets-1.
 */
export function histogramBounds(i: number, buckets = LOCK_HIST_BUCKETS): { lo: number; hi: number } {
  if (!Number.isInteger(i) || i < 0 || i >= buckets) throw new RangeError(`lock histogram: bucket ${i} is outside 0..${buckets - 1}`);
  return { lo: i === 0 ? 0 : 2 ** i, hi: i === buckets - 1 ? Infinity : 2 ** (i + 1) };
}

/** A short label of bucket i for tables and chart axes: "<2", "2^i" (meaning [2^i, 2^(i+1))), ">=2^i" for the last. */
export function histogramLabel(i: number, buckets = LOCK_HIST_BUCKETS): string {
  if (i === 0) return "<2";
  return i === buckets - 1 ? `>=2^${i}` : `2^${i}`;
}

/**
 * histogramPercentile - estimate of the p-th percentile (0 < p <= 100) of the durations a histogram
 * counts: the upper bound 2^(i+1) of the bucket i that holds the sample of rank ceil(p/100 x total)
 * (so the estimate is at most 2x the true figure and never below it), capped at `max` when the
 * caller knows the largest duration (for the last, open-ended bucket the cap is the only bound; without
 * it the estimate is that bucket's lower bound 2^(n-1)). Returns 0 for an empty histogram.
 * Throws a RangeError for p outside (0, 100].
 */
export function histogramPercentile(counts: readonly number[], p: number, max?: number): number {
  if (!(p > 0 && p <= 100)) throw new RangeError(`lock histogram: percentile ${p} is outside (0, 100]`);
  const total = counts.reduce((a, b) => a + b, 0);
  if (total <= 0) return 0;
  const rank = Math.max(1, Math.ceil((p / 100) * total));
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    seen += counts[i]!;
    if (seen < rank) continue;
    const { lo, hi } = histogramBounds(i, counts.length);
    if (max !== undefined && Number.isFinite(max)) return Number.isFinite(hi) ? Math.min(hi, max) : Math.max(max, lo);
    return Number.isFinite(hi) ? hi : lo;
  }
  return 0; // not reached: seen reaches total >= rank
}

/** after - before, bucket by bucket (a missing before counts as zeros). */
export function histogramDiff(after: readonly number[], before?: readonly number[]): number[] {
  return after.map((n, i) => n - (before?.[i] ?? 0));
}
