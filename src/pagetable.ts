// Building x86-64 page tables in the emulated physical memory from the host, as an embedder or a
// boot loader would (the shape of xv6's walk()/mappages()). The kernel model of later layers builds
// its own tables inside the core; this is for tools, tests and benchmarks.
import type { Mmu, Address } from "./mmu.js";
import { toU64 } from "./mmu.js";
import { PTE, PAGE_SIZE_4K, PAGE_SIZE_2M, PAGE_SIZE_1G, pteIndex } from "./arch/x86.js";
import { ConfigError } from "./core/errors.js";

/** Flags of the non-leaf entries this builder creates: rights are decided by the leaves. */
export const TABLE_FLAGS = PTE.PRESENT | PTE.RW | PTE.USER;

export type PageSize = typeof PAGE_SIZE_4K | typeof PAGE_SIZE_2M | typeof PAGE_SIZE_1G;

export class PageTableBuilder {
  /** Physical address of the PML4 (what CR3 points at). */
  readonly root: bigint;

  constructor(private readonly mmu: Mmu, root?: bigint) {
    this.root = root ?? BigInt(mmu.allocFrame()) << 12n;
  }

  /** Physical address of the entry for va at level (4..1), allocating tables above it as needed. */
  entryAddress(va: Address, level: 1 | 2 | 3 | 4): bigint {
    const a = toU64("va", va);
    let table = this.root;
    for (let l = 4; l > level; l--) {
      const ep = table + BigInt(pteIndex(a, l as 1 | 2 | 3 | 4) * 8);
      let e = this.mmu.readPhys64(ep);
      if ((e & PTE.PRESENT) === 0n) {
        e = (BigInt(this.mmu.allocFrame()) << 12n) | TABLE_FLAGS;
        this.mmu.writePhys64(ep, e);
      } else if ((e & PTE.PSE) !== 0n) {
        throw new ConfigError(`map: 0x${a.toString(16)} is already inside a large page at level ${l}`);
      }
      table = e & PTE.ADDR_MASK;
    }
    return table + BigInt(pteIndex(a, level) * 8);
  }

  /** Map the page of size pageSize at va to physical address pa with flags (PTE.*; P is added). */
  map(va: Address, pa: Address, flags: bigint, pageSize: PageSize = PAGE_SIZE_4K): bigint {
    const a = toU64("va", va), p = toU64("pa", pa);
    const size = BigInt(pageSize);
    if (a % size !== 0n || p % size !== 0n) throw new ConfigError(`map: va and pa must be aligned to the ${pageSize}-byte page`);
    const level = pageSize === PAGE_SIZE_4K ? 1 : pageSize === PAGE_SIZE_2M ? 2 : 3;
    const ep = this.entryAddress(a, level);
    const e = p | flags | PTE.PRESENT | (level > 1 ? PTE.PSE : 0n);
    this.mmu.writePhys64(ep, e);
    return ep;
  }

  /** Map npages consecutive 4 KiB pages from va to frames allocated for them; returns their pfns. */
  mapFresh(va: Address, npages: number, flags: bigint): number[] {
    const a = toU64("va", va);
    const pfns: number[] = [];
    for (let i = 0; i < npages; i++) {
      const pfn = this.mmu.allocFrame({ zero: false, highmem: true });
      this.map(a + BigInt(i * PAGE_SIZE_4K), BigInt(pfn) << 12n, flags);
      pfns.push(pfn);
    }
    return pfns;
  }
}
