// Lock statistics of one experiment run: the machine's lock_stat after the run minus before it (the
// set-up's acquisitions left out), per class, in virtual cycles. Shared by every experiment.
// Each class also carries its wait and hold histograms over the run (log2 buckets, lock-hist.ts) and
// p50/p90/p99 estimated from them: the upper bound 2^(i+1) of the bucket holding the percentile's
// sample, capped at the run's maximum wait (hold maxima cannot be subtracted, so holds are not capped).
import type { LockClassStat } from "../locking/lock-stat.js";
import { histogramDiff, histogramPercentile, LOCK_HIST_BUCKETS } from "../locking/lock-hist.js";

/**
 * A log2 histogram over a run with its percentile estimates, in virtual cycles. histogram[i] counts
 * durations d with floor(log2(max(d, 1))) == i: bucket 0 is [0, 2), bucket i is [2^i, 2^(i+1)), the last
 * (31) is everything from 2^31. p50/p90/p99: the upper bound of the bucket holding the percentile
 * (at most twice the true figure, never below it), 0 when there was nothing to count.
 */
export interface RunHistogram { histogram: number[]; p50: number; p90: number; p99: number }

/**
 * runHistogram - a run's histogram (after - before, bucket by bucket; a missing one counts as all zeros,
 * LOCK_HIST_BUCKETS of them) with its percentiles; max caps them when known. Never throws.
 */
export function runHistogram(after: readonly number[] | undefined, before: readonly number[] | undefined, max?: number): RunHistogram {
  const histogram = histogramDiff(after ?? new Array<number>(LOCK_HIST_BUCKETS).fill(0), before);
  const pct = (p: number) => histogramPercentile(histogram, p, max);
  return { histogram, p50: pct(50), p90: pct(90), p99: pct(99) };
}

/** Lock statistics of one class over one run. */
export interface RunLockStat {
  class: string;
  acquisitions: number;
  readAcquisitions: number;
  writeAcquisitions: number;
  contentions: number;
  spins: number;
  /** Context switches: a sleeping waiter gave up its CPU. */
  sleeps: number;
  wakeups: number;
  handoffs: number;
  steals: number;
  /** Contended acquisitions' wait, in virtual cycles: count, total, average, max; histogram and p50/p90/p99. */
  wait: { count: number; totalCycles: number; avgCycles: number; maxCycles: number } & RunHistogram;
  /** Time held, in virtual cycles: count, total, average (a maximum cannot be subtracted); histogram and p50/p90/p99. */
  hold: { count: number; totalCycles: number; avgCycles: number } & RunHistogram;
  /** max / min acquisitions over the CPUs that acquired in the run (1 = fair). */
  fairness: number;
}

/**
 * lockStatDiff - per class with acquisitions in the run, after - before. The set-up runs alone on one
 * CPU and never waits, so the wait maximum after the run is the run's own.
 */
export function lockStatDiff(before: LockClassStat[], after: LockClassStat[]): RunLockStat[] {
  const out: RunLockStat[] = [];
  for (const a of after) {
    const b = before.find((s) => s.class === a.class);
    const d = (f: (s: LockClassStat) => number) => f(a) - (b ? f(b) : 0);
    const read = d((s) => s.acquisitions.read), write = d((s) => s.acquisitions.write);
    if (read + write === 0) continue;
    const waitN = d((s) => s.wait.count), waitT = d((s) => s.wait.total);
    const holdN = d((s) => s.hold.count), holdT = d((s) => s.hold.total);
    const perCpu = a.perCpu.map((n, i) => n - (b?.perCpu[i] ?? 0)).filter((n) => n > 0);
    out.push({
      class: a.class, acquisitions: read + write, readAcquisitions: read, writeAcquisitions: write, contentions: d((s) => s.contentions),
      spins: d((s) => s.spins), sleeps: d((s) => s.sleeps), wakeups: d((s) => s.wakeups), handoffs: d((s) => s.handoffs), steals: d((s) => s.steals),
      wait: { count: waitN, totalCycles: waitT, avgCycles: waitN ? waitT / waitN : 0, maxCycles: waitN ? a.wait.max : 0,
        ...runHistogram(a.waitHistogram, b?.waitHistogram, waitN ? a.wait.max : undefined) },
      hold: { count: holdN, totalCycles: holdT, avgCycles: holdN ? holdT / holdN : 0, ...runHistogram(a.holdHistogram, b?.holdHistogram) },
      fairness: perCpu.length ? Math.max(...perCpu) / Math.min(...perCpu) : 1,
    });
  }
  return out;
}

/** The statistics of a class that was not acquired in a run: every count 0, empty histograms. */
export function emptyRunLockStat(cls: string): RunLockStat {
  return { class: cls, acquisitions: 0, readAcquisitions: 0, writeAcquisitions: 0, contentions: 0, spins: 0, sleeps: 0, wakeups: 0,
    handoffs: 0, steals: 0, wait: { count: 0, totalCycles: 0, avgCycles: 0, maxCycles: 0, ...runHistogram(undefined, undefined) },
    hold: { count: 0, totalCycles: 0, avgCycles: 0, ...runHistogram(undefined, undefined) }, fairness: 1 };
}
