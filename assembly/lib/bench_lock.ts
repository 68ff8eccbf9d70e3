// Benchmark kernels for the locks: loops inside Wasm so that one host call measures many operations.
import { lock_acquire, lock_release } from "../locking/lock";
import { cpu_relax } from "../arch/x86/processor";
import { cpu_stuck, spin_budget_exhausted } from "../percpu";

/** bench_lock_uncontended - iters x { lock_acquire(lock, mode); lock_release(lock, mode) }. */
export function bench_lock_uncontended(lock: usize, mode: u32, iters: u32): void {
  for (let n: u32 = 0; n < iters; n++) {
    lock_acquire(lock, mode, "bench_lock_uncontended");
    lock_release(lock, mode);
  }
}

/**
 * bench_lock_pingpong - two CPUs take turns: this one (parity 0 or 1) waits until the u32 at turn
 * has its parity, then takes lock, advances turn, and releases: every acquisition is a handoff from
 * the other CPU. iters turns each. Returns the spin iterations spent waiting for the turn.
 */
export function bench_lock_pingpong(lock: usize, turn: usize, parity: u32, iters: u32): u64 {
  let waited: u64 = 0;
  for (let n: u32 = 0; n < iters; n++) {
    let loops: u32 = 0;
    while ((atomic.load<u32>(turn) & 1) != parity) {
      cpu_relax();
      if (spin_budget_exhausted(++loops)) cpu_stuck();
    }
    waited += loops;
    lock_acquire(lock, 0, "bench_lock_pingpong");
    atomic.add<u32>(turn, 1);
    lock_release(lock, 0);
  }
  return waited;
}
