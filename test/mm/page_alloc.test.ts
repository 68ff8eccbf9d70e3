// The page-frame allocator (mm/page_alloc.ts): zones, per-CPU lists, exhaustion, reference counts,
// metadata-only frames, and every frame handed out exactly once when CPUs allocate at once.
import { describe, it, expect, afterEach } from "vitest";
import { Mmu, Machine, ErrnoError } from "../../src/index.js";
import { constant } from "../../src/core/abi.js";

let machine: Machine | undefined;
afterEach(async () => { await machine?.destroy(); machine = undefined; });

function pageField(mmu: Mmu, pfn: number, field: "PAGE_FLAGS" | "PAGE_REFCOUNT" | "PAGE_MAPCOUNT" | "PAGE_PRIVATE"): number {
  const v = new DataView(mmu.memory.buffer);
  return v.getInt32(mmu.layout.memMap + pfn * mmu.layout.structPageSize + constant(mmu.exports, field), true);
}

describe("page allocator", () => {
  it("hands out every frame but the reserved pfn 0 and init_mm's PML4, then fails with -ENOMEM, and takes them all back", () => {
    const mmu = Mmu.create({ memory: "1MiB", debug: true, cpus: 2 });
    const total = mmu.layout.nrFrames - 1; // machine_init allocates swapper_pgd (mm/pgtable.ts)
    expect(mmu.freeFrames()).toBe(total - 1);
    const got = new Set<number>();
    for (;;) {
      let pfn: number;
      try { pfn = mmu.allocFrame({ cpu: got.size % 2, zero: false }); } catch (e) {
        expect(e).toBeInstanceOf(ErrnoError);
        expect((e as ErrnoError).errno).toBe(-12);
        break;
      }
      expect(got.has(pfn)).toBe(false);
      got.add(pfn);
    }
    expect(got.size).toBe(total - 1);
    expect(got.has(0)).toBe(false);
    expect(mmu.freeFrames()).toBe(0);
    for (const pfn of got) expect(mmu.freeFrame(pfn, pfn % 2)).toBe(true);
    expect(mmu.freeFrames()).toBe(total - 1);
  });

  it("counts references: the last put frees, a double free and pfn 0 are refused", () => {
    const mmu = Mmu.create({ memory: "1MiB", debug: true });
    const pfn = mmu.allocFrame();
    const PG_buddy = constant(mmu.exports, "PG_buddy");
    expect(pageField(mmu, pfn, "PAGE_REFCOUNT")).toBe(1);
    expect(mmu.call("cpu_get_page", 0, pfn)).toBe(0);
    expect(mmu.freeFrame(pfn)).toBe(false);
    expect(mmu.freeFrame(pfn)).toBe(true);
    expect(pageField(mmu, pfn, "PAGE_FLAGS") & PG_buddy).toBe(PG_buddy);
    expect(pageField(mmu, pfn, "PAGE_MAPCOUNT")).toBe(-1);
    expect(() => mmu.freeFrame(pfn)).toThrow(/put_page: -EINVAL \(pfn \d+\)/);
    expect(() => mmu.freeFrame(0)).toThrow(/-EINVAL/);
    expect(() => mmu.freeFrame(mmu.layout.nrFrames)).toThrow(/-EINVAL/);
    expect(mmu.call("cpu_get_page", 0, pfn)).toBe(-22);
  });

  it("zeroes frames with __GFP_ZERO and leaves contents otherwise", () => {
    const mmu = Mmu.create({ memory: "1MiB" });
    const pfn = mmu.allocFrame();
    mmu.frameBytes(pfn).fill(0xaa);
    mmu.freeFrame(pfn);
    const again = mmu.allocFrame({ zero: false }); // LIFO per-CPU list: the same frame back
    expect(again).toBe(pfn);
    expect(mmu.frameBytes(again)[100]).toBe(0xaa);
    mmu.freeFrame(again);
    expect(mmu.frameBytes(mmu.allocFrame())[100]).toBe(0);
  });

  it("serves highmem allocations from metadata-only frames first and page tables from frames with contents", () => {
    const mmu = Mmu.create({ memory: "8MiB", frameData: false, backedMemory: "1MiB" });
    const backed = mmu.layout.nrBacked;
    expect(backed).toBe(256);
    const user = mmu.allocFrame({ highmem: true });
    expect(user).toBeGreaterThanOrEqual(backed);
    const table = mmu.allocFrame();
    expect(table).toBeLessThan(backed);
    expect(() => mmu.frameBytes(user)).toThrow(/has no contents/);
    // Exhaust the metadata-only zone: highmem falls back to frames with contents.
    const nodata = mmu.layout.nrFrames - backed - 1;
    for (let i = 0; i < nodata; i++) mmu.allocFrame({ highmem: true, zero: false });
    expect(mmu.allocFrame({ highmem: true })).toBeLessThan(backed);
  });

  it("gives every frame to exactly one of several CPUs exhausting memory at once", async () => {
    machine = await Machine.create({ cpus: 2, memory: "8MiB", frameData: false, backedMemory: "2MiB", debug: true, callTimeoutMs: 60_000 });
    const mmu = machine.mmu;
    const scratch = mmu.allocFrame();
    const heads = mmu.layout.framesBase + scratch * 4096;
    const before = mmu.freeFrames();
    const counts = await machine.run([
      { cpu: 0, fn: "cpu_test_page_alloc_exhaust", args: [1, heads] },
      { cpu: 1, fn: "cpu_test_page_alloc_exhaust", args: [1, heads + 4] },
    ]);
    expect(counts.every((c) => Number(c) >= 0)).toBe(true); // no frame claimed twice
    expect(Number(counts[0]) + Number(counts[1])).toBe(before);
    expect(mmu.freeFrames()).toBe(0);
    const v = new DataView(mmu.memory.buffer);
    const freed = await machine.run([
      { cpu: 0, fn: "cpu_test_page_alloc_release", args: [v.getUint32(heads, true)] },
      { cpu: 1, fn: "cpu_test_page_alloc_release", args: [v.getUint32(heads + 4, true)] },
    ]);
    expect(freed).toEqual(counts);
    expect(mmu.freeFrames()).toBe(before);
  });

  it("loses no frame when CPUs allocate and free at random at once", async () => {
    machine = await Machine.create({ cpus: 3, memory: "4MiB", debug: true, callTimeoutMs: 60_000 });
    const before = machine.mmu.freeFrames();
    // machine_init's own allocations (swapper_pgd) count too: compare what the churn did.
    const s0 = [0, 1, 2].map((c) => machine!.mmu.cpuStats(c));
    const dups = await machine.run([0, 1, 2].map((cpu) => ({ cpu, fn: "cpu_test_page_alloc_churn" as const, args: [200_000, 400, 17 + cpu] })));
    expect(dups).toEqual([0, 0, 0]);
    expect(machine.mmu.freeFrames()).toBe(before);
    const s = [0, 1, 2].map((c) => machine!.mmu.cpuStats(c));
    const sum = (xs: typeof s, k: "pgalloc" | "pgfree"): bigint => xs.reduce((n, x) => n + x[k]!, 0n);
    expect(sum(s, "pgalloc") - sum(s0, "pgalloc")).toBe(sum(s, "pgfree") - sum(s0, "pgfree"));
    expect(s.some((x) => x.pcpDrain! > 0n && x.pcpRefill! > 0n)).toBe(true);
  });
});
