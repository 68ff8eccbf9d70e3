// The host's view of a recording mmu notifier (assembly/mm/mmu_notifier.ts): what a secondary MMU
// registered on an mm was told. Read from shared memory while the notifier lives; once the mm's last
// user exits (exit_mmap's mmu_notifier_release frees it) the last reading taken just before stays.
import type { CoreExports } from "../core/abi.js";
import { constant } from "../core/abi.js";

export type MmuNotifierEventKind = "invalidate_range_start" | "invalidate_range_end" | "invalidate_page" | "clear_young";

export interface MmuNotifierEvent {
  kind: MmuNotifierEventKind;
  cpu: number;
  start: bigint;
  end: bigint;
}

export interface MmuNotifierCounts {
  invalidateRangeStart: number;
  invalidateRangeEnd: number;
  invalidatePage: number;
  clearYoung: number;
  /** Starts not yet ended (KVM's mmu_notifier_count): 0 when quiescent and balanced. */
  depth: number;
  maxDepth: number;
  /** An end came without a start (MNF_UNBALANCED). */
  endWithoutStart: boolean;
  /** Events ever recorded (the ring keeps the last MN_RING). */
  events: number;
}

interface Reading {
  counts: MmuNotifierCounts;
  events: MmuNotifierEvent[];
}

/** Read one live notifier at addr. */
export function readNotifier(x: CoreExports, addr: number): Reading {
  const c = (n: keyof CoreExports) => constant(x, n);
  const dv = new DataView(x.memory.buffer);
  const u32 = (o: number) => dv.getUint32(addr + o, true);
  const i32 = (o: number) => dv.getInt32(addr + o, true);
  const counts: MmuNotifierCounts = {
    invalidateRangeStart: u32(c("MN_NR_START")),
    invalidateRangeEnd: u32(c("MN_NR_END")),
    invalidatePage: u32(c("MN_NR_INVALIDATE_PAGE")),
    clearYoung: u32(c("MN_NR_CLEAR_YOUNG")),
    depth: i32(c("MN_DEPTH")),
    maxDepth: i32(c("MN_MAX_DEPTH")),
    endWithoutStart: (u32(c("MN_FLAGS")) & c("MNF_UNBALANCED")) !== 0,
    events: u32(c("MN_NR_EVENTS")),
  };
  const ring = c("MN_RING"), size = c("MN_EVENT_SIZE"), base = addr + c("MN_RING_OFF");
  const kinds: Record<number, MmuNotifierEventKind> = {
    [c("MN_EV_START")]: "invalidate_range_start", [c("MN_EV_END")]: "invalidate_range_end",
    [c("MN_EV_INVALIDATE_PAGE")]: "invalidate_page", [c("MN_EV_CLEAR_YOUNG")]: "clear_young",
  };
  const events: MmuNotifierEvent[] = [];
  const n = counts.events;
  for (let k = Math.max(0, n - ring); k < n; k++) {
    const e = base + (k % ring) * size;
    events.push({
      kind: kinds[dv.getUint32(e, true)] ?? "invalidate_page",
      cpu: dv.getUint32(e + 4, true),
      start: dv.getBigUint64(e + 8, true),
      end: dv.getBigUint64(e + 16, true),
    });
  }
  return { counts, events };
}

/** The notifiers registered on mm (its MM_NOTIFIERS list), bounded against a cycle. */
export function mmNotifiers(x: CoreExports, mm: number): number[] {
  const dv = new DataView(x.memory.buffer);
  const out: number[] = [];
  const next = constant(x, "MN_NEXT");
  for (let n = dv.getUint32(mm + constant(x, "MM_NOTIFIERS"), true); n !== 0 && out.length < 1024 && !out.includes(n); n = dv.getUint32(n + next, true)) out.push(n);
  return out;
}

/**
 * A recording mmu notifier registered on a process's mm (Process.registerNotifier), as KVM or a GRU
 * driver registers one: counters, the last events, and whether every invalidate_range_start has had
 * its invalidate_range_end.
 */
export class MmuNotifier {
  private final: Reading | null = null;

  /** @internal */
  constructor(private readonly x: CoreExports, readonly addr: number, readonly mm: number) {}

  /** Whether the mm's exit released it (the readings are then the last ones before the release). */
  get released(): boolean { return this.final !== null; }

  private read(): Reading { return this.final ?? readNotifier(this.x, this.addr); }

  counts(): MmuNotifierCounts { return this.read().counts; }

  /** The last events (up to the ring's size), oldest first. */
  events(): MmuNotifierEvent[] { return this.read().events; }

  /** Every start ended and no end without a start. */
  get balanced(): boolean {
    const c = this.read().counts;
    return c.depth === 0 && !c.endWithoutStart;
  }

  /** @internal The mm's last user is about to exit: keep the last reading. */
  release(): void {
    if (this.final === null) this.final = readNotifier(this.x, this.addr);
  }
}
