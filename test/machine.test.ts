// Machine (src/machine.ts): CPUs on workers; bad options; dead and stuck workers reported with the
// CPU and its state; destroy() always clean.
import { describe, it, expect, afterEach } from "vitest";
import { Machine, ConfigError, CpuDiedError, CpuStuckError, MachineDestroyedError } from "../src/index.js";

let machine: Machine | undefined;
afterEach(async () => { await machine?.destroy(); machine = undefined; });

describe("Machine", () => {
  it("refuses bad options with a clear error", async () => {
    await expect(Machine.create({ cpus: 0 })).rejects.toThrow(/cpus: 0 is out of range \(1\.\.64\)/);
    await expect(Machine.create({ cpus: 65 })).rejects.toThrow(ConfigError);
    await expect(Machine.create({ cpus: 1.5 })).rejects.toThrow(/cpus/);
    await expect(Machine.create({ memory: "lots" })).rejects.toThrow(/memory: cannot read "lots"/);
    await expect(Machine.create({ memory: 4095 })).rejects.toThrow(/multiple of the 4 KiB page/);
    await expect(Machine.create({ memory: "8GiB" })).rejects.toThrow(/does not fit in the 4 GiB.*frameData: false/);
    await expect(Machine.create({ callTimeoutMs: -1 })).rejects.toThrow(/callTimeoutMs/);
    await expect(Machine.create({ cpu: 2 } as never)).rejects.toThrow(/unknown option "cpu"/);
    await expect(Machine.create({ maxPhysAddr: 60 })).rejects.toThrow(/maxPhysAddr/);
    await expect(Machine.create({ memory: "1MiB", backedMemory: "1MiB" })).rejects.toThrow(/only meaningful with frameData: false/);
  });

  it("runs one worker per CPU on the same memory", async () => {
    machine = await Machine.create({ cpus: 3, memory: "4MiB" });
    const pfns = await Promise.all([0, 1, 2].map((cpu) => machine!.call(cpu, "cpu_alloc_page", 0)));
    expect(new Set(pfns).size).toBe(3);
    expect(machine.mmu.cpuStats(2).pgalloc).toBe(1n);
    await expect(machine.call(3, "cpu_alloc_page", 0)).rejects.toThrow(/cpu: 3 is not a CPU of this machine/);
    await expect(machine.call(0, "mm_nr_free_pages" as never)).rejects.toThrow(/not a per-CPU core function/);
    await expect(machine.run([{ cpu: 1, fn: "cpu_alloc_page", args: [0] }, { cpu: 1, fn: "cpu_alloc_page", args: [0] }]))
      .rejects.toThrow(/CPU 1 has two jobs/);
  });

  it("reports a worker that dies of an uncaught exception, with its CPU, and keeps the others", async () => {
    machine = await Machine.create({ cpus: 2, memory: "4MiB" });
    await machine.injectFault(1, "throw");
    const err = await machine.call(1, "cpu_alloc_page", 0).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CpuDiedError);
    expect((err as CpuDiedError).state.cpu).toBe(1);
    expect((err as CpuDiedError).message).toMatch(/CPU 1 died: uncaught Error: injected fault on CPU 1; it was idle/);
    expect(Number(await machine.call(0, "cpu_alloc_page", 0))).toBeGreaterThan(0);
    await machine.destroy();
    await machine.destroy();
    await expect(machine.call(0, "cpu_alloc_page", 0)).rejects.toThrow(MachineDestroyedError);
  });

  it("reports a worker that exits", async () => {
    machine = await Machine.create({ cpus: 2, memory: "4MiB" });
    await machine.injectFault(0, "exit");
    const err = await machine.call(0, "cpu_alloc_page", 0).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CpuDiedError);
    expect((err as Error).message).toMatch(/CPU 0 died: its worker exited with code 3/);
  });

  it("reports a CPU stuck at the barrier when its partner never comes, and can still be destroyed", async () => {
    machine = await Machine.create({ cpus: 2, memory: "4MiB", callTimeoutMs: 2000 });
    const err = await machine.call(0, "cpu_barrier_wait", 2).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CpuStuckError);
    expect((err as CpuStuckError).message).toMatch(/CPU 0 is stuck \(no answer after 2000 ms; its worker was terminated\): waiting at the start barrier, for 2 parties/);
    await expect(machine.call(0, "cpu_alloc_page", 0)).rejects.toThrow(CpuDiedError);
    expect(Number(await machine.call(1, "cpu_alloc_page", 0))).toBeGreaterThan(0);
  });
});
