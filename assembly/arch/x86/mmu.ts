// The MMU as the CPU uses it: TLB first, then the page walker; plus INVLPG/INVPCID.
import { PC_CR0, PC_CPL, PC_XLAT_SHIFT, ram_limit } from "../../layout";
import { ACC_USER, ACC_WRITE, ACC_IMPLICIT, PF_PROT } from "./pgtable_types";
import { X86_CR0_PG, current_pcid } from "./processor";
import { tlb_lookup, tlb_offset_mask, tlb_page_shift, tlb_invalidate_entry, tlb_flush_one, tlb_flush_pcid, tlb_flush_all,
  TLB_D_W, TLB_D_U, TLB_D_XD, TLB_D_DIRTY, TLB_D_ADDR, TLB_ALL_PCIDS } from "./tlb";
import { paging_walk, access_denied, pf_error_code } from "./pgtable";
import { raise_gp, raise_pf, raise_bus_fault } from "./fault";
import { EINVAL } from "../../errno";
import { count_event, STAT_TLB_HIT, STAT_TLB_MISS, STAT_TLB_DIRTY_REWALK, STAT_TLB_FAULT_INVAL } from "../../percpu";

/** Is va canonical for 48-bit linear addresses (bits 63..47 all equal)? */
// @ts-ignore: decorator
@inline export function is_canonical(va: u64): bool {
  return <u64>((<i64>(va << 16)) >> 16) == va;
}

// @ts-ignore: decorator
@inline function paging_enabled(p: usize): bool {
  return (load<u64>(p + PC_CR0) & X86_CR0_PG) != 0;
}

// With CR0.PG = 0 the linear address is the physical address.
function translate_unpaged(p: usize, va: u64): i64 {
  if (va >= ram_limit) return raise_bus_fault(p, va, va);
  store<u32>(p + PC_XLAT_SHIFT, 12);
  return <i64>va;
}

// At CPL 3 every access that is not implicit is a user access.
// @ts-ignore: decorator
@inline function effective_access(p: usize, access: u32): u32 {
  return load<u32>(p + PC_CPL) == 3 && (access & ACC_IMPLICIT) == 0 ? access | ACC_USER : access;
}

/**
 * mmu_translate - translate va for an access of kind access (ACC_WRITE | ACC_USER | ACC_FETCH |
 * ACC_IMPLICIT) on CPU p, as the CPU does for a memory access: through the TLB, walking on a miss.
 * A TLB hit whose cached rights refuse the access raises the #PF from the cached entry and drops it
 * (SDM 4.10.4.3: software that upgrades rights without flushing sees one spurious fault); a write
 * through an entry cached with D = 0 walks again so that D is set in memory.
 * Returns the physical address (its page's shift is left in the CPU's PC_XLAT_SHIFT), or the negated
 * vector with the fault recorded (arch/x86/fault.ts).
 */
export function mmu_translate(p: usize, va: u64, access: u32): i64 {
  if (!paging_enabled(p)) return translate_unpaged(p, va);
  if (!is_canonical(va)) return raise_gp(p, va);
  access = effective_access(p, access);
  const e = tlb_lookup(p, va, current_pcid(p));
  if (e != 0) {
    const data = load<u64>(e + 8);
    if (access_denied(p, access, (data & TLB_D_W) != 0, (data & TLB_D_U) != 0, (data & TLB_D_XD) != 0)) {
      tlb_invalidate_entry(e);
      count_event(STAT_TLB_FAULT_INVAL);
      return raise_pf(p, va, pf_error_code(p, access, PF_PROT));
    }
    if ((access & ACC_WRITE) == 0 || (data & TLB_D_DIRTY) != 0) {
      count_event(STAT_TLB_HIT);
      store<u32>(p + PC_XLAT_SHIFT, tlb_page_shift(data));
      return <i64>((data & TLB_D_ADDR) | (va & tlb_offset_mask(data)));
    }
    tlb_invalidate_entry(e);
    count_event(STAT_TLB_DIRTY_REWALK);
  } else {
    count_event(STAT_TLB_MISS);
  }
  return paging_walk(p, va, access);
}

/**
 * mmu_walk - as mmu_translate, but always a full page walk: the TLB is not looked up (the walk
 * still fills it). For tools that want the walk itself, and for measuring it.
 */
export function mmu_walk(p: usize, va: u64, access: u32): i64 {
  if (!paging_enabled(p)) return translate_unpaged(p, va);
  if (!is_canonical(va)) return raise_gp(p, va);
  return paging_walk(p, va, effective_access(p, access));
}

/** invlpg - INVLPG va on CPU p: its current PCID's translations of va and va's global ones. */
export function invlpg(p: usize, va: u64): void {
  tlb_flush_one(p, va, current_pcid(p), false);
}

export const INVPCID_TYPE_INDIV_ADDR: i32 = 0;
export const INVPCID_TYPE_SINGLE_CTXT: i32 = 1;
export const INVPCID_TYPE_ALL_INCL_GLOBAL: i32 = 2;
export const INVPCID_TYPE_ALL_NON_GLOBAL: i32 = 3;

/**
 * invpcid - INVPCID of type type for pcid (and va, type 0) on CPU p (SDM Vol. 2, INVPCID).
 * Returns 0, or -EINVAL (#GP) for an unknown type, a PCID above 4095 or a non-canonical va with type 0.
 */
export function invpcid(p: usize, type: i32, pcid: u32, va: u64): i32 {
  if (pcid > 0xfff) return -EINVAL;
  if (type == INVPCID_TYPE_INDIV_ADDR) {
    if (!is_canonical(va)) return -EINVAL;
    tlb_flush_one(p, va, pcid, true);
  } else if (type == INVPCID_TYPE_SINGLE_CTXT) {
    tlb_flush_pcid(p, pcid);
  } else if (type == INVPCID_TYPE_ALL_INCL_GLOBAL) {
    tlb_flush_all(p, TLB_ALL_PCIDS, false);
  } else if (type == INVPCID_TYPE_ALL_NON_GLOBAL) {
    tlb_flush_all(p, TLB_ALL_PCIDS, true);
  } else {
    return -EINVAL;
  }
  return 0;
}
