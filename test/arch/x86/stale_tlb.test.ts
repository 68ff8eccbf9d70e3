// The stale-TLB detector of the debug builds (assembly/arch/x86/tlb_check.ts): an access through a
// TLB entry whose frame has been freed ("freed") or freed and allocated again ("reused") since the
// entry was filled is reported as a StaleTlbError with the CPU, the address and the frame; a proper
// INVLPG or shootdown before the free leaves nothing to report; the release build does not check.
// The scenario is the bug mmu_gather prevents: clear the PTE, free the frame, flush too late (never).
import { describe, it, expect, afterEach } from "vitest";
import { Mmu, Machine, VirtualMachine, PageTableBuilder, PTE, StaleTlbError, MmemuError, PAGE_SIZE_2M } from "../../../src/index.js";
import { constant } from "../../../src/core/abi.js";
import { loadCoreModule, type CoreFlavor } from "../../../src/core/module.js";
import { space, RW_USER, USER_VA, pa } from "../../helpers/machine.js";

const VA = USER_VA + 0x40_0000n;

let machine: Machine | undefined;
afterEach(async () => { await machine?.destroy(); machine = undefined; });

/** Map one fresh frame at VA, and let CPU 1 cache the translation (a fill, then a hit). */
function mapAndCache(mmu: Mmu, pt: PageTableBuilder): { pfn: number; pte: bigint } {
  const pfn = mmu.allocFrame();
  const pte = pt.map(VA, BigInt(pfn) << 12n, RW_USER);
  expect(pa(mmu.translate(1, VA, { user: true }))).toBe(BigInt(pfn) << 12n);
  expect(pa(mmu.translate(1, VA + 8n, { user: true }))).toBe((BigInt(pfn) << 12n) + 8n);
  expect(mmu.cpuStats(1).tlbHit).toBe(1n);
  return { pfn, pte };
}

/** What a call threw (a failure if it returned). */
function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error("expected the call to throw");
}

function pageFlags(mmu: Mmu, pfn: number): number {
  const v = new DataView(mmu.memory.buffer);
  return v.getUint32(mmu.layout.memMap + pfn * mmu.layout.structPageSize + constant(mmu.exports, "PAGE_FLAGS"), true);
}

describe("stale-TLB detector (debug build)", () => {
  it("reports an access through a TLB entry whose frame was freed without a flush (kind freed)", () => {
    const { mmu, pt } = space({ cpus: 2 });
    const { pfn, pte } = mapAndCache(mmu, pt);
    mmu.writePhys64(pte, 0n);           // the PTE is cleared ...
    expect(mmu.freeFrame(pfn)).toBe(true); // ... and the frame freed with CPU 1's TLB never flushed
    const e = thrown(() => mmu.translate(1, VA + 0x123n, { user: true }));
    expect(e).toBeInstanceOf(StaleTlbError);
    expect(e).toBeInstanceOf(MmemuError);
    expect(e).toMatchObject({ name: "StaleTlbError", cpu: 1, address: VA + 0x123n, pfn, kind: "freed" });
    expect((e as Error).message).toBe(`stale TLB entry: CPU 1 accessed 0x${(VA + 0x123n).toString(16)} through a TLB ` +
      `entry for pfn ${pfn} (0x${pfn.toString(16)}), which has been freed since the entry was filled`);
    // CPU 0 never cached the translation: it walks and faults as it should.
    expect(mmu.translate(0, VA, { user: true })).toMatchObject({ ok: false, fault: "#PF" });
  });

  it("reports an access through a TLB entry whose frame was freed and allocated again (kind reused)", () => {
    const { mmu, pt } = space({ cpus: 2 });
    const { pfn, pte } = mapAndCache(mmu, pt);
    mmu.writePhys64(pte, 0n);
    mmu.freeFrame(pfn);
    expect(mmu.allocFrame()).toBe(pfn); // the per-CPU list is LIFO: the same frame, a new owner
    const e = thrown(() => mmu.translate(1, VA + 0xff8n, { user: true }));
    expect(e).toBeInstanceOf(StaleTlbError);
    expect(e).toMatchObject({ cpu: 1, address: VA + 0xff8n, pfn, kind: "reused" });
    expect((e as Error).message).toMatch(/CPU 1 .* pfn \d+ .*freed and allocated again \(reused\)/);
  });

  it("reports nothing when CPU 1 flushed with INVLPG before the free", () => {
    const { mmu, pt } = space({ cpus: 2 });
    const { pfn, pte } = mapAndCache(mmu, pt);
    mmu.writePhys64(pte, 0n);
    mmu.invlpg(1, VA);
    mmu.freeFrame(pfn);
    expect(mmu.allocFrame()).toBe(pfn);
    expect(mmu.translate(1, VA, { user: true })).toMatchObject({ ok: false, fault: "#PF", errorCode: 4 });
  });

  it("reports nothing when a shootdown flushed CPU 1 before the free", () => {
    const { mmu, pt } = space({ cpus: 2 });
    const { pfn, pte } = mapAndCache(mmu, pt);
    mmu.writePhys64(pte, 0n);
    // CPU 0 asks CPU 1 (not running: the initiator flushes on its behalf) to flush VA's page.
    expect(mmu.call("cpu_tlb_post", 0, 1, constant(mmu.exports, "FLUSH_RANGE"), 0, VA, 1)).toBe(0n);
    expect(mmu.tlbEntries(1)).toBe(0);
    mmu.freeFrame(pfn);
    expect(mmu.translate(1, VA, { user: true })).toMatchObject({ ok: false, fault: "#PF" });
  });

  it("reports nothing for a write through a clean entry: it walks again (to set D) and faults", () => {
    const { mmu, pt } = space({ cpus: 2 });
    const { pfn, pte } = mapAndCache(mmu, pt); // cached by reads: D = 0 in the entry
    mmu.writePhys64(pte, 0n);
    mmu.freeFrame(pfn);
    expect(mmu.translate(1, VA, { user: true, write: true })).toMatchObject({ ok: false, fault: "#PF", errorCode: 6 });
    expect(mmu.tlbEntries(1)).toBe(0);
  });

  it("keeps accepting hits on frames that stay allocated, and on frames nobody allocated (not tracked)", () => {
    const { mmu, pt } = space({ cpus: 2 });
    const { pfn } = mapAndCache(mmu, pt);
    // Another frame allocated and freed meanwhile changes nothing for VA's frame.
    mmu.freeFrame(mmu.allocFrame());
    for (let i = 0n; i < 8n; i++) expect(pa(mmu.translate(1, VA + i * 8n, { user: true }))).toBe((BigInt(pfn) << 12n) + i * 8n);
    // A page table may map any physical address: a frame that is free when the entry is filled has no
    // allocation whose end could make the entry stale, and is not checked.
    const freePfn = mmu.layout.nrBacked - 1;
    expect(pageFlags(mmu, freePfn) & constant(mmu.exports, "PG_buddy")).not.toBe(0);
    pt.map(VA + 0x1000n, BigInt(freePfn) << 12n, RW_USER);
    for (let i = 0; i < 3; i++) expect(pa(mmu.translate(1, VA + 0x1000n, { user: true }))).toBe(BigInt(freePfn) << 12n);
  });

  it("checks the head frame of a 2 MiB page, whatever 4 KiB of it the access touches", () => {
    const { mmu, pt } = space({ cpus: 2 });
    // The allocator hands out order-0 frames: allocate until a 2 MiB-aligned frame comes out.
    let head = mmu.allocFrame({ zero: false });
    while (head % 512 !== 0) head = mmu.allocFrame({ zero: false });
    const va = USER_VA + 0x20_0000n;
    const pde = pt.map(va, BigInt(head) << 12n, RW_USER, PAGE_SIZE_2M);
    expect(mmu.translate(1, va + 0x1000n, { user: true })).toMatchObject({ ok: true, pageSize: 2 ** 21 });
    mmu.writePhys64(pde, 0n);
    mmu.freeFrame(head);
    const e = thrown(() => mmu.translate(1, va + 0x5_4321n, { user: true }));
    expect(e).toMatchObject({ name: "StaleTlbError", cpu: 1, address: va + 0x5_4321n, pfn: head, kind: "freed" });
  });

  it("counts allocations in the generation bits of struct page's flags", () => {
    const { mmu } = space({ cpus: 1 });
    const pfn = mmu.allocFrame();
    const gen = pageFlags(mmu, pfn) >>> constant(mmu.exports, "PAGE_GEN_SHIFT");
    expect(pageFlags(mmu, pfn) & 0xfff).toBe(0);
    mmu.freeFrame(pfn);
    expect(pageFlags(mmu, pfn) >>> 20).toBe(gen); // kept across the free ...
    expect(pageFlags(mmu, pfn) & 0xfff).toBe(constant(mmu.exports, "PG_buddy"));
    expect(mmu.allocFrame()).toBe(pfn);
    expect(pageFlags(mmu, pfn) >>> 20).toBe((gen + 1) & 0xfff); // ... and bumped by the next allocation
  });
});

describe("stale-TLB detector: other builds and CPUs", () => {
  it("is absent from the release build: the stale entry is used and nothing is reported", () => {
    const { mmu, pt } = space({ cpus: 2, debug: false });
    const { pfn, pte } = mapAndCache(mmu, pt);
    mmu.writePhys64(pte, 0n);
    mmu.freeFrame(pfn);
    expect(mmu.allocFrame()).toBe(pfn);
    expect(pa(mmu.translate(1, VA + 0x10n, { user: true }))).toBe((BigInt(pfn) << 12n) + 0x10n);
    expect(pageFlags(mmu, pfn) >>> 20).toBe(0); // no generations either
    // The release core does not even import the report; the debug core does.
    const imports = (f: CoreFlavor) => WebAssembly.Module.imports(loadCoreModule(f)).map((i) => `${i.module}.${i.name}`);
    expect(imports("release")).not.toContain("env.stale_tlb");
    expect(imports("virtual")).not.toContain("env.stale_tlb");
    expect(imports("debug")).toContain("env.stale_tlb");
    expect(imports("virtual-debug")).toContain("env.stale_tlb");
  });

  it("works in the virtual debug build", () => {
    const vm = VirtualMachine.create({ cpus: 2, memory: "16MiB", debug: true });
    const pt = new PageTableBuilder(vm.mmu);
    for (let cpu = 0; cpu < 2; cpu++) vm.mmu.setCr3(cpu, pt.root);
    const { pfn, pte } = mapAndCache(vm.mmu, pt);
    vm.mmu.writePhys64(pte, 0n);
    vm.mmu.freeFrame(pfn);
    expect(thrown(() => vm.mmu.translate(1, VA, { user: true }))).toMatchObject({ name: "StaleTlbError", cpu: 1, pfn, kind: "freed" });
  });

  it("ends a virtual-time run with a StaleTlbError that carries the seed replaying it", () => {
    const vm = VirtualMachine.create({ cpus: 2, memory: "16MiB", debug: true });
    const pt = new PageTableBuilder(vm.mmu);
    for (let cpu = 0; cpu < 2; cpu++) vm.mmu.setCr3(cpu, pt.root);
    const { pfn, pte } = mapAndCache(vm.mmu, pt);
    const jobs = [{ cpu: 0, job: "preempt_loop", args: [50] }, { cpu: 1, job: "translate_loop", args: [VA, 50, 4] }];
    // While the frame is allocated, CPU 1's 50 accesses all hit and nothing is reported.
    expect(vm.run({ mode: "explore", seed: 7, jobs }).cpus[1]!.result).toBe(50n);
    vm.mmu.writePhys64(pte, 0n);
    vm.mmu.freeFrame(pfn);
    expect(vm.mmu.allocFrame()).toBe(pfn);
    const e = thrown(() => vm.run({ mode: "explore", seed: 7, jobs }));
    expect(e).toBeInstanceOf(StaleTlbError);
    expect(e).toMatchObject({ cpu: 1, address: VA, pfn, kind: "reused", seed: 7, replay: expect.stringContaining("7") });
    // The machine can run again: after the flush, CPU 1's accesses fault instead.
    vm.mmu.invlpg(1, VA);
    expect(vm.run({ mode: "timed", seed: 1, jobs }).cpus[1]!.result).toBe(0n);
  });

  it("arrives typed from a CPU on a worker thread, and the machine goes on", async () => {
    machine = await Machine.create({ cpus: 2, memory: "16MiB", debug: true });
    const mmu = machine.mmu;
    const pt = new PageTableBuilder(mmu);
    const [pfn] = pt.mapFresh(VA, 1, PTE.RW | PTE.USER);
    const pte = pt.entryAddress(VA, 1);
    await machine.call(1, "cpu_write_cr3", pt.root);
    expect(await machine.call(1, "cpu_translate", VA, 4)).toBe(BigInt(pfn!) << 12n);
    mmu.writePhys64(pte, 0n);
    mmu.freeFrame(pfn!);
    const e = await machine.call(1, "cpu_translate", VA + 0x40n, 4).then(() => undefined, (x: unknown) => x);
    expect(e).toBeInstanceOf(StaleTlbError);
    expect(e).toMatchObject({ cpu: 1, address: VA + 0x40n, pfn, kind: "freed" });
    expect(typeof (e as StaleTlbError).address).toBe("bigint");
    expect((e as Error).message).toMatch(/^stale TLB entry: CPU 1 accessed 0x[0-9a-f]+ through a TLB entry for pfn/);
    // The worker survived the report: after the flush it should have done, CPU 1 faults as it should.
    await machine.call(1, "cpu_invlpg", VA);
    expect(await machine.call(1, "cpu_translate", VA, 4)).toBe(-14n);
  });
});
