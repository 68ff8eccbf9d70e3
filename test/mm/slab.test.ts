// The kernel-object allocator (mm/slab.ts): caches, per-CPU lists, exhaustion of the kernel heap,
// bad frees, and the debug build's poisoning.
import { describe, it, expect } from "vitest";
import { Mmu, InvariantError } from "../../src/index.js";

const GFP_ZERO = 1;

function cache(mmu: Mmu, size: number): number {
  const id = Number(mmu.call("cpu_kmem_cache_create", 0, size));
  expect(id).toBeGreaterThanOrEqual(0);
  return id;
}

describe("kmem caches", () => {
  it("creates caches with sizes rounded to 8 and refuses bad sizes", () => {
    const mmu = Mmu.create({ memory: "1MiB" });
    expect(mmu.call("kmem_cache_object_size", cache(mmu, 20))).toBe(24);
    expect(mmu.call("cpu_kmem_cache_create", 0, 0)).toBe(-22);
    expect(mmu.call("cpu_kmem_cache_create", 0, 4097)).toBe(-22);
    expect(mmu.call("kmem_cache_object_size", 15)).toBe(-22); // no cache with that id (MAX_KMEM_CACHES 16)
  });

  it("hands out distinct, aligned, zeroed objects in the kernel heap and reuses freed ones", () => {
    const mmu = Mmu.create({ memory: "1MiB", debug: true, cpus: 2 });
    const c = cache(mmu, 96);
    const { kheapBase, kheapSize } = mmu.layout;
    const objs = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const o = Number(mmu.call("cpu_kmem_cache_alloc", i % 2, c, GFP_ZERO));
      expect(o).toBeGreaterThanOrEqual(kheapBase);
      expect(o + 96).toBeLessThanOrEqual(kheapBase + kheapSize);
      expect(o % 8).toBe(0);
      expect(objs.has(o)).toBe(false);
      expect([...new Uint8Array(mmu.memory.buffer, o, 96)].every((b) => b === 0)).toBe(true);
      new Uint8Array(mmu.memory.buffer, o, 96).fill(0x5a);
      objs.add(o);
    }
    const carved = Number(mmu.call("kmem_cache_nr_objs", c));
    expect(Number(mmu.call("kmem_cache_nr_free", c))).toBe(carved - 200);
    for (const o of objs) expect(mmu.call("cpu_kmem_cache_free", 0, c, o)).toBe(0);
    expect(Number(mmu.call("kmem_cache_nr_free", c))).toBe(carved);
    const again = Number(mmu.call("cpu_kmem_cache_alloc", 0, c, 0));
    expect(objs.has(again)).toBe(true);
    expect(Number(mmu.call("kmem_cache_nr_objs", c))).toBe(carved);
  });

  it("returns NULL when the kernel heap is exhausted, after taking back other CPUs' free objects", () => {
    const mmu = Mmu.create({ memory: "1MiB", kernelHeap: "16KiB", cpus: 2 });
    const c = cache(mmu, 1024);
    const got: number[] = [];
    for (;;) {
      const o = Number(mmu.call("cpu_kmem_cache_alloc", 0, c, 0));
      if (o === 0) break;
      got.push(o);
    }
    expect(got.length).toBe(16);
    // Free them on CPU 1: they sit on CPU 1's list, yet CPU 0 gets them back.
    for (const o of got) mmu.call("cpu_kmem_cache_free", 1, c, o);
    for (let i = 0; i < 16; i++) expect(Number(mmu.call("cpu_kmem_cache_alloc", 0, c, 0))).not.toBe(0);
    expect(Number(mmu.call("cpu_kmem_cache_alloc", 0, c, 0))).toBe(0);
  });

  it("refuses frees of addresses outside the heap or misaligned, and of unknown caches", () => {
    const mmu = Mmu.create({ memory: "1MiB" });
    const c = cache(mmu, 64);
    const o = Number(mmu.call("cpu_kmem_cache_alloc", 0, c, 0));
    expect(mmu.call("cpu_kmem_cache_free", 0, c, o + 4)).toBe(-22);
    expect(mmu.call("cpu_kmem_cache_free", 0, c, 64)).toBe(-22);
    expect(mmu.call("cpu_kmem_cache_free", 0, c + 1, o)).toBe(-22);
    expect(mmu.call("cpu_kmem_cache_alloc", 0, c + 1, 0)).toBe(0);
  });

  it("reports a double free as an invariant violation in the debug build", () => {
    const mmu = Mmu.create({ memory: "1MiB", debug: true });
    const c = cache(mmu, 64);
    const o = Number(mmu.call("cpu_kmem_cache_alloc", 0, c, 0));
    mmu.call("cpu_kmem_cache_free", 0, c, o);
    expect(() => mmu.call("cpu_kmem_cache_free", 0, c, o)).toThrow(InvariantError);
    expect(() => mmu.call("cpu_kmem_cache_free", 0, c, o)).toThrow(/kmem_cache_free: double free/);
  });
});
