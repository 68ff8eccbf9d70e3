// Jobs of the scheduler's own tests and benchmarks (kernel/vcpu.ts runs them): a lock-protected
// counter, the planted race of explore mode, a sleep/wake ping-pong, a bare preemption loop and a
// loop of memory accesses (translations) through the CPU's MMU.
// They compile in every build: on workers (parallel mode) the same loops run for real.
//
// Every access to shared state here is announced the way the rest of the core announces its own:
// charge(cost(COST_ATOMIC)) and a preemption point before it, so that explore mode can interleave
// CPUs between any two of them. The locks charge for themselves (locking/).
import { charge, preempt_point, sched_sleep, sched_wake, SWITCH_PREEMPT } from "./sched";
import { cost, COST_ATOMIC, COST_LOAD_L1 } from "./cost";
import { spin_lock, spin_unlock } from "../locking/spinlock";
import { mmu_translate } from "../arch/x86/mmu";
import { this_cpu } from "../percpu";
import { ptep_get, set_pte_at } from "../mm/pgtable";

// @ts-ignore: decorator
@inline function shared_access(): void {
  charge(cost(COST_ATOMIC));
  preempt_point(SWITCH_PREEMPT);
}

/**
 * job_spin_lock_loop - n times: spin_lock(lock); counter += 1 as a plain load and store with a
 * preemption point between them; spin_unlock(lock). lock is a ticket-lock word (u32, 4-aligned),
 * counter a u64 (8-aligned), both zeroed by the caller before the first CPU starts. With a lock that
 * excludes, the counter ends at (CPUs) x n. Returns n.
 */
export function job_spin_lock_loop(lock: usize, counter: usize, n: u32): i64 {
  for (let i: u32 = 0; i < n; i++) {
    spin_lock(lock);
    const v = load<u64>(counter);
    charge(cost(COST_LOAD_L1));
    preempt_point(SWITCH_PREEMPT); // another CPU may run inside the critical section, and must wait
    store<u64>(counter, v + 1);
    spin_unlock(lock);
  }
  return n;
}

/**
 * job_racy_increment - the planted race: n times { load counter; preemption point; store counter + 1 }
 * without a lock. Two CPUs interleaved between the load and the store lose an update, so the counter
 * can end below (CPUs) x n; explore mode must find such a schedule. counter is a u64 (8-aligned).
 * Returns n.
 */
export function job_racy_increment(counter: usize, n: u32): i64 {
  for (let i: u32 = 0; i < n; i++) {
    shared_access();
    const v = atomic.load<u64>(counter);
    shared_access();
    atomic.store<u64>(counter, v + 1);
  }
  return n;
}

/**
 * job_pte_racy - a planted race on a page-table entry: n times { pte = ptep_get(ptep);
 * set_pte_at(ptep, pte + 4096) } without the pte lock (the frame field counts). The only preemption
 * point between the read and the write is the one set_pte_at makes (a PTE write: kernel/mm_charge.ts),
 * so explore mode finds the lost update only because PTE writes are preemption points. ptep is a u64
 * (8-aligned) the caller zeroed; nothing walks it. Returns n.
 */
export function job_pte_racy(ptep: usize, n: u32): i64 {
  for (let i: u32 = 0; i < n; i++) {
    const pte = ptep_get(ptep);
    set_pte_at(ptep, pte + 4096);
  }
  return n;
}

/**
 * job_sleep_pingpong - one of two players on the u32 at word (4-aligned, 0 at the start): player
 * role (0 or 1) takes its turn when word is even (role 0) or odd (role 1), sleeping with sched_sleep
 * until then; a turn adds 1 to word and wakes the other player with sched_wake. n turns each, so word
 * ends at 2n; a player waiting for a turn that never comes sleeps for ever (a deadlock the host
 * reports). Returns n.
 */
export function job_sleep_pingpong(word: usize, n: u32, role: u32): i64 {
  for (let i: u32 = 0; i < n; i++) {
    let v = atomic.load<u32>(word);
    while ((v & 1) != role) {
      sched_sleep(word, v);
      v = atomic.load<u32>(word);
    }
    shared_access();
    atomic.store<u32>(word, v + 1);
    sched_wake(word, 1);
  }
  return n;
}

/** job_preempt_loop - n preemption points, each after an atomic's cost: the scheduler's own cost. Returns n. */
export function job_preempt_loop(n: u32): i64 {
  for (let i: u32 = 0; i < n; i++) shared_access();
  return n;
}

/**
 * job_translate_loop - n times: a preemption point, then translate va for access (ACC_* bits) on this
 * CPU as a memory access would (TLB, then walk; in debug builds through the stale-TLB detector).
 * Returns how many translations succeeded (the others raised a fault, recorded in the fault record).
 */
export function job_translate_loop(va: u64, n: u32, access: u32): i64 {
  let ok: i64 = 0;
  for (let i: u32 = 0; i < n; i++) {
    preempt_point(SWITCH_PREEMPT);
    if (mmu_translate(this_cpu(), va, access) >= 0) ok++;
  }
  return ok;
}
