// Fidelity of the paging unit (IA-32e 4-level paging) against the Intel SDM Vol. 3A, chapter 4:
//  1. hand-checked cases (4.5 translation and reserved bits, 4.6 access rights with WP/SMEP/SMAP/AC/NXE,
//     4.7 #PF error codes and CR2, 4.8 A/D flags), each asserting the exact outcome of mmu.walk and
//     of mmu.translate after a TLB flush, and that the reference walker (test/helpers/refwalk.ts)
//     agrees with the hand-derived answer;
//  2. randomized differential testing of the core against that reference: random page-table graphs
//     (4 KiB / 2 MiB / 1 GiB leaves, all P/RW/US/NX/PS/G combinations, reserved bits, frames outside
//     RAM or outside backed RAM, recursive links), random registers, on debug and release builds, for
//     mmu.walk, mmu.translate after a flush and mmu.translate through the TLB; results and the A/D
//     bits left in memory must be identical.
// All randomness is a seeded xoshiro128** so every run is the same.
import { describe, it, expect } from "vitest";
import { Mmu, PageTableBuilder, PTE, CR0, CR4, EFER, RFLAGS, INVPCID, type Translation, type AccessKind } from "../../../src/index.js";
import { refWalk, bitRange, type RefOutcome, type RefPlatform, type RefResult } from "../../helpers/refwalk.js";

const KiB = 1024n, MiB = 1024n * KiB, GiB = 1024n * MiB;
const P = 1, W = 2, U = 4, R = 8, I = 16; // error-code bits, SDM figure 4-12

interface RegChoice { pg?: boolean; wp?: boolean; smep?: boolean; smap?: boolean; nxe?: boolean; ac?: boolean; pge?: boolean; cpl?: 0 | 1 | 2 | 3 }

/** Load the registers of CPU 0 (defaults: PG, WP, PGE, NXE on; SMEP, SMAP, AC off; CPL 0). */
function setRegs(mmu: Mmu, c: RegChoice): void {
  mmu.setCpl(0, c.cpl ?? 0);
  mmu.setRflags(0, RFLAGS.IF | (c.ac ? RFLAGS.AC : 0n));
  mmu.setEfer(0, EFER.LME | ((c.nxe ?? true) ? EFER.NXE : 0n));
  mmu.setCr4(0, CR4.PAE | ((c.pge ?? true) ? CR4.PGE : 0n) | (c.smep ? CR4.SMEP : 0n) | (c.smap ? CR4.SMAP : 0n));
  mmu.setCr0(0, CR0.PE | ((c.pg ?? true) ? CR0.PG : 0n) | ((c.wp ?? true) ? CR0.WP : 0n));
}

/** The Translation the host API should return for a reference outcome (vectors: SDM 6.15; 18 = model's bus). */
function expected(o: RefOutcome): Translation {
  if (o.ok) return { ok: true, pa: o.pa, pageSize: o.pageSize };
  if (o.fault === "#GP") return { ok: false, fault: "#GP", vector: 13, errorCode: 0, cr2: 0n };
  if (o.fault === "#PF") return { ok: false, fault: "#PF", vector: 14, errorCode: o.errorCode, cr2: o.cr2 };
  return { ok: false, fault: "bus", vector: 18, errorCode: 0, cr2: o.cr2, pa: o.pa };
}

function sameTranslation(a: Translation, b: Translation): boolean {
  if (a.ok || b.ok) return a.ok && b.ok && a.pa === b.pa && a.pageSize === b.pageSize;
  return a.fault === b.fault && a.vector === b.vector && a.errorCode === b.errorCode && a.cr2 === b.cr2 && a.pa === b.pa;
}

const hex = (v: bigint) => "0x" + v.toString(16);
const fmt = (t: Translation) => t.ok ? `ok pa=${hex(t.pa)} size=${t.pageSize}`
  : `${t.fault} ec=0x${t.errorCode.toString(16)} cr2=${hex(t.cr2)}${t.pa !== undefined ? ` pa=${hex(t.pa)}` : ""}`;

/** The reference's view of a machine: its sizes, and memory read straight from the emulated RAM. */
function platformOf(mmu: Mmu, ramBytes: bigint, backedBytes: bigint, maxPhysAddr: number): RefPlatform {
  return { maxPhysAddr, ramBytes, backedBytes, read64: (pa) => mmu.readPhys64(pa) };
}

// ------------------------------------------------------------------------------------------------
// 1. Hand-checked cases. 32 MiB of RAM, MAXPHYADDR 46.
// ------------------------------------------------------------------------------------------------

const RAM = 32n * MiB;
const V = 0x0000_3f80_4060_8000n;    // PML4 127, PDPT 1, PD 3, PT 8
const V2M = 0x0000_3f80_8000_0000n;  // PML4 127, PDPT 2, PD 0
const V1G = 0x0000_3f81_0000_0000n;  // PML4 127, PDPT 4
const F = 0x0123_4000n;              // a 4 KiB frame in RAM
const F2M = 0x0140_0000n;            // a 2 MiB frame in RAM
const RW = PTE.RW, US = PTE.USER, NX = PTE.NX;

interface Env {
  mmu: Mmu;
  pt: PageTableBuilder;
  /** OR set into, and clear out of, the entry for va at level (allocating the tables above it). */
  patch(va: bigint, level: 1 | 2 | 3 | 4, set: bigint, clear?: bigint): void;
  entry(va: bigint, level: 1 | 2 | 3 | 4): bigint;
}

type Expect = { pf: number; cr2?: bigint } | { ok: bigint; size: number } | { gp: true } | { bus: bigint };
interface Case { name: string; regs?: RegChoice; access: AccessKind; build(e: Env): bigint; expect: Expect }

const map4k = (flags: bigint, va = V, pa = F) => (e: Env) => { e.pt.map(va, pa, flags); return va; };

const CASES: Case[] = [
  // 4.7: not present at each level (P = 0); W/R, U/S, I/D describe the access.
  { name: "PML4E not present, supervisor read", access: {}, build: () => V, expect: { pf: 0 } },
  { name: "PDPTE not present, user write", access: { write: true, user: true },
    build: (e) => { e.pt.map(V + GiB, F, RW | US); return V; }, expect: { pf: W | U } },
  { name: "PDE not present, supervisor write", access: { write: true },
    build: (e) => { e.pt.map(V + 2n * MiB, F, RW); return V; }, expect: { pf: W } },
  { name: "PTE not present, user fetch with NXE: I/D set", access: { fetch: true, user: true },
    build: (e) => { e.pt.map(V + 4n * KiB, F, US); return V; }, expect: { pf: U | I } },
  { name: "PTE not present, fetch with NXE = 0 and SMEP = 0: I/D clear", regs: { nxe: false }, access: { fetch: true },
    build: (e) => { e.pt.map(V + 4n * KiB, F, 0n); return V; }, expect: { pf: 0 } },
  { name: "not present, fetch with NXE = 0 and SMEP = 1: I/D set", regs: { nxe: false, smep: true }, access: { fetch: true },
    build: () => V, expect: { pf: I } },
  { name: "not-present entry with reserved bits set: P = 0, no RSVD", access: { user: true },
    build: (e) => { e.patch(V, 2, bitRange(40, 51) | PTE.PSE | NX | 0x1fe000n); return V; }, expect: { pf: U } },
  // 4.6: R/W.
  { name: "user write to read-only user page", access: { write: true, user: true }, build: map4k(US), expect: { pf: P | W | U } },
  { name: "user write to read-only user page with WP = 0", regs: { wp: false }, access: { write: true, user: true },
    build: map4k(US), expect: { pf: P | W | U } },
  { name: "CPL 3 write is a user access", regs: { cpl: 3 }, access: { write: true }, build: map4k(US), expect: { pf: P | W | U } },
  { name: "supervisor write to read-only page with WP = 1", access: { write: true }, build: map4k(0n), expect: { pf: P | W } },
  { name: "supervisor write to read-only page with WP = 0 is allowed", regs: { wp: false }, access: { write: true },
    build: map4k(0n), expect: { ok: F, size: 4096 } },
  { name: "R/W ANDed: R/W = 0 only in the PML4E, user write", access: { write: true, user: true },
    build: (e) => { e.pt.map(V, F, RW | US); e.patch(V, 4, 0n, RW); return V + 0x123n; }, expect: { pf: P | W | U } },
  { name: "R/W ANDed: R/W = 0 only in the PDE, supervisor write, WP = 1", access: { write: true },
    build: (e) => { e.pt.map(V, F, RW); e.patch(V, 2, 0n, RW); return V; }, expect: { pf: P | W } },
  // U/S.
  { name: "user read of supervisor page", access: { user: true }, build: map4k(RW), expect: { pf: P | U } },
  { name: "U/S ANDed: U/S = 0 only in the PDPTE", access: { user: true },
    build: (e) => { e.pt.map(V, F, RW | US); e.patch(V, 3, 0n, US); return V; }, expect: { pf: P | U } },
  { name: "CPL 3 implicit read of supervisor page is a supervisor access", regs: { cpl: 3 }, access: { implicit: true },
    build: map4k(0n), expect: { ok: F, size: 4096 } },
  // XD.
  { name: "user fetch from NX page with NXE", access: { fetch: true, user: true }, build: map4k(US | NX), expect: { pf: P | U | I } },
  { name: "XD ORed: NX only in the PDE", access: { fetch: true, user: true },
    build: (e) => { e.pt.map(V, F, US); e.patch(V, 2, NX); return V; }, expect: { pf: P | U | I } },
  { name: "supervisor fetch from NX supervisor page", access: { fetch: true }, build: map4k(NX), expect: { pf: P | I } },
  { name: "user read of NX page is allowed", access: { user: true }, build: map4k(US | NX), expect: { ok: F, size: 4096 } },
  // SMEP.
  { name: "supervisor fetch from user page with SMEP", regs: { smep: true }, access: { fetch: true },
    build: map4k(US | RW), expect: { pf: P | I } },
  { name: "supervisor fetch from user page with SMEP, NXE = 0: I/D still set", regs: { smep: true, nxe: false }, access: { fetch: true },
    build: map4k(US), expect: { pf: P | I } },
  { name: "supervisor fetch from user page without SMEP is allowed", access: { fetch: true }, build: map4k(US), expect: { ok: F, size: 4096 } },
  { name: "SMEP leaves user fetches alone", regs: { smep: true }, access: { fetch: true, user: true },
    build: map4k(US), expect: { ok: F, size: 4096 } },
  // SMAP.
  { name: "SMAP, AC = 0: supervisor read of user page", regs: { smap: true }, access: {}, build: map4k(US | RW), expect: { pf: P } },
  { name: "SMAP, AC = 0: supervisor write to user page", regs: { smap: true }, access: { write: true },
    build: map4k(US | RW), expect: { pf: P | W } },
  { name: "SMAP, AC = 1: explicit supervisor write to user page is allowed", regs: { smap: true, ac: true }, access: { write: true },
    build: map4k(US | RW), expect: { ok: F, size: 4096 } },
  { name: "SMAP, AC = 1: implicit supervisor read of user page", regs: { smap: true, ac: true }, access: { implicit: true },
    build: map4k(US | RW), expect: { pf: P } },
  { name: "SMAP, implicit access at CPL 3: U/S clear in the error code", regs: { smap: true, ac: true, cpl: 3 },
    access: { implicit: true, write: true }, build: map4k(US | RW), expect: { pf: P | W } },
  { name: "SMAP, AC = 1 does not override WP", regs: { smap: true, ac: true }, access: { write: true },
    build: map4k(US), expect: { pf: P | W } },
  { name: "SMAP does not apply to fetches", regs: { smap: true }, access: { fetch: true }, build: map4k(US), expect: { ok: F, size: 4096 } },
  { name: "SMAP does not apply to supervisor pages", regs: { smap: true }, access: { write: true }, build: map4k(RW), expect: { ok: F, size: 4096 } },
  // 4.5 reserved bits (P = 1 | RSVD).
  { name: "reserved bit MAXPHYADDR (46) in the PML4E", access: {},
    build: (e) => { e.pt.map(V, F, RW); e.patch(V, 4, 1n << 46n); return V; }, expect: { pf: P | R } },
  { name: "reserved bit 51 in the PDPTE, user write", access: { write: true, user: true },
    build: (e) => { e.pt.map(V, F, RW | US); e.patch(V, 3, 1n << 51n); return V; }, expect: { pf: P | R | W | U } },
  { name: "reserved bit 46 in a PTE, supervisor fetch with NXE", access: { fetch: true },
    build: map4k(0n, V, F | (1n << 46n)), expect: { pf: P | R | I } },
  { name: "reserved bit before rights: user read of supervisor PTE with bit 47", access: { user: true },
    build: map4k(0n, V, F | (1n << 47n)), expect: { pf: P | R | U } },
  { name: "PS in the PML4E is reserved", access: {},
    build: (e) => { e.pt.map(V, F, RW); e.patch(V, 4, PTE.PSE); return V; }, expect: { pf: P | R } },
  { name: "XD with NXE = 0 is reserved (user read)", regs: { nxe: false }, access: { user: true },
    build: map4k(US | NX), expect: { pf: P | R | U } },
  { name: "XD in the PML4E with NXE = 0, fetch, SMEP = 0: no I/D", regs: { nxe: false }, access: { fetch: true },
    build: (e) => { e.pt.map(V, F, 0n); e.patch(V, 4, NX); return V; }, expect: { pf: P | R } },
  { name: "XD with NXE = 0, fetch with SMEP = 1: I/D", regs: { nxe: false, smep: true }, access: { fetch: true },
    build: map4k(NX), expect: { pf: P | R | I } },
  { name: "1 GiB leaf with bit 13 set", access: {},
    build: (e) => { e.pt.map(V1G, 0n, RW, 1 << 30); e.patch(V1G, 3, 1n << 13n); return V1G; }, expect: { pf: P | R } },
  { name: "1 GiB leaf with bit 29 set (misaligned frame)", access: { write: true },
    build: (e) => { e.pt.map(V1G, 0n, RW, 1 << 30); e.patch(V1G, 3, 1n << 29n); return V1G; }, expect: { pf: P | R | W } },
  { name: "2 MiB leaf with bit 20 set", access: {},
    build: (e) => { e.pt.map(V2M, F2M, RW, 2 << 20); e.patch(V2M, 2, 1n << 20n); return V2M; }, expect: { pf: P | R } },
  { name: "2 MiB leaf with bit 13 set, user read", access: { user: true },
    build: (e) => { e.pt.map(V2M, F2M, RW | US, 2 << 20); e.patch(V2M, 2, 1n << 13n); return V2M; }, expect: { pf: P | R | U } },
  // Bits that are not reserved.
  { name: "2 MiB leaf with PAT (bit 12) set", access: {},
    build: (e) => { e.pt.map(V2M, F2M, RW, 2 << 20); e.patch(V2M, 2, 1n << 12n); return V2M + 0x5000n; },
    expect: { ok: F2M + 0x5000n, size: 2 << 20 } },
  { name: "1 GiB leaf with PAT (bit 12) set", access: {},
    build: (e) => { e.pt.map(V1G, 0n, RW, 1 << 30); e.patch(V1G, 3, 1n << 12n); return V1G + 0x7000n; },
    expect: { ok: 0x7000n, size: 1 << 30 } },
  { name: "bit 7 of a PTE is PAT, not PS", access: {}, build: map4k(PTE.PSE), expect: { ok: F, size: 4096 } },
  { name: "ignored bits 8..11 and 52..62 of every entry", access: { write: true, user: true },
    build: (e) => {
      e.pt.map(V, F, RW | US | PTE.GLOBAL | bitRange(9, 11) | bitRange(52, 62));
      for (const l of [2, 3, 4] as const) e.patch(V, l, PTE.GLOBAL | bitRange(9, 11) | bitRange(52, 62));
      return V + 0xabcn;
    }, expect: { ok: F + 0xabcn, size: 4096 } },
  // Page offsets.
  { name: "2 MiB page offset", access: { user: true }, build: (e) => { e.pt.map(V2M, F2M, US, 2 << 20); return V2M + 0x12_3456n; },
    expect: { ok: F2M + 0x12_3456n, size: 2 << 20 } },
  { name: "1 GiB page offset", access: { write: true }, build: (e) => { e.pt.map(V1G, 0n, RW, 1 << 30); return V1G + 0x123_4567n; },
    expect: { ok: 0x123_4567n, size: 1 << 30 } },
  { name: "4 KiB page in the upper canonical half", access: {},
    build: (e) => { e.pt.map(0xffff_8000_0000_0000n, F, RW); return 0xffff_8000_0000_0fffn; }, expect: { ok: F + 0xfffn, size: 4096 } },
  // Non-canonical addresses: #GP, no CR2.
  { name: "bit 47 set, bits 63..48 clear: #GP", access: {}, build: () => 0x0000_8000_0000_0000n, expect: { gp: true } },
  { name: "bit 63 set, bits 62..47 clear: #GP", access: { user: true }, build: () => 0x8000_0000_0000_1000n, expect: { gp: true } },
  { name: "bits 63..48 set, bit 47 clear: #GP", access: { fetch: true }, build: () => 0xffff_7fff_ffff_f000n, expect: { gp: true } },
  // Outside RAM: bus fault (model), CR2 = va.
  { name: "leaf frame beyond RAM", access: {}, build: (e) => { e.pt.map(V, 4n * GiB, RW); return V + 0x10n; }, expect: { bus: 4n * GiB + 0x10n } },
  { name: "1 GiB page offset beyond RAM", access: {}, build: (e) => { e.pt.map(V1G, 0n, RW, 1 << 30); return V1G + RAM; },
    expect: { bus: RAM } },
  { name: "refused access to a frame beyond RAM is a #PF", access: { user: true }, build: map4k(RW, V, 4n * GiB), expect: { pf: P | U } },
  { name: "PDPT beyond RAM: bus fault on the PDPTE read", access: {},
    build: (e) => { e.pt.map(V, F, RW); e.patch(V, 4, 8n * GiB, PTE.ADDR_MASK); return V; }, expect: { bus: 8n * GiB + 8n } },
];

function caseEnv(mmu: Mmu): Env {
  const pt = new PageTableBuilder(mmu);
  return {
    mmu, pt,
    entry: (va, level) => mmu.readPhys64(pt.entryAddress(va, level)),
    patch(va, level, set, clear = 0n) {
      const a = pt.entryAddress(va, level);
      mmu.writePhys64(a, (mmu.readPhys64(a) & ~clear) | set);
    },
  };
}

function expectedOf(c: Case, va: bigint): Translation {
  const x = c.expect;
  if ("pf" in x) return { ok: false, fault: "#PF", vector: 14, errorCode: x.pf, cr2: va };
  if ("gp" in x) return { ok: false, fault: "#GP", vector: 13, errorCode: 0, cr2: 0n };
  if ("bus" in x) return { ok: false, fault: "bus", vector: 18, errorCode: 0, cr2: va, pa: x.bus };
  return { ok: true, pa: x.ok, pageSize: x.size };
}

/** Put back the entries a reference walk updated (earliest old value wins). */
function undo(mmu: Mmu, res: RefResult): void {
  for (const w of [...res.writes].reverse()) mmu.writePhys64(w.pa, w.old);
}

/** Entries the walk read hold what they held before, except those it updated (last value wins). */
function checkAfter(mmu: Mmu, res: RefResult, before: Map<bigint, bigint>, what: string): void {
  const want = new Map(before);
  for (const w of res.writes) want.set(w.pa, w.value);
  for (const [pa, v] of want) expect(hex(mmu.readPhys64(pa)), `${what}: entry at ${hex(pa)}`).toBe(hex(v));
}

const snapshot = (mmu: Mmu, res: RefResult) => new Map(res.reads.map((pa) => [pa, mmu.readPhys64(pa)] as const));

for (const debug of [true, false]) {
  describe(`SDM cases (${debug ? "debug" : "release"} build)`, () => {
    const mmu = Mmu.create({ memory: Number(RAM), debug });
    const plat = platformOf(mmu, RAM, RAM, 46);

    it.each(CASES.map((c) => [c.name, c] as const))("%s", (_name, c) => {
      const env = caseEnv(mmu);
      const va = c.build(env);
      setRegs(mmu, c.regs ?? {});
      mmu.setCr3(0, env.pt.root);
      const want = expectedOf(c, va);
      // The reference walker, on the same memory, gives the hand-derived answer.
      const ref = refWalk(plat, mmu.registers(0), va, c.access);
      expect(fmt(expected(ref.outcome)), "reference walker").toBe(fmt(want));
      // The core's full walk.
      const before = snapshot(mmu, ref);
      expect(fmt(mmu.walk(0, va, c.access)), "mmu.walk").toBe(fmt(want));
      checkAfter(mmu, ref, before, "A/D after walk");
      // mmu.translate after flushing the TLB, from the same memory.
      undo(mmu, ref);
      expect(snapshot(mmu, ref)).toEqual(before);
      mmu.invpcid(0, INVPCID.ALL_INCLUDING_GLOBAL, 0);
      expect(fmt(mmu.translate(0, va, c.access)), "mmu.translate").toBe(fmt(want));
      checkAfter(mmu, ref, before, "A/D after translate");
    });

    it("sets A on every level it uses and D only on an allowed write (SDM 4.8)", () => {
      const env = caseEnv(mmu);
      setRegs(mmu, {});
      env.pt.map(V, F, US);                    // read-only user page
      mmu.setCr3(0, env.pt.root);
      const A = PTE.ACCESSED, D = PTE.DIRTY;
      const flags = () => ([4, 3, 2, 1] as const).map((l) => env.entry(V, l) & (A | D));
      expect(flags()).toEqual([0n, 0n, 0n, 0n]);
      expect(mmu.walk(0, V, { write: true, user: true }).ok).toBe(false);   // refused: leaf untouched
      expect(flags()).toEqual([A, A, A, 0n]);
      expect(mmu.walk(0, V, { user: true }).ok).toBe(true);
      expect(flags()).toEqual([A, A, A, A]);
      setRegs(mmu, { wp: false });
      expect(mmu.walk(0, V, { write: true }).ok).toBe(true);                // supervisor, WP = 0
      expect(flags()).toEqual([A, A, A, A | D]);
    });

    it("a #GP leaves CR2 as it was; a #PF loads it", () => {
      const env = caseEnv(mmu);
      setRegs(mmu, {});
      mmu.setCr3(0, env.pt.root);
      const cr2 = () => new DataView(mmu.memory.buffer).getBigUint64(
        mmu.exports.cpu_percpu(0) + Number((mmu.exports.PC_FAULT_CR2 as WebAssembly.Global).value), true);
      expect(mmu.walk(0, V + 0x42n).ok).toBe(false);
      expect(cr2()).toBe(V + 0x42n);
      expect(mmu.walk(0, 0x0000_8000_0000_0000n)).toMatchObject({ fault: "#GP" });
      expect(mmu.translate(0, 0x8000_0000_0000_0000n)).toMatchObject({ fault: "#GP" });
      expect(cr2()).toBe(V + 0x42n);
    });
  });
}

describe("paging structures outside the RAM that carries contents", () => {
  // 64 MiB of RAM, of which the first 16 MiB carry contents: tables must lie there.
  const mmu = Mmu.create({ memory: "64MiB", frameData: false, backedMemory: "16MiB", debug: true });
  const plat = platformOf(mmu, 64n * MiB, 16n * MiB, 46);
  const va = V + 0x10n;
  const bus = (pa: bigint): Translation => ({ ok: false, fault: "bus", vector: 18, errorCode: 0, cr2: va, pa });
  const cases: [string, (e: Env) => void, AccessKind, Translation][] = [
    ["PDPT in RAM without contents", (e) => e.patch(V, 4, 20n * MiB, PTE.ADDR_MASK), {}, bus(20n * MiB + 8n)],
    ["PT at the first frame without contents", (e) => e.patch(V, 2, 16n * MiB, PTE.ADDR_MASK), { write: true }, bus(16n * MiB + 8n * 8n)],
    ["PT just below the limit is read", (e) => { e.patch(V, 2, 16n * MiB - 4096n, PTE.ADDR_MASK); e.mmu.writePhys64(16n * MiB - 4096n + 64n, 0n); }, { user: true },
      { ok: false, fault: "#PF", vector: 14, errorCode: U, cr2: va }],
    ["leaf frame in RAM without contents translates", () => undefined, { write: true }, { ok: true, pa: 40n * MiB + 0x10n, pageSize: 4096 }],
    ["not-present PML4E is a #PF even when its table would be outside", (e) => e.patch(V, 4, 32n * MiB, PTE.ADDR_MASK | PTE.PRESENT),
      { user: true }, { ok: false, fault: "#PF", vector: 14, errorCode: U, cr2: va }],
  ];
  it.each(cases)("%s", (_n, patch, access, want) => {
    const env = caseEnv(mmu);
    env.pt.map(V, 40n * MiB, RW | US);
    patch(env);
    setRegs(mmu, {});
    mmu.setCr3(0, env.pt.root);
    const ref = refWalk(plat, mmu.registers(0), va, access);
    expect(fmt(expected(ref.outcome)), "reference walker").toBe(fmt(want));
    const before = snapshot(mmu, ref);
    expect(fmt(mmu.walk(0, va, access)), "mmu.walk").toBe(fmt(want));
    checkAfter(mmu, ref, before, "A/D after walk");
    undo(mmu, ref);
    mmu.invpcid(0, INVPCID.ALL_INCLUDING_GLOBAL, 0);
    expect(fmt(mmu.translate(0, va, access)), "mmu.translate").toBe(fmt(want));
  });
});

// ------------------------------------------------------------------------------------------------
// 2. Randomized differential testing against the reference walker.
// ------------------------------------------------------------------------------------------------

/** xoshiro128** seeded through splitmix32: deterministic, fast, good enough for test generation. */
class Rng {
  private s = new Uint32Array(4);
  constructor(seed: number) {
    let z = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      z = (z + 0x9e3779b9) >>> 0;
      let t = z;
      t = Math.imul(t ^ (t >>> 16), 0x85ebca6b);
      t = Math.imul(t ^ (t >>> 13), 0xc2b2ae35);
      this.s[i] = (t ^ (t >>> 16)) >>> 0;
    }
  }
  u32(): number {
    const s = this.s;
    const x = Math.imul(s[1]!, 5);
    const r = Math.imul((x << 7) | (x >>> 25), 9) >>> 0;
    const t = s[1]! << 9;
    s[2]! ^= s[0]!; s[3]! ^= s[1]!; s[1]! ^= s[2]!; s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = (s[3]! << 11) | (s[3]! >>> 21);
    return r;
  }
  below(n: number): number { return Math.floor((this.u32() / 4294967296) * n); }
  chance(p: number): boolean { return this.u32() < p * 4294967296; }
  pick<T>(a: readonly T[]): T { return a[this.below(a.length)]!; }
  u64(): bigint { return (BigInt(this.u32()) << 32n) | BigInt(this.u32()); }
}

interface DiffConfig { name: string; debug: boolean; ramMiB: number; backedMiB?: number; maxPhysAddr: number; seed: number }

const DIFF_CONFIGS: DiffConfig[] = [
  { name: "debug build, MAXPHYADDR 46, 32 MiB", debug: true, ramMiB: 32, maxPhysAddr: 46, seed: 0x1badb002 },
  { name: "release build, MAXPHYADDR 39, 64 MiB with 16 MiB backed", debug: false, ramMiB: 64, backedMiB: 16, maxPhysAddr: 39, seed: 0xc0ffee },
  { name: "release build, MAXPHYADDR 52, 32 MiB", debug: false, ramMiB: 32, maxPhysAddr: 52, seed: 0x5eed5eed },
  { name: "debug build, MAXPHYADDR 36, 64 MiB with 8 MiB backed", debug: true, ramMiB: 64, backedMiB: 8, maxPhysAddr: 36, seed: 0xdeadbeef },
];
const ROUNDS = 12, ACCESSES_PER_ROUND = 1000, ENTRIES_PER_TABLE = 28;
/** Levels the pool's tables are built for (4 = PML4 .. 1 = PT); 1 in 8 links goes to any table. */
const POOL_LEVELS = [4, 4, 3, 3, 3, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1];

function randomRegs(rng: Rng, keep?: RegChoice): RegChoice {
  return {
    wp: rng.chance(0.5), smap: rng.chance(0.35), ac: rng.chance(0.5),
    cpl: rng.pick([0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 3, 3, 3, 3, 3, 3, 3, 3, 1, 2] as const),
    smep: keep ? keep.smep : rng.chance(0.3), nxe: keep ? keep.nxe : rng.chance(0.8), pge: keep ? keep.pge : rng.chance(0.5),
    pg: keep ? keep.pg : !rng.chance(0.02),
  };
}

function randomAccess(rng: Rng): AccessKind {
  const k = rng.below(100);
  const fetch = k < 30, write = k >= 30 && k < 65;
  const user = rng.chance(0.35);
  const implicit = !fetch && !user && rng.chance(0.25);
  return { ...(write ? { write } : {}), ...(fetch ? { fetch } : {}), ...(user ? { user } : {}), ...(implicit ? { implicit } : {}) };
}

function runDifferential(cfg: DiffConfig): Record<string, number> {
  const ram = BigInt(cfg.ramMiB) * MiB, backed = BigInt(cfg.backedMiB ?? cfg.ramMiB) * MiB, M = cfg.maxPhysAddr;
  const mmu = cfg.backedMiB === undefined
    ? Mmu.create({ memory: `${cfg.ramMiB}MiB`, maxPhysAddr: M, debug: cfg.debug })
    : Mmu.create({ memory: `${cfg.ramMiB}MiB`, frameData: false, backedMemory: `${cfg.backedMiB}MiB`, maxPhysAddr: M, debug: cfg.debug });
  const rng = new Rng(cfg.seed);
  const pool = POOL_LEVELS.map(() => BigInt(mmu.allocFrame()) << 12n);
  const poolAt = (level: number) => pool.filter((_, i) => POOL_LEVELS[i] === level);
  const model = new Map<bigint, BigUint64Array>(pool.map((pa) => [pa, new BigUint64Array(512)]));
  const populated = new Map<bigint, number[]>();
  const ramFrames = Number(ram >> 12n), backedFrames = Number(backed >> 12n);
  const read64 = (pa: bigint): bigint => {
    const t = model.get(pa & ~0xfffn);
    return t ? t[Number((pa & 0xfffn) >> 3n)]! : mmu.readPhys64(pa);
  };
  const store = (pa: bigint, v: bigint) => {
    const t = model.get(pa & ~0xfffn);
    if (!t) throw new Error(`test invariant: an update outside the table pool at ${hex(pa)}`);
    t[Number((pa & 0xfffn) >> 3n)] = v;
  };
  const plat: RefPlatform = { maxPhysAddr: M, ramBytes: ram, backedBytes: backed, read64 };
  const stats: Record<string, number> = {};
  const count = (k: string) => { stats[k] = (stats[k] ?? 0) + 1; };

  // Any address a link may hold: a table, frames in RAM of each alignment, RAM without contents,
  // beyond RAM, zero. Returns it with the probability of PS for it.
  const chaosAddr = (): [bigint, number] => {
    const k = rng.below(100);
    if (k < 30) return [rng.pick(pool), 0.15];
    if (k < 50) return [BigInt(rng.below(ramFrames)) << 12n, 0.3];
    if (k < 65) return [BigInt(rng.below(ramFrames >> 9)) << 21n, 0.7];
    if (k < 75) return [BigInt(rng.below(4)) << 30n, 0.7];
    if (k < 83) return backed < ram ? [BigInt(backedFrames + rng.below(ramFrames - backedFrames)) << 12n, 0.3]
      : [ram + (BigInt(rng.below(1 << 20)) << 12n), 0.3];
    if (k < 93) return [(ram + (rng.u64() % ((1n << BigInt(M)) - ram))) & ~0xfffn, 0.4];
    return [0n, 0.3];
  };
  /** The address and PS of an entry in a table built for level. */
  const linkFor = (level: number): [bigint, boolean] => {
    const k = rng.below(100);
    if (k < 12) { const [a, ps] = chaosAddr(); return [a, rng.chance(ps)]; }
    if (level === 1) {
      if (k < 90) return [BigInt(rng.below(ramFrames)) << 12n, rng.chance(0.3)];   // bit 7 is PAT here
      return [chaosAddr()[0], rng.chance(0.3)];
    }
    if (level === 4 || k < 55) return [rng.pick(poolAt(level - 1)), rng.chance(level === 4 ? 0.04 : 0.02)];
    if (level === 3) return [rng.chance(0.75) ? 0n : BigInt(1 + rng.below(3)) << 30n, true];       // 1 GiB leaf
    return [rng.chance(0.85) ? BigInt(rng.below(ramFrames >> 9)) << 21n : BigInt(rng.below(ramFrames)) << 12n, true]; // 2 MiB
  };
  const randomEntry = (level: number): bigint => {
    if (rng.chance(0.06)) return rng.u64() & ~1n; // not present, any junk
    const [addr, ps] = linkFor(level);
    let e = addr | 1n | (ps ? PTE.PSE : 0n);
    if (rng.chance(0.8)) e |= PTE.RW;
    if (rng.chance(0.8)) e |= PTE.USER;
    if (rng.chance(0.12)) e |= PTE.NX;
    if (rng.chance(0.3)) e |= PTE.GLOBAL;
    if (rng.chance(0.3)) e |= PTE.ACCESSED;
    if (rng.chance(0.3)) e |= PTE.DIRTY;
    if (rng.chance(0.1)) e |= PTE.PWT | PTE.PCD;
    if (rng.chance(0.2)) e |= 1n << BigInt(9 + rng.below(3));
    if (rng.chance(0.15)) e |= 1n << BigInt(52 + rng.below(11));
    if (rng.chance(0.04)) e |= M < 52 && rng.chance(0.5) ? 1n << BigInt(M + rng.below(52 - M)) : 1n << BigInt(13 + rng.below(17));
    return e;
  };
  const smallIndex = () => BigInt(rng.chance(0.5) ? rng.below(16) : rng.below(512));
  const randomVa = (root: bigint): bigint => {
    let table: bigint | undefined = root;
    let va = 0n;
    for (let level = 4; level >= 1; level--) {
      const t: BigUint64Array | undefined = table === undefined ? undefined : model.get(table);
      const idx: bigint = t && rng.chance(0.88) ? BigInt(rng.pick(populated.get(table!)!)) : smallIndex();
      va |= idx << BigInt(12 + 9 * (level - 1));
      const e: bigint = t ? t[Number(idx)]! : 0n;
      const next = e & bitRange(12, 51);
      table = (e & 1n) !== 0n && (e & PTE.PSE) === 0n && model.has(next) ? next : undefined;
    }
    va |= BigInt(rng.below(4096));
    va = BigInt.asUintN(64, BigInt.asIntN(48, va));
    if (rng.chance(0.03)) va ^= 1n << BigInt(47 + rng.below(17));
    return va;
  };

  let ctx = "";
  const check = (got: Translation, ref: RefResult, what: string) => {
    const want = expected(ref.outcome);
    if (!sameTranslation(got, want)) expect(fmt(got), `${what}: ${ctx}`).toBe(fmt(want));
  };
  const checkMemory = (ref: RefResult, what: string) => {
    for (const pa of new Set(ref.reads)) {
      const got = mmu.readPhys64(pa), want = read64(pa);
      if (got !== want) expect(hex(got), `${what}: entry at ${hex(pa)}: ${ctx}`).toBe(hex(want));
    }
  };
  const describeWalk = (ref: RefResult) => ref.reads.map((pa) => `${hex(pa)}=${hex(read64(pa))}`).join(" ");
  const tally = (o: RefOutcome) => {
    if (o.ok) count(`ok ${o.pageSize}`);
    else if (o.fault === "#PF") count(`#PF ec=${o.errorCode}`);
    else count(o.fault);
  };

  const stats0 = mmu.cpuStats(0);
  for (let round = 0; round < ROUNDS; round++) {
    // A fresh random graph of tables: any table may be used at any level, and point at any other.
    for (const [n, pa] of pool.entries()) {
      mmu.frameBytes(Number(pa >> 12n)).fill(0);
      const t = model.get(pa)!;
      t.fill(0n);
      const idx = new Set<number>();
      while (idx.size < ENTRIES_PER_TABLE) idx.add(rng.chance(0.5) ? rng.below(16) : rng.below(512));
      for (const i of idx) {
        const e = randomEntry(POOL_LEVELS[n]!);
        t[i] = e;
        mmu.writePhys64(pa + BigInt(i * 8), e);
      }
      populated.set(pa, [...idx]);
    }
    mmu.invpcid(0, INVPCID.ALL_INCLUDING_GLOBAL, 0);
    for (let i = 0; i < ACCESSES_PER_ROUND; i++) {
      const root = rng.chance(0.85) ? rng.pick(poolAt(4)) : rng.pick(pool);
      mmu.setCr3(0, root | (rng.chance(0.2) ? 0x18n : 0n)); // PWT, PCD: not address bits
      const regs = randomRegs(rng);
      setRegs(mmu, regs);
      const va = randomVa(root);
      const access = randomAccess(rng);
      const regVals = mmu.registers(0);
      const ref = refWalk(plat, regVals, va, access);
      ctx = `[${cfg.name}, seed ${cfg.seed}, round ${round}, access ${i}] va=${hex(va)} access=${JSON.stringify(access)} ` +
        `regs=${JSON.stringify(regs)} walk: ${describeWalk(ref)} reference: ${fmt(expected(ref.outcome))}`;
      tally(ref.outcome);
      if (regs.pg === false) count("paging off");
      // (a) the full walk; then the A/D bits it left.
      check(mmu.walk(0, va, access), ref, "mmu.walk");
      for (const w of ref.writes) store(w.pa, w.value);
      checkMemory(ref, "after mmu.walk");
      // (b) the same access through mmu.translate with an empty TLB, from the same memory.
      for (const w of [...ref.writes].reverse()) { store(w.pa, w.old); mmu.writePhys64(w.pa, w.old); }
      mmu.invpcid(0, INVPCID.ALL_INCLUDING_GLOBAL, 0);
      check(mmu.translate(0, va, access), ref, "mmu.translate after a flush");
      for (const w of ref.writes) store(w.pa, w.value);
      checkMemory(ref, "after mmu.translate");
      // (c) a second access to va through the TLB (now holding the translation if (b) succeeded), under
      // other rights-related registers: cached rights are checked at each use (SDM 4.10.2.2).
      const regs2 = randomRegs(rng, regs);
      setRegs(mmu, regs2);
      const access2 = randomAccess(rng);
      const ref2 = refWalk(plat, mmu.registers(0), va, access2);
      ctx += ` | then access=${JSON.stringify(access2)} regs=${JSON.stringify(regs2)} reference: ${fmt(expected(ref2.outcome))}`;
      check(mmu.translate(0, va, access2), ref2, "mmu.translate through the TLB");
      for (const w of ref2.writes) store(w.pa, w.value);
      checkMemory(ref2, "after the second mmu.translate");
      count("accesses");
    }
    // Nothing else in the pool changed.
    for (const pa of pool) {
      const got = new BigUint64Array(mmu.frameBytes(Number(pa >> 12n)).slice().buffer);
      const want = model.get(pa)!;
      for (let j = 0; j < 512; j++) {
        if (got[j] !== want[j]) expect(hex(got[j]!), `round ${round}: table ${hex(pa)} entry ${j}`).toBe(hex(want[j]!));
      }
    }
  }
  // No write landed outside the pool: every other frame with contents is still zero.
  const inPool = new Set(pool.map((pa) => Number(pa >> 12n)));
  const words = new Uint32Array(mmu.memory.buffer, mmu.layout.framesBase, backedFrames * 1024);
  for (let f = 0; f < backedFrames; f++) {
    if (inPool.has(f)) continue;
    for (let j = f * 1024; j < f * 1024 + 1024; j++) if (words[j] !== 0) expect(`pfn ${f} word ${j % 1024} = ${words[j]}`).toBe("zero");
  }
  const s = mmu.cpuStats(0);
  stats.tlbHits = Number(s.tlbHit! - stats0.tlbHit!);
  return stats;
}

describe("differential testing against the reference walker (SDM 4.5-4.8)", () => {
  for (const cfg of DIFF_CONFIGS) {
    it(cfg.name, () => {
      const stats = runDifferential(cfg);
      expect(stats.accesses).toBe(ROUNDS * ACCESSES_PER_ROUND);
      // The generator reached every kind of outcome (otherwise the comparison proves little).
      const pf = (ec: number) => stats[`#PF ec=${ec}`] ?? 0;
      const sum = (pred: (ec: number) => boolean) => Object.entries(stats)
        .filter(([k]) => k.startsWith("#PF ec=") && pred(Number(k.slice(7)))).reduce((a, [, v]) => a + v, 0);
      expect(stats["ok 4096"], "4 KiB translations").toBeGreaterThan(20);
      expect(stats["ok 2097152"], "2 MiB translations").toBeGreaterThan(10);
      expect(stats["ok 1073741824"], "1 GiB translations").toBeGreaterThan(3);
      expect(stats["#GP"], "#GP").toBeGreaterThan(10);
      expect(stats.bus, "bus faults").toBeGreaterThan(10);
      expect(sum((ec) => (ec & P) === 0), "not-present faults").toBeGreaterThan(50);
      expect(sum((ec) => (ec & (P | R)) === P), "protection faults").toBeGreaterThan(50);
      expect(sum((ec) => (ec & R) !== 0), "reserved-bit faults").toBeGreaterThan(50);
      expect(sum((ec) => (ec & I) !== 0 && (ec & P) !== 0), "fetch faults with I/D").toBeGreaterThan(10);
      expect(pf(P) + pf(P | W), "supervisor protection faults (WP/SMAP)").toBeGreaterThan(10);
      expect(stats.tlbHits, "TLB hits in the second translation").toBeGreaterThan(200);
      expect(stats["paging off"], "accesses with CR0.PG = 0").toBeGreaterThan(20);
    });
  }
});
