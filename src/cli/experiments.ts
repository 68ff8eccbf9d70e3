// The experiments of `mmemu experiment NAME`, one command file each (src/cli/experiment-NAME.ts).
// A new experiment: its command file, one line here, and its report section (src/report/html.ts).
import type { Command } from "./common.js";
import { aim9BrkCommand } from "./experiment-aim9-brk.js";
import { rmapLocksCommand } from "./experiment-rmap-locks.js";
import { willItScaleCommand } from "./experiment-will-it-scale.js";
import { forkServerCommand } from "./experiment-fork-server.js";
import { historyCommand } from "./experiment-history.js";

export const EXPERIMENT_COMMANDS: Record<string, Command> = {
  "aim9-brk": aim9BrkCommand,
  "rmap-locks": rmapLocksCommand,
  "will-it-scale": willItScaleCommand,
  "fork-server": forkServerCommand,
  history: historyCommand,
};
