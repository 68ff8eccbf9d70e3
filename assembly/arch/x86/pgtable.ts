// The page walker: IA-32e 4-level linear-address translation (Intel SDM Vol. 3A, 4.5 and 4.6), and
// the accessed/dirty updates hardware makes (4.8). Compare arch/x86/mm/fault.c for the error codes.
//
// The walk reads each entry with one 64-bit atomic load (never torn), checks P and the reserved bits,
// accumulates the rights (R/W and U/S ANDed, XD ORed) and, at the leaf, checks the access against
// CR0.WP, CR4.SMEP/SMAP, RFLAGS.AC, EFER.NXE and the CPL. Accessed is set on every non-leaf entry as
// the walk uses it, and on the leaf when the access is allowed, Dirty on the leaf of an allowed write;
// each with a compare-and-swap against the value read, restarting the whole walk if the entry changed
// under it, as a processor's locked update does concurrently with software that clears A and D.
// Modelled choice: a leaf whose access is refused is left as it was (no A set); upper levels keep the
// A the walk set on its way down.
import { frames_base, backed_limit, ram_limit, maxphyaddr, PC_CR3, PC_CR0, PC_CR4, PC_EFER, PC_RFLAGS, PC_XLAT_SHIFT } from "../../layout";
import {
  _PAGE_PRESENT, _PAGE_RW, _PAGE_USER, _PAGE_ACCESSED, _PAGE_DIRTY, _PAGE_PSE, _PAGE_GLOBAL, _PAGE_NX,
  PTE_PFN_MASK, PF_PROT, PF_WRITE, PF_USER, PF_RSVD, PF_INSTR, ACC_WRITE, ACC_USER, ACC_FETCH, ACC_IMPLICIT,
  rsvd_phys_mask,
} from "./pgtable_types";
import { X86_CR0_WP, X86_CR4_SMEP, X86_CR4_SMAP, X86_CR4_PGE, EFER_NX, X86_EFLAGS_AC, CR3_ADDR_MASK, current_pcid } from "./processor";
import { tlb_fill, TLB_D_W, TLB_D_U, TLB_D_XD, TLB_D_DIRTY, TLB_SIZE_4K, TLB_SIZE_2M, TLB_SIZE_1G } from "./tlb";
import { count_event, STAT_WALK, STAT_WALK_RESTART, STAT_SET_ACCESSED, STAT_SET_DIRTY } from "../../percpu";
import { raise_pf, raise_bus_fault } from "./fault";

/** Reserved bits 13..29 of a 1 GiB leaf and 13..20 of a 2 MiB leaf (bit 12 is their PAT bit). */
const RSVD_1G: u64 = 0x3fff_e000;
const RSVD_2M: u64 = 0x001f_e000;

/**
 * The rights check of SDM 4.6 for an access of kind access (ACC_*) on CPU p to a translation with
 * effective rights: rw/us from all levels ANDed, xd ORed. Returns true when the access is refused
 * (a protection #PF); pf_error_code builds the error code.
 */
// @ts-ignore: decorator
@inline export function access_denied(p: usize, access: u32, rw: bool, us: bool, xd: bool): bool {
  const nxe = (load<u64>(p + PC_EFER) & EFER_NX) != 0;
  const fetch = (access & ACC_FETCH) != 0;
  const write = (access & ACC_WRITE) != 0;
  if ((access & ACC_USER) != 0) {
    // User-mode access: only user pages; writes need R/W whatever CR0.WP; fetches need XD clear.
    if (!us) return true;
    if (write && !rw) return true;
    return fetch && nxe && xd;
  }
  const cr4 = load<u64>(p + PC_CR4);
  if (us) {
    // Supervisor access to a user page: SMEP forbids fetches; SMAP forbids implicit data accesses and
    // explicit ones with RFLAGS.AC = 0.
    if (fetch) {
      if ((cr4 & X86_CR4_SMEP) != 0) return true;
    } else if ((cr4 & X86_CR4_SMAP) != 0) {
      if ((access & ACC_IMPLICIT) != 0 || (load<u64>(p + PC_RFLAGS) & X86_EFLAGS_AC) == 0) return true;
    }
  }
  if (write && !rw && (load<u64>(p + PC_CR0) & X86_CR0_WP) != 0) return true;
  return fetch && nxe && xd;
}

/** The page-fault error code for access on CPU p, with prot/rsvd as found (SDM 4.7). */
// @ts-ignore: decorator
@inline export function pf_error_code(p: usize, access: u32, flags: u32): u32 {
  let ec = flags | (access & (PF_WRITE | PF_USER));
  // I/D is reported only when a fetch could be refused for it: SMEP or (PAE paging and NXE).
  if ((access & ACC_FETCH) != 0 &&
      ((load<u64>(p + PC_CR4) & X86_CR4_SMEP) != 0 || (load<u64>(p + PC_EFER) & EFER_NX) != 0)) ec |= PF_INSTR;
  return ec;
}

/**
 * paging_walk - translate canonical va for an access of kind access on CPU p (paging enabled), set
 * A/D as hardware does, and on success cache the translation in p's TLB.
 * Must be called by p itself (or for a CPU that is not running). Holds nothing; may spin on a CAS.
 * Returns the physical address (>= 0, its page shift stored at PC_XLAT_SHIFT); or -14 after recording a #PF (not present, reserved bit, or
 * refused access) in p's fault record; or -18 after recording a bus fault (a paging structure outside
 * RAM with contents, or a leaf frame beyond RAM).
 */
export function paging_walk(p: usize, va: u64, access: u32): i64 {
  const m = maxphyaddr;
  const nxe = (load<u64>(p + PC_EFER) & EFER_NX) != 0;
  const rsvd = rsvd_phys_mask(m) | (nxe ? 0 : _PAGE_NX);
  const write = (access & ACC_WRITE) != 0;
  count_event(STAT_WALK);
  for (;;) { // restart point: an entry changed under a locked A/D update
    let table: u64 = load<u64>(p + PC_CR3) & CR3_ADDR_MASK;
    let rw = true, us = true, xd = false;
    let shift: u64 = 39;
    let level = 4;
    for (;;) {
      const ep: u64 = table | (((va >> shift) & 511) << 3);
      if (ep >= backed_limit) return raise_bus_fault(p, va, ep);
      const host = frames_base + <usize>ep;
      const e = atomic.load<u64>(host);
      if ((e & _PAGE_PRESENT) == 0) return raise_pf(p, va, pf_error_code(p, access, 0));
      let bad = e & rsvd;
      const leaf = level == 1 || (level <= 3 && (e & _PAGE_PSE) != 0);
      if (level == 4) bad |= e & _PAGE_PSE;
      else if (leaf && level == 3) bad |= e & RSVD_1G;
      else if (leaf && level == 2) bad |= e & RSVD_2M;
      if (bad != 0) return raise_pf(p, va, pf_error_code(p, access, PF_PROT | PF_RSVD));
      rw = rw && (e & _PAGE_RW) != 0;
      us = us && (e & _PAGE_USER) != 0;
      xd = xd || (e & _PAGE_NX) != 0;
      if (!leaf) {
        if ((e & _PAGE_ACCESSED) == 0) {
          if (atomic.cmpxchg<u64>(host, e, e | _PAGE_ACCESSED) != e) break;
          count_event(STAT_SET_ACCESSED);
        }
        table = e & PTE_PFN_MASK;
        shift -= 9;
        level--;
        continue;
      }
      if (access_denied(p, access, rw, us, xd)) return raise_pf(p, va, pf_error_code(p, access, PF_PROT));
      const offmask: u64 = (<u64>1 << shift) - 1;
      const frame = e & PTE_PFN_MASK & ~offmask;
      const pa = frame | (va & offmask);
      if (pa >= ram_limit) return raise_bus_fault(p, va, pa);
      let ne = e | _PAGE_ACCESSED;
      if (write) ne |= _PAGE_DIRTY;
      if (ne != e) {
        if (atomic.cmpxchg<u64>(host, e, ne) != e) break;
        if ((e & _PAGE_ACCESSED) == 0) count_event(STAT_SET_ACCESSED);
        if ((ne & ~e & _PAGE_DIRTY) != 0) count_event(STAT_SET_DIRTY);
      }
      const size = level == 1 ? TLB_SIZE_4K : (level == 2 ? TLB_SIZE_2M : TLB_SIZE_1G);
      const rights = (rw ? TLB_D_W : 0) | (us ? TLB_D_U : 0) | (xd ? TLB_D_XD : 0) | ((ne & _PAGE_DIRTY) != 0 ? TLB_D_DIRTY : 0);
      const global = (e & _PAGE_GLOBAL) != 0 && (load<u64>(p + PC_CR4) & X86_CR4_PGE) != 0;
      tlb_fill(p, va, current_pcid(p), size, frame, rights, global);
      store<u32>(p + PC_XLAT_SHIFT, <u32>shift);
      return <i64>pa;
    }
    count_event(STAT_WALK_RESTART); // only a failed compare-and-swap leaves the inner loop
  }
  return unreachable(); // the loop above only ends by returning
}
