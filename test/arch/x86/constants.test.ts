// The architectural constants of src/arch/x86.ts against the core. The core exports only layout and
// counter constants (mmu.exports: PAGE_SIZE, PC_*, STAT_*); those are compared directly. Every
// architectural bit it does not export is checked by behaviour instead: the register bits by which
// values MOV to CRn / WRMSR EFER / POPF accept (SDM Vol. 3A 2.5, 4.1) and by the reset state read at
// the PC_* offsets; the PTE bits by what a walk does with them (4.5, 4.6, 4.8); PF by the error codes
// the core reports (4.7); ACC by the raw translate ABI; VECTOR, INVPCID, CR3_NOFLUSH by their effect.
import { describe, it, expect } from "vitest";
import {
  Mmu, PageTableBuilder, TABLE_FLAGS, PTE, PF, ACC, CR0, CR4, EFER, RFLAGS, VECTOR, INVPCID, CR3_NOFLUSH,
  PAGE_SIZE_4K, PAGE_SIZE_2M, PAGE_SIZE_1G, pteIndex, canonical, type CoreExports,
} from "../../../src/index.js";
import { isCanonical48 } from "../../helpers/refwalk.js";

const GiB = 1n << 30n;
const V = 0x0000_1234_5660_0000n; // a 2 MiB-aligned linear address
const F = 0x0040_0000n;           // a 2 MiB-aligned frame in RAM
const bits = (o: Record<string, bigint>) => Object.values(o).reduce((a, b) => a | b, 0n);
const exported = (mmu: Mmu, name: keyof CoreExports) => Number((mmu.exports[name] as WebAssembly.Global).value);
const CR0_DEFAULT = CR0.PE | CR0.WP | CR0.PG, CR4_DEFAULT = CR4.PAE | CR4.PGE;
const EFER_DEFAULT = EFER.LME | EFER.LMA | EFER.NXE, RFLAGS_DEFAULT = RFLAGS.IF;

function reset(mmu: Mmu): void {
  mmu.setCpl(0, 0);
  mmu.setRflags(0, RFLAGS_DEFAULT);
  mmu.setEfer(0, EFER.LME | EFER.NXE);
  mmu.setCr4(0, CR4_DEFAULT);
  mmu.setCr0(0, CR0_DEFAULT);
  mmu.invpcid(0, INVPCID.ALL_INCLUDING_GLOBAL, 0);
}

/** A fresh address space with V mapped to F (4 KiB, flags) and CR3 loaded; returns the PTE's address. */
function space(mmu: Mmu, flags: bigint): { pt: PageTableBuilder; pte: bigint } {
  reset(mmu);
  const pt = new PageTableBuilder(mmu);
  const pte = pt.map(V, F, flags);
  mmu.setCr3(0, pt.root);
  return { pt, pte };
}

const accepted = (f: () => void): boolean => { try { f(); return true; } catch { return false; } };

for (const debug of [true, false]) {
  describe(`src/arch/x86.ts against the ${debug ? "debug" : "release"} core`, () => {
    const mmu = Mmu.create({ memory: "32MiB", debug });

    it("page sizes, table flags, pteIndex and canonical()", () => {
      expect(exported(mmu, "PAGE_SIZE")).toBe(PAGE_SIZE_4K);
      expect([PAGE_SIZE_4K, PAGE_SIZE_2M, PAGE_SIZE_1G]).toEqual([4096, 2 ** 21, 2 ** 30]);
      expect(TABLE_FLAGS).toBe(PTE.PRESENT | PTE.RW | PTE.USER);
      const va = (4n << 39n) | (3n << 30n) | (2n << 21n) | (1n << 12n) | 0x123n;
      expect([4, 3, 2, 1].map((l) => pteIndex(va, l as 1 | 2 | 3 | 4))).toEqual([4, 3, 2, 1]);
      expect(pteIndex(0xffff_ff80_0000_0000n, 4)).toBe(511);
      for (const v of [0n, 0x7fff_ffff_ffffn, 0x8000_0000_0000n, 0xffff_8000_0000_0000n, 0x1234_5678_9abc_def0n]) {
        const c = canonical(v);
        expect(isCanonical48(c)).toBe(true);
        expect(c & 0xffff_ffff_ffffn).toBe(v & 0xffff_ffff_ffffn);
      }
    });

    it("reset registers, read at the exported PC_* offsets, are PE|WP|PG, PAE|PGE, LME|LMA|NXE, IF", () => {
      mmu.exports.cpu_reset_regs(0);
      const dv = new DataView(mmu.memory.buffer);
      const p = mmu.exports.cpu_percpu(0);
      const at = (name: keyof CoreExports) => dv.getBigUint64(p + exported(mmu, name), true);
      expect([at("PC_CR0"), at("PC_CR4"), at("PC_EFER"), at("PC_RFLAGS")]).toEqual([CR0_DEFAULT, CR4_DEFAULT, EFER_DEFAULT, RFLAGS_DEFAULT]);
      expect(mmu.registers(0)).toEqual({ cr0: CR0_DEFAULT, cr3: 0n, cr4: CR4_DEFAULT, efer: EFER_DEFAULT, rflags: RFLAGS_DEFAULT, cpl: 0 });
    });

    it("CR0, CR4, EFER, RFLAGS: the register writes accept exactly the bits named", () => {
      const scan = (set: (v: bigint) => void, base: bigint, restore: () => void): bigint => {
        let ok = 0n;
        for (let b = 0n; b < 64n; b++) {
          if (accepted(() => set(base | (1n << b)))) ok |= 1n << b;
          restore();
        }
        return ok;
      };
      reset(mmu);
      const r = () => reset(mmu);
      expect(scan((v) => mmu.setCr0(0, v), CR0_DEFAULT, r)).toBe(bits(CR0));
      expect(scan((v) => mmu.setCr4(0, v), CR4_DEFAULT, r)).toBe(bits(CR4));
      expect(scan((v) => mmu.setEfer(0, v), EFER.LME | EFER.NXE, r)).toBe(bits(EFER));
      expect(scan((v) => mmu.setRflags(0, v), 0n, r)).toBe(bits(RFLAGS));
      // The consistency rules that make these the bits of IA-32e paging.
      expect(accepted(() => mmu.setCr0(0, CR0.PG | CR0.WP))).toBe(false);           // PG without PE
      expect(accepted(() => mmu.setCr4(0, CR4.PGE))).toBe(false);                   // clearing PAE in long mode
      expect(accepted(() => mmu.setEfer(0, EFER.NXE))).toBe(false);                 // clearing LME with PG on
      mmu.setEfer(0, EFER.LME);                                                     // LMA is read-only
      expect(mmu.registers(0).efer).toBe(EFER.LME | EFER.LMA);
      mmu.setCr0(0, CR0.PE);                                                        // paging off: LMA follows PG
      expect(mmu.registers(0).efer & EFER.LMA).toBe(0n);
      reset(mmu);
    });

    it("CR0.PG and CR0.WP", () => {
      space(mmu, 0n); // read-only supervisor page
      expect(mmu.translate(0, V, { write: true })).toMatchObject({ ok: false, errorCode: PF.PROT | PF.WRITE });
      mmu.setCr0(0, CR0.PE | CR0.PG);
      expect(mmu.translate(0, V, { write: true })).toEqual({ ok: true, pa: F, pageSize: PAGE_SIZE_4K });
      mmu.setCr0(0, CR0.PE | CR0.WP);
      expect(mmu.translate(0, 0x12_3456n)).toEqual({ ok: true, pa: 0x12_3456n, pageSize: PAGE_SIZE_4K });
      reset(mmu);
    });

    it("PTE.PRESENT, RW, USER and the PF bits they produce", () => {
      const { pte } = space(mmu, PTE.USER);
      expect(mmu.walk(0, V, { user: true }).ok).toBe(true);
      expect(mmu.walk(0, V, { user: true, write: true })).toMatchObject({ errorCode: PF.PROT | PF.WRITE | PF.USER });
      mmu.writePhys64(pte, F | PTE.PRESENT | PTE.USER | PTE.RW);
      expect(mmu.walk(0, V, { user: true, write: true }).ok).toBe(true);
      mmu.writePhys64(pte, F | PTE.PRESENT | PTE.RW);
      expect(mmu.walk(0, V, { user: true })).toMatchObject({ errorCode: PF.PROT | PF.USER });
      mmu.writePhys64(pte, F | PTE.USER | PTE.RW);
      expect(mmu.walk(0, V, { user: true, write: true })).toMatchObject({ fault: "#PF", errorCode: PF.WRITE | PF.USER, cr2: V });
      expect([PF.PROT, PF.WRITE, PF.USER, PF.RSVD, PF.INSTR]).toEqual([1, 2, 4, 8, 16]);
    });

    it("PTE.ACCESSED and PTE.DIRTY are the bits the walker sets; PWT and PCD are left alone", () => {
      const { pte } = space(mmu, PTE.RW | PTE.PWT | PTE.PCD);
      const e0 = mmu.readPhys64(pte);
      expect(mmu.walk(0, V).ok).toBe(true);
      expect(mmu.readPhys64(pte) ^ e0).toBe(PTE.ACCESSED);
      expect(mmu.walk(0, V, { write: true }).ok).toBe(true);
      expect(mmu.readPhys64(pte) ^ e0).toBe(PTE.ACCESSED | PTE.DIRTY);
    });

    it("PTE.PSE: a 2 MiB page in a PDE, 1 GiB in a PDPTE, reserved in a PML4E", () => {
      reset(mmu);
      const pt = new PageTableBuilder(mmu);
      const pde = pt.entryAddress(V, 2);
      mmu.writePhys64(pde, F | PTE.PRESENT | PTE.PSE);
      mmu.setCr3(0, pt.root);
      expect(mmu.walk(0, V + 0x1_2345n)).toEqual({ ok: true, pa: F + 0x1_2345n, pageSize: PAGE_SIZE_2M });
      const pdpte = pt.entryAddress(V, 3);
      mmu.writePhys64(pdpte, PTE.PRESENT | PTE.PSE);
      const v1 = (V & ~(GiB - 1n)) + 0x1_2345n; // the same 1 GiB region, at an offset inside RAM
      expect(mmu.walk(0, v1)).toEqual({ ok: true, pa: 0x1_2345n, pageSize: PAGE_SIZE_1G });
      const pml4e = pt.entryAddress(V, 4);
      mmu.writePhys64(pml4e, mmu.readPhys64(pml4e) | PTE.PSE);
      expect(mmu.walk(0, V)).toMatchObject({ fault: "#PF", errorCode: PF.PROT | PF.RSVD });
    });

    it("PTE.NX: a fetch faults with NXE on and is a reserved bit with NXE off", () => {
      space(mmu, PTE.NX);
      expect(mmu.walk(0, V, { fetch: true })).toMatchObject({ fault: "#PF", errorCode: PF.PROT | PF.INSTR });
      expect(mmu.walk(0, V).ok).toBe(true);
      mmu.setEfer(0, EFER.LME);
      expect(mmu.walk(0, V)).toMatchObject({ fault: "#PF", errorCode: PF.PROT | PF.RSVD });
      reset(mmu);
    });

    it("PTE.GLOBAL with CR4.PGE keeps a translation across a CR3 load", () => {
      for (const g of [true, false]) {
        const { pt, pte } = space(mmu, g ? PTE.GLOBAL : 0n);
        expect(mmu.translate(0, V)).toMatchObject({ pa: F });
        mmu.writePhys64(pte, (F + 0x1000n) | PTE.PRESENT);
        mmu.setCr3(0, pt.root);
        expect(mmu.translate(0, V)).toMatchObject({ pa: g ? F : F + 0x1000n });
      }
    });

    it("CR4.SMEP, CR4.SMAP and RFLAGS.AC", () => {
      space(mmu, PTE.USER | PTE.RW);
      mmu.setCr4(0, CR4_DEFAULT | CR4.SMEP);
      expect(mmu.walk(0, V, { fetch: true })).toMatchObject({ errorCode: PF.PROT | PF.INSTR });
      mmu.setCr4(0, CR4_DEFAULT | CR4.SMAP);
      expect(mmu.walk(0, V)).toMatchObject({ errorCode: PF.PROT });
      mmu.setRflags(0, RFLAGS.IF | RFLAGS.AC);
      expect(mmu.walk(0, V).ok).toBe(true);
      reset(mmu);
    });

    it("ACC: the access bits of the raw ABI", () => {
      const { pte } = space(mmu, PTE.RW | PTE.NX);
      const w = (acc: number) => mmu.exports.cpu_walk(0, V, acc);
      const valid = ACC.WRITE | ACC.USER | ACC.FETCH | ACC.IMPLICIT;
      for (let b = 0; b < 32; b++) {
        if (((1 << b) & valid) === 0) expect(w((1 << b) >>> 0), `access bit ${b}`).toBe(-22n); // -EINVAL
      }
      expect(w(0)).toBe(F);
      expect(mmu.readPhys64(pte) & PTE.DIRTY).toBe(0n);
      expect(w(ACC.WRITE)).toBe(F);
      expect(mmu.readPhys64(pte) & PTE.DIRTY).toBe(PTE.DIRTY);
      expect(w(ACC.USER)).toBe(-BigInt(VECTOR.PF));
      expect(mmu.walk(0, V, { user: true })).toMatchObject({ errorCode: PF.PROT | PF.USER });
      expect(w(ACC.FETCH)).toBe(-BigInt(VECTOR.PF));
      mmu.writePhys64(pte, F | PTE.PRESENT | PTE.USER);
      mmu.setCr4(0, CR4_DEFAULT | CR4.SMAP);
      mmu.setRflags(0, RFLAGS.IF | RFLAGS.AC);
      expect(w(0)).toBe(F);
      expect(w(ACC.IMPLICIT)).toBe(-BigInt(VECTOR.PF));
      mmu.setCpl(0, 3);
      expect(w(0)).toBe(F);                           // a user access at CPL 3
      expect(w(ACC.IMPLICIT)).toBe(-BigInt(VECTOR.PF)); // still a supervisor one
      reset(mmu);
    });

    it("VECTOR: the raw results and the fault record", () => {
      const { pte } = space(mmu, PTE.RW);
      const vec = () => new DataView(mmu.memory.buffer).getUint32(mmu.exports.cpu_percpu(0) + exported(mmu, "PC_FAULT_VECTOR"), true);
      expect(mmu.exports.cpu_walk(0, 0x8000_0000_0000n, 0)).toBe(-BigInt(VECTOR.GP));
      expect(vec()).toBe(VECTOR.GP);
      expect(mmu.exports.cpu_walk(0, V + 0x1000n, 0)).toBe(-BigInt(VECTOR.PF));
      expect(vec()).toBe(VECTOR.PF);
      mmu.writePhys64(pte, (64n * GiB) | PTE.PRESENT);
      expect(mmu.exports.cpu_walk(0, V, 0)).toBe(-BigInt(VECTOR.MC));
      expect(vec()).toBe(VECTOR.MC);
      expect(VECTOR).toEqual({ GP: 13, PF: 14, MC: 18 });
    });

    it("INVPCID types", () => {
      const VG = V + 0x20_0000n;
      const setup = () => {
        const { pt } = space(mmu, 0n);
        pt.map(VG, F, PTE.GLOBAL);
        expect(mmu.translate(0, V).ok && mmu.translate(0, VG).ok).toBe(true);
        expect(mmu.tlbEntries(0)).toBe(2);
      };
      setup(); mmu.invpcid(0, INVPCID.INDIVIDUAL_ADDRESS, 0, V); expect(mmu.tlbEntries(0)).toBe(1);
      setup(); mmu.invpcid(0, INVPCID.INDIVIDUAL_ADDRESS, 0, VG); expect(mmu.tlbEntries(0)).toBe(2);
      setup(); mmu.invpcid(0, INVPCID.SINGLE_CONTEXT, 0); expect(mmu.tlbEntries(0)).toBe(1);
      setup(); mmu.invpcid(0, INVPCID.ALL_NON_GLOBAL, 0); expect(mmu.tlbEntries(0)).toBe(1);
      setup(); mmu.invpcid(0, INVPCID.ALL_INCLUDING_GLOBAL, 0); expect(mmu.tlbEntries(0)).toBe(0);
      setup(); mmu.invlpg(0, VG); expect(mmu.tlbEntries(0)).toBe(1); // INVLPG drops globals too
      expect(() => mmu.invpcid(0, 4, 0)).toThrow();
    });

    it("CR3_NOFLUSH with CR4.PCIDE keeps the PCID's translations", () => {
      const { pt } = space(mmu, 0n);
      mmu.setCr4(0, CR4_DEFAULT | CR4.PCIDE);
      mmu.setCr3(0, pt.root | 5n);
      expect(mmu.translate(0, V).ok).toBe(true);
      expect(mmu.tlbEntries(0)).toBe(1);
      mmu.setCr3(0, pt.root | 5n | CR3_NOFLUSH);
      expect(mmu.registers(0).cr3).toBe(pt.root | 5n);
      expect(mmu.tlbEntries(0)).toBe(1);
      mmu.setCr3(0, pt.root | 5n);
      expect(mmu.tlbEntries(0)).toBe(0);
      mmu.setCr3(0, pt.root);
      reset(mmu);
    });

    it("CR3 bit 63 is reserved when CR4.PCIDE = 0: MOV to CR3 raises #GP (SDM 4.5 Table 4-12, 4.10.4.1)", () => {
      // Bit 63 of MOV to CR3's source means "no flush" only with CR4.PCIDE = 1 (4.10.4.1); with PCIDE = 0
      // bits 63:MAXPHYADDR of CR3 are reserved (Table 4-12) and MOV to CR3 with a reserved bit set is #GP(0)
      // (Vol. 2, MOV to/from control registers). KVM's kvm_set_cr3 refuses it the same way.
      const { pt } = space(mmu, 0n);
      expect(() => mmu.setCr3(0, pt.root | CR3_NOFLUSH), "MOV to CR3 with bit 63 set and CR4.PCIDE = 0 must be refused (#GP)").toThrow();
      mmu.setCr3(0, pt.root);
    });

    it("STAT_* counters move as the architecture says", () => {
      const { pte } = space(mmu, PTE.RW);
      const s0 = mmu.cpuStats(0);
      mmu.translate(0, V);                         // miss, walk, A set
      mmu.translate(0, V);                         // hit
      mmu.translate(0, V, { write: true });        // hit on a clean entry: walk again, D set
      mmu.translate(0, V + 0x1000n);               // #PF
      mmu.translate(0, 0x8000_0000_0000n);         // #GP
      mmu.writePhys64(pte + 8n, (64n * GiB) | PTE.PRESENT);
      mmu.translate(0, V + 0x1000n);               // bus
      const s = mmu.cpuStats(0);
      const d = (k: string) => Number(s[k]! - s0[k]!);
      expect(Object.keys(s).length).toBe(exported(mmu, "NR_STATS_USED"));
      expect({ tlbHit: d("tlbHit"), walk: d("walk"), pf: d("pf"), gp: d("gp"), busFault: d("busFault"),
        setDirty: d("setDirty"), tlbDirtyRewalk: d("tlbDirtyRewalk") })
        .toEqual({ tlbHit: 1, walk: 4, pf: 1, gp: 1, busFault: 1, setDirty: 1, tlbDirtyRewalk: 1 });
      expect(d("setAccessed")).toBe(4); // PML4E, PDPTE, PDE, PTE
    });
  });
}

describe("PTE.ADDR_MASK is the address field the walker uses", () => {
  // MAXPHYADDR 52: no address bit is reserved, so bits 12..51 all reach the physical address and
  // bits 52..62 (ignored) do not. Above RAM the result is a bus fault that reports the address.
  const mmu = Mmu.create({ memory: "32MiB", maxPhysAddr: 52 });
  it("bits 12..51 are address bits, 52..62 are not", () => {
    const { pte } = space(mmu, 0n);
    let field = 0n;
    for (let b = 12n; b < 63n; b++) {
      mmu.writePhys64(pte, (1n << b) | PTE.PRESENT);
      const t = mmu.walk(0, V + 0x18n);
      const pa = t.ok ? t.pa : t.pa;
      if (pa !== undefined && pa === (1n << b) + 0x18n) field |= 1n << b;
      else expect(t, `bit ${b}`).toEqual({ ok: true, pa: 0x18n, pageSize: PAGE_SIZE_4K });
    }
    expect(field).toBe(PTE.ADDR_MASK);
  });
});
