// Reverse maps (mm/rmap.ts, mm/rmap_walk.ts): anon_vma and anon_vma_chain after prepare, fork, split
// and unlink in both designs (2.6.34 chains, 2.6.25 shared anon_vma), the page-level rmap fields, and
// the walks: page_referenced, try_to_unmap, page_mkclean, and the anon_vma lock modes they take.
import { describe, it, expect } from "vitest";
import { RmapWorld, BASE, PAGE } from "./rmap_helpers.js";

describe("anon_vma_chain design (2.6.34+)", () => {
  it("prepare, fork, split and unlink leave the chains the design prescribes, and free what they must", () => {
    const w = RmapWorld.create();
    const live0 = w.liveAnonVmas();
    const parent = w.mm(1), child = w.mm(2);
    const P = w.vma(parent, BASE, 16);
    const pfn = w.faultAnon(P, BASE + 3n * PAGE);
    const AV0 = w.anonVma(P);
    expect(AV0).not.toBe(0);
    expect(w.root(AV0)).toBe(AV0);
    expect(w.refcount(AV0)).toBe(1);
    expect(w.chainOf(P)).toEqual([AV0]);
    expect(w.vmasOf(AV0)).toEqual([P]);
    // The page points at the anon_vma, with its linear index, and is PG_anon.
    expect(w.mapping(pfn)).toBe(AV0 | w.c("PAGE_MAPPING_ANON"));
    expect(w.index(pfn)).toBe(Number((BASE >> 12n) + 3n));
    expect(w.flags(pfn) & w.c("PG_anon")).not.toBe(0);
    expect(w.mapcount(pfn)).toBe(1);
    expect(BigInt(w.mmu.call("rmap_vma_address", pfn, P))).toBe(BASE + 3n * PAGE);

    // fork: the child vma has its own anon_vma (child of AV0, same root) first, then AV0.
    const C = w.fork(child, P);
    const AV1 = w.anonVma(C);
    expect(AV1).not.toBe(AV0);
    expect(w.root(AV1)).toBe(AV0);
    expect(w.chainOf(C)).toEqual([AV1, AV0]);
    expect(w.chainOf(P)).toEqual([AV0]);
    expect(w.vmasOf(AV0)).toEqual([P, C]);
    expect(w.vmasOf(AV1)).toEqual([C]);
    expect(w.refcount(AV0)).toBe(2); // its own + AV1's reference on its root
    expect(w.refcount(AV1)).toBe(1);
    expect(w.mapcount(pfn)).toBe(2);

    // split the parent: the new vma gets clones of P's chains (AV0).
    const P2 = w.split(P, BASE + 8n * PAGE);
    expect(w.anonVma(P2)).toBe(AV0);
    expect(w.chainOf(P2)).toEqual([AV0]);
    expect(w.vmasOf(AV0)).toEqual([P, C, P2]);
    expect(Number(w.mmu.call("rmap_vma_address", pfn, P2))).toBe(-14); // -EFAULT: outside P2

    // split the child: both halves keep [AV1, AV0].
    const C2 = w.split(C, BASE + 8n * PAGE);
    expect(w.chainOf(C2)).toEqual([AV1, AV0]);
    expect(w.vmasOf(AV1)).toEqual([C, C2]);

    // unlink the child's vmas: AV1's list empties, AV1 is freed and drops its reference on AV0.
    expect(w.unmap(C2)).toBe(0);
    expect(w.vmasOf(AV1)).toEqual([C]);
    expect(w.unmap(C)).toBe(1);
    expect(w.vmasOf(AV0)).toEqual([P, P2]);
    expect(w.refcount(AV0)).toBe(1);
    expect(w.liveAnonVmas()).toBe(live0 + 1);
    expect(w.mapcount(pfn)).toBe(1);

    // unlink the parent's: AV0 goes too; the page is freed and its anon mapping cleared.
    expect(w.unmap(P2)).toBe(0);
    expect(w.unmap(P)).toBe(1);
    expect(w.liveAnonVmas()).toBe(live0);
    expect(w.mapping(pfn)).toBe(0);
    expect(w.flags(pfn) & w.c("PG_buddy")).not.toBe(0);
  });

  it("anon_vma_prepare shares an adjacent compatible vma's anon_vma (find_mergeable_anon_vma), not a distant one's", () => {
    const w = RmapWorld.create();
    const mm = w.mm();
    const A = w.vma(mm, BASE, 4);
    w.faultAnon(A, BASE);
    const B = w.vma(mm, BASE + 4n * PAGE, 4);
    w.faultAnon(B, BASE + 4n * PAGE);
    expect(w.anonVma(B)).toBe(w.anonVma(A));
    expect(w.vmasOf(w.anonVma(A))).toEqual([A, B]);
    const D = w.vma(mm, BASE + 64n * PAGE, 4);
    w.faultAnon(D, BASE + 64n * PAGE);
    expect(w.anonVma(D)).not.toBe(w.anonVma(A));
  });

  it("a forked child's vma does not share the parent's anon_vma tree with a new neighbour (list_is_singular)", () => {
    const w = RmapWorld.create();
    const parent = w.mm(1), child = w.mm(2);
    const P = w.vma(parent, BASE, 4);
    w.faultAnon(P, BASE);
    const C = w.fork(child, P);
    const N = w.vma(child, BASE + 4n * PAGE, 4);
    w.faultAnon(N, BASE + 4n * PAGE);
    expect(w.anonVma(N)).not.toBe(w.anonVma(C));
    expect(w.root(w.anonVma(N))).toBe(w.anonVma(N));
  });

  it("put_anon_vma: a temporary reference keeps an emptied anon_vma until it is put (seed 002)", () => {
    const w = RmapWorld.create();
    const live0 = w.liveAnonVmas();
    const mm = w.mm();
    const P = w.vma(mm, BASE, 2);
    w.faultAnon(P, BASE);
    const av = w.anonVma(P);
    w.mmu.call("cpu_get_anon_vma", 0, av);
    w.unmap(P);
    expect(w.refcount(av)).toBe(1);
    expect(w.liveAnonVmas()).toBe(live0 + 1);
    w.mmu.call("cpu_put_anon_vma", 0, av);
    expect(w.liveAnonVmas()).toBe(live0);
  });
});

describe("2.6.25 design (mm_config MMC_AV_2625)", () => {
  it("forked and split vmas join the family's one anon_vma, whose list holds the vmas; no chains", () => {
    const w0 = RmapWorld.create();
    const w = RmapWorld.create({ config: w0.c("MMC_AV_2625") });
    const live0 = w.liveAnonVmas(), liveAvc0 = w.liveAvcs();
    const parent = w.mm(1), child = w.mm(2), grandchild = w.mm(3);
    const P = w.vma(parent, BASE, 16);
    const pfn = w.faultAnon(P, BASE);
    const AV = w.anonVma(P);
    expect(w.root(AV)).toBe(AV);
    expect(w.vmasOf(AV, true)).toEqual([P]);
    expect(w.refcount(AV)).toBe(1);
    expect(w.mapping(pfn)).toBe(AV | 1);

    const C = w.fork(child, P);
    expect(w.anonVma(C)).toBe(AV);
    const G = w.fork(grandchild, C);
    expect(w.anonVma(G)).toBe(AV);
    const P2 = w.split(P, BASE + 8n * PAGE);
    expect(w.anonVma(P2)).toBe(AV);
    expect(w.vmasOf(AV, true)).toEqual([P, C, G, P2]);
    expect(w.refcount(AV)).toBe(4);
    for (const v of [P, C, G, P2]) expect(w.u32(v + w.c("VMA_ANON_VMA_CHAIN"))).toBe(0);
    expect(w.liveAvcs()).toBe(liveAvc0);
    expect(w.mapcount(pfn)).toBe(3);

    w.unmap(C);
    expect(w.vmasOf(AV, true)).toEqual([P, G, P2]);
    w.unmap(P2);
    w.unmap(G);
    expect(w.vmasOf(AV, true)).toEqual([P]);
    expect(w.liveAnonVmas()).toBe(live0 + 1);
    w.unmap(P);
    expect(w.liveAnonVmas()).toBe(live0);
  });

  it("refuses unknown mm_config bits", () => {
    const w = RmapWorld.create();
    expect(w.mmu.call("mm_config_write", 1 << 30)).toBe(-22);
  });
});

const A_BIT = 1n << 5n, P_BIT = 1n;

/** A parent with one anonymous page at BASE and a forked child: both map it; CPU 0 runs the parent, CPU 1 the child. */
function forked(opts: Parameters<typeof RmapWorld.create>[0] = {}) {
  const w = RmapWorld.create(opts);
  const parent = w.mm(1), child = w.mm(2);
  const P = w.vma(parent, BASE, 4);
  const pfn = w.faultAnon(P, BASE, 7);
  const C = w.fork(child, P);
  w.load(0, parent);
  w.load(1, child);
  return { w, parent, child, P, C, pfn };
}

describe("rmap walks", () => {
  it("page_referenced counts and clears the Accessed bit in every mapping, flushing each page", () => {
    const { w, parent, child, pfn } = forked();
    expect(w.touch(0, BASE)).toBe(pfn);
    expect(w.touch(1, BASE)).toBe(pfn);
    expect(w.pte(parent, BASE) & A_BIT).toBe(A_BIT);
    expect(w.pte(child, BASE) & A_BIT).toBe(A_BIT);
    expect(w.mmu.call("cpu_page_referenced", 0, pfn)).toBe(2);
    expect(w.pte(parent, BASE) & A_BIT).toBe(0n);
    expect(w.pte(child, BASE) & A_BIT).toBe(0n);
    expect(w.mmu.call("cpu_page_referenced", 0, pfn)).toBe(0);
    // The TLBs were flushed: the next access walks and sets A again (a TLB hit would not).
    expect(w.touch(1, BASE)).toBe(pfn);
    expect(w.pte(child, BASE) & A_BIT).toBe(A_BIT);
    expect(w.pte(parent, BASE) & A_BIT).toBe(0n);
    expect(w.mmu.call("cpu_page_referenced", 1, pfn)).toBe(1);
  });

  it("page_referenced works through the 2.6.25 design's vma list", () => {
    const w0 = RmapWorld.create();
    const { w, pfn } = forked({ config: w0.c("MMC_AV_2625") });
    w.touch(0, BASE);
    w.touch(1, BASE);
    expect(w.mmu.call("cpu_page_referenced", 0, pfn)).toBe(2);
  });

  it("try_to_unmap leaves mapcount 0, no PTE naming the frame, RSS down and no stale translation", () => {
    const { w, parent, child, pfn } = forked();
    w.touch(0, BASE);
    w.touch(1, BASE);
    expect(w.mmu.call("cpu_get_page", 0, pfn)).toBe(0); // the caller's reference
    expect(w.rss(parent, 1)).toBe(1);
    expect(w.mmu.call("cpu_try_to_unmap", 0, pfn, 0)).toBe(2);
    expect(w.mapcount(pfn)).toBe(0);
    expect(w.pte(parent, BASE)).toBe(0n);
    expect(w.pte(child, BASE)).toBe(0n);
    expect(w.rss(parent, 1)).toBe(0);
    expect(w.rss(child, 1)).toBe(0);
    expect(w.touch(0, BASE)).toBe(-1);
    expect(w.touch(1, BASE)).toBe(-1);
    expect(w.refs(pfn)).toBe(1);
    expect(w.mmu.call("cpu_put_page", 0, pfn)).toBe(1); // freed, its anon mapping cleared
  });

  it("try_to_unmap with TTU_MIGRATION leaves migration entries naming the frame, writable where the PTE was", () => {
    const w = RmapWorld.create();
    const mm = w.mm(1);
    const V = w.vma(mm, BASE, 2);
    const pfn = w.faultAnon(V, BASE);
    w.mmu.call("cpu_get_page", 0, pfn);
    expect(w.mmu.call("cpu_try_to_unmap", 0, pfn, w.c("TTU_MIGRATION"))).toBe(1);
    const e = w.pte(mm, BASE);
    expect(e & P_BIT).toBe(0n);
    expect(w.mmu.call("swp_is_migration_entry", e)).toBe(1);
    expect(w.mmu.call("swp_is_write_migration_entry", e)).toBe(1);
    expect(w.mmu.call("swp_migration_entry_to_pfn", e)).toBe(pfn);
    expect(w.rss(mm, 1)).toBe(1); // migration keeps the RSS
  });

  for (const [spec, mode] of [["ticket", "write"], ["mutex", "write"], ["rwsem-steal", "read"], ["rwsem-handoff", "read"]] as const) {
    it(`rmap walks take the anon_vma lock for ${mode} when its class is ${spec}`, () => {
      const { w, pfn } = forked({ locks: { anon_vma: spec } });
      w.touch(0, BASE);
      const before = w.lockStat("anon_vma");
      expect(w.mmu.call("cpu_page_referenced", 0, pfn)).toBe(1);
      w.mmu.call("cpu_get_page", 0, pfn);
      expect(w.mmu.call("cpu_try_to_unmap", 0, pfn, 0)).toBe(2);
      const after = w.lockStat("anon_vma");
      expect(after.read - before.read).toBe(mode === "read" ? 2 : 0);
      expect(after.write - before.write).toBe(mode === "write" ? 2 : 0);
    });
  }
});

describe("seed 003: the lockless rmap_walk_anon special case (mm_config MMC_RMAP_LOCKLESS)", () => {
  const LOCKLESS = 2, FELL_BACK = 0x10000;

  it("takes no anon_vma lock when vma->anon_vma is its root with refcount 1 and the caller holds the page table lock", () => {
    const w = RmapWorld.create({ config: LOCKLESS, locks: { anon_vma: "rwsem-steal" } });
    const mm = w.mm(1);
    const V = w.vma(mm, BASE, 2);
    const pfn = w.faultAnon(V, BASE);
    w.load(0, mm);
    w.touch(0, BASE);
    const av = w.anonVma(V);
    expect(w.root(av)).toBe(av);
    expect(w.refcount(av)).toBe(1);
    const before = w.lockStat("anon_vma");
    expect(w.mmu.call("cpu_test_page_referenced_ptl", 0, pfn, V)).toBe(1);
    const after = w.lockStat("anon_vma");
    expect(after.read + after.write).toBe(before.read + before.write);
    expect(w.pte(mm, BASE) & A_BIT).toBe(0n);
  });

  it("takes the lock (after dropping the page table lock) when a fork raised the root's refcount", () => {
    const { w, P, pfn } = forked({ config: LOCKLESS, locks: { anon_vma: "rwsem-steal" } });
    w.touch(0, BASE);
    w.touch(1, BASE);
    expect(w.refcount(w.anonVma(P))).toBe(2);
    const before = w.lockStat("anon_vma");
    expect(w.mmu.call("cpu_test_page_referenced_ptl", 0, pfn, P)).toBe(FELL_BACK + 2);
    const after = w.lockStat("anon_vma");
    expect(after.read - before.read).toBe(1);
  });

  it("takes the lock when the switch is off, whatever the conditions", () => {
    const w = RmapWorld.create({ locks: { anon_vma: "rwsem-steal" } });
    const mm = w.mm(1);
    const V = w.vma(mm, BASE, 2);
    const pfn = w.faultAnon(V, BASE);
    const before = w.lockStat("anon_vma");
    expect(w.mmu.call("cpu_test_page_referenced_ptl", 0, pfn, V)).toBe(FELL_BACK);
    expect(w.lockStat("anon_vma").read - before.read).toBe(1);
  });

  it("try_to_unmap_ptl refuses with -EAGAIN when the conditions fail, taking nothing", () => {
    const { w, P, pfn } = forked({ config: LOCKLESS });
    const before = w.lockStat("anon_vma");
    expect(w.mmu.call("cpu_try_to_unmap_ptl", 0, pfn, 0, P)).toBe(-11);
    const after = w.lockStat("anon_vma");
    expect(after.read + after.write).toBe(before.read + before.write);
    expect(w.mapcount(pfn)).toBe(2);
  });
});

describe("rmap walks racing fork and unlink (two CPUs on workers)", () => {
  const cases = [["2.6.34", "ticket"], ["2.6.25", "ticket"], ["2.6.34", "mutex"], ["2.6.34", "rwsem-steal"]] as const;
  for (const [era, spec] of cases) {
    const what = spec === "ticket" ? "" : ` (regression: the walk's TLB shootdown under a sleeping anon_vma lock waited forever for a CPU asleep on it)`;
    it(`page_referenced never sees a vma twice or a freed chain while another CPU forks and unmaps (${era}, anon_vma ${spec})${what}`, async () => {
      const { Machine } = await import("../../src/index.js");
      const w0 = RmapWorld.create();
      const m = await Machine.create({ cpus: 2, memory: "8MiB", debug: true, callTimeoutMs: 30_000, locks: { anon_vma: spec } });
      try {
        const w = new RmapWorld(m.mmu);
        if (era === "2.6.25") expect(m.mmu.call("mm_config_write", w0.c("MMC_AV_2625"))).toBe(0);
        const parent = Number(await m.call(0, "cpu_test_mm_create", 1));
        const child = Number(await m.call(0, "cpu_test_mm_create", 2));
        const P = Number(await m.call(0, "cpu_test_vma_create", parent, BASE, BASE + 4n * PAGE, w.c("VM_READ") | w.c("VM_WRITE"), 0, 0xffffffff));
        const pfn = Number(await m.call(0, "cpu_test_fault_anon", P, BASE, 5));
        const ptep = Number(await m.call(0, "cpu_test_pte_alloc", parent, BASE));
        const live0 = w.liveAnonVmas();
        const [forks, bad] = await m.run([
          { cpu: 0, fn: "cpu_test_rmap_fork_churn", args: [P, child, 200] },
          { cpu: 1, fn: "cpu_test_rmap_walk_loop", args: [pfn, ptep, 2, 200] },
        ]);
        expect(forks).toBe(200);
        expect(bad).toBe(0);
        const av = w.anonVma(P);
        expect(era === "2.6.25" ? w.vmasOf(av, true) : w.vmasOf(av)).toEqual([P]);
        expect(w.refcount(av)).toBe(1);
        expect(w.mapcount(pfn)).toBe(1);
        expect(w.liveAnonVmas()).toBe(live0);
        expect(w.rss(child, 1)).toBe(0);
      } finally {
        await m.destroy();
      }
    }, 60_000);
  }
});
