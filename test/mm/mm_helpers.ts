// Shared set-up for the page-table side's tests: an Mmu with PCIDs on every CPU and an mm built with
// the test scaffolding (assembly/lib/test_memory.ts), read back through the exported offsets.
import { Mmu, PTE, CR4, type MachineOptions } from "../../src/index.js";
import { constant, type CoreExports } from "../../src/core/abi.js";

export const VA = 0x0000_7f00_0000_0000n;
export const PROT_RW = PTE.PRESENT | PTE.USER | PTE.ACCESSED; // vm_page_prot of a private writable vma (PAGE_COPY): R/W comes with a write fault
export const VM_READ = 0x1, VM_WRITE = 0x2, VM_EXEC = 0x4, VM_SHARED = 0x8, VM_MAYREAD = 0x10, VM_MAYWRITE = 0x20;
export const VM_PRIVATE_RW = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE;

export function c(mmu: Mmu, name: string): number {
  return constant(mmu.exports, name as keyof CoreExports);
}

export function machine(opts: MachineOptions = {}): Mmu {
  const mmu = Mmu.create({ cpus: 2, memory: "16MiB", debug: true, ...opts });
  for (let cpu = 0; cpu < mmu.cpus; cpu++) mmu.setCr4(cpu, CR4.PAE | CR4.PGE | CR4.PCIDE);
  return mmu;
}

export function newMm(mmu: Mmu, pcid: number, cpu = 0): number {
  const mm = mmu.exports.cpu_pt_mm_create(cpu, pcid);
  if (mm === 0) throw new Error("cpu_pt_mm_create failed");
  return mm >>> 0;
}

export function u32(mmu: Mmu, addr: number): number {
  return new DataView(mmu.memory.buffer).getUint32(addr, true);
}
export function i32(mmu: Mmu, addr: number): number {
  return new DataView(mmu.memory.buffer).getInt32(addr, true);
}
export function u64(mmu: Mmu, addr: number): bigint {
  return new DataView(mmu.memory.buffer).getBigUint64(addr, true);
}

/** mm->rss[i] (MM_FILEPAGES 0, MM_ANONPAGES 1, MM_SWAPENTS 2, MM_PGTABLES 3). */
export function rss(mmu: Mmu, mm: number, i: number): number {
  return i32(mmu, mm + c(mmu, "MM_RSS") + 4 * i);
}

/** struct page fields of pfn. */
export function page(mmu: Mmu, pfn: number): { flags: number; refcount: number; mapcount: number; mapping: number } {
  const p = mmu.layout.memMap + pfn * 32;
  return { flags: u32(mmu, p), refcount: i32(mmu, p + 4), mapcount: i32(mmu, p + 8) + 1, mapping: u32(mmu, p + 12) };
}

export function tlbStat(mmu: Mmu, cpu: number, cause: string, field: "FLUSHES" | "IPIS" | "PAGES" | "FULL"): number {
  return Number(mmu.exports.mm_tlb_flush_stat(cpu, c(mmu, `TLB_CAUSE_${cause}`), c(mmu, `TFS_${field}`)));
}
