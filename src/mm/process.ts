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
import { ConfigError, ErrnoError, MmInvariantError } from "../core/errors.js";
import { ACC } from "../arch/x86.js";
import { formatMaps, readVmas, type MapsOptions, type VmaInfo } from "./maps.js";
import { checkMmInvariants, type MmCheckResult } from "./check.js";
import { MmuNotifier, mmNotifiers } from "./notifier.js";

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

export interface MmModelOptions {
  /**
   * Run the invariant checker after every call of the process API (MmModel's and Process's) and throw
   * an MmInvariantError listing the violations. For tests: each check walks every page table.
   */
  checkEveryOp?: boolean;
}

/** TLB shootdowns of one cause (arch/x86/mm_tlb.ts statistics). */
export interface TlbFlushCounts {
  /** flush_tlb_mm_range calls. */
  flushes: number;
  /** Remote CPUs asked to flush. */
  ipis: number;
  /** Pages flushed one by one (requests at or below the 33-page ceiling; a full flush counts in `full`). */
  pages: number;
  /** Requests that became a full flush of the PCID (more than 33 pages, or TLB_FLUSH_ALL). */
  full: number;
}

export const TLB_FLUSH_CAUSES = ["munmap", "mprotect", "cow", "reclaim", "migration", "exit", "other"] as const;
export type TlbFlushCause = (typeof TLB_FLUSH_CAUSES)[number];
export type TlbFlushStats = Record<TlbFlushCause, TlbFlushCounts> & {
  /** CPUs in lazy TLB mode skipped by shootdowns (no page tables freed). */
  lazySkipped: number;
};

/** Something that runs on CPUs: a process or thread (Process), or a kernel thread (KThread). */
interface Task {
  readonly pid: number;
  readonly hasExited: boolean;
}

/** The MM model of one machine: processes, kernel threads, files, page operations, and the invariant checker. */
export class MmModel {
  readonly checkEveryOp: boolean;
  private readonly tasks = new Set<Task>();
  private readonly notifiers: MmuNotifier[] = [];

  constructor(readonly mmu: Mmu, opts: MmModelOptions = {}) {
    if (opts === null || typeof opts !== "object") throw new ConfigError("MmModel options: expected { checkEveryOp? }");
    for (const k of Object.keys(opts)) if (k !== "checkEveryOp") throw new ConfigError(`MmModel: unknown option "${k}" (known: checkEveryOp)`);
    if (opts.checkEveryOp !== undefined && typeof opts.checkEveryOp !== "boolean") throw new ConfigError("checkEveryOp: expected true or false");
    this.checkEveryOp = opts.checkEveryOp ?? false;
  }

  private get x() { return this.mmu.exports; }

  /** A new process with an empty address space (start_brk = brk = the core's START_BRK). */
  spawn(opts: OnCpu = {}): Process {
    const cpu = this.cpu(opts.cpu ?? 0);
    const pid = this.x.cpu_spawn(cpu);
    if (pid < 0) throw new ErrnoError("spawn", pid);
    const p = this.adopt(new Process(this, pid, cpu));
    this.afterOp(`spawn() = pid ${pid}`);
    return p;
  }

  /**
   * A kernel thread (PF_KTHREAD, no mm of its own), not running yet: kthread.run({cpu}) makes it
   * current on a CPU, where it borrows the mm loaded there as its active_mm, in lazy TLB mode.
   */
  kthread(opts: OnCpu = {}): KThread {
    const cpu = this.cpu(opts.cpu ?? 0);
    const pid = this.x.cpu_kthread_create(cpu);
    if (pid < 0) throw new ErrnoError("kthread", pid);
    const k = this.adopt(new KThread(this, pid, cpu));
    this.afterOp(`kthread() = pid ${pid}`);
    return k;
  }

  /** Make nothing current on cpu: the idle state, lazy TLB on the mm that was loaded (or init_mm after an exit). */
  idle(opts: OnCpu = {}): void {
    const cpu = this.cpu(opts.cpu ?? 0);
    const r = this.x.cpu_idle(cpu);
    if (r < 0) throw new ErrnoError("idle", r, `cpu ${cpu}`);
    this.afterOp(`idle(cpu ${cpu})`);
  }

  /** An emulated file of `pages` pages (its page cache fills on first touch). */
  createFile(pages: number, opts: OnCpu = {}): MmFile {
    const cpu = this.cpu(opts.cpu ?? 0);
    const mapping = this.x.cpu_address_space_create(cpu, u32("pages", pages)) >>> 0;
    if (mapping === 0) throw new ErrnoError("createFile", -12, "the kernel heap is exhausted");
    this.afterOp(`createFile(${pages})`);
    return { mapping, pages };
  }

  /** Pages of the file in its page cache (they stay there after every mapping is gone: no truncate). */
  cachedPages(file: MmFile): number {
    return new DataView(this.mmu.memory.buffer).getUint32(file.mapping + constant(this.x, "AS_NRPAGES"), true);
  }

  /** The live processes, threads and kernel threads of this model, in creation order. */
  get live(): Task[] {
    return [...this.tasks].filter((t) => !t.hasExited);
  }

  // ---- page-level operations (reclaim's and move_pages' steps, assembly/kernel/page_ops.ts) ----

  private pageOp(name: string, p: Process, va: bigint, op: string, opts?: OnCpu): number {
    if (!(p instanceof Process) || p.model !== this) throw new ConfigError(`${name}: expected a Process of this model`);
    if (p.hasExited) throw new ConfigError(`${name}: pid ${p.pid} has exited`);
    const cpu = this.cpu(opts?.cpu ?? 0);
    const r = Number(this.x.cpu_page_op(cpu, p.pid, u64("va", va), constant(this.x, op as keyof typeof this.x)));
    this.afterOp(`${name}(pid ${p.pid}, 0x${va.toString(16)}) = ${r}`);
    return r;
  }

  /**
   * page_referenced on the page p maps at va (reclaim's aging): the number of mappings, in every
   * process, whose Accessed bit was set (now clear; each one's TLB entry flushed), or -EFAULT when
   * nothing is mapped at va. Runs on `cpu` (default 0) as a kernel context.
   */
  pageReferenced(p: Process, va: bigint, opts?: OnCpu): number {
    return this.pageOp("pageReferenced", p, va, "PAGEOP_REFERENCED", opts);
  }

  /**
   * try_to_unmap on the page p maps at va: every PTE that maps it, in every process, is removed (TLB
   * shot down, mmu notifiers told). The number of PTEs removed, or -EFAULT. The model has no swap:
   * an anonymous page's contents are dropped, its next touch is demand-zero (a file page comes back
   * from the page cache).
   */
  tryToUnmap(p: Process, va: bigint, opts?: OnCpu): number {
    return this.pageOp("tryToUnmap", p, va, "PAGEOP_UNMAP", opts);
  }

  /**
   * migrate_page on the page p maps at va (move_pages(2) for one page): its contents and every
   * mapping move to a new frame. The new pfn, or -EFAULT, -ENOMEM, -EAGAIN (other references), -EBUSY.
   */
  migrate(p: Process, va: bigint, opts?: OnCpu): number {
    return this.pageOp("migrate", p, va, "PAGEOP_MIGRATE", opts);
  }

  /** page_mkclean on the (shared file) page p maps at va: PTEs write-protected and cleaned, or -EFAULT. */
  pageMkclean(p: Process, va: bigint, opts?: OnCpu): number {
    return this.pageOp("pageMkclean", p, va, "PAGEOP_MKCLEAN", opts);
  }

  /**
   * TLB shootdowns per cause since boot, summed over the CPUs that initiated them (or one CPU's with
   * `cpu`), and how many lazy-TLB CPUs were skipped.
   */
  tlbFlushStats(opts: { cpu?: number } = {}): TlbFlushStats {
    const cpus = opts.cpu === undefined ? [...Array(this.mmu.cpus).keys()] : [this.cpu(opts.cpu)];
    const c = (n: string) => constant(this.x, n as keyof typeof this.x);
    const stat = (cause: number, field: string) => cpus.reduce((s, cpu) => s + Number(this.x.mm_tlb_flush_stat(cpu, cause, c(`TFS_${field}`))), 0);
    const out = { lazySkipped: cpus.reduce((s, cpu) => s + Number(this.x.mm_tlb_flush_stat(cpu, c("NR_TLB_CAUSES"), 0)), 0) } as TlbFlushStats;
    for (const name of TLB_FLUSH_CAUSES) {
      const cause = c(`TLB_CAUSE_${name.toUpperCase()}`);
      out[name] = { flushes: stat(cause, "FLUSHES"), ipis: stat(cause, "IPIS"), pages: stat(cause, "PAGES"), full: stat(cause, "FULL") };
    }
    return out;
  }

  /**
   * Check every MM invariant (see src/mm/check.ts); no CPU may be running MM code meanwhile. Also a
   * violation: a notifier whose mm was released while it was unbalanced.
   */
  check(): MmCheckResult {
    const r = checkMmInvariants(this.x, this.mmu.layout);
    for (const n of this.notifiers) {
      if (n.released && !n.balanced) {
        const c = n.counts();
        r.violations.push(`mmu notifier 0x${n.addr.toString(16)} of mm 0x${n.mm.toString(16)} was released unbalanced ` +
          `(depth ${c.depth}${c.endWithoutStart ? ", an end without a start" : ""})`);
      }
    }
    return r;
  }

  /** @internal */
  adopt<T extends Task>(t: T): T {
    this.tasks.add(t);
    return t;
  }

  /** @internal A notifier registered through Process.registerNotifier. */
  track(n: MmuNotifier): void { this.notifiers.push(n); }

  /** @internal The last user of mm is about to exit: its notifiers are released with it. */
  releasing(mm: number): void {
    for (const n of this.notifiers) if (n.mm === mm && !n.released) n.release();
  }

  /** @internal With checkEveryOp: check, and throw MmInvariantError on a violation. */
  afterOp(op: string): void {
    if (!this.checkEveryOp) return;
    const r = this.check();
    if (r.violations.length > 0) throw new MmInvariantError(op, r.violations);
  }

  /** @internal */
  cpu(cpu: number): number {
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.mmu.cpus) {
      throw new ConfigError(`cpu: ${String(cpu)} is not a CPU of this machine (0..${this.mmu.cpus - 1})`);
    }
    return cpu;
  }
}

/** A kernel thread (PF_KTHREAD): no mm of its own; running on a CPU it borrows the mm loaded there. */
export class KThread {
  private exited = false;

  /** @internal */
  constructor(readonly model: MmModel, readonly pid: number, readonly homeCpu: number) {}

  private on(opts: OnCpu | undefined): number {
    if (this.exited) throw new ConfigError(`pid ${this.pid}: the kernel thread has exited`);
    return this.model.cpu(opts?.cpu ?? this.homeCpu);
  }

  /** Make it current on a CPU (context_switch: it borrows that CPU's mm, mmgrab, lazy TLB). 0 or a negative errno (-EBUSY: current elsewhere). */
  run(opts?: OnCpu): number {
    const cpu = this.on(opts);
    const r = this.model.mmu.exports.cpu_task_run(cpu, this.pid);
    this.model.afterOp(`kthread ${this.pid}.run(cpu ${cpu}) = ${r}`);
    return r;
  }

  /** The mm it borrowed while running (its active_mm; 0 when not running or borrowing init_mm). */
  get activeMm(): number {
    return this.exited ? 0 : this.model.mmu.exports.task_active_mm_of(this.pid) >>> 0;
  }

  /**
   * use_mm: adopt process p's address space (get_task_mm + use_mm, as AIO and vhost workers do), on
   * the thread's CPU, making it current there. Returns the mm's address, or a negative errno (-ESRCH:
   * p has no mm; -EINVAL: already using one). Its mm is then refused to get_task_mm (seed 000).
   */
  useMm(p: Process, opts?: OnCpu): number {
    const cpu = this.on(opts);
    const r = Number(this.model.mmu.exports.cpu_kthread_use_mm(cpu, this.pid, p.pid));
    this.model.afterOp(`kthread ${this.pid}.useMm(${p.pid}) = ${r}`);
    return r;
  }

  /** unuse_mm + mmput: give the adopted address space back (it stays loaded lazily). 0 or a negative errno. */
  unuseMm(opts?: OnCpu): number {
    const cpu = this.on(opts);
    const r = this.model.mmu.exports.cpu_kthread_unuse_mm(cpu, this.pid);
    this.model.afterOp(`kthread ${this.pid}.unuseMm() = ${r}`);
    return r;
  }

  /** The thread ends (do_exit; it has no mm to release: its borrowed one is dropped when the CPU switches away). */
  exit(opts?: OnCpu): void {
    const cpu = this.on(opts);
    const r = this.model.mmu.exports.cpu_sys_exit(cpu, this.pid, 0);
    if (r < 0) throw new ErrnoError("exit", r, `kernel thread ${this.pid}`);
    this.exited = true;
    this.model.afterOp(`kthread ${this.pid}.exit()`);
  }

  get hasExited(): boolean { return this.exited; }
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
    const r = this.x.cpu_sys_mmap(cpu, this.pid, u64("addr", opts.addr ?? 0n), u64("length", length), prot, flags,
      opts.file?.mapping ?? 0, Number(pgoff));
    return this.done("mmap", r);
  }

  /** munmap(2): 0 or a negative errno. */
  munmap(addr: bigint, length: bigint | number, opts?: OnCpu): number {
    return this.done("munmap", this.x.cpu_sys_munmap(this.on(opts), this.pid, u64("addr", addr), u64("length", length)));
  }

  /** mprotect(2): 0 or a negative errno. */
  mprotect(addr: bigint, length: bigint | number, prot: number, opts?: OnCpu): number {
    return this.done("mprotect", this.x.cpu_sys_mprotect(this.on(opts), this.pid, u64("addr", addr), u64("length", length), u32("prot", prot)));
  }

  /** madvise(2): 0 or a negative errno. */
  madvise(addr: bigint, length: bigint | number, advice: number, opts?: OnCpu): number {
    return this.done("madvise", this.x.cpu_sys_madvise(this.on(opts), this.pid, u64("addr", addr), u64("length", length), advice | 0));
  }

  /** brk(2): the program break after the call (the old one when refused); brk(0) reads it. */
  brk(addr: bigint, opts?: OnCpu): bigint {
    const r = this.x.cpu_sys_brk(this.on(opts), this.pid, u64("addr", addr));
    if (r < 0n) throw new ErrnoError("brk", Number(r), `pid ${this.pid}`);
    return this.done("brk", r);
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
    return this.done("read", Number(this.x.cpu_sys_access(this.on(opts), this.pid, u64("va", va), 0, 0)));
  }

  /** A 32-bit store at va: 0, or a negative errno (-EFAULT: SIGSEGV). */
  write(va: bigint, value: number, opts?: OnCpu): number {
    return this.done("write", Number(this.x.cpu_sys_access(this.on(opts), this.pid, u64("va", va), ACC.WRITE, u32("value", value))));
  }

  /** An instruction fetch at va: 0 or the word fetched, or a negative errno. */
  exec(va: bigint, opts?: OnCpu): number {
    return this.done("exec", Number(this.x.cpu_sys_access(this.on(opts), this.pid, u64("va", va), ACC.FETCH, 0)));
  }

  /** fork(2): the child process, or a negative errno. */
  fork(opts?: OnCpu): Process | number {
    const cpu = this.on(opts);
    const r = this.x.cpu_sys_fork(cpu, this.pid, 0);
    return this.done("fork", r < 0 ? r : this.model.adopt(new Process(this.model, r, this.homeCpu)));
  }

  /** clone(CLONE_VM): a thread sharing this address space, or a negative errno. */
  thread(opts?: OnCpu & { homeCpu?: number }): Process | number {
    const cpu = this.on(opts);
    const home = this.model.cpu(opts?.homeCpu ?? this.homeCpu);
    const r = this.x.cpu_sys_fork(cpu, this.pid, constant(this.x, "CLONE_VM"));
    return this.done("thread", r < 0 ? r : this.model.adopt(new Process(this.model, r, home)));
  }

  /** exit(2): the address space is released when this was its last user. */
  exit(code = 0, opts?: OnCpu): void {
    const cpu = this.on(opts);
    const mm = this.mm;
    const last = mm !== 0 && new DataView(this.model.mmu.memory.buffer).getInt32(mm + constant(this.x, "MM_USERS"), true) === 1;
    if (last) this.model.releasing(mm); // exit_mmap will free its notifiers: keep their last readings
    const r = this.x.cpu_sys_exit(cpu, this.pid, code | 0);
    if (r < 0) throw new ErrnoError("exit", r, `pid ${this.pid}`);
    this.exited = true;
    this.done("exit", 0);
  }

  /** Make this process current on a CPU (context_switch: switch_mm, CR3 with its PCID). 0 or a negative errno (-EBUSY: current elsewhere). */
  run(opts?: OnCpu): number {
    return this.done("run", this.x.cpu_task_run(this.on(opts), this.pid));
  }

  /** The frame mapped at va (follow_page, no fault), or -EFAULT when nothing is mapped there. */
  pfn(va: bigint, opts?: OnCpu): number {
    this.on(opts);
    return Number(this.x.cpu_page_op(this.model.cpu(opts?.cpu ?? 0), this.pid, u64("va", va), constant(this.x, "PAGEOP_PFN")));
  }

  /**
   * Register a recording mmu notifier on this process's mm (mmu_notifier_register, mmap_sem taken for
   * write), as KVM or a GRU driver does: it is told of every invalidate_range_start/end,
   * invalidate_page and clear_young from now on, until the mm's exit releases it.
   */
  registerNotifier(opts?: OnCpu): MmuNotifier {
    const cpu = this.on(opts);
    const r = Number(this.x.cpu_sys_mmu_notifier_register(cpu, this.pid));
    if (r < 0) throw new ErrnoError("registerNotifier", r, `pid ${this.pid}`);
    const n = new MmuNotifier(this.x, r >>> 0, this.mm);
    this.model.track(n);
    this.done("registerNotifier", 0);
    return n;
  }

  /** The notifiers registered on this process's mm (addresses). */
  notifiers(): number[] {
    const mm = this.mm;
    return mm === 0 ? [] : mmNotifiers(this.x, mm);
  }

  private done<T>(op: string, r: T): T {
    this.model.afterOp(`pid ${this.pid}: ${op} = ${r instanceof Process ? `pid ${r.pid}` : String(r)}`);
    return r;
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
