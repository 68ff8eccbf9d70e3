// The per-CPU TLB (SDM 4.10): what is cached, what each invalidation drops, PCIDs and global pages.
import { describe, it, expect } from "vitest";
import { PTE, CR4, CR3_NOFLUSH, INVPCID, PAGE_SIZE_2M, PageTableBuilder } from "../../../src/index.js";
import { space, pa, USER_VA, KERNEL_VA, RW_USER } from "../../helpers/machine.js";

describe("TLB", () => {
  it("hits after a walk and misses after INVLPG", () => {
    const { mmu, pt } = space();
    const [pfn] = pt.mapFresh(USER_VA, 1, RW_USER);
    expect(pa(mmu.translate(0, USER_VA + 0x10n))).toBe((BigInt(pfn!) << 12n) | 0x10n);
    expect(pa(mmu.translate(0, USER_VA + 0x20n))).toBe((BigInt(pfn!) << 12n) | 0x20n);
    let s = mmu.cpuStats(0);
    expect([s.tlbMiss, s.tlbHit, s.walk]).toEqual([1n, 1n, 1n]);
    mmu.invlpg(0, USER_VA + 0xfffn); // any address in the page
    mmu.translate(0, USER_VA);
    s = mmu.cpuStats(0);
    expect([s.tlbMiss, s.tlbHit, s.walk, s.flushOne]).toEqual([2n, 1n, 2n, 1n]);
  });

  it("keeps serving a stale translation until it is invalidated", () => {
    const { mmu, pt } = space();
    const [a] = pt.mapFresh(USER_VA, 1, RW_USER);
    const b = mmu.allocFrame();
    mmu.translate(0, USER_VA);
    pt.map(USER_VA, BigInt(b) << 12n, RW_USER); // rewrite the PTE without a flush
    expect(pa(mmu.translate(0, USER_VA))).toBe(BigInt(a!) << 12n);
    mmu.invlpg(0, USER_VA);
    expect(pa(mmu.translate(0, USER_VA))).toBe(BigInt(b) << 12n);
  });

  it("walks again for a write through an entry cached clean, and sets D in memory", () => {
    const { mmu, pt } = space();
    pt.mapFresh(USER_VA, 1, RW_USER);
    const ep = pt.entryAddress(USER_VA, 1);
    mmu.translate(0, USER_VA); // read: A set, D clear, cached clean
    expect(mmu.readPhys64(ep) & (PTE.ACCESSED | PTE.DIRTY)).toBe(PTE.ACCESSED);
    mmu.translate(0, USER_VA, { write: true });
    expect(mmu.readPhys64(ep) & PTE.DIRTY).toBe(PTE.DIRTY);
    const s = mmu.cpuStats(0);
    expect([s.walk, s.tlbDirtyRewalk, s.setDirty]).toEqual([2n, 1n, 1n]);
    mmu.translate(0, USER_VA, { write: true }); // now cached dirty: a hit
    expect(mmu.cpuStats(0).walk).toBe(2n);
  });

  it("faults from a cached read-only entry after the PTE was made writable, then drops it (spurious fault)", () => {
    const { mmu, pt } = space();
    const [pfn] = pt.mapFresh(USER_VA, 1, PTE.USER);
    mmu.translate(0, USER_VA, { user: true });
    pt.map(USER_VA, BigInt(pfn!) << 12n, RW_USER); // upgrade without a flush, as Linux does
    const t = mmu.translate(0, USER_VA, { user: true, write: true });
    expect(t).toMatchObject({ ok: false, fault: "#PF", errorCode: 0b111 });
    expect(mmu.cpuStats(0).tlbFaultInval).toBe(1n);
    expect(mmu.translate(0, USER_VA, { user: true, write: true }).ok).toBe(true);
  });

  it("drops non-global entries on a CR3 load and keeps global ones", () => {
    const { mmu, pt } = space();
    pt.mapFresh(USER_VA, 1, RW_USER);
    const k = mmu.allocFrame();
    pt.map(KERNEL_VA, BigInt(k) << 12n, PTE.RW | PTE.GLOBAL);
    mmu.translate(0, USER_VA);
    mmu.translate(0, KERNEL_VA);
    expect(mmu.tlbEntries(0)).toBe(2);
    mmu.setCr3(0, pt.root);
    expect(mmu.tlbEntries(0)).toBe(1);
    mmu.translate(0, KERNEL_VA);
    expect(mmu.cpuStats(0).tlbHit).toBe(1n);
    // Without CR4.PGE the G bit is not honoured, and toggling PGE flushes everything.
    mmu.setCr4(0, CR4.PAE);
    expect(mmu.tlbEntries(0)).toBe(0);
    mmu.translate(0, KERNEL_VA);
    mmu.setCr3(0, pt.root);
    expect(mmu.tlbEntries(0)).toBe(0);
  });

  it("separates address spaces by PCID and honours the no-flush bit", () => {
    const { mmu, pt } = space();
    const [a] = pt.mapFresh(USER_VA, 1, RW_USER);
    const other = new PageTableBuilder(mmu);
    const [b] = other.mapFresh(USER_VA, 1, RW_USER);
    mmu.setCr3(0, 0n);
    mmu.setCr4(0, CR4.PAE | CR4.PGE | CR4.PCIDE);
    mmu.setCr3(0, pt.root | 1n);
    expect(pa(mmu.translate(0, USER_VA))).toBe(BigInt(a!) << 12n);
    mmu.setCr3(0, other.root | 2n);
    expect(pa(mmu.translate(0, USER_VA))).toBe(BigInt(b!) << 12n);
    // Back to PCID 1 without flushing: its entry is still there.
    mmu.setCr3(0, pt.root | 1n | CR3_NOFLUSH);
    expect(pa(mmu.translate(0, USER_VA))).toBe(BigInt(a!) << 12n);
    expect(mmu.cpuStats(0).tlbHit).toBe(1n);
    // A load without the no-flush bit drops that PCID's entries only.
    mmu.setCr3(0, pt.root | 1n);
    expect(mmu.tlbEntries(0)).toBe(1);
    // Setting PCIDE needs CR3[11:0] = 0; clearing it flushes all.
    mmu.setCr4(0, CR4.PAE | CR4.PGE);
    expect(mmu.tlbEntries(0)).toBe(0);
    mmu.setCr3(0, pt.root | 5n);
    expect(() => mmu.setCr4(0, CR4.PAE | CR4.PGE | CR4.PCIDE)).toThrow(/cr4.*refused/);
  });

  it("implements the four INVPCID types", () => {
    const { mmu, pt } = space();
    pt.mapFresh(USER_VA, 2, RW_USER);
    const k = mmu.allocFrame();
    pt.map(KERNEL_VA, BigInt(k) << 12n, PTE.RW | PTE.GLOBAL);
    mmu.setCr3(0, 0n);
    mmu.setCr4(0, CR4.PAE | CR4.PGE | CR4.PCIDE);
    const fill = () => {
      mmu.setCr3(0, pt.root | 3n | CR3_NOFLUSH);
      for (const va of [USER_VA, USER_VA + 4096n, KERNEL_VA]) mmu.translate(0, va);
    };
    fill();
    expect(mmu.tlbEntries(0)).toBe(3);
    mmu.invpcid(0, INVPCID.INDIVIDUAL_ADDRESS, 3, USER_VA);
    expect(mmu.tlbEntries(0)).toBe(2);
    mmu.invpcid(0, INVPCID.INDIVIDUAL_ADDRESS, 3, KERNEL_VA); // globals survive type 0
    expect(mmu.tlbEntries(0)).toBe(2);
    mmu.invpcid(0, INVPCID.SINGLE_CONTEXT, 3);
    expect(mmu.tlbEntries(0)).toBe(1);
    fill();
    mmu.invpcid(0, INVPCID.ALL_NON_GLOBAL, 0);
    expect(mmu.tlbEntries(0)).toBe(1);
    mmu.invpcid(0, INVPCID.ALL_INCLUDING_GLOBAL, 0);
    expect(mmu.tlbEntries(0)).toBe(0);
    expect(() => mmu.invpcid(0, 4, 0)).toThrow(/invpcid/);
    expect(() => mmu.invpcid(0, 0, 4096)).toThrow(/invpcid/);
  });

  it("caches 2 MiB pages as one entry and INVLPG of any address in them drops it", () => {
    const { mmu, pt } = space({ memory: "32MiB" });
    pt.map(USER_VA, 0x40_0000n, RW_USER, PAGE_SIZE_2M);
    const t = mmu.translate(0, USER_VA + 0x12_3456n);
    expect(t).toEqual({ ok: true, pa: 0x52_3456n, pageSize: PAGE_SIZE_2M });
    expect(pa(mmu.translate(0, USER_VA + 0x1f_f000n))).toBe(0x5f_f000n);
    expect(mmu.cpuStats(0).tlbHit).toBe(1n);
    mmu.invlpg(0, USER_VA + 0x1f_f000n);
    expect(mmu.tlbEntries(0)).toBe(0);
  });

  it("keeps each CPU's TLB its own", () => {
    const { mmu, pt } = space({ cpus: 2 });
    pt.mapFresh(USER_VA, 1, RW_USER);
    mmu.translate(0, USER_VA);
    expect([mmu.tlbEntries(0), mmu.tlbEntries(1)]).toEqual([1, 0]);
    mmu.invlpg(1, USER_VA);
    expect(mmu.tlbEntries(0)).toBe(1);
  });

  it("replaces round robin within a set without losing translations", () => {
    const { mmu, pt } = space();
    // 64 sets: pages 64 apart share a set; map 6 of them into a 4-way set.
    const pfns: number[] = [];
    for (let i = 0n; i < 6n; i++) pfns.push(...pt.mapFresh(USER_VA + i * 64n * 4096n, 1, RW_USER));
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 6; i++) expect(pa(mmu.translate(0, USER_VA + BigInt(i) * 64n * 4096n))).toBe(BigInt(pfns[i]!) << 12n);
    }
    expect(mmu.tlbEntries(0)).toBe(4);
  });
});
