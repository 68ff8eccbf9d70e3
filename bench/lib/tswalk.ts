// The page walker of assembly/arch/x86/pgtable.ts (paging_walk) and the loop of
// assembly/lib/bench_walk.ts (bench_translate with tlb = 0), written in plain TypeScript over the
// machine's shared memory: the baseline the Wasm core is measured against.
//
// Same algorithm, same checks: the 4 levels from CR3, P, the reserved bits (MAXPHYADDR..51, XD
// without EFER.NXE, PS in a PML4E, 13..29 of a 1 GiB and 13..20 of a 2 MiB leaf), R/W and U/S
// ANDed and XD ORed over the levels, the rights check of SDM 4.6 against CR0.WP, CR4.SMEP/SMAP,
// RFLAGS.AC, EFER.NXE and the access kind, A set on each non-leaf entry and A (and D for writes) on
// the leaf with a compare-and-swap against the value read (the whole walk restarts if it fails), a
// bus fault for a table outside RAM with contents or a frame beyond RAM; the same xorshift32 and
// orders; the same result (XOR of the physical addresses masked to 63 bits, or -vector).
// With fill = true the walker also does what paging_walk does after the walk: counts the walk and caches
// the translation in a TLB of the core's shape (64 x 4 entries of 4 KiB, 8 x 4 of 2 MiB, 1 x 4 of
// 1 GiB, 16-byte tag/data entries, first invalid way else a round-robin victim per set, one more
// counter per fill). That TLB is this walker's own (an ArrayBuffer), not CPU 0's.
//
// "Reasonably optimised" JavaScript: 64-bit entries are read as two Uint32 halves (little-endian)
// so the common path has no BigInt; the physical addresses of tables fit in 32 bits because frames
// with contents are inside a wasm32 memory. BigInt appears only on the compare-and-swap path (a
// missing A/D bit, never taken in the steady state the benchmark measures). The halves are read
// with two plain loads, not one atomic 64-bit load: fine single-threaded, which the benchmark is.
// Differences from the core, all in this walker's favour: the control registers are read once at
// creation rather than at each walk, and a fault returns -vector without writing a fault record.
// Paging must be on (CR0.PG): the unpaged identity translation is not modelled here.

export const ORDER = { independent: 0, dependent: 1, sequential: 2 } as const;
export type OrderName = keyof typeof ORDER;

const PF = -14; // -vector of a page fault
const MC = -18; // -vector of a bus fault (machine check)
const GP = -13;

const ACC_WRITE = 2, ACC_USER = 4, ACC_FETCH = 16, ACC_IMPLICIT = 256;

/** Mirror TLB geometry (sets per page size; 4 ways; 4 u32 words per entry: tagLo, tagHi, dataLo, dataHi). */
const SETS = [64, 8, 1] as const;
const WAYS = 4;
const SET_WORDS = WAYS * 4;
const OFF = [0, 64 * SET_WORDS, (64 + 8) * SET_WORDS] as const;
const CURSOR = [0, 64, 72] as const;

export interface CpuModeRegs {
  cr0: bigint; cr3: bigint; cr4: bigint; efer: bigint; rflags: bigint; cpl: number;
}

export interface TsWalkerSetup {
  /** The machine's memory (Mmu.memory.buffer). */
  buffer: ArrayBufferLike;
  /** Host offset of physical address 0 (layout.framesBase). */
  framesBase: number;
  /** Bytes of RAM with contents (layout.nrBacked x 4096). */
  backedLimit: number;
  /** Bytes of RAM (layout.nrFrames x 4096). */
  ramLimit: number;
  maxPhysAddr: number;
  /** CPU 0's registers (Mmu.registers(0)), read once. */
  regs: CpuModeRegs;
}

export interface TsWalkerStats { walks: number; fills: number; setAccessed: number; setDirty: number; restarts: number }

export interface TsWalker {
  /**
   * Same contract as cpu_bench_translate(cpu, vaBase, spanPages, iters, seed, order, tlb = 0);
   * fill: also count the walks and fill this walker's TLB, as the core does.
   */
  bench(vaBase: bigint, spanPages: number, iters: number, seed: number, order: number, fill: boolean): bigint;
  /** Translate one address (supervisor read unless access says otherwise), with fill: pa or -vector. */
  walk(va: bigint, access?: number): bigint;
  /** Valid entries in this walker's TLB (0 without fill). */
  tlbValid(): number;
  flushTlb(): void;
  stats(): TsWalkerStats;
}

/**
 * One walker serves both variants (fill is an argument): V8 specialises a closure's code to its
 * context constants only while the factory has made a single closure, so make one walker per process.
 */
export function createTsWalker(s: TsWalkerSetup): TsWalker {
  const u32 = new Uint32Array(s.buffer);
  const u64 = new BigUint64Array(s.buffer);
  const fb = s.framesBase;
  const backedLimit = s.backedLimit;
  const ramLimit = s.ramLimit;
  const r = s.regs;
  if ((r.cr0 & (1n << 31n)) === 0n) throw new Error("tswalk: paging is off (CR0.PG = 0)");
  if (fb % 8 !== 0 || fb + backedLimit > 2 ** 32) throw new Error("tswalk: frames with contents must lie in a wasm32 memory");
  const nxe = (r.efer & (1n << 11n)) !== 0n;
  const wp = (r.cr0 & (1n << 16n)) !== 0n;
  const pge = (r.cr4 & (1n << 7n)) !== 0n;
  const pcide = (r.cr4 & (1n << 17n)) !== 0n;
  const smep = (r.cr4 & (1n << 20n)) !== 0n;
  const smap = (r.cr4 & (1n << 21n)) !== 0n;
  const ac = (r.rflags & (1n << 18n)) !== 0n;
  const cr3Lo = Number(r.cr3 & 0xffff_f000n);
  const cr3Hi = Number((r.cr3 >> 32n) & 0xfffffn);
  const pcid = pcide ? Number(r.cr3 & 0xfffn) : 0;
  // Reserved physical-address bits MAXPHYADDR..51 live in bits (m - 32)..19 of the high half.
  const m = s.maxPhysAddr;
  const rsvdHi = (0xfffff & ~((1 << (m - 32)) - 1)) | (nxe ? 0 : 0x8000_0000);
  const cpl3 = r.cpl === 3;

  const tlb = new Uint32Array((64 + 8 + 1) * SET_WORDS);
  const cursor = new Uint8Array(64 + 8 + 1);
  // Event counters in memory, as the core's per-CPU counters (a closure variable would turn into a
  // heap number past 2^30 increments): walks, fills, A set, D set, restarts.
  const count = new Float64Array(5);
  let rLo = 0, rHi = 0; // the last successful walk's physical address, as two u32 halves

  /** access_denied of pgtable.ts, on the registers read at creation. */
  function denied(access: number, rw: boolean, us: boolean, xd: boolean): boolean {
    const fetch = (access & ACC_FETCH) !== 0;
    const write = (access & ACC_WRITE) !== 0;
    if ((access & ACC_USER) !== 0) {
      if (!us) return true;
      if (write && !rw) return true;
      return fetch && nxe && xd;
    }
    if (us) {
      if (fetch) {
        if (smep) return true;
      } else if (smap) {
        if ((access & ACC_IMPLICIT) !== 0 || !ac) return true;
      }
    }
    if (write && !rw && wp) return true;
    return fetch && nxe && xd;
  }

  /** Locked update of the entry at u32 index w from (hi, lo) to (hi, nlo); false if it changed. */
  function cas(w: number, lo: number, hi: number, nlo: number): boolean {
    const old = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
    const nu = (BigInt(hi >>> 0) << 32n) | BigInt(nlo >>> 0);
    return Atomics.compareExchange(u64, w >>> 1, old, nu) === old;
  }

  /** tlb_fill of tlb.ts: size 0/1/2 = 4 KiB/2 MiB/1 GiB, frame (fHi, fLo), data rights bits. */
  function tlbFill(vaHi: number, vaLo: number, size: number, shift: number, fHi: number, fLo: number, rights: number, xd: boolean, global: boolean): void {
    const vh = vaHi & 0xffff;
    const vpnLo = ((vh << (32 - shift)) | (vaLo >>> shift)) >>> 0;
    const vpnHi = vh >>> shift;
    const keyLo = ((vpnLo << 16) | (pcid << 1) | 1 | (global ? 0x2000 : 0)) >>> 0;
    const keyHi = ((vpnLo >>> 16) | (vpnHi << 16)) >>> 0;
    const si = vpnLo & (SETS[size]! - 1);
    const set = OFF[size]! + si * SET_WORDS;
    let victim = -1;
    for (let w = 0; w < WAYS; w++) {
      if ((tlb[set + w * 4]! & 1) === 0) { victim = set + w * 4; break; }
    }
    if (victim < 0) {
      const c = CURSOR[size]! + si;
      const w = cursor[c]!;
      cursor[c] = (w + 1) & (WAYS - 1);
      victim = set + w * 4;
    }
    tlb[victim + 2] = (fLo | rights | (size << 9)) >>> 0;
    tlb[victim + 3] = (fHi | (xd ? 0x8000_0000 : 0)) >>> 0;
    tlb[victim] = keyLo;
    tlb[victim + 1] = keyHi;
    count[1]!++;
  }

  /** paging_walk for the canonical address (vaHi:vaLo): 0 with the PA in rHi:rLo, or -vector. */
  function walk(vaHi: number, vaLo: number, access: number, fill: boolean): number {
    const write = (access & ACC_WRITE) !== 0;
    if (fill) count[0]!++;
    for (;;) { // restart point: an entry changed under a locked A/D update
      if (cr3Hi !== 0) return MC; // a PML4 above 4 GiB is outside RAM with contents
      let table = cr3Lo;
      let rw = ACC_WRITE, us = ACC_USER, xd = 0; // the entry bits R/W = 2 and U/S = 4; XD = bit 31 of hi
      let level = 4;
      for (;;) {
        const idx = level === 4 ? (vaHi >>> 7) & 511
          : level === 3 ? ((vaHi << 2) | (vaLo >>> 30)) & 511
          : (vaLo >>> (level === 2 ? 21 : 12)) & 511;
        const ep = table + idx * 8;
        if (ep >= backedLimit) return MC;
        const w = (fb + ep) >>> 2;
        const lo = u32[w]!, hi = u32[w + 1]!;
        if ((lo & 1) === 0) return PF;
        const leaf = level === 1 || (level <= 3 && (lo & 0x80) !== 0);
        let bad = hi & rsvdHi;
        if (level === 4) bad |= lo & 0x80;
        else if (leaf && level === 3) bad |= lo & 0x3fff_e000;
        else if (leaf && level === 2) bad |= lo & 0x001f_e000;
        if (bad !== 0) return PF;
        rw &= lo;
        us &= lo;
        xd |= hi;
        if (!leaf) {
          if ((lo & 0x20) === 0) {
            if (!cas(w, lo, hi, lo | 0x20)) break;
            count[2]!++;
          }
          if ((hi & 0xfffff) !== 0) return MC; // the next table is above 4 GiB: outside RAM with contents
          table = (lo & 0xffff_f000) >>> 0;
          level--;
          continue;
        }
        if (denied(access, rw !== 0, us !== 0, xd < 0)) return PF;
        let fLo: number, oLo: number, shift: number;
        if (level === 1) { fLo = (lo & 0xffff_f000) >>> 0; oLo = vaLo & 0xfff; shift = 12; }
        else if (level === 2) { fLo = (lo & 0xffe0_0000) >>> 0; oLo = vaLo & 0x1f_ffff; shift = 21; }
        else { fLo = (lo & 0xc000_0000) >>> 0; oLo = vaLo & 0x3fff_ffff; shift = 30; }
        const fHi = hi & 0xfffff;
        const paLo = (fLo | oLo) >>> 0;
        if (fHi * 4294967296 + paLo >= ramLimit) return MC;
        const ne = (lo | 0x20 | (write ? 0x40 : 0)) >>> 0;
        if (ne !== lo) {
          if (!cas(w, lo, hi, ne)) break;
          if ((lo & 0x20) === 0) count[2]!++;
          if ((ne & ~lo & 0x40) !== 0) count[3]!++;
        }
        if (fill) {
          const rights = (rw !== 0 ? 2 : 0) | (us !== 0 ? 4 : 0) | (ne & 0x40);
          tlbFill(vaHi, vaLo, level - 1, shift, fHi, fLo, rights, xd < 0, (lo & 0x100) !== 0 && pge);
        }
        rLo = paLo;
        rHi = fHi;
        return 0;
      }
      count[4]!++;
    }
  }

  /** mmu_walk's checks before the walk: canonical address, CPL 3 accesses are user accesses. */
  function walkVa(vaHi: number, vaLo: number, access: number, fill: boolean): number {
    const top = vaHi >>> 15;
    if (top !== 0 && top !== 0x1ffff) return GP;
    return walk(vaHi, vaLo, cpl3 && (access & ACC_IMPLICIT) === 0 ? access | ACC_USER : access, fill);
  }

  function bench(vaBase: bigint, spanPages: number, iters: number, seed: number, order: number, fill: boolean): bigint {
    if (spanPages <= 0 || (spanPages & (spanPages - 1)) !== 0 || order < 0 || order > 2) return -22n; // -EINVAL
    const baseLo = Number(vaBase & 0xffff_ffffn), baseHi = Number((vaBase >> 32n) & 0xffff_ffffn);
    const mask = spanPages - 1;
    let x = (seed | 1) | 0;
    let accLo = 0, accHi = 0, prevPfn = 0;
    for (let n = 0; n < iters; n++) {
      let page: number;
      if (order === 2) {
        page = n & mask;
      } else {
        x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
        page = (order === 1 ? x ^ prevPfn : x) & mask;
      }
      const lo = baseLo + page * 4096;
      const vaLo = lo >>> 0;
      const vaHi = (baseHi + (lo >= 4294967296 ? 1 : 0)) >>> 0;
      const st = walkVa(vaHi, vaLo, 0, fill);
      if (st < 0) return BigInt(st);
      prevPfn = (rHi << 20) | (rLo >>> 12); // <u32>(pa >> 12)
      accLo ^= rLo;
      accHi ^= rHi;
    }
    return (BigInt((accHi & 0x7fff_ffff) >>> 0) << 32n) | BigInt(accLo >>> 0);
  }

  return {
    bench,
    walk(va: bigint, access = 0): bigint {
      const a = BigInt.asUintN(64, va);
      const st = walkVa(Number(a >> 32n), Number(a & 0xffff_ffffn), access, true);
      return st < 0 ? BigInt(st) : (BigInt(rHi) << 32n) | BigInt(rLo);
    },
    tlbValid(): number {
      let n = 0;
      for (let i = 0; i < tlb.length; i += 4) n += tlb[i]! & 1;
      return n;
    },
    flushTlb(): void { tlb.fill(0); cursor.fill(0); },
    stats: () => ({ walks: count[0]!, fills: count[1]!, setAccessed: count[2]!, setDirty: count[3]!, restarts: count[4]! }),
  };
}
