// The MM's behaviour switches: one word in the machine header (layout.ts HDR_MM_CONFIG, MMC_* bits and
// their diagram there). Read where the behaviour is decided; set by the host before CPUs run.
import { machine_base, HDR_MM_CONFIG, MMC_KNOWN } from "../layout";
import { EINVAL } from "../errno";

// @ts-ignore: decorator
@inline export function mm_config(): u32 {
  return atomic.load<u32>(machine_base + HDR_MM_CONFIG);
}

// @ts-ignore: decorator
@inline export function mm_config_has(bit: u32): bool {
  return (mm_config() & bit) != 0;
}

/**
 * mm_config_set - replace the MM configuration word. Only before any MM object (mm, vma, anon_vma)
 * exists: the switches select data-structure designs that do not mix. Returns 0, or -EINVAL for
 * unknown bits.
 */
export function mm_config_set(word: u32): i32 {
  if ((word & ~MMC_KNOWN) != 0) return -EINVAL;
  atomic.store<u32>(machine_base + HDR_MM_CONFIG, word);
  return 0;
}
