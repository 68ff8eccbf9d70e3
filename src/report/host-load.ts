// How busy the rest of the host was while something measured (Linux /proc/stat): benchmarks and
// `mmemu calibrate` report it, because on a small machine other processes change every figure.
import { readFileSync } from "node:fs";

/** Busy and steal time of the whole system (in USER_HZ = 1/100 s ticks), this process's CPU time, a wall clock. */
export interface SystemCpu { busyTicks: number; stealTicks: number; wallMs: number; ownCpuUs: number }

/** A snapshot of the system's CPU time, or null where /proc/stat does not exist. */
export function systemCpu(): SystemCpu | null {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n").find((l) => l.startsWith("cpu "));
    if (!line) return null;
    // user nice system idle iowait irq softirq steal guest guest_nice
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0);
    const u = process.cpuUsage();
    return { busyTicks: busy, stealTicks: f[7] ?? 0, wallMs: performance.now(), ownCpuUs: u.user + u.system };
  } catch {
    return null;
  }
}

/**
 * CPU used by other processes between two snapshots, in percent of one CPU (this process's own
 * CPU time, its worker threads included, and `childCpuMs` of its children taken out), and the
 * hypervisor's steal time, also in percent of one CPU. Null where /proc/stat does not exist.
 */
export function otherCpuLoad(a: SystemCpu | null, b: SystemCpu | null, childCpuMs: number): { othersPercent: number; stealPercent: number } | null {
  if (!a || !b || b.wallMs <= a.wallMs) return null;
  const wall = b.wallMs - a.wallMs;
  const busyMs = (b.busyTicks - a.busyTicks) * 10;
  const ownMs = (b.ownCpuUs - a.ownCpuUs) / 1000 + childCpuMs;
  const round1 = (x: number) => Math.round(x * 10) / 10;
  return {
    othersPercent: round1(Math.max(0, ((busyMs - ownMs) / wall) * 100)),
    stealPercent: round1((((b.stealTicks - a.stealTicks) * 10) / wall) * 100),
  };
}
