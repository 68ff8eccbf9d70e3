// The mmemu command line: main() and the commands other than the experiments (src/cli/experiments.ts;
// shared option parsing in src/cli/common.ts). Each command has --help; errors print one line and
// exit with 2 (usage) or 1 (failure).
import { parseArgs } from "node:util";
import { readFileSync, writeFileSync } from "node:fs";
import { resolve as resolvePath } from "node:path";
import { runDemo } from "./demo.js";
import { tortureParallel, tortureVirtual, type TortureResult, type VirtualTortureResult } from "./locking/torture.js";
import { LOCK_SPECS, LOCK_SPEC_HELP } from "./locking/lock-config.js";
import { table } from "./report/format.js";
import { calibrate, formatCalibration } from "./cost/calibrate.js";
import { profileToJson } from "./cost/profile.js";
import { MmemuError } from "./core/errors.js";
import { MAX_CPUS } from "./options.js";
import { experimentName, renderReport, ReportError, reportSectionNames, type ReportExperiment } from "./report/html.js";
import { createProgress } from "./report/progress.js";
import { runStart } from "./start.js";
import { commandList, intOption, profileOption, UsageError, version, type Command } from "./cli/common.js";
import { EXPERIMENT_COMMANDS } from "./cli/experiments.js";

const experiments = EXPERIMENT_COMMANDS;

function printTorture(r: TortureResult | VirtualTortureResult): void {
  const s = r.stat;
  const how = r.mode === "parallel" ? "parallel: worker threads" : r.mode === "timed"
    ? `timed, seed ${r.seed}: ${r.makespan} virtual cycles, ${r.switches} switches, schedule ${r.digest}`
    : `explore, seeds ${r.seed}..${r.seed + r.runs - 1}: ${r.runs} schedules`;
  console.log(`torture ${r.lock} (${how}): ${r.writers} writers, ${r.readers} readers, ${r.iters} iterations each, ` +
    `${r.elapsedMs.toFixed(0)} ms of host time`);
  console.log(table(["cpu", "role", "acquisitions"], s.perCpu.map((n, c) => [`CPU ${c}`, c < r.writers ? "writer" : "reader", String(n)])));
  console.log(`fairness (max/min acquisitions): ${s.fairness.toFixed(2)}; contentions ${s.contentions}, spins ${s.spins}, ` +
    `sleeps ${s.sleeps}, wake-ups ${s.wakeups}, handoffs ${s.handoffs}, steals ${s.steals}`);
  console.log(r.ok ? "PASS: mutual exclusion held" : `FAIL: ${r.errors} inconsistent sections seen, ${r.lost} writer sections lost` +
    ("failingSeed" in r && r.failingSeed !== undefined ? `; replay: mmemu torture --lock ${r.lock} --mode explore --cpus ${r.cpus} ` +
      `--iters ${r.iters} --seed ${r.failingSeed} --runs 1` : ""));
}

const commands: Record<string, Command> = {
  experiment: {
    summary: `run an experiment (${Object.keys(experiments).join(", ")}); mmemu experiment NAME --help`,
    usage: `mmemu experiment NAME [options]     mmemu experiment NAME --help\n\nexperiments:\n` +
      commandList(experiments),
    async run(args) {
      const [name, ...rest] = args;
      if (name === undefined || name === "--help" || name === "-h") { console.log(this.usage); return name === undefined ? 2 : 0; }
      const x = experiments[name];
      if (!x) throw new UsageError(`unknown experiment "${name}" (experiments: ${Object.keys(experiments).join(", ")})`);
      try {
        return await x.run(rest);
      } catch (e) {
        if (e instanceof UsageError || (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
          console.error(`mmemu experiment ${name}: ${(e as Error).message}`);
          return 2;
        }
        throw e;
      }
    },
  },
  torture: {
    summary: "hammer one lock type with writers and readers and check that it excludes (locktorture)",
    usage: "mmemu torture [--lock TYPE] [--mode timed|parallel|explore] [--cpus N] [--seed S] [--runs N] [--readers N] [--iters N] [--json]\n\n" +
      `  --lock TYPE   one of:\n${LOCK_SPECS.map((l) => `                  ${l.padEnd(14)}${LOCK_SPEC_HELP[l]}`).join("\n")}\n` +
      "                (default ticket)\n" +
      "  --mode M      timed: deterministic, in virtual time (default); parallel: one worker thread per CPU;\n" +
      "                explore: schedules chosen to find races (PCT), stopping at the first that breaks the lock\n" +
      "  --cpus N      CPUs (1..64, default 4; parallel mode: at most the host's cores makes sense)\n" +
      "  --seed S      seed of the timed run, or the first explored schedule (default 1)\n" +
      "  --runs N      explore: schedules to try (default 100)\n" +
      "  --readers N   CPUs that take the lock for read (default: half of them for an rwsem, else 0)\n" +
      "  --iters N     acquisitions per CPU (default 20000)\n" +
      "  --json        print the result as JSON\n\nExit code 1 when the lock failed to exclude.",
    async run(args) {
      const { values } = parseArgs({ args, strict: true, options: {
        lock: { type: "string" }, mode: { type: "string" }, cpus: { type: "string" }, readers: { type: "string" },
        iters: { type: "string" }, seed: { type: "string" }, runs: { type: "string" }, json: { type: "boolean" },
        help: { type: "boolean" } } });
      if (values.help) { console.log(this.usage); return 0; }
      const mode = values.mode ?? "timed";
      if (mode !== "parallel" && mode !== "timed" && mode !== "explore") {
        throw new UsageError(`--mode: "${mode}" is not a mode (timed, parallel, explore)`);
      }
      const cpus = intOption("cpus", values.cpus, 1, MAX_CPUS, 4);
      const common = {
        lock: values.lock ?? "ticket", cpus, iters: intOption("iters", values.iters, 1, 1e9, mode === "explore" ? 50 : 20_000),
        readers: values.readers === undefined ? undefined : intOption("readers", values.readers, 0, cpus - 1, 0) };
      const r = mode === "parallel" ? await tortureParallel(common)
        : await tortureVirtual({ ...common, mode, seed: intOption("seed", values.seed, 0, Number.MAX_SAFE_INTEGER, 1),
          runs: intOption("runs", values.runs, 1, 1e6, 100) });
      if (values.json) console.log(JSON.stringify(r, (_, v) => (typeof v === "bigint" ? v.toString() : v), 2));
      else printTorture(r);
      return r.ok ? 0 : 1;
    },
  },
  report: {
    summary: "render a self-contained HTML report (tables, charts) from saved experiment JSON (--out files)",
    usage: "mmemu report --from FILE.json [--from FILE.json ...] --out FILE.html [--title TEXT] [--scale linear|log|both]\n\n" +
      "  --from FILE    an experiment's JSON (mmemu experiment NAME --out FILE, or mmemu start --json FILE: both\n" +
      "                 of its results); repeat it (or list more files\n" +
      "                 after the options) for one report of several experiments, in the order given\n" +
      "  --out FILE     the HTML file to write (self-contained: opens from disk without a server)\n" +
      "  --title TEXT   the report's title (default: mmemu report: the experiments' names)\n" +
      "  --scale S      throughput charts' y axis: linear, log, or both with a switch (default both)\n\n" +
      `Experiments it can draw: ${reportSectionNames().join(", ")} (chosen by each JSON's "experiment" field; "start": both).`,
    async run(args) {
      const { values, positionals } = parseArgs({ args, strict: true, allowPositionals: true, options: {
        from: { type: "string", multiple: true }, out: { type: "string" }, title: { type: "string" }, scale: { type: "string" },
        help: { type: "boolean" } } });
      if (values.help) { console.log(this.usage); return 0; }
      const files = [...(values.from ?? []), ...positionals];
      if (files.length === 0) throw new UsageError("--from: expected at least one experiment JSON file");
      if (values.out === undefined || values.out === "") throw new UsageError("--out: expected the HTML file to write");
      const scale = values.scale ?? "both";
      if (scale !== "linear" && scale !== "log" && scale !== "both") throw new UsageError(`--scale: "${scale}" is not linear, log or both`);
      const experimentsIn: ReportExperiment[] = files.flatMap((file): ReportExperiment[] => {
        let text: string;
        try { text = readFileSync(file, "utf8"); } catch (e) { throw new UsageError(`--from: cannot read ${file} (${(e as Error).message})`); }
        let result: unknown;
        try { result = JSON.parse(text); } catch (e) { throw new UsageError(`--from: ${file} is not JSON (${(e as Error).message})`); }
        try {
          const name = experimentName(result);
          if (name === "start") { // mmemu start --json: both results in one file
            const both = result as { aim9Brk?: unknown; rmapLocks?: unknown };
            if (both.aim9Brk === undefined || both.rmapLocks === undefined) throw new ReportError("a start result lacks aim9Brk or rmapLocks");
            return [{ name: "aim9-brk", result: both.aim9Brk, charts: { yScale: scale } }, { name: "rmap-locks", result: both.rmapLocks, charts: { yScale: scale } }];
          }
          if (!reportSectionNames().includes(name)) {
            throw new ReportError(`no report for experiment "${name}" (reports exist for: ${reportSectionNames().join(", ")})`);
          }
          return [{ name, result, charts: { yScale: scale } }];
        } catch (e) {
          throw new UsageError(`--from: ${file}: ${(e as Error).message}`);
        }
      });
      let html: string;
      try {
        html = renderReport({ title: values.title ?? `mmemu report: ${experimentsIn.map((x) => x.name).join(", ")}`,
          subtitle: `mmemu ${version()}, ${new Date().toISOString()}, from ${files.join(", ")}`, experiments: experimentsIn });
      } catch (e) {
        if (e instanceof ReportError) throw new UsageError(e.message);
        throw e;
      }
      writeFileSync(values.out, html);
      console.log(`HTML report written to ${values.out}`);
      return 0;
    },
  },
  start: {
    summary: "run aim9-brk and rmap-locks at their default sizes, print both tables, write one HTML report",
    usage: "mmemu start [--out FILE] [--json FILE] [--seed S] [--profile FILE]\n\n" +
      "Runs, in timed mode (deterministic virtual time), aim9-brk (every era, CPUs 1,2,4,8,16,32, processes forked\n" +
      "from one parent, 1 loop) and rmap-locks (8 anon_vma lock configurations, fork trees 2x2 and 4x2, CPUs\n" +
      "2,4,8), with a progress bar on stderr; prints both tables and writes one self-contained HTML report.\n\n" +
      "  --out FILE    the HTML report to write (default mmemu-report.html in the current directory)\n" +
      "  --json FILE   also write both results as JSON to FILE (mmemu report --from FILE redraws the report)\n" +
      "  --seed S      seed of both timed schedules (default 1): the same seed gives the same figures\n" +
      "  --profile FILE the cost profile of virtual time (mmemu calibrate --out FILE writes this host's; default the shipped one)\n\n" +
      "Each experiment alone, with more options: mmemu experiment aim9-brk --help, mmemu experiment rmap-locks --help.\n" +
      "Exit 1 if an aim9-brk loop check or an rmap-locks MM invariant check failed.",
    async run(args) {
      // --tiny (not in the usage): a run of a few seconds, for the tests.
      const { values } = parseArgs({ args, strict: true, options: {
        out: { type: "string" }, json: { type: "string" }, seed: { type: "string" }, profile: { type: "string" }, tiny: { type: "boolean" },
        help: { type: "boolean" } } });
      if (values.help) { console.log(this.usage); return 0; }
      if (values.out === "") throw new UsageError("--out: expected a file name");
      if (values.json === "") throw new UsageError("--json: expected a file name");
      const seed = intOption("seed", values.seed, 0, Number.MAX_SAFE_INTEGER, 1);
      const profile = profileOption(values.profile, "timed");
      const out = resolvePath(values.out ?? "mmemu-report.html");
      const t0 = performance.now();
      const { result, html } = runStart({
        seed, progress: (name) => createProgress(name),
        aim9: { ...profile, ...(values.tiny ? { eras: ["2.6.25", "2008-rwsem"], cpus: [1, 2] } : {}) },
        rmap: { ...profile, ...(values.tiny ? { configs: ["spinlock", "rwsem-shared"], cpus: [2], trees: [{ width: 2, depth: 1 }], pages: 4,
          budgetCycles: 200_000 } : {}) },
        subtitle: `mmemu ${version()}, ${new Date().toISOString()}: mmemu start ${args.join(" ")}`.trimEnd(),
      });
      writeFileSync(out, html);
      if (values.json !== undefined) writeFileSync(values.json, JSON.stringify(result, null, 2) + "\n");
      console.log(`\n${((performance.now() - t0) / 1000).toFixed(1)} s of host time` + (values.json !== undefined ? `; JSON written to ${values.json}` : ""));
      console.log(`HTML report written to ${out}`);
      if (!result.ok) console.error("mmemu start: a loop check or an MM invariant check failed (see the tables)");
      return result.ok ? 0 : 1;
    },
  },
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
  calibrate: {
    summary: "measure this host's costs for the virtual-time cost model, next to the shipped defaults",
    usage: "mmemu calibrate [--out FILE] [--json] [--ghz X] [--quick]\n\n" +
      "  --out FILE  write the calibrated cost profile (JSON, for the timed and explore modes) to FILE\n" +
      "  --json      print the whole result (measurements, constants, profile) as JSON\n" +
      "  --ghz X     convert ns to cycles at X GHz instead of the measured clock\n" +
      "  --quick     fewer and shorter samples (a few seconds instead of ~15)\n\n" +
      "Measures with two worker CPUs where it needs them; run it on a quiet machine. The deterministic\n" +
      "modes never measure the host: they use the shipped defaults or a profile written here.",
    async run(args) {
      const { values } = parseArgs({ args, strict: true, options: {
        out: { type: "string" }, json: { type: "boolean" }, ghz: { type: "string" }, quick: { type: "boolean" }, help: { type: "boolean" } } });
      if (values.help) { console.log(this.usage); return 0; }
      let ghz: number | undefined;
      if (values.ghz !== undefined) {
        ghz = Number(values.ghz);
        if (!/^\d+(\.\d+)?$/.test(values.ghz) || !(ghz > 0 && ghz <= 100)) throw new UsageError(`--ghz: "${values.ghz}" is not a clock in GHz (e.g. 2.5)`);
      }
      const r = await calibrate({ size: values.quick ? "quick" : "full", ghz, log: values.json ? undefined : (l) => process.stderr.write(`${l}\n`) });
      if (values.out !== undefined) writeFileSync(values.out, profileToJson(r.profile));
      if (values.json) console.log(JSON.stringify(r, null, 2));
      else console.log(formatCalibration(r) + (values.out !== undefined ? `\nProfile written to ${values.out}.` : ""));
      return 0;
    },
  },
};

function help(): string {
  return `mmemu ${version()}: Linux memory-management concurrency on emulated x86-64 page tables\n\n` +
    `usage: mmemu <command> [options]     mmemu <command> --help\n\ncommands:\n${commandList(commands)}`;
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
