// The mmemu command line. Each command has --help; errors print one line and exit with 2 (usage)
// or 1 (failure).
import { parseArgs } from "node:util";
import { readFileSync } from "node:fs";
import { runDemo } from "./demo.js";
import { MmemuError } from "./core/errors.js";
import { MAX_CPUS } from "./options.js";

interface Command {
  summary: string;
  usage: string;
  run(args: string[]): Promise<number>;
}

class UsageError extends Error {}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

function intOption(name: string, v: string | undefined, lo: number, hi: number, dflt: number): number {
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v) || Number(v) < lo || Number(v) > hi) throw new UsageError(`--${name}: "${v}" is not an integer in ${lo}..${hi}`);
  return Number(v);
}

const commands: Record<string, Command> = {
  demo: {
    summary: "boot a machine with CPUs on workers, map memory, print translations and TLB statistics",
    usage: "mmemu demo [--cpus N]\n\n  --cpus N   worker CPUs (1..64, default 2)",
    async run(args) {
      const { values } = parseArgs({ args, options: { cpus: { type: "string" }, help: { type: "boolean" } }, strict: true });
      if (values.help) { console.log(this.usage); return 0; }
      await runDemo({ cpus: intOption("cpus", values.cpus, 1, MAX_CPUS, 2) });
      return 0;
    },
  },
};

function help(): string {
  const lines = Object.entries(commands).map(([n, c]) => `  ${n.padEnd(12)}${c.summary}`);
  return `mmemu ${version()}: Linux memory-management concurrency on emulated x86-64 page tables\n\n` +
    `usage: mmemu <command> [options]     mmemu <command> --help\n\ncommands:\n${lines.join("\n")}`;
}

/** Run the CLI with argv (without node and script); resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    console.log(help());
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "-v") {
    console.log(version());
    return 0;
  }
  const cmd = commands[name];
  if (!cmd) {
    console.error(`mmemu: unknown command "${name}" (commands: ${Object.keys(commands).join(", ")}; see mmemu --help)`);
    return 2;
  }
  try {
    return await cmd.run(rest);
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      console.error(`mmemu ${name}: ${(e as Error).message}\n\n${cmd.usage}`);
      return 2;
    }
    if (e instanceof MmemuError) {
      console.error(`mmemu ${name}: ${e.name}: ${e.message}`);
      return 1;
    }
    throw e;
  }
}
