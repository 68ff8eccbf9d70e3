// mmemu experiment history (src/experiments/history.ts).
import { parseArgs } from "node:util";
import { formatHistory, HISTORY, HISTORY_DEFAULT_BUDGET, HISTORY_DEFAULT_BUDGET_NS, HISTORY_DEFAULT_CPUS, HISTORY_IDS, runHistory } from "../experiments/history.js";
import { hostCores } from "../experiments/parallel.js";
import { createProgress } from "../report/progress.js";
import { checkFileOptions, checkModeCpus, cpusOption, emitExperiment, EXPERIMENT_OPTIONS, EXPERIMENT_OPTIONS_HELP, intOption, modeOption, profileOption, seedOption,
  UsageError, type Command } from "./common.js";

export const historyCommand: Command = {
  summary: "the kernel's lock regressions (2008-2014) side by side with the emulator's figures, each with its source",
  usage: "mmemu experiment history [--cpus 8,32] [--only ID[,ID...]] [--loops N] [--budget N] [--mode timed|parallel] [--seed S]\n" +
    "                           [--json] [--out FILE] [--report FILE]\n\n" +
    "Each comparison runs the eras before and after a kernel change on one workload (AIM9 brk_test, the exim-like\n" +
    "fork server, AIM7 fork_test) and sets the emulator's relative change next to the one reported at the time,\n" +
    "with a verdict: agrees, direction only, disagrees.\n\n" +
    "  --cpus LIST     CPU counts to run every comparison at (each 2..64; default 8,32; parallel: up to the host's\n" +
    "                  cores, default the host's core count)\n" +
    `  --only LIST     comparisons (default all):\n${HISTORY.map((c) => `                    ${c.id.padEnd(26)}${c.before} -> ${c.after}: ${c.historical.text}`).join("\n")}\n` +
    "  --loops N       AIM9 loops per task in the brk comparisons (default 1)\n" +
    `  --budget N      per CPU of the fork-server runs (1000..1000000000000): virtual cycles in timed mode (default ${HISTORY_DEFAULT_BUDGET}),\n` +
    `                  nanoseconds of host time in parallel mode (default ${HISTORY_DEFAULT_BUDGET_NS})\n` +
    "  --mode M        timed (default): deterministic virtual time from the cost model, any CPU count;\n" +
    "                  parallel: the sub-experiments' parallel modes (one worker thread per CPU, host time, not\n" +
    "                  reproducible): host time on this machine's few cores, not comparable in size with history's\n" +
    "                  32-80-core machines; the verdict rule is the same\n" +
    EXPERIMENT_OPTIONS_HELP + "\n" +
    "A disagreement with history is a finding, not a failure; exit 1 only if a run failed its own checks.",
  async run(args) {
    const { values } = parseArgs({ args, strict: true, options: { ...EXPERIMENT_OPTIONS, only: { type: "string" }, loops: { type: "string" },
      budget: { type: "string" } } });
    if (values.help) { console.log(this.usage); return 0; }
    if (values.era !== undefined) throw new UsageError("--era: each comparison names its own eras; choose comparisons with --only");
    const mode = modeOption("history", values.mode, ["timed", "parallel"]);
    checkFileOptions(values);
    const comparisons = values.only === undefined ? [...HISTORY_IDS] : values.only.split(",");
    for (const c of comparisons) {
      if (!HISTORY_IDS.includes(c)) throw new UsageError(`--only: unknown comparison "${c}" (comparisons: ${HISTORY_IDS.join(", ")})`);
    }
    const t0 = performance.now();
    const progress = createProgress("history");
    if (mode === "parallel" && values.cpus === undefined && hostCores() < 2) {
      throw new UsageError(`--mode parallel: history needs at least 2 CPUs and this host has ${hostCores()} core (use timed mode)`);
    }
    const cpus = cpusOption(values.cpus, mode === "parallel" ? [hostCores()] : HISTORY_DEFAULT_CPUS, 2);
    checkModeCpus(mode, cpus);
    const r = await runHistory({
      ...profileOption(values.profile, mode),
      comparisons, mode, cpus, seed: seedOption(values.seed),
      loops: intOption("loops", values.loops, 1, 1_000_000, 1),
      ...(mode === "parallel" ? { budgetNs: intOption("budget", values.budget, 1000, 1e12, HISTORY_DEFAULT_BUDGET_NS) }
        : { budgetCycles: intOption("budget", values.budget, 1000, 1e12, HISTORY_DEFAULT_BUDGET) }),
      onProgress: (done, total, label) => progress.update(done, total, label),
    });
    progress.finish();
    emitExperiment({ name: "history", args, result: r, title: `mmemu history: kernel lock regressions against the emulator, ${r.mode} mode`, t0, values,
      format: (table) => formatHistory(r, table) });
    if (!r.ok) console.error("mmemu experiment history: a measured run failed its own check (see measurements in the JSON)");
    return r.ok ? 0 : 1;
  },
};
