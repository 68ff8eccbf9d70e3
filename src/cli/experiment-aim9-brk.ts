// mmemu experiment aim9-brk (src/experiments/aim9-brk.ts).
import { parseArgs } from "node:util";
import { aim9Ok, DEFAULT_CPUS, formatAim9Brk, runAim9Brk } from "../experiments/aim9-brk.js";
import { createProgress } from "../report/progress.js";
import { parallelDefaultCpus } from "../experiments/parallel.js";
import { checkFileOptions, checkModeCpus, cpusOption, MODE_HELP, emitExperiment, eraHelp, eraList, EXPERIMENT_OPTIONS, EXPERIMENT_OPTIONS_HELP, intOption, modeOption, profileOption,
   seedOption, UsageError, type Command } from "./common.js";

export const aim9BrkCommand: Command = {
  summary: "AIM9 brk_test throughput per era and CPU count, with the lock statistics that explain it",
  usage: "mmemu experiment aim9-brk [--cpus 1,2,4,8] [--era E[,E...]] [--mode timed|parallel] [--loops N] [--seed S]\n" +
    "                            [--threads] [--page-test] [--json] [--out FILE] [--report FILE]\n\n" +
    "  --cpus LIST     CPU counts to run, one task per CPU (each 1..64; default 1,2,4,8)\n" +
    `  --era LIST      eras (default all):\n${eraHelp()}\n` +
    MODE_HELP +
    "  --loops N       AIM9 loops per task, 17,000 sbrk calls each (default 1)\n" +
    "  --threads       N threads of one process instead of N processes forked from one parent\n" +
    "  --page-test     AIM9 page_test: the same loop, dirtying every 128 bytes of each page grown\n" +
    EXPERIMENT_OPTIONS_HELP,
  async run(args) {
    const { values } = parseArgs({ args, strict: true, options: { ...EXPERIMENT_OPTIONS, loops: { type: "string" }, threads: { type: "boolean" }, "page-test": { type: "boolean" } } });
    if (values.help) { console.log(this.usage); return 0; }
    const mode = modeOption("aim9-brk", values.mode, ["timed", "parallel"]);
    checkFileOptions(values);
    const cpus = cpusOption(values.cpus, mode === "parallel" ? parallelDefaultCpus(DEFAULT_CPUS) : DEFAULT_CPUS);
    checkModeCpus(mode, cpus);
    const eras = eraList(values.era);
    const threads = values.threads ?? false, page = values["page-test"] ?? false;
    if (threads && page) throw new UsageError("--page-test needs processes (threads share one break): drop --threads");
    const t0 = performance.now();
    const progress = createProgress("aim9-brk");
    const r = await runAim9Brk({
      ...profileOption(values.profile, mode),
      eras, cpus, mode, shape: threads ? "threads" : "processes", workload: page ? "page_test" : "brk_test",
      loops: intOption("loops", values.loops, 1, 1_000_000, 1), seed: seedOption(values.seed),
      onProgress: (done, total, label) => progress.update(done, total, label),
    });
    progress.finish();
    emitExperiment({ name: "aim9-brk", args, result: r, title: `mmemu aim9-brk: ${r.workload}, ${r.shape}, ${r.mode} mode`, t0, values,
      format: (table) => formatAim9Brk(r, table) });
    return aim9Ok(r) ? 0 : 1;
  },
};
