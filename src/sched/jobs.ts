// Jobs by name: the core's job table (assembly/kernel/vcpu.ts) as the host sees it. A job is named
// after its JOB_* export in lower case (JOB_SPIN_LOCK_LOOP is "spin_lock_loop"), so a job added to the
// core's table is usable here without a change on the host.
import type { CoreExports } from "../core/abi.js";
import { constant } from "../core/abi.js";
import { ConfigError } from "../core/errors.js";

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
