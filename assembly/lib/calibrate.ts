// Calibration kernels of the cost model (`mmemu calibrate`, src/cost/calibrate.ts): loops inside Wasm
// that measure what this host's hardware and OS charge for the operations kernel/cost.ts prices, so
// that one host call covers many operations. They are measuring tools, not part of the kernel model:
// nothing here charges virtual time or takes a preemption point, and the deterministic modes never
// call them (calibration is a separate, explicit step).
//
// The kernels that run on two worker CPUs at once (the ping-pongs) time themselves with the host's
// monotonic clock (env.now_ns) after the start barrier, so the RPC that started them is not counted.
import { cpu_stuck, spin_budget_exhausted } from "../percpu";

// @external: the host's monotonic clock in nanoseconds (the import lock_stat uses too).
// @ts-ignore: decorator
@external("env", "now_ns")
declare function host_now_ns(): i64;

/**
 * calib_mul_chain - iters x 8 dependent 64-bit multiplications x *= k: the host's clock. Each one
 * waits for the previous (IMUL r64 latency: 3 cycles on Intel cores since Nehalem and on AMD Zen),
 * so ns per multiplication / 3 is the length of a cycle. k comes from the host, so that no compiler
 * can fold the chain into one multiplication. Returns x.
 */
export function calib_mul_chain(x: u64, k: u64, iters: u32): u64 {
  for (let n: u32 = 0; n < iters; n++) {
    x *= k; x *= k; x *= k; x *= k;
    x *= k; x *= k; x *= k; x *= k;
  }
  return x;
}

/**
 * calib_atomic_rmw - iters x 4 locked read-modify-writes (atomic.add: LOCK XADD) of the u32 at word,
 * a line no other CPU touches: the uncontended atomic. Locked instructions on x86 do not overlap, so
 * the loop runs at one atomic's latency. Returns the sum of the old values (so nothing is dropped).
 */
export function calib_atomic_rmw(word: usize, iters: u32): u32 {
  let acc: u32 = 0;
  for (let n: u32 = 0; n < iters; n++) {
    acc += atomic.add<u32>(word, 1);
    acc += atomic.add<u32>(word, 1);
    acc += atomic.add<u32>(word, 1);
    acc += atomic.add<u32>(word, 1);
  }
  return acc;
}

/**
 * calib_chase - iters x 8 dependent loads p = *(u32 *)p from p: a pointer chase through a cycle the
 * host laid out (one node per cache line, in random order), so every load waits for the previous one
 * and its latency is the working set's level of the memory hierarchy. Returns where it stopped.
 */
export function calib_chase(p: usize, iters: u32): usize {
  for (let n: u32 = 0; n < iters; n++) {
    p = <usize>load<u32>(p); p = <usize>load<u32>(p); p = <usize>load<u32>(p); p = <usize>load<u32>(p);
    p = <usize>load<u32>(p); p = <usize>load<u32>(p); p = <usize>load<u32>(p); p = <usize>load<u32>(p);
  }
  return p;
}

/**
 * calib_cas_pingpong - one of two CPUs taking turns on the u32 at word (0 at the start): this one
 * (parity 0 or 1) waits until the word has its parity, then advances it with a compare-and-swap.
 * Every turn moves the line from the other CPU's cache to this one's (the load that sees the turn)
 * and takes ownership for the CAS: half a round trip. iters turns; returns the ns from the first
 * turn's wait to the last CAS.
 */
export function calib_cas_pingpong(word: usize, parity: u32, iters: u32): i64 {
  const t0 = host_now_ns();
  for (let n: u32 = 0; n < iters; n++) {
    let loops: u32 = 0;
    for (;;) {
      const v = atomic.load<u32>(word);
      if ((v & 1) == parity && atomic.cmpxchg<u32>(word, v, v + 1) == v) break;
      if (spin_budget_exhausted(++loops)) cpu_stuck();
    }
  }
  return host_now_ns() - t0;
}

/** One wait32 sleeps at most this long before it re-checks; WAIT_ROUNDS in a row and the CPU is stuck. */
const WAIT_SLICE_NS: i64 = 100_000_000;
const WAIT_ROUNDS: u32 = 50;

/**
 * calib_wait_pingpong - calib_cas_pingpong with sleeping instead of spinning: while the word does not
 * have this CPU's parity it sleeps in memory.atomic.wait32 (a futex wait in V8); a turn stores
 * word + 1, stamps the time into the i64 at word + 64 (the next cache line: the page is the
 * ping-pong's own) and wakes the other CPU with atomic.notify. A CPU woken from wait32 reads the stamp:
 * now - stamp is one wake-up's latency, from the waker's notify to the woken thread running. (A turn
 * whose word changed before it could sleep takes no wake-up.) At out (8-aligned) it leaves:
 *   +0  i64 ns spent inside the atomic.notify calls that woke a sleeper (the waker's side; a clock
 *           read included)
 *   +8  u64 those calls
 *   +16 i64 the sum of the wake-up latencies this CPU saw (ns)
 *   +24 u64 wait32 calls that slept and were woken
 * iters turns; returns the ns from the first wait to the last notify.
 */
export function calib_wait_pingpong(word: usize, parity: u32, iters: u32, out: usize): i64 {
  const stamp = word + 64;
  let notify_ns: i64 = 0, latency_ns: i64 = 0;
  let notified: u64 = 0, slept: u64 = 0;
  const t0 = host_now_ns();
  for (let n: u32 = 0; n < iters; n++) {
    let v = atomic.load<u32>(word);
    let rounds: u32 = 0;
    while ((v & 1) != parity) {
      const r = memory.atomic.wait32(word, v, WAIT_SLICE_NS);
      if (r == 0) {
        latency_ns += host_now_ns() - atomic.load<i64>(stamp);
        slept++;
      } else if (r == 2 && ++rounds >= WAIT_ROUNDS) {
        cpu_stuck();
      }
      v = atomic.load<u32>(word);
    }
    atomic.store<u32>(word, v + 1);
    const a = host_now_ns();
    atomic.store<i64>(stamp, a);
    if (atomic.notify(word, 1) > 0) {
      notify_ns += host_now_ns() - a;
      notified++;
    }
  }
  const t = host_now_ns() - t0;
  store<i64>(out, notify_ns);
  store<u64>(out + 8, notified);
  store<i64>(out + 16, latency_ns);
  store<u64>(out + 24, slept);
  return t;
}

/**
 * calib_clock - iters empty brackets of two clock reads: what one bracket around an operation adds
 * to it (calib_wait_pingpong's notify timing subtracts this). Returns the total ns of the brackets.
 */
export function calib_clock(iters: u32): i64 {
  let total: i64 = 0;
  for (let n: u32 = 0; n < iters; n++) {
    const a = host_now_ns();
    total += host_now_ns() - a;
  }
  return total;
}
