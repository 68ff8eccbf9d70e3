// The cost profile: the name table against the core's cost ids, the shipped default's completeness and
// provenance, the loader's validation, and what applyProfile does to the core.
import { describe, it, expect, afterAll } from "vitest";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Mmu, ConfigError, ErrnoError, MmemuError, type CoreExports } from "../../src/index.js";
import { constant } from "../../src/core/abi.js";
import { resolveOptions } from "../../src/options.js";
import {
  COST_NAMES, applyProfile, checkCostIds, costExportName, costCycles, cyclesByName, loadProfile, parseProfile, profileToJson,
  type CostProfile,
} from "../../src/cost/profile.js";
import { DEFAULT_PROFILE } from "../../src/cost/default-profile.js";

const dir = mkdtempSync(join(tmpdir(), "mmemu-cost-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function file(content: unknown): string {
  const path = join(dir, `p${n++}.json`);
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
}

/** A deep copy of the default profile as plain JSON data, to break in one place. */
function json(): Record<string, unknown> & { costs: Record<string, Record<string, unknown>> } {
  return JSON.parse(profileToJson(DEFAULT_PROFILE));
}

describe("cost names", () => {
  it("has one name per core cost id, each at its COST_* id", () => {
    for (const debug of [false, true]) {
      const x = Mmu.create({ memory: "1MiB", debug }).exports;
      expect(COST_NAMES.length).toBe(constant(x, "NR_COSTS"));
      COST_NAMES.forEach((name, id) => expect(constant(x, costExportName(name) as keyof CoreExports), name).toBe(id));
      expect(() => checkCostIds(x)).not.toThrow();
    }
  });
});

describe("the default profile", () => {
  it("prices every cost with a whole number of cycles and says where each comes from", () => {
    const p = parseProfile(DEFAULT_PROFILE, "default");
    expect(Object.keys(p.costs)).toEqual([...COST_NAMES]);
    for (const name of COST_NAMES) {
      const c = p.costs[name];
      expect(Number.isInteger(c.cycles) && c.cycles > 0, name).toBe(true);
      expect(c.source, name).toMatch(/^(measured|literature): \S.{20,}/);
    }
    expect(p.ghz).toBeGreaterThan(0);
    expect(p.ghzSource).toMatch(/^(measured|literature|given): /);
    expect(costCycles(p)).toEqual(COST_NAMES.map((name) => DEFAULT_PROFILE.costs[name].cycles));
    expect(cyclesByName(p).atomic).toBe(DEFAULT_PROFILE.costs.atomic.cycles);
  });

  it("survives a round trip through its JSON file", () => {
    expect(loadProfile(file(profileToJson(DEFAULT_PROFILE)))).toEqual(parseProfile(DEFAULT_PROFILE));
  });
});

describe("loadProfile validation", () => {
  const refuses = (content: unknown, message: RegExp) => {
    const path = file(content);
    expect(() => loadProfile(path)).toThrow(ConfigError);
    expect(() => loadProfile(path)).toThrow(message);
  };

  it("names a missing cost", () => {
    const p = json();
    delete p.costs.load_llc;
    refuses(p, /costs\.load_llc: missing/);
  });

  it("names an unknown cost", () => {
    const p = json();
    p.costs.load_l4 = { cycles: 1, source: "literature: nowhere in particular" };
    refuses(p, /costs\.load_l4: unknown cost \(costs: load_l1, load_llc/);
  });

  it("names cycles that are not whole, non-negative 32-bit numbers", () => {
    for (const bad of [1.5, -1, "20", null, 2 ** 32]) {
      const p = json();
      p.costs.atomic!.cycles = bad;
      refuses(p, /costs\.atomic\.cycles: .* is not a whole, non-negative number of cycles/);
    }
  });

  it("requires a provenance for every constant", () => {
    for (const bad of [undefined, "", "tuned: looked right", "measured:", 42]) {
      const p = json();
      p.costs.spin!.source = bad;
      refuses(p, /costs\.spin\.source: the provenance must be a string starting with "measured:" or "literature:"/);
    }
    const given = json();
    given.costs.spin!.source = "given: by hand";
    refuses(given, /costs\.spin\.source/);
  });

  it("names unknown keys, a bad clock and a bad schema", () => {
    const extra = json();
    extra.costs.atomic!.note = "x";
    refuses(extra, /costs\.atomic\.note: unknown key/);
    const top = json();
    top.cost = {};
    refuses(top, /cost: unknown key/);
    for (const ghz of [0, -3, "3", null]) {
      const p = json();
      p.ghz = ghz;
      refuses(p, /ghz: .* is not a clock/);
    }
    const src = json();
    src.ghzSource = "3 GHz";
    refuses(src, /ghzSource: the provenance/);
    const schema = json();
    schema.schema = "mmemu-cost-profile/0";
    refuses(schema, /schema: "mmemu-cost-profile\/0"/);
    refuses([], /expected an object/);
  });

  it("says when the file is missing or not JSON", () => {
    expect(() => loadProfile(join(dir, "nope.json"))).toThrow(/cannot read it \(ENOENT\)/);
    refuses("{ ghz: 3", /not JSON/);
  });
});

/** A stand-in core that records cost_set calls (and refuses one id if asked). */
function fakeCore(nrCosts: number, refuse = -1): { x: CoreExports; calls: [number, number][] } {
  const calls: [number, number][] = [];
  const x = {
    NR_COSTS: { value: nrCosts },
    cost_set(id: number, cycles: number): number {
      calls.push([id, cycles]);
      return id === refuse || id < 0 || id >= nrCosts ? -22 : 0;
    },
  } as unknown as CoreExports;
  return { x, calls };
}

describe("applyProfile", () => {
  it("sets every cost id to the profile's cycles, in id order", () => {
    const { x, calls } = fakeCore(COST_NAMES.length);
    applyProfile(x, DEFAULT_PROFILE);
    expect(calls).toEqual(COST_NAMES.map((name, id) => [id, DEFAULT_PROFILE.costs[name].cycles]));
  });

  it("throws, naming the cost, when the core refuses one", () => {
    const { x } = fakeCore(COST_NAMES.length, 7);
    expect(() => applyProfile(x, DEFAULT_PROFILE)).toThrow(ErrnoError);
    expect(() => applyProfile(x, DEFAULT_PROFILE)).toThrow(/cost_set: .*ipi_deliver \(id 7\)/);
  });

  it("refuses a core whose cost ids the name table does not match", () => {
    expect(() => applyProfile(fakeCore(COST_NAMES.length + 1).x, DEFAULT_PROFILE)).toThrow(MmemuError);
    expect(() => applyProfile(fakeCore(COST_NAMES.length - 1).x, DEFAULT_PROFILE)).toThrow(/out of date with assembly\/kernel\/cost.ts/);
  });

  it("works against the real core, which refuses ids out of range", () => {
    const x = Mmu.create({ memory: "1MiB" }).exports;
    expect(() => applyProfile(x, DEFAULT_PROFILE)).not.toThrow();
    expect(x.cost_set(COST_NAMES.length, 1)).toBe(-22);
    expect(x.cost_set(-1, 1)).toBe(-22);
    expect(x.cost_set(0, 0xffff_ffff)).toBe(0);
  });

  it("changes what the virtual build charges", () => {
    // A virtual machine driven from the host outside a scheduler run: no CPU is switched out, every
    // charge lands on CPU 0's virtual clock.
    const mmu = Mmu.boot(resolveOptions({ cpus: 1, memory: "1MiB" }, 1), { virtual: true });
    const x = mmu.exports;
    const clock = () => new BigUint64Array(x.memory.buffer)[(x.cpu_percpu(0) + constant(x, "PC_VCLOCK")) / 8]!;
    const cache = x.cpu_kmem_cache_create(0, 64);
    const lock = x.cpu_kmem_cache_alloc(0, cache, 1);
    expect(x.mm_lock_init(lock, constant(x, "LOCK_CLASS_TORTURE_A"), 0)).toBe(0);
    const charged = (p: CostProfile) => {
      applyProfile(x, p);
      const t0 = clock();
      expect(x.cpu_lock_acquire(0, lock, 0)).toBe(0);
      expect(x.cpu_lock_release(0, lock, 0)).toBe(0);
      return Number(clock() - t0);
    };
    const only = (name: (typeof COST_NAMES)[number], cycles: number): CostProfile => ({
      ...DEFAULT_PROFILE,
      costs: Object.fromEntries(COST_NAMES.map((n) => [n, { cycles: n === name ? cycles : 0, source: "literature: test" }])) as CostProfile["costs"],
    });
    expect(charged(only("tick", 5))).toBe(0); // nothing an uncontended lock does
    const atomics = charged(only("atomic", 1000));
    expect(atomics).toBeGreaterThan(0);
    expect(atomics % 1000).toBe(0);
    expect(charged(only("atomic", 3000))).toBe(3 * atomics);
  });
});
