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
//
// For speed the four levels are written out (walk() below), each with one test for the common case,
// and the registers come from the CPU's paging mode word (processor.ts), loaded once per walk; the
// rights are kept as a TLB data word and checked with masks (mode_access_denied).
import { frames_base, backed_limit, ram_limit, maxphyaddr, PC_CR3, PC_XLAT_SHIFT } from "../../layout";
import {
  _PAGE_PRESENT, _PAGE_RW, _PAGE_USER, _PAGE_ACCESSED, _PAGE_DIRTY, _PAGE_PSE, _PAGE_GLOBAL, _PAGE_NX,
  PTE_PFN_MASK, PF_PROT, PF_WRITE, PF_USER, PF_RSVD, PF_INSTR, ACC_WRITE, ACC_USER, ACC_FETCH, ACC_IMPLICIT,
  rsvd_phys_mask,
} from "./pgtable_types";
import {
  MODE_WP, MODE_SMAP_DATA, MODE_SMEP, MODE_SMAP, MODE_PGE, MODE_NXE, MODE_AC, CR3_ADDR_MASK, paging_mode, mode_pcid,
} from "./processor";
import { tlb_fill_inline, TLB_D_W, TLB_D_U, TLB_D_XD, TLB_D_DIRTY, TLB_SIZE_4K, TLB_SIZE_2M, TLB_SIZE_1G } from "./tlb";
import { tlb_gen_tag } from "./tlb_check";
import { count_event, STAT_WALK, STAT_WALK_RESTART, STAT_SET_ACCESSED, STAT_SET_DIRTY } from "../../percpu";
import { DEBUG } from "../../config";
import { raise_pf, raise_bus_fault } from "./fault";
import { charge } from "../../kernel/sched";
import { cost, COST_WALK_LEVEL } from "../../kernel/cost";

/** Reserved bits 13..29 of a 1 GiB leaf and 13..20 of a 2 MiB leaf (bit 12 is their PAT bit). */
const RSVD_1G: u64 = 0x3fff_e000;
const RSVD_2M: u64 = 0x001f_e000;

// A translation's rights are kept in the TLB's data format (tlb.ts), whose W, U, XD and D bits are
// the entry's R/W, U/S, XD and D: the AND of the entries of a walk gives R/W and U/S, their OR XD.
if (TLB_D_W != _PAGE_RW || TLB_D_U != _PAGE_USER || TLB_D_XD != _PAGE_NX || TLB_D_DIRTY != _PAGE_DIRTY) {
  ERROR("pgtable: the TLB's rights bits must be the entry's");
}
const RIGHTS_ANDED: u64 = _PAGE_RW | _PAGE_USER;
const RIGHTS_ORED: u64 = _PAGE_NX;

// The rights check computes masks of TLB rights bits from the access kind and the mode word, whose
// bits line up: ACC_WRITE, TLB_D_W and MODE_WP are bit 1; ACC_USER, TLB_D_U and MODE_SMAP_DATA bit 2.
if (ACC_WRITE != <u32>TLB_D_W || ACC_USER != <u32>TLB_D_U || MODE_WP != ACC_WRITE || MODE_SMAP_DATA != ACC_USER || ACC_USER >> 1 != ACC_WRITE) {
  ERROR("pgtable: the access, TLB rights and mode bits must line up");
}

// The rights whose presence refuses a fetch or an implicit access (see mode_access_denied).
// @ts-ignore: decorator
@inline function deny_fetch_implicit(mode: u32, access: u32): u64 {
  const fetch = (access & ACC_FETCH) != 0;
  // Fetches need XD clear when NXE is on.
  let deny: u64 = fetch && (mode & MODE_NXE) != 0 ? TLB_D_XD : 0;
  if ((access & ACC_USER) == 0) {
    // A supervisor access to a user page: SMEP forbids fetches; SMAP forbids implicit data accesses
    // and explicit ones with RFLAGS.AC = 0.
    const smep = fetch && (mode & MODE_SMEP) != 0;
    const smap = !fetch && (mode & MODE_SMAP) != 0 && ((access & ACC_IMPLICIT) != 0 || (mode & MODE_AC) == 0);
    if (smep || smap) deny |= TLB_D_U;
  }
  return deny;
}

/**
 * access_need - the rights (TLB_D_W, TLB_D_U) an access of kind access (ACC_*; at CPL 3 an explicit
 * access is already a user access) needs in paging mode mode (processor.ts, MODE_*): U/S for a user
 * access; R/W for a write that is a user access (ACC_USER >> 1 is bit 1) or made with CR0.WP = 1
 * (MODE_WP is bit 1). User accesses ignore WP.
 */
// @ts-ignore: decorator
@inline export function access_need(mode: u32, access: u32): u64 {
  return <u64>((access & ACC_USER) | (access & ((access >> 1) | mode) & ACC_WRITE));
}

/**
 * access_deny - the rights (TLB_D_U, TLB_D_XD) whose presence refuses an access of kind access in
 * paging mode mode. An explicit data access: a user page to a supervisor access when SMAP is on and
 * RFLAGS.AC = 0 (MODE_SMAP_DATA, bit 2 as TLB_D_U). Fetches and implicit accesses: above.
 */
// @ts-ignore: decorator
@inline export function access_deny(mode: u32, access: u32): u64 {
  return (access & (ACC_FETCH | ACC_IMPLICIT)) == 0 ? <u64>(~access & mode & MODE_SMAP_DATA) : deny_fetch_implicit(mode, access);
}

/**
 * mode_access_denied - the rights check of SDM 4.6 for an access of kind access (ACC_*; at CPL 3 an
 * explicit access is already a user access) in paging mode mode to a translation with effective
 * rights (TLB_D_W, TLB_D_U: R/W and U/S ANDed over the levels; TLB_D_XD: XD ORed; other bits
 * ignored). Returns true when the access is refused (a protection #PF).
 */
// @ts-ignore: decorator
@inline export function mode_access_denied(mode: u32, access: u32, rights: u64): bool {
  const need = access_need(mode, access);
  return ((rights ^ need) & (need | access_deny(mode, access))) != 0;
}

/**
 * The rights check of SDM 4.6 for an access of kind access (ACC_*) on CPU p to a translation with
 * effective rights: rw/us from all levels ANDed, xd ORed. Returns true when the access is refused
 * (a protection #PF); pf_error_code builds the error code.
 */
// @ts-ignore: decorator
@inline export function access_denied(p: usize, access: u32, rw: bool, us: bool, xd: bool): bool {
  return mode_access_denied(paging_mode(p), access, (rw ? TLB_D_W : 0) | (us ? TLB_D_U : 0) | (xd ? TLB_D_XD : 0));
}

/** The page-fault error code for access in paging mode mode, with prot/rsvd as found (SDM 4.7). */
// @ts-ignore: decorator
@inline export function mode_pf_error_code(mode: u32, access: u32, flags: u32): u32 {
  let ec = flags | (access & (PF_WRITE | PF_USER));
  // I/D is reported only when a fetch could be refused for it: SMEP or (PAE paging and NXE).
  if ((access & ACC_FETCH) != 0 && (mode & (MODE_SMEP | MODE_NXE)) != 0) ec |= PF_INSTR;
  return ec;
}

/** The page-fault error code for access on CPU p, with prot/rsvd as found (SDM 4.7). */
// @ts-ignore: decorator
@inline export function pf_error_code(p: usize, access: u32, flags: u32): u32 {
  return mode_pf_error_code(paging_mode(p), access, flags);
}

/** What walk() returns when an entry changed under its compare-and-swap: never a result of the walk. */
const WALK_RESTART: i64 = -1;

/** Byte offset, in its table, of the entry for va at the level whose entries map 2^shift bytes. */
// @ts-ignore: decorator
@inline function pte_offset(va: u64, shift: u64): u32 {
  return (<u32>(va >> shift) & 511) << 3;
}

// A paging-structure entry that is not present or has a reserved bit set: the #PF (out of line).
function entry_fault(p: usize, va: u64, access: u32, mode: u32, e: u64): i64 {
  const flags = (e & _PAGE_PRESENT) == 0 ? 0 : PF_PROT | PF_RSVD;
  return raise_pf(p, va, mode_pf_error_code(mode, access, flags));
}

// Set A in the non-leaf entry e at host with a locked update; false when the entry changed under it.
// @ts-ignore: decorator
@inline function set_accessed(host: usize, e: u64): bool {
  if (atomic.cmpxchg<u64>(host, e, e | _PAGE_ACCESSED) != e) return false;
  count_event(STAT_SET_ACCESSED);
  return true;
}

// The leaf e (at host, mapping 2^shift bytes, TLB size class size), reached with the AND (all) and
// OR (any) of the walk's entries: the rights check, A/D, the TLB fill. Returns the physical address,
// a fault, or WALK_RESTART.
// @ts-ignore: decorator
@inline function walk_leaf(p: usize, va: u64, access: u32, mode: u32, host: usize, e: u64, all: u64, any: u64, shift: u32, size: u32): i64 {
  const rights = (all & RIGHTS_ANDED) | (any & RIGHTS_ORED);
  if (mode_access_denied(mode, access, rights)) return raise_pf(p, va, mode_pf_error_code(mode, access, PF_PROT));
  const offmask: u64 = (<u64>1 << <u64>shift) - 1;
  const frame = e & PTE_PFN_MASK & ~offmask;
  const pa = frame | (va & offmask);
  if (pa >= ram_limit) return raise_bus_fault(p, va, pa);
  const ne = e | _PAGE_ACCESSED | ((access & ACC_WRITE) != 0 ? _PAGE_DIRTY : 0);
  if (ne != e) {
    if (atomic.cmpxchg<u64>(host, e, ne) != e) return WALK_RESTART;
    if ((e & _PAGE_ACCESSED) == 0) count_event(STAT_SET_ACCESSED);
    if ((ne & ~e & _PAGE_DIRTY) != 0) count_event(STAT_SET_DIRTY);
  }
  const global = (e & _PAGE_GLOBAL) != 0 && (mode & MODE_PGE) != 0;
  let data = rights | (ne & _PAGE_DIRTY);
  // Debug builds: the frame's allocation generation, for the stale-TLB detector (tlb_check.ts).
  if (DEBUG) data |= tlb_gen_tag(frame);
  tlb_fill_inline(p, va, mode_pcid(mode), size, frame, data, global);
  store<u32>(p + PC_XLAT_SHIFT, shift);
  return <i64>pa;
}

// One pass of the walk from CR3 (rsvd: bits M..51, and XD without NXE), one block per level: each
// reads its entry (charging one paging-structure load, COST_WALK_LEVEL, at the top of the block: nothing
// in the parallel builds) and
// tests the common case at once (present, no reserved bit, A set, and above the PT not a leaf); the
// rest of a level is out of the way. A paging structure outside the frames with contents is a bus
// fault: tables and backed_limit are 4 KiB-aligned, so the check of a table's address is the check of
// each of its entries'.
// @ts-ignore: decorator
@inline function walk(p: usize, va: u64, access: u32, mode: u32, rsvd: u64): i64 {
  const limit = backed_limit;
  const base = frames_base;
  const P = _PAGE_PRESENT, A = _PAGE_ACCESSED, PS = _PAGE_PSE;

  // PML4 (level 4): PS is reserved.
  charge(cost(COST_WALK_LEVEL)); // this level's paging-structure load
  let table: u64 = load<u64>(p + PC_CR3) & CR3_ADDR_MASK;
  let off = pte_offset(va, 39);
  if (table >= limit) return raise_bus_fault(p, va, table | off);
  let host = base + <usize>table + off;
  let e = atomic.load<u64>(host);
  if ((e & (P | A | PS | rsvd)) != (P | A)) {
    if ((e & (P | PS | rsvd)) != P) return entry_fault(p, va, access, mode, e);
    if (!set_accessed(host, e)) return WALK_RESTART;
  }
  let all = e, any = e;

  // PDPT (level 3): PS maps a 1 GiB page.
  charge(cost(COST_WALK_LEVEL)); // this level's paging-structure load
  table = e & PTE_PFN_MASK;
  off = pte_offset(va, 30);
  if (table >= limit) return raise_bus_fault(p, va, table | off);
  host = base + <usize>table + off;
  e = atomic.load<u64>(host);
  all &= e;
  any |= e;
  if ((e & (P | A | PS | rsvd)) != (P | A)) {
    if ((e & (P | rsvd)) != P) return entry_fault(p, va, access, mode, e);
    if ((e & PS) != 0) {
      if ((e & RSVD_1G) != 0) return entry_fault(p, va, access, mode, e);
      return walk_leaf(p, va, access, mode, host, e, all, any, 30, TLB_SIZE_1G);
    }
    if (!set_accessed(host, e)) return WALK_RESTART;
  }

  // PD (level 2): PS maps a 2 MiB page.
  charge(cost(COST_WALK_LEVEL)); // this level's paging-structure load
  table = e & PTE_PFN_MASK;
  off = pte_offset(va, 21);
  if (table >= limit) return raise_bus_fault(p, va, table | off);
  host = base + <usize>table + off;
  e = atomic.load<u64>(host);
  all &= e;
  any |= e;
  if ((e & (P | A | PS | rsvd)) != (P | A)) {
    if ((e & (P | rsvd)) != P) return entry_fault(p, va, access, mode, e);
    if ((e & PS) != 0) {
      if ((e & RSVD_2M) != 0) return entry_fault(p, va, access, mode, e);
      return walk_leaf(p, va, access, mode, host, e, all, any, 21, TLB_SIZE_2M);
    }
    if (!set_accessed(host, e)) return WALK_RESTART;
  }

  // PT (level 1): always a leaf (bit 7 is PAT).
  charge(cost(COST_WALK_LEVEL)); // this level's paging-structure load
  table = e & PTE_PFN_MASK;
  off = pte_offset(va, 12);
  if (table >= limit) return raise_bus_fault(p, va, table | off);
  host = base + <usize>table + off;
  e = atomic.load<u64>(host);
  all &= e;
  any |= e;
  if ((e & (P | rsvd)) != P) return entry_fault(p, va, access, mode, e);
  return walk_leaf(p, va, access, mode, host, e, all, any, 12, TLB_SIZE_4K);
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
  const mode = paging_mode(p);
  const rsvd = rsvd_phys_mask(maxphyaddr) | ((mode & MODE_NXE) != 0 ? 0 : _PAGE_NX);
  count_event(STAT_WALK);
  for (;;) { // restart point: an entry changed under a locked A/D update
    const r = walk(p, va, access, mode, rsvd);
    if (r != WALK_RESTART) return r;
    count_event(STAT_WALK_RESTART);
  }
  return unreachable(); // the loop above only ends by returning
}
