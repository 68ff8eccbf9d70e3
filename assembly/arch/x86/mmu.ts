// The MMU as the CPU uses it: TLB first, then the page walker; plus INVLPG/INVPCID.
import { PC_XLAT_SHIFT, ram_limit } from "../../layout";
import { ACC_USER, ACC_WRITE, ACC_IMPLICIT, PF_PROT } from "./pgtable_types";
import { MODE_PG, MODE_CPL3, MODE_PCID_SHIFT, MODE_TAG_SHIFT, current_pcid, paging_mode, mode_pcid } from "./processor";
import { tlb_probe_4k, TLB_V, TLB_PCID_SHIFT, tlb_lookup_large, tlb_page_shift, tlb_invalidate_entry, tlb_flush_one, tlb_flush_pcid, tlb_flush_all,
  TLB_D_DIRTY, TLB_D_ADDR, TLB_ALL_PCIDS } from "./tlb";
import { paging_walk, mode_access_denied, mode_pf_error_code, access_need, access_deny } from "./pgtable";
import { raise_gp, raise_pf, raise_bus_fault } from "./fault";
import { charge } from "../../kernel/sched";
import { cost, COST_LOAD_L1 } from "../../kernel/cost";
import { EINVAL } from "../../errno";
import { VM_BUG_ON } from "../../debug";
import { DEBUG } from "../../config";
import { stale_tlb_check } from "./tlb_check";
import { count_event, STAT_TLB_HIT, STAT_TLB_MISS, STAT_TLB_DIRTY_REWALK, STAT_TLB_FAULT_INVAL } from "../../percpu";

const CANONICAL_BIAS: u64 = <u64>1 << 47;
if (MODE_PG >> MODE_TAG_SHIFT != <u32>TLB_V || MODE_PCID_SHIFT - MODE_TAG_SHIFT != <u32>TLB_PCID_SHIFT) ERROR("mmu: the mode word must hold a TLB tag's low bits");
if (<u64>ACC_WRITE << 5 != TLB_D_DIRTY) ERROR("mmu: ACC_WRITE << 5 must be TLB_D_DIRTY");

/** Is va canonical for 48-bit linear addresses (bits 63..47 all equal)? */
// @ts-ignore: decorator
@inline export function is_canonical(va: u64): bool {
  return <u64>((<i64>(va << 16)) >> 16) == va;
}

// With CR0.PG = 0 the linear address is the physical address.
function translate_unpaged(p: usize, va: u64): i64 {
  if (va >= ram_limit) return raise_bus_fault(p, va, va);
  store<u32>(p + PC_XLAT_SHIFT, 12);
  return <i64>va;
}

// At CPL 3 every access that is not implicit is a user access. MODE_CPL3 is ACC_IMPLICIT's bit: the
// user bit is (CPL3 and not implicit), moved from bit 8 to bit 2.
if (MODE_CPL3 != ACC_IMPLICIT || ACC_IMPLICIT >> 6 != ACC_USER) ERROR("mmu: MODE_CPL3 must be ACC_IMPLICIT's bit");
// @ts-ignore: decorator
@inline function effective_access(mode: u32, access: u32): u32 {
  return access | ((mode & ~access & MODE_CPL3) >> 6);
}

/** What tlb_hit() returns when the access must walk instead: never a translation's result. */
const TLB_REWALK: i64 = -1;

// A hit on TLB entry e (data word data, page shift shift) for access: the result, or TLB_REWALK.
// @ts-ignore: decorator
@inline function tlb_hit(p: usize, va: u64, access: u32, mode: u32, e: usize, data: u64, shift: u32): i64 {
  if (mode_access_denied(mode, access, data)) {
    tlb_invalidate_entry(e);
    count_event(STAT_TLB_FAULT_INVAL);
    return raise_pf(p, va, mode_pf_error_code(mode, access, PF_PROT));
  }
  if ((access & ACC_WRITE) == 0 || (data & TLB_D_DIRTY) != 0) {
    if (DEBUG) stale_tlb_check(p, va, data); // the head frame of the large page (tlb_check.ts)
    count_event(STAT_TLB_HIT);
    store<u32>(p + PC_XLAT_SHIFT, shift);
    return <i64>((data & TLB_D_ADDR) | (va & ((<u64>1 << <u64>shift) - 1)));
  }
  tlb_invalidate_entry(e);
  count_event(STAT_TLB_DIRTY_REWALK);
  return TLB_REWALK;
}

/**
 * mmu_translate - translate va for an access of kind access (ACC_WRITE | ACC_USER | ACC_FETCH |
 * ACC_IMPLICIT) on CPU p, as the CPU does for a memory access: through the TLB, walking on a miss.
 * A TLB hit whose cached rights refuse the access raises the #PF from the cached entry and drops it
 * (SDM 4.10.4.3: software that upgrades rights without flushing sees one spurious fault); a write
 * through an entry cached with D = 0 walks again so that D is set in memory. In debug builds a hit that
 * completes the access first checks that the entry's frame was not freed or reused since the fill
 * (the stale-TLB detector, tlb_check.ts: a report throws on the host).
 * Returns the physical address (its page's shift is left in the CPU's PC_XLAT_SHIFT), or the negated
 * vector with the fault recorded (arch/x86/fault.ts).
 */
// @ts-ignore: decorator
@inline export function mmu_translate(p: usize, va: u64, access: u32): i64 {
  const mode = paging_mode(p);
  // Paging on and va canonical, in one test (va + 2^47 < 2^48 when bits 63..47 are all equal).
  if ((((va + CANONICAL_BIAS) >> 48) | <u64>(~mode & MODE_PG)) != 0) {
    return (mode & MODE_PG) == 0 ? translate_unpaged(p, va) : raise_gp(p, va);
  }
  access = effective_access(mode, access);
  // The TLB's arrays in order, 4 KiB first (real TLBs probe in parallel). The fast path (inlined in
  // the caller): a hit in the 4 KiB array that allows the access. The rights check needs D for a
  // write (ACC_WRITE << 5 is TLB_D_DIRTY): an entry that refuses the access, or through which a write
  // must walk again to set D, goes to translate_tlb() as any other case.
  const e = tlb_probe_4k(p, va, <u64>(mode >> MODE_TAG_SHIFT));
  if (e != 0) {
    const data = load<u64>(e, 8);
    const need = access_need(mode, access) | (<u64>(access & ACC_WRITE) << 5);
    if (((data ^ need) & (need | access_deny(mode, access))) == 0) {
      VM_BUG_ON(tlb_page_shift(data) != 12, "mmu_translate: an entry of the 4 KiB array is not 4 KiB");
      if (DEBUG) stale_tlb_check(p, va, data);
      count_event(STAT_TLB_HIT);
      charge(cost(COST_LOAD_L1)); // the TLB hit: an L1-speed lookup
      store<u32>(p + PC_XLAT_SHIFT, 12);
      return <i64>((data & TLB_D_ADDR) | (va & 0xfff));
    }
  }
  return translate_tlb(p, va, access, mode, e);
}

// mmu_translate() from the TLB lookup on, for the effective access, with e the entry of the 4 KiB
// array that translates va (0 if none): a hit in another array, a hit that faults or must walk again,
// a miss.
function translate_tlb(p: usize, va: u64, access: u32, mode: u32, e: usize): i64 {
  if (e == 0) e = tlb_lookup_large(p, va, mode_pcid(mode));
  if (e != 0) {
    // An entry of an array always has the array's page size.
    const data = load<u64>(e, 8);
    charge(cost(COST_LOAD_L1)); // a hit in a large-page array (or a 4 KiB hit that faults or rewalks)
    const r = tlb_hit(p, va, access, mode, e, data, tlb_page_shift(data));
    if (r != TLB_REWALK) return r;
  } else {
    count_event(STAT_TLB_MISS);
  }
  return paging_walk(p, va, access);
}

/**
 * mmu_walk - as mmu_translate, but always a full page walk: the TLB is not looked up (the walk
 * still fills it). For tools that want the walk itself, and for measuring it.
 */
// @ts-ignore: decorator
@inline export function mmu_walk(p: usize, va: u64, access: u32): i64 {
  const mode = paging_mode(p);
  if ((mode & MODE_PG) == 0) return translate_unpaged(p, va);
  if (!is_canonical(va)) return raise_gp(p, va);
  return paging_walk(p, va, effective_access(mode, access));
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
