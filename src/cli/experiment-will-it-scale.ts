// mmemu experiment will-it-scale (src/experiments/will-it-scale.ts).
import { parseArgs } from "node:util";
import { ConfigError } from "../core/errors.js";
import { formatWillItScale, runWillItScale, willItScaleOk, WIS_DEFAULT_BUDGET, WIS_DEFAULT_CPUS, WIS_DEFAULT_ERAS, WIS_DESCRIPTIONS, WIS_TESTCASES,
  type WisShape, type WisTestcase } from "../experiments/will-it-scale.js";
import { createProgress } from "../report/progress.js";
import { parallelDefaultCpus } from "../experiments/parallel.js";
import { checkFileOptions, checkModeCpus, cpusOption, emitExperiment, eraHelp, eraList, EXPERIMENT_OPTIONS, EXPERIMENT_OPTIONS_HELP, intOption,
  MODE_HELP, modeOption, profileOption, seedOption, UsageError, type Command } from "./common.js";

export const willItScaleCommand: Command = {
  summary: "will-it-scale brk1, brk2, page_fault1, tlb_flush1 as N processes and N threads, per era and CPU count",
  usage: "mmemu experiment will-it-scale [--test T[,T...]] [--threads|--processes] [--cpus 1,2,4,8] [--era E[,E...]]\n" +
    "                                 [--mode timed|parallel] [--budget N] [--region-mib M] [--seed S] [--json] [--out FILE]\n" +
    "                                 [--report FILE]\n\n" +
    "Each task runs the testcase's loop for the same budget: virtual time (timed), host time (parallel); throughput is\n" +
    "iterations per second (all tasks), as will-it-scale reports it, with the speedup over the smallest CPU count.\n\n" +
    "  --test LIST     testcases (default all):\n" +
    WIS_TESTCASES.map((t) => `                    ${t.padEnd(12)}${WIS_DESCRIPTIONS[t]}`).join("\n") + "\n" +
    "  --processes     only N processes forked from one parent (their heaps share its anon_vma lock)\n" +
    "  --threads       only N threads of one process (one mm, one mmap_sem; shootdowns reach the other threads)\n" +
    "                  (default: both)\n" +
    "  --cpus LIST     CPU counts to run, one task per CPU (each 1..64; default 1,2,4,8; parallel: those <= the host's cores)\n" +
    `  --era LIST      eras (default ${WIS_DEFAULT_ERAS.join(",")}):\n${eraHelp()}\n` +
    MODE_HELP +
    `  --budget N      what every CPU runs (1000..1000000000000; default ${WIS_DEFAULT_BUDGET}): virtual cycles in timed mode,\n` +
    "                  nanoseconds of host time in parallel mode\n" +
    "  --region-mib M  page_fault1's and tlb_flush1's region in MiB (1..1024; default 128, will-it-scale's); in parallel\n" +
    "                  mode the machine holds every task's whole region: region x CPUs must fit 3 GiB\n" +
    EXPERIMENT_OPTIONS_HELP + "\n" +
    "Exit 1 if the MM invariant checker found a violation after a run.",
  async run(args) {
    const { values } = parseArgs({ args, strict: true, options: { ...EXPERIMENT_OPTIONS, test: { type: "string" }, threads: { type: "boolean" },
      processes: { type: "boolean" }, budget: { type: "string" }, "region-mib": { type: "string" } } });
    if (values.help) { console.log(this.usage); return 0; }
    const mode = modeOption("will-it-scale", values.mode, ["timed", "parallel"]);
    checkFileOptions(values);
    const cpus = cpusOption(values.cpus, mode === "parallel" ? parallelDefaultCpus(WIS_DEFAULT_CPUS) : WIS_DEFAULT_CPUS);
    checkModeCpus(mode, cpus);
    const eras = eraList(values.era, WIS_DEFAULT_ERAS);
    const testcases = (values.test === undefined ? [...WIS_TESTCASES] : values.test.split(",")) as WisTestcase[];
    for (const t of testcases) {
      if (!(WIS_TESTCASES as readonly string[]).includes(t)) throw new UsageError(`--test: unknown testcase "${t}" (testcases: ${WIS_TESTCASES.join(", ")})`);
    }
    const modes: WisShape[] = values.threads && !values.processes ? ["threads"] : values.processes && !values.threads ? ["processes"] : ["processes", "threads"];
    const budget = intOption("budget", values.budget, 1000, 1e12, WIS_DEFAULT_BUDGET);
    const regionBytes = intOption("region-mib", values["region-mib"], 1, 1024, 128) * (1 << 20);
    const seed = seedOption(values.seed);
    const t0 = performance.now();
    const progress = createProgress("will-it-scale");
    let r;
    try {
      r = await runWillItScale({
        ...profileOption(values.profile, mode),
        testcases, modes, eras, cpus, mode, regionBytes, seed,
        ...(mode === "parallel" ? { budgetNs: budget } : { budgetCycles: budget }),
        onProgress: (done, total, label) => progress.update(done, total, label),
      });
    } catch (e) {
      // parallel mode's region x CPUs check is the options' fault: a usage error (exit 2)
      if (e instanceof ConfigError && e.message.startsWith("regionBytes:")) throw new UsageError(`--region-mib: ${e.message.slice("regionBytes: ".length)}`);
      throw e;
    } finally {
      progress.finish();
    }
    emitExperiment({ name: "will-it-scale", args, result: r, title: `mmemu will-it-scale: ${r.testcases.join(", ")}; ${r.modes.join(", ")}; ${r.mode} mode`,
      t0, values, format: (table) => formatWillItScale(r, table) });
    return willItScaleOk(r) ? 0 : 1;
  },
};
