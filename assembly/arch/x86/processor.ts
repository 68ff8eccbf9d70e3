// The CPU's control registers as the paging unit sees them (SDM Vol. 3A, 2.5 and 4.1), after
// arch/x86/include/asm/processor-flags.h, and cpu_relax(), the one place a spinning CPU waits.
//
// Only IA-32e 4-level paging is modelled: CR0.PG = 1 requires CR4.PAE = 1 and EFER.LME = 1 (EFER.LMA
// follows). With CR0.PG = 0 linear addresses are physical addresses.
import { per_cpu_ptr, PC_CR0, PC_CR3, PC_CR4, PC_EFER, PC_RFLAGS, PC_CPL, PC_PAGING_MODE, ram_limit, backed_limit, maxphyaddr } from "../../layout";
import { EINVAL, EFAULT } from "../../errno";
import { do_pending_ipis } from "./smp";
import { tlb_flush_all, tlb_flush_pcid, TLB_ALL_PCIDS } from "./tlb";
import { this_cpu, count_event, STAT_CR3_LOAD } from "../../percpu";
import { charge, preempt_point, SWITCH_SPIN } from "../../kernel/sched";
import { cost, COST_SPIN } from "../../kernel/cost";
import { VM_BUG_ON } from "../../debug";
import { DEBUG } from "../../config";

export const X86_CR0_PE: u64 = 1 << 0;
export const X86_CR0_WP: u64 = 1 << 16;
export const X86_CR0_PG: u64 = 1 << 31;
export const CR0_KNOWN: u64 = X86_CR0_PE | X86_CR0_WP | X86_CR0_PG;

export const X86_CR4_PAE: u64 = 1 << 5;
export const X86_CR4_PGE: u64 = 1 << 7;
export const X86_CR4_PCIDE: u64 = 1 << 17;
export const X86_CR4_SMEP: u64 = 1 << 20;
export const X86_CR4_SMAP: u64 = 1 << 21;
export const CR4_KNOWN: u64 = X86_CR4_PAE | X86_CR4_PGE | X86_CR4_PCIDE | X86_CR4_SMEP | X86_CR4_SMAP;

export const EFER_LME: u64 = 1 << 8;
export const EFER_LMA: u64 = 1 << 10;
export const EFER_NX: u64 = 1 << 11;
export const EFER_KNOWN: u64 = EFER_LME | EFER_LMA | EFER_NX;

export const X86_EFLAGS_IF: u64 = 1 << 9;
export const X86_EFLAGS_AC: u64 = 1 << 18;
export const RFLAGS_KNOWN: u64 = X86_EFLAGS_IF | X86_EFLAGS_AC;

//  CR3 with CR4.PCIDE = 1 (SDM 4.5, table 4-13):
//   63   62......M M-1.................12 11.........0
//  +----+---------+----------------------+------------+
//  | NF | rsvd(0) | PML4 table address   |   PCID     |      NF: on MOV to CR3 only, "no flush"
//  +----+---------+----------------------+------------+
//  With PCIDE = 0 bits 3 and 4 are PWT and PCD, the rest of 11..0 ignored, and the PCID is 0.
export const CR3_NOFLUSH: u64 = <u64>1 << 63;
export const CR3_PCID_MASK: u64 = 0xfff;
export const CR3_ADDR_MASK: u64 = 0x000f_ffff_ffff_f000;

// The paging mode word (struct percpu +48, diagram in layout.ts): the bits of CR0, CR3, CR4, EFER,
// RFLAGS and the CPL that translation reads, gathered so that a translation loads one word instead of
// five registers. Every write of a register below recomputes it (update_paging_mode); nothing else
// writes the registers. WP, SMAP_DATA, NXE and CPL3 sit at the bit of the access kind (ACC_*,
// pgtable_types.ts) they combine with, so that the rights check is a few ANDs and shifts (pgtable.ts).
export const MODE_WP: u32 = 1 << 1;        // CR0.WP                    (bit of ACC_WRITE)
export const MODE_SMAP_DATA: u32 = 1 << 2; // CR4.SMAP and not RFLAGS.AC (bit of ACC_USER)
export const MODE_NXE: u32 = 1 << 4;       // EFER.NXE                  (bit of ACC_FETCH)
export const MODE_SMEP: u32 = 1 << 5;      // CR4.SMEP
export const MODE_SMAP: u32 = 1 << 6;      // CR4.SMAP
export const MODE_AC: u32 = 1 << 7;        // RFLAGS.AC
export const MODE_CPL3: u32 = 1 << 8;      // CPL = 3                   (bit of ACC_IMPLICIT)
export const MODE_PCIDE: u32 = 1 << 9;     // CR4.PCIDE
export const MODE_PGE: u32 = 1 << 10;      // CR4.PGE
export const MODE_PG: u32 = 1 << 16;       // CR0.PG
export const MODE_PCID_SHIFT: u32 = 17;    // bits 17..28: the current PCID (CR3[11:0] with PCIDE, else 0)
export const MODE_PCID_MASK: u32 = 0xfff << MODE_PCID_SHIFT;
/** With paging on, mode >> MODE_TAG_SHIFT is (PCID << TLB_PCID_SHIFT) | TLB_V: the low bits of the current PCID's TLB tags. */
export const MODE_TAG_SHIFT: u32 = 16;

/** The current PCID in paging mode word mode. */
// @ts-ignore: decorator
@inline export function mode_pcid(mode: u32): u32 {
  return mode >> MODE_PCID_SHIFT; // bits 29..31 are 0
}

/** The paging mode word of CPU p computed from its registers. */
export function paging_mode_of(p: usize): u32 {
  const cr0 = load<u64>(p + PC_CR0), cr4 = load<u64>(p + PC_CR4);
  let m: u32 = 0;
  if ((cr4 & X86_CR4_PCIDE) != 0) m |= MODE_PCIDE | (<u32>(load<u64>(p + PC_CR3) & CR3_PCID_MASK) << MODE_PCID_SHIFT);
  if ((cr0 & X86_CR0_PG) != 0) m |= MODE_PG;
  if ((cr0 & X86_CR0_WP) != 0) m |= MODE_WP;
  if ((cr4 & X86_CR4_SMEP) != 0) m |= MODE_SMEP;
  if ((cr4 & X86_CR4_SMAP) != 0) m |= MODE_SMAP;
  if ((cr4 & X86_CR4_PGE) != 0) m |= MODE_PGE;
  if ((load<u64>(p + PC_EFER) & EFER_NX) != 0) m |= MODE_NXE;
  if ((load<u64>(p + PC_RFLAGS) & X86_EFLAGS_AC) != 0) m |= MODE_AC;
  if ((m & (MODE_SMAP | MODE_AC)) == MODE_SMAP) m |= MODE_SMAP_DATA;
  if (load<u32>(p + PC_CPL) == 3) m |= MODE_CPL3;
  return m;
}

// @ts-ignore: decorator
@inline function update_paging_mode(p: usize): void {
  store<u32>(p + PC_PAGING_MODE, paging_mode_of(p));
}

/** CPU p's paging mode word (MODE_*), as its registers were last written. */
// @ts-ignore: decorator
@inline export function paging_mode(p: usize): u32 {
  const m = load<u32>(p + PC_PAGING_MODE);
  // (VM_BUG_ON's argument is evaluated in any build: the guard keeps paging_mode_of out of release.)
  if (DEBUG) VM_BUG_ON(m != paging_mode_of(p), "paging_mode: the mode word is stale");
  return m;
}

/** Registers at reset into long mode, as Linux runs: paging with WP, PAE, PGE, NX, interrupts on. */
export const CR0_DEFAULT: u64 = X86_CR0_PE | X86_CR0_WP | X86_CR0_PG;
export const CR4_DEFAULT: u64 = X86_CR4_PAE | X86_CR4_PGE;
export const EFER_DEFAULT: u64 = EFER_LME | EFER_LMA | EFER_NX;
export const RFLAGS_DEFAULT: u64 = X86_EFLAGS_IF;

/** cpu_reset - put CPU cpu's registers in the default long-mode state with CR3 = 0 and CPL 0. */
export function cpu_reset(cpu: i32): void {
  const p = per_cpu_ptr(cpu);
  store<u64>(p + PC_CR0, CR0_DEFAULT);
  store<u64>(p + PC_CR3, 0);
  store<u64>(p + PC_CR4, CR4_DEFAULT);
  store<u64>(p + PC_EFER, EFER_DEFAULT);
  store<u64>(p + PC_RFLAGS, RFLAGS_DEFAULT);
  store<u32>(p + PC_CPL, 0);
  update_paging_mode(p);
}

/** The PCID currently in use on this CPU (0 when CR4.PCIDE = 0). */
// @ts-ignore: decorator
@inline export function current_pcid(p: usize): u32 {
  return (load<u64>(p + PC_CR4) & X86_CR4_PCIDE) != 0 ? <u32>(load<u64>(p + PC_CR3) & CR3_PCID_MASK) : 0;
}

/**
 * write_cr3 - MOV to CR3 on this CPU (SDM 4.10.4.1).
 * Without PCIDs every non-global TLB entry is invalidated. With PCIDs, bit 63 clear invalidates the
 * new PCID's non-global entries, bit 63 set keeps them (bit 63 is not stored).
 * Returns 0; -EINVAL when reserved bits (M..63; M..62 with PCIDs) are set (#GP); -EFAULT when the PML4 table is not in
 * RAM with contents (the architecture would accept it and fault on every walk; the model refuses).
 */
export function write_cr3(val: u64): i32 {
  const p = this_cpu();
  const pcide = (load<u64>(p + PC_CR4) & X86_CR4_PCIDE) != 0;
  // Bits M..63 are reserved, except bit 63 ("no flush") with PCIDs (SDM 4.5 table 4-12, 4.10.4.1).
  let rsvd: u64 = ~((<u64>1 << <u64>maxphyaddr) - 1);
  if (pcide) rsvd &= ~CR3_NOFLUSH;
  if ((val & rsvd) != 0) return -EINVAL;
  if ((val & CR3_ADDR_MASK) >= backed_limit) return -EFAULT;
  store<u64>(p + PC_CR3, val & ~CR3_NOFLUSH);
  update_paging_mode(p);
  count_event(STAT_CR3_LOAD);
  if (!pcide) tlb_flush_pcid(p, 0);
  else if ((val & CR3_NOFLUSH) == 0) tlb_flush_pcid(p, <u32>(val & CR3_PCID_MASK));
  return 0;
}

/**
 * write_cr4 - MOV to CR4. Changing PGE, or clearing PCIDE, invalidates every TLB entry including
 * globals; setting SMEP invalidates the current PCID's entries (SDM 4.10.4.1).
 * Returns 0, or -EINVAL (#GP) for unknown bits, clearing PAE in long mode, or setting PCIDE while
 * CR3[11:0] != 0 or outside long mode.
 */
export function write_cr4(val: u64): i32 {
  const p = this_cpu();
  if ((val & ~CR4_KNOWN) != 0) return -EINVAL;
  const old = load<u64>(p + PC_CR4);
  const lma = (load<u64>(p + PC_EFER) & EFER_LMA) != 0;
  if (lma && (val & X86_CR4_PAE) == 0) return -EINVAL;
  if ((val & ~old & X86_CR4_PCIDE) != 0) {
    if (!lma || (load<u64>(p + PC_CR3) & CR3_PCID_MASK) != 0) return -EINVAL;
  }
  store<u64>(p + PC_CR4, val);
  update_paging_mode(p);
  const changed = val ^ old;
  if ((changed & X86_CR4_PGE) != 0 || (old & ~val & X86_CR4_PCIDE) != 0) {
    tlb_flush_all(p, TLB_ALL_PCIDS, false);
  } else if ((val & ~old & X86_CR4_SMEP) != 0) {
    tlb_flush_all(p, current_pcid(p), false);
  }
  return 0;
}

/**
 * write_cr0 - MOV to CR0. Setting PG enters IA-32e paging and needs CR4.PAE and EFER.LME (the only
 * paging mode modelled); clearing PG invalidates the whole TLB.
 * Returns 0, or -EINVAL for unknown bits, PG without PE, or PG without PAE and LME.
 */
export function write_cr0(val: u64): i32 {
  const p = this_cpu();
  if ((val & ~CR0_KNOWN) != 0) return -EINVAL;
  if ((val & X86_CR0_PG) != 0) {
    if ((val & X86_CR0_PE) == 0) return -EINVAL;
    if ((load<u64>(p + PC_CR4) & X86_CR4_PAE) == 0) return -EINVAL;
    if ((load<u64>(p + PC_EFER) & EFER_LME) == 0) return -EINVAL;
  }
  const old = load<u64>(p + PC_CR0);
  store<u64>(p + PC_CR0, val);
  const efer = load<u64>(p + PC_EFER);
  store<u64>(p + PC_EFER, (val & X86_CR0_PG) != 0 ? efer | EFER_LMA : efer & ~EFER_LMA);
  update_paging_mode(p);
  if ((old & ~val & X86_CR0_PG) != 0) tlb_flush_all(p, TLB_ALL_PCIDS, false);
  return 0;
}

/**
 * write_efer - WRMSR IA32_EFER. LMA is read-only (it follows CR0.PG and LME).
 * Returns 0, or -EINVAL (#GP) for unknown bits or changing LME while paging is on.
 */
export function write_efer(val: u64): i32 {
  const p = this_cpu();
  if ((val & ~EFER_KNOWN) != 0) return -EINVAL;
  const old = load<u64>(p + PC_EFER);
  if ((load<u64>(p + PC_CR0) & X86_CR0_PG) != 0 && ((val ^ old) & EFER_LME) != 0) return -EINVAL;
  store<u64>(p + PC_EFER, (val & ~EFER_LMA) | (old & EFER_LMA));
  update_paging_mode(p);
  return 0;
}

/** write_rflags - the flags the MMU model reads: IF (interrupts) and AC (SMAP override). */
export function write_rflags(val: u64): i32 {
  if ((val & ~RFLAGS_KNOWN) != 0) return -EINVAL;
  const p = this_cpu();
  store<u64>(p + PC_RFLAGS, val);
  update_paging_mode(p);
  return 0;
}

/** set_cpl - current privilege level, 0 (supervisor) or 3 (user); 1 and 2 count as supervisor. */
export function set_cpl(cpl: i32): i32 {
  if (cpl < 0 || cpl > 3) return -EINVAL;
  const p = this_cpu();
  store<u32>(p + PC_CPL, cpl);
  update_paging_mode(p);
  return 0;
}

/**
 * cpu_relax - one iteration of a spin-wait (PAUSE). With interrupts enabled (RFLAGS.IF) a spinning
 * CPU takes its pending IPIs here, as a real CPU spinning in spin_lock() with interrupts on does: this
 * is what keeps two CPUs that shoot down each other's TLBs while spinning from deadlocking.
 * In virtual time each iteration costs COST_SPIN and is a preemption point, so a spinner lets the
 * CPU it waits for run.
 */
export function cpu_relax(): void {
  charge(cost(COST_SPIN));
  preempt_point(SWITCH_SPIN);
  if ((load<u64>(this_cpu() + PC_RFLAGS) & X86_EFLAGS_IF) != 0) do_pending_ipis();
}

/** Whether physical address pa lies in RAM at all / in RAM with contents. */
// @ts-ignore: decorator
@inline export function pa_in_ram(pa: u64): bool { return pa < ram_limit; }
