// Reading lock statistics (assembly/locking/lock_stat.ts): per class, summed over CPUs, with the
// per-CPU acquisition counts that show fairness, in the spirit of /proc/lock_stat, and the log2
// histograms of wait and hold times (lock-hist.ts has the bucket bounds).
import type { CoreExports } from "../core/abi.js";
import { constant } from "../core/abi.js";
import type { MachineLayout } from "../core/layout.js";
import { lockClassNames } from "./lock-config.js";

export interface TimeStat {
  count: number;
  total: number;
  min: number;
  max: number;
  avg: number;
}

export interface LockClassStat {
  class: string;
  acquisitions: { read: number; write: number };
  contentions: number;
  spins: number;
  sleeps: number;
  wakeups: number;
  handoffs: number;
  steals: number;
  /** Time waited by contended acquisitions and time held, in `unit`. */
  wait: TimeStat;
  hold: TimeStat;
  unit: "ns" | "cycles";
  /**
   * Log2 histograms, summed over CPUs, of the waits and holds counted in `wait` and `hold` (in `unit`):
   * LOCK_HIST_BUCKETS counts each; bucket 0 holds [0, 2), bucket i [2^i, 2^(i+1)), the last bucket
   * everything from 2^31 (lock-hist.ts: histogramBounds). Each sums to wait.count / hold.count.
   */
  waitHistogram: number[];
  holdHistogram: number[];
  /** Acquisitions (read + write) made by each CPU. */
  perCpu: number[];
  /** max / min of perCpu over CPUs that acquired at all (1 = perfectly fair). */
  fairness: number;
}

function time(count: bigint, total: bigint, min: bigint, max: bigint): TimeStat {
  const n = Number(count);
  return { count: n, total: Number(total), min: Number(min), max: Number(max), avg: n ? Number(total) / n : 0 };
}

/** Lock statistics of every class that was acquired at least once (all classes with all = true). */
export function readLockStats(x: CoreExports, layout: MachineLayout, unit: "ns" | "cycles", all = false): LockClassStat[] {
  const v = new DataView(x.memory.buffer);
  const base = constant(x, "PC_LOCK_STAT");
  const size = constant(x, "LOCK_STAT_SIZE");
  const names = lockClassNames(x);
  const i = (n: keyof CoreExports) => constant(x, n);
  const out: LockClassStat[] = [];
  const w = i("LS_WAIT"), h = i("LS_HOLD");
  const histBase = constant(x, "PC_LOCK_HIST"), histSize = constant(x, "LOCK_HIST_SIZE"), buckets = constant(x, "LOCK_HIST_BUCKETS");
  const isMinMax = (k: number) => k === w + 2 || k === w + 3 || k === h + 2 || k === h + 3;
  for (let c = 0; c < names.length; c++) {
    const sum = new Array<bigint>(constant(x, "NR_LOCK_STATS")).fill(0n);
    const perCpu: number[] = [];
    const hist = new Array<bigint>(2 * buckets).fill(0n); // wait[buckets] then hold[buckets], as in the core
    for (let cpu = 0; cpu < layout.nrCpus; cpu++) {
      const hat = layout.percpuBase + cpu * layout.percpuSize + histBase + c * histSize;
      for (let k = 0; k < hist.length; k++) hist[k]! += v.getBigUint64(hat + k * 8, true);
      const at = layout.percpuBase + cpu * layout.percpuSize + base + c * size;
      const get = (k: number) => v.getBigUint64(at + k * 8, true);
      for (let k = 0; k < sum.length; k++) if (!isMinMax(k)) sum[k]! += get(k);
      perCpu.push(Number(get(i("LS_ACQ_READ")) + get(i("LS_ACQ_WRITE"))));
      for (const g of [w, h]) {
        if (get(g) === 0n) continue; // this CPU timed none: its min and max mean nothing
        if (sum[g + 2] === 0n || get(g + 2) < sum[g + 2]!) sum[g + 2] = get(g + 2);
        if (get(g + 3) > sum[g + 3]!) sum[g + 3] = get(g + 3);
      }
    }
    const n = (k: keyof CoreExports) => Number(sum[i(k)]!);
    const acquired = perCpu.reduce((a, b) => a + b, 0);
    if (!all && acquired === 0) continue;
    const active = perCpu.filter((p) => p > 0);
    out.push({
      class: names[c]!,
      acquisitions: { read: n("LS_ACQ_READ"), write: n("LS_ACQ_WRITE") },
      contentions: n("LS_CONTENDED"), spins: n("LS_SPIN"), sleeps: n("LS_SLEEP"), wakeups: n("LS_WAKEUP"),
      handoffs: n("LS_HANDOFF"), steals: n("LS_STEAL"),
      wait: time(sum[w]!, sum[w + 1]!, sum[w + 2]!, sum[w + 3]!),
      hold: time(sum[h]!, sum[h + 1]!, sum[h + 2]!, sum[h + 3]!),
      unit,
      waitHistogram: hist.slice(0, buckets).map(Number),
      holdHistogram: hist.slice(buckets).map(Number),
      perCpu,
      fairness: active.length ? Math.max(...active) / Math.min(...active) : 1,
    });
  }
  return out;
}
