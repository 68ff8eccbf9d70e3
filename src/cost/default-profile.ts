// The shipped default cost profile: what virtual time charges when no calibrated profile is given.
// Every constant is a documented literature value or a measurement recorded in this repository, with
// its source in `source` (and the reasoning in the comment above it). None was chosen to make an
// experiment produce an expected result; `mmemu calibrate` measures this host and prints its figures
// next to these. Where a source gives nanoseconds, cycles = ns x GHZ below.
//
// The machine these numbers describe: one socket of Intel Skylake-generation x86-64 server cores at a
// nominal 3 GHz (the microarchitecture the cache and instruction sources below describe in common).
import type { CostProfile } from "./profile.js";
import { PROFILE_SCHEMA } from "./profile.js";

/** The nominal clock: converts the ns-denominated sources below to cycles, and virtual cycles to ns. */
const GHZ = 3;

export const DEFAULT_PROFILE: CostProfile = {
  schema: PROFILE_SCHEMA,
  description: "mmemu's shipped default: literature values for a Skylake-generation x86-64 server core at a nominal 3 GHz",
  ghz: GHZ,
  ghzSource: "literature: a nominal 3 GHz x86-64 server core (Skylake-SP Xeons run at 2-3.7 GHz; the development " +
    "host, an AMD EPYC KVM guest, runs its cores at ~3.0-3.1 GHz by mmemu calibrate, its TSC at 2.445 GHz); " +
    "converts the ns-denominated sources to cycles",
  costs: {
    // L1 load-to-use latency: 4 cycles with simple addressing, 5 with complex (Skylake).
    load_l1: {
      cycles: 4,
      source: "literature: 7-cpu.com, Intel Skylake: L1 data cache latency 4 cycles (simple addressing), 5 (complex); " +
        "Intel 64 and IA-32 Architectures Optimization Reference Manual: 4-5 cycles load-to-use",
    },
    // A hit in the shared last-level cache (Levinthal's ~40 cycles for Nehalem agree).
    load_llc: {
      cycles: 42,
      source: "literature: 7-cpu.com, Intel Skylake (i7-6700): L3 cache latency 42 cycles; D. Levinthal, Performance " +
        "Analysis Guide for Intel Core i7 / Xeon 5500 (2009): L3 hit, line unshared ~40 cycles",
    },
    // DRAM: 42 cycles + 51 ns on Skylake = 42 + 153 at 3 GHz (Drepper's ~240 cycles for the 2007
    // generation is of the same order).
    load_mem: {
      cycles: 195,
      source: "literature: 7-cpu.com, Intel Skylake: RAM latency 42 cycles + 51 ns = 42 + 51 x 3 GHz; U. Drepper, " +
        "What Every Programmer Should Know About Memory (2007): main memory ~240 cycles",
    },
    // LOCK-prefixed read-modify-write on a line in this core's L1 (modified or exclusive).
    atomic: {
      cycles: 18,
      source: "literature: A. Fog, Instruction tables (Skylake): LOCK ADD/XADD/CMPXCHG on memory ~18 cycles; " +
        "uops.info: LOCK INC m32 18 cycles, LOCK CMPXCHG m64 19 cycles per instruction (Alder Lake-P)",
    },
    // An atomic on a line another core of the same socket last wrote: the line comes from that core's
    // cache through the LLC. The atomic itself is charged separately (atomic). The sources give a range;
    // this is its middle.
    line_transfer: {
      cycles: 150,
      source: "literature: T. David, R. Guerraoui, V. Trigonakis, Everything You Always Wanted to Know About " +
        "Synchronization but Were Afraid to Ask (SOSP 2013): atomics on a line another core of the same socket " +
        "holds cost ~100-200 cycles (150, the middle); D. Levinthal (2009): L3 hit, line modified in another core " +
        "~75 cycles (100-300 from the other socket)",
    },
    // One spin-wait iteration: PAUSE (~140 cycles from Skylake on, ~10 before) plus the L1 load of
    // the lock word.
    spin: {
      cycles: 144,
      source: "literature: Intel 64 and IA-32 Architectures Optimization Reference Manual (Skylake): the PAUSE " +
        "latency is extended to as many as 140 cycles (about 10 on prior generations); plus an L1 hit (load_l1, 4)",
    },
    // The sending side of an IPI: the ICR write (WRMSR in x2APIC mode, an MMIO write in xAPIC mode)
    // and Linux's call-function bookkeeping.
    ipi_send: {
      cycles: 600,
      source: "literature: published TLB-shootdown measurements put one IPI round trip (send, delivery, handler, " +
        "acknowledgement) at ~1-3 us on x86 servers (e.g. N. Amit, Optimizing the TLB Shootdown Algorithm with " +
        "Page Access Tracking, USENIX ATC 2017); the sender's share, an ICR write plus call-function bookkeeping, " +
        "taken as 0.2 us x 3 GHz",
    },
    // Taking an IPI: interrupt entry, the handler, exit (with send and the acknowledgement's line
    // transfer, ~1.25 us: the low end of the 1-3 us round trip).
    ipi_deliver: {
      cycles: 3000,
      source: "literature: the same IPI round trip of ~1-3 us (Amit, USENIX ATC 2017); the target's share, " +
        "interrupt entry, handler and exit, taken as 1 us x 3 GHz",
    },
    // A voluntary context switch through the futex path costs ~2 us in all; split evenly between the
    // task going to sleep (here) and the one switching in (ctx_switch).
    sleep: {
      cycles: 3000,
      source: "literature: a voluntary context switch costs a few us in all (L. McVoy, C. Staelin, lmbench, USENIX " +
        "1996, lat_ctx; C. Li, C. Ding, K. Shen, Quantifying the Cost of Context Switch, ExpCS 2007): 2 us, half " +
        "of it (futex wait, dequeue, schedule() away) charged here: 1 us x 3 GHz",
    },
    // The waker's side: a FUTEX_WAKE system call and try_to_wake_up(), which sends a reschedule IPI
    // when the target CPU is idle: a syscall plus ipi_send, rounded up to 1 us.
    wakeup: {
      cycles: 3000,
      source: "literature: estimate from the figures above: a system call (~0.1-0.3 us), the futex hash lookup and " +
        "try_to_wake_up() with a reschedule IPI send (ipi_send, 0.2 us) to an idle CPU: ~1 us x 3 GHz",
    },
    // From the wake-up to the woken task running: measured on the development host in C (futex
    // ping-pong across its two cores, ../shared/notes/wasm-on-workers.md). The model charges a woken
    // CPU wakeup + wake_latency + ctx_switch along a sleep/wake handoff, so half the round trip's low
    // end, 7.5 us, minus wakeup and ctx_switch (2 us) leaves 5.5 us. A VM's idle vCPU wakes slowly
    // (HLT exits); bare metal with shallow C-states is faster.
    wake_latency: {
      cycles: 16500,
      source: "measured: C futex ping-pong between the two cores of an AMD EPYC (Zen 3) KVM guest, 15-40 us per " +
        "round trip (../shared/notes/wasm-on-workers.md); half the low end (7.5 us) less wakeup and ctx_switch " +
        "(2 us) = 5.5 us x 3 GHz",
    },
    // The other half of the ~2 us voluntary switch (see sleep): the CPU switching the woken task in.
    ctx_switch: {
      cycles: 3000,
      source: "literature: lmbench lat_ctx (McVoy and Staelin, USENIX 1996); Li, Ding and Shen (ExpCS 2007): " +
        "~2 us per voluntary switch, the half charged to the CPU switching in: 1 us x 3 GHz",
    },
    // A local timer interrupt: entry, update_process_times()/scheduler_tick(), exit: the path of an
    // IPI's delivery, so ipi_deliver's 1 us.
    tick: {
      cycles: 3000,
      source: "literature: a tick is a local timer interrupt (entry, update_process_times and scheduler_tick, " +
        "exit), the path of an IPI's delivery: ipi_deliver's 1 us (Amit, USENIX ATC 2017) x 3 GHz",
    },
    // One paging-structure load of a walk whose tables are cached (the paging-structure caches are not
    // modelled): the native C walker of bench:walk on hot tables, an upper bound for a hardware walker.
    walk_level: {
      cycles: 11,
      source: "measured: bench:walk's native C bare walk (bench/native/walk.c, gcc -O2) over hot tables (16 KiB), " +
        "14.5 ns per 4-level walk of random pages, on an AMD EPYC (Zen 3) KVM guest (bench/README.md), whose cores " +
        "run at ~3.0 GHz (mmemu calibrate): 14.5 x 3.0 / 4 = 10.9 cycles per level",
    },
    // A null system call's entry and exit (SYSCALL, the entry code's register save, SYSRET) without
    // page-table isolation (the eras modelled predate KPTI): lmbench's lat_syscall null measures it; the
    // low end of the ~0.1-0.3 us the wakeup estimate above takes for a system call.
    syscall: {
      cycles: 300,
      source: "literature: lmbench lat_syscall null (L. McVoy, C. Staelin, USENIX 1996) measures a null system " +
        "call's entry and exit; ~0.1 us on x86-64 servers without page-table isolation (the low end of the " +
        "0.1-0.3 us the wakeup estimate takes for a system call): 0.1 us x 3 GHz",
    },
  },
};
