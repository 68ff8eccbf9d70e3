// Behaviour switches of the MM model: one u32 in the machine header (HDR_MM_CONFIG, layout.ts) so
// every CPU's instance sees the same machine-wide choice. Each bit selects between two kernels'
// behaviour of one code path; machine_init sets MMCFG_DEFAULT, the host may change it with
// mm_config_set before any CPU runs MM code (changing it while CPUs run is allowed but the model does
// not define which behaviour an operation already in progress sees).
//
//   31 ..................................... 1                        0
//  +--------------------------------------------+-------------------------+
//  |                  reserved (0)              | VMA_ADJUST_SKIP_ANON    |
//  +--------------------------------------------+-------------------------+
//
//  VMA_ADJUST_SKIP_ANON (Lee Schermerhorn, 2009, merged for 2.6.32: "mmap: avoid unnecessary
//    anon_vma lock acquisition in vma_adjust()"): vma_adjust takes the anon_vma lock only when it
//    inserts a vma, moves a boundary into a neighbour (an importer) or changes vm_start; a change of
//    vm_end alone (brk growing the heap) skips it. Clear: 2.6.31 behaviour, the lock is taken whenever
//    the vma has an anon_vma.
import { machine_base, HDR_MM_CONFIG } from "../layout";
import { EINVAL } from "../errno";

export const MMCFG_VMA_ADJUST_SKIP_ANON: u32 = 1 << 0;
export const MMCFG_KNOWN: u32 = MMCFG_VMA_ADJUST_SKIP_ANON;
/** The default: the 2.6.3x kernels the model follows (2.6.34's anon_vma_chain era) skip the lock. */
export const MMCFG_DEFAULT: u32 = MMCFG_VMA_ADJUST_SKIP_ANON;

// @ts-ignore: decorator
@inline export function mm_config(): u32 {
  return atomic.load<u32>(machine_base + HDR_MM_CONFIG);
}

// @ts-ignore: decorator
@inline export function mm_config_has(bit: u32): bool {
  return (mm_config() & bit) != 0;
}

/** mm_config_set - replace the switches. Returns 0, or -EINVAL for unknown bits. */
export function mm_config_set(bits: u32): i32 {
  if ((bits & ~MMCFG_KNOWN) != 0) return -EINVAL;
  atomic.store<u32>(machine_base + HDR_MM_CONFIG, bits);
  return 0;
}

/** mm_config_init - the defaults, at machine_init. */
export function mm_config_init(): void {
  atomic.store<u32>(machine_base + HDR_MM_CONFIG, MMCFG_DEFAULT);
}
