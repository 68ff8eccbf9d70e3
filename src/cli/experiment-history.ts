// mmemu experiment history (src/experiments/history.ts).
import { parseArgs } from "node:util";
import { formatHistory, HISTORY, HISTORY_DEFAULT_BUDGET, HISTORY_DEFAULT_CPUS, HISTORY_IDS, runHistory } from "../experiments/history.js";
import { createProgress } from "../report/progress.js";
import { checkFileOptions, cpusOption, emitExperiment, EXPERIMENT_OPTIONS, EXPERIMENT_OPTIONS_HELP, intOption, modeOption, seedOption,
  UsageError, type Command } from "./common.js";

export const historyCommand: Command = {
  summary: "the kernel's lock regressions (2008-2014) side by side with the emulator's figures, each with its source",
  usage: "mmemu experiment history [--cpus 8,32] [--only ID[,ID...]] [--loops N] [--budget CYCLES] [--mode timed] [--seed S]\n" +
    "                           [--json] [--out FILE] [--report FILE]\n\n" +
    "Each comparison runs the eras before and after a kernel change on one workload (AIM9 brk_test, the exim-like\n" +
    "fork server, AIM7 fork_test) and sets the emulator's relative change next to the one reported at the time,\n" +
    "with a verdict: agrees, direction only, disagrees.\n\n" +
    "  --cpus LIST     CPU counts to run every comparison at (each 2..64; default 8,32)\n" +
    `  --only LIST     comparisons (default all):\n${HISTORY.map((c) => `                    ${c.id.padEnd(26)}${c.before} -> ${c.after}: ${c.historical.text}`).join("\n")}\n` +
    "  --loops N       AIM9 loops per task in the brk comparisons (default 1)\n" +
    "  --budget CYCLES virtual cycles per CPU of the fork-server runs (1000..1000000000000; default 40000000)\n" +
    "  --mode timed    deterministic, in virtual time (history needs the cost model: the only mode)\n" +
    EXPERIMENT_OPTIONS_HELP + "\n" +
    "A disagreement with history is a finding, not a failure; exit 1 only if a run failed its own checks.",
  async run(args) {
    const { values } = parseArgs({ args, strict: true, options: { ...EXPERIMENT_OPTIONS, only: { type: "string" }, loops: { type: "string" },
      budget: { type: "string" } } });
    if (values.help) { console.log(this.usage); return 0; }
    if (values.era !== undefined) throw new UsageError("--era: each comparison names its own eras; choose comparisons with --only");
    const mode = modeOption("history", values.mode, ["timed"]);
    checkFileOptions(values);
    const comparisons = values.only === undefined ? [...HISTORY_IDS] : values.only.split(",");
    for (const c of comparisons) {
      if (!HISTORY_IDS.includes(c)) throw new UsageError(`--only: unknown comparison "${c}" (comparisons: ${HISTORY_IDS.join(", ")})`);
    }
    const t0 = performance.now();
    const progress = createProgress("history");
    const r = runHistory({
      comparisons, mode, cpus: cpusOption(values.cpus, HISTORY_DEFAULT_CPUS, 2), seed: seedOption(values.seed),
      loops: intOption("loops", values.loops, 1, 1_000_000, 1),
      budgetCycles: intOption("budget", values.budget, 1000, 1e12, HISTORY_DEFAULT_BUDGET),
      onProgress: (done, total, label) => progress.update(done, total, label),
    });
    progress.finish();
    emitExperiment({ name: "history", args, result: r, title: "mmemu history: kernel lock regressions against the emulator", t0, values,
      format: (table) => formatHistory(r, table) });
    if (!r.ok) console.error("mmemu experiment history: a measured run failed its own check (see measurements in the JSON)");
    return r.ok ? 0 : 1;
  },
};
