// The TLB shootdown mailbox: how one CPU asks another to flush its TLB and waits for it, after
// kernel/smp.c (smp_call_function_many) and arch/x86/mm/tlb.c (flush_tlb_func). The full shootdown
// protocol (which CPUs, when, mmu_gather) is built on this by the MM core.
//
//  struct tlb_mailbox (64 bytes at struct percpu +192, a cache line of its own)
//   +0  lock      u32  ticket spinlock: serialises initiators and the CPU's running/idle switches
//   +4  running   u32  1 while the CPU executes emulated code and so services IPIs; 0 while idle
//   +8  req_gen   u32  generation of the last request posted (initiator, under lock)
//   +12 ack_gen   u32  generation last serviced (the CPU itself)
//   +16 kind      u32  FLUSH_RANGE | FLUSH_PCID | FLUSH_ALL | FLUSH_ALL_GLOBAL
//   +20 pcid      u32  the address space's PCID (FLUSH_RANGE, FLUSH_PCID)
//   +24 start     u64  first linear address (FLUSH_RANGE)
//   +32 nr_pages  u32  4 KiB pages from start (FLUSH_RANGE)
//   +36 initiator u32  the CPU that posted
//
// A CPU services its mailbox at interrupt points: do_pending_ipis(), called from cpu_relax() while it
// spins with interrupts on and from the access path of the emulated CPU. A CPU that is not running
// (a worker between jobs, or a CPU the embedding thread drives by hand) cannot take an interrupt: the
// initiator flushes that CPU's TLB itself under the mailbox lock, which the CPU takes to start running
// again. In Linux such a CPU would still take the IPI; the effect on its TLB is the same.
import { charge } from "../../kernel/sched";
import { cost, COST_IPI_SEND, COST_IPI_DELIVER } from "../../kernel/cost";
import { per_cpu_ptr, PC_MAILBOX } from "../../layout";
import { spin_lock, spin_unlock } from "../../locking/spinlock";
import { this_cpu, smp_processor_id, count_event, cpu_set_state, cpu_restore_state, cpu_stuck,
  spin_budget_exhausted, CPU_WAIT_ACK, CPU_WAIT_MAILBOX, CPU_IDLE, CPU_RUNNING,
  STAT_SHOOTDOWN_SENT, STAT_SHOOTDOWN_RECV, STAT_SHOOTDOWN_REMOTE } from "../../percpu";
import { cpu_relax } from "./processor";
import { tlb_flush_one, tlb_flush_pcid, tlb_flush_all, TLB_ALL_PCIDS } from "./tlb";
import { EINVAL } from "../../errno";

const MB_LOCK: usize = 0;
const MB_RUNNING: usize = 4;
const MB_REQ_GEN: usize = 8;
const MB_ACK_GEN: usize = 12;
const MB_KIND: usize = 16;
const MB_PCID: usize = 20;
const MB_START: usize = 24;
const MB_NR_PAGES: usize = 32;
const MB_INITIATOR: usize = 36;

export const FLUSH_RANGE: u32 = 0;
export const FLUSH_PCID: u32 = 1;
export const FLUSH_ALL: u32 = 2;
export const FLUSH_ALL_GLOBAL: u32 = 3;

// @ts-ignore: decorator
@inline function mailbox(cpu: i32): usize {
  return per_cpu_ptr(cpu) + PC_MAILBOX;
}

/** flush_tlb_func - apply one flush request to the TLB of the CPU whose percpu is p. */
export function flush_tlb_func(p: usize, kind: u32, pcid: u32, start: u64, nr_pages: u32): void {
  if (kind == FLUSH_RANGE) {
    for (let i: u32 = 0; i < nr_pages; i++) tlb_flush_one(p, start + (<u64>i << 12), pcid, false);
  } else if (kind == FLUSH_PCID) {
    tlb_flush_pcid(p, pcid);
  } else {
    tlb_flush_all(p, TLB_ALL_PCIDS, kind == FLUSH_ALL);
  }
}

/**
 * do_pending_ipis - the interrupt point: service this CPU's mailbox if a request is pending.
 * Called with interrupts on (the caller checks RFLAGS.IF). Cheap when nothing is pending: one load.
 */
export function do_pending_ipis(): void {
  const mb = this_cpu() + PC_MAILBOX;
  const req = atomic.load<u32>(mb + MB_REQ_GEN);
  if (req == load<u32>(mb + MB_ACK_GEN)) return;
  charge(cost(COST_IPI_DELIVER)); // taking the shootdown IPI: entry, handler, exit
  flush_tlb_func(this_cpu(), load<u32>(mb + MB_KIND), load<u32>(mb + MB_PCID), load<u64>(mb + MB_START), load<u32>(mb + MB_NR_PAGES));
  count_event(STAT_SHOOTDOWN_RECV);
  atomic.store<u32>(mb + MB_ACK_GEN, req);
}

/**
 * tlb_mailbox_post - ask CPU target (not this CPU) to flush: kind, pcid, and for FLUSH_RANGE the
 * range [start, start + nr_pages x 4 KiB). Takes target's mailbox lock (spinning with interrupts on).
 * If target is running, waits for its previous request to be serviced, posts, and returns the
 * generation to pass to tlb_mailbox_wait (never 0). If target is not running, flushes its TLB on its
 * behalf and returns 0 (nothing to wait for).
 * Returns -EINVAL (as i64) for a bad target or kind. Must be called with interrupts enabled.
 */
export function tlb_mailbox_post(target: i32, kind: u32, pcid: u32, start: u64, nr_pages: u32): i64 {
  if (target == smp_processor_id() || kind > FLUSH_ALL_GLOBAL) return -EINVAL;
  const mb = mailbox(target);
  // The IPI to target (the APIC write): Linux sends it to a CPU whose task sleeps too, so it is
  // charged in both cases below (the target's side only when it services it, do_pending_ipis).
  charge(cost(COST_IPI_SEND));
  spin_lock(mb + MB_LOCK);
  if (atomic.load<u32>(mb + MB_RUNNING) == 0) {
    flush_tlb_func(per_cpu_ptr(target), kind, pcid, start, nr_pages);
    count_event(STAT_SHOOTDOWN_REMOTE);
    spin_unlock(mb + MB_LOCK);
    return 0;
  }
  let req = atomic.load<u32>(mb + MB_REQ_GEN);
  if (atomic.load<u32>(mb + MB_ACK_GEN) != req) {
    const prev = cpu_set_state(CPU_WAIT_MAILBOX, target, req);
    let loops: u32 = 0;
    while (atomic.load<u32>(mb + MB_ACK_GEN) != req) {
      cpu_relax();
      if (spin_budget_exhausted(++loops)) cpu_stuck();
    }
    cpu_restore_state(prev);
  }
  store<u32>(mb + MB_KIND, kind);
  store<u32>(mb + MB_PCID, pcid);
  store<u64>(mb + MB_START, start);
  store<u32>(mb + MB_NR_PAGES, nr_pages);
  store<u32>(mb + MB_INITIATOR, smp_processor_id());
  req++;
  if (req == 0) req = 1; // 0 means "nothing to wait for"
  atomic.store<u32>(mb + MB_REQ_GEN, req);
  spin_unlock(mb + MB_LOCK);
  count_event(STAT_SHOOTDOWN_SENT);
  return req;
}

/**
 * tlb_mailbox_wait - wait until CPU target has serviced request gen (from tlb_mailbox_post), taking
 * this CPU's own IPIs meanwhile. Returns at once for gen 0. Bounded: reports this CPU stuck
 * (waiting on target) past SPIN_LIMIT.
 */
export function tlb_mailbox_wait(target: i32, gen: u32): void {
  if (gen == 0) return;
  const mb = mailbox(target);
  if (<i32>(atomic.load<u32>(mb + MB_ACK_GEN) - gen) >= 0) return;
  const prev = cpu_set_state(CPU_WAIT_ACK, target, gen);
  let loops: u32 = 0;
  while (<i32>(atomic.load<u32>(mb + MB_ACK_GEN) - gen) < 0) {
    cpu_relax();
    if (spin_budget_exhausted(++loops)) cpu_stuck();
  }
  cpu_restore_state(prev);
}

/**
 * cpu_set_running - this CPU starts (running = true) or stops executing emulated code. Stopping
 * services whatever is pending first, so no request is left behind for an idle CPU.
 */
export function cpu_set_running(running: bool): void {
  const mb = this_cpu() + PC_MAILBOX;
  spin_lock(mb + MB_LOCK);
  // Going idle takes what is pending, even with interrupts off: nobody would service it later.
  if (!running) do_pending_ipis();
  atomic.store<u32>(mb + MB_RUNNING, running ? 1 : 0);
  spin_unlock(mb + MB_LOCK);
  cpu_set_state(running ? CPU_RUNNING : CPU_IDLE, 0, 0);
}

/**
 * mailbox_sleep_begin - this CPU is about to sleep (kernel/sched.ts sched_sleep): while asleep it
 * cannot take an IPI, so, as a CPU that stops running, it services what is pending and marks itself
 * not running: initiators then flush its TLB on its behalf instead of waiting for an acknowledgement
 * that would never come (a CPU asleep on a mutex or rwsem held by an initiator flushing under it, as
 * an rmap walk does). In Linux the sleeping task's CPU would take the IPI. Returns whether it was
 * running (the argument of mailbox_sleep_end).
 */
export function mailbox_sleep_begin(): bool {
  const mb = this_cpu() + PC_MAILBOX;
  if (atomic.load<u32>(mb + MB_RUNNING) == 0) return false;
  spin_lock(mb + MB_LOCK);
  do_pending_ipis();
  atomic.store<u32>(mb + MB_RUNNING, 0);
  spin_unlock(mb + MB_LOCK);
  return true;
}

/** mailbox_sleep_end - woken: running again (taking the lock waits out a flush done on its behalf). */
export function mailbox_sleep_end(was_running: bool): void {
  if (!was_running) return;
  const mb = this_cpu() + PC_MAILBOX;
  spin_lock(mb + MB_LOCK);
  atomic.store<u32>(mb + MB_RUNNING, 1);
  spin_unlock(mb + MB_LOCK);
}
