// The embedding API (src/mmu.ts) refuses bad input with typed errors and leaves nothing half-done.
import { describe, it, expect } from "vitest";
import { Mmu, PageTableBuilder, PTE, CR0, CR4, EFER, ConfigError, ErrnoError } from "../src/index.js";

describe("Mmu embedding API: bad input", () => {
  const mmu = Mmu.create({ memory: "1MiB", cpus: 2 });

  it("checks CPUs, addresses and access kinds", () => {
    expect(() => mmu.translate(2, 0n)).toThrow(/cpu: 2 is not a CPU of this machine \(0\.\.1\)/);
    expect(() => mmu.translate(-1, 0n)).toThrow(ConfigError);
    expect(() => mmu.translate(0, 1.5)).toThrow(/va: 1.5 is not an integer address/);
    expect(() => mmu.translate(0, 1n << 64n)).toThrow(/does not fit in 64 bits/);
    expect(() => mmu.translate(0, 0n, { read: true } as never)).toThrow(/unknown kind "read"/);
    expect(() => mmu.translate(0, 0n, { write: true, fetch: true })).toThrow(/a write or a fetch/);
    // Negative numbers are the two's complement 64-bit address (the kernel half).
    expect(mmu.translate(0, -4096)).toMatchObject({ ok: false, fault: "#PF" });
  });

  it("checks physical addresses: aligned, and in frames with contents", () => {
    expect(() => mmu.readPhys64(4)).toThrow(/0x4 is not 8-byte aligned/);
    expect(() => mmu.writePhys64(1n << 20n, 0n)).toThrow(/outside the RAM that carries contents \(below 0x100000\)/);
    expect(() => mmu.frameBytes(256)).toThrow(/has no contents/);
  });

  it("refuses CR3 outside RAM or with reserved bits, and inconsistent control registers", () => {
    expect(() => mmu.setCr3(0, 1n << 20n)).toThrow(ErrnoError);
    expect(() => mmu.setCr3(0, 1n << 20n)).toThrow(/cr3: -EFAULT/);
    expect(() => mmu.setCr3(0, 1n << 50n)).toThrow(/cr3: 0x4000000000000 is refused \(#GP/);
    expect(() => mmu.setCr0(0, CR0.PG)).toThrow(/cr0.*refused/); // PG without PE
    expect(() => mmu.setCr4(0, CR4.PGE)).toThrow(/cr4.*refused/); // clearing PAE in long mode
    expect(() => mmu.setCr4(0, 1n << 30n)).toThrow(/cr4/); // unknown bit
    expect(() => mmu.setEfer(0, 0n)).toThrow(/efer/); // clearing LME with paging on
    expect(() => mmu.setCpl(0, 4 as never)).toThrow(/cpl: 4 is not 0\.\.3/);
    expect(mmu.registers(0)).toEqual({ cr0: CR0.PE | CR0.WP | CR0.PG, cr3: 0n, cr4: CR4.PAE | CR4.PGE,
      efer: EFER.LME | EFER.LMA | EFER.NXE, rflags: 1n << 9n, cpl: 0 });
  });

  it("translates linear = physical with paging off, and reports addresses beyond RAM as bus faults", () => {
    const m = Mmu.create({ memory: "1MiB" });
    m.setCr0(0, CR0.PE);
    expect(m.translate(0, 0x1234n)).toEqual({ ok: true, pa: 0x1234n, pageSize: 4096 });
    expect(m.translate(0, 1n << 20n)).toMatchObject({ ok: false, fault: "bus", vector: 18, pa: 1n << 20n });
    m.setCr0(0, CR0.PE | CR0.PG | CR0.WP);
  });

  it("maps a page near the top of a 4 GiB metadata-only machine in a small footprint", () => {
    const big = Mmu.create({ memory: "4GiB", frameData: false, backedMemory: "8MiB" });
    expect(big.layout.nrFrames).toBe(1 << 20);
    expect(big.layout.totalSize).toBeLessThan(64 << 20);
    const pt = new PageTableBuilder(big);
    const top = (1n << 32n) - 4096n;
    pt.map(0x1000n, top, PTE.RW);
    big.setCr3(0, pt.root);
    expect(big.translate(0, 0x1008n, { write: true })).toEqual({ ok: true, pa: top + 8n, pageSize: 4096 });
    pt.map(0x2000n, 1n << 32n, PTE.RW); // one frame past RAM
    expect(big.translate(0, 0x2000n)).toMatchObject({ ok: false, fault: "bus", pa: 1n << 32n });
  });
});
