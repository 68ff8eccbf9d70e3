// Lock statistics of one experiment run: the machine's lock_stat after the run minus before it (the
// set-up's acquisitions left out), per class, in virtual cycles. Shared by every experiment.
import type { LockClassStat } from "../locking/lock-stat.js";

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
  /** Contended acquisitions' wait, in virtual cycles: count, total, average, max. */
  wait: { count: number; totalCycles: number; avgCycles: number; maxCycles: number };
  /** Time held, in virtual cycles: count, total, average (a maximum cannot be subtracted). */
  hold: { count: number; totalCycles: number; avgCycles: number };
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
      wait: { count: waitN, totalCycles: waitT, avgCycles: waitN ? waitT / waitN : 0, maxCycles: waitN ? a.wait.max : 0 },
      hold: { count: holdN, totalCycles: holdT, avgCycles: holdN ? holdT / holdN : 0 },
      fairness: perCpu.length ? Math.max(...perCpu) / Math.min(...perCpu) : 1,
    });
  }
  return out;
}
