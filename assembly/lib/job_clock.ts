// The workload jobs' budget clock and counters (lib/rmap_storm.ts, will_it_scale.ts, fork_server.ts):
// a job runs until its budget clock passes its budget. Virtual build: the CPU's virtual clock in cycles
// (vcpu_set_job reset it to 0; nothing is charged before the job's first check). Parallel build: host
// nanoseconds since the job began (lock_clock: env.now_ns, one monotonic clock for every worker).
import { PC_VCLOCK, PC_STATS } from "../layout";
import { this_cpu, STAT_PF } from "../percpu";
import { lock_clock } from "../locking/lock_stat";
import { VIRTUAL } from "../kernel/sched_config";

/** job_clock_start - the budget clock's origin for a job starting now: 0 (virtual), the host's clock (parallel). */
// @ts-ignore: decorator
@inline export function job_clock_start(): u64 {
  return VIRTUAL ? 0 : lock_clock();
}

/** job_clock - the budget clock of a job that began at start: virtual cycles, or host ns since start. */
// @ts-ignore: decorator
@inline export function job_clock(start: u64): u64 {
  return VIRTUAL ? load<u64>(this_cpu() + PC_VCLOCK) : lock_clock() - start;
}

/** job_faults - page faults taken on this CPU so far (its STAT_PF counter). */
// @ts-ignore: decorator
@inline export function job_faults(): u64 {
  return load<u64>(this_cpu() + PC_STATS + (<usize>STAT_PF << 3));
}
