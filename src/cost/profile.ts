// The cost profile of virtual time: what each operation the core prices (assembly/kernel/cost.ts)
// charges to the running CPU's virtual clock, in cycles, and the clock (ghz, cycles per nanosecond)
// that turns virtual cycles into nanoseconds for reports. Every constant carries its provenance:
//
//   "measured: <what> on <host>"   from `mmemu calibrate` (src/cost/calibrate.ts) on some host
//   "literature: <source>"         a documented published or previously measured value
//   "given: <by whom>"             the clock only: a value the user gave (`mmemu calibrate --ghz`)
//
// A profile is data: the deterministic modes apply one (applyProfile, before a run) and never measure
// the host themselves; calibration is a separate, explicit step. The shipped default is
// default-profile.ts. Nobody adjusts a constant to make an experiment land on an expected number:
// change a constant only with a better measurement or source, and say which in its provenance.
//
// JSON form (what `mmemu calibrate --out FILE` writes and loadProfile reads):
//   { "schema": "mmemu-cost-profile/1", "description": "...", "ghz": 2.5, "ghzSource": "literature: ...",
//     "costs": { "load_l1": { "cycles": 4, "source": "literature: ..." }, ... every name below ... },
//     "calibration": { ... optional: what calibrate measured, free-form ... } }
import { readFileSync } from "node:fs";
import type { CoreExports } from "../core/abi.js";
import { constant } from "../core/abi.js";
import { ConfigError, ErrnoError, MmemuError } from "../core/errors.js";

/**
 * The cost ids' names, in the order of their ids in assembly/kernel/cost.ts (COST_LOAD_L1 = 0 ...
 * COST_SYSCALL = 14): name i is COST_<NAME> = i. Adding an id to the core means adding its name
 * here at the same position (test/cost/profile.test.ts checks the count against the core's NR_COSTS
 * and every id against its COST_* export).
 */
export const COST_NAMES = [
  "load_l1",        // COST_LOAD_L1: a load that hits L1 (a TLB hit's lookup; a hot page-table entry)
  "load_llc",       // COST_LOAD_LLC: a load that hits the last-level cache
  "load_mem",       // COST_LOAD_MEM: a load from DRAM
  "atomic",         // COST_ATOMIC: an uncontended locked read-modify-write on a line this CPU owns
  "line_transfer",  // COST_LINE_TRANSFER: moving a cache line last written by another CPU to this one
  "spin",           // COST_SPIN: one iteration of a spin-wait (PAUSE and a load)
  "ipi_send",       // COST_IPI_SEND: sending an IPI (APIC write)
  "ipi_deliver",    // COST_IPI_DELIVER: taking an IPI on the target: entry, handler, exit
  "sleep",          // COST_SLEEP: the sleeping side of a blocking lock: schedule() away
  "wakeup",         // COST_WAKEUP: try_to_wake_up() on the waker's side
  "wake_latency",   // COST_WAKE_LATENCY: from the wake-up to the woken task running again
  "ctx_switch",     // COST_CTX_SWITCH: a context switch (processor change), charged to the CPU switching in
  "tick",           // COST_TICK: the scheduler tick's cost per tick period
  "walk_level",     // COST_WALK_LEVEL: one paging-structure load during a page walk
  "syscall",        // COST_SYSCALL: a system call's entry and exit
] as const;

export type CostName = (typeof COST_NAMES)[number];

/** The core's export name of a cost id: "load_l1" -> "COST_LOAD_L1". */
export function costExportName(name: CostName): `COST_${string}` {
  return `COST_${name.toUpperCase()}`;
}

export interface CostConstant {
  /** Cycles charged per occurrence: a whole number 0..2^32-1 (the core keeps a u32). */
  cycles: number;
  /** Provenance: "measured: <what> on <host>" or "literature: <source>". */
  source: string;
}

export interface CostProfile {
  schema?: typeof PROFILE_SCHEMA;
  description?: string;
  /** Cycles per nanosecond: converts virtual cycles to ns in reports (and ns to cycles in calibrate). */
  ghz: number;
  /** Provenance of ghz: "measured: ...", "literature: ..." or "given: ...". */
  ghzSource: string;
  costs: Record<CostName, CostConstant>;
  /** What calibrate measured to make this profile (free-form; not used by the engine). */
  calibration?: unknown;
}

export const PROFILE_SCHEMA = "mmemu-cost-profile/1";
export const MAX_CYCLES = 0xffff_ffff;
const SOURCE_PREFIXES = ["measured:", "literature:"] as const;
const GHZ_SOURCE_PREFIXES = ["measured:", "literature:", "given:"] as const;
const TOP_KEYS = new Set(["schema", "description", "ghz", "ghzSource", "costs", "calibration"]);

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function checkSource(where: string, key: string, v: unknown, prefixes: readonly string[]): string {
  if (typeof v !== "string" || !prefixes.some((p) => v.startsWith(p)) || v.trim().length <= v.indexOf(":") + 1) {
    throw new ConfigError(`${where}${key}: the provenance must be a string starting with ${prefixes.map((p) => `"${p}"`).join(" or ")} ` +
      `and saying what was measured where, or which source (got ${JSON.stringify(v)})`);
  }
  return v;
}

/**
 * Validate a profile (parsed JSON or an object): every cost name present, no other, cycles whole
 * numbers in 0..2^32-1, a provenance for each, a positive ghz. A ConfigError names the first bad
 * key; `where` prefixes the message (e.g. the file's path). Returns a fresh, typed copy.
 */
export function parseProfile(value: unknown, where = "cost profile"): CostProfile {
  const at = `${where}: `;
  if (!isObject(value)) throw new ConfigError(`${at}expected an object { ghz, ghzSource, costs: { ${COST_NAMES[0]}: { cycles, source }, ... } }`);
  for (const k of Object.keys(value)) {
    if (!TOP_KEYS.has(k)) throw new ConfigError(`${at}${k}: unknown key (keys: ${[...TOP_KEYS].join(", ")})`);
  }
  if (value.schema !== undefined && value.schema !== PROFILE_SCHEMA) {
    throw new ConfigError(`${at}schema: ${JSON.stringify(value.schema)} is not "${PROFILE_SCHEMA}"`);
  }
  if (value.description !== undefined && typeof value.description !== "string") throw new ConfigError(`${at}description: expected a string`);
  const ghz = value.ghz;
  if (typeof ghz !== "number" || !Number.isFinite(ghz) || ghz <= 0 || ghz > 100) {
    throw new ConfigError(`${at}ghz: ${JSON.stringify(ghz)} is not a clock in cycles per nanosecond (a number in (0, 100])`);
  }
  const ghzSource = checkSource(at, "ghzSource", value.ghzSource, GHZ_SOURCE_PREFIXES);
  const costs = value.costs;
  if (!isObject(costs)) throw new ConfigError(`${at}costs: expected an object with one entry per cost (${COST_NAMES.join(", ")})`);
  for (const k of Object.keys(costs)) {
    if (!(COST_NAMES as readonly string[]).includes(k)) throw new ConfigError(`${at}costs.${k}: unknown cost (costs: ${COST_NAMES.join(", ")})`);
  }
  const out = {} as Record<CostName, CostConstant>;
  for (const name of COST_NAMES) {
    const c = costs[name];
    if (c === undefined) throw new ConfigError(`${at}costs.${name}: missing (every cost needs { cycles, source })`);
    if (!isObject(c)) throw new ConfigError(`${at}costs.${name}: expected { cycles, source }, got ${JSON.stringify(c)}`);
    for (const k of Object.keys(c)) {
      if (k !== "cycles" && k !== "source") throw new ConfigError(`${at}costs.${name}.${k}: unknown key (keys: cycles, source)`);
    }
    const cycles = c.cycles;
    if (typeof cycles !== "number" || !Number.isInteger(cycles) || cycles < 0 || cycles > MAX_CYCLES) {
      throw new ConfigError(`${at}costs.${name}.cycles: ${JSON.stringify(cycles)} is not a whole, non-negative number of cycles (0..${MAX_CYCLES})`);
    }
    out[name] = { cycles, source: checkSource(at, `costs.${name}.source`, c.source, SOURCE_PREFIXES) };
  }
  const p: CostProfile = { schema: PROFILE_SCHEMA, ghz, ghzSource, costs: out };
  if (value.description !== undefined) p.description = value.description as string;
  if (value.calibration !== undefined) p.calibration = value.calibration;
  return p;
}

/** Read and validate a profile JSON file; every problem is a ConfigError naming the file and the key. */
export function loadProfile(path: string): CostProfile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new ConfigError(`cost profile ${path}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`cost profile ${path}: not JSON (${(e as Error).message})`);
  }
  return parseProfile(value, `cost profile ${path}`);
}

/** The profile as JSON text (what loadProfile reads back). */
export function profileToJson(p: CostProfile): string {
  const { schema, description, ghz, ghzSource, costs, calibration } = p;
  const ordered = Object.fromEntries(COST_NAMES.map((n) => [n, { cycles: costs[n].cycles, source: costs[n].source }]));
  return JSON.stringify({ schema: schema ?? PROFILE_SCHEMA, description, ghz, ghzSource, costs: ordered, calibration }, null, 2) + "\n";
}

/** The cycles of every cost by name ({ load_l1: 4, ... }), without the provenance. */
export function cyclesByName(p: CostProfile): Record<CostName, number> {
  return Object.fromEntries(COST_NAMES.map((n) => [n, p.costs[n].cycles])) as Record<CostName, number>;
}

/** The cycles of every cost, by id (index i = COST_NAMES[i]). */
export function costCycles(p: CostProfile): number[] {
  return COST_NAMES.map((n) => p.costs[n].cycles);
}

/**
 * Check that the host's name table matches the core: as many names as NR_COSTS, and, where the core
 * exports COST_<NAME>, that it is the name's position. Throws an MmemuError saying which is stale.
 */
export function checkCostIds(exports: CoreExports): void {
  const n = constant(exports, "NR_COSTS");
  if (n !== COST_NAMES.length) {
    throw new MmemuError(`the core has ${n} cost ids but src/cost/profile.ts names ${COST_NAMES.length}: ` +
      "COST_NAMES is out of date with assembly/kernel/cost.ts");
  }
  COST_NAMES.forEach((name, id) => {
    const g = (exports as unknown as Record<string, unknown>)[costExportName(name)];
    if (g !== undefined && Number((g as WebAssembly.Global).value) !== id) {
      throw new MmemuError(`cost "${name}" is id ${id} in src/cost/profile.ts but ${costExportName(name)} = ` +
        `${String((g as WebAssembly.Global).value)} in the core`);
    }
  });
}

/**
 * Give the core's cost table the profile's cycles (cost_set for every id; the virtual build charges
 * them, the parallel build ignores them). Throws an ErrnoError naming the cost if the core refuses one.
 */
export function applyProfile(exports: CoreExports, profile: CostProfile): void {
  checkCostIds(exports);
  COST_NAMES.forEach((name, id) => {
    const c = profile.costs[name];
    if (c === undefined) throw new ConfigError(`cost profile: costs.${name}: missing`);
    const r = exports.cost_set(id, c.cycles);
    if (r < 0) throw new ErrnoError("cost_set", r, `${name} (id ${id}) = ${c.cycles} cycles`);
  });
}

/** Cycles to nanoseconds at the profile's clock. */
export function cyclesToNs(p: CostProfile, cycles: number | bigint): number {
  return Number(cycles) / p.ghz;
}
