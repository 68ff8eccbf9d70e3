// Processes on an emulated machine: the host's view of the MM core's system calls.
//
// Linux return conventions: a system call's failure is a result, not an exception: mmap returns the
// address or a negative errno (as a bigint, like the raw syscall's long), munmap/mprotect/madvise 0 or
// a negative errno, brk the break after the call. Exceptions are for misuse of the API (a CPU that
// does not exist, a value that is not an integer, a process that has exited): typed MmemuErrors.
//
// Every call runs on a CPU (the `cpu` option, by default the process's home CPU, 0 unless given at
// spawn) as the process's task: the core makes that task current there first, so switching between
// processes on one CPU is a real context switch (switch_mm, CR3 with the mm's PCID, lazy TLB).
import type { Mmu } from "../mmu.js";
import { constant } from "../core/abi.js";
import { ConfigError, ErrnoError } from "../core/errors.js";
import { ACC } from "../arch/x86.js";
import { formatMaps, readVmas, type MapsOptions, type VmaInfo } from "./maps.js";
import { checkMmInvariants, type MmCheckResult } from "./check.js";

export const PROT_NONE = 0, PROT_READ = 1, PROT_WRITE = 2, PROT_EXEC = 4;
export const MAP_SHARED = 0x01, MAP_PRIVATE = 0x02, MAP_FIXED = 0x10, MAP_ANONYMOUS = 0x20;
export const MADV_DONTNEED = 4;

const PAGE = 4096n;

/** An emulated file (inode and address_space) to map. */
export interface MmFile {
  /** The address_space's address in shared memory (what the core calls a file). */
  readonly mapping: number;
  readonly pages: number;
}

export interface MmapOptions {
  /** Hint, or the exact address with MAP_FIXED. */
  addr?: bigint;
  prot?: number;
  /** MAP_PRIVATE | MAP_ANONYMOUS unless given. */
  flags?: number;
  file?: MmFile;
  /** Offset in the file, in bytes (page aligned). */
  offset?: bigint;
  cpu?: number;
}

export interface OnCpu {
  cpu?: number;
}

function u64(what: string, v: bigint | number): bigint {
  const b = typeof v === "bigint" ? v : Number.isSafeInteger(v) ? BigInt(v) : NaN;
  if (typeof b !== "bigint" || b < 0n || b >= 1n << 64n) throw new ConfigError(`${what}: ${String(v)} is not an unsigned 64-bit integer`);
  return b;
}

function u32(what: string, v: number): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff_ffff) throw new ConfigError(`${what}: ${String(v)} is not an unsigned 32-bit integer`);
  return v;
}

/** The MM model of one machine: processes, files, and the invariant checker. */
export class MmModel {
  constructor(readonly mmu: Mmu) {}

  /** A new process with an empty address space (start_brk = brk = the core's START_BRK). */
  spawn(opts: OnCpu = {}): Process {
    const cpu = this.cpu(opts.cpu ?? 0);
    const pid = this.mmu.exports.cpu_spawn(cpu);
    if (pid < 0) throw new ErrnoError("spawn", pid);
    return new Process(this, pid, cpu);
  }

  /** An emulated file of `pages` pages (its page cache fills on first touch). */
  createFile(pages: number, opts: OnCpu = {}): MmFile {
    const cpu = this.cpu(opts.cpu ?? 0);
    const mapping = this.mmu.exports.cpu_address_space_create(cpu, u32("pages", pages)) >>> 0;
    if (mapping === 0) throw new ErrnoError("createFile", -12, "the kernel heap is exhausted");
    return { mapping, pages };
  }

  /** Check every MM invariant (see src/mm/check.ts); no CPU may be running MM code meanwhile. */
  check(): MmCheckResult {
    return checkMmInvariants(this.mmu.exports, this.mmu.layout);
  }

  /** @internal */
  cpu(cpu: number): number {
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.mmu.cpus) {
      throw new ConfigError(`cpu: ${String(cpu)} is not a CPU of this machine (0..${this.mmu.cpus - 1})`);
    }
    return cpu;
  }
}

/** A process (or thread) of the emulated machine. */
export class Process {
  private exited = false;

  /** @internal */
  constructor(readonly model: MmModel, readonly pid: number, readonly homeCpu: number) {}

  private get x() { return this.model.mmu.exports; }

  private on(opts: OnCpu | undefined): number {
    if (this.exited) throw new ConfigError(`pid ${this.pid}: the process has exited`);
    return this.model.cpu(opts?.cpu ?? this.homeCpu);
  }

  /** mmap(2): the address, or a negative errno (bigint). */
  mmap(length: bigint | number, opts: MmapOptions = {}): bigint {
    const cpu = this.on(opts);
    const prot = u32("prot", opts.prot ?? PROT_READ | PROT_WRITE);
    const flags = u32("flags", opts.flags ?? (MAP_PRIVATE | MAP_ANONYMOUS));
    const offset = u64("offset", opts.offset ?? 0n);
    if (offset % PAGE !== 0n) return -22n; // mmap(2): EINVAL for an unaligned offset
    const pgoff = offset / PAGE;
    if (pgoff > 0xffff_ffffn) return -75n; // EOVERFLOW: the model's pgoff is 32 bits
    return this.x.cpu_sys_mmap(cpu, this.pid, u64("addr", opts.addr ?? 0n), u64("length", length), prot, flags,
      opts.file?.mapping ?? 0, Number(pgoff));
  }

  /** munmap(2): 0 or a negative errno. */
  munmap(addr: bigint, length: bigint | number, opts?: OnCpu): number {
    return this.x.cpu_sys_munmap(this.on(opts), this.pid, u64("addr", addr), u64("length", length));
  }

  /** mprotect(2): 0 or a negative errno. */
  mprotect(addr: bigint, length: bigint | number, prot: number, opts?: OnCpu): number {
    return this.x.cpu_sys_mprotect(this.on(opts), this.pid, u64("addr", addr), u64("length", length), u32("prot", prot));
  }

  /** madvise(2): 0 or a negative errno. */
  madvise(addr: bigint, length: bigint | number, advice: number, opts?: OnCpu): number {
    return this.x.cpu_sys_madvise(this.on(opts), this.pid, u64("addr", addr), u64("length", length), advice | 0);
  }

  /** brk(2): the program break after the call (the old one when refused); brk(0) reads it. */
  brk(addr: bigint, opts?: OnCpu): bigint {
    const r = this.x.cpu_sys_brk(this.on(opts), this.pid, u64("addr", addr));
    if (r < 0n) throw new ErrnoError("brk", Number(r), `pid ${this.pid}`);
    return r;
  }

  /** sbrk(3) as libc builds it on brk: the old break, or -ENOMEM (bigint) when brk refused. */
  sbrk(increment: bigint | number, opts?: OnCpu): bigint {
    const inc = typeof increment === "bigint" ? increment : BigInt(increment);
    const old = this.brk(0n, opts);
    if (inc === 0n) return old;
    const want = old + inc;
    if (want < 0n) return -12n;
    return this.brk(want, opts) === want ? old : -12n;
  }

  /** A 32-bit load at va (4-byte aligned) as this process: the value, or a negative errno (-EFAULT: SIGSEGV). */
  read(va: bigint, opts?: OnCpu): number {
    return Number(this.x.cpu_sys_access(this.on(opts), this.pid, u64("va", va), 0, 0));
  }

  /** A 32-bit store at va: 0, or a negative errno (-EFAULT: SIGSEGV). */
  write(va: bigint, value: number, opts?: OnCpu): number {
    return Number(this.x.cpu_sys_access(this.on(opts), this.pid, u64("va", va), ACC.WRITE, u32("value", value)));
  }

  /** An instruction fetch at va: 0 or the word fetched, or a negative errno. */
  exec(va: bigint, opts?: OnCpu): number {
    return Number(this.x.cpu_sys_access(this.on(opts), this.pid, u64("va", va), ACC.FETCH, 0));
  }

  /** fork(2): the child process, or a negative errno. */
  fork(opts?: OnCpu): Process | number {
    const cpu = this.on(opts);
    const r = this.x.cpu_sys_fork(cpu, this.pid, 0);
    return r < 0 ? r : new Process(this.model, r, this.homeCpu);
  }

  /** clone(CLONE_VM): a thread sharing this address space, or a negative errno. */
  thread(opts?: OnCpu & { homeCpu?: number }): Process | number {
    const cpu = this.on(opts);
    const r = this.x.cpu_sys_fork(cpu, this.pid, constant(this.x, "CLONE_VM"));
    return r < 0 ? r : new Process(this.model, r, this.model.cpu(opts?.homeCpu ?? this.homeCpu));
  }

  /** exit(2): the address space is released when this was its last user. */
  exit(code = 0, opts?: OnCpu): void {
    const r = this.x.cpu_sys_exit(this.on(opts), this.pid, code | 0);
    if (r < 0) throw new ErrnoError("exit", r, `pid ${this.pid}`);
    this.exited = true;
  }

  get hasExited(): boolean { return this.exited; }

  /** The address of this process's mm_struct in shared memory (0 once it has exited). */
  get mm(): number {
    return this.exited ? 0 : this.x.task_mm_of(this.pid) >>> 0;
  }

  /** The vmas, in address order. */
  vmas(): VmaInfo[] {
    const mm = this.mm;
    return mm === 0 ? [] : readVmas(this.model.mmu, mm);
  }

  /** /proc/pid/maps. */
  maps(opts?: MapsOptions): string {
    const mm = this.mm;
    return mm === 0 ? "" : formatMaps(this.model.mmu, mm, opts);
  }
}
