// The job table (assembly/kernel/vcpu.ts, src/sched/jobs.ts): the host finds the core's jobs by their
// JOB_* exports, and the same jobs run for real on worker CPUs (parallel mode, cpu_run_job).
import { afterAll, describe, expect, it } from "vitest";
import { Machine } from "../../src/index.js";
import { jobTable } from "../../src/sched/jobs.js";
import { vmachine } from "./helpers.js";

describe("job table", () => {
  it("names every JOB_* export of the core in lower case", () => {
    const vm = vmachine(1);
    const table = jobTable(vm.exports);
    for (const name of ["spin_lock_loop", "racy_increment", "sleep_pingpong", "preempt_loop", "translate_loop", "pte_racy"]) {
      expect(table.get(name)).toBeGreaterThan(0);
    }
    expect(new Set(table.values()).size).toBe(table.size); // distinct ids
    expect(vm.jobs).toEqual([...table.keys()]);
  });
});

describe("parallel mode: the same jobs on worker CPUs", () => {
  let m: Machine | undefined;
  afterAll(async () => { await m?.destroy(); });

  it("spin_lock_loop and sleep_pingpong give exact counts on two workers", async () => {
    m = await Machine.create({ cpus: 2, memory: "16MiB", debug: true, callTimeoutMs: 60_000 });
    const x = m.mmu.exports;
    const jobs = jobTable(x);
    const frame = m.mmu.allocFrame();
    const base = m.mmu.layout.framesBase + frame * 4096;
    const lock = base, counter = base + 64, word = base + 128;
    const n = 20_000;
    for (const cpu of [0, 1]) {
      expect(x.vcpu_set_job(cpu, jobs.get("spin_lock_loop")!, BigInt(lock), BigInt(counter), BigInt(n), 0n, 0n, 0n)).toBe(0);
    }
    expect(await m.run([{ cpu: 0, fn: "cpu_run_job" }, { cpu: 1, fn: "cpu_run_job" }])).toEqual([BigInt(n), BigInt(n)]);
    expect(new DataView(m.mmu.memory.buffer).getBigUint64(counter, true)).toBe(BigInt(2 * n));

    const rounds = 200;
    for (const cpu of [0, 1]) {
      expect(x.vcpu_set_job(cpu, jobs.get("sleep_pingpong")!, BigInt(word), BigInt(rounds), BigInt(cpu), 0n, 0n, 0n)).toBe(0);
    }
    expect(await m.run([{ cpu: 0, fn: "cpu_run_job" }, { cpu: 1, fn: "cpu_run_job" }])).toEqual([BigInt(rounds), BigInt(rounds)]);
    expect(new DataView(m.mmu.memory.buffer).getUint32(word, true)).toBe(2 * rounds);
    // A CPU without a ready job refuses.
    expect(await m.call(0, "cpu_run_job")).toBe(-22n);
  });
});
