// mmemu experiment fork-server (src/experiments/fork-server.ts).
import { parseArgs } from "node:util";
import { FORK_SERVER_DEFAULT_BUDGET, FORK_SERVER_DEFAULT_BUDGET_NS, FORK_SERVER_DEFAULT_CPUS, FORK_SERVER_DEFAULT_ERAS, forkServerOk, formatForkServer,
  runForkServer } from "../experiments/fork-server.js";
import { createProgress } from "../report/progress.js";
import { parallelDefaultCpus } from "../experiments/parallel.js";
import { checkFileOptions, checkModeCpus, cpusOption, emitExperiment, eraHelp, eraList, EXPERIMENT_OPTIONS, EXPERIMENT_OPTIONS_HELP, intOption,
  MODE_HELP, modeOption, profileOption, seedOption, UsageError, type Command } from "./common.js";

export const forkServerCommand: Command = {
  summary: "fork-heavy workloads (exim-like fork server, AIM7 fork_test) per era and CPU count",
  usage: "mmemu experiment fork-server [--workload exim|fork_test] [--cpus 1,2,4,8] [--era E[,E...]] [--mode timed|parallel]\n" +
    "                               [--budget N] [--heap-pages N] [--touch-pages N] [--buffer-pages N] [--deliver] [--fixed-sizes]\n" +
    "                               [--seed S] [--json] [--out FILE] [--report FILE]\n\n" +
    "One daemon per CPU, all forked from one master (one fork tree: one root anon_vma lock). exim: per message\n" +
    "the daemon forks a child, which writes a few COW-shared heap pages, mmaps, touches and munmaps a buffer and\n" +
    "exits; the daemon reaps it. fork_test (AIM7): fork, the child exits at once, the parent waits. Every CPU\n" +
    "runs the same budget: virtual time (timed), host time (parallel).\n\n" +
    "  --workload W    exim (default) or fork_test\n" +
    "  --cpus LIST     CPU counts, one daemon per CPU (each 1..64; default 1,2,4,8)\n" +
    `  --era LIST      eras (default ${FORK_SERVER_DEFAULT_ERAS.join(",")}); the first is the ratios' baseline:\n${eraHelp()}\n` +
    MODE_HELP +
    `  --budget N      what every CPU runs (1000..1000000000000): virtual cycles in timed mode (default ${FORK_SERVER_DEFAULT_BUDGET}),\n` +
    `                  nanoseconds of host time in parallel mode (default ${FORK_SERVER_DEFAULT_BUDGET_NS})\n` +
    "  --heap-pages N  exim: pages of the master's heap, COW-shared by the tree (1..4096; default 32)\n" +
    "  --touch-pages N exim: heap pages each message's child writes, a COW fault each (0..heap pages; default 4)\n" +
    "  --buffer-pages N exim: pages each message mmaps, touches and munmaps (0..512; default 4)\n" +
    "  --deliver       exim: the child forks again to deliver (MOSBENCH's second fork): two forks per message\n" +
    "  --fixed-sizes   exim: every message the same size (default: sizes vary uniformly around the touch and buffer\n" +
    "                  pages, drawn from the seed, so that the daemons' loops do not phase-lock in virtual time)\n" +
    EXPERIMENT_OPTIONS_HELP + "\n" +
    "Exit 1 if the MM invariant checker found a violation or an object was left behind after a run.",
  async run(args) {
    const { values } = parseArgs({ args, strict: true, options: { ...EXPERIMENT_OPTIONS, workload: { type: "string" }, budget: { type: "string" },
      "heap-pages": { type: "string" }, "touch-pages": { type: "string" }, "buffer-pages": { type: "string" }, deliver: { type: "boolean" }, "fixed-sizes": { type: "boolean" } } });
    if (values.help) { console.log(this.usage); return 0; }
    const mode = modeOption("fork-server", values.mode, ["timed", "parallel"]);
    checkFileOptions(values);
    const workload = values.workload ?? "exim";
    if (workload !== "exim" && workload !== "fork_test") throw new UsageError(`--workload: "${workload}" is not exim or fork_test`);
    const cpus = cpusOption(values.cpus, mode === "parallel" ? parallelDefaultCpus(FORK_SERVER_DEFAULT_CPUS) : [...FORK_SERVER_DEFAULT_CPUS]);
    checkModeCpus(mode, cpus);
    const eras = eraList(values.era, FORK_SERVER_DEFAULT_ERAS);
    const heapPages = intOption("heap-pages", values["heap-pages"], 1, 4096, 32);
    const touchPages = intOption("touch-pages", values["touch-pages"], 0, heapPages, Math.min(4, heapPages));
    const bufferPages = intOption("buffer-pages", values["buffer-pages"], 0, 512, 4);
    const t0 = performance.now();
    const progress = createProgress("fork-server");
    const r = await runForkServer({
      ...profileOption(values.profile, mode),
      workload, eras, cpus, mode, heapPages, touchPages, bufferPages, deliver: values.deliver ?? false, varySizes: !(values["fixed-sizes"] ?? false),
      ...(mode === "parallel" ? { budgetNs: intOption("budget", values.budget, 1000, 1e12, FORK_SERVER_DEFAULT_BUDGET_NS) }
        : { budgetCycles: intOption("budget", values.budget, 1000, 1e12, FORK_SERVER_DEFAULT_BUDGET) }),
      seed: seedOption(values.seed),
      onProgress: (done, total, label) => progress.update(done, total, label),
    });
    progress.finish();
    emitExperiment({ name: "fork-server", args, result: r, title: `mmemu fork-server: ${r.workload}, ${r.mode} mode`, t0, values,
      format: (table) => formatForkServer(r, table) });
    return forkServerOk(r) ? 0 : 1;
  },
};
