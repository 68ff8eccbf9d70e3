// Options of an emulated machine, their defaults and their validation. Every bad value is a
// ConfigError that names the option and what it accepts.
import { ConfigError } from "./core/errors.js";

export interface MachineOptions {
  /** Number of CPUs, 1..64 (CONFIG_NR_CPUS). Default 1 for an Mmu, 2 for a Machine. */
  cpus?: number;
  /** Emulated RAM: bytes, or a size such as "64MiB" or "4GiB". Default 64 MiB. */
  memory?: number | string;
  /**
   * Whether every frame carries its 4 KiB of contents (default true). With false the machine is
   * metadata-only above `backedMemory`: those frames have a struct page but no bytes.
   */
  frameData?: boolean;
  /** With frameData false: RAM that still carries contents (page tables, kernel pages). Default 64 MiB or all RAM. */
  backedMemory?: number | string;
  /** Kernel-object heap for the slab allocator. Default 4 MiB. */
  kernelHeap?: number | string;
  /** MAXPHYADDR, 36..52 (default 46): entry bits from here to 51 are reserved. */
  maxPhysAddr?: number;
  /** Use the debug build of the core: VM_BUG_ON invariants and lockdep checked. Default false. */
  debug?: boolean;
  /** Lock type per lock class, e.g. { anon_vma: "rwsem-handoff" } (src/locking/lock-config.ts). */
  locks?: Record<string, string>;
  /** Measure lock wait and hold times in parallel mode (a host clock read per acquisition). */
  lockStatTiming?: boolean;
  /** The MM core's behaviour switches (eras and experiments): see MmOptions. */
  mm?: MmOptions;
}

/**
 * The MM core's switches, one word in the machine (assembly/layout.ts mm_config, MMC_* bits), set at
 * boot before any MM object exists. Defaults: the 2.6.34+ kernel.
 */
export interface MmOptions {
  /**
   * "chain" (default): 2.6.34's anon_vma_chain, a child's vmas get anon_vmas of their own linked to the
   * parent's. "shared": 2.6.25, forked vmas join the parent's single anon_vma (its list holds the vmas).
   */
  anonVma?: "chain" | "shared";
  /**
   * When vma_adjust takes the anon_vma lock: "when-needed" (2.6.32+, default: not when only vm_end
   * changes, Lee Schermerhorn's 2009 change) or "always" (2.6.31 and before).
   */
  vmaAdjustAnonLock?: "when-needed" | "always";
  /** Seed 003's lockless rmap_walk_anon special case (default false). */
  rmapLockless?: boolean;
  /** Split page-table locks: one lock per PTE page instead of mm->page_table_lock (default false). */
  splitPtlock?: boolean;
  /**
   * rmap walks take an rwsem anon_vma lock exclusively (default false: shared, as since 3.8). The
   * state between 3.8's conversion of the anon_vma mutex to an rwsem and the next commit making the
   * walks take it for read. No effect when the anon_vma class is a spinlock or mutex.
   */
  rmapWalkExclusive?: boolean;
}

/** MmOptions with every default filled in. */
export interface ResolvedMmOptions {
  anonVma: "chain" | "shared";
  vmaAdjustAnonLock: "when-needed" | "always";
  rmapLockless: boolean;
  splitPtlock: boolean;
  rmapWalkExclusive: boolean;
}

export interface ResolvedOptions {
  cpus: number;
  frames: number;
  backedFrames: number;
  kernelHeapBytes: number;
  maxPhysAddr: number;
  debug: boolean;
  locks: Record<string, string>;
  lockStatTiming: boolean;
  mm: ResolvedMmOptions;
}

const KNOWN = new Set(["cpus", "memory", "frameData", "backedMemory", "kernelHeap", "maxPhysAddr", "debug", "locks", "lockStatTiming", "mm"]);
const MM_KNOWN = ["anonVma", "vmaAdjustAnonLock", "rmapLockless", "splitPtlock", "rmapWalkExclusive"];
export const MAX_CPUS = 64;
const UNITS: Record<string, number> = { "": 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1 << 20, mb: 1 << 20, mib: 1 << 20, g: 1 << 30, gb: 1 << 30, gib: 1 << 30 };

/** Parse a byte size: a non-negative integer, or a string like "512KiB", "64MiB", "4GiB". */
export function parseSize(what: string, v: number | string): number {
  let bytes: number;
  if (typeof v === "number") bytes = v;
  else if (typeof v === "string") {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(v);
    const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
    if (!m || unit === undefined) throw new ConfigError(`${what}: cannot read "${v}" as a size (e.g. 65536, "64MiB", "4GiB")`);
    bytes = Number(m[1]) * unit;
  } else {
    throw new ConfigError(`${what}: expected a number of bytes or a size string, got ${typeof v}`);
  }
  if (!Number.isSafeInteger(bytes) || bytes < 0) throw new ConfigError(`${what}: ${String(v)} is not a whole, non-negative number of bytes`);
  return bytes;
}

function pages(what: string, bytes: number): number {
  if (bytes % 4096 !== 0) throw new ConfigError(`${what}: ${bytes} bytes is not a multiple of the 4 KiB page size`);
  return bytes / 4096;
}

export function resolveOptions(opts: MachineOptions, defaultCpus: number): ResolvedOptions {
  if (opts === null || typeof opts !== "object") throw new ConfigError("options: expected an object");
  for (const k of Object.keys(opts)) {
    if (!KNOWN.has(k)) throw new ConfigError(`unknown option "${k}" (known: ${[...KNOWN].join(", ")})`);
  }
  const cpus = opts.cpus ?? defaultCpus;
  if (!Number.isInteger(cpus) || cpus < 1 || cpus > MAX_CPUS) {
    throw new ConfigError(`cpus: ${String(cpus)} is out of range (1..${MAX_CPUS})`);
  }
  const memory = parseSize("memory", opts.memory ?? "64MiB");
  const frames = pages("memory", memory);
  if (frames < 16) throw new ConfigError(`memory: ${memory} bytes is too small (at least 64 KiB)`);
  const frameData = opts.frameData ?? true;
  if (typeof frameData !== "boolean") throw new ConfigError("frameData: expected true or false");
  let backedFrames = frames;
  if (!frameData) {
    const backed = opts.backedMemory !== undefined ? parseSize("backedMemory", opts.backedMemory) : Math.min(memory, 64 << 20);
    backedFrames = pages("backedMemory", backed);
    if (backedFrames < 16 || backedFrames > frames) {
      throw new ConfigError(`backedMemory: must be between 64 KiB and memory (${memory} bytes), got ${backed}`);
    }
  } else if (opts.backedMemory !== undefined) {
    throw new ConfigError("backedMemory: only meaningful with frameData: false");
  }
  const kernelHeapBytes = parseSize("kernelHeap", opts.kernelHeap ?? "4MiB");
  pages("kernelHeap", kernelHeapBytes);
  const maxPhysAddr = opts.maxPhysAddr ?? 46;
  if (!Number.isInteger(maxPhysAddr) || maxPhysAddr < 36 || maxPhysAddr > 52) {
    throw new ConfigError(`maxPhysAddr: ${String(maxPhysAddr)} is out of range (36..52)`);
  }
  if (frames * 4096 > 2 ** maxPhysAddr) {
    throw new ConfigError(`memory: ${memory} bytes exceeds what MAXPHYADDR ${maxPhysAddr} can address`);
  }
  const debug = opts.debug ?? false;
  if (typeof debug !== "boolean") throw new ConfigError("debug: expected true or false");
  const locks = opts.locks ?? {};
  if (locks === null || typeof locks !== "object" || Array.isArray(locks)) throw new ConfigError("locks: expected { class: type, ... }");
  const lockStatTiming = opts.lockStatTiming ?? false;
  if (typeof lockStatTiming !== "boolean") throw new ConfigError("lockStatTiming: expected true or false");
  const mm = resolveMmOptions(opts.mm === undefined ? {} : opts.mm);
  return { cpus, frames, backedFrames, kernelHeapBytes, maxPhysAddr, debug, locks: { ...locks }, lockStatTiming, mm };
}

function oneOf<T extends string>(what: string, v: unknown, allowed: readonly T[], dflt: T): T {
  if (v === undefined) return dflt;
  if (typeof v !== "string" || !(allowed as readonly string[]).includes(v)) {
    throw new ConfigError(`${what}: ${JSON.stringify(v)} is not one of ${allowed.map((a) => `"${a}"`).join(", ")}`);
  }
  return v as T;
}

function flag(what: string, v: unknown): boolean {
  if (v === undefined) return false;
  if (typeof v !== "boolean") throw new ConfigError(`${what}: expected true or false, got ${JSON.stringify(v)}`);
  return v;
}

/** Validate the `mm` option and fill in its defaults. */
export function resolveMmOptions(mm: MmOptions): ResolvedMmOptions {
  if (mm === null || typeof mm !== "object" || Array.isArray(mm)) {
    throw new ConfigError("mm: expected { anonVma?, vmaAdjustAnonLock?, rmapLockless?, splitPtlock?, rmapWalkExclusive? }");
  }
  for (const k of Object.keys(mm)) {
    if (!MM_KNOWN.includes(k)) throw new ConfigError(`mm: unknown switch "${k}" (known: ${MM_KNOWN.join(", ")})`);
  }
  return {
    anonVma: oneOf("mm.anonVma", mm.anonVma, ["chain", "shared"] as const, "chain"),
    vmaAdjustAnonLock: oneOf("mm.vmaAdjustAnonLock", mm.vmaAdjustAnonLock, ["when-needed", "always"] as const, "when-needed"),
    rmapLockless: flag("mm.rmapLockless", mm.rmapLockless),
    splitPtlock: flag("mm.splitPtlock", mm.splitPtlock),
    rmapWalkExclusive: flag("mm.rmapWalkExclusive", mm.rmapWalkExclusive),
  };
}
