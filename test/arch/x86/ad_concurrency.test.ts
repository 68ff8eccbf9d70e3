// Accessed/Dirty updates under concurrency (SDM 4.8): CPUs on workers walk and write while another
// CPU test-and-clears A/D and moves the PTEs between frames with compare-and-swap. Every D bit the
// walkers set must be seen exactly once by the clearer or still be set at the end (no lost Dirty
// bit), no walk may produce a frame the PTE never named (no torn entry), and no move of a PTE may be
// lost to a walker's update. Few PTEs and long runs make the races frequent: with the walker's
// compare-and-swap replaced by a plain store, this test failed 5 runs out of 5 on a 2-core machine.
import { describe, it, expect, afterEach } from "vitest";
import { Machine, PageTableBuilder, PTE } from "../../../src/index.js";

const VA = 0x0000_5555_0000_0000n;
const NPAGES = 4;
const PFN_A = 1000;
const PFN_B = 3000;

let machine: Machine | undefined;
afterEach(async () => { await machine?.destroy(); machine = undefined; });

describe("A/D bits under concurrent walkers and a clearer", () => {
  it("loses no Dirty bit, no PTE update and never sees a torn entry", async () => {
    machine = await Machine.create({ cpus: 3, memory: "16MiB", debug: true, callTimeoutMs: 60_000 });
    const mmu = machine.mmu;
    const pt = new PageTableBuilder(mmu);
    for (let i = 0; i < NPAGES; i++) pt.map(VA + BigInt(i * 4096), BigInt(PFN_A + i) << 12n, PTE.RW);
    const ptePa = pt.entryAddress(VA, 1);
    for (let cpu = 0; cpu < 3; cpu++) await machine.call(cpu, "cpu_write_cr3", pt.root);

    // The clearer runs until both walkers are done (they count themselves in a shared word).
    const done = mmu.layout.framesBase + mmu.allocFrame() * 4096;
    const [bad0, bad1, dirtySeen] = await machine.run([
      { cpu: 0, fn: "cpu_test_ad_walker", args: [VA, NPAGES, 2_000_000, 7, PFN_A, PFN_B, done] },
      { cpu: 1, fn: "cpu_test_ad_walker", args: [VA, NPAGES, 2_000_000, 11, PFN_A, PFN_B, done] },
      { cpu: 2, fn: "cpu_test_ad_clearer", args: [ptePa, NPAGES, 2, 3, PFN_A, PFN_B, done] },
    ]);
    expect([bad0, bad1]).toEqual([0n, 0n]);

    let stillDirty = 0n;
    for (let i = 0; i < NPAGES; i++) {
      const e = mmu.readPhys64(ptePa + BigInt(i * 8));
      if ((e & PTE.DIRTY) !== 0n) stillDirty++;
      // An even number of moves: every PTE ends on frame A unless a walker's update overwrote a move
      // (a non-atomic read-modify-write of the entry).
      expect(Number((e & PTE.ADDR_MASK) >> 12n)).toBe(PFN_A + i);
    }
    const set = mmu.cpuStats(0).setDirty! + mmu.cpuStats(1).setDirty!;
    expect(set).toBeGreaterThan(10n); // the walkers and the clearer did overlap
    expect(set).toBe((dirtySeen as bigint) + stillDirty);
    expect(mmu.cpuStats(2).setDirty).toBe(0n);
  });
});
