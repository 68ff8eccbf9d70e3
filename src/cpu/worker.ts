// One emulated CPU on a worker thread: its own instance of the core on the machine's shared memory,
// driven by the host through comlink. Every call runs as this CPU (its id is prepended), marked
// running for its duration so that TLB shootdowns reach it through its mailbox.
import { parentPort, workerData } from "node:worker_threads";
import { expose } from "comlink";
import nodeEndpoint from "comlink/dist/esm/node-adapter.mjs";
import { Mmu } from "../mmu.js";
import { installErrorTransfer } from "../core/error-transfer.js";
import type { CoreFunction } from "../core/abi.js";
import type { CoreFlavor } from "../core/module.js";

export interface CpuWorkerData {
  memory: WebAssembly.Memory;
  flavor: CoreFlavor;
  cpu: number;
}

const { memory, flavor, cpu } = workerData as CpuWorkerData;
installErrorTransfer();
const mmu = Mmu.attach(memory, flavor);

function running<T>(body: () => T): T {
  mmu.call("cpu_running", cpu, 1);
  try {
    return body();
  } finally {
    mmu.call("cpu_running", cpu, 0);
  }
}

function checkName(fn: string): CoreFunction {
  if (!/^cpu_[a-z0-9_]+$/.test(fn) || typeof (mmu.exports as unknown as Record<string, unknown>)[fn] !== "function") {
    throw new TypeError(`CPU ${cpu}: "${fn}" is not a per-CPU core function`);
  }
  return fn as CoreFunction;
}

export const cpuApi = {
  /** Run core function fn (a cpu_* export) as this CPU with args after the CPU id. */
  call(fn: string, args: (number | bigint)[]): number | bigint {
    const f = checkName(fn);
    return running(() => mmu.call(f, cpu, ...args));
  },
  /** As call, but first wait at the machine's start barrier for parties CPUs. */
  callBehindBarrier(fn: string, args: (number | bigint)[], parties: number): number | bigint {
    const f = checkName(fn);
    return running(() => {
      const r = mmu.call("cpu_barrier_wait", cpu, parties);
      if (Number(r) < 0) throw new RangeError(`CPU ${cpu}: barrier for ${parties} parties refused`);
      return mmu.call(f, cpu, ...args);
    });
  },
  /**
   * As callBehindBarrier, with this thread's monotonic clock (process.hrtime: one clock for every
   * thread of the process) read as the barrier releases the CPU and as fn returns, in nanoseconds.
   */
  callBehindBarrierTimed(fn: string, args: (number | bigint)[], parties: number): { result: number | bigint; startNs: bigint; endNs: bigint } {
    const f = checkName(fn);
    return running(() => {
      const r = mmu.call("cpu_barrier_wait", cpu, parties);
      if (Number(r) < 0) throw new RangeError(`CPU ${cpu}: barrier for ${parties} parties refused`);
      const startNs = process.hrtime.bigint();
      const result = mmu.call(f, cpu, ...args);
      return { result, startNs, endNs: process.hrtime.bigint() };
    });
  },
  /**
   * Fault injection for tests of the host's failure handling: "throw" kills the thread with an
   * uncaught exception, "exit" ends it with exit code 3.
   */
  injectFault(kind: "throw" | "exit"): void {
    setImmediate(() => {
      if (kind === "exit") process.exit(3);
      throw new Error(`injected fault on CPU ${cpu}`);
    });
  },
};

expose(cpuApi, nodeEndpoint(parentPort!));
