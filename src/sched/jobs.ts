// Jobs by name: the core's job table (assembly/kernel/vcpu.ts) as the host sees it. A job is named
// after its JOB_* export in lower case (JOB_SPIN_LOCK_LOOP is "spin_lock_loop"), so a job added to the
// core's table is usable here without a change on the host.
import type { CoreExports } from "../core/abi.js";
import { constant } from "../core/abi.js";
import { ConfigError } from "../core/errors.js";
import type { Mmu } from "../mmu.js";

/** One CPU's job in a run: a job name and up to six integer arguments (addresses, counts). */
export interface JobSpec {
  cpu: number;
  job: string;
  args?: (number | bigint)[];
}

/** A job spec checked against the machine: job id and its six u64 arguments. */
export interface ResolvedJob {
  cpu: number;
  job: string;
  id: number;
  args: bigint[];
}

const U64_MAX = (1n << 64n) - 1n;

/** The core's jobs: name -> id. */
export function jobTable(x: CoreExports): Map<string, number> {
  const jobs = new Map<string, number>();
  for (const k of Object.keys(x)) {
    if (/^JOB_[A-Z0-9_]+$/.test(k)) jobs.set(k.slice(4).toLowerCase(), constant(x, k as keyof CoreExports));
  }
  return jobs;
}

function toArg(where: string, v: unknown): bigint {
  if (typeof v === "bigint") {
    if (v < 0n || v > U64_MAX) throw new ConfigError(`${where}: ${v} does not fit in a u64`);
    return v;
  }
  if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  throw new ConfigError(`${where}: ${String(v)} is not a non-negative integer`);
}

/**
 * Check the jobs of a run: an array of { cpu, job, args } with CPUs of this machine (each at most
 * once), known job names and at most nrArgs integer arguments. Throws a ConfigError naming the
 * offending entry. The core checks what the arguments mean (vcpu_set_job).
 */
export function resolveJobs(x: CoreExports, nrCpus: number, nrArgs: number, jobs: unknown): ResolvedJob[] {
  if (!Array.isArray(jobs) || jobs.length === 0) throw new ConfigError("jobs: expected a non-empty array of { cpu, job, args }");
  const table = jobTable(x);
  const seen = new Set<number>();
  return jobs.map((j: unknown, i): ResolvedJob => {
    const where = `jobs[${i}]`;
    if (j === null || typeof j !== "object") throw new ConfigError(`${where}: expected { cpu, job, args }`);
    const { cpu, job, args, ...rest } = j as Record<string, unknown>;
    const extra = Object.keys(rest);
    if (extra.length > 0) throw new ConfigError(`${where}: unknown field "${extra[0]}" (known: cpu, job, args)`);
    if (typeof cpu !== "number" || !Number.isInteger(cpu) || cpu < 0 || cpu >= nrCpus) {
      throw new ConfigError(`${where}.cpu: ${String(cpu)} is not a CPU of this machine (0..${nrCpus - 1})`);
    }
    if (seen.has(cpu)) throw new ConfigError(`${where}.cpu: CPU ${cpu} has two jobs`);
    seen.add(cpu);
    const id = typeof job === "string" ? table.get(job) : undefined;
    if (id === undefined) {
      throw new ConfigError(`${where}.job: unknown job ${JSON.stringify(job)} (known: ${[...table.keys()].join(", ")})`);
    }
    const list = args ?? [];
    if (!Array.isArray(list) || list.length > nrArgs) throw new ConfigError(`${where}.args: expected at most ${nrArgs} integers`);
    const out = list.map((v: unknown, k) => toArg(`${where}.args[${k}]`, v));
    while (out.length < nrArgs) out.push(0n);
    return { cpu, job: job as string, id, args: out };
  });
}

/**
 * setJobs - record each resolved job for its CPU with the core's vcpu_set_job (before a run, nothing
 * running). Throws a ConfigError naming the job when the core refuses its arguments.
 */
export function setJobs(x: CoreExports, jobs: ResolvedJob[]): void {
  jobs.forEach((j, i) => {
    const a = j.args;
    const r = x.vcpu_set_job(j.cpu, j.id, a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!);
    if (r < 0) {
      throw new ConfigError(`jobs[${i}]: job "${j.job}" refused its arguments [${a.join(", ")}] on CPU ${j.cpu} ` +
        `(${r}: addresses must be aligned kernel memory, e.g. from alloc(); counts must fit in 32 bits)`);
    }
  });
}

/**
 * Kernel memory for jobs' shared words and reports, as the virtual and the parallel machines hand it
 * out: zeroed, in frames with contents (what vcpu_set_job accepts), each allocation on cache lines of
 * its own, never freed.
 */
export class JobMemory {
  private pfn = -1;
  private off = 4096;

  constructor(private readonly mmu: Mmu) {}

  /**
   * alloc - bytes (1..4096) rounded up to 64-byte lines. Returns the address in the core's memory.
   * Throws ConfigError for a bad size, ErrnoError(-ENOMEM) when no frame is left.
   */
  alloc(bytes = 64): number {
    if (!Number.isInteger(bytes) || bytes < 1 || bytes > 4096) throw new ConfigError(`alloc: ${String(bytes)} is not 1..4096 bytes`);
    const size = Math.ceil(bytes / 64) * 64;
    if (this.off + size > 4096) {
      this.pfn = this.mmu.allocFrame({ zero: true });
      this.off = 0;
    }
    const at = this.mmu.layout.framesBase + this.pfn * 4096 + this.off;
    this.off += size;
    return at;
  }

  /** addr checked as a size-aligned address of the machine (ConfigError naming `what` otherwise). */
  word(what: string, addr: number, size: 4 | 8): number {
    if (!Number.isInteger(addr) || addr <= 0 || addr % size !== 0 || addr + size > this.mmu.memory.buffer.byteLength) {
      throw new ConfigError(`${what}: ${String(addr)} is not a ${size}-byte aligned address of the machine`);
    }
    return addr;
  }

  /** The u64 at addr (8-aligned), read atomically (a worker may have written it). */
  read64(addr: number): bigint {
    return Atomics.load(new BigUint64Array(this.mmu.memory.buffer), this.word("read64", addr, 8) / 8);
  }
}
