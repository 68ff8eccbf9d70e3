// mmemu experiment rmap-locks (src/experiments/rmap-locks.ts).
import { parseArgs } from "node:util";
import { RMAP_DEFAULT_CPUS, RMAP_LOCK_CONFIGS, RMAP_LOCK_CONFIG_NAMES, RMAP_LOCKS_BASE_ERA, formatRmapLocks, rmapOk, runRmapLocks,
  treeSize } from "../experiments/rmap-locks.js";
import { createProgress } from "../report/progress.js";
import { MAX_CPUS } from "../options.js";
import { parallelDefaultCpus } from "../experiments/parallel.js";
import { checkFileOptions, checkModeCpus, cpusOption, MODE_HELP, emitExperiment, EXPERIMENT_OPTIONS, EXPERIMENT_OPTIONS_HELP, intList, intOption, modeOption, profileOption,
  seedOption, UsageError, type Command } from "./common.js";

export const rmapLocksCommand: Command = {
  summary: "rmap storm: walker and writer throughput for spinlock, mutex and rwsem anon_vma locks",
  usage: "mmemu experiment rmap-locks [--cpus 2,4,8] [--walkers N] [--width W[,W...]] [--depth D[,D...]] [--pages P]\n" +
    "                              [--config C[,C...]] [--budget N] [--mode timed|parallel] [--seed S] [--json] [--out FILE]\n\n" +
    "A fork tree (width W, depth D) shares P anonymous pages; walker CPUs run page_referenced (from seed 003's\n" +
    "page-table-locked caller) and, every 4th walk, migration over them while writer CPUs fork/exit children and\n" +
    "mmap/munmap in the tree's processes. Every CPU runs the same budget: virtual time (timed), host time (parallel).\n\n" +
    "  --cpus LIST     CPU counts, walkers + writers (each 2..64; default 2,4,8)\n" +
    "  --walkers N     walker CPUs per run (default half, rounded up); the rest are writers\n" +
    "  --width LIST    children per process in the fork tree (1..16; default 2,4)\n" +
    "  --depth LIST    levels of the fork tree below the root (0..8; default 2); every width x depth is run\n" +
    "  --pages P       pages the root maps and shares with the tree (1..4096; default 64)\n" +
    `  --config LIST   anon_vma configurations (default all), on era ${RMAP_LOCKS_BASE_ERA}:\n` +
    RMAP_LOCK_CONFIGS.map((c) => `                    ${c.name.padEnd(22)}${c.anonVmaLock}, walks ${c.walks}${c.lockless ? ", seed 003 lockless case" : ""}`).join("\n") + "\n" +
    "  --budget N      what every CPU runs (1000..1000000000000; default 20000000): virtual cycles in timed mode,\n" +
    "                  nanoseconds of host time in parallel mode\n" +
    MODE_HELP +
    EXPERIMENT_OPTIONS_HELP + "\n" +
    "Exit 1 if the MM invariant checker found a violation after a run.",
  async run(args) {
    const { values } = parseArgs({ args, strict: true, options: { ...EXPERIMENT_OPTIONS, walkers: { type: "string" }, width: { type: "string" }, depth: { type: "string" },
      pages: { type: "string" }, config: { type: "string" }, budget: { type: "string" } } });
    if (values.help) { console.log(this.usage); return 0; }
    if (values.era !== undefined) throw new UsageError(`--era: rmap-locks runs on era ${RMAP_LOCKS_BASE_ERA} and varies the anon_vma lock (--config)`);
    const mode = modeOption("rmap-locks", values.mode, ["timed", "parallel"]);
    checkFileOptions(values);
    const cpus = cpusOption(values.cpus, mode === "parallel" ? parallelDefaultCpus(RMAP_DEFAULT_CPUS) : RMAP_DEFAULT_CPUS, 2);
    checkModeCpus(mode, cpus);
    const walkers = values.walkers === undefined ? undefined : intOption("walkers", values.walkers, 1, MAX_CPUS - 1, 1);
    if (walkers !== undefined) {
      for (const c of cpus) if (c <= walkers) throw new UsageError(`--walkers: ${walkers} walkers leave no writer CPU with ${c} CPUs`);
    }
    const widths = intList("width", values.width, 1, 16, [2, 4]);
    const depths = intList("depth", values.depth, 0, 8, [2]);
    const trees = widths.flatMap((width) => depths.map((depth) => ({ width, depth })));
    for (const t of trees) {
      if (treeSize(t) > 256) throw new UsageError(`--width/--depth: a ${t.width}x${t.depth} tree has ${treeSize(t)} processes (at most 256)`);
      for (const c of cpus) {
        const writers = c - (walkers ?? Math.ceil(c / 2));
        if (writers > treeSize(t)) throw new UsageError(`--cpus: ${writers} writers need ${writers} processes; a ${t.width}x${t.depth} tree has ${treeSize(t)}`);
      }
    }
    const configs = values.config === undefined ? [...RMAP_LOCK_CONFIG_NAMES] : values.config.split(",");
    for (const c of configs) {
      if (!RMAP_LOCK_CONFIG_NAMES.includes(c)) throw new UsageError(`--config: unknown configuration "${c}" (configurations: ${RMAP_LOCK_CONFIG_NAMES.join(", ")})`);
    }
    const t0 = performance.now();
    const progress = createProgress("rmap-locks");
    const budget = intOption("budget", values.budget, 1000, 1e12, 20_000_000);
    const r = await runRmapLocks({
      ...profileOption(values.profile, mode),
      configs, cpus, walkers, trees, mode,
      pages: intOption("pages", values.pages, 1, 4096, 64),
      ...(mode === "parallel" ? { budgetNs: budget } : { budgetCycles: budget }),
      seed: seedOption(values.seed),
      onProgress: (done, total, label) => progress.update(done, total, label),
    });
    progress.finish();
    emitExperiment({ name: "rmap-locks", args, result: r, title: `mmemu rmap-locks: ${r.pages} shared pages, ${r.configs.length} configurations, ${r.mode} mode`,
      t0, values, format: (table) => formatRmapLocks(r, table) });
    return rmapOk(r) ? 0 : 1;
  },
};
