// Shared set-up for the reverse-map tests: a machine, mms and vmas built by the test kernels of
// assembly/lib/test_rmap.ts, and readers of the rmap structures in shared memory.
import { Mmu, CR4, type MachineOptions } from "../../src/index.js";
import { constant, type CoreExports } from "../../src/core/abi.js";

export const BASE = 0x1000_0000n;
export const PAGE = 4096n;

export class RmapWorld {
  readonly c: (name: keyof CoreExports) => number;
  constructor(readonly mmu: Mmu) {
    this.c = (name) => constant(mmu.exports, name);
  }

  static create(opts: MachineOptions & { config?: number } = {}): RmapWorld {
    const { config, ...rest } = opts;
    const mmu = Mmu.create({ memory: "8MiB", debug: true, cpus: 2, ...rest });
    if (config !== undefined) expect0(mmu.call("mm_config_write", config));
    return new RmapWorld(mmu);
  }

  u32(addr: number): number {
    return new DataView(this.mmu.memory.buffer).getUint32(addr, true);
  }
  i32(addr: number): number {
    return new DataView(this.mmu.memory.buffer).getInt32(addr, true);
  }

  mm(pcid = 1): number {
    const mm = Number(this.mmu.call("cpu_test_mm_create", 0, pcid));
    if (mm === 0) throw new Error("test_mm_create failed");
    return mm;
  }
  vma(mm: number, start: bigint, pages: number, flags = this.c("VM_READ") | this.c("VM_WRITE"), file = 0, pgoff = 0xffffffff): number {
    const v = Number(this.mmu.call("cpu_test_vma_create", 0, mm, start, start + BigInt(pages) * PAGE, flags, file, pgoff));
    if (v === 0) throw new Error("test_vma_create failed");
    return v;
  }
  faultAnon(vma: number, addr: bigint, seed = 1, cpu = 0): number {
    const pfn = Number(this.mmu.call("cpu_test_fault_anon", cpu, vma, addr, seed));
    if (pfn < 0) throw new Error(`test_fault_anon: ${pfn}`);
    return pfn;
  }
  fork(childMm: number, pvma: number): number {
    const v = Number(this.mmu.call("cpu_test_fork_vma", 0, childMm, pvma));
    if (v === 0) throw new Error("test_fork_vma failed");
    return v;
  }
  split(vma: number, addr: bigint): number {
    const v = Number(this.mmu.call("cpu_test_split_vma", 0, vma, addr));
    if (v === 0) throw new Error("test_split_vma failed");
    return v;
  }
  unmap(vma: number): number {
    return Number(this.mmu.call("cpu_test_unmap_vma", 0, vma));
  }
  pte(mm: number, addr: bigint): bigint {
    return BigInt.asUintN(64, BigInt(this.mmu.call("test_rmap_pte_read", mm, addr)));
  }

  /** Run cpu on mm's page tables under mm's PCID. */
  load(cpu: number, mm: number): void {
    this.mmu.setCr4(cpu, CR4.PAE | CR4.PGE | CR4.PCIDE);
    this.mmu.setCr3(cpu, (BigInt(this.u32(mm + this.c("MM_PGD"))) << 12n) | BigInt(this.u32(mm + this.c("MM_PCID"))));
  }
  /** A user access by cpu: the pfn it reached, or -1 on a fault. */
  touch(cpu: number, va: bigint, write = false): number {
    const t = this.mmu.translate(cpu, va, { user: true, write });
    return t.ok ? Number(t.pa >> 12n) : -1;
  }
  rss(mm: number, idx: number): number { return this.i32(mm + this.c("MM_RSS") + idx * 4); }

  anonVma(vma: number): number { return this.u32(vma + this.c("VMA_ANON_VMA")); }
  root(av: number): number { return this.u32(av + this.c("AV_ROOT")); }
  refcount(av: number): number { return this.i32(av + this.c("AV_REFCOUNT")); }

  /** The anon_vmas on vma's chain list, in order. */
  chainOf(vma: number): number[] {
    const out: number[] = [];
    for (let avc = this.u32(vma + this.c("VMA_ANON_VMA_CHAIN")); avc !== 0; avc = this.u32(avc + this.c("AVC_SAME_VMA"))) {
      if (this.u32(avc + this.c("AVC_VMA")) !== vma) throw new Error("avc on the wrong vma's list");
      out.push(this.u32(avc + this.c("AVC_ANON_VMA")));
    }
    return out;
  }
  /** The vmas on av's list: through its chains (2.6.34), or directly (2.6.25), checking the back links. */
  vmasOf(av: number, era2625 = false): number[] {
    const out: number[] = [];
    const next = era2625 ? this.c("VMA_AV_NODE_NEXT") : this.c("AVC_NEXT");
    const prev = era2625 ? this.c("VMA_AV_NODE_PREV") : this.c("AVC_PREV");
    let last = 0;
    for (let e = this.u32(av + this.c("AV_HEAD")); e !== 0; e = this.u32(e + next)) {
      if (this.u32(e + prev) !== last) throw new Error("broken prev link on the anon_vma's list");
      if (!era2625 && this.u32(e + this.c("AVC_ANON_VMA")) !== av) throw new Error("avc on the wrong anon_vma's list");
      out.push(era2625 ? e : this.u32(e + this.c("AVC_VMA")));
      last = e;
    }
    if (this.u32(av + this.c("AV_TAIL")) !== last) throw new Error("anon_vma tail is not the last entry");
    return out;
  }

  page(pfn: number): number {
    return Number(this.mmu.layout.memMap) + pfn * 32;
  }
  mapcount(pfn: number): number { return this.i32(this.page(pfn) + 8) + 1; }
  refs(pfn: number): number { return this.i32(this.page(pfn) + 4); }
  mapping(pfn: number): number { return this.u32(this.page(pfn) + 12); }
  index(pfn: number): number { return this.u32(this.page(pfn) + 16); }
  flags(pfn: number): number { return this.u32(this.page(pfn)); }
  /** Live objects of a kmem cache (carved minus free). */
  live(cache: number): number {
    return Number(this.mmu.call("kmem_cache_nr_objs", cache)) - Number(this.mmu.call("kmem_cache_nr_free", cache));
  }
  liveAnonVmas(): number { return this.live(this.c("KMEM_ANON_VMA")); }
  liveAvcs(): number { return this.live(this.c("KMEM_ANON_VMA_CHAIN")); }

  lockStat(cls: string): { read: number; write: number } {
    const s = this.mmu.lockStats(true).find((x) => x.class === cls);
    return s ? s.acquisitions : { read: 0, write: 0 };
  }
}

function expect0(r: number | bigint): void {
  if (Number(r) !== 0) throw new Error(`expected 0, got ${r}`);
}
