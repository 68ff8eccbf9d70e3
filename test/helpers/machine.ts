// Shared set-up for tests: a small machine with one identity-free address space mapped.
import { Mmu, PageTableBuilder, PTE, type MachineOptions } from "../../src/index.js";

export const USER_VA = 0x0000_7f00_0000_0000n;
export const KERNEL_VA = 0xffff_8880_0000_0000n;

export interface Space {
  mmu: Mmu;
  pt: PageTableBuilder;
}

/** An Mmu (debug build by default) with a fresh PML4 loaded on every CPU. */
export function space(opts: MachineOptions = {}): Space {
  const mmu = Mmu.create({ memory: "16MiB", debug: true, ...opts });
  const pt = new PageTableBuilder(mmu);
  for (let cpu = 0; cpu < mmu.cpus; cpu++) mmu.setCr3(cpu, pt.root);
  return { mmu, pt };
}

export const RW_USER = PTE.RW | PTE.USER;

/** The pa a translation returned, or a failure naming the fault. */
export function pa(t: ReturnType<Mmu["translate"]>): bigint {
  if (!t.ok) throw new Error(`expected a translation, got ${t.fault} error code ${t.errorCode}`);
  return t.pa;
}
