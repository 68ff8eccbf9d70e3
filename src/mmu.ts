// The embedding API: the MMU and physical memory of an emulated machine, used synchronously in the
// caller's own thread. A tool that emulates x86 (or teaches paging) writes page tables into physical
// memory, loads CR3 and the control bits, translates, invalidates and reads TLB statistics.
// A Machine (machine.ts) is the same memory with CPUs on worker threads besides.
import type { CoreExports, CoreFunction } from "./core/abi.js";
import { constant } from "./core/abi.js";
import { instantiateCore, loadCoreModule, type CoreFlavor } from "./core/module.js";
import { readLayout, type MachineLayout } from "./core/layout.js";
import { readCpuActivity, readCpuStats, statIndex, type CpuStats } from "./core/cpu-state.js";
import { ConfigError, CpuStuckError, ErrnoError, MmemuError, type CpuActivity } from "./core/errors.js";
import { EINVAL, ENOMEM } from "./core/errno.js";
import { resolveOptions, type MachineOptions, type ResolvedOptions, type ResolvedMmOptions } from "./options.js";
import { ACC, VECTOR } from "./arch/x86.js";
import { applyLockConfig } from "./locking/lock-config.js";
import { readLockStats, type LockClassStat } from "./locking/lock-stat.js";

export type Address = bigint | number;

/** Access kind of a translation. Default: a supervisor data read. */
export interface AccessKind {
  write?: boolean;
  user?: boolean;
  fetch?: boolean;
  /** An implicit supervisor access (e.g. to descriptor tables): SMAP refuses it on user pages. */
  implicit?: boolean;
}

export type Translation =
  | { ok: true; pa: bigint; pageSize: number }
  | { ok: false; fault: "#GP" | "#PF" | "bus"; vector: number; errorCode: number; cr2: bigint; pa?: bigint };

export interface Registers {
  cr0: bigint; cr3: bigint; cr4: bigint; efer: bigint; rflags: bigint; cpl: number;
}

export interface FrameOptions {
  /** Zero the frame's contents (default true). */
  zero?: boolean;
  /** May come from metadata-only frames (user data); default false: a frame with contents. */
  highmem?: boolean;
  /** The CPU whose per-CPU list serves the allocation (default 0). */
  cpu?: number;
}

const U64 = (1n << 64n) - 1n;

export function toU64(what: string, v: Address): bigint {
  let b: bigint;
  if (typeof v === "bigint") b = v;
  else if (typeof v === "number" && Number.isSafeInteger(v)) b = BigInt(v);
  else throw new ConfigError(`${what}: ${String(v)} is not an integer address`);
  if (b < -(1n << 63n) || b > U64) throw new ConfigError(`${what}: ${b} does not fit in 64 bits`);
  return BigInt.asUintN(64, b);
}

function accessBits(a: AccessKind | undefined): number {
  if (a === undefined) return 0;
  if (a === null || typeof a !== "object") throw new ConfigError("access: expected { write?, user?, fetch?, implicit? }");
  for (const k of Object.keys(a)) {
    if (!["write", "user", "fetch", "implicit"].includes(k)) throw new ConfigError(`access: unknown kind "${k}"`);
  }
  if (a.write && a.fetch) throw new ConfigError("access: an access is a write or a fetch, not both");
  return (a.write ? ACC.WRITE : 0) | (a.user ? ACC.USER : 0) | (a.fetch ? ACC.FETCH : 0) | (a.implicit ? ACC.IMPLICIT : 0);
}

/**
 * Memory size in bytes that a machine with these options needs (a ConfigError if none), and the
 * machine flags to boot it with (MF_VIRTUAL for a virtual machine).
 */
function machineBytes(module: WebAssembly.Module, o: ResolvedOptions, virtual: boolean): { bytes: number; flags: number } {
  // A throwaway instance on one Wasm page answers the (pure) layout question.
  const probeMem = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
  const probe = instantiateCore(module, probeMem, { cpuStuck: () => { throw new MmemuError("probe"); } });
  if (Number(probe.machine_base_for_heap()) > 65536) throw new MmemuError("core static data exceeds one Wasm page");
  const flags = virtual ? constant(probe, "MF_VIRTUAL") : 0;
  const total = probe.machine_layout(o.cpus, o.frames, o.backedFrames, o.kernelHeapBytes, flags);
  if (total === -BigInt(ENOMEM)) {
    throw new ConfigError(`memory: a machine of ${o.frames} frames (${o.backedFrames} with contents), ${o.cpus} CPUs and a ` +
      `${o.kernelHeapBytes}-byte kernel heap does not fit in the 4 GiB a wasm32 memory can hold; use frameData: false`);
  }
  if (total < 0n) throw new ConfigError(`machine layout refused: ${total}`);
  return { bytes: Number(total), flags };
}

/**
 * The `mm` machine option as the core's mm_config word (assembly/layout.ts MMC_* bits), written right
 * after machine_init, before any MM object exists.
 */
export function mmConfigWord(x: CoreExports, mm: ResolvedMmOptions): number {
  let w = 0;
  if (mm.anonVma === "shared") w |= constant(x, "MMC_AV_2625");
  if (mm.vmaAdjustAnonLock === "always") w |= constant(x, "MMC_VMA_ADJUST_ANON_ALWAYS");
  if (mm.rmapLockless) w |= constant(x, "MMC_RMAP_LOCKLESS");
  if (mm.splitPtlock) w |= constant(x, "MMC_SPLIT_PTL");
  if (mm.rmapWalkExclusive) w |= constant(x, "MMC_RMAP_WALK_EXCL");
  return w;
}

function applyMmConfig(x: CoreExports, mm: ResolvedMmOptions): void {
  const r = x.mm_config_write(mmConfigWord(x, mm));
  if (r < 0) throw new ErrnoError("mm_config_write", r, "the core refused the mm option's switches");
}

/** How Mmu.boot builds a machine. */
export interface BootOptions {
  /**
   * The virtual build: every CPU an Asyncify coroutine of this one instance, with a save area each
   * (MF_VIRTUAL). Only src/sched/ drives such a machine's CPUs.
   */
  virtual?: boolean;
  /** Virtual build: the scheduler entered at env.sched_switch (see CoreHooks.schedSwitch). */
  schedSwitch?: (reason: number) => void;
}

export class Mmu {
  readonly exports: CoreExports;
  readonly memory: WebAssembly.Memory;
  readonly layout: MachineLayout;
  readonly flavor: CoreFlavor;
  private readonly stats = new Map<string, number>();
  private u64 = new BigUint64Array(0);

  /** Create a machine's memory and boot it (synchronously), with this thread as its only user. */
  static create(opts: MachineOptions = {}): Mmu {
    return Mmu.boot(resolveOptions(opts, 1));
  }

  /** @internal Boot from resolved options (Machine uses this too). */
  static boot(o: ResolvedOptions, how: BootOptions = {}): Mmu {
    const flavor: CoreFlavor = how.virtual ? (o.debug ? "virtual-debug" : "virtual") : (o.debug ? "debug" : "release");
    const module = loadCoreModule(flavor);
    const { bytes, flags } = machineBytes(module, o, how.virtual ?? false);
    let memory: WebAssembly.Memory;
    try {
      memory = new WebAssembly.Memory({ initial: bytes / 65536, maximum: bytes / 65536, shared: true });
    } catch (e) {
      throw new ConfigError(`memory: the host could not provide ${bytes} bytes of shared memory (${(e as Error).message})`);
    }
    const mmu = new Mmu(module, memory, flavor, how.schedSwitch);
    const r = mmu.exports.machine_init(o.cpus, o.frames, o.backedFrames, o.kernelHeapBytes, o.maxPhysAddr, flags);
    if (r < 0) throw new ErrnoError("machine_init", r);
    applyMmConfig(mmu.exports, o.mm);
    mmu.attach();
    applyLockConfig(mmu.exports, o.locks, o.lockStatTiming);
    return mmu;
  }

  /** Attach to a machine already booted in memory (another thread's view of the same machine). */
  static attach(memory: WebAssembly.Memory, flavor: CoreFlavor): Mmu {
    const mmu = new Mmu(loadCoreModule(flavor), memory, flavor);
    mmu.attach();
    return mmu;
  }

  private constructor(module: WebAssembly.Module, memory: WebAssembly.Memory, flavor: CoreFlavor, schedSwitch?: (reason: number) => void) {
    this.memory = memory;
    this.flavor = flavor;
    const self = this;
    this.exports = instantiateCore(module, memory, {
      cpuStuck(cpu: number): never {
        throw new CpuStuckError(self.activity(cpu), "it spun past its bound");
      },
      schedSwitch,
    });
    this.layout = undefined as unknown as MachineLayout;
  }

  private attach(): void {
    const r = this.exports.machine_attach();
    if (r < 0) throw new ErrnoError("machine_attach", r, "no machine in this memory");
    (this as { layout: MachineLayout }).layout = readLayout(this.exports);
    for (const [k, v] of statIndex(this.exports)) this.stats.set(k, v);
  }

  get cpus(): number {
    return this.layout.nrCpus;
  }

  private view64(): BigUint64Array {
    if (this.u64.buffer !== this.memory.buffer) this.u64 = new BigUint64Array(this.memory.buffer);
    return this.u64;
  }

  private checkCpu(cpu: number): void {
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.cpus) {
      throw new ConfigError(`cpu: ${String(cpu)} is not a CPU of this machine (0..${this.cpus - 1})`);
    }
  }

  /** Run a core function as CPU cpu and turn a negative errno into an ErrnoError. */
  private check(op: string, r: number | bigint, detail?: string): number {
    const n = Number(r);
    if (n < 0) throw new ErrnoError(op, n, detail);
    return n;
  }

  /** Call a raw core export by name (the worker API uses the same names). */
  call(fn: CoreFunction, ...args: (number | bigint)[]): number | bigint {
    const f = this.exports[fn] as unknown as (...a: (number | bigint)[]) => number | bigint;
    return f(...args);
  }

  // ---- physical memory ------------------------------------------------------------------------

  /** Host byte offset of physical address pa (8-byte aligned, in a frame with contents). */
  private physOffset(what: string, pa: Address, align: number): number {
    const a = toU64(what, pa);
    if (a % BigInt(align) !== 0n) throw new ConfigError(`${what}: 0x${a.toString(16)} is not ${align}-byte aligned`);
    const limit = BigInt(this.layout.nrBacked) * 4096n;
    if (a >= limit) {
      throw new ConfigError(`${what}: 0x${a.toString(16)} is outside the RAM that carries contents (below 0x${limit.toString(16)})`);
    }
    return this.layout.framesBase + Number(a);
  }

  readPhys64(pa: Address): bigint {
    return Atomics.load(this.view64(), this.physOffset("readPhys64", pa, 8) / 8);
  }

  /** Store a 64-bit word (a paging-structure entry) atomically, as a CPU's MOV would. */
  writePhys64(pa: Address, value: bigint): void {
    Atomics.store(this.view64(), this.physOffset("writePhys64", pa, 8) / 8, toU64("value", value));
  }

  /** Compare-and-exchange a 64-bit word; returns the value found. */
  cmpxchgPhys64(pa: Address, expected: bigint, value: bigint): bigint {
    return Atomics.compareExchange(this.view64(), this.physOffset("cmpxchgPhys64", pa, 8) / 8, toU64("expected", expected), toU64("value", value));
  }

  /** The 4 KiB contents of frame pfn as bytes (a view into shared memory). */
  frameBytes(pfn: number): Uint8Array {
    if (!Number.isInteger(pfn) || pfn < 0 || pfn >= this.layout.nrBacked) {
      throw new ConfigError(`frameBytes: pfn ${String(pfn)} has no contents (0..${this.layout.nrBacked - 1})`);
    }
    return new Uint8Array(this.memory.buffer, this.layout.framesBase + pfn * 4096, 4096);
  }

  /** Allocate a frame; returns its pfn. Throws ErrnoError(-ENOMEM) when none is free. */
  allocFrame(opts: FrameOptions = {}): number {
    const cpu = opts.cpu ?? 0;
    this.checkCpu(cpu);
    const gfp = ((opts.zero ?? true) ? constant(this.exports, "__GFP_ZERO") : 0) | (opts.highmem ? constant(this.exports, "__GFP_HIGHMEM") : 0);
    return this.check("alloc_page", this.exports.cpu_alloc_page(cpu, gfp));
  }

  /** Drop a reference to frame pfn; the last one frees it. Returns whether it was freed. */
  freeFrame(pfn: number, cpu = 0): boolean {
    this.checkCpu(cpu);
    if (!Number.isInteger(pfn) || pfn < 0) throw new ConfigError(`freeFrame: ${String(pfn)} is not a pfn`);
    return this.check("put_page", this.exports.cpu_put_page(cpu, pfn), `pfn ${pfn}`) === 1;
  }

  /** Free frames in the zones and on every CPU's lists (exact while no CPU allocates). */
  freeFrames(): number {
    return this.exports.mm_nr_free_pages() >>> 0;
  }

  // ---- registers ------------------------------------------------------------------------------

  private setReg(op: string, fn: (cpu: number, v: bigint) => number, cpu: number, v: Address): void {
    this.checkCpu(cpu);
    const r = fn(cpu, toU64(op, v));
    if (r === -EINVAL) throw new ConfigError(`${op}: 0x${toU64(op, v).toString(16)} is refused (#GP: reserved or inconsistent bits)`);
    this.check(op, r, `value 0x${toU64(op, v).toString(16)}`);
  }

  /** MOV to CR3 (bit 63 = no flush with PCIDs). Throws for reserved bits or a PML4 outside RAM. */
  setCr3(cpu: number, v: Address): void { this.setReg("cr3", this.exports.cpu_write_cr3, cpu, v); }
  setCr0(cpu: number, v: Address): void { this.setReg("cr0", this.exports.cpu_write_cr0, cpu, v); }
  setCr4(cpu: number, v: Address): void { this.setReg("cr4", this.exports.cpu_write_cr4, cpu, v); }
  setEfer(cpu: number, v: Address): void { this.setReg("efer", this.exports.cpu_write_efer, cpu, v); }
  setRflags(cpu: number, v: Address): void { this.setReg("rflags", this.exports.cpu_write_rflags, cpu, v); }
  setCpl(cpu: number, cpl: 0 | 1 | 2 | 3): void {
    this.checkCpu(cpu);
    if (this.exports.cpu_set_cpl(cpu, cpl) < 0) throw new ConfigError(`cpl: ${String(cpl)} is not 0..3`);
  }

  registers(cpu: number): Registers {
    this.checkCpu(cpu);
    const v = new DataView(this.memory.buffer);
    const p = this.exports.cpu_percpu(cpu);
    const r = (name: keyof CoreExports) => v.getBigUint64(p + constant(this.exports, name), true);
    return { cr0: r("PC_CR0"), cr3: r("PC_CR3"), cr4: r("PC_CR4"), efer: r("PC_EFER"), rflags: r("PC_RFLAGS"),
      cpl: v.getUint32(p + constant(this.exports, "PC_CPL"), true) };
  }

  // ---- translation ----------------------------------------------------------------------------

  /**
   * Decode what a core translation returned on CPU cpu (the raw result of cpu_translate or cpu_walk,
   * e.g. from a worker), reading the page size or the fault record the CPU left in shared memory.
   */
  decodeTranslation(cpu: number, raw: bigint, op = "translate"): Translation {
    this.checkCpu(cpu);
    const r = raw;
    const v = new DataView(this.memory.buffer);
    const p = this.exports.cpu_percpu(cpu);
    if (r >= 0n) return { ok: true, pa: r, pageSize: 2 ** v.getUint32(p + constant(this.exports, "PC_XLAT_SHIFT"), true) };
    const n = -Number(r);
    if (n === EINVAL) throw new ConfigError(`${op}: refused its arguments (-EINVAL)`);
    const errorCode = v.getUint32(p + constant(this.exports, "PC_FAULT_ERROR"), true);
    const cr2 = v.getBigUint64(p + constant(this.exports, "PC_FAULT_CR2"), true);
    if (n === VECTOR.GP) return { ok: false, fault: "#GP", vector: n, errorCode: 0, cr2: 0n };
    if (n === VECTOR.PF) return { ok: false, fault: "#PF", vector: n, errorCode, cr2 };
    return { ok: false, fault: "bus", vector: n, errorCode: 0, cr2, pa: v.getBigUint64(p + constant(this.exports, "PC_FAULT_ADDR"), true) };
  }

  /** Translate va as CPU cpu does for an access: TLB first, page walk on a miss. */
  translate(cpu: number, va: Address, access?: AccessKind): Translation {
    this.checkCpu(cpu);
    return this.decodeTranslation(cpu, this.exports.cpu_translate(cpu, toU64("va", va), accessBits(access)), "translate");
  }

  /** A full page walk that does not look in the TLB (the result is still cached in it). */
  walk(cpu: number, va: Address, access?: AccessKind): Translation {
    this.checkCpu(cpu);
    return this.decodeTranslation(cpu, this.exports.cpu_walk(cpu, toU64("va", va), accessBits(access)), "walk");
  }

  /** INVLPG va on CPU cpu. */
  invlpg(cpu: number, va: Address): void {
    this.checkCpu(cpu);
    this.exports.cpu_invlpg(cpu, toU64("va", va));
  }

  /** INVPCID of a type (arch/x86 INVPCID.*) on CPU cpu. */
  invpcid(cpu: number, type: number, pcid: number, va: Address = 0n): void {
    this.checkCpu(cpu);
    if (this.exports.cpu_invpcid(cpu, type, pcid, toU64("va", va)) < 0) {
      throw new ConfigError(`invpcid: type ${type}, pcid ${pcid}, va ${String(va)} refused (#GP)`);
    }
  }

  /** Valid entries in CPU cpu's TLB. */
  tlbEntries(cpu: number): number {
    this.checkCpu(cpu);
    return this.exports.cpu_tlb_count_valid(cpu);
  }

  /** CPU cpu's counters (TLB hits and misses, walks, faults, flushes, allocations, ...). */
  cpuStats(cpu: number): CpuStats {
    this.checkCpu(cpu);
    return readCpuStats(this.exports, this.layout, cpu, this.stats);
  }

  /**
   * Lock statistics per class (classes never acquired left out unless all), /proc/lock_stat style;
   * times in nanoseconds, or virtual cycles on a virtual machine.
   */
  lockStats(all = false): LockClassStat[] {
    return readLockStats(this.exports, this.layout, this.flavor.startsWith("virtual") ? "cycles" : "ns", all);
  }

  /** What CPU cpu is doing, from its state word (for reports of stuck or dead CPUs). */
  activity(cpu: number): CpuActivity {
    return readCpuActivity(this.exports, this.layout, cpu);
  }
}
