// The MM benchmark (`npm run bench:mm`): what each memory-management operation of issue 4 costs,
// the host Linux kernel of this machine (bench/native/mm.c, the same system calls, compiled with the
// machine's cc) side by side with the emulator (its column: EMULATOR below), in one run, at several
// sizes so that the growth of each cost shows (pages, vmas, MiB touched, processes sharing a page):
//
//   brk1         will-it-scale brk1: brk up by P pages and back; ns per brk call (P = 1: the test)
//   brk1-vmas    brk1 (one page) with V extra vmas in the address space
//   page_fault1  will-it-scale page_fault1: mmap P pages, write each, munmap; ns per fault (P = 32768:
//                its 128 MiB)
//   fork         fork + exit + wait of a process whose parent touched M MiB (M = 64: the issue's)
//   fork-vmas    the same with V vmas of one touched page each
//   munmap       munmap of P touched pages (P = 262144: 1 GiB); ns per munmap call
//   rmap         an rmap walk of one page mapped by N processes (N = 64: the issue's); the host's method
//                (migration between NUMA nodes, or MADV_REMOVE of a shmem page) is chosen by mm.c and
//                explained in bench/README.md
//
// Issue 4's target: every operation at least 2x faster in the emulator (parallel mode, one CPU) than
// in the host kernel, i.e. host ns / emulator ns >= 2 for the issue's sizes; reported, never asserted.
// The emulator's side is EMULATOR below (tinybench via emulatorSamples, as bench/locks.ts times the
// Wasm side; the loops are Wasm kernels in assembly/lib/bench_mm.ts); an operation without an entry
// would be reported as not measured, never with a made-up figure.
//
// Timing: mm.c (bound to one CPU) times each run with clock_gettime (one untimed warm-up run per case, then REPS runs of
// many operations; one sample = one run); the table shows the minimum sample by default
// (--stat=median|mean), for the reasons bench/README.md gives; medians and means are in the JSON.
//
// Options: --quick, --json (only JSON on stdout), --no-native, --default-tiering, --stat=min|median|mean,
// --rmap=auto|migrate|remove (the host's rmap-walk method), --out=PATH (default bench/results/mm.json).
import { Bench, type Task } from "tinybench";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { Mmu } from "../src/index.js";
import { buildNative, cleanNative, repoRoot, type NativeBuild } from "./native/build.js";
import { parseBenchArgs, applyWasmTiering, type StatKey } from "./lib/args.js";
import {
  machineInfo, taskSamplesNs, summariseNs, verdict, summarize, table, fmtNs, round, toJson, writeJsonFile, systemCpu, otherCpuLoad,
  type Timing, type Verdict,
} from "./lib/report.js";

const ARGS = parseBenchArgs({
  name: "bench:mm", script: "dist/bench/mm.js", defaultOut: join(repoRoot(), "bench", "results", "mm.json"),
  flags: ["--no-native"], options: { stat: "min|median|mean", rmap: "auto|migrate|remove" },
});
const RMAP_METHOD = ARGS.option("rmap") ?? "auto";
if (!["auto", "migrate", "remove"].includes(RMAP_METHOD)) {
  console.error(`bench:mm: --rmap=${RMAP_METHOD}: expected auto, migrate or remove`);
  process.exit(2);
}
const log = ARGS.log;
const gc = (globalThis as { gc?: () => void }).gc;
applyWasmTiering(ARGS); // before the emulator's first machine compiles the core
const MACHINE = machineInfo();

const FULL = { reps: 5, timeMs: 400, warmupMs: 100, minSamples: 5 };
const QUICK = { reps: 3, timeMs: 100, warmupMs: 30, minSamples: 3 };
export type Params = typeof FULL;
const P: Params = ARGS.quick ? QUICK : FULL;
const TARGET = 2; // host ns / emulator ns, issue 4

// ---- the cases ----------------------------------------------------------------------------------

export type MmOp = "brk1" | "brk1-vmas" | "page_fault1" | "fork" | "fork-vmas" | "munmap" | "rmap";
export type Dimension = "pages" | "vmas" | "MiB touched" | "processes";

export interface MmCase {
  op: MmOp;
  /** The size: pages, vmas, MiB or processes (dimension). */
  param: number;
  dimension: Dimension;
  /** What one operation is (the unit of "ns per op"). */
  per: string;
  /** The issue's size of this operation (its target applies here). */
  headline: boolean;
  /** Operations per timed run of mm.c: full run, --quick. */
  ops: [number, number];
}

const PER: Record<MmOp, string> = {
  brk1: "brk call", "brk1-vmas": "brk call", page_fault1: "fault", fork: "fork+exit", "fork-vmas": "fork+exit", munmap: "munmap", rmap: "walk",
};
const DIMENSION: Record<MmOp, Dimension> = {
  brk1: "pages", "brk1-vmas": "vmas", page_fault1: "pages", fork: "MiB touched", "fork-vmas": "vmas", munmap: "pages", rmap: "processes",
};
const mk = (op: MmOp, param: number, ops: [number, number], headline = false): MmCase =>
  ({ op, param, dimension: DIMENSION[op], per: PER[op], headline, ops });

export const CASES: MmCase[] = [
  mk("brk1", 1, [1 << 16, 1 << 13], true), mk("brk1", 16, [1 << 15, 1 << 12]), mk("brk1", 256, [1 << 15, 1 << 12]), mk("brk1", 4096, [1 << 14, 1 << 12]),
  mk("brk1-vmas", 64, [1 << 15, 1 << 12]), mk("brk1-vmas", 1024, [1 << 15, 1 << 12]), mk("brk1-vmas", 16384, [1 << 15, 1 << 12]),
  mk("page_fault1", 16, [1 << 16, 1 << 13]), mk("page_fault1", 256, [1 << 16, 1 << 13]), mk("page_fault1", 4096, [1 << 16, 1 << 13]),
  mk("page_fault1", 32768, [1 << 16, 1 << 15], true),
  mk("fork", 0, [64, 16]), mk("fork", 4, [32, 8]), mk("fork", 16, [16, 4]), mk("fork", 64, [8, 3], true),
  mk("fork-vmas", 64, [32, 8]), mk("fork-vmas", 1024, [8, 3]), mk("fork-vmas", 4096, [4, 2]),
  mk("munmap", 256, [32, 8]), mk("munmap", 4096, [8, 2]), mk("munmap", 65536, [1, 1]), mk("munmap", 262144, [1, 1], true),
  mk("rmap", 1, [64, 16]), mk("rmap", 4, [64, 16]), mk("rmap", 16, [64, 16]), mk("rmap", 64, [64, 16], true),
];

const caseKey = (c: Pick<MmCase, "op" | "param">) => `${c.op}:${c.param}`;

/** The size as a person reads it: "1 page", "128 MiB (32768 pages)", "64 processes". */
function sizeLabel(c: MmCase): string {
  if (c.dimension === "pages") {
    const bytes = c.param * 4096;
    const human = bytes >= 2 ** 30 ? `${bytes / 2 ** 30} GiB` : bytes >= 2 ** 20 ? `${bytes / 2 ** 20} MiB` : `${bytes / 1024} KiB`;
    return c.param === 1 ? "1 page" : `${c.param} pages (${human})`;
  }
  if (c.dimension === "MiB touched") return `${c.param} MiB touched`;
  return c.param === 1 ? `1 ${GROWTH_UNIT[c.dimension]}` : `${c.param} ${c.dimension}`;
}

// ---- the emulator's side --------------------------------------------------------------------------

/**
 * One emulator measurement: the samples in ns per operation of this case (each sample = one timed
 * call of many operations). Issue 4 asks for parallel mode on one CPU: a Machine with one worker
 * CPU, release build.
 */
export type EmulatorMeasure = (c: MmCase, p: Params) => Promise<number[]>;

/**
 * The emulator's measurements, by operation. Each case boots a fresh machine: one CPU, the release
 * core, 1.25 GiB of RAM of which 64 MiB carry contents (page tables and kernel pages; user pages are
 * metadata-only frames, whose writes cost the walk and the fault but store nothing), driven in this
 * thread through Mmu. That is the parallel-mode code path with one CPU (a worker CPU runs the same
 * release build; only the comlink round trip per call differs, and each call covers many operations).
 * The loops run inside Wasm (assembly/lib/bench_mm.ts) as system calls of an emulated process.
 */
const EMULATOR: Partial<Record<MmOp, EmulatorMeasure>> = {
  brk1: (c, p) => withProcess((m, pid) => brkSamples(m, pid, c, p)),
  "brk1-vmas": (c, p) => withProcess((m, pid) => { core(m.exports.cpu_bench_make_vmas(0, pid, c.param, 0), "make_vmas"); return brkSamples(m, pid, { ...c, param: 1 }, p); }),
  page_fault1: (c, p) => withProcess((m, pid) => {
    const iters = Math.max(1, Math.floor(opsOf(c) / c.param));
    return emulatorSamples("page_fault1", () => core(m.exports.cpu_bench_page_fault1(0, pid, c.param, iters), "page_fault1"), c.param * iters, p);
  }),
  fork: (c, p) => withProcess((m, pid) => {
    if (c.param > 0) core(m.exports.cpu_bench_touch(0, pid, c.param * 256), "touch");
    return forkSamples(m, pid, c, p);
  }),
  "fork-vmas": (c, p) => withProcess((m, pid) => { core(m.exports.cpu_bench_make_vmas(0, pid, c.param, 1), "make_vmas"); return forkSamples(m, pid, c, p); }),
  munmap: (c, p) => withProcess((m, pid) => {
    // One sample = one munmap of a freshly touched region (the touch is untimed).
    const samples: number[] = [];
    for (let i = 0; i < Math.max(p.minSamples, 3); i++) {
      const addr = BigInt(core(m.exports.cpu_bench_touch(0, pid, c.param), "touch"));
      const t0 = process.hrtime.bigint();
      core(m.exports.cpu_bench_munmap(0, pid, addr, c.param), "munmap");
      samples.push(Number(process.hrtime.bigint() - t0));
    }
    return samples;
  }),
  rmap: (c, p) => withProcess((m, pid) => {
    const addr = BigInt(core(m.exports.cpu_bench_touch(0, pid, 1), "touch"));
    if (c.param > 1) core(m.exports.cpu_bench_fork_n(0, pid, c.param - 1), "fork_n");
    const pfn = core(m.exports.cpu_bench_follow_pfn(0, pid, addr), "follow_pfn");
    const iters = opsOf(c);
    return emulatorSamples("rmap", () => core(m.exports.cpu_bench_rmap_walk(0, pfn, iters), "rmap_walk"), iters, p);
  }),
};

/** Operations per timed call: the case's mm.c count (full or --quick). */
const opsOf = (c: MmCase) => c.ops[ARGS.quick ? 1 : 0];

/** A kernel's result: its count, or an exception naming the errno (a benchmark never reports a failed run). */
function core(r: bigint | number, what: string): number {
  const n = Number(r);
  if (n < 0) throw new Error(`bench:mm: emulator ${what} failed with errno ${-n}`);
  return n;
}

/** A fresh one-CPU machine with one spawned process; fn measures on it. */
async function withProcess(fn: (m: Mmu, pid: number) => Promise<number[]> | number[]): Promise<number[]> {
  const m = Mmu.create({ cpus: 1, memory: "1280MiB", frameData: false, backedMemory: "64MiB", kernelHeap: "8MiB" });
  return fn(m, core(m.exports.cpu_spawn(0), "spawn"));
}

function brkSamples(m: Mmu, pid: number, c: MmCase, p: Params): Promise<number[]> {
  const iters = Math.max(1, Math.floor(opsOf(c) / 2));
  return emulatorSamples("brk1", () => core(m.exports.cpu_bench_brk1(0, pid, c.param, iters), "brk1"), 2 * iters, p);
}

function forkSamples(m: Mmu, pid: number, c: MmCase, p: Params): Promise<number[]> {
  const iters = opsOf(c);
  return emulatorSamples("fork", () => core(m.exports.cpu_bench_fork_exit(0, pid, iters), "fork_exit"), iters, p);
}
const EMULATOR_PENDING = "not yet measured (MM core pending)";

/** Time fn with tinybench (a GC between tasks, samples retained): ns per operation of each sample. */
export async function emulatorSamples(label: string, fn: () => unknown | Promise<unknown>, opsPerCall: number, p: Params): Promise<number[]> {
  const bench = new Bench({
    name: `emulator ${label}`, time: p.timeMs, iterations: p.minSamples, warmupTime: p.warmupMs, warmupIterations: 2,
    throws: true, retainSamples: true, setup: () => gc?.(),
  });
  bench.add(label, async () => { await fn(); });
  const done: Task[] = await bench.run();
  return taskSamplesNs(done[0]!, opsPerCall);
}

// ---- the host kernel's side -----------------------------------------------------------------------

interface NativeCaseOut { name: MmOp; param: number; ops?: number; reps?: number; ns?: number[]; skipped?: string }
interface NativeOut {
  host: { kernel: string; page_size: number; available_pages: number; thp: string; cpu: number; memory_nodes: number; euid: number; rmap_method: string; rmap_reason: string };
  cases: NativeCaseOut[];
}

function runHost(build: Extract<NativeBuild, { ok: true }>): { out: NativeOut } | { reason: string } {
  const args = [`--rmap=${RMAP_METHOD}`, String(P.reps), ...CASES.map((c) => `${c.op}:${c.param}:${c.ops[ARGS.quick ? 1 : 0]}`)];
  const r = spawnSync(build.exe, args, { encoding: "utf8", maxBuffer: 1 << 22, timeout: 900_000 });
  if (r.error || r.status !== 0) return { reason: `native mm failed (${r.error?.message ?? `exit status ${r.status}`}): ${(r.stderr ?? "").trim()}` };
  return { out: JSON.parse(r.stdout) as NativeOut };
}

// ---- the rows -------------------------------------------------------------------------------------

/** A measured column of a row, or why it has no figure. */
export type Cell = { ok: true; timing: Timing; opsPerSample: number | null } | { ok: false; reason: string };

export interface MmRow {
  c: MmCase;
  host: Cell;
  emulator: Cell;
}

const statName = (s: StatKey) => s.slice(2).toLowerCase();
const value = (cell: Cell, stat: StatKey) => (cell.ok ? cell.timing[stat] : undefined);

/**
 * How a cost grows with its size: the marginal cost per unit between the smallest and the largest
 * size of a sweep, (ns(largest) - ns(smallest)) / (largest - smallest), and the ratio of the two costs.
 */
function marginal(points: [number, number][]): number | null {
  const first = points[0], last = points[points.length - 1];
  return first && last && last[0] > first[0] ? (last[1] - first[1]) / (last[0] - first[0]) : null;
}

const GROWTH_UNIT: Record<Dimension, string> = { pages: "page", vmas: "vma", "MiB touched": "MiB", processes: "process" };
const OPS: MmOp[] = ["brk1", "brk1-vmas", "page_fault1", "fork", "fork-vmas", "munmap", "rmap"];

function growth(rows: MmRow[], column: "host" | "emulator", stat: StatKey) {
  return OPS.map((op) => {
    const pts = rows.filter((r) => r.c.op === op).flatMap((r): [number, number][] => {
      const v = value(r[column], stat);
      return v === undefined ? [] : [[r.c.param, v]];
    });
    const slope = marginal(pts);
    const first = pts[0], last = pts[pts.length - 1];
    return {
      op, dimension: DIMENSION[op], per: PER[op], sizes: pts.map((p) => p[0]),
      nsPerUnit: slope === null ? null : round(slope, 3), unit: GROWTH_UNIT[DIMENSION[op]],
      largestOverSmallest: first && last && first[1] > 0 && pts.length > 1 ? round(last[1] / first[1], 2) : null,
    };
  });
}

// ---- main -----------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const started = performance.now();
  const build: NativeBuild = ARGS.flag("--no-native") ? { ok: false, reason: "disabled by --no-native" } : buildNative({ file: "mm.c" });
  let nativeReason: string | null = build.ok ? null : build.reason;
  if (nativeReason) log(`bench:mm: the host kernel is not measured: ${nativeReason}`);
  const cpu0 = systemCpu();
  let nativeMs = 0;
  let host: NativeOut | null = null;
  try {
    if (build.ok) {
      log(`bench:mm:   host kernel (mm.c, cc -O2): ${CASES.length} cases x ${P.reps} runs`);
      const t0 = performance.now();
      const r = runHost(build);
      nativeMs = performance.now() - t0;
      if ("reason" in r) {
        nativeReason = r.reason;
        log(`bench:mm: ${nativeReason}`);
      } else host = r.out;
    }
  } finally {
    cleanNative(build);
  }
  const hostCases = new Map((host?.cases ?? []).map((c) => [caseKey({ op: c.name, param: c.param }), c]));

  const rows: MmRow[] = [];
  for (const c of CASES) {
    const h = hostCases.get(caseKey(c));
    const hostCell: Cell = h?.ns && h.ns.length > 0 ? { ok: true, timing: summariseNs(h.ns), opsPerSample: h.ops ?? null }
      : { ok: false, reason: h?.skipped ?? nativeReason ?? "not measured" };
    const measure = EMULATOR[c.op];
    let emulatorCell: Cell = { ok: false, reason: EMULATOR_PENDING };
    if (measure) {
      log(`bench:mm:   emulator ${c.op} ${sizeLabel(c)}`);
      emulatorCell = { ok: true, timing: summariseNs(await measure(c, P)), opsPerSample: null };
    }
    rows.push({ c, host: hostCell, emulator: emulatorCell });
  }
  const interference = otherCpuLoad(cpu0, systemCpu(), nativeMs);

  const STAT = ARGS.statKey;
  const other: StatKey = STAT === "nsMedian" ? "nsMin" : "nsMedian";
  const ratios = (stat: StatKey): Verdict[] => rows.filter((r) => r.c.headline).flatMap((r) => {
    const h = value(r.host, stat), e = value(r.emulator, stat);
    return h !== undefined && e !== undefined && e > 0 ? [verdict(`${r.c.op} ${sizeLabel(r.c)}`, h / e, ">=", TARGET)] : [];
  });
  const targetOf = (vs: Verdict[]) => {
    const headline = rows.filter((r) => r.c.headline).length;
    if (vs.length === 0) return { description: `host ns / emulator ns at the issue's sizes`, target: `>= ${TARGET}x`, met: null, summary: `not measured: emulator ${EMULATOR_PENDING}`, cells: [] };
    const s = summarize(vs);
    return { description: `host ns / emulator ns at the issue's sizes`, target: `>= ${TARGET}x`, ...s,
      summary: vs.length < headline ? `${s.summary}; ${headline - vs.length} of ${headline} not measured` : s.summary, cells: vs };
  };
  const primary = ratios(STAT), secondary = ratios(other);
  const totalS = (performance.now() - started) / 1000;
  const cellJson = (cell: Cell) => cell.ok
    ? { nsMin: round(cell.timing.nsMin, 1), nsMedian: round(cell.timing.nsMedian, 1), nsMean: round(cell.timing.nsMean, 1),
      rmePercent: round(cell.timing.rmePercent, 2), samples: cell.timing.samples, opsPerSample: cell.opsPerSample }
    : { notMeasured: cell.reason };
  const result = {
    schema: "mmemu-bench-mm/1",
    quick: ARGS.quick,
    machine: { ...MACHINE, interferenceWhileMeasuring: interference, hostKernel: host?.host ?? null },
    config: {
      statistic: `${statName(STAT)} of the samples (one sample = one timed run of opsPerSample operations), in ns per operation`,
      nativeRunsPerCase: P.reps,
      nativeWarmupRunsPerCase: 1,
      pages: "4 KiB (MADV_NOHUGEPAGE on every region)",
      rmapMethodRequested: RMAP_METHOD,
      emulator: { mode: "parallel, one CPU", wasmTiering: ARGS.turbofanOnly ? "TurboFan only (--no-liftoff)" : "V8 default (Liftoff, then TurboFan)",
        tinybench: { time: P.timeMs, iterations: P.minSamples, warmupTime: P.warmupMs, warmupIterations: 2, gcBetweenTasks: gc !== undefined } },
    },
    results: rows.map((r) => ({
      op: r.c.op, param: r.c.param, dimension: r.c.dimension, size: sizeLabel(r.c), per: r.c.per, headline: r.c.headline,
      host: cellJson(r.host), emulator: cellJson(r.emulator),
    })),
    growth: { host: growth(rows, "host", STAT), emulator: growth(rows, "emulator", STAT) },
    native: build.ok && host ? { compiler: build.compiler, version: build.compilerVersion, cflags: build.cflags } : null,
    nativeReason,
    targets: targetOf(primary),
    [`targetsBy${other.slice(2)}`]: targetOf(secondary),
    totalSeconds: round(totalS, 1),
  };
  writeJsonFile(ARGS.out, result);
  if (ARGS.json) {
    process.stdout.write(toJson(result) + "\n");
    return 0;
  }

  const out: string[] = [];
  out.push(`\nmmemu MM benchmark${ARGS.quick ? " (--quick)" : ""}: node ${MACHINE.node}, ${MACHINE.cpuModel} (${MACHINE.logicalCpus} CPUs), ` +
    `Linux ${host?.host.kernel ?? MACHINE.kernel}, ${MACHINE.date}`);
  out.push(`ns per operation, ${statName(STAT)} of the samples; * = the issue's size (target: host/emulator >= ${TARGET}x)\n`);
  const cellText = (cell: Cell, stat: StatKey) => (cell.ok ? fmtNs(cell.timing[stat]) : cell.reason === EMULATOR_PENDING ? `emulator: ${cell.reason}` : `(${cell.reason})`);
  out.push(table(["op", "size", "per", "host", "host median", "emulator", "host/emulator"], rows.map((r) => {
    const h = value(r.host, STAT), e = value(r.emulator, STAT);
    return [`${r.c.op}${r.c.headline ? " *" : ""}`, sizeLabel(r.c), r.c.per, r.host.ok ? fmtNs(h) : cellText(r.host, STAT),
      r.host.ok ? fmtNs(r.host.timing.nsMedian) : "-", cellText(r.emulator, STAT), h !== undefined && e ? `${(h / e).toFixed(2)}x` : "-"];
  }), 3));
  for (const column of ["host", "emulator"] as const) {
    out.push(`\nGrowth with size, ${column === "host" ? "host kernel" : "emulator"} (marginal cost between the smallest and the largest size of each sweep):\n`);
    out.push(table(["op", "per", "sizes", "marginal ns", "largest/smallest"], result.growth[column].map((g) =>
      [g.op, g.per, g.sizes.length > 0 ? `${g.sizes[0]}..${g.sizes[g.sizes.length - 1]} ${g.dimension}` : "-",
        g.nsPerUnit === null ? "-" : `${fmtNs(g.nsPerUnit)} per ${g.unit}`, g.largestOverSmallest === null ? "-" : `${g.largestOverSmallest}x`]), 3));
  }
  if (host) out.push(`\nHost: Linux ${host.host.kernel} on CPU ${host.host.cpu} (bound), THP ${host.host.thp} (regions MADV_NOHUGEPAGE), ${host.host.memory_nodes} memory node(s); ` +
    `rmap walk by ${host.host.rmap_method}: ${host.host.rmap_reason}.`);
  if (nativeReason) out.push(`\nHost column: not measured (${nativeReason}).`);
  out.push(`Target host/emulator >= ${TARGET}x (reported, not asserted), by ${statName(STAT)}: ${targetOf(primary).summary}; ` +
    `by ${statName(other)}: ${targetOf(secondary).summary}.`);
  if (interference) {
    out.push(`Other processes used ${interference.othersPercent}% of a CPU while this measured (steal ${interference.stealPercent}%)` +
      (interference.othersPercent > 10 || interference.stealPercent > 5 ? ": the figures are unreliable, the minimums least affected." : "."));
  }
  out.push(`JSON: ${ARGS.out} (${totalS.toFixed(1)} s)`);
  console.log(out.join("\n"));
  return 0;
}

main().then((code) => process.exit(code), (e: unknown) => {
  console.error("bench:mm:", e instanceof Error ? e.stack ?? e.message : e);
  process.exit(1);
});
