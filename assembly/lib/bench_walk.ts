// Benchmark kernels for the paging unit: loops inside Wasm, so that one host call measures many
// translations (a call per walk with BigInt arguments costs more than the walk itself).
import { this_cpu } from "../percpu";
import { mmu_translate, mmu_walk } from "../arch/x86/mmu";

export const BENCH_INDEPENDENT: u32 = 0; // addresses drawn independently of each other
export const BENCH_DEPENDENT: u32 = 1;   // each address depends on the previous translation's result
export const BENCH_SEQUENTIAL: u32 = 2;  // consecutive pages

/**
 * bench_translate - iters translations of pages in [va_base, va_base + span_pages x 4 KiB) on this
 * CPU, in the given order (BENCH_*), either through the TLB (tlb = true: mmu_translate) or as full
 * walks that bypass the TLB lookup (mmu_walk). Returns the XOR of the physical addresses (so the
 * work cannot be optimised away), or the first fault's negated vector.
 */
export function bench_translate(va_base: u64, span_pages: u32, iters: u32, seed: u32, order: u32, tlb: bool): i64 {
  const p = this_cpu();
  const mask = span_pages - 1; // span_pages is a power of two (checked by the caller)
  let x = seed | 1, acc: u64 = 0, prev: u64 = 0;
  for (let n: u32 = 0; n < iters; n++) {
    let page: u32;
    if (order == BENCH_SEQUENTIAL) {
      page = n & mask;
    } else {
      x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
      page = (order == BENCH_DEPENDENT ? x ^ <u32>(prev >> 12) : x) & mask;
    }
    const va = va_base + (<u64>page << 12);
    const pa = tlb ? mmu_translate(p, va, 0) : mmu_walk(p, va, 0);
    if (pa < 0) return pa;
    prev = <u64>pa;
    acc ^= prev;
  }
  return <i64>(acc & 0x7fff_ffff_ffff_ffff);
}
