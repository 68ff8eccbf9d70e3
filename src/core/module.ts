// Loading and instantiating the Wasm core on a shared memory.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { CoreExports } from "./abi.js";
import { InvariantError, LockdepError, MmemuError, StaleTlbError } from "./errors.js";

/**
 * Builds of the core: one CPU per instance ("release", "debug"), or every CPU of a machine as an
 * Asyncify coroutine in one instance, in virtual time ("virtual", "virtual-debug": src/sched/).
 */
export type CoreFlavor = "release" | "debug" | "virtual" | "virtual-debug";

const FILES: Record<CoreFlavor, string> = {
  release: "mmemu.wasm", debug: "mmemu.debug.wasm", virtual: "mmemu.virtual.wasm", "virtual-debug": "mmemu.virtual.debug.wasm",
};
const cache = new Map<CoreFlavor, WebAssembly.Module>();

/** Where the built core lives (build/ at the package root, from src/ or dist/src/). */
export function coreWasmPath(flavor: CoreFlavor): string {
  for (const rel of ["../../build/", "../../../build/"]) {
    const url = new URL(rel + FILES[flavor], import.meta.url);
    try {
      readFileSync(url, { flag: "r" }).length;
      return fileURLToPath(url);
    } catch { /* try the next */ }
  }
  throw new MmemuError(`the ${flavor} Wasm core is not built: run \`npm run build:wasm\``);
}

/** The compiled core module (compiled once per process and flavor). */
export function loadCoreModule(flavor: CoreFlavor): WebAssembly.Module {
  let m = cache.get(flavor);
  if (!m) {
    m = new WebAssembly.Module(readFileSync(coreWasmPath(flavor)));
    cache.set(flavor, m);
  }
  return m;
}

/** Read an AssemblyScript string (UTF-16, byte length in the 4 bytes before it) from memory. */
export function readCoreString(memory: WebAssembly.Memory, ptr: number): string {
  if (ptr === 0) return "";
  const view = new DataView(memory.buffer);
  const bytes = view.getUint32(ptr - 4, true);
  let s = "";
  for (let i = 0; i < bytes; i += 2) s += String.fromCharCode(view.getUint16(ptr + i, true));
  return s;
}

export interface CoreHooks {
  /** The core reports CPU cpu stuck (it spun past its bound); must throw. */
  cpuStuck(cpu: number): never;
  /**
   * Virtual builds: the running CPU enters the scheduler (env.sched_switch, assembly/kernel/sched.ts)
   * with a SWITCH_* reason. Without this hook the call returns at once (no run in progress).
   */
  schedSwitch?(reason: number): void;
}

const LOCKDEP_KINDS: Record<number, string> = {
  1: "lock order violated", 2: "possible circular locking dependency (AB-BA)", 3: "possible recursive locking",
  4: "release of a lock that is not held", 5: "too many locks held",
};

/** env.stale_tlb's kinds (STALE_TLB_* in assembly/arch/x86/tlb_check.ts). */
const STALE_TLB_KINDS = { 1: "freed", 2: "reused" } as const;

/**
 * Instantiate the core on memory. The imports turn the core's reports into typed host errors: a
 * failed VM_BUG_ON becomes an InvariantError, a lockdep report a LockdepError, an access through a
 * stale TLB entry (debug builds) a StaleTlbError, a stuck CPU whatever hooks.cpuStuck throws.
 */
export function instantiateCore(module: WebAssembly.Module, memory: WebAssembly.Memory, hooks: CoreHooks): CoreExports {
  const env = {
    memory,
    abort(msg: number, file: number, line: number, col: number): never {
      const where = readCoreString(memory, file);
      throw new InvariantError(readCoreString(memory, msg), where ? `${where}:${line}:${col}` : "in the Wasm core");
    },
    cpu_stuck(cpu: number): never {
      return hooks.cpuStuck(cpu);
    },
    sched_switch: hooks.schedSwitch ?? ((): void => undefined),
    now_ns(): bigint {
      return process.hrtime.bigint();
    },
    stale_tlb(cpu: number, va: bigint, pfn: number, kind: number): never {
      const k = STALE_TLB_KINDS[kind as 1 | 2];
      if (k === undefined) throw new MmemuError(`the core reported a stale TLB entry of unknown kind ${kind}`);
      throw new StaleTlbError(cpu, BigInt.asUintN(64, va), pfn >>> 0, k);
    },
    lockdep_report(kind: number, heldClass: number, lockClass: number, heldSite: number, site: number): never {
      const name = (c: number) => readCoreString(memory, Number(exports.mm_lock_class_name(c))) || `class ${c}`;
      throw new LockdepError(LOCKDEP_KINDS[kind] ?? `lockdep report ${kind}`, name(heldClass), name(lockClass),
        readCoreString(memory, heldSite), readCoreString(memory, site));
    },
  };
  const instance = new WebAssembly.Instance(module, { env });
  const exports: CoreExports = { ...(instance.exports as unknown as CoreExports), memory };
  return exports;
}
