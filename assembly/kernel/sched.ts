// Scheduling hooks: the one place where the two ways of running CPUs differ.
//
// Parallel build: one instance per CPU on a worker thread. A sleeping CPU waits with
// memory.atomic.wait32 on a word and is woken by atomic.notify; charges and preemption points compile
// to nothing.
// Virtual build (VIRTUAL, with Asyncify): one instance runs every CPU as a coroutine. Each CPU has a
// virtual clock (struct percpu +144) to which operations charge their cost (kernel/cost.ts). At a
// preemption point the running CPU calls the host's scheduler (env.sched_switch), which unwinds it
// and runs another, when its clock has passed the horizon the scheduler gave it (the earliest clock of
// any other runnable CPU; 0 in explore mode, where every point asks the schedule). A sleeping CPU is
// switched out until its word changes; its waker sets the virtual time it may run again.
//
// Contract of env.sched_switch(reason): returns when this CPU is scheduled again (src/sched/: the host
// may unwind the CPU's stack with Asyncify meanwhile and rewind it later). On return from a
// SWITCH_SLEEP the word has changed; when every unfinished CPU waits, the host throws a DeadlockError
// instead of returning.
import { VIRTUAL } from "./sched_config";
import { mailbox_sleep_begin, mailbox_sleep_end } from "../arch/x86/smp";
import { cost, COST_SLEEP, COST_WAKEUP, COST_WAKE_LATENCY, COST_CTX_SWITCH } from "./cost";
import { PC_VCLOCK, PC_WAIT_WORD, PC_WAIT_VAL, PC_WAKE_AT, per_cpu_ptr, nr_cpus } from "../layout";
import { this_cpu, count_event, cpu_set_state, cpu_restore_state, cpu_stuck, CPU_SLEEPING,
  STAT_SLEEP, STAT_WAKEUP } from "../percpu";

/** Why a CPU enters the scheduler (the argument of env.sched_switch). */
export const SWITCH_PREEMPT: u32 = 0; // a preemption point past the horizon
export const SWITCH_SPIN: u32 = 1;    // a spin-wait iteration (explore: the fair fallback counts these)
export const SWITCH_SLEEP: u32 = 2;   // sleeping until the CPU's wait word changes

// @ts-ignore: decorator
@external("env", "sched_switch")
declare function host_sched_switch(reason: u32): void;

/**
 * The running CPU gives way when its clock reaches this (set by the host per slice; per instance).
 * Between runs it is "never", so calls the host makes into the virtual build outside a run do not
 * enter the scheduler.
 */
let horizon: u64 = u64.MAX_VALUE;

/** sched_set_horizon - the host's scheduler sets the running CPU's horizon before resuming it. */
export function sched_set_horizon(h: u64): void {
  horizon = h;
}

/**
 * sched_reset - put the CPU whose struct percpu is at p back to virtual time 0, not sleeping (the
 * host starts every run of a job from here: kernel/vcpu.ts). Its coroutine must not be suspended, or
 * be abandoned by the host.
 */
export function sched_reset(p: usize): void {
  store<u64>(p + PC_VCLOCK, 0);
  store<u32>(p + PC_WAIT_WORD, 0);
  store<u32>(p + PC_WAIT_VAL, 0);
  store<u64>(p + PC_WAKE_AT, 0);
}

/** charge - add cycles to this CPU's virtual clock (nothing in the parallel build). */
// @ts-ignore: decorator
@inline export function charge(cycles: u32): void {
  if (VIRTUAL) {
    const p = this_cpu() + PC_VCLOCK;
    store<u64>(p, load<u64>(p) + cycles);
  }
}

/**
 * preempt_point - where another CPU may run first: lock operations, atomics on shared state, PTE
 * writes. kind is SWITCH_PREEMPT or SWITCH_SPIN. Nothing in the parallel build.
 */
// @ts-ignore: decorator
@inline export function preempt_point(kind: u32): void {
  if (VIRTUAL) {
    if (load<u64>(this_cpu() + PC_VCLOCK) >= horizon) host_sched_switch(kind);
  }
}

/** Host timeout of one wait32 in the parallel build; SLEEP_ROUNDS of them and the CPU is stuck. */
const SLEEP_SLICE_NS: i64 = 100_000_000;
const SLEEP_ROUNDS: u32 = 50;

/**
 * sched_sleep - sleep until the u32 at word is no longer expected (the caller re-checks its
 * condition after). Counts a sleep (a context switch away: "processor change").
 * Parallel: memory.atomic.wait32, bounded (about 5 s, then the CPU is reported stuck).
 * Virtual: switched out until woken; then its clock moves to the waker's wake-up time.
 */
export function sched_sleep(word: usize, expected: u32): void {
  // Asleep, the CPU takes no IPIs: TLB shootdowns are done on its behalf meanwhile (arch/x86/smp.ts).
  const was_running = mailbox_sleep_begin();
  count_event(STAT_SLEEP);
  const prev = cpu_set_state(CPU_SLEEPING, <u32>word, expected);
  if (VIRTUAL) {
    const p = this_cpu();
    charge(cost(COST_SLEEP));
    store<u32>(p + PC_WAIT_WORD, <u32>word);
    store<u32>(p + PC_WAIT_VAL, expected);
    store<u64>(p + PC_WAKE_AT, 0);
    while (atomic.load<u32>(word) == expected) host_sched_switch(SWITCH_SLEEP);
    store<u32>(p + PC_WAIT_WORD, 0);
    const wake = load<u64>(p + PC_WAKE_AT);
    if (wake > load<u64>(p + PC_VCLOCK)) store<u64>(p + PC_VCLOCK, wake);
    charge(cost(COST_CTX_SWITCH));
  } else {
    let rounds: u32 = 0;
    while (atomic.load<u32>(word) == expected) {
      if (memory.atomic.wait32(word, expected, SLEEP_SLICE_NS) == 2 && ++rounds >= SLEEP_ROUNDS) cpu_stuck();
    }
  }
  cpu_restore_state(prev);
  mailbox_sleep_end(was_running);
}

/**
 * sched_wake - wake up to count CPUs sleeping on word (after the caller changed it). Counts a wake-up.
 * Virtual: every CPU asleep on word may run again from this CPU's clock plus the wake-up latency, and
 * this CPU's horizon comes down to that time, so that it gives way at its next preemption point past
 * it instead of running on while the woken CPU should already be running.
 */
export function sched_wake(word: usize, count: u32): void {
  count_event(STAT_WAKEUP);
  if (VIRTUAL) {
    charge(cost(COST_WAKEUP));
    const at = load<u64>(this_cpu() + PC_VCLOCK) + cost(COST_WAKE_LATENCY);
    let woken = false;
    for (let c = 0; c < nr_cpus; c++) {
      const q = per_cpu_ptr(c);
      if (load<u32>(q + PC_WAIT_WORD) == <u32>word) {
        woken = true;
        // The earliest wake-up counts: waking a CPU already woken (its word changed again before it
        // ran) must not push it later, as try_to_wake_up on a TASK_RUNNING task does nothing.
        const prev = load<u64>(q + PC_WAKE_AT);
        if (prev == 0 || at < prev) store<u64>(q + PC_WAKE_AT, at);
      }
    }
    if (woken && at < horizon) horizon = at;
  } else {
    atomic.notify(word, count);
  }
}
