// mm/mmu_gather.ts: batching, "flush the TLBs, then free", freed_tables reaching lazy CPUs.
import { describe, it, expect } from "vitest";
import { InvariantError } from "../../src/index.js";
import { machine, newMm, tlbStat, VA, PROT_RW, page, rss } from "./mm_helpers.js";

const PAGE = 4096n;

function mapped(n: number) {
  const mmu = machine();
  const mm = newMm(mmu, 3);
  const first = mmu.exports.cpu_test_map_pages(0, mm, VA, n, PROT_RW);
  expect(first).toBeGreaterThan(0);
  for (const cpu of [0, 1]) mmu.exports.cpu_switch_mm(cpu, mm);
  return { mmu, mm, first };
}

describe("mmu_gather", () => {
  it("flushes and frees a full batch mid-unmap, then the rest at tlb_finish_mmu; every frame and table comes back", () => {
    const n = 600; // more than one batch of 512 pages
    const { mmu, mm, first } = mapped(n);
    const free0 = mmu.freeFrames();
    const tables = rss(mmu, mm, 3);
    expect(tables).toBe(4); // PUD, PMD, two PTE pages
    expect(mmu.exports.cpu_test_unmap_pages(0, mm, VA, n, 1)).toBe(0);
    expect(tlbStat(mmu, 0, "MUNMAP", "FLUSHES")).toBe(2);
    expect(tlbStat(mmu, 0, "MUNMAP", "FULL")).toBe(2); // both ranges are above the 33-page ceiling
    expect(mmu.freeFrames() - free0).toBe(n + tables);
    expect(rss(mmu, mm, 3)).toBe(0);
    expect(page(mmu, first)).toMatchObject({ refcount: 0, mapcount: 0 });
  });

  it("flushes a lazy CPU only when page tables were freed", () => {
    for (const freeTables of [0, 1]) {
      const { mmu, mm } = mapped(2);
      for (const i of [0n, 1n]) mmu.translate(1, VA + i * PAGE);
      mmu.exports.cpu_enter_lazy_tlb(1, mm);
      mmu.exports.cpu_test_unmap_pages(0, mm, VA, 2, freeTables);
      expect(mmu.tlbEntries(1)).toBe(freeTables ? 0 : 2);
      expect(Number(mmu.exports.mm_tlb_flush_stat(0, 7 /* NR_TLB_CAUSES: lazy skips */, 0))).toBe(freeTables ? 0 : 1);
    }
  });

  it("refuses a second gather on the same CPU (debug build)", () => {
    const { mmu, mm } = mapped(1);
    const tlb = mmu.exports.cpu_mmu_gather(0) >>> 0;
    new DataView(mmu.memory.buffer).setUint8(tlb + 7, 1); // active, as if a gather were in progress
    expect(() => mmu.exports.cpu_test_unmap_pages(0, mm, VA, 1, 0)).toThrow(InvariantError);
  });
});
