// Experiment fork-server (issue 5): fork-heavy workloads per era and CPU count, with the lock
// statistics that explain them. ../shared/notes/kernel-history.md:
//   - exim (MOSBENCH): 3.0's anon_vma mutex cost -52% on 40 cores, contention in anon_vma_clone,
//     unlink_anon_vmas, anon_vma_fork and anon_vma_free on the fork tree's root lock;
//   - AIM7 fork_test: 3.8's anon_vma rwsem with strict FIFO writer handoff cost -50%, recovered fully
//     by 3.9's writer lock-stealing; 3.16's optimistic spinning "on par with mutex".
// The history experiment calls runForkServer with those eras (its contract: the types below).
//
// One run per (era, CPU count): a fresh VirtualMachine with the era's lock types and MM switches; on
// CPU 0 a master process gets a heap (brk, every page touched: an anon_vma and present pages) and two
// more touched anonymous mappings (libc's data and the daemon's stack, in spirit), then forks one
// daemon per CPU. Every daemon's vmas share the master's root anon_vma lock (2.6.34+: anon_vma_chain)
// or its one anon_vma (before). Then every CPU runs, in timed mode, until its virtual clock passes
// the budget (assembly/lib/fork_server.ts):
//   - exim: job_fork_server: per message, fork a child, switch to it, the child writes `touchPages` of
//     the COW-shared heap (a COW fault each), mmaps + touches + munmaps `bufferPages` pages (with
//     `deliver`: in a grandchild it forks, as MOSBENCH's receiver forks to deliver), exits; the daemon
//     reaps it. ops = messages.
//   - fork_test: job_aim7_fork: fork, the child exits at once, the parent waits. ops = fork + exit pairs.
// Throughput = ops / the makespan (the latest final clock, cycles / the profile's GHz). After each run
// every CPU goes idle, the MM invariant checker runs, and the live task_struct, mm_struct, anon_vma and
// anon_vma_chain objects are compared with those before the run (a child left behind is a violation).
//
// Deterministic: the same options give the same result object (and JSON), bit for bit. Host time is
// not part of the result.
import { lockStatDiff, type RunLockStat } from "./lock-diff.js";
import { VirtualMachine } from "../sched/virtual-machine.js";
import { MmModel, type Process } from "../mm/process.js";
import { constant, type CoreExports } from "../core/abi.js";
import { ConfigError, MmemuError } from "../core/errors.js";
import type { CostProfile } from "../cost/profile.js";
import { DEFAULT_PROFILE } from "../cost/default-profile.js";
import { MAX_CPUS } from "../options.js";
import { era as eraByName, type Era } from "./eras.js";

export type ForkServerWorkload = "exim" | "fork_test";

export interface ForkServerOptions {
  /** exim (the MOSBENCH-like fork server, default) or fork_test (AIM7). */
  workload?: ForkServerWorkload;
  /** Era names or eras (with overrides from eras.ts era()); default FORK_SERVER_DEFAULT_ERAS. */
  eras?: (string | Era)[];
  /** CPU counts, one daemon per CPU; default [1, 2, 4, 8]. */
  cpus?: number[];
  /** Virtual cycles every CPU runs (checked before each op); default FORK_SERVER_DEFAULT_BUDGET. */
  budgetCycles?: number;
  /** Seed of the timed schedule; default 1. */
  seed?: number;
  mode?: "timed";
  profile?: CostProfile;
  /** Use the debug build (invariants and lockdep checked; slower). */
  debug?: boolean;
  onProgress?: (done: number, total: number, label: string) => void;
  /** exim: pages of the master's heap (COW-shared by the whole tree); default 32. */
  heapPages?: number;
  /** exim: heap pages each message's child writes (a COW fault each); default 4. */
  touchPages?: number;
  /** exim: pages of the buffer each message mmaps, touches and munmaps; default 4. */
  bufferPages?: number;
  /** exim: the child forks again to deliver (MOSBENCH's second fork); default false: one fork per message. */
  deliver?: boolean;
}

export interface ForkServerRun {
  era: string;
  cpus: number;
  workload: string;
  /** Messages (exim) or fork + exit pairs (fork_test), all CPUs. */
  ops: number;
  opsPerSec: number;
  forks: number;
  exits: number;
  /** Page faults taken during the jobs (COW faults on the heap, the buffer's faults), all CPUs. */
  faults: number;
  /** Sleeps of every lock class (a waiter gave up its CPU) per op. */
  contextSwitchesPerOp: number;
  /** Virtual time from start to the last CPU's end. */
  makespanCycles: number;
  seconds: number;
  /** The schedule's digest (equal runs have equal digests). */
  digest: string;
  /** The MM checker's findings and any object left behind (empty: clean; null: not checked). */
  invariantViolations: string[] | null;
  locks: RunLockStat[];
}

export interface ForkServerRatio { cpus: number; era: string; baseline: string; throughputRatio: number }

export interface ForkServerResult {
  experiment: "fork-server";
  mode: "timed";
  workload: ForkServerWorkload;
  seed: number;
  cpus: number[];
  ghz: number;
  budgetCycles: number;
  eras: Era[];
  runs: ForkServerRun[];
  /** Each era's ops/s against the first listed era, per CPU count. */
  ratios: ForkServerRatio[];
  notes: string[];
  /** The exim workload's shape (also recorded for fork_test, where it only shapes the master). */
  heapPages: number;
  touchPages: number;
  bufferPages: number;
  deliver: boolean;
  profile: string;
}

export const FORK_SERVER_DEFAULT_ERAS: readonly string[] = ["2.6.34", "3.0", "3.8", "3.9", "3.16"];
export const FORK_SERVER_DEFAULT_CPUS: readonly number[] = [1, 2, 4, 8];
/** Default budget per CPU: 200,000,000 cycles (67 ms at 3 GHz): the default exim run (5 eras x 1,2,4,8 CPUs) takes about 45 s of host time here. */
export const FORK_SERVER_DEFAULT_BUDGET = 200_000_000;

export const FORK_SERVER_RUN_FIELDS: readonly (keyof ForkServerRun)[] = ["era", "cpus", "workload", "ops", "opsPerSec", "forks", "exits",
  "faults", "contextSwitchesPerOp", "makespanCycles", "seconds", "digest", "invariantViolations", "locks"];

export const FORK_SERVER_NOTES: readonly string[] = [
  "timed mode: deterministic virtual time from the cost model; the same options and seed give the same figures",
  "every CPU runs one daemon (a child of one master: one fork tree, one root anon_vma lock) for the same virtual-time budget; " +
    "throughput = ops / the makespan",
  "virtual time charges the locks (atomics, cache-line transfers, spins, sleeps, wake-ups, context switches), the system calls' " +
    "entry/exit (fork, exit, wait4, mmap, munmap), task context switches, and the MM core's memory traffic at cache-line granularity " +
    "(dup_mmap's vma and anon_vma_chain objects, copy_page_range's PTE writes and page refcounts, COW copies, page zeroing, " +
    "exit_mmap's teardown; kernel/mm_charge.ts); not charged: copy_process's other work (credentials, files, signals, pids), " +
    "instruction execution between the loads; so critical sections are short and contention is exaggerated: compare eras, not magnitudes",
  "no wait queue or zombie: the exiting child switches straight back to its parent, whose wait4 returns; children run on their parent's CPU",
  "contextSwitchesPerOp counts lock sleeps only; every op also has two task switches (to the child and back), charged as ctx_switch",
];

function int(what: string, v: unknown, lo: number, hi: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < lo || v > hi) throw new ConfigError(`${what}: ${String(v)} is out of range (${lo}..${hi})`);
  return v;
}

function resolve(o: ForkServerOptions) {
  if (o === null || typeof o !== "object") throw new ConfigError("fork-server: expected an options object");
  const workload = o.workload ?? "exim";
  if (workload !== "exim" && workload !== "fork_test") throw new ConfigError(`workload: "${String(workload)}" is not exim or fork_test`);
  const names = o.eras ?? [...FORK_SERVER_DEFAULT_ERAS];
  if (!Array.isArray(names) || names.length === 0) throw new ConfigError("eras: expected at least one era");
  const eras = names.map((e) => (typeof e === "string" ? eraByName(e) : eraByName(e.name, { locks: e.locks, mm: e.mm })));
  const cpus = o.cpus ?? FORK_SERVER_DEFAULT_CPUS;
  if (!Array.isArray(cpus) || cpus.length === 0) throw new ConfigError("cpus: expected a non-empty list of CPU counts");
  for (const c of cpus) int("cpus", c, 1, MAX_CPUS);
  const budgetCycles = int("budgetCycles", o.budgetCycles ?? FORK_SERVER_DEFAULT_BUDGET, 1000, 1e12);
  const seed = o.seed ?? 1;
  if (!Number.isSafeInteger(seed) || seed < 0) throw new ConfigError(`seed: ${String(seed)} is not a non-negative integer`);
  if ((o.mode ?? "timed") !== "timed") throw new ConfigError(`mode: "${String(o.mode)}" is not available for fork-server yet (timed)`);
  const heapPages = int("heapPages", o.heapPages ?? 32, 1, 4096);
  const touchPages = int("touchPages", o.touchPages ?? 4, 0, heapPages);
  const bufferPages = int("bufferPages", o.bufferPages ?? 4, 0, 512);
  const deliver = o.deliver ?? false;
  if (typeof deliver !== "boolean") throw new ConfigError("deliver: expected true or false");
  return { workload, eras, cpus: [...cpus], budgetCycles, seed, debug: o.debug ?? false, heapPages, touchPages, bufferPages, deliver };
}

type Resolved = ReturnType<typeof resolve>;

/** Pages of each of the master's two extra anonymous mappings (touched: they have an anon_vma). */
const EXTRA_VMA_PAGES = 4;

/** The kmem caches whose live objects must be the same before and after a run (a leak otherwise). */
const LEAK_CACHES = ["KMEM_TASK_STRUCT", "KMEM_MM_STRUCT", "KMEM_VM_AREA", "KMEM_ANON_VMA", "KMEM_ANON_VMA_CHAIN"] as const;

function liveObjects(x: CoreExports): Record<string, number> {
  const out: Record<string, number> = {};
  const call = x as unknown as Record<string, (c: number) => number>;
  for (const k of LEAK_CACHES) {
    const c = constant(x, k as keyof CoreExports);
    out[k] = call.kmem_cache_nr_objs!(c) - call.kmem_cache_nr_free!(c);
  }
  return out;
}

/** The fork-server job's packed parameter word (assembly/lib/fork_server.ts diagram). */
export function forkServerParams(x: CoreExports, o: { heapPages: number; touchPages: number; bufferPages: number; deliver: boolean }): bigint {
  const heapShift = BigInt(constant(x, "FS_HEAP_SHIFT"));
  return BigInt(o.touchPages) << BigInt(constant(x, "FS_TOUCH_SHIFT")) | BigInt(o.bufferPages) << BigInt(constant(x, "FS_BUF_SHIFT")) |
    BigInt(o.heapPages) << heapShift | (o.deliver ? 1n << (heapShift + 16n) : 0n);
}

/** One (era, CPU count) run. */
function runOne(r: Resolved, e: Era, n: number, profile: CostProfile | undefined): ForkServerRun {
  const vm = VirtualMachine.create({ cpus: n, memory: "32MiB", debug: r.debug, locks: e.locks, mm: e.mm, ...(profile ? { profile } : {}) });
  const x = vm.exports;
  const model = new MmModel(vm.mmu);
  const master = model.spawn({ cpu: 0 });
  const heap = master.brk(0n);
  const heapEnd = heap + BigInt(r.heapPages) * 4096n;
  if (master.brk(heapEnd) !== heapEnd) throw new MmemuError("fork-server: the master's heap could not grow");
  for (let p = 0; p < r.heapPages; p++) {
    if (master.write(heap + BigInt(p * 4096), p + 1) !== 0) throw new MmemuError("fork-server: the master could not touch its heap");
  }
  for (let k = 0; k < 2; k++) {
    const va = master.mmap(EXTRA_VMA_PAGES * 4096);
    if (va < 0n) throw new MmemuError(`fork-server: the master's mmap failed (${va})`);
    for (let p = 0; p < EXTRA_VMA_PAGES; p++) master.write(va + BigInt(p * 4096), 1);
  }
  const daemons: Process[] = [];
  for (let k = 0; k < n; k++) {
    const d = master.fork({ cpu: 0 });
    if (typeof d === "number") throw new MmemuError(`fork-server: fork of daemon ${k} failed (${d})`);
    daemons.push(d);
  }
  model.idle({ cpu: 0 }); // every CPU idle: each job makes its daemon current on its own CPU
  const live0 = liveObjects(x);
  const outSize = constant(x, "FS_OUT_SIZE");
  const outs = daemons.map(() => vm.alloc(outSize));
  const budget = BigInt(r.budgetCycles);
  const maxops = 0xffff_ffff;
  const params = forkServerParams(x, r);
  const jobs = daemons.map((d, cpu) => r.workload === "exim"
    ? { cpu, job: "fork_server", args: [d.pid, heap, params, budget, maxops, outs[cpu]!] }
    : { cpu, job: "aim7_fork", args: [d.pid, budget, maxops, outs[cpu]!] });
  const before = vm.mmu.lockStats();
  const res = vm.run({ mode: "timed", seed: r.seed, jobs });
  for (const cr of res.cpus) {
    if (cr.result < 0n) throw new MmemuError(`fork-server: era ${e.name}, ${n} CPUs: CPU ${cr.cpu}'s ${cr.job} job returned ${cr.result} (a negative errno)`);
  }
  const after = vm.mmu.lockStats();
  const sum = (name: string) => outs.reduce((s, o) => s + Number(vm.read64(o + constant(x, name as keyof CoreExports))), 0);
  const ops = sum("FS_OUT_OPS");
  const locks = lockStatDiff(before, after);
  const sleeps = locks.reduce((s, l) => s + l.sleeps, 0);
  for (let cpu = 0; cpu < n; cpu++) model.idle({ cpu });
  const violations = model.check().violations;
  const live1 = liveObjects(x);
  for (const k of LEAK_CACHES) {
    if (live1[k] !== live0[k]) violations.push(`${k}: ${live1[k]! - live0[k]!} object(s) left behind by the run (${live0[k]} live before, ${live1[k]} after)`);
  }
  const makespan = Number(res.makespan);
  const seconds = makespan / (vm.costs.ghz * 1e9);
  return {
    era: e.name, cpus: n, workload: r.workload, ops, opsPerSec: seconds > 0 ? ops / seconds : 0,
    forks: sum("FS_OUT_FORKS"), exits: sum("FS_OUT_EXITS"), faults: sum("FS_OUT_FAULTS"),
    contextSwitchesPerOp: ops ? sleeps / ops : 0, makespanCycles: makespan, seconds, digest: res.digest,
    invariantViolations: violations, locks,
  };
}

/**
 * runForkServer - run the experiment (synchronously; every run in virtual time). Takes the options
 * above; returns the result with one run per (era, CPU count), eras outer. Throws ConfigError for bad
 * options and MmemuError when a job fails (its negative errno named).
 */
export function runForkServer(options: ForkServerOptions = {}): ForkServerResult {
  const r = resolve(options);
  const total = r.eras.length * r.cpus.length;
  const runs: ForkServerRun[] = [];
  for (const e of r.eras) {
    for (const n of r.cpus) {
      runs.push(runOne(r, e, n, options.profile));
      options.onProgress?.(runs.length, total, `${r.workload}, era ${e.name}, ${n} CPU${n === 1 ? "" : "s"}`);
    }
  }
  const profile = options.profile ?? DEFAULT_PROFILE;
  const base = r.eras[0]!.name;
  const ratios: ForkServerRatio[] = [];
  for (const n of r.cpus) {
    const b = runs.find((x) => x.era === base && x.cpus === n)!;
    for (const e of r.eras.slice(1)) {
      const x = runs.find((y) => y.era === e.name && y.cpus === n)!;
      ratios.push({ cpus: n, era: e.name, baseline: base, throughputRatio: b.opsPerSec ? x.opsPerSec / b.opsPerSec : 0 });
    }
  }
  return { experiment: "fork-server", mode: "timed", workload: r.workload, seed: r.seed, cpus: r.cpus, ghz: profile.ghz,
    budgetCycles: r.budgetCycles, eras: r.eras, runs, ratios, notes: [...FORK_SERVER_NOTES], heapPages: r.heapPages,
    touchPages: r.touchPages, bufferPages: r.bufferPages, deliver: r.deliver, profile: profile.description ?? "" };
}

/** Whether every run is clean (no invariant violation, no object left behind, every fork's child exited). */
export function forkServerOk(res: ForkServerResult): boolean {
  return res.runs.every((x) => (x.invariantViolations === null || x.invariantViolations.length === 0) && x.forks === x.exits);
}

/** formatForkServer - the result as a terminal table (one row per run) and the ratios. */
export function formatForkServer(res: ForkServerResult, table: (h: string[], rows: string[][]) => string): string {
  const f = (v: number, d = 0) => v.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
  const lock = (run: ForkServerRun, cls: string) => run.locks.find((l) => l.class === cls);
  const rows = res.runs.map((run) => {
    const av = lock(run, "anon_vma");
    return [run.era, String(run.cpus), f(run.ops), f(run.opsPerSec), f(run.faults), f(run.contextSwitchesPerOp, 3),
      av ? f(av.contentions) : "-", av ? f(av.sleeps) : "-", av ? f(av.handoffs) : "-", av ? f(av.steals) : "-", av ? f(av.wait.avgCycles) : "-",
      run.invariantViolations === null ? "-" : run.invariantViolations.length === 0 && run.forks === run.exits ? "ok" : "FAIL"];
  });
  const what = res.workload === "exim"
    ? `exim-like: ${res.touchPages} COW pages of ${res.heapPages}, ${res.bufferPages}-page buffer${res.deliver ? ", deliver fork" : ""} per message`
    : "AIM7 fork_test: fork, the child exits, the parent waits";
  const head = `fork-server: ${what}; ${f(res.budgetCycles)} cycles per CPU, timed (virtual time at ${res.ghz} GHz), seed ${res.seed}`;
  const t = table(["era", "cpus", res.workload === "exim" ? "messages" : "forks", "ops/s", "faults", "ctxsw/op", "av cont", "av sleeps",
    "av handoffs", "av steals", "av wait cyc", "check"], rows);
  const ratioRows = res.ratios.map((q) => [q.era, String(q.cpus), `${f(q.throughputRatio, 3)}x`]);
  const rt = ratioRows.length ? `\n\nthroughput against ${res.ratios[0]!.baseline}:\n` + table(["era", "cpus", "ops/s ratio"], ratioRows) : "";
  return `${head}\n\n${t}${rt}\n\nnotes:\n${res.notes.map((n) => `  - ${n}`).join("\n")}`;
}
