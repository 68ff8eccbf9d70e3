// The virtual-time benchmark (`npm run bench:sched`): how fast the deterministic engine (src/sched/)
// switches virtual CPUs, and how long it takes to simulate 64 CPUs each doing 10,000
// spin_lock/spin_unlock pairs on one shared ticket lock. Issue 3's targets: at least 1 million
// switches per second of host time; the 64-CPU run in under 10 s. Release virtual build.
//
// Tasks (one tinybench sample = one whole run, from clock 0 to the last CPU's end):
//   switch   preempt_loop: every iteration charges an atomic and is a preemption point. Timed mode
//            with 4 and 64 CPUs (their clocks leapfrog, so nearly every point switches) and explore
//            mode (random: every point is a decision). The pure cost of the scheduler and of Asyncify.
//   lock64   timed mode, 64 CPUs x 10,000 spin_lock_loop iterations (spin_lock, counter += 1 with a
//            preemption point inside, spin_unlock) on one lock: the 64-CPU run.
//   lock64e  (information) explore mode, random, 64 CPUs x 200 iterations: no spin parking there.
// Switches = times a different CPU was resumed; steps = scheduling decisions (every entry into the
// scheduler, switching or not). Rates are per second of host time: count / sample latency.
//
// Correctness first: every sample's counter must be exact and all samples of a task must have the
// same schedule digest (the run is deterministic); the process exits with 1 otherwise. Targets are
// reported, never asserted. Statistic: the minimum sample (as bench/walk.ts: it is the figure that
// reproduces on a shared 2-vCPU VM); medians are in the JSON.
//
// Options: --quick (fewer samples), --json (only JSON on stdout), --default-tiering (leave V8's Wasm
// tiering alone; by default TurboFan from the start), --out=PATH (default bench/results/sched.json).
import { Bench, type Task } from "tinybench";
import { join } from "node:path";
import { VirtualMachine, type RunResult } from "../src/index.js";
import { machineInfo, summariseNs, verdict, summarize, table, round, writeJsonFile, systemCpu, otherCpuLoad, type Verdict } from "./lib/report.js";
import { parseBenchArgs, applyWasmTiering } from "./lib/args.js";
import { repoRoot } from "./native/build.js";

const ARGS = parseBenchArgs({ name: "bench:sched", script: "dist/bench/sched.js", defaultOut: join(repoRoot(), "bench", "results", "sched.json") });
const QUICK = ARGS.quick;
const JSON_ONLY = ARGS.json;
const OUT = ARGS.out;
const log = ARGS.log;
const gc = (globalThis as { gc?: () => void }).gc;
const TURBOFAN_ONLY = ARGS.turbofanOnly;
applyWasmTiering(ARGS); // before the first machine compiles the core
const MACHINE = machineInfo();
const SEED = 1;
const TARGETS = { switchesPerSecond: 1e6, lock64Seconds: 10 };

interface Case {
  name: string;
  what: string;
  mode: "timed" | "explore";
  cpus: number;
  job: "preempt_loop" | "spin_lock_loop";
  perCpu: number;
  samples: number;
}
const CASES: Case[] = [
  { name: "switch/timed/4", what: "preempt_loop, timed, 4 CPUs", mode: "timed", cpus: 4, job: "preempt_loop", perCpu: 100_000, samples: QUICK ? 3 : 10 },
  { name: "switch/timed/64", what: "preempt_loop, timed, 64 CPUs", mode: "timed", cpus: 64, job: "preempt_loop", perCpu: 10_000, samples: QUICK ? 3 : 10 },
  { name: "switch/explore/4", what: "preempt_loop, explore (random), 4 CPUs", mode: "explore", cpus: 4, job: "preempt_loop", perCpu: 100_000, samples: QUICK ? 3 : 10 },
  { name: "switch/explore/64", what: "preempt_loop, explore (random), 64 CPUs", mode: "explore", cpus: 64, job: "preempt_loop", perCpu: 10_000, samples: QUICK ? 3 : 10 },
  { name: "lock64", what: "spin_lock_loop, timed, 64 CPUs x 10,000 on one lock", mode: "timed", cpus: 64, job: "spin_lock_loop", perCpu: 10_000, samples: QUICK ? 1 : 3 },
  { name: "lock64e", what: "(info) spin_lock_loop, explore (random), 64 CPUs x 200", mode: "explore", cpus: 64, job: "spin_lock_loop", perCpu: 200, samples: QUICK ? 1 : 3 },
];

interface Row {
  name: string;
  what: string;
  mode: string;
  cpus: number;
  perCpu: number;
  steps: number;
  switches: number;
  digest: string;
  makespanCycles: bigint;
  hostMs: { min: number; median: number; mean: number; samples: number };
  switchesPerSecond: { best: number; median: number };
  stepsPerSecond: { best: number; median: number };
}

let failed = false;
const started = performance.now();
const cpu0 = systemCpu();
const rows: Row[] = [];
for (const c of CASES) {
  const vm = VirtualMachine.create({ cpus: c.cpus, memory: "16MiB" });
  const lock = vm.alloc(64), counter = vm.alloc(64);
  const args = c.job === "spin_lock_loop" ? [lock, counter, c.perCpu] : [c.perCpu];
  const jobs = Array.from({ length: c.cpus }, (_, cpu) => ({ cpu, job: c.job, args }));
  const runs: RunResult[] = [];
  const bench = new Bench({ iterations: c.samples, time: 0, warmupIterations: 1, warmupTime: 0, retainSamples: true });
  bench.add(c.name, () => {
    vm.write32(lock, 0);
    vm.write64(counter, 0);
    runs.push(vm.run({ mode: c.mode, seed: SEED, jobs }));
    if (c.job === "spin_lock_loop" && vm.read64(counter) !== BigInt(c.cpus * c.perCpu)) {
      log(`bench:sched: ${c.name}: the counter is ${vm.read64(counter)}, expected ${c.cpus * c.perCpu}`);
      failed = true;
    }
  });
  gc?.();
  const [task] = (await bench.run()) as Task[];
  const r = task!.result;
  if (r.state !== "completed") throw new Error(`task ${c.name} did not complete (${r.state})`);
  const digests = new Set(runs.map((x) => x.digest));
  if (digests.size !== 1) {
    log(`bench:sched: ${c.name}: ${digests.size} different schedules from one seed`);
    failed = true;
  }
  // Latency samples are ms per run; summariseNs is unit-agnostic (its "ns" fields hold ms here).
  const s = summariseNs(Array.from(r.latency.samples ?? [], (x) => x));
  const run = runs[0]!;
  rows.push({
    name: c.name, what: c.what, mode: c.mode, cpus: c.cpus, perCpu: c.perCpu, steps: run.steps, switches: run.switches,
    digest: run.digest, makespanCycles: run.makespan,
    hostMs: { min: round(s.nsMin, 2), median: round(s.nsMedian, 2), mean: round(s.nsMean, 2), samples: s.samples },
    switchesPerSecond: { best: Math.round(run.switches / (s.nsMin / 1000)), median: Math.round(run.switches / (s.nsMedian / 1000)) },
    stepsPerSecond: { best: Math.round(run.steps / (s.nsMin / 1000)), median: Math.round(run.steps / (s.nsMedian / 1000)) },
  });
  log(`bench:sched: ${c.name}: ${s.samples} samples, min ${s.nsMin.toFixed(0)} ms`);
}
const interference = otherCpuLoad(cpu0, systemCpu(), 0);

const switchRows = rows.filter((r) => r.name !== "lock64e");
const lock64 = rows.find((r) => r.name === "lock64")!;
const targets: Verdict[] = [
  ...switchRows.map((r) => verdict(`switches/s, ${r.name}`, r.switchesPerSecond.best, ">=", TARGETS.switchesPerSecond)),
  verdict("lock64 host seconds", lock64.hostMs.min / 1000, "<=", TARGETS.lock64Seconds),
];
const fmt = (n: number) => n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(0)}k` : String(n);
if (!JSON_ONLY) {
  console.log(table(["task", "CPUs", "steps", "switches", "host ms (min)", "median", "switches/s", "steps/s"],
    rows.map((r) => [r.name, String(r.cpus), String(r.steps), String(r.switches), r.hostMs.min.toFixed(1), r.hostMs.median.toFixed(1),
      fmt(r.switchesPerSecond.best), fmt(r.stepsPerSecond.best)])));
  console.log();
  for (const v of targets) console.log(`${v.met ? "met    " : "NOT MET"}  ${v.name}: ${v.value} (target ${v.comparison} ${v.target})`);
  const all = summarize(targets);
  console.log(`targets: ${all.summary}`);
  if (interference && interference.othersPercent > 20) {
    console.log(`note: other processes used ${interference.othersPercent}% of a CPU while this ran; figures may be low`);
  }
}
const result = {
  machine: { ...MACHINE, interference },
  config: { seed: SEED, quick: QUICK, tiering: TURBOFAN_ONLY ? "turbofan-only (--no-liftoff)" : "default", build: "virtual (release, Asyncify)",
    costs: VirtualMachine.create({ cpus: 1, memory: "16MiB" }).costProfile, statistic: "min" },
  results: rows,
  targets,
  totalSeconds: round((performance.now() - started) / 1000, 1),
};
writeJsonFile(OUT, result);
if (JSON_ONLY) console.log(JSON.stringify(result, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2));
else log(`bench:sched: wrote ${OUT} (${result.totalSeconds} s)`);
process.exit(failed ? 1 : 0);
