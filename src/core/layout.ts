// The machine's memory map as the host reads it: every offset comes from the core's exported
// constants (assembly/layout.ts), none is restated here.
import type { CoreExports } from "./abi.js";
import { constant } from "./abi.js";

export interface MachineLayout {
  base: number;
  nrCpus: number;
  nrFrames: number;
  nrBacked: number;
  maxPhysAddr: number;
  percpuBase: number;
  percpuSize: number;
  memMap: number;
  structPageSize: number;
  kheapBase: number;
  kheapSize: number;
  framesBase: number;
  totalSize: number;
  debug: boolean;
}

export function readLayout(x: CoreExports): MachineLayout {
  const base = Number(x.machine_base_for_heap());
  const v = new DataView(x.memory.buffer);
  const u32 = (name: keyof CoreExports) => v.getUint32(base + constant(x, name), true);
  return {
    base,
    nrCpus: u32("HDR_NR_CPUS"),
    nrFrames: u32("HDR_NR_FRAMES"),
    nrBacked: u32("HDR_NR_BACKED"),
    maxPhysAddr: u32("HDR_MAXPHYADDR"),
    percpuBase: u32("HDR_PERCPU_BASE"),
    percpuSize: constant(x, "PERCPU_SIZE"),
    memMap: u32("HDR_MEM_MAP"),
    structPageSize: constant(x, "STRUCT_PAGE_SIZE"),
    kheapBase: u32("HDR_KHEAP_BASE"),
    kheapSize: u32("HDR_KHEAP_SIZE"),
    framesBase: u32("HDR_FRAMES_BASE"),
    totalSize: Number(v.getBigUint64(base + constant(x, "HDR_TOTAL_SIZE"), true)),
    debug: (u32("HDR_FLAGS") & constant(x, "MF_DEBUG")) !== 0,
  };
}
