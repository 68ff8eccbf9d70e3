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
