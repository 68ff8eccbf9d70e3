// The page walk of bench/lib/tswalk.ts written the straightforward way: entries as BigInts read with
// one atomic 64-bit load from a BigUint64Array (as the core reads them), addresses as BigInts. Same
// checks, A/D compare-and-swap, xorshift32, orders and checksum as the Wasm kernel
// (cpu_bench_translate with tlb = 0); no TLB fill or counters, so it compares with the bare walkers.
// It is in the benchmark for information: it shows what the 64-bit arithmetic costs in JavaScript
// when it is left to BigInt, next to the Uint32-halves walker that avoids it.
import type { TsWalkerSetup } from "./tswalk.js";

const PRESENT = 1n, RW = 2n, USER = 4n, ACCESSED = 0x20n, DIRTY = 0x40n, PSE = 0x80n, NX = 1n << 63n;
const PFN_MASK = 0x000f_ffff_ffff_f000n;
const RSVD_1G = 0x3fff_e000n, RSVD_2M = 0x001f_e000n;
const ACC_WRITE = 2, ACC_USER = 4, ACC_FETCH = 16, ACC_IMPLICIT = 256;

export interface BigIntWalker {
  /** Same contract as cpu_bench_translate(cpu, vaBase, spanPages, iters, seed, order, tlb = 0). */
  bench(vaBase: bigint, spanPages: number, iters: number, seed: number, order: number): bigint;
}

export function createBigIntWalker(s: TsWalkerSetup): BigIntWalker {
  const u64 = new BigUint64Array(s.buffer);
  const r = s.regs;
  if ((r.cr0 & (1n << 31n)) === 0n) throw new Error("tswalk-bigint: paging is off (CR0.PG = 0)");
  if (s.framesBase % 8 !== 0) throw new Error("tswalk-bigint: framesBase is not 8-byte aligned");
  const fbWords = s.framesBase / 8;
  const backed = BigInt(s.backedLimit), ram = BigInt(s.ramLimit);
  const regs = r; // read at each walk, as the core reads its per-CPU registers

  function denied(access: number, rw: boolean, us: boolean, xd: boolean): boolean {
    const nxe = (regs.efer & (1n << 11n)) !== 0n;
    const fetch = (access & ACC_FETCH) !== 0, write = (access & ACC_WRITE) !== 0;
    if ((access & ACC_USER) !== 0) return !us || (write && !rw) || (fetch && nxe && xd);
    if (us) {
      if (fetch) {
        if ((regs.cr4 & (1n << 20n)) !== 0n) return true;
      } else if ((regs.cr4 & (1n << 21n)) !== 0n) {
        if ((access & ACC_IMPLICIT) !== 0 || (regs.rflags & (1n << 18n)) === 0n) return true;
      }
    }
    if (write && !rw && (regs.cr0 & (1n << 16n)) !== 0n) return true;
    return fetch && nxe && xd;
  }

  function walk(va: bigint, access: number): bigint {
    if (BigInt.asUintN(64, BigInt.asIntN(48, va)) !== va) return -13n;
    if (regs.cpl === 3 && (access & ACC_IMPLICIT) === 0) access |= ACC_USER;
    const nxe = (regs.efer & (1n << 11n)) !== 0n;
    const rsvd = (PFN_MASK & ~((1n << BigInt(s.maxPhysAddr)) - 1n)) | (nxe ? 0n : NX);
    const write = (access & ACC_WRITE) !== 0;
    for (;;) {
      let table = regs.cr3 & PFN_MASK;
      let rw = true, us = true, xd = false;
      let shift = 39n;
      let level = 4;
      for (;;) {
        const ep = table | (((va >> shift) & 511n) << 3n);
        if (ep >= backed) return -18n;
        const i = fbWords + Number(ep >> 3n);
        const e = Atomics.load(u64, i);
        if ((e & PRESENT) === 0n) return -14n;
        let bad = e & rsvd;
        const leaf = level === 1 || (level <= 3 && (e & PSE) !== 0n);
        if (level === 4) bad |= e & PSE;
        else if (leaf && level === 3) bad |= e & RSVD_1G;
        else if (leaf && level === 2) bad |= e & RSVD_2M;
        if (bad !== 0n) return -14n;
        rw = rw && (e & RW) !== 0n;
        us = us && (e & USER) !== 0n;
        xd = xd || (e & NX) !== 0n;
        if (!leaf) {
          if ((e & ACCESSED) === 0n && Atomics.compareExchange(u64, i, e, e | ACCESSED) !== e) break;
          table = e & PFN_MASK;
          shift -= 9n;
          level--;
          continue;
        }
        if (denied(access, rw, us, xd)) return -14n;
        const offmask = (1n << shift) - 1n;
        const pa = (e & PFN_MASK & ~offmask) | (va & offmask);
        if (pa >= ram) return -18n;
        const ne = e | ACCESSED | (write ? DIRTY : 0n);
        if (ne !== e && Atomics.compareExchange(u64, i, e, ne) !== e) break;
        return pa;
      }
    }
  }

  return {
    bench(vaBase: bigint, spanPages: number, iters: number, seed: number, order: number): bigint {
      if (spanPages <= 0 || (spanPages & (spanPages - 1)) !== 0 || order < 0 || order > 2) return -22n;
      const mask = spanPages - 1;
      let x = (seed | 1) | 0;
      let acc = 0n, prev = 0n;
      for (let n = 0; n < iters; n++) {
        let page: number;
        if (order === 2) {
          page = n & mask;
        } else {
          x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
          page = (order === 1 ? x ^ Number(BigInt.asUintN(32, prev >> 12n)) : x) & mask;
        }
        const pa = walk(vaBase + BigInt(page * 4096), 0);
        if (pa < 0n) return pa;
        prev = pa;
        acc ^= pa;
      }
      return acc & 0x7fff_ffff_ffff_ffffn;
    },
  };
}
