// fork's dup_mm / dup_mmap (kernel/fork_mm.ts): the child gets the same vmas (its own structs, own
// anon_vmas chained to the parent's, file vmas on the i_mmap tree), COW page tables; writes after fork
// are private; exit of both gives every frame back.
import { describe, it, expect } from "vitest";
import { Mmu, readVmas, formatMaps } from "../../src/index.js";
import { constant } from "../../src/core/abi.js";

const PAGE = 4096n;
const R = 1, W = 2;
const MAP_SHARED = 1, MAP_PRIVATE = 2, MAP_FIXED = 0x10, MAP_ANON = 0x20;
const BASE = 0x4000_0000n;

describe("dup_mm", () => {
  it("copies the vma set and COW page tables; private writes diverge; everything is freed at the end", () => {
    const mmu = Mmu.create({ memory: "16MiB", debug: true, cpus: 2 });
    const free0 = mmu.freeFrames();
    const parent = Number(mmu.call("cpu_mm_alloc", 0)) >>> 0;
    const file = Number(mmu.call("cpu_address_space_create", 0, 16)) >>> 0;
    mmu.call("cpu_mm_setup_brk", 0, parent, 0x60_0000n);
    expect(BigInt(mmu.call("cpu_brk", 0, parent, 0x60_0000n + 2n * PAGE))).toBe(0x60_0000n + 2n * PAGE);
    expect(BigInt(mmu.call("cpu_mmap", 0, parent, BASE, 4n * PAGE, R | W, MAP_PRIVATE | MAP_ANON | MAP_FIXED, 0, 0))).toBe(BASE);
    expect(BigInt(mmu.call("cpu_mmap", 0, parent, BASE + 8n * PAGE, 2n * PAGE, R | W, MAP_SHARED | MAP_FIXED, file, 3))).toBe(BASE + 8n * PAGE);
    expect(mmu.call("cpu_switch_mm", 0, parent)).toBe(0);
    const pa0 = BigInt(mmu.call("cpu_test_user_access", 0, parent, BASE, 1));
    expect(pa0 >= 0n).toBe(true);
    expect(BigInt(mmu.call("cpu_test_user_access", 0, parent, 0x60_0000n, 1)) >= 0n).toBe(true);

    const child = Number(mmu.call("cpu_dup_mm", 1, parent)) >>> 0;
    expect(child).not.toBe(0);
    expect(formatMaps(mmu, child)).toBe(formatMaps(mmu, parent));
    const pv = readVmas(mmu, parent), cv = readVmas(mmu, child);
    expect(cv.length).toBe(pv.length);
    for (let i = 0; i < pv.length; i++) {
      expect(cv[i]!.addr).not.toBe(pv[i]!.addr);
      expect(cv[i]!.file).toBe(pv[i]!.file);
      if (pv[i]!.anonVma) expect(cv[i]!.anonVma).not.toBe(pv[i]!.anonVma); // its own, chained to the parent's
    }
    // The file's i_mmap tree holds both file vmas.
    const root = file + constant(mmu.exports, "AS_I_MMAP");
    const onTree: number[] = [];
    for (let x = Number(mmu.call("vma_interval_tree_iter_first", root, 0n, 100n)) >>> 0; x; x = Number(mmu.call("vma_interval_tree_iter_next", x, 0n, 100n)) >>> 0) onTree.push(x);
    expect(new Set(onTree)).toEqual(new Set([pv[2]!.addr, cv[2]!.addr]));
    // COW: both PTEs read-only and on the same frame; a write in the child gets its own.
    const pte = (mm: number, a: bigint): bigint => BigInt.asUintN(64, BigInt(mmu.call("mm_test_pte", mm, a)));
    expect(pte(parent, BASE) & 2n).toBe(0n);
    expect(pte(child, BASE) >> 12n).toBe(pte(parent, BASE) >> 12n);
    expect(mmu.call("cpu_switch_mm", 1, child)).toBe(0);
    const pc = BigInt(mmu.call("cpu_test_user_access", 1, child, BASE, 1));
    expect(pc >= 0n).toBe(true);
    expect(pc >> 12n).not.toBe(pa0 >> 12n);
    expect(BigInt(mmu.call("cpu_test_user_access", 0, parent, BASE, 1)) >> 12n).toBe(pa0 >> 12n);

    // Exit of both: every frame back (the file's page-cache index page stays with the file).
    expect(mmu.call("cpu_leave_mm", 1)).toBe(0);
    expect(mmu.call("cpu_mmput", 1, child)).toBe(0);
    expect(readVmas(mmu, parent).length).toBe(3);
    expect(mmu.call("cpu_leave_mm", 0)).toBe(0);
    expect(mmu.call("cpu_mmput", 0, parent)).toBe(0);
    expect(mmu.freeFrames()).toBe(free0 - 1);
  });
});
