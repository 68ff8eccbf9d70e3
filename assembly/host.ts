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
