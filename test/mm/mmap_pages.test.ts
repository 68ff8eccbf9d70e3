// The vma operations with real page tables (mm-b's faults, zap, free_pgtables, change_protection):
// munmap and exit give every frame back (pages and page tables), mprotect rewrites the PTEs, madvise
// (MADV_DONTNEED) drops the pages but keeps the vma, brk shrink unmaps the heap's pages.
import { describe, it, expect } from "vitest";
import { Mmu, readVmas } from "../../src/index.js";

const PAGE = 4096n;
const R = 1, W = 2;
const MAP_PRIVATE = 2, MAP_FIXED = 0x10, MAP_ANON = 0x20;
const BASE = 0x4000_0000n;

function boot(): { mmu: Mmu; mm: number } {
  const mmu = Mmu.create({ memory: "16MiB", debug: true, cpus: 2 });
  const mm = Number(mmu.call("cpu_mm_alloc", 0)) >>> 0;
  expect(mm).not.toBe(0);
  expect(mmu.call("cpu_switch_mm", 0, mm)).toBe(0);
  return { mmu, mm };
}

const touch = (mmu: Mmu, mm: number, addr: bigint, write: boolean): bigint => BigInt(mmu.call("cpu_test_user_access", 0, mm, addr, write ? 1 : 0));
const pte = (mmu: Mmu, mm: number, addr: bigint): bigint => BigInt.asUintN(64, BigInt(mmu.call("mm_test_pte", mm, addr)));

describe("vma operations on populated page tables", () => {
  it("munmap frees the pages and the page tables; mmput frees everything else", () => {
    const { mmu, mm } = boot();
    const free0 = mmu.freeFrames();
    expect(BigInt(mmu.call("cpu_mmap", 0, mm, BASE, 8n * PAGE, R | W, MAP_PRIVATE | MAP_ANON | MAP_FIXED, 0, 0))).toBe(BASE);
    for (let i = 0n; i < 8n; i++) expect(touch(mmu, mm, BASE + i * PAGE, true) >= 0n).toBe(true);
    expect(mmu.freeFrames()).toBeLessThanOrEqual(free0 - 8 - 3); // 8 pages + PDPT, PD, PT
    expect(readVmas(mmu, mm)[0]!.anonVma).not.toBe(0);          // the first fault's anon_vma_prepare
    expect(mmu.call("cpu_munmap", 0, mm, BASE + 2n * PAGE, 2n * PAGE)).toBe(0);
    expect(pte(mmu, mm, BASE + 2n * PAGE)).toBe(0n);
    expect(pte(mmu, mm, BASE + 4n * PAGE) & 1n).toBe(1n);
    expect(readVmas(mmu, mm).length).toBe(2);
    expect(mmu.call("cpu_munmap", 0, mm, BASE, 8n * PAGE)).toBe(0);
    // Every page and every table below the PML4 is back.
    expect(mmu.freeFrames()).toBe(free0);
    expect(mmu.call("cpu_leave_mm", 0)).toBe(0);
  });

  it("mprotect makes the PTEs read-only and back; madvise(DONTNEED) drops pages but keeps the vma", () => {
    const { mmu, mm } = boot();
    expect(BigInt(mmu.call("cpu_mmap", 0, mm, BASE, 4n * PAGE, R | W, MAP_PRIVATE | MAP_ANON | MAP_FIXED, 0, 0))).toBe(BASE);
    for (let i = 0n; i < 4n; i++) touch(mmu, mm, BASE + i * PAGE, true);
    expect(pte(mmu, mm, BASE + PAGE) & 2n).toBe(2n);
    expect(mmu.call("cpu_mprotect", 0, mm, BASE + PAGE, 2n * PAGE, R)).toBe(0);
    expect(pte(mmu, mm, BASE) & 2n).toBe(2n);
    expect(pte(mmu, mm, BASE + PAGE) & 2n).toBe(0n);
    expect(pte(mmu, mm, BASE + 2n * PAGE) & 2n).toBe(0n);
    expect(pte(mmu, mm, BASE + 3n * PAGE) & 2n).toBe(2n);
    expect(touch(mmu, mm, BASE + PAGE, false) >= 0n).toBe(true);
    expect(readVmas(mmu, mm).length).toBe(3);
    const free1 = mmu.freeFrames();
    expect(mmu.call("cpu_madvise", 0, mm, BASE, 2n * PAGE, 4)).toBe(0);
    expect(pte(mmu, mm, BASE)).toBe(0n);
    expect(pte(mmu, mm, BASE + PAGE)).toBe(0n);
    expect(pte(mmu, mm, BASE + 2n * PAGE) & 1n).toBe(1n);
    expect(mmu.freeFrames()).toBe(free1 + 2);
    expect(readVmas(mmu, mm).length).toBe(3);
    // A new touch faults a fresh zero page in.
    expect(touch(mmu, mm, BASE, true) >= 0n).toBe(true);
    expect(mmu.call("cpu_leave_mm", 0)).toBe(0);
  });

  it("brk shrink unmaps the heap's pages, and mmput of the last user frees all frames", () => {
    const mmu = Mmu.create({ memory: "16MiB", debug: true, cpus: 2 });
    const free0 = mmu.freeFrames();
    const mm = Number(mmu.call("cpu_mm_alloc", 1)) >>> 0;
    expect(mmu.call("cpu_switch_mm", 0, mm)).toBe(0);
    const START = 0x60_0000n;
    mmu.call("cpu_mm_setup_brk", 0, mm, START);
    expect(BigInt(mmu.call("cpu_brk", 0, mm, START + 6n * PAGE))).toBe(START + 6n * PAGE);
    for (let i = 0n; i < 6n; i++) touch(mmu, mm, START + i * PAGE, true);
    const free1 = mmu.freeFrames();
    expect(BigInt(mmu.call("cpu_brk", 0, mm, START + 2n * PAGE))).toBe(START + 2n * PAGE);
    expect(mmu.freeFrames()).toBe(free1 + 4);
    expect(pte(mmu, mm, START + 2n * PAGE)).toBe(0n);
    expect(pte(mmu, mm, START + PAGE) & 1n).toBe(1n);
    expect(mmu.call("cpu_leave_mm", 0)).toBe(0);
    expect(mmu.call("cpu_mmput", 1, mm)).toBe(0);
    expect(mmu.freeFrames()).toBe(free0);
  });
});
