// The experiments' shared command-line options (src/cli/common.ts): --profile runs timed mode with a
// cost profile from a file (what `mmemu calibrate --out FILE` writes) and is refused in parallel mode
// or for a file that is not a profile; the command lists are padded to their longest name.
import { describe, it, expect, vi, afterEach } from "vitest";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { commandList, profileOption, UsageError } from "../../src/cli/common.js";
import { DEFAULT_PROFILE } from "../../src/cost/default-profile.js";
import { profileToJson } from "../../src/cost/profile.js";
import type { Aim9BrkResult } from "../../src/experiments/aim9-brk.js";
import { main } from "../../src/cli.js";

/** A profile file: the shipped one with a dearer system call and its own description. */
function slowSyscallProfile(dir: string): string {
  const file = join(dir, "slow.json");
  const p = structuredClone(DEFAULT_PROFILE);
  p.description = "test: the shipped profile with a system call ten times dearer";
  p.costs.syscall = { cycles: DEFAULT_PROFILE.costs.syscall.cycles * 10, source: "measured: a test's stand-in, ten times the shipped value" };
  writeFileSync(file, profileToJson(p));
  return file;
}

describe("experiment options: --profile", () => {
  afterEach(() => vi.restoreAllMocks());

  it("profileOption: nothing without a file, the profile with one, usage errors otherwise", () => {
    const dir = mkdtempSync(join(tmpdir(), "mmemu-profile-"));
    expect(profileOption(undefined, "timed")).toEqual({});
    const file = slowSyscallProfile(dir);
    expect(profileOption(file, "timed").profile!.costs.syscall.cycles).toBe(DEFAULT_PROFILE.costs.syscall.cycles * 10);
    expect(() => profileOption(file, "parallel")).toThrow(UsageError);
    expect(() => profileOption(join(dir, "missing.json"), "timed")).toThrow(/--profile: cost profile .*cannot read it/);
    writeFileSync(join(dir, "bad.json"), "{}");
    expect(() => profileOption(join(dir, "bad.json"), "timed")).toThrow(UsageError);
  });

  it("an experiment run with --profile uses that cost model and names it in the JSON; bad uses exit 2", async () => {
    vi.spyOn(console, "log").mockImplementation(() => {});
    vi.spyOn(console, "error").mockImplementation(() => {});
    vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    const dir = mkdtempSync(join(tmpdir(), "mmemu-profile-"));
    const file = slowSyscallProfile(dir);
    const run = async (extra: string[]) => {
      const out = join(dir, `r${extra.length}.json`);
      expect(await main(["experiment", "aim9-brk", "--era", "2.6.25", "--cpus", "1", "--out", out, ...extra])).toBe(0);
      return JSON.parse(readFileSync(out, "utf8")) as Aim9BrkResult;
    };
    const shipped = await run([]), slow = await run(["--profile", file]);
    expect(shipped.profile).toBe(DEFAULT_PROFILE.description);
    expect(slow.profile).toBe("test: the shipped profile with a system call ten times dearer");
    expect(slow.runs[0]!.opsPerSec).toBeLessThan(shipped.runs[0]!.opsPerSec);
    expect(await main(["experiment", "aim9-brk", "--profile", join(dir, "missing.json")])).toBe(2);
    expect(await main(["experiment", "aim9-brk", "--mode", "parallel", "--cpus", "1", "--profile", file])).toBe(2);
  });

  it("command lists pad every name to the longest", () => {
    expect(commandList({ a: { summary: "one" }, "longer-name": { summary: "two" } }).split("\n"))
      .toEqual(["  a            one", "  longer-name  two"]);
  });
});
