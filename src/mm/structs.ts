// Reading the MM core's objects from the host: struct page, mm_struct, vm_area_struct, anon_vma,
// anon_vma_chain, address_space and task_struct, at the offsets the core exports
// (assembly/mm/mm_types.ts). Nothing here restates an offset.
import type { CoreExports } from "../core/abi.js";
import { constant } from "../core/abi.js";
import type { MachineLayout } from "../core/layout.js";
import { readVmas, type VmaInfo } from "./maps.js";

const PAGE_SHIFT = 12;

/** Offsets and flags of the MM's structs, read once from the core's exports. */
export function mmOffsets(x: CoreExports) {
  const c = (name: keyof CoreExports) => constant(x, name);
  return {
    page: { flags: c("PAGE_FLAGS"), refcount: c("PAGE_REFCOUNT"), mapcount: c("PAGE_MAPCOUNT"), mapping: c("PAGE_MAPPING"), index: c("PAGE_INDEX") },
    pg: { buddy: c("PG_buddy"), anon: c("PG_anon"), pgtable: c("PG_pgtable"), locked: c("PG_locked"), reserved: c("PG_reserved") },
    mm: {
      mmap: c("MM_MMAP"), rb: c("MM_RB"), mapCount: c("MM_MAP_COUNT"), startBrk: c("MM_START_BRK"), brk: c("MM_BRK"),
      users: c("MM_USERS"), count: c("MM_COUNT"), rss: c("MM_RSS"), cpumask: c("MM_CPUMASK"), pgd: c("MM_PGD"), id: c("MM_ID"),
      mmapBase: c("MM_MMAP_BASE"),
    },
    rss: { file: c("MM_FILEPAGES"), anon: c("MM_ANONPAGES"), swapents: c("MM_SWAPENTS"), pgtables: c("MM_PGTABLES") },
    vma: {
      mm: c("VMA_MM"), next: c("VMA_NEXT"), prev: c("VMA_PREV"), rb: c("VMA_RB"), start: c("VMA_START"), end: c("VMA_END"),
      flags: c("VMA_FLAGS"), pgoff: c("VMA_PGOFF"), pageProt: c("VMA_PAGE_PROT"), file: c("VMA_FILE"), anonVma: c("VMA_ANON_VMA"),
      anonVmaChain: c("VMA_ANON_VMA_CHAIN"), sharedRb: c("VMA_SHARED_RB"),
    },
    vm: { read: c("VM_READ"), write: c("VM_WRITE"), exec: c("VM_EXEC"), shared: c("VM_SHARED"), mayshare: c("VM_MAYSHARE") },
    rbNode: { left: c("RB_LEFT"), right: c("RB_RIGHT"), parentColor: c("RB_PARENT_COLOR") },
    av: { root: c("AV_ROOT"), refcount: c("AV_REFCOUNT"), head: c("AV_HEAD") },
    vmaAvNode: { next: c("VMA_AV_NODE_NEXT") },
    avc: { vma: c("AVC_VMA"), anonVma: c("AVC_ANON_VMA"), sameVma: c("AVC_SAME_VMA"), next: c("AVC_NEXT") },
    as: { iMmap: c("AS_I_MMAP"), nrpages: c("AS_NRPAGES"), ino: c("AS_INO") },
    task: {
      pid: c("TASK_PID"), tgid: c("TASK_TGID"), flags: c("TASK_FLAGS"), mm: c("TASK_MM"), activeMm: c("TASK_ACTIVE_MM"),
      state: c("TASK_STATE"), next: c("TASK_TASKS_NEXT"),
    },
    hdr: { tasks: c("HDR_TASKS"), mmConfig: c("HDR_MM_CONFIG") },
    mmc: { av2625: c("MMC_AV_2625"), splitPtl: c("MMC_SPLIT_PTL") },
    pagePrivate: c("PAGE_PRIVATE"),
    lockClass: { offset: c("ML_CLASS"), pte: c("LOCK_CLASS_PTE_LOCK") },
    kmem: { ptlock: c("KMEM_PTLOCK") },
    protnone: c("_PAGE_PROTNONE"),
    mn: { next: c("MN_NEXT"), depth: c("MN_DEPTH"), flags: c("MN_FLAGS"), unbalanced: c("MNF_UNBALANCED"), list: c("MM_NOTIFIERS") },
  };
}
export type MmOffsets = ReturnType<typeof mmOffsets>;

/** One vm_area_struct as the host sees it (maps.ts's reader). */
export type VmaView = VmaInfo;

/** A typed view of the shared memory for reading the MM's objects. */
export class MmView {
  readonly off: MmOffsets;
  private readonly dv: () => DataView;

  constructor(private readonly x: CoreExports, readonly layout: MachineLayout) {
    this.off = mmOffsets(x);
    // The memory can grow only at creation; take a fresh view each time to be safe.
    this.dv = () => new DataView(x.memory.buffer);
  }

  u32(a: number): number { return this.dv().getUint32(a, true); }
  i32(a: number): number { return this.dv().getInt32(a, true); }
  u64(a: number): bigint { return this.dv().getBigUint64(a, true); }

  page(pfn: number): number { return this.layout.memMap + pfn * this.layout.structPageSize; }
  pageFlags(pfn: number): number { return this.u32(this.page(pfn) + this.off.page.flags); }
  pageRefcount(pfn: number): number { return this.i32(this.page(pfn) + this.off.page.refcount); }
  /** page_mapcount: the stored _mapcount + 1. */
  pageMapcount(pfn: number): number { return this.i32(this.page(pfn) + this.off.page.mapcount) + 1; }
  pageMapping(pfn: number): number { return this.u32(this.page(pfn) + this.off.page.mapping); }
  pageIndex(pfn: number): number { return this.u32(this.page(pfn) + this.off.page.index); }

  /** The 64-bit entry at index i of the page-table page pfn (page tables always carry contents). */
  entry(tablePfn: number, i: number): bigint { return this.u64(this.layout.framesBase + tablePfn * 4096 + i * 8); }

  /** Every task on the task list, in list order. */
  tasks(): number[] {
    const out: number[] = [];
    const seen = new Set<number>();
    for (let t = this.u32(this.layout.base + this.off.hdr.tasks); t !== 0 && !seen.has(t); t = this.u32(t + this.off.task.next)) {
      seen.add(t);
      out.push(t);
    }
    return out;
  }

  /** The distinct mm_structs of the tasks (kernel threads have none). */
  mms(): number[] {
    const s = new Set<number>();
    for (const t of this.tasks()) {
      const mm = this.u32(t + this.off.task.mm);
      if (mm !== 0) s.add(mm);
    }
    return [...s];
  }

  /** The mm_config word (layout.ts MMC_* bits). */
  mmConfig(): number { return this.u32(this.layout.base + this.off.hdr.mmConfig); }

  /** The mm's vmas along the vm_next list (maps.ts readVmas: throws when the list outruns map_count). */
  vmas(mm: number): VmaView[] {
    return readVmas({ memory: this.x.memory, exports: this.x }, mm);
  }

  /** In-order traversal of a red-black tree whose nodes sit at nodeOffset in their objects. */
  rbInorder(root: number, nodeOffset: number): number[] {
    const out: number[] = [];
    const { left, right } = this.off.rbNode;
    const walk = (n: number, depth: number): void => {
      if (n === 0 || depth > 128) return;
      walk(this.u32(n + left), depth + 1);
      out.push(n - nodeOffset);
      walk(this.u32(n + right), depth + 1);
    };
    walk(root, 0);
    return out;
  }

  /**
   * The vmas on an anon_vma's list: through its anon_vma_chains (2.6.34's design), or, on a machine
   * with mm_config MMC_AV_2625, the vmas themselves linked by vma->anon_vma_node (2.6.25).
   */
  anonVmaVmas(anonVma: number): number[] {
    const out: number[] = [];
    const seen = new Set<number>();
    const direct = (this.mmConfig() & this.off.mmc.av2625) !== 0;
    const next = direct ? this.off.vmaAvNode.next : this.off.avc.next;
    for (let e = this.u32(anonVma + this.off.av.head); e !== 0 && !seen.has(e); e = this.u32(e + next)) {
      seen.add(e);
      out.push(direct ? e : this.u32(e + this.off.avc.vma));
    }
    return out;
  }

  /** The mmu notifiers registered on mm. */
  notifiers(mm: number): number[] {
    const out: number[] = [];
    for (let n = this.u32(mm + this.off.mn.list); n !== 0 && !out.includes(n) && out.length < 1024; n = this.u32(n + this.off.mn.next)) out.push(n);
    return out;
  }

  /** The vmas in an address_space's i_mmap interval tree. */
  iMmapVmas(mapping: number): number[] {
    return this.rbInorder(this.u32(mapping + this.off.as.iMmap), this.off.vma.sharedRb);
  }

  /** Linear page index of va in vma (linear_page_index). */
  linearPageIndex(vma: VmaView, va: bigint): number {
    return Number((va - vma.start) >> BigInt(PAGE_SHIFT)) + vma.pgoff;
  }
}
