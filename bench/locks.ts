// The lock benchmark (`npm run bench:locks`): what the Wasm core's locks cost, side by side with the
// same algorithms written in C (bench/native/locks.c), in one run:
//
//   uncontended  lock+unlock of a lock no other CPU touches, for each lock type (and mode: an rwsem
//                for write and for read): cpu_bench_lock_uncontended(cpu 0, lock, mode, iters), a loop
//                inside Wasm, on the host thread's Mmu (one machine per lock type, release build);
//                ns per lock+unlock pair
//   handoff      two worker CPUs take turns (cpu_bench_lock_pingpong: wait for my parity of a turn
//                counter, lock, advance the turn, unlock), started together behind Machine.run's
//                barrier; every acquisition follows the other CPU's release. ns per handoff =
//                (host time of the run - host time of an empty run) / (2 x turns per CPU): the empty
//                run (0 turns) measures the RPC and the barrier, which the subtraction removes
//
// Each lock type is the class torture_a's, set by the machine option locks: { torture_a: spec }.
// The C side: the same lock algorithms and atomic instructions (locks.c's header lists them), the
// same two measurements with clock_gettime, compiled with `cc -O2 -pthread` when a compiler exists
// (the benchmark says so when it does not), plus glibc's pthread mutex and rwlock for reference.
// Ratios Wasm ns / C ns are printed for every case, with a verdict against the target (<= 1.5x, the
// Wasm-versus-native target of bench:walk): reported, never asserted.
//
// Timing: tinybench (v6) for everything driven from JavaScript, one kernel call (or one Machine.run)
// per sample; the statistic of the table is the minimum sample by default (--stat=median|mean),
// for the reasons bench/README.md gives; medians and means are in the JSON. The Wasm core is compiled
// by TurboFan from the start (--no-liftoff, as bench:walk), unless --default-tiering.
//
// Options: --quick, --json (only JSON on stdout), --no-native, --default-tiering,
// --stat=min|median|mean, --out=PATH (default bench/results/locks.json).
import { Bench, type Task } from "tinybench";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { Mmu } from "../src/mmu.js";
import { Machine } from "../src/machine.js";
import { LOCK_SPECS, type LockSpec } from "../src/locking/lock-config.js";
import { kobj, newLock, MODE_READ, MODE_WRITE } from "../src/locking/lock-objects.js";
import { buildNative, cleanNative, repoRoot, type NativeBuild } from "./native/build.js";
import {
  machineInfo, taskSamplesNs, summariseNs, verdict, summarize, table, fmtNs, round, toJson, writeJsonFile, systemCpu, otherCpuLoad,
  type Timing, type Verdict,
} from "./lib/report.js";
import { parseBenchArgs, applyWasmTiering, type StatKey } from "./lib/args.js";

const FULL = { uncontendedIters: 1 << 20, handoffTurns: 1 << 14, timeMs: 400, warmupMs: 100, minSamples: 5, handoffSamples: 7, nativeReps: 7 };
const QUICK = { uncontendedIters: 1 << 17, handoffTurns: 1 << 11, timeMs: 100, warmupMs: 30, minSamples: 3, handoffSamples: 3, nativeReps: 3 };
type Params = typeof FULL;
const TARGET = 1.5; // Wasm ns / C ns, as bench:walk's Wasm-versus-native target

/** The lock types benchmarked: every spec but "broken". */
const SPECS = LOCK_SPECS.filter((s) => s !== "broken") as Exclude<LockSpec, "broken">[];
const isRwsem = (s: LockSpec) => s.startsWith("rwsem");
/** The C lock of locks.c that implements a spec in a mode. */
function nativeLock(spec: LockSpec, mode: number): string {
  if (isRwsem(spec)) return mode === MODE_READ ? "rwsem-read" : "rwsem-write";
  return spec; // ticket, tas, mutex, mutex-spin
}
const NATIVE_REFERENCES = ["pthread-mutex", "pthread-rwlock-write", "pthread-rwlock-read"];

type Kind = "uncontended" | "handoff";
interface Case { kind: Kind; spec: LockSpec; mode: number; label: string; native: string }

const CASES: Case[] = [
  ...SPECS.flatMap((spec) => (isRwsem(spec) ? [MODE_WRITE, MODE_READ] : [MODE_WRITE]).map((mode) => ({
    kind: "uncontended" as const, spec, mode, label: isRwsem(spec) ? `${spec} (${mode === MODE_READ ? "read" : "write"})` : spec,
    native: nativeLock(spec, mode),
  }))),
  // bench_lock_pingpong takes the lock for write.
  ...SPECS.map((spec) => ({ kind: "handoff" as const, spec, mode: MODE_WRITE, label: isRwsem(spec) ? `${spec} (write)` : spec, native: nativeLock(spec, MODE_WRITE) })),
];

// ---- command line -----------------------------------------------------------------------------

const ARGS = parseBenchArgs({
  name: "bench:locks", script: "dist/bench/locks.js", defaultOut: join(repoRoot(), "bench", "results", "locks.json"),
  flags: ["--no-native"], options: { stat: "min|median|mean" },
});
const flag = ARGS.flag;
const QUICK_RUN = ARGS.quick;
const JSON_ONLY = ARGS.json;
const P: Params = QUICK_RUN ? QUICK : FULL;
const OUT = ARGS.out;
type Stat = StatKey;
const STAT: Stat = ARGS.statKey;
const log = ARGS.log;
const gc = (globalThis as { gc?: () => void }).gc;
const TURBOFAN_ONLY = ARGS.turbofanOnly;
applyWasmTiering(ARGS); // before the first Mmu compiles the core
const MACHINE = machineInfo();

/** A tinybench group; with exactly = n, n samples and no time budget (a handoff run can take long). */
function newBench(name: string, exactly?: number): Bench {
  return new Bench({
    name, time: exactly === undefined ? P.timeMs : 0, iterations: exactly ?? P.minSamples,
    warmupTime: exactly === undefined ? P.warmupMs : 0, warmupIterations: exactly === undefined ? 2 : 1, throws: true,
    retainSamples: true, setup: () => gc?.(),
  });
}

const key = (c: Pick<Case, "kind" | "label">, impl: "wasm" | "c") => `${c.kind}|${c.label}|${impl}`;
const samples = new Map<string, number[]>();
const extra = new Map<string, Record<string, number>>();

// ---- Wasm: uncontended ------------------------------------------------------------------------

async function wasmUncontended(): Promise<void> {
  const iters = P.uncontendedIters;
  const bench = newBench("Wasm uncontended");
  const cases = CASES.filter((c) => c.kind === "uncontended");
  for (const c of cases) {
    const mmu = Mmu.create({ cpus: 1, memory: "1MiB", locks: { torture_a: c.spec } });
    const lock = newLock(mmu, "torture_a");
    bench.add(c.label, () => {
      const r = mmu.call("cpu_bench_lock_uncontended", 0, lock, c.mode, iters);
      if (r !== 0) throw new Error(`cpu_bench_lock_uncontended(${c.label}) = ${r}`);
    });
  }
  log(`bench:locks:   Wasm uncontended (${cases.length} lock types, ${iters} pairs per call)`);
  const done: Task[] = await bench.run();
  for (const c of cases) samples.set(key(c, "wasm"), taskSamplesNs(done.find((t) => t.name === c.label)!, iters));
}

// ---- Wasm: handoff between two worker CPUs --------------------------------------------------------

async function wasmHandoff(c: Case): Promise<void> {
  const turns = P.handoffTurns;
  const m = await Machine.create({ cpus: 2, memory: "4MiB", kernelHeap: "1MiB", locks: { torture_a: c.spec }, callTimeoutMs: 120_000 });
  try {
    const lock = newLock(m.mmu, "torture_a");
    const turn = kobj(m.mmu); // a cache line of its own
    const u32 = () => new Uint32Array(m.mmu.memory.buffer);
    const run = async (n: number) => {
      Atomics.store(u32(), turn >>> 2, 0);
      await m.run([
        { cpu: 0, fn: "cpu_bench_lock_pingpong", args: [lock, turn, 0, n] },
        { cpu: 1, fn: "cpu_bench_lock_pingpong", args: [lock, turn, 1, n] },
      ]);
      const t = Atomics.load(u32(), turn >>> 2);
      if (t !== 2 * n) throw new Error(`handoff ${c.label}: the turn counter ended at ${t}, not ${2 * n}`);
    };
    // The empty run first: what Machine.run's RPC and barrier cost, subtracted from every sample.
    const bench = newBench(`Wasm handoff ${c.label}`, P.handoffSamples);
    // Async functions, so that tinybench knows without a trial call (which would overlap a sample).
    bench.add("empty", async () => { await run(0); });
    bench.add("turns", async () => { await run(turns); });
    const before = m.mmu.lockStats().find((s) => s.class === "torture_a");
    const done: Task[] = await bench.run();
    const after = m.mmu.lockStats().find((s) => s.class === "torture_a");
    const emptyMs = summariseNs(taskSamplesNs(done.find((t) => t.name === "empty")!, 1)).nsMedian / 1e6;
    const perRun = taskSamplesNs(done.find((t) => t.name === "turns")!, 1); // ns per run
    samples.set(key(c, "wasm"), perRun.map((ns) => Math.max(0, ns - emptyMs * 1e6) / (2 * turns)));
    const acq = (s: typeof after) => (s ? s.acquisitions.write + s.acquisitions.read : 0);
    const n = Math.max(1, acq(after) - acq(before));
    extra.set(key(c, "wasm"), {
      emptyRunMs: round(emptyMs, 3),
      sleepsPerAcquisition: round(((after?.sleeps ?? 0) - (before?.sleeps ?? 0)) / n, 4),
      contendedPerAcquisition: round(((after?.contentions ?? 0) - (before?.contentions ?? 0)) / n, 4),
    });
  } finally {
    await m.destroy();
  }
}

// ---- C ------------------------------------------------------------------------------------------

interface NativeOut { cases: { name: string; ops: number; reps: number; ns: number[]; ns_min: number; ns_median: number; ns_mean: number; sleeps: number }[] }

function runNative(build: Extract<NativeBuild, { ok: true }>): string | null {
  const names = [...new Set(CASES.map((c) => `${c.kind}:${c.native}`)),
    ...NATIVE_REFERENCES.map((r) => `uncontended:${r}`), "handoff:pthread-mutex"];
  const r = spawnSync(build.exe, [String(P.nativeReps), String(P.uncontendedIters), String(P.handoffTurns), ...names],
    { encoding: "utf8", maxBuffer: 1 << 20, timeout: 600_000 });
  if (r.error || r.status !== 0) return `native locks failed (${r.error?.message ?? `exit status ${r.status}`}): ${(r.stderr ?? "").trim()}`;
  const out = JSON.parse(r.stdout) as NativeOut;
  for (const nc of out.cases) {
    const [kind, lock] = nc.name.split(":") as [Kind, string];
    const reps = nc.ns.length;
    // Every Wasm case that this C lock stands for.
    const matching = CASES.filter((c) => c.kind === kind && c.native === lock);
    const label = matching.length > 0 ? null : lock; // a reference with no Wasm counterpart
    for (const c of matching) {
      samples.set(key(c, "c"), nc.ns);
      extra.set(key(c, "c"), { sleepsPerAcquisition: round(nc.sleeps / (reps * nc.ops), 4) });
    }
    if (label) {
      samples.set(`${kind}|${label}|c`, nc.ns);
      extra.set(`${kind}|${label}|c`, { sleepsPerAcquisition: round(nc.sleeps / (reps * nc.ops), 4) });
    }
  }
  return null;
}

// ---- main -----------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const started = performance.now();
  const build: NativeBuild = flag("--no-native") ? { ok: false, reason: "disabled by --no-native" } : buildNative({ file: "locks.c", libs: ["-pthread"] });
  let nativeReason: string | null = build.ok ? null : build.reason;
  if (nativeReason) log(`bench:locks: the C locks are not measured: ${nativeReason}`);
  const cpu0 = systemCpu();
  let nativeMs = 0;
  try {
    if (build.ok) {
      log("bench:locks:   C locks (cc -O2 -pthread)");
      const t0 = performance.now();
      nativeReason = runNative(build);
      nativeMs = performance.now() - t0;
      if (nativeReason) log(`bench:locks: ${nativeReason}`);
    }
    await wasmUncontended();
    for (const c of CASES.filter((x) => x.kind === "handoff")) {
      log(`bench:locks:   Wasm handoff ${c.label} (two worker CPUs, ${P.handoffTurns} turns each per run)`);
      await wasmHandoff(c);
    }
  } finally {
    cleanNative(build);
  }
  const interference = otherCpuLoad(cpu0, systemCpu(), nativeMs);
  const timing = new Map<string, Timing>([...samples].map(([k, v]) => [k, summariseNs(v)]));

  const ratios = (stat: Stat): Verdict[] => CASES.flatMap((c) => {
    const w = timing.get(key(c, "wasm"))?.[stat], n = timing.get(key(c, "c"))?.[stat];
    return w !== undefined && n !== undefined && n > 0 ? [verdict(`${c.kind} ${c.label}`, w / n, "<=", TARGET)] : [];
  });
  const primary = ratios(STAT);
  const other: Stat = STAT === "nsMedian" ? "nsMin" : "nsMedian";
  const secondary = ratios(other);
  const statName = (s: Stat) => s.slice(2).toLowerCase();
  const targetOf = (v: Verdict[], kind: Kind) => {
    const vs = v.filter((x) => x.name.startsWith(kind));
    return vs.length > 0
      ? { description: `Wasm ns / C ns, ${kind}, every lock type`, target: `<= ${TARGET}x`, ...summarize(vs), cells: vs }
      : { description: `Wasm ns / C ns, ${kind}`, target: `<= ${TARGET}x`, met: null, summary: `not measured: ${nativeReason}`, cells: [] };
  };
  const totalS = (performance.now() - started) / 1000;
  const result = {
    schema: "mmemu-bench-locks/1",
    quick: QUICK_RUN,
    machine: { ...MACHINE, interferenceWhileMeasuring: interference },
    config: {
      statistic: `${statName(STAT)} of the samples (one sample = one kernel call or one Machine.run, or one timed native run), in ns per operation`,
      wasmTiering: TURBOFAN_ONLY ? "TurboFan only (--no-liftoff)" : "V8 default (Liftoff, then TurboFan)",
      uncontendedPairsPerCall: P.uncontendedIters,
      handoffTurnsPerCpu: P.handoffTurns,
      tinybench: {
        uncontended: { time: P.timeMs, iterations: P.minSamples, warmupTime: P.warmupMs, warmupIterations: 2 },
        handoff: { time: 0, iterations: P.handoffSamples, warmupIterations: 1, emptyRunSubtracted: true },
        gcBetweenTasks: gc !== undefined,
      },
      nativeReps: P.nativeReps,
      lockClass: "torture_a (locks: { torture_a: spec })",
    },
    results: [...timing].map(([k, t]) => {
      const [kind, label, impl] = k.split("|");
      return {
        kind, lock: label, impl, nsMin: round(t.nsMin, 3), nsMedian: round(t.nsMedian, 3), nsMean: round(t.nsMean, 3),
        rmePercent: round(t.rmePercent, 2), samples: t.samples, ...extra.get(k),
      };
    }),
    native: build.ok && nativeReason === null ? { compiler: build.compiler, version: build.compilerVersion, cflags: build.cflags } : null,
    nativeReason,
    targets: { uncontended: targetOf(primary, "uncontended"), handoff: targetOf(primary, "handoff") },
    [`targetsBy${other.slice(2)}`]: { uncontended: targetOf(secondary, "uncontended"), handoff: targetOf(secondary, "handoff") },
    totalSeconds: round(totalS, 1),
  };
  writeJsonFile(OUT, result);
  if (JSON_ONLY) {
    process.stdout.write(toJson(result) + "\n");
    return 0;
  }

  const ns = (k: string) => timing.get(k)?.[STAT];
  const out: string[] = [];
  const mi = result.machine;
  out.push(`\nmmemu lock benchmark${QUICK_RUN ? " (--quick)" : ""}: node ${mi.node}, ${mi.cpuModel} (${mi.logicalCpus} CPUs), ${mi.date}`);
  out.push(`ns per lock+unlock pair (uncontended) and per handoff between two worker CPUs / two threads, ${statName(STAT)} of the samples\n`);
  const rows = CASES.map((c) => {
    const w = ns(key(c, "wasm")), n = ns(key(c, "c"));
    const sl = extra.get(key(c, "wasm"))?.sleepsPerAcquisition;
    return [c.kind, c.label, fmtNs(w), n === undefined ? "-" : `${fmtNs(n)} (${c.native})`, w !== undefined && n ? `${(w / n).toFixed(2)}x` : "-",
      c.kind === "handoff" && sl !== undefined ? sl.toFixed(2) : "", c.kind === "handoff" ? (extra.get(key(c, "c"))?.sleepsPerAcquisition ?? 0).toFixed(2) : ""];
  });
  const references: [Kind, string][] = [...NATIVE_REFERENCES.map((x): [Kind, string] => ["uncontended", x]), ["handoff", "pthread-mutex"]];
  for (const r of references) {
    const n = ns(`${r[0]}|${r[1]}|c`);
    if (n !== undefined) rows.push([r[0], `(C reference) ${r[1]}`, "-", fmtNs(n), "-", "", r[0] === "handoff" ? (extra.get(`${r[0]}|${r[1]}|c`)?.sleepsPerAcquisition ?? 0).toFixed(2) : ""]);
  }
  out.push(table(["kind", "lock", "Wasm", "C", "Wasm/C", "Wasm sleeps/acq", "C sleeps/acq"], rows, 2));
  if (nativeReason) out.push(`\nC columns: not measured (${nativeReason}).`);
  const summaryLine = (v: Verdict[]) => (["uncontended", "handoff"] as const)
    .map((k) => `${k} ${targetOf(v, k).summary}`).join("; ");
  out.push(`\nTarget Wasm/C <= ${TARGET}x (reported, not asserted), by ${statName(STAT)}: ${summaryLine(primary)}; ` +
    `by ${statName(other)}: ${summaryLine(secondary)}.`);
  if (interference) {
    out.push(`Other processes used ${interference.othersPercent}% of a CPU while this measured (steal ${interference.stealPercent}%)` +
      (interference.othersPercent > 10 || interference.stealPercent > 5 ? ": the handoff figures are unreliable, the uncontended minimums least affected." : "."));
  }
  out.push(`JSON: ${OUT} (${totalS.toFixed(1)} s)`);
  console.log(out.join("\n"));
  return 0;
}

main().then((code) => process.exit(code), (e: unknown) => {
  console.error("bench:locks:", e instanceof Error ? e.stack ?? e.message : e);
  process.exit(1);
});
