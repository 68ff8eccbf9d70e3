// The emulated machine and the two page-table layouts the page-walk benchmark (bench/walk.ts) runs
// every walker over. One machine, one PML4 (CR3 of CPU 0), two regions under it:
//
//   "hot":  a 2 MiB region of 4 KiB pages (512 PTEs). Its walks touch 4 tables (the PML4, and its
//           own PDPT, PD and PT): 16 KiB of tables, cache-resident.
//   "1GiB": a 1 GiB region of 4 KiB pages (262144 PTEs): one PDPT, one PD and 512 PTs, i.e. 2 MiB
//           of tables, more than a core's L2.
//
// The machine has frameData: false: only the first `backedMemory` bytes of RAM carry contents (the
// tables live there); the mapped data frames are metadata-only frames (highmem), allocated from the
// page allocator but with no host bytes behind them. Walkers never read data, only entries.
// Non-leaf entries are P|RW|US (the builder's TABLE_FLAGS), leaves P|RW|XD (supervisor); every A bit
// starts clear, so the first walk of each page sets it with a compare-and-swap (primeAccessed()).
import { Mmu } from "../../src/mmu.js";
import { PageTableBuilder, TABLE_FLAGS } from "../../src/pagetable.js";
import { PTE } from "../../src/arch/x86.js";
import type { MachineOptions } from "../../src/options.js";

export const MACHINE_OPTIONS: MachineOptions = { cpus: 1, memory: "1056MiB", frameData: false, backedMemory: "16MiB" };

/** Leaf flags (P is added by the builder / below): a writable supervisor data page. */
export const LEAF_FLAGS = PTE.RW | PTE.NX;

export const HOT_BASE = 0x0000_7f12_3440_0000n; // 2 MiB aligned, PML4 index 254
export const BIG_BASE = 0x0000_4000_0000_0000n; // 1 GiB aligned, PML4 index 128

export interface WalkLayout {
  name: "hot" | "1GiB";
  /** First linear address of the region. */
  vaBase: bigint;
  /** 4 KiB pages mapped (a power of two: the kernels' span). */
  spanPages: number;
  /** PFNs of the paging structures a walk of this region can touch (the PML4 included). */
  tableFrames: number[];
  description: string;
}

export interface BenchMachine {
  mmu: Mmu;
  /** Physical address of the PML4 (CPU 0's CR3). */
  root: bigint;
  hot: WalkLayout;
  big: WalkLayout;
  /** Milliseconds spent building the tables. */
  buildMs: number;
}

/** PFN of the table that entry ep (a physical address) points to. */
function childPfn(mmu: Mmu, ep: bigint): number {
  return Number((mmu.readPhys64(ep) & PTE.ADDR_MASK) >> 12n);
}

/** Create the machine, build both layouts under one PML4 and load it into CPU 0's CR3. */
export function createBenchMachine(): BenchMachine {
  const t0 = performance.now();
  const mmu = Mmu.create(MACHINE_OPTIONS);
  const b = new PageTableBuilder(mmu);
  const rootPfn = Number(b.root >> 12n);

  // hot: 512 pages through the builder (it allocates the PDPT, PD and PT).
  const HOT_PAGES = 512;
  b.mapFresh(HOT_BASE, HOT_PAGES, LEAF_FLAGS);
  const hotPdpt = childPfn(mmu, b.entryAddress(HOT_BASE, 4));
  const hotPd = childPfn(mmu, b.entryAddress(HOT_BASE, 3));
  const hotPt = childPfn(mmu, b.entryAddress(HOT_BASE, 2));

  // 1GiB: the builder makes the PDPT and PD; the 512 PTs and 262144 PTEs are written directly.
  const BIG_PAGES = 512 * 512;
  const pd = b.entryAddress(BIG_BASE, 2); // entry 0 of the PD = the PD's own address
  const bigPdpt = childPfn(mmu, b.entryAddress(BIG_BASE, 4));
  const bigPd = Number(pd >> 12n);
  const pts: number[] = [];
  for (let i = 0; i < 512; i++) {
    const pt = mmu.allocFrame(); // zeroed, with contents
    pts.push(pt);
    mmu.writePhys64(pd + BigInt(i * 8), (BigInt(pt) << 12n) | TABLE_FLAGS);
  }
  const leaf = LEAF_FLAGS | PTE.PRESENT;
  for (let i = 0; i < 512; i++) {
    const ptPa = BigInt(pts[i]!) << 12n;
    for (let j = 0; j < 512; j++) {
      const data = mmu.allocFrame({ zero: false, highmem: true });
      mmu.writePhys64(ptPa + BigInt(j * 8), (BigInt(data) << 12n) | leaf);
    }
  }

  mmu.setCr3(0, b.root);
  const hot: WalkLayout = {
    name: "hot", vaBase: HOT_BASE, spanPages: HOT_PAGES,
    tableFrames: [rootPfn, hotPdpt, hotPd, hotPt],
    description: "2 MiB of 4 KiB pages: 512 PTEs, 4 tables (16 KiB) touched",
  };
  const big: WalkLayout = {
    name: "1GiB", vaBase: BIG_BASE, spanPages: BIG_PAGES,
    tableFrames: [rootPfn, bigPdpt, bigPd, ...pts],
    description: "1 GiB of 4 KiB pages: 262144 PTEs in 512 PTs (2 MiB of tables)",
  };
  return { mmu, root: b.root, hot, big, buildMs: performance.now() - t0 };
}

/**
 * Walk every page of the layout once in the Wasm core (sequential, full walks) so every A bit is
 * set before anything is measured: all walkers then see the steady state (no compare-and-swap).
 * Returns the number of A bits the walk set.
 */
export function primeAccessed(m: BenchMachine, layout: WalkLayout): number {
  const before = m.mmu.cpuStats(0).setAccessed ?? 0n;
  const r = m.mmu.call("cpu_bench_translate", 0, layout.vaBase, layout.spanPages, layout.spanPages, 1, 2, 0);
  if (BigInt(r) < 0n) throw new Error(`priming the ${layout.name} layout faulted: ${r}`);
  return Number((m.mmu.cpuStats(0).setAccessed ?? 0n) - before);
}
