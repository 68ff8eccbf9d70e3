// The TLB shootdown mailbox (arch/x86/smp.ts): a running CPU services requests at its interrupt
// points (here: while it spins at the start barrier with interrupts on); a CPU that is not running
// has its TLB flushed by the initiator; a target that never takes the interrupt is reported stuck.
import { describe, it, expect, afterEach } from "vitest";
import { Machine, PageTableBuilder, PTE, RFLAGS, CpuStuckError } from "../../../src/index.js";
import { constant } from "../../../src/core/abi.js";

const VA = 0x0000_4000_0000_0000n;
let machine: Machine | undefined;
afterEach(async () => { await machine?.destroy(); machine = undefined; });

async function waitForActivity(m: Machine, cpu: number, what: RegExp): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (what.test(m.mmu.activity(cpu).activity)) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`CPU ${cpu} never reached ${what}: ${JSON.stringify(m.mmu.activity(cpu))}`);
}

async function setup(opts = {}) {
  machine = await Machine.create({ cpus: 2, memory: "16MiB", debug: true, ...opts });
  const pt = new PageTableBuilder(machine.mmu);
  pt.mapFresh(VA, 4, PTE.RW);
  for (let cpu = 0; cpu < 2; cpu++) {
    await machine.call(cpu, "cpu_write_cr3", pt.root);
    for (let i = 0n; i < 4n; i++) await machine.call(cpu, "cpu_translate", VA + i * 4096n, 0);
  }
  return machine;
}

describe("TLB shootdown mailbox", () => {
  it("is serviced by a running CPU while it spins with interrupts on", async () => {
    const m = await setup();
    const FLUSH_RANGE = constant(m.mmu.exports, "FLUSH_RANGE");
    expect(m.mmu.tlbEntries(1)).toBe(4);
    const spinning = m.call(1, "cpu_barrier_wait", 2);
    await waitForActivity(m, 1, /barrier/);
    const gen = await m.call(0, "cpu_tlb_post", 1, FLUSH_RANGE, 0, VA + 4096n, 2);
    expect(gen).toBeGreaterThan(0n);
    await m.call(0, "cpu_tlb_wait", 1, Number(gen));
    expect(m.mmu.cpuStats(1).shootdownRecv).toBe(1n);
    expect(m.mmu.tlbEntries(1)).toBe(2);
    await m.call(0, "cpu_barrier_wait", 2);
    await spinning;
    expect(m.mmu.cpuStats(0).shootdownSent).toBe(1n);
  });

  it("flushes an idle CPU's TLB on its behalf", async () => {
    const m = await setup();
    const FLUSH_ALL = constant(m.mmu.exports, "FLUSH_ALL");
    const gen = await m.call(0, "cpu_tlb_post", 1, FLUSH_ALL, 0, 0n, 0);
    expect(gen).toBe(0n);
    expect(m.mmu.tlbEntries(1)).toBe(0);
    expect(m.mmu.cpuStats(0).shootdownRemote).toBe(1n);
    expect(m.mmu.cpuStats(1).shootdownRecv).toBe(0n);
  });

  it("refuses to post to the initiator itself or with an unknown kind", async () => {
    const m = await setup();
    expect(await m.call(0, "cpu_tlb_post", 0, 0, 0, 0n, 1)).toBe(-22n);
    expect(await m.call(0, "cpu_tlb_post", 1, 9, 0, 0n, 1)).toBe(-22n);
    expect(await m.call(0, "cpu_tlb_post", 2, 0, 0, 0n, 1)).toBe(-22n);
  });

  it("reports the initiator stuck when the target has interrupts off", async () => {
    const m = await setup({ callTimeoutMs: 1500 });
    const FLUSH_ALL = constant(m.mmu.exports, "FLUSH_ALL");
    await m.call(1, "cpu_write_rflags", 0n); // IF = 0: the barrier spin takes no interrupts
    const spinning = m.call(1, "cpu_barrier_wait", 2).catch((e: unknown) => e);
    await waitForActivity(m, 1, /barrier/);
    const gen = await m.call(0, "cpu_tlb_post", 1, FLUSH_ALL, 0, 0n, 0);
    const err = await m.call(0, "cpu_tlb_wait", 1, Number(gen)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CpuStuckError);
    expect((err as CpuStuckError).state).toMatchObject({ cpu: 0, activity: expect.stringMatching(/shootdown acknowledgement/) });
    expect((err as CpuStuckError).message).toMatch(/from CPU 1/);
    // CPU 1 is still spinning at the barrier and times out too.
    expect(await spinning).toBeInstanceOf(CpuStuckError);
    void RFLAGS;
  });
});
