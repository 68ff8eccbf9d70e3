// Lock torture on worker CPUs (parallel mode): every lock type keeps writers (and readers) out of
// each other's critical sections, with exact counts; the deliberately broken lock is caught.
// Spinlocks are tortured by as many CPUs as the test machine has cores (two): a ticket lock whose
// next owner the host has descheduled stalls every spinner (the lock-waiter preemption problem of
// ticket locks on oversubscribed virtual CPUs). Sleeping locks take four CPUs, readers included.
import { describe, it, expect } from "vitest";
import { tortureParallel } from "../../src/locking/torture.js";

describe("lock torture, parallel mode", () => {
  for (const [lock, cpus, readers, iters] of [["ticket", 2, 0, 50_000], ["tas", 2, 0, 50_000],
    ["mutex", 4, 2, 3_000], ["mutex-spin", 4, 2, 3_000], ["rwsem-handoff", 4, 2, 2_000],
    ["rwsem-steal", 4, 2, 3_000], ["rwsem-spin", 4, 2, 3_000]] as const) {
    it(`${lock} excludes, with exact counts`, async () => {
      const r = await tortureParallel({ lock, cpus, readers, iters, debug: true });
      expect([r.errors, r.lost, r.ok]).toEqual([0, 0, true]);
      const writers = cpus - readers;
      expect(r.stat.acquisitions).toEqual({ write: writers * iters, read: readers * iters });
      expect(r.stat.perCpu).toEqual(new Array(cpus).fill(iters));
      expect(r.stat.fairness).toBe(1);
      // Spinlocks never sleep. (How often each policy contends depends on how the host schedules
      // the workers; the deterministic tests in test/sched/ assert those counts exactly.)
      if (lock === "ticket" || lock === "tas") expect(r.stat.sleeps).toBe(0);
    });
  }

  it("catches the deliberately broken lock", async () => {
    // Two workers overlap in the lock's window only while the host runs them at once; a busy host
    // may not, so up to ten rounds (each has caught it on its own on a quiet machine; a loaded one needed more than three).
    let ok = true;
    for (let round = 0; round < 10 && ok; round++) {
      ok = (await tortureParallel({ lock: "broken", cpus: 2, iters: 200_000, hold: 32, debug: true })).ok;
    }
    expect(ok).toBe(false);
  });

  it("refuses bad shapes", async () => {
    await expect(tortureParallel({ lock: "spin", cpus: 2, iters: 1 })).rejects.toThrow(/unknown lock type "spin"/);
    await expect(tortureParallel({ lock: "rwsem-steal", cpus: 2, readers: 2, iters: 1 })).rejects.toThrow(/at least one writer/);
    await expect(tortureParallel({ lock: "ticket", cpus: 2, iters: 0 })).rejects.toThrow(/--iters/);
  });
});
