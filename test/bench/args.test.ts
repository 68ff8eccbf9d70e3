// The benchmarks' shared command line (bench/lib/args.ts): every option that bench/walk.ts,
// sched.ts, locks.ts and mm.ts accept keeps working, and bad arguments end with status 2.
import { describe, it, expect, vi, afterEach } from "vitest";
import { parseBenchArgs, usage, type BenchArgSpec } from "../../bench/lib/args.js";

const spec = (argv: string[]): BenchArgSpec => ({
  name: "bench:test", script: "dist/bench/test.js", defaultOut: "/tmp/default.json",
  flags: ["--no-native"], options: { stat: "min|median|mean", seed: "N" }, argv,
});

class Exit extends Error { constructor(readonly code: number) { super(`exit ${code}`); } }

function exitCode(f: () => unknown): number {
  const exit = vi.spyOn(process, "exit").mockImplementation((code?: string | number | null) => { throw new Exit(Number(code ?? 0)); });
  const err = vi.spyOn(console, "error").mockImplementation(() => {});
  const log = vi.spyOn(console, "log").mockImplementation(() => {});
  try {
    f();
    return -1;
  } catch (e) {
    if (e instanceof Exit) return e.code;
    throw e;
  } finally {
    exit.mockRestore();
    err.mockRestore();
    log.mockRestore();
  }
}

describe("bench/lib/args", () => {
  afterEach(() => vi.restoreAllMocks());

  it("defaults: full run, table output, TurboFan only, min statistic, the default JSON path", () => {
    const a = parseBenchArgs(spec([]));
    expect([a.quick, a.json, a.turbofanOnly, a.out, a.stat, a.statKey]).toEqual([false, false, true, "/tmp/default.json", "min", "nsMin"]);
    expect(a.flag("--no-native")).toBe(false);
  });

  it("parses the common flags, the benchmark's flags and its --name=VALUE options", () => {
    const a = parseBenchArgs(spec(["--quick", "--json", "--default-tiering", "--no-native", "--stat=median", "--seed=7", "--out=/x/y.json"]));
    expect([a.quick, a.json, a.turbofanOnly, a.out, a.stat, a.statKey]).toEqual([true, true, false, "/x/y.json", "median", "nsMedian"]);
    expect(a.flag("--no-native")).toBe(true);
    expect(a.option("seed")).toBe("7");
  });

  it("exits with 2 on an unknown argument, a flag of another benchmark, or a bad --stat", () => {
    expect(exitCode(() => parseBenchArgs(spec(["--bogus"])))).toBe(2);
    expect(exitCode(() => parseBenchArgs({ ...spec(["--no-native"]), flags: [] }))).toBe(2);
    expect(exitCode(() => parseBenchArgs(spec(["--stat=max"])))).toBe(2);
    expect(exitCode(() => parseBenchArgs(spec(["--stat=toString"])))).toBe(2);
  });

  it("--help prints the usage line and exits with 0", () => {
    expect(exitCode(() => parseBenchArgs(spec(["--help"])))).toBe(0);
    expect(usage(spec([]))).toBe("usage: node --expose-gc dist/bench/test.js [--quick] [--json] [--no-native] [--default-tiering] [--stat=min|median|mean] [--seed=N] [--out=PATH]");
  });
});
