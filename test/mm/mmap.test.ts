// The vma set of an mm (mm/vma.ts, mm/mmap.ts, mm/mprotect_vma.ts, mm/madvise.ts, mm/mm_struct.ts):
// placement, vma_merge's cases through mmap and mprotect, splits, MAP_FIXED, brk grow and shrink,
// error paths that leave the set unchanged, the locks vma_adjust takes with and without the 2009
// switch, and the /proc/pid/maps text. After every operation the list, the tree and map_count are
// checked against each other.
import { describe, it, expect } from "vitest";
import { Mmu, readVmas, formatMaps } from "../../src/index.js";
import { constant, type CoreExports } from "../../src/core/abi.js";

const PAGE = 4096n;
const R = 1, W = 2, X = 4;
const MAP_SHARED = 1, MAP_PRIVATE = 2, MAP_FIXED = 0x10, MAP_ANON = 0x20;
const EINVAL = -22, ENOMEM = -12, ENODEV = -19;
const TASK_SIZE = 0x7fff_ffff_f000n;
const MMAP_BASE = TASK_SIZE - (128n << 20n);

function boot(): { mmu: Mmu; mm: number } {
  const mmu = Mmu.create({ memory: "16MiB", debug: true, cpus: 2 });
  const mm = Number(mmu.call("cpu_mm_alloc", 0)) >>> 0;
  expect(mm).not.toBe(0);
  return { mmu, mm };
}

const c = (mmu: Mmu, n: keyof CoreExports): number => constant(mmu.exports, n);

/** Check list, tree and count agree; returns the vmas as [start, end, flags & rwxs] tuples in pages. */
function layout(mmu: Mmu, mm: number): [number, number, string][] {
  const dv = new DataView(mmu.memory.buffer);
  const vmas = readVmas(mmu, mm);
  expect(dv.getUint32(mm + c(mmu, "MM_MAP_COUNT"), true)).toBe(vmas.length);
  let prev = 0;
  for (let i = 0; i < vmas.length; i++) {
    const v = vmas[i]!;
    expect(v.start < v.end).toBe(true);
    expect(dv.getUint32(v.addr + c(mmu, "VMA_PREV"), true)).toBe(prev);
    expect(dv.getUint32(v.addr + c(mmu, "VMA_MM"), true)).toBe(mm);
    if (i > 0) expect(vmas[i - 1]!.end <= v.start).toBe(true);
    prev = v.addr;
  }
  const rbOff = c(mmu, "VMA_RB");
  const inorder: number[] = [];
  for (let n = Number(mmu.call("rb_first", mm + c(mmu, "MM_RB"))) >>> 0; n; n = Number(mmu.call("rb_next", n)) >>> 0) inorder.push(n - rbOff);
  expect(inorder).toEqual(vmas.map((v) => v.addr));
  const fl = (f: number): string => (f & R ? "r" : "-") + (f & W ? "w" : "-") + (f & X ? "x" : "-") + (f & 8 ? "s" : "p");
  return vmas.map((v) => [Number(v.start / PAGE), Number(v.end / PAGE), fl(v.flags)]);
}

function mmap(mmu: Mmu, mm: number, addr: bigint, pages: number, prot: number, flags: number, file = 0, pgoff = 0): bigint {
  return BigInt(mmu.call("cpu_mmap", 0, mm, addr, BigInt(pages) * PAGE, prot, flags, file, pgoff));
}

const P = (n: bigint): number => Number(n / PAGE);
const BASE = 0x10000n; // pages 16.. for MAP_FIXED layouts

describe("get_unmapped_area and mmap placement", () => {
  it("places mappings top-down below mmap_base and merges adjacent anonymous ones", () => {
    const { mmu, mm } = boot();
    const a = mmap(mmu, mm, 0n, 4, R | W, MAP_PRIVATE | MAP_ANON);
    expect(a).toBe(MMAP_BASE - 4n * PAGE);
    const b = mmap(mmu, mm, 0n, 2, R | W, MAP_PRIVATE | MAP_ANON);
    expect(b).toBe(a - 2n * PAGE);
    // Same flags, contiguous pgoff (addr >> 12): vma_merge case 3 grows the first vma down.
    expect(layout(mmu, mm)).toEqual([[P(b), P(a) + 4, "rw-p"]]);
    const cc = mmap(mmu, mm, 0n, 1, R, MAP_PRIVATE | MAP_ANON);
    expect(cc).toBe(b - PAGE);
    expect(layout(mmu, mm)).toEqual([[P(cc), P(b), "r--p"], [P(b), P(a) + 4, "rw-p"]]);
  });

  it("takes a free hint, skips a busy one, and fills the highest hole that fits", () => {
    const { mmu, mm } = boot();
    expect(mmap(mmu, mm, 0x4000_0000n, 2, R, MAP_PRIVATE | MAP_ANON)).toBe(0x4000_0000n);
    // Busy hint: top-down from mmap_base.
    expect(mmap(mmu, mm, 0x4000_1000n, 2, R, MAP_PRIVATE | MAP_ANON)).toBe(MMAP_BASE - 2n * PAGE);
    // A hole of 3 pages just below the top mapping: a 3-page request fits there, a 4-page one goes below.
    const low = mmap(mmu, mm, MMAP_BASE - 7n * PAGE, 2, R | X, MAP_PRIVATE | MAP_ANON | MAP_FIXED);
    expect(low).toBe(MMAP_BASE - 7n * PAGE);
    expect(mmap(mmu, mm, 0n, 4, R | W | X, MAP_PRIVATE | MAP_ANON)).toBe(MMAP_BASE - 11n * PAGE);
    expect(mmap(mmu, mm, 0n, 3, R | W | X, MAP_PRIVATE | MAP_ANON)).toBe(MMAP_BASE - 5n * PAGE);
    layout(mmu, mm);
  });

  it("refuses what cannot be mapped, leaving the set unchanged", () => {
    const { mmu, mm } = boot();
    mmap(mmu, mm, BASE, 4, R | W, MAP_PRIVATE | MAP_ANON | MAP_FIXED);
    const before = layout(mmu, mm);
    expect(mmap(mmu, mm, 0n, 0, R, MAP_PRIVATE | MAP_ANON)).toBe(BigInt(EINVAL));              // len 0
    expect(mmap(mmu, mm, 0n, 1, R, MAP_ANON)).toBe(BigInt(EINVAL));                            // no type
    expect(mmap(mmu, mm, BASE + 1n, 1, R, MAP_PRIVATE | MAP_ANON | MAP_FIXED)).toBe(BigInt(EINVAL)); // misaligned
    expect(mmap(mmu, mm, 0n, 1, R, MAP_PRIVATE)).toBe(BigInt(EINVAL));                         // no file
    expect(BigInt(mmu.call("cpu_mmap", 0, mm, 0n, TASK_SIZE + PAGE, R, MAP_PRIVATE | MAP_ANON, 0, 0))).toBe(BigInt(ENOMEM));
    expect(BigInt(mmu.call("cpu_mmap", 0, mm, TASK_SIZE - PAGE, 2n * PAGE, R, MAP_PRIVATE | MAP_ANON | MAP_FIXED, 0, 0))).toBe(BigInt(ENOMEM));
    expect(mmap(mmu, mm, 0n, 1, R, MAP_SHARED | MAP_ANON)).toBe(BigInt(ENODEV)); // shmem: not yet (TODO(integrate))
    expect(BigInt(mmu.call("cpu_mmap", 9, mm, 0n, PAGE, R, MAP_PRIVATE | MAP_ANON, 0, 0))).toBe(BigInt(EINVAL)); // bad CPU
    expect(layout(mmu, mm)).toEqual(before);
  });
});

describe("MAP_FIXED and munmap", () => {
  it("MAP_FIXED over existing mappings unmaps what was there", () => {
    const { mmu, mm } = boot();
    const b = P(BASE);
    mmap(mmu, mm, BASE, 6, R | W, MAP_PRIVATE | MAP_ANON | MAP_FIXED);
    expect(mmap(mmu, mm, BASE + 2n * PAGE, 2, R, MAP_PRIVATE | MAP_ANON | MAP_FIXED)).toBe(BASE + 2n * PAGE);
    expect(layout(mmu, mm)).toEqual([[b, b + 2, "rw-p"], [b + 2, b + 4, "r--p"], [b + 4, b + 6, "rw-p"]]);
    // Over two vmas and a hole beyond them.
    expect(mmap(mmu, mm, BASE + 3n * PAGE, 5, R | X, MAP_PRIVATE | MAP_ANON | MAP_FIXED)).toBe(BASE + 3n * PAGE);
    expect(layout(mmu, mm)).toEqual([[b, b + 2, "rw-p"], [b + 2, b + 3, "r--p"], [b + 3, b + 8, "r-xp"]]);
    // Same flags again over the middle: merges back with both neighbours (case 1 after the unmap).
    expect(mmap(mmu, mm, BASE + 2n * PAGE, 1, R | W, MAP_PRIVATE | MAP_ANON | MAP_FIXED)).toBe(BASE + 2n * PAGE);
    expect(layout(mmu, mm)).toEqual([[b, b + 3, "rw-p"], [b + 3, b + 8, "r-xp"]]);
  });

  it("munmap splits at both ends, removes whole vmas, ignores holes, and checks its arguments", () => {
    const { mmu, mm } = boot();
    const b = P(BASE);
    mmap(mmu, mm, BASE, 10, R | W, MAP_PRIVATE | MAP_ANON | MAP_FIXED);
    expect(mmu.call("cpu_munmap", 0, mm, BASE + 3n * PAGE, 2n * PAGE)).toBe(0);
    expect(layout(mmu, mm)).toEqual([[b, b + 3, "rw-p"], [b + 5, b + 10, "rw-p"]]);
    expect(mmu.call("cpu_munmap", 0, mm, BASE + 2n * PAGE, 4n * PAGE)).toBe(0); // across the hole
    expect(layout(mmu, mm)).toEqual([[b, b + 2, "rw-p"], [b + 6, b + 10, "rw-p"]]);
    expect(mmu.call("cpu_munmap", 0, mm, BASE + 100n * PAGE, PAGE)).toBe(0);   // nothing there
    const before = layout(mmu, mm);
    expect(mmu.call("cpu_munmap", 0, mm, BASE + 1n, PAGE)).toBe(EINVAL);
    expect(mmu.call("cpu_munmap", 0, mm, BASE, 0n)).toBe(EINVAL);
    expect(mmu.call("cpu_munmap", 0, mm, TASK_SIZE, PAGE)).toBe(EINVAL);
    expect(mmu.call("cpu_munmap", 0, mm, BASE, TASK_SIZE)).toBe(EINVAL);
    expect(layout(mmu, mm)).toEqual(before);
    expect(mmu.call("cpu_munmap", 0, mm, 0n, TASK_SIZE)).toBe(0); // everything
    expect(layout(mmu, mm)).toEqual([]);
  });

  it("keeps mmap_cache valid: find_vma after munmap of the cached vma", () => {
    const { mmu, mm } = boot();
    mmap(mmu, mm, BASE, 2, R, MAP_PRIVATE | MAP_ANON | MAP_FIXED);
    mmap(mmu, mm, BASE + 4n * PAGE, 2, R | W, MAP_PRIVATE | MAP_ANON | MAP_FIXED);
    const v = Number(mmu.call("cpu_find_vma", 0, mm, BASE)) >>> 0;
    expect(v).not.toBe(0);
    mmu.call("cpu_munmap", 0, mm, BASE, 2n * PAGE);
    const w = Number(mmu.call("cpu_find_vma", 0, mm, BASE)) >>> 0;
    expect(readVmas(mmu, mm).map((x) => x.addr)).toEqual([w]);
    expect(mmu.call("cpu_find_vma", 0, mm, BASE + 6n * PAGE)).toBe(0);
  });
});

describe("mprotect and vma_merge's cases", () => {
  const fixed = MAP_PRIVATE | MAP_ANON | MAP_FIXED;
  const b = P(BASE);

  it("splits a vma in three and merges it back (case 1 through mprotect's case 6)", () => {
    const { mmu, mm } = boot();
    mmap(mmu, mm, BASE, 6, R | W, fixed);
    expect(mmu.call("cpu_mprotect", 0, mm, BASE + 2n * PAGE, 2n * PAGE, R)).toBe(0);
    expect(layout(mmu, mm)).toEqual([[b, b + 2, "rw-p"], [b + 2, b + 4, "r--p"], [b + 4, b + 6, "rw-p"]]);
    expect(mmu.call("cpu_mprotect", 0, mm, BASE + 2n * PAGE, 2n * PAGE, R | W)).toBe(0);
    expect(layout(mmu, mm)).toEqual([[b, b + 6, "rw-p"]]);
  });

  // (Writable private vmas carry VM_ACCOUNT, which keeps them from merging with never-writable ones
  // after mprotect, as in Linux: the cases below use read-only and executable vmas.)
  it("case 4: the range's end moves the boundary down into next", () => {
    const { mmu, mm } = boot();
    mmap(mmu, mm, BASE, 4, R | X, fixed);
    mmap(mmu, mm, BASE + 4n * PAGE, 4, R, fixed);
    expect(mmu.call("cpu_mprotect", 0, mm, BASE + 2n * PAGE, 2n * PAGE, R)).toBe(0);
    expect(layout(mmu, mm)).toEqual([[b, b + 2, "r-xp"], [b + 2, b + 8, "r--p"]]);
  });

  it("case 5: the range's start moves the boundary up into prev", () => {
    const { mmu, mm } = boot();
    mmap(mmu, mm, BASE, 4, R, fixed);
    mmap(mmu, mm, BASE + 4n * PAGE, 4, R | X, fixed);
    expect(mmu.call("cpu_mprotect", 0, mm, BASE + 4n * PAGE, 2n * PAGE, R)).toBe(0);
    expect(layout(mmu, mm)).toEqual([[b, b + 6, "r--p"], [b + 6, b + 8, "r-xp"]]);
  });

  it("cases 7 and 8: a whole vma joins prev or next", () => {
    const { mmu, mm } = boot();
    mmap(mmu, mm, BASE, 2, R, fixed);
    mmap(mmu, mm, BASE + 2n * PAGE, 2, X, fixed);
    mmap(mmu, mm, BASE + 4n * PAGE, 2, R | X, fixed);
    expect(mmu.call("cpu_mprotect", 0, mm, BASE + 2n * PAGE, 2n * PAGE, R)).toBe(0); // case 7
    expect(layout(mmu, mm)).toEqual([[b, b + 4, "r--p"], [b + 4, b + 6, "r-xp"]]);
    mmap(mmu, mm, BASE + 6n * PAGE, 2, X, fixed);
    mmap(mmu, mm, BASE + 8n * PAGE, 2, R, fixed);
    expect(mmu.call("cpu_mprotect", 0, mm, BASE + 6n * PAGE, 2n * PAGE, R)).toBe(0); // case 8
    expect(layout(mmu, mm)).toEqual([[b, b + 4, "r--p"], [b + 4, b + 6, "r-xp"], [b + 6, b + 10, "r--p"]]);
    // And a writable one keeps VM_ACCOUNT: made read-only it stays apart.
    mmap(mmu, mm, BASE + 10n * PAGE, 2, R | W, fixed);
    expect(mmu.call("cpu_mprotect", 0, mm, BASE + 10n * PAGE, 2n * PAGE, R)).toBe(0);
    expect(layout(mmu, mm).length).toBe(4);
  });

  it("case 2 and 3 through mmap: a new range joins prev or next only", () => {
    const { mmu, mm } = boot();
    mmap(mmu, mm, BASE, 2, R, fixed);
    mmap(mmu, mm, BASE + 2n * PAGE, 1, R, fixed); // case 2
    expect(layout(mmu, mm)).toEqual([[b, b + 3, "r--p"]]);
    mmap(mmu, mm, BASE + 10n * PAGE, 2, R, fixed);
    mmap(mmu, mm, BASE + 9n * PAGE, 1, R, fixed); // case 3
    expect(layout(mmu, mm)).toEqual([[b, b + 3, "r--p"], [b + 9, b + 12, "r--p"]]);
  });

  it("does not merge vmas with different anon_vmas, and refuses bad arguments without change", () => {
    const { mmu, mm } = boot();
    mmap(mmu, mm, BASE, 2, R, fixed);
    mmap(mmu, mm, BASE + 4n * PAGE, 2, R, fixed);
    const [v1, v2] = readVmas(mmu, mm);
    expect(mmu.call("cpu_anon_vma_prepare", 0, v1!.addr)).toBe(0);
    expect(mmu.call("cpu_anon_vma_prepare", 0, v2!.addr)).toBe(0);
    expect(readVmas(mmu, mm)[0]!.anonVma).not.toBe(readVmas(mmu, mm)[1]!.anonVma);
    mmap(mmu, mm, BASE + 2n * PAGE, 2, R, fixed); // joins prev (case 2), cannot bridge to next (case 1 refused)
    expect(layout(mmu, mm)).toEqual([[b, b + 4, "r--p"], [b + 4, b + 6, "r--p"]]);
    const before = layout(mmu, mm);
    expect(mmu.call("cpu_mprotect", 0, mm, BASE + 1n, PAGE, R)).toBe(EINVAL);
    expect(mmu.call("cpu_mprotect", 0, mm, BASE, PAGE, 0x100)).toBe(EINVAL);
    expect(mmu.call("cpu_mprotect", 0, mm, BASE + 20n * PAGE, PAGE, R | W)).toBe(ENOMEM); // unmapped
    expect(mmu.call("cpu_mprotect", 0, mm, BASE - PAGE, 2n * PAGE, R | W)).toBe(ENOMEM);  // starts in a hole
    expect(layout(mmu, mm)).toEqual(before);
    expect(mmu.call("cpu_mprotect", 0, mm, BASE, 0n, R | W)).toBe(0);
  });

  it("madvise(MADV_DONTNEED) checks the range as Linux does", () => {
    const { mmu, mm } = boot();
    mmap(mmu, mm, BASE, 2, R, fixed);
    mmap(mmu, mm, BASE + 4n * PAGE, 2, R, fixed);
    expect(mmu.call("cpu_madvise", 0, mm, BASE, 2n * PAGE, 4)).toBe(0);
    expect(mmu.call("cpu_madvise", 0, mm, BASE, 6n * PAGE, 4)).toBe(ENOMEM); // the hole
    expect(mmu.call("cpu_madvise", 0, mm, BASE + 1n, PAGE, 4)).toBe(EINVAL);
    expect(mmu.call("cpu_madvise", 0, mm, BASE, PAGE, 99)).toBe(EINVAL);
    expect(mmu.call("cpu_madvise", 0, mm, BASE, 0n, 4)).toBe(0);
    expect(mmu.call("cpu_madvise", 0, mm, BASE + 10n * PAGE, PAGE, 4)).toBe(ENOMEM);
  });
});

describe("file mappings", () => {
  it("keeps the i_mmap interval tree in step with splits, merges and unmaps", () => {
    const { mmu, mm } = boot();
    const file = Number(mmu.call("cpu_test_file_new", 0, 64, 42)) >>> 0;
    const root = file + c(mmu, "AS_I_MMAP");
    const query = (a: bigint, z: bigint): [number, number][] => {
      const out: [number, number][] = [];
      for (let v = Number(mmu.call("vma_interval_tree_iter_first", root, a, z)) >>> 0; v; v = Number(mmu.call("vma_interval_tree_iter_next", v, a, z)) >>> 0) {
        const dv = new DataView(mmu.memory.buffer);
        out.push([dv.getUint32(v + c(mmu, "VMA_PGOFF"), true), P(dv.getBigUint64(v + c(mmu, "VMA_START"), true))]);
      }
      return out;
    };
    const b = P(BASE);
    expect(mmap(mmu, mm, BASE, 8, R, MAP_SHARED | MAP_FIXED, file, 10)).toBe(BASE);
    expect(query(0n, 100n)).toEqual([[10, b]]);
    expect(mmu.call("cpu_mprotect", 0, mm, BASE + 3n * PAGE, 2n * PAGE, R | W)).toBe(0);
    expect(query(0n, 100n)).toEqual([[10, b], [13, b + 3], [15, b + 5]]);
    expect(query(14n, 14n)).toEqual([[13, b + 3]]);
    expect(layout(mmu, mm)).toEqual([[b, b + 3, "r--s"], [b + 3, b + 5, "rw-s"], [b + 5, b + 8, "r--s"]]);
    expect(mmu.call("cpu_mprotect", 0, mm, BASE + 3n * PAGE, 2n * PAGE, R)).toBe(0);
    expect(query(0n, 100n)).toEqual([[10, b]]);
    // A private mapping of the same file elsewhere; the tree holds both.
    expect(mmap(mmu, mm, BASE + 32n * PAGE, 4, R, MAP_PRIVATE | MAP_FIXED, file, 12)).toBe(BASE + 32n * PAGE);
    expect(query(12n, 12n)).toEqual([[10, b], [12, b + 32]]);
    expect(query(16n, 20n)).toEqual([[10, b]]);
    expect(query(18n, 20n)).toEqual([]);
    expect(mmu.call("cpu_munmap", 0, mm, BASE, 4n * PAGE)).toBe(0);
    expect(query(0n, 100n)).toEqual([[12, b + 32], [14, b + 4]]);
    const dv = new DataView(mmu.memory.buffer);
    expect(formatMaps(mmu, mm)).toBe(
      `${(BASE + 4n * PAGE).toString(16).padStart(8, "0")}-${(BASE + 8n * PAGE).toString(16).padStart(8, "0")} r--s 0000e000 00:01 42`.padEnd(73) + "/mmemu/file42\n" +
      `${(BASE + 32n * PAGE).toString(16).padStart(8, "0")}-${(BASE + 36n * PAGE).toString(16).padStart(8, "0")} r--p 0000c000 00:01 42`.padEnd(73) + "/mmemu/file42\n");
    expect(dv.getUint32(file + c(mmu, "AS_I_MMAP"), true)).not.toBe(0);
    expect(mmu.call("cpu_munmap", 0, mm, 0n, TASK_SIZE)).toBe(0);
    expect(dv.getUint32(file + c(mmu, "AS_I_MMAP"), true)).toBe(0);
  });
});

describe("brk", () => {
  const START = 0x0060_0000n;

  it("grows by extending the heap vma and shrinks with munmap, leaving exactly the expected vmas", () => {
    const { mmu, mm } = boot();
    expect(mmu.call("cpu_mm_setup_brk", 0, mm, START)).toBe(0);
    const brk = (v: bigint): bigint => BigInt(mmu.call("cpu_brk", 0, mm, v));
    expect(brk(0n)).toBe(START); // query
    expect(brk(START + 100n)).toBe(START + 100n);
    expect(layout(mmu, mm)).toEqual([[P(START), P(START) + 1, "rw-p"]]);
    expect(brk(START + 5n * PAGE + 1n)).toBe(START + 5n * PAGE + 1n);
    expect(layout(mmu, mm)).toEqual([[P(START), P(START) + 6, "rw-p"]]);
    expect(brk(START + 2n * PAGE)).toBe(START + 2n * PAGE);
    expect(layout(mmu, mm)).toEqual([[P(START), P(START) + 2, "rw-p"]]);
    expect(brk(START - PAGE)).toBe(START + 2n * PAGE); // below start_brk: refused
    // A mapping just above: growing into it (or to one page below it) is refused.
    mmap(mmu, mm, START + 4n * PAGE, 1, R, MAP_PRIVATE | MAP_ANON | MAP_FIXED);
    expect(brk(START + 3n * PAGE + 1n)).toBe(START + 2n * PAGE);
    expect(brk(START + 3n * PAGE)).toBe(START + 3n * PAGE);
    expect(layout(mmu, mm)).toEqual([[P(START), P(START) + 3, "rw-p"], [P(START) + 4, P(START) + 5, "r--p"]]);
    expect(formatMaps(mmu, mm).split("\n")[0]).toBe("00600000-00603000 rw-p 00000000 00:00 0".padEnd(73) + "[heap]");
    expect(brk(START)).toBe(START);
    expect(layout(mmu, mm)).toEqual([[P(START) + 4, P(START) + 5, "r--p"]]);
  });

  it("takes the anon_vma lock on brk growth only without Lee Schermerhorn's 2009 change", () => {
    const ALWAYS = 4; // MMC_VMA_ADJUST_ANON_ALWAYS
    const { mmu, mm } = boot();
    mmu.call("cpu_mm_setup_brk", 0, mm, START);
    mmu.call("cpu_brk", 0, mm, START + PAGE);
    const heap = readVmas(mmu, mm)[0]!;
    expect(mmu.call("cpu_anon_vma_prepare", 0, heap.addr)).toBe(0);
    const anonWrites = (): number => mmu.lockStats(true).find((s) => s.class === "anon_vma")!.acquisitions.write;
    const mmapSem = (): number => mmu.lockStats(true).find((s) => s.class === "mmap_sem")!.acquisitions.write;

    expect(c(mmu, "MMC_VMA_ADJUST_ANON_ALWAYS")).toBe(ALWAYS);
    expect(mmu.call("mm_config_get")).toBe(0);
    let a0 = anonWrites(), m0 = mmapSem();
    for (let i = 2; i <= 5; i++) expect(BigInt(mmu.call("cpu_brk", 0, mm, START + BigInt(i) * PAGE))).toBe(START + BigInt(i) * PAGE);
    expect(anonWrites() - a0).toBe(0);      // vm_end only: skipped
    expect(mmapSem() - m0).toBe(4);         // one down_write per brk
    expect(layout(mmu, mm)).toEqual([[P(START), P(START) + 5, "rw-p"]]);

    expect(mmu.call("mm_config_write", ALWAYS)).toBe(0); // 2.6.31 behaviour
    a0 = anonWrites();
    for (let i = 6; i <= 9; i++) mmu.call("cpu_brk", 0, mm, START + BigInt(i) * PAGE);
    expect(anonWrites() - a0).toBe(4);      // every vma_adjust takes it
    expect(layout(mmu, mm)).toEqual([[P(START), P(START) + 9, "rw-p"]]);

    // A split (insert) takes it in both settings.
    mmu.call("mm_config_write", 0);
    a0 = anonWrites();
    expect(mmu.call("cpu_mprotect", 0, mm, START + 2n * PAGE, PAGE, R)).toBe(0);
    expect(anonWrites() - a0).toBe(4);      // two splits: anon_vma_clone's chain link and vma_adjust, each
    expect(mmu.call("mm_config_write", 0x80000000)).toBe(EINVAL);
  });
});

describe("mm lifetime", () => {
  it("mmput frees every vma, the PML4 and the mm", () => {
    const { mmu, mm } = boot();
    const vmaCache = c(mmu, "KMEM_VM_AREA"), mmCache = c(mmu, "KMEM_MM_STRUCT");
    const freeVmas0 = Number(mmu.call("kmem_cache_nr_free", vmaCache)) + 0;
    const pages0 = mmu.freeFrames();
    const m2 = Number(mmu.call("cpu_mm_alloc", 1)) >>> 0;
    expect(mmu.freeFrames()).toBe(pages0 - 1);
    for (let i = 0; i < 5; i++) mmap(mmu, m2, BASE + BigInt(i * 3) * PAGE, 2, i % 2 ? R : R | W, MAP_PRIVATE | MAP_ANON | MAP_FIXED);
    expect(readVmas(mmu, m2).length).toBe(5);
    expect(mmu.call("cpu_mmget", 0, m2)).toBe(0);
    expect(mmu.call("cpu_mmput", 0, m2)).toBe(0);
    expect(readVmas(mmu, m2).length).toBe(5); // still a user
    const freeMm = Number(mmu.call("kmem_cache_nr_free", mmCache));
    expect(mmu.call("cpu_mmput", 1, m2)).toBe(0);
    expect(Number(mmu.call("kmem_cache_nr_free", mmCache))).toBe(freeMm + 1);
    expect(mmu.freeFrames()).toBe(pages0);
    expect(Number(mmu.call("kmem_cache_nr_free", vmaCache))).toBeGreaterThanOrEqual(freeVmas0);
    layout(mmu, mm);
  });
});
