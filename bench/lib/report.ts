// Reporting helpers of the benchmarks: machine information, tinybench results as ns per operation,
// target verdicts, a plain-text table for stdout and the JSON file under bench/results/ (BigInts are
// written as strings: hex for checksums and addresses).
import { cpus, totalmem, platform, arch, release, loadavg } from "node:os";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Task } from "tinybench";

export interface MachineInfo {
  node: string;
  v8: string;
  platform: string;
  arch: string;
  kernel: string;
  cpuModel: string;
  logicalCpus: number;
  totalMemoryGiB: number;
  /** os.loadavg() when the benchmark started: above ~1, other work shared the CPUs. */
  loadAverage: number[];
  date: string;
}

export function machineInfo(): MachineInfo {
  const c = cpus();
  return {
    node: process.version,
    v8: process.versions.v8,
    platform: platform(),
    arch: arch(),
    kernel: release(),
    cpuModel: (c[0]?.model ?? "unknown").trim(),
    logicalCpus: c.length,
    totalMemoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    loadAverage: loadavg().map((x) => Math.round(x * 100) / 100),
    date: new Date().toISOString(),
  };
}

/** A timing per operation, summarised from samples (ns per operation, one sample per kernel call or timed run). */
export interface Timing {
  /** Median of the samples: the figure the ratios use (robust to stretches of outside load). */
  nsMedian: number;
  nsMean: number;
  nsMin: number;
  /** 95% margin of error of the mean, percent (normal approximation). */
  rmePercent: number;
  samples: number;
}

/** The samples of a completed tinybench task (retainSamples: true) in ns per operation. */
export function taskSamplesNs(task: Task, opsPerCall: number): number[] {
  const r = task.result;
  if (r.state !== "completed") {
    const why = r.state === "errored" ? `: ${String(r.error)}` : "";
    throw new Error(`benchmark task "${task.name}" did not complete (${r.state}${why})`);
  }
  // latency samples are ms per call (the same figures throughput.mean is computed from).
  const ms = r.latency.samples;
  if (!ms || ms.length === 0) throw new Error(`benchmark task "${task.name}" kept no samples (retainSamples)`);
  return Array.from(ms, (x) => (x * 1e6) / opsPerCall);
}

export function summariseNs(ns: number[]): Timing {
  const s = [...ns].sort((a, b) => a - b);
  const n = s.length;
  const mean = s.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(s.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  const median = n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
  return { nsMedian: median, nsMean: mean, nsMin: s[0]!, rmePercent: mean > 0 ? (100 * 1.96 * sd) / Math.sqrt(n) / mean : 0, samples: n };
}

export type Comparison = ">=" | "<=";

export interface Verdict {
  name: string;
  value: number;
  target: number;
  comparison: Comparison;
  met: boolean;
}

export function verdict(name: string, value: number, comparison: Comparison, target: number): Verdict {
  return { name, value: round(value, 3), target, comparison, met: comparison === ">=" ? value >= target : value <= target };
}

/** "met", "not met" or "met in k of n" over a group of verdicts. */
export function summarize(vs: Verdict[]): { met: boolean; summary: string } {
  const k = vs.filter((v) => v.met).length;
  if (k === vs.length) return { met: true, summary: "met" };
  return { met: false, summary: k === 0 ? "not met" : `not met (met in ${k} of ${vs.length})` };
}

export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Format ns for the table: 3 significant digits. */
export function fmtNs(ns: number | undefined): string {
  if (ns === undefined || !Number.isFinite(ns)) return "-";
  return ns >= 100 ? ns.toFixed(0) : ns >= 10 ? ns.toFixed(1) : ns.toFixed(2);
}

/** A plain-text table: columns right-aligned except the first ones (leftCols). */
export function table(header: string[], rows: string[][], leftCols = 1): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < leftCols ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/** JSON with BigInts as 0x-hex strings. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? `0x${v.toString(16)}` : v), 2);
}

export function writeJsonFile(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, toJson(value) + "\n");
}

// The host-load snapshots live with the CLI's reports (mmemu calibrate uses them too).
export { systemCpu, otherCpuLoad, type SystemCpu } from "../../src/report/host-load.js";
