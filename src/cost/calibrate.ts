// `mmemu calibrate`: measure on this host what the cost model (profile.ts) prices, print each figure
// next to the shipped default, and make a profile of the measured values. Calibration is an explicit,
// separate step: the deterministic modes only ever apply a profile and never measure the host.
//
// What is measured, and how (kernels in assembly/lib/calibrate.ts, loops inside Wasm; a JS call per
// operation would cost more than most operations):
//
//   clock          a chain of dependent 64-bit multiplications (IMUL r64: 3 cycles of latency on Intel
//                  cores since Nehalem and on AMD Zen): GHz = 3 / ns per multiplication. It converts every
//                  ns below to cycles, unless --ghz gives the clock. /proc/cpuinfo's "cpu MHz" is shown
//                  beside it (on many machines the TSC's nominal rate, not the running clock).
//   load_l1        pointer chase (one node per 64-byte line, random cyclic order) over 16 KiB (half
//   load_llc       the L1d), over 8 x L2 (at least 2 MiB, at most half the LLC: mostly LLC hits), and
//   load_mem       over 8 x LLC (64..512 MiB; random 4 KiB pages, so it includes a host TLB miss per
//                  load, as lmbench's lat_mem_rd does)
//   atomic         LOCK XADD on a line only this CPU touches, back to back
//   line_transfer  compare-and-swap ping-pong between two worker CPUs: ns per turn = half a round trip
//   wakeup         wait32/notify ping-pong between two worker CPUs (a turn sleeps in a futex wait unless
//                  the other CPU was quicker): the time inside an atomic.notify that woke a sleeper, less
//                  a clock read's bracket
//   wake_latency   the same ping-pong: from the start of that notify (a time stamp in shared memory) to
//                  the woken thread running again, less wakeup and less the profile's ctx_switch (the
//                  model charges wakeup to the waker, then runs the woken CPU wake_latency later and
//                  charges it ctx_switch: so the calibrated model reproduces the measured wake-up)
//   walk_level     the emulator's full page walks (cpu_bench_translate, tlb = 0, random pages of 16 KiB of
//                  hot tables) / 4 levels. This is the Wasm walker's cost (about 2x a C walker here, see
//                  bench/README.md), not a hardware walker's
//   (tlb_hit)      information: the emulator's TLB-hit lookup (cpu_bench_translate, tlb = 1)
//
// Not measured, the default kept (and said so): spin (Wasm has no PAUSE), ipi_send and ipi_deliver (a
// user process cannot send or take an IPI), sleep and ctx_switch (Node cannot place two threads on one
// CPU, so a switch cannot be isolated from the wake-up), tick (a user process cannot time the tick),
// syscall (Wasm cannot make a system call).
//
// Statistics: each measurement runs `reps` samples after a warm-up; one-CPU figures use the minimum
// sample (each sample averages 10^4..10^7 operations, so the minimum is the cost without interference
// from other processes), two-CPU figures the median (the minimum of a cross-core or sleep/wake
// measurement is a lucky outlier more often than not). Both are kept in the result.
import { setFlagsFromString } from "node:v8";
import { cpus, platform, release } from "node:os";
import { readFileSync } from "node:fs";
import { Mmu } from "../mmu.js";
import { Machine } from "../machine.js";
import { PageTableBuilder } from "../pagetable.js";
import { PTE } from "../arch/x86.js";
import { ConfigError, MmemuError } from "../core/errors.js";
import { table } from "../report/format.js";
import { systemCpu, otherCpuLoad } from "../report/host-load.js";
import { COST_NAMES, PROFILE_SCHEMA, parseProfile, type CostName, type CostProfile, type CostConstant } from "./profile.js";
import { DEFAULT_PROFILE } from "./default-profile.js";

export type CalibrateSize = "full" | "quick" | "tiny";

export interface CalibrateOptions {
  /** full (default, ~10-20 s), quick (a few seconds), tiny (tests: every figure, none meaningful). */
  size?: CalibrateSize;
  /** Convert ns to cycles at this clock (GHz) instead of the measured one. */
  ghz?: number;
  /** The profile the measured figures are compared with and the unmeasured ones come from. */
  defaults?: CostProfile;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  /** Leave V8's Wasm tiering alone (default: compile the core with TurboFan only, as bench:walk does). */
  defaultTiering?: boolean;
}

interface Params {
  reps: number;
  mulIters: number;
  atomicIters: number;
  l1Iters: number;
  llcIters: number;
  memIters: number;
  walkIters: number;
  hitIters: number;
  casTurns: number;
  waitTurns: number;
  clockIters: number;
  /** Working set of the DRAM chase: at most this many bytes (at least 64 MiB unless tiny). */
  memBytesMax: number;
  memBytesMin: number;
}

const SIZES: Record<CalibrateSize, Params> = {
  full: {
    reps: 7, mulIters: 1 << 21, atomicIters: 1 << 20, l1Iters: 1 << 19, llcIters: 1 << 17, memIters: 1 << 15,
    walkIters: 1 << 19, hitIters: 1 << 20, casTurns: 1 << 16, waitTurns: 2000, clockIters: 1 << 16,
    memBytesMax: 512 << 20, memBytesMin: 64 << 20,
  },
  quick: {
    reps: 3, mulIters: 1 << 19, atomicIters: 1 << 18, l1Iters: 1 << 17, llcIters: 1 << 15, memIters: 1 << 13,
    walkIters: 1 << 17, hitIters: 1 << 18, casTurns: 1 << 14, waitTurns: 500, clockIters: 1 << 14,
    memBytesMax: 256 << 20, memBytesMin: 64 << 20,
  },
  tiny: {
    reps: 2, mulIters: 1 << 14, atomicIters: 1 << 13, l1Iters: 1 << 12, llcIters: 1 << 10, memIters: 1 << 9,
    walkIters: 1 << 12, hitIters: 1 << 13, casTurns: 1 << 10, waitTurns: 40, clockIters: 1 << 10,
    memBytesMax: 8 << 20, memBytesMin: 8 << 20,
  },
};

/** What calibrate measures (not all of them become a constant). */
export const MEASUREMENTS = ["clock", "load_l1", "load_llc", "load_mem", "atomic", "line_transfer", "notify", "wake",
  "wait_half_round_trip", "walk", "tlb_hit"] as const;
export type MeasurementName = (typeof MEASUREMENTS)[number];

export interface Measurement {
  what: string;
  /** ns per operation: the figure used (nsMin or nsMedian, per `statistic`). */
  ns: number;
  statistic: "min" | "median";
  nsMin: number;
  nsMedian: number;
  samples: number;
  opsPerSample: number;
  detail?: Record<string, number | string>;
}

export interface ConstantResult {
  name: CostName;
  measured: boolean;
  /** ns the constant was made from (measured only). */
  ns?: number;
  cycles: number;
  defaultCycles: number;
  /** What it was made from, or why it was not measured. */
  how: string;
}

export interface CalibrationResult {
  host: string;
  date: string;
  size: CalibrateSize;
  clock: { ghz: number; source: string; measuredGhz: number; cpuinfoMhz: number | null };
  caches: CacheSizes;
  /** CPU other processes used while this measured (percent of one CPU), or null without /proc/stat. */
  interference: { othersPercent: number; stealPercent: number } | null;
  measurements: Record<MeasurementName, Measurement>;
  constants: ConstantResult[];
  /** The calibrated profile: measured constants, the defaults' for the rest. */
  profile: CostProfile;
  warnings: string[];
  seconds: number;
}

export interface CacheSizes { l1d: number; l2: number; llc: number; source: string }

// ---- host information -------------------------------------------------------------------------

function readText(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
}

/** A one-line description of this host for provenance strings. */
export function hostDescription(): string {
  const c = cpus();
  const model = (c[0]?.model ?? "unknown CPU").trim().replace(/\s+/g, " ");
  const vm = /\bhypervisor\b/.test(readText("/proc/cpuinfo") ?? "") ? ", virtual machine" : "";
  return `${model} (${c.length} CPUs${vm}), ${platform()} ${release()}, Node ${process.version}`;
}

function cpuinfoMhz(): number | null {
  const m = /^cpu MHz\s*:\s*([\d.]+)/m.exec(readText("/proc/cpuinfo") ?? "");
  return m ? Number(m[1]) : null;
}

function parseCacheSize(s: string): number {
  const m = /^(\d+)([KMG]?)/.exec(s.trim());
  if (!m) return 0;
  return Number(m[1]) * ({ "": 1, K: 1024, M: 1 << 20, G: 1 << 30 } as Record<string, number>)[m[2]!]!;
}

/** L1d, L2 and last-level cache sizes of CPU 0 from sysfs, or typical values where sysfs says nothing. */
export function cacheSizes(): CacheSizes {
  const s: CacheSizes = { l1d: 32 << 10, l2: 1 << 20, llc: 8 << 20, source: "assumed (no /sys/devices/system/cpu/cpu0/cache)" };
  let found = false;
  for (let i = 0; i < 8; i++) {
    const dir = `/sys/devices/system/cpu/cpu0/cache/index${i}`;
    const level = Number(readText(`${dir}/level`));
    const type = readText(`${dir}/type`)?.trim();
    const size = parseCacheSize(readText(`${dir}/size`) ?? "");
    if (!level || !type || !size) continue;
    found = true;
    if (level === 1 && type === "Data") s.l1d = size;
    else if (level === 2 && type !== "Instruction") s.l2 = size;
    else if (level >= 3 && type !== "Instruction") s.llc = size;
  }
  if (found) s.source = "sysfs (/sys/devices/system/cpu/cpu0/cache)";
  if (s.llc <= s.l2) s.llc = s.l2 * 2;
  return s;
}

// ---- statistics -------------------------------------------------------------------------------

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

function measurement(what: string, statistic: "min" | "median", samples: number[], opsPerSample: number, detail?: Measurement["detail"]): Measurement {
  const nsMin = Math.min(...samples), nsMedian = median(samples);
  const m: Measurement = { what, ns: statistic === "min" ? nsMin : nsMedian, statistic, nsMin, nsMedian, samples: samples.length, opsPerSample };
  if (detail) m.detail = detail;
  return m;
}

/** reps samples of ns per operation of a synchronous kernel call, after one warm-up call. */
function sampleSync(reps: number, ops: number, call: () => number | bigint): number[] {
  call();
  const out: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    const v = call();
    const t1 = performance.now();
    if (typeof v === "bigint" ? v < 0n : v < 0) throw new MmemuError(`a calibration kernel failed (${v})`);
    out.push(((t1 - t0) * 1e6) / ops);
  }
  return out;
}

function xorshift(seed: number): () => number {
  let x = seed | 1;
  return () => {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    return x >>> 0;
  };
}

// ---- the single-CPU measurements (the host thread's Mmu) ----------------------------------------

/** An odd 64-bit multiplier that is not a sum of few powers of two (no shift-and-add shortcut). */
const MUL_K = 0x9e37_79b9_7f4a_7c15n;
const HOT_BASE = 0x0000_7f12_3440_0000n;
const HOT_PAGES = 512;
const TLB_HIT_PAGES = 32;

/** A random cyclic pointer chase through every 64-byte line of `bytes` of fresh frames; returns its start. */
function buildChase(mmu: Mmu, bytes: number, seed: number): number {
  const frames = Math.max(1, Math.ceil(bytes / 4096));
  const pfns = new Float64Array(frames);
  for (let i = 0; i < frames; i++) pfns[i] = mmu.allocFrame({ zero: false });
  const n = frames * 64;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const rnd = xorshift(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = rnd() % (i + 1);
    const t = order[i]!; order[i] = order[j]!; order[j] = t;
  }
  const base = mmu.layout.framesBase;
  const addr = (k: number) => base + pfns[k >>> 6]! * 4096 + (k & 63) * 64;
  const u32 = new Uint32Array(mmu.memory.buffer);
  for (let i = 0; i < n; i++) u32[addr(order[i]!) >>> 2] = addr(order[(i + 1) % n]!);
  return addr(order[0]!);
}

function singleCpu(P: Params, caches: CacheSizes, log: (s: string) => void) {
  const l1Bytes = Math.min(16 << 10, caches.l1d / 2);
  const llcBytes = Math.min(Math.max(8 * caches.l2, 2 << 20), caches.llc / 2);
  const memBytes = Math.min(Math.max(8 * caches.llc, P.memBytesMin), P.memBytesMax);
  const total = l1Bytes + llcBytes + memBytes + 2 * HOT_PAGES * 4096 + (16 << 20);
  const memory = Math.ceil(total / (1 << 20)) * (1 << 20);
  log(`calibrate: machine of ${memory >> 20} MiB for the loads (${l1Bytes >> 10} KiB, ${llcBytes >> 10} KiB, ${memBytes >> 20} MiB) and walks`);
  const mmu = Mmu.create({ cpus: 1, memory });
  const call = mmu.call.bind(mmu);

  // The clock is sampled at the start and again after every other measurement, and the fastest sample
  // counts: a stretch of interference (another process on this CPU or on its SMT sibling) then has to
  // last the whole calibration to distort it.
  log("calibrate: clock (dependent multiplications)");
  const mulOnce = () => call("cpu_calib_mul_chain", 0, 3n, MUL_K, P.mulIters);
  const mul = sampleSync(P.reps, P.mulIters * 8, mulOnce);
  const clockAgain = () => mul.push(...sampleSync(1, P.mulIters * 8, mulOnce));

  log("calibrate: uncontended atomic");
  const word = mmu.layout.framesBase + mmu.allocFrame() * 4096;
  const atomic = sampleSync(P.reps, P.atomicIters * 4, () => call("cpu_calib_atomic_rmw", 0, word, P.atomicIters));
  clockAgain();

  log("calibrate: loads (pointer chases)");
  const chase = (bytes: number, iters: number, seed: number) => {
    const start = buildChase(mmu, bytes, seed);
    const ns = sampleSync(P.reps, iters * 8, () => call("cpu_calib_chase", 0, start, iters));
    clockAgain();
    return ns;
  };
  const l1 = chase(l1Bytes, P.l1Iters, 0x1234567);
  const llc = chase(llcBytes, P.llcIters, 0x2345678);
  const mem = chase(memBytes, P.memIters, 0x3456789);

  log("calibrate: page walks and TLB hits");
  const pt = new PageTableBuilder(mmu);
  pt.mapFresh(HOT_BASE, HOT_PAGES, PTE.RW | PTE.NX);
  mmu.setCr3(0, pt.root);
  // Set every A bit first, so that the measured walks are the steady state (no compare-and-swap).
  const primed = call("cpu_bench_translate", 0, HOT_BASE, HOT_PAGES, HOT_PAGES, 1, 2, 0);
  if (BigInt(primed) < 0n) throw new MmemuError(`calibrate: the walk kernel faulted (${primed})`);
  const walk = sampleSync(P.reps, P.walkIters, () => call("cpu_bench_translate", 0, HOT_BASE, HOT_PAGES, P.walkIters, 0x2545f491, 0, 0));
  const hit = sampleSync(P.reps, P.hitIters, () => call("cpu_bench_translate", 0, HOT_BASE, TLB_HIT_PAGES, P.hitIters, 0x2545f491, 0, 1));
  clockAgain();

  log("calibrate: clock reads");
  const clock = sampleSync(P.reps, P.clockIters, () => call("cpu_calib_clock", 0, P.clockIters));

  return { mul, atomic, l1, llc, mem, walk, hit, clock, sets: { l1Bytes, llcBytes, memBytes } };
}

// ---- the two-CPU measurements (worker CPUs) -----------------------------------------------------

async function twoCpus(P: Params, log: (s: string) => void) {
  const m = await Machine.create({ cpus: 2, memory: "4MiB", kernelHeap: "256KiB", callTimeoutMs: 120_000 });
  try {
    const page = m.mmu.layout.framesBase + m.mmu.allocFrame() * 4096;
    const word = page; // the ping-pong line
    const out = [page + 1024, page + 2048]; // each CPU's results, on lines of their own
    const i32 = () => new Int32Array(m.mmu.memory.buffer);
    const u64 = () => new BigInt64Array(m.mmu.memory.buffer);

    const run = async (fn: "cpu_calib_cas_pingpong" | "cpu_calib_wait_pingpong", turns: number) => {
      Atomics.store(i32(), word >>> 2, 0);
      const args = (parity: number) => fn === "cpu_calib_cas_pingpong" ? [word, parity, turns] : [word, parity, turns, out[parity]!];
      const r = await m.run([{ cpu: 0, fn, args: args(0) }, { cpu: 1, fn, args: args(1) }]);
      const ns = r.map((x) => Number(x));
      if (ns.some((x) => x < 0)) throw new MmemuError(`calibrate: ${fn} failed (${ns.join(", ")})`);
      return Math.max(...ns);
    };

    log("calibrate: cache-line transfers (CAS ping-pong between two worker CPUs)");
    await run("cpu_calib_cas_pingpong", Math.max(16, P.casTurns >> 3)); // warm-up
    const cas: number[] = [];
    for (let r = 0; r < P.reps; r++) cas.push((await run("cpu_calib_cas_pingpong", P.casTurns)) / (2 * P.casTurns));

    log("calibrate: sleep and wake-up (wait32/notify ping-pong between two worker CPUs)");
    await run("cpu_calib_wait_pingpong", Math.max(8, P.waitTurns >> 3)); // warm-up
    const half: number[] = [], notify: number[] = [], latency: number[] = [];
    let slept = 0;
    for (let r = 0; r < P.reps; r++) {
      half.push((await run("cpu_calib_wait_pingpong", P.waitTurns)) / (2 * P.waitTurns));
      const v = u64();
      const at = (cpu: number, i: number) => Number(v[(out[cpu]! >>> 3) + i]!);
      const woke = at(0, 1) + at(1, 1), sleeps = at(0, 3) + at(1, 3);
      slept += sleeps;
      if (woke > 0) notify.push((at(0, 0) + at(1, 0)) / woke);
      if (sleeps > 0) latency.push((at(0, 2) + at(1, 2)) / sleeps);
    }
    if (notify.length === 0 || latency.length === 0) {
      throw new MmemuError("calibrate: no turn of the wait/notify ping-pong slept; the wake-up cannot be measured");
    }
    return { cas, half, notify, latency, sleptFraction: slept / (P.reps * 2 * P.waitTurns) };
  } finally {
    await m.destroy();
  }
}

// ---- calibrate ----------------------------------------------------------------------------------

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Measure this host and derive a profile (see the header comment). */
export async function calibrate(opts: CalibrateOptions = {}): Promise<CalibrationResult> {
  const size = opts.size ?? "full";
  const P = SIZES[size];
  if (!P) throw new ConfigError(`calibrate: size "${String(size)}" is not full, quick or tiny`);
  if (opts.ghz !== undefined && (!Number.isFinite(opts.ghz) || opts.ghz <= 0 || opts.ghz > 100)) {
    throw new ConfigError(`calibrate: ghz: ${String(opts.ghz)} is not a clock in GHz (a number in (0, 100])`);
  }
  const defaults = parseProfile(opts.defaults ?? DEFAULT_PROFILE, "calibrate: defaults");
  const log = opts.log ?? (() => undefined);
  // A kernel call of millions of operations that starts in Liftoff code stays in it to the end: compile
  // the core with TurboFan from the start (before the first instance of this process compiles it).
  if (!opts.defaultTiering) setFlagsFromString("--no-liftoff");
  const started = performance.now();
  const host = hostDescription();
  const date = new Date().toISOString();
  const caches = cacheSizes();
  const warnings: string[] = [];

  const cpu0 = systemCpu();
  const one = singleCpu(P, caches, log);
  const two = await twoCpus(P, log);
  const interference = otherCpuLoad(cpu0, systemCpu(), 0);
  if (interference && (interference.othersPercent > 10 || interference.stealPercent > 5)) {
    warnings.push(`other processes used ${interference.othersPercent}% of a CPU while this measured (steal ${interference.stealPercent}%): ` +
      "the two-CPU figures (line_transfer, wakeup, wake_latency) are unreliable; calibrate on a quiet machine");
  }

  const clockBracket = Math.min(...one.clock);
  const mulNs = Math.min(...one.mul);
  const measuredGhz = 3 / mulNs;
  const mhz = cpuinfoMhz();
  if (measuredGhz < 0.5 || measuredGhz > 7) warnings.push(`the measured clock, ${measuredGhz.toFixed(2)} GHz, is implausible; give one with --ghz`);
  // No x86 core since the Pentium 4 returns an L1 hit in under 4 cycles: fewer means the clock samples
  // were all slowed down (or the chase ran faster than a load, which it cannot).
  if (Math.min(...one.l1) * measuredGhz < 3.5) {
    warnings.push(`an L1 load measured ${(Math.min(...one.l1) * measuredGhz).toFixed(1)} cycles at the measured clock (at least 4 on any ` +
      "current x86 core): the clock was probably measured while another thread shared the core; give one with --ghz");
  }
  const ghz = opts.ghz ?? round(measuredGhz, 3);
  const ghzSource = opts.ghz !== undefined
    ? `given: --ghz ${opts.ghz} (measured here: ${measuredGhz.toFixed(3)} GHz) on ${host}`
    : `measured: dependent 64-bit multiplications (IMUL r64, 3 cycles of latency), ${mulNs.toFixed(3)} ns each, on ${host}, ${date}`;

  const M: Record<MeasurementName, Measurement> = {
    clock: measurement("one dependent 64-bit multiplication (3 cycles)", "min", one.mul, P.mulIters * 8, { ghz: round(measuredGhz, 3) }),
    load_l1: measurement(`pointer chase over ${one.sets.l1Bytes >> 10} KiB (L1d ${caches.l1d >> 10} KiB): ns per load`, "min", one.l1, P.l1Iters * 8),
    load_llc: measurement(`pointer chase over ${one.sets.llcBytes >> 10} KiB (L2 ${caches.l2 >> 10} KiB, LLC ${caches.llc >> 20} MiB): ns per load`,
      "min", one.llc, P.llcIters * 8),
    load_mem: measurement(`pointer chase over ${one.sets.memBytes >> 20} MiB, random 4 KiB pages (host TLB misses included): ns per load`,
      "min", one.mem, P.memIters * 8),
    atomic: measurement("uncontended LOCK XADD (Wasm atomic.add) on a line only this CPU touches", "min", one.atomic, P.atomicIters * 4),
    line_transfer: measurement("compare-and-swap ping-pong between two worker CPUs: ns per turn (half a round trip)", "median", two.cas, P.casTurns * 2,
      { roundTripNs: round(median(two.cas) * 2, 1) }),
    notify: measurement("an atomic.notify that woke the sleeping worker (a futex wake), less a clock bracket", "median",
      two.notify.map((x) => Math.max(0, x - clockBracket)), P.waitTurns * 2, { clockBracketNs: round(clockBracket, 1) }),
    wake: measurement("from the start of that notify to the woken worker running again (wait32 returned), less a clock bracket",
      "median", two.latency.map((x) => Math.max(0, x - clockBracket)), P.waitTurns * 2),
    wait_half_round_trip: measurement("wait32/notify ping-pong between two worker CPUs: ns per turn (half a round trip)", "median", two.half,
      P.waitTurns * 2, { roundTripNs: round(median(two.half) * 2, 1), sleptFraction: round(two.sleptFraction, 3) }),
    walk: measurement(`emulator full walks (cpu_bench_translate, tlb = 0) over ${HOT_PAGES} random pages of 16 KiB of hot tables: ns per walk`,
      "min", one.walk, P.walkIters),
    tlb_hit: measurement(`emulator TLB hits (cpu_bench_translate, tlb = 1) over ${TLB_HIT_PAGES} pages: ns per translation`, "min", one.hit, P.hitIters),
  };
  if (two.sleptFraction < 0.25) {
    warnings.push(`only ${(two.sleptFraction * 100).toFixed(0)}% of the wait/notify turns slept: the wake-up figures rest on few samples`);
  }
  if (M.load_llc.ns <= M.load_l1.ns || M.load_mem.ns <= M.load_llc.ns) {
    warnings.push(`the load latencies are not ordered L1 < LLC < DRAM (${M.load_l1.ns.toFixed(2)}, ${M.load_llc.ns.toFixed(2)}, ` +
      `${M.load_mem.ns.toFixed(2)} ns)${size === "tiny" ? ": expected at the tiny size" : ""}`);
  }

  const on = `on ${host}, ${date}`;
  const cyc = (ns: number) => Math.max(1, Math.round(ns * ghz));
  const ctxSwitchNs = defaults.costs.ctx_switch.cycles / ghz;
  const wakeLatencyNs = M.wake.ns - M.notify.ns - ctxSwitchNs;
  if (wakeLatencyNs <= 0) warnings.push("the measured wake-up is shorter than wakeup + ctx_switch: wake_latency set to 1 cycle");
  const measuredFrom: Partial<Record<CostName, { ns: number; how: string }>> = {
    load_l1: { ns: M.load_l1.ns, how: `Wasm ${M.load_l1.what}` },
    load_llc: { ns: M.load_llc.ns, how: `Wasm ${M.load_llc.what}` },
    load_mem: { ns: M.load_mem.ns, how: `Wasm ${M.load_mem.what}` },
    atomic: { ns: M.atomic.ns, how: M.atomic.what },
    line_transfer: { ns: M.line_transfer.ns, how: `${M.line_transfer.what}, median of ${P.reps} runs of ${P.casTurns} turns per CPU` },
    wakeup: { ns: M.notify.ns, how: `${M.notify.what}, median of ${P.reps} runs of ${P.waitTurns} turns per CPU` },
    wake_latency: {
      ns: Math.max(0, wakeLatencyNs),
      how: `wait32/notify ping-pong between two worker CPUs: notify to woken thread running (${M.wake.ns.toFixed(0)} ns, median of ` +
        `${P.reps} runs) less wakeup (${M.notify.ns.toFixed(0)} ns) and ctx_switch (${defaults.costs.ctx_switch.cycles} cycles = ` +
        `${ctxSwitchNs.toFixed(0)} ns)`,
    },
    walk_level: { ns: M.walk.ns / 4, how: `${M.walk.what} (${M.walk.ns.toFixed(2)} ns) / 4 levels: the Wasm walker's cost, not a hardware walker's` },
  };
  const notMeasured: Partial<Record<CostName, string>> = {
    spin: "not measured: Wasm has no PAUSE, so a Wasm spin iteration is not a kernel's",
    ipi_send: "not measured: a user process cannot send an IPI",
    ipi_deliver: "not measured: a user process cannot take an IPI",
    sleep: "not measured: Node cannot put two threads on one CPU, so a context switch cannot be isolated from the wake-up",
    ctx_switch: "not measured: Node cannot put two threads on one CPU, so a context switch cannot be isolated from the wake-up",
    tick: "not measured: a user process cannot time the scheduler tick",
    syscall: "not measured: Wasm cannot make a system call",
  };

  const constants: ConstantResult[] = [];
  const costs = {} as Record<CostName, CostConstant>;
  for (const name of COST_NAMES) {
    const d = defaults.costs[name];
    const f = measuredFrom[name];
    if (f) {
      const cycles = cyc(f.ns);
      constants.push({ name, measured: true, ns: round(f.ns, 3), cycles, defaultCycles: d.cycles, how: f.how });
      costs[name] = { cycles, source: `measured: ${f.how}: ${f.ns.toFixed(2)} ns x ${ghz} GHz ${on}` };
    } else {
      constants.push({ name, measured: false, cycles: d.cycles, defaultCycles: d.cycles, how: notMeasured[name] ?? "not measured" });
      costs[name] = { ...d };
    }
  }
  const profile = parseProfile({
    schema: PROFILE_SCHEMA,
    description: `calibrated by mmemu calibrate (${size}) ${on}; constants not measurable from Wasm keep the defaults' values and sources`,
    ghz, ghzSource, costs,
    calibration: {
      host, date, size, measuredGhz: round(measuredGhz, 3), cpuinfoMhz: mhz, interference,
      measurements: Object.fromEntries(Object.entries(M).map(([k, v]) => [k, { ns: round(v.ns, 3), statistic: v.statistic, what: v.what }])),
    },
  }, "calibrate: the calibrated profile");

  return {
    host, date, size,
    clock: { ghz, source: ghzSource, measuredGhz: round(measuredGhz, 3), cpuinfoMhz: mhz },
    caches, interference, measurements: M, constants, profile, warnings,
    seconds: round((performance.now() - started) / 1000, 1),
  };
}

// ---- the report ---------------------------------------------------------------------------------

function fmt(ns: number | undefined): string {
  if (ns === undefined || !Number.isFinite(ns)) return "-";
  return ns >= 1000 ? ns.toFixed(0) : ns >= 10 ? ns.toFixed(1) : ns.toFixed(2);
}

/** The readable report: every constant's measured value next to the default, then the raw figures. */
export function formatCalibration(r: CalibrationResult): string {
  const out: string[] = [];
  out.push(`mmemu calibrate (${r.size}) on ${r.host}`);
  out.push(`clock: ${r.clock.ghz} GHz ${r.clock.source.startsWith("given") ? "given (--ghz)" : "measured"} ` +
    `(dependent multiplications: ${r.clock.measuredGhz} GHz; /proc/cpuinfo: ${r.clock.cpuinfoMhz ?? "-"} MHz); ` +
    `caches: L1d ${r.caches.l1d >> 10} KiB, L2 ${r.caches.l2 >> 10} KiB, LLC ${r.caches.llc >> 20} MiB (${r.caches.source})\n`);
  out.push(table(["cost", "measured ns", "cycles", "default", "measured/default", "from"], r.constants.map((c) => [
    c.name,
    c.measured ? fmt(c.ns) : "-",
    c.measured ? String(c.cycles) : "-",
    String(c.defaultCycles),
    c.measured ? `${(c.cycles / Math.max(1, c.defaultCycles)).toFixed(2)}x` : "-",
    c.how,
  ])));
  out.push("\nraw figures (ns per operation; min and median of the samples):");
  out.push(table(["measurement", "used", "min", "median", "samples x ops", "what"], MEASUREMENTS.map((k) => {
    const m = r.measurements[k];
    return [k, `${fmt(m.ns)} (${m.statistic})`, fmt(m.nsMin), fmt(m.nsMedian), `${m.samples} x ${m.opsPerSample}`, m.what];
  })));
  const hit = r.measurements.tlb_hit.ns, l1 = r.measurements.load_l1.ns;
  out.push(`\nThe emulator's TLB-hit lookup costs ${fmt(hit)} ns (${Math.round(hit * r.clock.ghz)} cycles), ${(hit / l1).toFixed(1)}x an L1 load: ` +
    "the model charges load_l1 for a TLB hit, a hardware TLB hit's cost.");
  if (r.interference && !r.warnings.some((w) => w.startsWith("other processes"))) {
    out.push(`Other processes used ${r.interference.othersPercent}% of a CPU while this measured (steal ${r.interference.stealPercent}%).`);
  }
  for (const w of r.warnings) out.push(`warning: ${w}`);
  out.push(`(${r.seconds} s)`);
  return out.join("\n");
}
