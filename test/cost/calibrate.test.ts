// `mmemu calibrate` at its tiny size: every measurement happens (on the host thread and on two worker
// CPUs) and is positive, every constant is in the result next to its default, and the calibrated
// profile is a valid profile. The figures themselves are not meaningful at this size.
import { describe, it, expect } from "vitest";
import { calibrate, formatCalibration, MEASUREMENTS } from "../../src/cost/calibrate.js";
import { COST_NAMES, parseProfile } from "../../src/cost/profile.js";
import { DEFAULT_PROFILE } from "../../src/cost/default-profile.js";
import { main } from "../../src/cli.js";

describe("calibrate", () => {
  it("measures every figure and makes a valid profile from them (tiny size)", async () => {
    // No time budget is asserted here (a timed test flakes on a loaded machine); the suite's timeout bounds it.
    const r = await calibrate({ size: "tiny", defaultTiering: true });

    for (const k of MEASUREMENTS) {
      const m = r.measurements[k];
      expect(Number.isFinite(m.ns) && m.ns > 0, `${k}: ${m.ns}`).toBe(true);
      expect(m.samples).toBeGreaterThan(0);
    }
    expect(r.clock.measuredGhz).toBeGreaterThan(0);
    expect(r.clock.ghz).toBe(r.clock.measuredGhz);

    expect(r.constants.map((c) => c.name)).toEqual([...COST_NAMES]);
    const measured = r.constants.filter((c) => c.measured).map((c) => c.name);
    expect(measured).toEqual(["load_l1", "load_llc", "load_mem", "atomic", "line_transfer", "wakeup", "wake_latency", "walk_level"]);
    for (const c of r.constants) {
      expect(c.defaultCycles).toBe(DEFAULT_PROFILE.costs[c.name].cycles);
      if (c.measured) {
        expect(c.cycles, c.name).toBeGreaterThan(0);
        expect(r.profile.costs[c.name].source).toMatch(/^measured: /);
      } else {
        expect(r.profile.costs[c.name]).toEqual(DEFAULT_PROFILE.costs[c.name]);
        expect(c.how).toMatch(/^not measured: /);
      }
    }
    expect(() => parseProfile(JSON.parse(JSON.stringify(r.profile)))).not.toThrow();
    expect(r.profile.ghzSource).toMatch(/^measured: /);

    const text = formatCalibration(r);
    for (const name of COST_NAMES) expect(text).toContain(name);
  });

  it("converts at a given clock", async () => {
    const r = await calibrate({ size: "tiny", ghz: 2, defaultTiering: true });
    expect(r.profile.ghz).toBe(2);
    expect(r.profile.ghzSource).toMatch(/^given: --ghz 2/);
    const l1 = r.constants.find((c) => c.name === "load_l1")!;
    expect(l1.cycles).toBe(Math.max(1, Math.round(l1.ns! * 2)));
  });

  it("refuses bad options", async () => {
    await expect(calibrate({ ghz: 0 })).rejects.toThrow(/ghz: 0 is not a clock/);
    await expect(calibrate({ size: "huge" as never })).rejects.toThrow(/size "huge"/);
    expect(await main(["calibrate", "--ghz", "fast"])).toBe(2);
    expect(await main(["calibrate", "--bogus"])).toBe(2);
  });
});
