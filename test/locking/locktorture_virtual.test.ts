// Lock torture in virtual time: every lock type gives exact counts in timed and explore mode, timed
// runs replay bit for bit from their seed, each policy's behaviour shows in lock_stat, and explore
// finds the deliberately broken lock and replays the failing schedule from its seed.
import { describe, it, expect } from "vitest";
import { tortureVirtual } from "../../src/locking/torture.js";
import { LOCK_SPECS } from "../../src/locking/lock-config.js";

const CORRECT = LOCK_SPECS.filter((l) => l !== "broken");

describe("lock torture in virtual time", () => {
  for (const lock of CORRECT) {
    it(`${lock}: exact counts, timed (8 CPUs) and explore`, async () => {
      const t = await tortureVirtual({ lock, mode: "timed", seed: 1, cpus: 8, iters: 300, readers: lock.startsWith("rwsem") ? 4 : 0, debug: true });
      expect([t.errors, t.lost, t.ok]).toEqual([0, 0, true]);
      expect(t.stat.perCpu).toEqual(new Array(8).fill(300));
      expect(t.stat.contentions).toBeGreaterThan(0);
      const x = await tortureVirtual({ lock, mode: "explore", seed: 7, runs: 5, cpus: 3, iters: 40, readers: lock.startsWith("rwsem") ? 1 : 0, debug: true });
      expect([x.ok, x.runs, x.failingSeed]).toEqual([true, 5, undefined]);
    });
  }

  it("replays a timed run bit for bit from its seed, and another seed schedules differently", async () => {
    const run = (seed: number) => tortureVirtual({ lock: "rwsem-handoff", mode: "timed", seed, cpus: 6, iters: 200, readers: 3 });
    const [a, b, c] = [await run(5), await run(5), await run(6)];
    expect(a.digest).toBe(b.digest);
    expect([a.makespan, a.switches, a.stat]).toEqual([b.makespan, b.switches, b.stat]);
    expect(c.digest).not.toBe(a.digest);
  });

  it("shows each policy in lock_stat: handoffs and sleeps for the 2008 rwsem, none for a spinlock", async () => {
    const shape = { mode: "timed" as const, seed: 3, cpus: 8, iters: 300, readers: 4 };
    const handoff = await tortureVirtual({ lock: "rwsem-handoff", ...shape });
    const steal = await tortureVirtual({ lock: "rwsem-steal", ...shape });
    const ticket = await tortureVirtual({ lock: "ticket", ...shape, readers: 0 });
    expect(handoff.stat.handoffs).toBeGreaterThan(0);
    expect(handoff.stat.sleeps).toBeGreaterThan(0);
    expect(ticket.stat.sleeps).toBe(0);
    expect(ticket.stat.spins).toBeGreaterThan(0);
    // Handing the lock over makes every waiter sleep and be woken; stealing lets running writers on.
    expect(handoff.stat.sleeps).toBeGreaterThan(steal.stat.sleeps);
  });

  it("finds the broken lock in explore mode and replays the failure from its seed", async () => {
    const shape = { lock: "broken", mode: "explore" as const, cpus: 2, iters: 20, runs: 50, strategy: "random" as const };
    const x = await tortureVirtual({ ...shape, seed: 100 });
    expect(x.ok).toBe(false);
    expect(x.failingSeed).toBeDefined();
    const again = await tortureVirtual({ ...shape, seed: x.failingSeed!, runs: 1 });
    expect([again.ok, again.failingSeed, again.errors, again.lost]).toEqual([false, x.failingSeed, x.errors, x.lost]);
  });
});
