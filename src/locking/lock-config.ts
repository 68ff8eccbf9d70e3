// Choosing each lock class's type and policy. A spec names one of the behaviours the core implements
// (assembly/locking/lock_types.ts); eras (later) are bundles of specs.
import type { CoreExports } from "../core/abi.js";
import { constant } from "../core/abi.js";
import { readCoreString } from "../core/module.js";
import { ConfigError } from "../core/errors.js";

/** Lock behaviours by name. */
export const LOCK_SPECS = ["ticket", "tas", "mutex", "mutex-spin", "rwsem-handoff", "rwsem-steal", "rwsem-spin", "broken"] as const;
export type LockSpec = (typeof LOCK_SPECS)[number];

export const LOCK_SPEC_HELP: Record<LockSpec, string> = {
  ticket: "ticket spinlock, FIFO (x86 from 2.6.25)",
  tas: "test-and-test-and-set spinlock",
  mutex: "sleeping mutex (3.0)",
  "mutex-spin": "sleeping mutex with optimistic spinning on a running owner",
  "rwsem-handoff": "rwsem, release hands the lock to waiters in FIFO order (2008, seed 002)",
  "rwsem-steal": "rwsem, woken writers retry and running writers may steal (3.9)",
  "rwsem-spin": "rwsem with stealing and optimistic spinning (3.16)",
  broken: "a deliberately broken lock (test, then set): only to show that torture catches it",
};

function typePolicy(x: CoreExports, spec: LockSpec): [number, number] {
  const c = (n: keyof CoreExports) => constant(x, n);
  switch (spec) {
    case "ticket": return [c("LOCK_TICKET"), 0];
    case "tas": return [c("LOCK_TAS"), 0];
    case "mutex": return [c("LOCK_MUTEX"), 0];
    case "mutex-spin": return [c("LOCK_MUTEX"), c("MUTEX_OPT_SPIN")];
    case "rwsem-handoff": return [c("LOCK_RWSEM"), c("RWSEM_HANDOFF")];
    case "rwsem-steal": return [c("LOCK_RWSEM"), c("RWSEM_STEAL")];
    case "rwsem-spin": return [c("LOCK_RWSEM"), c("RWSEM_STEAL") | c("RWSEM_OPT_SPIN")];
    case "broken": return [c("LOCK_BROKEN"), 0];
  }
}

/** The lock classes the core defines, by id (names from the core itself). */
export function lockClassNames(x: CoreExports): string[] {
  const names: string[] = [];
  for (let c = 0; c < constant(x, "NR_LOCK_CLASSES"); c++) names.push(readCoreString(x.memory, x.mm_lock_class_name(c)));
  return names;
}

/** Class id of name, or a ConfigError listing the classes. */
export function lockClassId(x: CoreExports, name: string): number {
  const names = lockClassNames(x);
  const id = names.indexOf(name);
  if (id < 0) throw new ConfigError(`unknown lock class "${name}" (classes: ${names.join(", ")})`);
  return id;
}

export function checkLockSpec(what: string, spec: unknown): LockSpec {
  if (typeof spec !== "string" || !(LOCK_SPECS as readonly string[]).includes(spec)) {
    throw new ConfigError(`${what}: unknown lock type "${String(spec)}" (types: ${LOCK_SPECS.join(", ")})`);
  }
  return spec as LockSpec;
}

/**
 * Give classes their lock types (before any CPU runs); with timed, every class also measures wait
 * and hold times in the parallel build (a host clock read per acquisition: CONFIG_LOCK_STAT's cost).
 */
export function applyLockConfig(x: CoreExports, locks: Record<string, string>, timed: boolean): void {
  const flags = timed ? constant(x, "LC_TIMED") : 0;
  const specs = new Map<number, LockSpec>();
  for (const [name, spec] of Object.entries(locks)) specs.set(lockClassId(x, name), checkLockSpec(`locks.${name}`, spec));
  const names = lockClassNames(x);
  for (let c = 0; c < names.length; c++) {
    const spec = specs.get(c);
    if (spec === undefined && !timed) continue;
    // A class left unnamed keeps the type the core gave it; only its flags change.
    const current = x.mm_lock_class_get(c);
    const [type, policy] = spec !== undefined ? typePolicy(x, spec) : [current & 0xff, (current >> 8) & 0xff];
    const r = x.mm_lock_class_set(c, type, policy, flags);
    if (r < 0) throw new ConfigError(`locks.${names[c]}: the core refused ${spec ?? "its default"} (${r})`);
  }
}
