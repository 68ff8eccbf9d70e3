// Processes end to end: spawn, mmap, faults through user accesses, fork with copy-on-write, exit,
// with the invariant checker after every step and every frame back when all have exited.
import { describe, it, expect } from "vitest";
import { Mmu } from "../../src/index.js";
import { MmModel, PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS } from "../../src/mm/process.js";

function model(cpus = 2) {
  const mmu = Mmu.create({ memory: "32MiB", debug: true, cpus });
  return { mmu, mm: new MmModel(mmu) };
}

function clean(mm: MmModel) {
  const r = mm.check();
  expect(r.violations).toEqual([]);
  return r;
}

describe("processes", () => {
  it("maps anonymous memory, faults it in on access, and gives every frame back on exit", () => {
    const { mmu, mm } = model();
    const free0 = mmu.freeFrames();
    const p = mm.spawn();
    const a = p.mmap(16 * 4096);
    expect(a).toBeGreaterThan(0n);
    clean(mm);
    expect(p.read(a)).toBe(0); // demand zero
    expect(p.write(a + 8n, 0xdeadbeef)).toBe(0);
    expect(p.read(a + 8n)).toBe(0xdeadbeef);
    const r = clean(mm);
    expect(r.mappedPtes).toBe(1);
    p.exit();
    clean(mm);
    expect(mmu.freeFrames()).toBe(free0);
  });

  it("fork shares pages copy-on-write: each side sees its own writes", () => {
    const { mmu, mm } = model();
    const free0 = mmu.freeFrames();
    const parent = mm.spawn();
    const a = parent.mmap(4 * 4096, { prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS });
    for (let i = 0n; i < 4n; i++) expect(parent.write(a + i * 4096n, 100 + Number(i))).toBe(0);
    const child = parent.fork();
    if (typeof child === "number") throw new Error(`fork: ${child}`);
    clean(mm);
    expect(child.read(a + 4096n)).toBe(101);
    expect(child.write(a + 4096n, 7)).toBe(0);
    expect(child.read(a + 4096n)).toBe(7);
    expect(parent.read(a + 4096n)).toBe(101);
    expect(parent.write(a, 9)).toBe(0);
    expect(child.read(a)).toBe(100);
    clean(mm);
    child.exit();
    clean(mm);
    expect(parent.read(a + 2n * 4096n)).toBe(102);
    parent.exit();
    clean(mm);
    expect(mmu.freeFrames()).toBe(free0);
  });

  it("reports SIGSEGV outside any vma and for a write to a read-only mapping", () => {
    const { mm } = model();
    const p = mm.spawn();
    const a = p.mmap(4096, { prot: PROT_READ });
    expect(p.read(a)).toBe(0);
    expect(p.write(a, 1)).toBe(-14);
    expect(p.read(0x1000n)).toBe(-14);
    clean(mm);
    p.exit();
  });

  it("runs two processes on one CPU, switching address spaces", () => {
    const { mm } = model(1);
    const p = mm.spawn(), q = mm.spawn();
    const a = p.mmap(4096), b = q.mmap(4096);
    expect(a).toBe(b); // same layout, different address spaces
    expect(p.write(a, 1)).toBe(0);
    expect(q.write(b, 2)).toBe(0);
    expect(p.read(a)).toBe(1);
    expect(q.read(b)).toBe(2);
    clean(mm);
    p.exit();
    q.exit();
    clean(mm);
  });
});
