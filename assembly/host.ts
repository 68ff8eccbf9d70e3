// Functions the host provides to the core (imported from "env"). Each one is named after what it
// reports; none is on a hot path.

/**
 * The CPU has spun past SPIN_LIMIT: its percpu state (activity and arguments) says on what. The
 * host throws a CpuStuckError carrying that state, which unwinds the Wasm stack; the machine is
 * then only good for reporting and destroying.
 */
// @ts-ignore: decorator
@external("env", "cpu_stuck")
export declare function host_cpu_stuck(cpu: i32): void;

/**
 * The stale-TLB detector (debug builds, arch/x86/tlb_check.ts): CPU cpu accessed va through a TLB
 * entry for frame pfn (the head frame of a large page) that has since been freed (kind 1,
 * STALE_TLB_FREED) or freed and allocated again (kind 2, STALE_TLB_REUSED). The host throws a
 * StaleTlbError naming all four, which unwinds the Wasm stack as cpu_stuck does.
 */
// @ts-ignore: decorator
@external("env", "stale_tlb")
export declare function host_stale_tlb(cpu: i32, va: u64, pfn: u32, kind: i32): void;
