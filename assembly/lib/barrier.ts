// The start barrier in the machine header: contended runs begin only when every party has arrived,
// not when RPC messages happen to land (they arrive milliseconds apart).
//
//   header +256 count u32 (arrivals in this round) | +260 generation u32 (rounds completed)
import { machine_base, HDR_BARRIER_COUNT, HDR_BARRIER_GEN } from "../layout";
import { cpu_relax } from "../arch/x86/processor";
import { cpu_set_state, cpu_restore_state, cpu_stuck, spin_budget_exhausted, CPU_BARRIER } from "../percpu";
import { EINVAL } from "../errno";

/**
 * machine_barrier_wait - wait until parties CPUs (1..nr_cpus) have called this, spinning with
 * interrupts taken. Every caller of a round must pass the same parties.
 * Returns 1 for the last to arrive, 0 for the others, -EINVAL for parties < 1.
 * Bounded: a party that never arrives gets the waiters reported stuck (at the barrier).
 */
export function machine_barrier_wait(parties: u32): i32 {
  if (parties < 1) return -EINVAL;
  const count = machine_base + HDR_BARRIER_COUNT;
  const gen = machine_base + HDR_BARRIER_GEN;
  const g = atomic.load<u32>(gen);
  if (atomic.add<u32>(count, 1) + 1 == parties) {
    atomic.store<u32>(count, 0);
    atomic.add<u32>(gen, 1);
    return 1;
  }
  const prev = cpu_set_state(CPU_BARRIER, parties, g);
  let loops: u32 = 0;
  while (atomic.load<u32>(gen) == g) {
    cpu_relax();
    if (spin_budget_exhausted(++loops)) cpu_stuck();
  }
  cpu_restore_state(prev);
  return 0;
}
