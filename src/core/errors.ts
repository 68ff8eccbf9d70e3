// Typed errors of the host side. Every failure surfaces as one of these, with a message that says
// what was wrong; a Wasm trap never reaches a caller as a bare `unreachable`.
import { errnoName } from "./errno.js";

export class MmemuError extends Error {
  override name = "MmemuError";
}

/** A bad option, size, CPU count, address or argument given to the host API. */
export class ConfigError extends MmemuError {
  override name = "ConfigError";
}

/** The core refused an operation with a negative errno (as Linux would). */
export class ErrnoError extends MmemuError {
  override name = "ErrnoError";
  constructor(readonly op: string, readonly errno: number, detail?: string) {
    super(`${op}: ${errnoName(errno)}${detail ? ` (${detail})` : ""}`);
  }
}

/** A debug-build invariant (VM_BUG_ON) failed inside the core. */
export class InvariantError extends MmemuError {
  override name = "InvariantError";
  constructor(readonly invariant: string, readonly where: string) {
    super(`invariant violated: ${invariant} (${where})`);
  }
}

/**
 * The MM invariant checker (src/mm/check.ts) found broken invariants after an operation of the host's
 * process API (MmModel with checkEveryOp): the operation and every violation, one line each.
 */
export class MmInvariantError extends MmemuError {
  override name = "MmInvariantError";
  constructor(readonly op: string, readonly violations: string[]) {
    super(`MM invariants broken after ${op}:\n${violations.map((v) => `  - ${v}`).join("\n")}`);
  }
}

/** What a CPU was doing, read from its percpu state word. */
export interface CpuActivity {
  cpu: number;
  activity: string;
  detail: string;
}

/** A CPU spun past its bound (in the core) or did not answer in time (on the host). */
export class CpuStuckError extends MmemuError {
  override name = "CpuStuckError";
  constructor(readonly state: CpuActivity, how: string) {
    super(`CPU ${state.cpu} is stuck (${how}): ${state.activity}${state.detail ? `, ${state.detail}` : ""}`);
  }
}

/** Lockdep found a locking bug: the kind, both lock classes and both code sites. */
export class LockdepError extends MmemuError {
  override name = "LockdepError";
  constructor(readonly kind: string, readonly heldClass: string, readonly lockClass: string,
    readonly heldSite: string, readonly site: string) {
    super(kind === "release of a lock that is not held" || kind === "too many locks held"
      ? `lockdep: ${kind}: ${lockClass}${site ? ` at ${site}` : ""}`
      : `lockdep: ${kind}: taking ${lockClass} at ${site} while holding ${heldClass} (taken at ${heldSite})`);
  }
}

/**
 * The stale-TLB detector of the debug builds (assembly/arch/x86/tlb_check.ts): CPU cpu accessed
 * address through a TLB entry for frame pfn (the head frame of a 2 MiB or 1 GiB page) that has since
 * been freed ("freed") or freed and allocated again ("reused"): a TLB flush is missing or comes after
 * the free.
 */
export class StaleTlbError extends MmemuError {
  override name = "StaleTlbError";
  constructor(readonly cpu: number, readonly address: bigint, readonly pfn: number, readonly kind: StaleTlbKind) {
    super(`stale TLB entry: CPU ${cpu} accessed 0x${address.toString(16)} through a TLB entry for pfn ${pfn} ` +
      `(0x${pfn.toString(16)}), which has been ${kind === "freed" ? "freed" : "freed and allocated again (reused)"} ` +
      `since the entry was filled`);
  }
}

export type StaleTlbKind = "freed" | "reused";

/**
 * Virtual time (src/sched/): every CPU that has not finished its job waits for something only another
 * of them could do: each is asleep on a word nobody will change, or spins on a lock nobody will free.
 * Names each CPU with what it waits on, and the seed that replays the schedule.
 */
export class DeadlockError extends MmemuError {
  override name = "DeadlockError";
  constructor(readonly waiting: CpuActivity[], readonly seed: number, readonly replay: string) {
    super(`deadlock: ${waiting.map((w) => `CPU ${w.cpu} is ${w.activity}${w.detail ? ` (${w.detail})` : ""}`).join("; ")}` +
      ` [${replay}]`);
  }
}

/** Virtual time: a run took more scheduling steps than its maxSteps (a livelock, or too small a bound). */
export class StepLimitError extends MmemuError {
  override name = "StepLimitError";
  constructor(readonly steps: number, readonly running: CpuActivity[], readonly seed: number, readonly replay: string) {
    super(`no end after ${steps} scheduling steps: ${running.map((w) => `CPU ${w.cpu} is ${w.activity}` +
      `${w.detail ? ` (${w.detail})` : ""}`).join("; ")} [${replay}]`);
  }
}

/** A CPU's worker thread died; the machine can still be destroyed. */
export class CpuDiedError extends MmemuError {
  override name = "CpuDiedError";
  constructor(readonly state: CpuActivity, readonly reason: string) {
    super(`CPU ${state.cpu} died: ${reason}; it was ${state.activity}${state.detail ? `, ${state.detail}` : ""}`);
  }
}

/** The machine was used after destroy(). */
export class MachineDestroyedError extends MmemuError {
  override name = "MachineDestroyedError";
  constructor() {
    super("the machine has been destroyed");
  }
}

const ERROR_CLASSES: Record<string, { prototype: MmemuError }> = {
  MmemuError, ConfigError, ErrnoError, InvariantError, MmInvariantError, LockdepError, CpuStuckError, CpuDiedError, MachineDestroyedError,
  DeadlockError, StepLimitError, StaleTlbError,
};

/** A typed error as plain data, to cross a worker boundary (comlink keeps only name and message). */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  fields: Record<string, unknown>;
}

export function serializeError(e: MmemuError): SerializedError {
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e)) if (k !== "name") fields[k] = v;
  return { name: e.name, message: e.message, stack: e.stack, fields };
}

/** The typed error again, with its class and fields; an MmemuError for an unknown name. */
export function deserializeError(s: SerializedError): MmemuError {
  const cls = ERROR_CLASSES[s.name] ?? MmemuError;
  const e = Object.create(cls.prototype) as MmemuError;
  Object.assign(e, s.fields, { message: s.message, stack: s.stack });
  return e;
}
