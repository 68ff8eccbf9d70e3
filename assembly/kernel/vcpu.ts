// Virtual CPUs: the job table and the coroutine entry of the deterministic engine (src/sched/).
//
// A job is what a CPU runs: a job id and six u64 arguments in the job area of its struct percpu
// (layout.ts, +1024), recorded by vcpu_set_job. vcpu_entry(cpu) runs the job to completion and leaves
// its i64 result and VJ_DONE there.
//
// Virtual build: vcpu_entry is the body of CPU cpu's coroutine. When the job reaches a preemption
// point the host decides to switch at, env.sched_switch starts an Asyncify unwind into the CPU's save
// area (vstack_base + cpu x VSTACK_SIZE) and vcpu_entry returns early with the job unfinished; the
// host resumes the CPU later by calling sched_enter_cpu(cpu) (the instance's per-CPU globals are not
// part of the saved state), sched_set_horizon, asyncify_start_rewind and vcpu_entry(cpu) again.
// Parallel build: a worker runs the same job with cpu_run_job (Machine.run), all at once for real.
// Wasm globals belong to the instance, so in the virtual build all CPUs share them: per-CPU state lives
// in struct percpu, never in a global that must survive a preemption point (the only per-CPU globals,
// smp_processor_id() and this_cpu(), are what sched_enter_cpu restores).
//
// Adding a job (the lock engineer's torture jobs, for example):
//   1. a JOB_* constant below, the next free id (ids are ABI between host and core: never renumber);
//   2. one case in job_dispatch: when `check` is true validate the arguments (return 0 or -EINVAL,
//      touching nothing), otherwise run the kernel function and return its i64 result;
//   3. nothing else: index.ts re-exports every export of this file, and the host (src/sched/jobs.ts)
//      finds jobs by their JOB_* exports: JOB_SPIN_LOCK_LOOP is the job "spin_lock_loop".
// Keep this file's exports to the ABI: index.ts exports all of them.
import { per_cpu_ptr, nr_cpus, kheap_base, frames_base, backed_limit, machine_base, HDR_KHEAP_SIZE,
  PC_JOB, PC_JOB_STATE, PC_JOB_ARGS, NR_JOB_ARGS, PC_LOCK_WAITER } from "../layout";
import { set_this_cpu } from "../percpu";
import { EINVAL } from "../errno";
import { ACC_VALID_MASK } from "../arch/x86/pgtable_types";
import { cpu_set_running } from "../arch/x86/smp";
import { sched_reset } from "./sched";
import { torture_writer, torture_reader } from "../locking/locktorture";
import { job_aim9, AIM9_OUT_SIZE } from "../lib/aim9";
import { job_rmap_walker, job_rmap_writer, RMAP_OUT_SIZE } from "../lib/rmap_storm";
import { job_fork_server, job_aim7_fork, fork_server_params_ok, FS_OUT_SIZE } from "../lib/fork_server";
import { job_wis, WIS_OUT_SIZE, WIS_REGION_MAX, WIS_BRK1, WIS_BRK2, WIS_PAGE_FAULT1, WIS_TLB_FLUSH1 } from "../lib/will_it_scale";
import { job_spin_lock_loop, job_racy_increment, job_sleep_pingpong, job_preempt_loop, job_translate_loop, job_pte_racy } from "./vcpu_jobs";

// Job ids (ABI). 0 is "no job".
export const JOB_SPIN_LOCK_LOOP: u32 = 1;  // (lock u32*, counter u64*, n)
export const JOB_RACY_INCREMENT: u32 = 2;  // (counter u64*, n)
export const JOB_SLEEP_PINGPONG: u32 = 3;  // (word u32*, n, role 0|1)
export const JOB_PREEMPT_LOOP: u32 = 4;    // (n)
export const JOB_TORTURE_WRITER: u32 = 5;  // (lock mm_lock*, data torture_data*, iters, hold)
export const JOB_TORTURE_READER: u32 = 6;  // (lock mm_lock*, data torture_data*, iters, hold)
export const JOB_TRANSLATE_LOOP: u32 = 7;  // (va, n, access ACC_*)
export const JOB_AIM9_BRK: u32 = 8;        // (pid, loops, base, out aim9 report* or 0): lib/aim9.ts
export const JOB_AIM9_PAGE: u32 = 9;       // (pid, loops, base, out aim9 report* or 0): page_test
export const JOB_PTE_RACY: u32 = 10;       // (pte u64*, n): the planted race on a PTE (vcpu_jobs.ts)
export const JOB_RMAP_WALKER: u32 = 11;    // (pid, va, npages, budget cycles, maxops, out report* or 0): lib/rmap_storm.ts
export const JOB_RMAP_WRITER: u32 = 12;    // (pid, pages, budget cycles, maxops, out report* or 0): lib/rmap_storm.ts
export const JOB_FORK_SERVER: u32 = 17;    // (pid, heap va, params FS_*, budget cycles (host ns: parallel build), maxops, out report* or 0): lib/fork_server.ts
export const JOB_AIM7_FORK: u32 = 18;      // (pid, budget cycles (host ns: parallel build), maxops, out report* or 0): lib/fork_server.ts
// will-it-scale testcases (lib/will_it_scale.ts), each (pid, region bytes, budget cycles, maxiters, out report* or 0);
// region is page_fault1's and tlb_flush1's mapping (page aligned, <= 1 GiB), ignored by brk1 and brk2.
export const JOB_WIS_BRK1: u32 = 13;
export const JOB_WIS_BRK2: u32 = 14;
export const JOB_WIS_PAGE_FAULT1: u32 = 15;
export const JOB_WIS_TLB_FLUSH1: u32 = 16;

// Job states (PC_JOB_STATE).
export const VJ_NONE: u32 = 0;     // no job recorded
export const VJ_READY: u32 = 1;    // recorded, not started
export const VJ_RUNNING: u32 = 2;  // started (in the virtual build: possibly switched out)
export const VJ_DONE: u32 = 3;     // finished; the result is at PC_JOB_RESULT

/** The job's i64 result: the 8 bytes after the arguments, the end of the 64-byte job area. */
export const PC_JOB_RESULT: u32 = PC_JOB_ARGS + NR_JOB_ARGS * 8;
if (!(PC_JOB_RESULT + 8 <= PC_LOCK_WAITER)) ERROR("percpu: the job result overlaps the lock waiter");
if (!(PC_JOB + 64 == PC_LOCK_WAITER)) ERROR("percpu: the job area is 64 bytes");

// @ts-ignore: decorator
@inline function arg(p: usize, i: i32): u64 {
  return load<u64>(p + PC_JOB_ARGS + (<usize>i << 3));
}

/**
 * Whether [addr, addr + size) is kernel memory a job may use (the kernel heap, or frames with
 * contents) and addr is size-aligned (size 4 or 8).
 */
function kaddr_ok(addr: u64, size: u64): bool {
  if ((addr & (size - 1)) != 0) return false;
  const heap = <u64>kheap_base;
  const heap_end = heap + <u64>load<u32>(machine_base + HDR_KHEAP_SIZE);
  if (addr >= heap && addr + size <= heap_end) return true;
  const frames = <u64>frames_base;
  return addr >= frames && addr + size <= frames + backed_limit;
}

// @ts-ignore: decorator
@inline function count_ok(n: u64): bool {
  return n <= <u64>u32.MAX_VALUE;
}

// An optional rmap-storm report: 0, or RMAP_OUT_SIZE bytes of aligned kernel memory.
// @ts-ignore: decorator
@inline function out_ok(out: u64): bool {
  return out == 0 || kaddr_ok(out, 8) && kaddr_ok(out + RMAP_OUT_SIZE - 8, 8);
}

// An optional fork-server report: 0, or FS_OUT_SIZE bytes of aligned kernel memory.
// @ts-ignore: decorator
@inline function fs_out_ok(out: u64): bool {
  return out == 0 || kaddr_ok(out, 8) && kaddr_ok(out + FS_OUT_SIZE - 8, 8);
}

/**
 * job_dispatch - the job table: one case per job. With check true: 0 if the arguments at p (the CPU's
 * struct percpu) are valid for job, -EINVAL otherwise (an unknown job too); nothing runs. With check
 * false: run the job as this CPU and return its result (arguments already checked).
 */
function job_dispatch(job: u32, p: usize, check: bool): i64 {
  switch (job) {
    case JOB_SPIN_LOCK_LOOP: {
      if (check) return kaddr_ok(arg(p, 0), 4) && kaddr_ok(arg(p, 1), 8) && count_ok(arg(p, 2)) ? 0 : -EINVAL;
      return job_spin_lock_loop(<usize>arg(p, 0), <usize>arg(p, 1), <u32>arg(p, 2));
    }
    case JOB_RACY_INCREMENT: {
      if (check) return kaddr_ok(arg(p, 0), 8) && count_ok(arg(p, 1)) ? 0 : -EINVAL;
      return job_racy_increment(<usize>arg(p, 0), <u32>arg(p, 1));
    }
    case JOB_SLEEP_PINGPONG: {
      if (check) return kaddr_ok(arg(p, 0), 4) && count_ok(arg(p, 1)) && arg(p, 2) <= 1 ? 0 : -EINVAL;
      return job_sleep_pingpong(<usize>arg(p, 0), <u32>arg(p, 1), <u32>arg(p, 2));
    }
    case JOB_PREEMPT_LOOP: {
      if (check) return count_ok(arg(p, 0)) ? 0 : -EINVAL;
      return job_preempt_loop(<u32>arg(p, 0));
    }
    case JOB_PTE_RACY: {
      if (check) return kaddr_ok(arg(p, 0), 8) && count_ok(arg(p, 1)) ? 0 : -EINVAL;
      return job_pte_racy(<usize>arg(p, 0), <u32>arg(p, 1));
    }
    case JOB_TRANSLATE_LOOP: {
      if (check) return count_ok(arg(p, 1)) && (arg(p, 2) & ~<u64>ACC_VALID_MASK) == 0 ? 0 : -EINVAL;
      return job_translate_loop(arg(p, 0), <u32>arg(p, 1), <u32>arg(p, 2));
    }
    case JOB_AIM9_BRK:
    case JOB_AIM9_PAGE: {
      if (check) return count_ok(arg(p, 0)) && count_ok(arg(p, 1)) && (arg(p, 2) & 4095) == 0 &&
        (arg(p, 3) == 0 || kaddr_ok(arg(p, 3), 8) && kaddr_ok(arg(p, 3) + AIM9_OUT_SIZE - 8, 8)) ? 0 : -EINVAL;
      return job_aim9(<u32>arg(p, 0), <u32>arg(p, 1), arg(p, 2), <usize>arg(p, 3), job == JOB_AIM9_PAGE);
    }
    case JOB_RMAP_WALKER: {
      if (check) return count_ok(arg(p, 0)) && (arg(p, 1) & 4095) == 0 && count_ok(arg(p, 2)) && arg(p, 2) != 0 &&
        count_ok(arg(p, 4)) && out_ok(arg(p, 5)) ? 0 : -EINVAL;
      return job_rmap_walker(<u32>arg(p, 0), arg(p, 1), <u32>arg(p, 2), arg(p, 3), <u32>arg(p, 4), <usize>arg(p, 5));
    }
    case JOB_RMAP_WRITER: {
      if (check) return count_ok(arg(p, 0)) && arg(p, 1) >= 1 && arg(p, 1) <= 512 && count_ok(arg(p, 3)) && out_ok(arg(p, 4)) ? 0 : -EINVAL;
      return job_rmap_writer(<u32>arg(p, 0), <u32>arg(p, 1), arg(p, 2), <u32>arg(p, 3), <usize>arg(p, 4));
    }
    case JOB_FORK_SERVER: {
      if (check) return count_ok(arg(p, 0)) && (arg(p, 1) & 4095) == 0 && fork_server_params_ok(arg(p, 2)) && count_ok(arg(p, 4)) &&
        fs_out_ok(arg(p, 5)) ? 0 : -EINVAL;
      return job_fork_server(<u32>arg(p, 0), arg(p, 1), arg(p, 2), arg(p, 3), <u32>arg(p, 4), <usize>arg(p, 5));
    }
    case JOB_AIM7_FORK: {
      if (check) return count_ok(arg(p, 0)) && count_ok(arg(p, 2)) && fs_out_ok(arg(p, 3)) ? 0 : -EINVAL;
      return job_aim7_fork(<u32>arg(p, 0), arg(p, 1), <u32>arg(p, 2), <usize>arg(p, 3));
    }
    case JOB_WIS_BRK1:
    case JOB_WIS_BRK2:
    case JOB_WIS_PAGE_FAULT1:
    case JOB_WIS_TLB_FLUSH1: {
      const kind = job == JOB_WIS_BRK1 ? WIS_BRK1 : job == JOB_WIS_BRK2 ? WIS_BRK2 : job == JOB_WIS_PAGE_FAULT1 ? WIS_PAGE_FAULT1 : WIS_TLB_FLUSH1;
      if (check) return count_ok(arg(p, 0)) && (kind <= WIS_BRK2 || arg(p, 1) != 0 && arg(p, 1) <= WIS_REGION_MAX && (arg(p, 1) & 4095) == 0) &&
        count_ok(arg(p, 3)) && (arg(p, 4) == 0 || kaddr_ok(arg(p, 4), 8) && kaddr_ok(arg(p, 4) + WIS_OUT_SIZE - 8, 8)) ? 0 : -EINVAL;
      return job_wis(kind, <u32>arg(p, 0), arg(p, 1), arg(p, 2), <u32>arg(p, 3), <usize>arg(p, 4));
    }
    case JOB_TORTURE_WRITER:
    case JOB_TORTURE_READER: {
      if (check) return kaddr_ok(arg(p, 0), 8) && kaddr_ok(arg(p, 1), 8) && count_ok(arg(p, 2)) && count_ok(arg(p, 3)) ? 0 : -EINVAL;
      const lock = <usize>arg(p, 0), data = <usize>arg(p, 1), iters = <u32>arg(p, 2), hold = <u32>arg(p, 3);
      return job == JOB_TORTURE_WRITER ? torture_writer(lock, data, iters, hold) : torture_reader(lock, data, iters, hold);
    }
  }
  return -EINVAL;
}

/**
 * vcpu_set_job - record job (a JOB_* id) with arguments a0..a5 for CPU cpu, and put the CPU back to
 * virtual time 0, not sleeping (kernel/sched.ts sched_reset). Called by the host before a run, never
 * while cpu runs; a job whose coroutine is switched out is abandoned (its save area is reused).
 * Returns 0, or -EINVAL for a bad CPU, an unknown job or arguments the job refuses (addresses must be
 * aligned kernel memory: the kernel heap or frames with contents; counts must fit in 32 bits).
 */
export function vcpu_set_job(cpu: i32, job: u32, a0: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64): i32 {
  if (cpu < 0 || cpu >= nr_cpus) return -EINVAL;
  const p = per_cpu_ptr(cpu);
  store<u64>(p + PC_JOB_ARGS, a0);
  store<u64>(p + PC_JOB_ARGS + 8, a1);
  store<u64>(p + PC_JOB_ARGS + 16, a2);
  store<u64>(p + PC_JOB_ARGS + 24, a3);
  store<u64>(p + PC_JOB_ARGS + 32, a4);
  store<u64>(p + PC_JOB_ARGS + 40, a5);
  store<i64>(p + PC_JOB_RESULT, 0);
  if (job == 0 || job_dispatch(job, p, true) != 0) {
    store<u32>(p + PC_JOB, 0);
    store<u32>(p + PC_JOB_STATE, VJ_NONE);
    return -EINVAL;
  }
  store<u32>(p + PC_JOB, job);
  store<u32>(p + PC_JOB_STATE, VJ_READY);
  sched_reset(p);
  return 0;
}

/**
 * vcpu_entry - run CPU cpu's job to completion: mark it running (it takes IPIs at its interrupt
 * points), dispatch, store the result at PC_JOB_RESULT, mark it idle, then VJ_DONE. Returns 0, or
 * -EINVAL for a bad CPU or a CPU without a ready job.
 * Virtual build: also returns (0) when the CPU is switched out; the host tells the two apart by
 * asyncify_get_state() (1, unwinding) and resumes it by calling vcpu_entry(cpu) again under
 * asyncify_start_rewind, after sched_enter_cpu(cpu).
 */
export function vcpu_entry(cpu: i32): i32 {
  if (cpu < 0 || cpu >= nr_cpus) return -EINVAL;
  const p = per_cpu_ptr(cpu);
  if (load<u32>(p + PC_JOB_STATE) != VJ_READY) return -EINVAL;
  store<u32>(p + PC_JOB_STATE, VJ_RUNNING);
  set_this_cpu(cpu);
  cpu_set_running(true);
  const r = job_dispatch(load<u32>(p + PC_JOB), p, false);
  store<i64>(p + PC_JOB_RESULT, r);
  cpu_set_running(false);
  store<u32>(p + PC_JOB_STATE, VJ_DONE);
  return 0;
}

/**
 * sched_enter_cpu - make this instance execute as CPU cpu (its per-CPU globals: smp_processor_id()
 * and this_cpu()), before the host resumes cpu's coroutine. Returns 0, or -EINVAL for a bad CPU.
 */
export function sched_enter_cpu(cpu: i32): i32 {
  if (cpu < 0 || cpu >= nr_cpus) return -EINVAL;
  set_this_cpu(cpu);
  return 0;
}

/**
 * cpu_run_job - parallel mode: run CPU cpu's job on its worker (Machine.run with fn "cpu_run_job"),
 * as vcpu_entry does. Returns the job's result, or -EINVAL (as i64) for a bad CPU or no ready job.
 */
export function cpu_run_job(cpu: i32): i64 {
  const r = vcpu_entry(cpu);
  if (r < 0) return r;
  return load<i64>(per_cpu_ptr(cpu) + PC_JOB_RESULT);
}
