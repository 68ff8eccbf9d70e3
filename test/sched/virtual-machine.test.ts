// VirtualMachine (src/sched/virtual-machine.ts): every CPU a coroutine of one instance, in virtual time.
// Exact counts in timed and explore mode with 4 and 64 CPUs, determinism, sleep and wake-up,
// deadlocks, and the failures a run can end with.
import { describe, expect, it } from "vitest";
import { ConfigError, DeadlockError, StepLimitError, VirtualMachine } from "../../src/index.js";
import { fingerprint, lockLoop, racy, vmachine } from "./helpers.js";

describe("spin_lock_loop: exact counts", () => {
  for (const cpus of [4, 64]) {
    const n = cpus === 4 ? 400 : 40;
    it(`timed, ${cpus} CPUs x ${n}: the counter is exact and every CPU ran its whole job`, () => {
      const vm = vmachine(cpus);
      const t = lockLoop(vm, cpus, n);
      const r = vm.run({ mode: "timed", seed: 1, jobs: t.jobs });
      expect(vm.read64(t.counter)).toBe(BigInt(cpus * n));
      expect(r.cpus.map((c) => c.result)).toEqual(new Array(cpus).fill(BigInt(n)));
      expect(vm.read32(t.lock) & 0xffff).toBe((cpus * n) & 0xffff); // head == tail: free
      expect(vm.read32(t.lock) >>> 16).toBe((cpus * n) & 0xffff);
      for (const c of r.cpus) expect(c.clock).toBeGreaterThan(0n);
      expect(r.makespan).toBe(r.cpus.reduce((m, c) => (c.clock > m ? c.clock : m), 0n));
      expect(r.switches).toBeGreaterThan(0);
      // The CPUs contended: some waited for the lock.
      expect(r.cpus.reduce((s, c) => s + c.stats.spinContended!, 0n)).toBeGreaterThan(0n);
    });

    for (const strategy of ["random", "pct"] as const) {
      it(`explore (${strategy}), ${cpus} CPUs: the counter is exact`, () => {
        const vm = vmachine(cpus);
        const m = cpus === 4 ? 100 : 10;
        const t = lockLoop(vm, cpus, m);
        const r = vm.run({ mode: "explore", strategy, seed: 3, jobs: t.jobs });
        expect(vm.read64(t.counter)).toBe(BigInt(cpus * m));
        expect(r.cpus.every((c) => c.result === BigInt(m))).toBe(true);
        expect(r.strategy).toBe(strategy);
        expect(r.seed).toBe(3);
      });
    }
  }

  it("runs 64 CPUs on the release build too", () => {
    const vm = vmachine(64, false);
    const t = lockLoop(vm, 64, 100);
    vm.run({ mode: "timed", seed: 9, jobs: t.jobs });
    expect(vm.read64(t.counter)).toBe(6400n);
  });
});

describe("determinism", () => {
  it("two timed runs with one seed give identical results, clocks, switch counts and digest", () => {
    const vm = vmachine(8);
    const t = lockLoop(vm, 8, 200);
    t.reset();
    const a = vm.run({ mode: "timed", seed: 12345, jobs: t.jobs });
    t.reset();
    const b = vm.run({ mode: "timed", seed: 12345, jobs: t.jobs });
    expect(fingerprint(b)).toEqual(fingerprint(a));
    // A second machine booted the same way (same layout, same addresses) agrees as well.
    const vm2 = vmachine(8);
    const t2 = lockLoop(vm2, 8, 200);
    expect([t2.lock, t2.counter]).toEqual([t.lock, t.counter]);
    expect(fingerprint(vm2.run({ mode: "timed", seed: 12345, jobs: t2.jobs }))).toEqual(fingerprint(a));
  });

  it("another seed may break the ties differently", () => {
    const vm = vmachine(8);
    const t = lockLoop(vm, 8, 50);
    const digests = new Set<string>();
    for (const seed of [1, 2, 3, 4]) {
      t.reset();
      digests.add(vm.run({ mode: "timed", seed, jobs: t.jobs }).digest);
      expect(vm.read64(t.counter)).toBe(400n);
    }
    expect(digests.size).toBeGreaterThan(1);
  });

  it("explore runs replay from their seed, with both strategies", () => {
    const vm = vmachine(4);
    const t = lockLoop(vm, 4, 50);
    for (const strategy of ["random", "pct"] as const) {
      t.reset();
      const a = vm.run({ mode: "explore", strategy, seed: 77, jobs: t.jobs });
      t.reset();
      const b = vm.run({ mode: "explore", strategy, seed: 77, jobs: t.jobs });
      expect(fingerprint(b)).toEqual(fingerprint(a));
      t.reset();
      expect(vm.run({ mode: "explore", strategy, seed: 78, jobs: t.jobs }).digest).not.toBe(a.digest);
    }
  });

  it("the release and debug builds take the same schedule for the same seed", () => {
    const digests = [true, false].map((debug) => {
      const vm = vmachine(4, debug);
      const t = racy(vm, 4, 50);
      return [vm.run({ mode: "timed", seed: 5, jobs: t.jobs }).digest, vm.run({ mode: "explore", seed: 5, jobs: t.jobs }).digest];
    });
    expect(digests[0]).toEqual(digests[1]);
  });
});

describe("sleep and wake-up", () => {
  for (const mode of ["timed", "explore"] as const) {
    it(`ping-pong (${mode}): exact counts, and the woken CPU runs after its waker`, () => {
      const vm = vmachine(4);
      const word = vm.alloc(64);
      const n = 100;
      const r = vm.run({ mode, seed: 2, jobs: [
        { cpu: 1, job: "sleep_pingpong", args: [word, n, 0] },
        { cpu: 3, job: "sleep_pingpong", args: [word, n, 1] },
      ] });
      expect(vm.read32(word)).toBe(2 * n);
      for (const c of r.cpus) {
        expect(c.result).toBe(BigInt(n));
        expect(c.stats.wakeup).toBe(BigInt(n));
        expect(c.stats.sleep! <= BigInt(n)).toBe(true); // at most one sleep per turn
      }
      expect(r.cpus[0]!.stats.sleep! + r.cpus[1]!.stats.sleep!).toBeGreaterThan(0n);
      if (mode === "timed") {
        // Each player sleeps for every turn of the other, which then runs a wake-up latency and a
        // context switch after its waker.
        for (const c of r.cpus) expect(c.stats.sleep! >= BigInt(n - 1)).toBe(true);
        const costs = vm.costProfile;
        expect(r.makespan).toBeGreaterThan(BigInt((2 * n - 1) * (costs.wake_latency + costs.ctx_switch)));
      }
    });
  }

  it("reports a deadlock, naming each waiting CPU and its word, with the seed", () => {
    const vm = vmachine(4);
    const word = vm.alloc(64);
    // Player 1 wants three turns, player 0 gives it only two: it sleeps on word 4 for ever.
    const jobs = [{ cpu: 0, job: "sleep_pingpong", args: [word, 2, 0] }, { cpu: 2, job: "sleep_pingpong", args: [word, 3, 1] }];
    for (const mode of ["timed", "explore"] as const) {
      vm.write32(word, 0);
      let err: unknown;
      try { vm.run({ mode, seed: 11, jobs }); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(DeadlockError);
      const d = err as DeadlockError;
      expect(d.waiting.map((w) => w.cpu)).toEqual([2]);
      expect(d.message).toContain(`CPU 2 is sleeping`);
      expect(d.message).toContain(`0x${word.toString(16)}`);
      expect(d.seed).toBe(11);
      expect(d.message).toContain("seed: 11");
    }
  });

  it("reports CPUs spinning on a lock nobody will release as a deadlock (timed)", () => {
    const vm = vmachine(4);
    const t = lockLoop(vm, 2, 3);
    vm.write32(t.lock, 1 << 16); // ticket 0 is taken by nobody who will release it
    expect(() => vm.run({ mode: "timed", seed: 1, jobs: t.jobs })).toThrow(/deadlock: CPU 0 is spinning on a lock.*CPU 1 is spinning on a lock/);
    // The machine is still good for another run.
    t.reset();
    vm.run({ mode: "timed", seed: 1, jobs: t.jobs });
    expect(vm.read64(t.counter)).toBe(6n);
  });

  it("stops a run past maxSteps with the CPUs' activities", () => {
    const vm = vmachine(2);
    const t = lockLoop(vm, 2, 3);
    vm.write32(t.lock, 1 << 16);
    let err: unknown;
    try { vm.run({ mode: "explore", seed: 4, maxSteps: 5000, jobs: t.jobs }); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(StepLimitError);
    expect((err as StepLimitError).steps).toBe(5000);
    expect((err as Error).message).toMatch(/CPU 0 is spinning on a lock/);
  });
});

describe("costs", () => {
  it("charges what the profile says: each iteration of preempt_loop costs one atomic", () => {
    for (const atomic of [10, 30]) {
      const vm = VirtualMachine.create({ cpus: 1, memory: "16MiB", costs: { atomic } });
      expect(vm.costProfile.atomic).toBe(atomic);
      const clock = (n: number) => vm.run({ mode: "timed", seed: 1, jobs: [{ cpu: 0, job: "preempt_loop", args: [n] }] }).cpus[0]!.clock;
      // Starting and stopping the CPU cost the same whatever n is.
      expect(clock(3000) - clock(1000)).toBe(BigInt(2000 * atomic));
    }
  });

  it("setCosts overrides costs for later runs; the others stay the profile's", () => {
    const vm = vmachine(1);
    const before = vm.costProfile;
    vm.setCosts({ spin: 1 });
    expect(vm.costProfile).toEqual({ ...before, spin: 1 });
    expect(vm.costs.costs.spin.source).toMatch(/^given:/);
    vm.setCosts({});
    expect(vm.costProfile).toEqual(before);
  });
});

describe("bad input", () => {
  it("refuses CPU counts outside 1..64", () => {
    expect(() => VirtualMachine.create({ cpus: 0 })).toThrow(ConfigError);
    expect(() => VirtualMachine.create({ cpus: 65 })).toThrow(/cpus: 65 is out of range \(1\.\.64\)/);
    expect(() => VirtualMachine.create({ cpus: 2.5 })).toThrow(ConfigError);
  });

  it("refuses seeds that are not integers, unknown modes, strategies and jobs, and misplaced CPUs", () => {
    const vm = vmachine(2);
    const t = lockLoop(vm, 2, 1);
    const run = (o: Record<string, unknown>) => () => vm.run({ mode: "timed", seed: 1, jobs: t.jobs, ...o } as never);
    expect(run({ seed: 1.5 })).toThrow(/seed: 1\.5 is not an integer seed/);
    expect(run({ seed: "7" })).toThrow(/seed: "7" is not an integer seed/);
    expect(run({ seed: -1 })).toThrow(ConfigError);
    expect(run({ seed: Number.NaN })).toThrow(ConfigError);
    expect(run({ seed: 2 ** 53 })).toThrow(ConfigError);
    expect(run({ mode: "fast" })).toThrow(/mode: unknown mode "fast" \(timed, explore\)/);
    expect(run({ mode: "explore", strategy: "dfs" })).toThrow(/strategy: unknown strategy "dfs" \(random, pct\)/);
    expect(run({ strategy: "pct" })).toThrow(/only explore mode/);
    expect(run({ mode: "explore", pctDepth: 2 })).toThrow(/only with strategy "pct"/);
    expect(run({ mode: "explore", strategy: "pct", pctDepth: 0 })).toThrow(/pctDepth: 0/);
    expect(run({ maxSteps: 0 })).toThrow(/maxSteps/);
    expect(run({ speed: 2 })).toThrow(/unknown option "speed"/);
    expect(run({ jobs: [] })).toThrow(/jobs: expected a non-empty array/);
    expect(run({ jobs: [{ cpu: 0, job: "nope" }] })).toThrow(/unknown job "nope" \(known: .*spin_lock_loop.*\)/);
    expect(run({ jobs: [{ cpu: 2, job: "preempt_loop", args: [1] }] })).toThrow(/jobs\[0\]\.cpu: 2 is not a CPU of this machine \(0\.\.1\)/);
    expect(run({ jobs: [{ cpu: 0, job: "preempt_loop" }, { cpu: 0, job: "preempt_loop" }] })).toThrow(/CPU 0 has two jobs/);
    expect(run({ jobs: [{ cpu: 0, job: "preempt_loop", args: [1, 2, 3, 4, 5, 6, 7] }] })).toThrow(/at most 6 integers/);
    expect(run({ jobs: [{ cpu: 0, job: "preempt_loop", args: [-1] }] })).toThrow(/not a non-negative integer/);
    expect(run({ jobs: [{ cpu: 0, job: "preempt_loop", args: [2 ** 32] }] })).toThrow(/refused its arguments/);
    // Addresses must be aligned kernel memory: not the machine header, not misaligned.
    expect(run({ jobs: [{ cpu: 0, job: "racy_increment", args: [t.counter + 4, 1] }] })).toThrow(/refused its arguments/);
    expect(run({ jobs: [{ cpu: 0, job: "racy_increment", args: [vm.mmu.layout.base, 1] }] })).toThrow(/refused its arguments/);
    expect(run({ jobs: [{ cpu: 0, job: "sleep_pingpong", args: [t.lock, 1, 2] }] })).toThrow(/refused its arguments/);
  });

  it("refuses unknown costs and costs that are not whole cycles", () => {
    expect(() => VirtualMachine.create({ cpus: 1, costs: { warp: 1 } as never })).toThrow(/unknown cost "warp"/);
    expect(() => VirtualMachine.create({ cpus: 1, costs: { atomic: -1 } })).toThrow(/atomic must be a whole number/);
  });
});
