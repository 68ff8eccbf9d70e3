// arch/x86/mm_tlb.ts: switch_mm and the cpumask, lazy TLB, flush_tlb_mm_range's 33-page ceiling and
// per-cause counters; the mmu_gather's "flush, wait for every acknowledgement, then free" on workers.
import { describe, it, expect, afterEach } from "vitest";
import { Machine, CR4 } from "../../../src/index.js";
import { machine, newMm, c, u64, u32, tlbStat, VA, PROT_RW, page } from "../../mm/mm_helpers.js";

const PAGE = 4096n;

function setup(npages: number) {
  const mmu = machine();
  const mm = newMm(mmu, 5);
  const first = mmu.exports.cpu_test_map_pages(0, mm, VA, npages, PROT_RW);
  expect(first).toBeGreaterThan(0);
  for (const cpu of [0, 1]) {
    expect(mmu.exports.cpu_switch_mm(cpu, mm)).toBe(0);
    for (let i = 0n; i < BigInt(npages); i++) expect(mmu.translate(cpu, VA + i * PAGE).ok).toBe(true);
  }
  return { mmu, mm, first };
}

describe("switch_mm / leave_mm", () => {
  it("loads CR3 with the mm's PML4 and PCID and keeps mm_cpumask", () => {
    const mmu = machine();
    const a = newMm(mmu, 3), b = newMm(mmu, 4);
    const mask = (mm: number) => u64(mmu, mm + c(mmu, "MM_CPUMASK"));
    mmu.exports.cpu_switch_mm(0, a);
    mmu.exports.cpu_switch_mm(1, a);
    expect(mask(a)).toBe(3n);
    const pgd = u32(mmu, b + c(mmu, "MM_PGD"));
    mmu.exports.cpu_switch_mm(1, b);
    expect(mask(a)).toBe(1n);
    expect(mask(b)).toBe(2n);
    expect(mmu.registers(1).cr3).toBe((BigInt(pgd) << 12n) | 4n);
    expect(u32(mmu, mmu.exports.cpu_percpu(1) + c(mmu, "PC_LOADED_MM"))).toBe(b);
    mmu.exports.cpu_leave_mm(1);
    expect(mask(b)).toBe(0n);
    expect(u32(mmu, mmu.exports.cpu_percpu(1) + c(mmu, "PC_LOADED_MM"))).toBe(0);
    expect(mmu.registers(1).cr3 & 0xfffn).toBe(0n);
  });
});

describe("flush_tlb_mm_range", () => {
  it("flushes page by page up to 33 pages and the whole PCID above (exact INVLPG and full-flush counts)", () => {
    const { mmu, mm } = setup(40);
    const before = mmu.cpuStats(1);
    // 33 pages: 33 INVLPGs on CPU 1 (flushed on its behalf: it is not running), no full flush.
    expect(mmu.exports.cpu_flush_tlb_mm_range(0, mm, VA, VA + 33n * PAGE, 0, c(mmu, "TLB_CAUSE_MUNMAP"))).toBe(1);
    const mid = mmu.cpuStats(1);
    expect(mid.flushOne! - before.flushOne!).toBe(33n);
    expect(mid.flushPcid! - before.flushPcid!).toBe(0n);
    expect(mmu.tlbEntries(1)).toBe(7);
    // 34 pages: one full flush of the PCID, no INVLPG.
    expect(mmu.exports.cpu_flush_tlb_mm_range(0, mm, VA, VA + 34n * PAGE, 0, c(mmu, "TLB_CAUSE_MPROTECT"))).toBe(1);
    const after = mmu.cpuStats(1);
    expect(after.flushOne! - mid.flushOne!).toBe(0n);
    expect(after.flushPcid! - mid.flushPcid!).toBe(1n);
    expect(mmu.tlbEntries(1)).toBe(0);
    // The initiator flushed itself the same way.
    expect(mmu.tlbEntries(0)).toBe(0);
    // Per-cause counters on the initiator.
    expect(tlbStat(mmu, 0, "MUNMAP", "FLUSHES")).toBe(1);
    expect(tlbStat(mmu, 0, "MUNMAP", "IPIS")).toBe(1);
    expect(tlbStat(mmu, 0, "MUNMAP", "PAGES")).toBe(33);
    expect(tlbStat(mmu, 0, "MUNMAP", "FULL")).toBe(0);
    expect(tlbStat(mmu, 0, "MPROTECT", "PAGES")).toBe(0); // past the ceiling: one full flush, no pages
    expect(tlbStat(mmu, 0, "MPROTECT", "FULL")).toBe(1);
    expect(tlbStat(mmu, 0, "COW", "FLUSHES")).toBe(0);
    expect(u64(mmu, mm + c(mmu, "MM_TLB_GEN"))).toBe(2n);
  });

  it("sends nothing to CPUs outside mm_cpumask", () => {
    const { mmu, mm } = setup(2);
    mmu.exports.cpu_leave_mm(1);
    expect(mmu.exports.cpu_flush_tlb_mm_range(0, mm, VA, VA + PAGE, 0, c(mmu, "TLB_CAUSE_COW"))).toBe(0);
    expect(tlbStat(mmu, 0, "COW", "IPIS")).toBe(0);
  });

  it("skips a lazy CPU for a range flush, flushes it when page tables were freed, and the lazy CPU catches up on switch_mm", () => {
    const { mmu, mm } = setup(4);
    mmu.exports.cpu_enter_lazy_tlb(1, mm);
    expect(u32(mmu, mmu.exports.cpu_percpu(1) + c(mmu, "PC_TLBSTATE"))).toBe(c(mmu, "TLBSTATE_LAZY"));
    expect(mmu.exports.cpu_flush_tlb_mm_range(0, mm, VA, VA + 2n * PAGE, 0, c(mmu, "TLB_CAUSE_MUNMAP"))).toBe(0);
    expect(mmu.tlbEntries(1)).toBe(4); // skipped: still cached
    expect(Number(mmu.exports.mm_tlb_flush_stat(0, c(mmu, "NR_TLB_CAUSES"), 0))).toBe(1);
    // Coming back from lazy mode: tlb_gen moved on, so CPU 1 flushes its PCID.
    mmu.exports.cpu_switch_mm(1, mm);
    expect(mmu.tlbEntries(1)).toBe(0);
    for (let i = 0n; i < 4n; i++) mmu.translate(1, VA + i * PAGE);
    mmu.exports.cpu_enter_lazy_tlb(1, mm);
    // Freed page tables: lazy CPUs are flushed too.
    expect(mmu.exports.cpu_flush_tlb_mm_range(0, mm, VA, VA + 2n * PAGE, 1, c(mmu, "TLB_CAUSE_MUNMAP"))).toBe(1);
    expect(mmu.tlbEntries(1)).toBe(2);
  });

  it("refuses an unknown cause or an empty range", () => {
    const { mmu, mm } = setup(1);
    expect(mmu.exports.cpu_flush_tlb_mm_range(0, mm, VA, VA + PAGE, 0, 99)).toBe(-22);
    expect(mmu.exports.cpu_flush_tlb_mm_range(0, mm, VA, VA, 0, 0)).toBe(-22);
  });
});

describe("mmu_gather and shootdown on workers", () => {
  let m: Machine | undefined;
  afterEach(async () => { await m?.destroy(); m = undefined; });

  it("frees the unmapped frames and page tables only after every CPU acknowledged the flush", async () => {
    m = await Machine.create({ cpus: 2, memory: "16MiB", debug: true, callTimeoutMs: 20_000 });
    const mmu = m.mmu;
    for (const cpu of [0, 1]) await m.call(cpu, "cpu_write_cr4", BigInt(CR4.PAE | CR4.PGE | CR4.PCIDE));
    const mm = Number(await m.call(0, "cpu_pt_mm_create", 7)) >>> 0;
    const n = 8;
    const first = Number(await m.call(0, "cpu_test_map_pages", mm, VA, n, PROT_RW));
    expect(first).toBeGreaterThan(0);
    for (const cpu of [0, 1]) expect(await m.call(cpu, "cpu_switch_mm", mm)).toBe(0);
    const words = mmu.exports.cpu_kmem_cache_alloc(0, 1, c(mmu, "__GFP_ZERO")) >>> 0; // a zeroed vma-sized object as two words
    const ready = words, done = words + 4;
    const freeBefore = mmu.freeFrames();
    const [watch] = await m.run([
      { cpu: 1, fn: "cpu_test_stale_watch", args: [VA, first, ready, done] },
      { cpu: 0, fn: "cpu_test_unmap_when_ready", args: [mm, VA, n, ready, done] },
    ]);
    const r = BigInt(watch as bigint);
    expect(r >> 1n).toBe(0n);      // never a cached translation to a freed frame
    expect(r & 1n).toBe(1n);       // and the entry was flushed by the IPI
    expect(page(mmu, first).refcount).toBe(0);
    expect(tlbStat(mmu, 0, "MUNMAP", "IPIS")).toBeGreaterThanOrEqual(1);
    // n data frames and the PUD, PMD and PTE pages are free again.
    expect(mmu.freeFrames() - freeBefore).toBe(n + 3);
  });
});
