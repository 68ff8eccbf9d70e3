// Reading a CPU's counters and its activity word from shared memory (works after its worker died).
import type { CoreExports } from "./abi.js";
import { constant } from "./abi.js";
import type { MachineLayout } from "./layout.js";
import type { CpuActivity } from "./errors.js";

/** Counter name (STAT_TLB_HIT -> tlbHit) to its index, from the core's STAT_* exports. */
export function statIndex(x: CoreExports): Map<string, number> {
  const m = new Map<string, number>();
  for (const k of Object.keys(x)) {
    if (!k.startsWith("STAT_")) continue;
    const camel = k.slice(5).toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
    m.set(camel, constant(x, k as keyof CoreExports));
  }
  return m;
}

export type CpuStats = Record<string, bigint>;

export function readCpuStats(x: CoreExports, layout: MachineLayout, cpu: number, index = statIndex(x)): CpuStats {
  const v = new DataView(x.memory.buffer);
  const at = layout.percpuBase + cpu * layout.percpuSize + constant(x, "PC_STATS");
  const out: CpuStats = {};
  for (const [name, i] of index) out[name] = v.getBigUint64(at + i * 8, true);
  return out;
}

export function readCpuActivity(x: CoreExports, layout: MachineLayout, cpu: number): CpuActivity {
  const v = new DataView(x.memory.buffer);
  const p = layout.percpuBase + cpu * layout.percpuSize;
  const what = Atomics.load(new Uint32Array(x.memory.buffer, p + constant(x, "PC_STATE"), 1), 0);
  const arg = v.getUint32(p + constant(x, "PC_STATE_ARG"), true);
  const arg2 = v.getBigUint64(p + constant(x, "PC_STATE_ARG2"), true);
  const hex = (n: number) => `0x${n.toString(16)}`;
  const c = (name: keyof CoreExports) => constant(x, name);
  let activity = `activity ${what}`;
  let detail = "";
  if (what === c("CPU_IDLE")) activity = "idle";
  else if (what === c("CPU_RUNNING")) activity = "running";
  else if (what === c("CPU_SPINNING")) {
    const word = Atomics.load(new Uint32Array(x.memory.buffer, arg, 1), 0);
    activity = "spinning on a lock";
    detail = `lock at ${hex(arg)} (owner ticket ${word & 0xffff}, next ${word >>> 16}), waiting for ticket ${arg2}`;
  } else if (what === c("CPU_WAIT_ACK")) {
    activity = "waiting for a TLB shootdown acknowledgement";
    detail = `from CPU ${arg}, generation ${arg2}`;
  } else if (what === c("CPU_WAIT_MAILBOX")) {
    activity = "waiting for a busy shootdown mailbox";
    detail = `of CPU ${arg}, pending generation ${arg2}`;
  } else if (what === c("CPU_SLEEPING")) {
    activity = "sleeping";
    detail = `on the word at ${hex(arg)} while it holds ${arg2}`;
  } else if (what === c("CPU_BARRIER")) {
    activity = "waiting at the start barrier";
    detail = `for ${arg} parties, round ${arg2}`;
  }
  return { cpu, activity, detail };
}
