// The parallel-mode runner (src/experiments/parallel.ts): CPU counts checked against the host's cores,
// one job per worker CPU run for real with host times per CPU and the run's lock statistics in ns,
// refused job arguments, and dead or stuck workers reported. Two CPUs at most (the host has 2 cores).
import { describe, it, expect } from "vitest";
import { checkParallelCpus, hostCores, parallelDefaultCpus, ParallelMachine, withParallelMachine } from "../../src/experiments/parallel.js";
import { MmModel } from "../../src/mm/process.js";
import { era } from "../../src/experiments/eras.js";
import { constant } from "../../src/core/abi.js";
import { ConfigError, CpuDiedError, CpuStuckError } from "../../src/core/errors.js";

const CPUS = Math.min(2, hostCores());

describe("parallel runner", () => {
  it("refuses a CPU count above the host's cores, naming both numbers", async () => {
    const cores = hostCores();
    expect(() => checkParallelCpus(cores)).not.toThrow();
    expect(() => checkParallelCpus([1, cores + 1])).toThrow(ConfigError);
    expect(() => checkParallelCpus(cores + 1)).toThrow(new RegExp(`cpus: ${cores + 1} CPUs in parallel mode, but this host has ${cores} core`));
    await expect(ParallelMachine.create({ cpus: cores + 1 })).rejects.toThrow(/this host has/);
    expect(parallelDefaultCpus([1, 2, 4, 8]).every((n) => n <= cores)).toBe(true);
    expect(parallelDefaultCpus([cores + 1, cores + 2])).toEqual([cores + 1]); // then named by checkParallelCpus
  });

  it("runs one AIM9 job per worker CPU for real: results, host times from the barrier, lock statistics in ns", async () => {
    const e = era("2.6.25"); // vma_adjust always takes the anon_vma lock: once per sbrk at least
    await withParallelMachine({ cpus: CPUS, memory: "32MiB", locks: e.locks, mm: e.mm }, async (pm) => {
      const model = new MmModel(pm.mmu);
      const parent = model.spawn({ cpu: 0 });
      const start = parent.brk(0n);
      expect(parent.brk(start + 65536n)).toBe(start + 65536n);
      expect(parent.write(start, 1)).toBe(0);
      const tasks = [parent];
      for (let k = 1; k < CPUS; k++) tasks.push(parent.fork() as typeof parent);
      parent.brk(0n, { cpu: 0 });
      const outs = tasks.map(() => pm.alloc(constant(pm.mmu.exports, "AIM9_OUT_SIZE")));
      const r = await pm.run(tasks.map((t, cpu) => ({ cpu, job: "aim9_brk", args: [t.pid, 1, 0, outs[cpu]!] })));
      expect(r.timeUnit).toBe("ns");
      expect(r.cpus.map((c) => [c.cpu, c.job, c.result])).toEqual(tasks.map((_, cpu) => [cpu, "aim9_brk", 1n]));
      for (const c of r.cpus) {
        expect(c.startNs).toBeGreaterThanOrEqual(0);
        expect(c.endNs).toBeGreaterThan(c.startNs);
      }
      expect(Math.min(...r.cpus.map((c) => c.startNs))).toBe(0);
      expect(r.elapsedNs).toBe(Math.max(...r.cpus.map((c) => c.endNs)));
      for (const out of outs) expect(pm.read64(out + constant(pm.mmu.exports, "AIM9_OUT_SBRK"))).toBe(17_000n);
      const av = r.locks.find((l) => l.class === "anon_vma")!;
      expect(av.acquisitions).toBeGreaterThanOrEqual(17_000 * CPUS); // the run's alone: the set-up's are subtracted
      expect(av.hold.count).toBe(av.acquisitions); // every class timed (LC_TIMED)
      expect(av.hold.totalCycles).toBeGreaterThan(0);
      expect(av.hold.totalCycles).toBeLessThan(r.elapsedNs * CPUS); // ns, inside the run
      // A job whose arguments the core refuses (out not kernel memory) is a ConfigError before any CPU runs.
      await expect(pm.run([{ cpu: 0, job: "aim9_brk", args: [parent.pid, 1, 0, 12345] }])).rejects.toThrow(/refused its arguments/);
      await expect(pm.run([{ cpu: 0, job: "no_such_job" }])).rejects.toThrow(/unknown job/);
    });
  });

  it("reports a dead worker (CpuDiedError) and a stuck one (CpuStuckError)", async () => {
    const pm = await ParallelMachine.create({ cpus: 1, memory: "16MiB" });
    try {
      await pm.machine.injectFault(0, "exit");
      await expect(pm.run([{ cpu: 0, job: "preempt_loop", args: [10] }])).rejects.toThrow(CpuDiedError);
    } finally {
      await pm.destroy();
    }
    await withParallelMachine({ cpus: 1, memory: "32MiB", timeoutMs: 30 }, async (q) => {
      const model = new MmModel(q.mmu);
      const p = model.spawn({ cpu: 0 });
      const out = q.alloc(64);
      // 1000 AIM9 loops (17 million sbrk calls) cannot finish in 30 ms
      await expect(q.run([{ cpu: 0, job: "aim9_brk", args: [p.pid, 1000, 0, out] }])).rejects.toThrow(CpuStuckError);
    });
  });
});
