// Address-space switches and TLB shootdown for the MM core, after arch/x86/mm/tlb.c (4.x/5.x:
// switch_mm_irqs_off, enter_lazy_tlb, leave_mm, flush_tlb_mm_range, native_flush_tlb_others) on the
// mailbox of arch/x86/smp.ts.
//
// Per-CPU state (struct percpu, layout.ts): cpu_tlbstate = { loaded_mm (PC_LOADED_MM, 0 = init_mm),
// state (PC_TLBSTATE: TLBSTATE_OK or TLBSTATE_LAZY), loaded_mm_tlb_gen (PC_LOADED_MM_TLB_GEN) }.
// Per mm: mm_cpumask (MM_CPUMASK, u64: CPUs that have it loaded, lazily or not) and tlb_gen (MM_TLB_GEN:
// bumped by every flush request).
//
// The protocol, as the kernel's:
//   - switch_mm sets this CPU's bit in next's cpumask, THEN reads next->tlb_gen, THEN loads CR3; a
//     flusher bumps tlb_gen, THEN reads the cpumask: a CPU is either seen by the flusher or sees the
//     new generation (all atomics here are sequentially consistent).
//   - a CPU in lazy TLB mode (a kernel thread borrowing the mm: enter_lazy_tlb) keeps its cpumask bit
//     but is not sent range flushes: it never touches user addresses. When page tables are freed it
//     must be flushed anyway (the paging-structure caches and speculative walks could still use the
//     freed tables). Coming back to the mm from lazy mode, it compares tlb_gen and flushes if it
//     missed a flush.
//   - flush_tlb_mm_range flushes page by page (INVLPG) up to tlb_single_page_flush_ceiling = 33
//     pages, else the whole PCID; posts to every target's mailbox first, then waits for every
//     acknowledgement before it returns (so the caller may free the pages and tables afterwards).
// Simplifications: one PCID per mm for its life (mm->pcid, no per-CPU ASID recycling: switching to an
// mm flushes its PCID, CR3 without NOFLUSH); a remote flush does not advance the target's
// loaded_mm_tlb_gen (the mailbox does not carry it), so a CPU leaving lazy mode may flush once more
// than needed; only 4 KiB strides (no huge pages).
import { per_cpu_ptr, nr_cpus, PC_LOADED_MM, PC_TLBSTATE, PC_LOADED_MM_TLB_GEN, PC_CR4, PC_TLB_LAZY_SKIPPED,
  PC_TLB_FLUSH_STATS, TLB_FLUSH_STAT_STRIDE, NR_TLB_FLUSH_CAUSES, PC_TLB_FLUSH_GENS } from "../../layout";
import { PAGE_SHIFT } from "../../config";
import { EINVAL } from "../../errno";
import { this_cpu, smp_processor_id } from "../../percpu";
import { MM_CPUMASK, MM_TLB_GEN, MM_PGD, MM_PCID } from "../../mm/mm_types";
import { swapper_pgd } from "../../mm/pgtable";
import { write_cr3, X86_CR4_PCIDE } from "./processor";
import { tlb_flush_one, tlb_flush_pcid } from "./tlb";
import { tlb_mailbox_post, tlb_mailbox_wait, FLUSH_RANGE, FLUSH_PCID } from "./smp";
import { VM_BUG_ON } from "../../debug";

export const TLBSTATE_OK: u32 = 0;
export const TLBSTATE_LAZY: u32 = 1;

/** flush_tlb_mm_range's end for "everything" (TLB_FLUSH_ALL). */
export const TLB_FLUSH_ALL: u64 = 0xffff_ffff_ffff_ffff;
/** tlb_single_page_flush_ceiling: above this many pages a range flush becomes a full flush. */
export const TLB_SINGLE_PAGE_FLUSH_CEILING: u64 = 33;

// Why a shootdown was requested (the per-cause counters; the kernel's vmstat NR_TLB_* is coarser).
export const TLB_CAUSE_MUNMAP: u32 = 0;
export const TLB_CAUSE_MPROTECT: u32 = 1;
export const TLB_CAUSE_COW: u32 = 2;
export const TLB_CAUSE_RECLAIM: u32 = 3;
export const TLB_CAUSE_MIGRATION: u32 = 4;
export const TLB_CAUSE_EXIT: u32 = 5;
export const TLB_CAUSE_OTHER: u32 = 6;
export const NR_TLB_CAUSES: u32 = 7;
if (NR_TLB_CAUSES > NR_TLB_FLUSH_CAUSES) ERROR("mm_tlb: more causes than the per-CPU statistics hold");

// Per-cause statistics (struct percpu +PC_TLB_FLUSH_STATS, one 32-byte row per cause).
export const TFS_FLUSHES: u32 = 0; // flush_tlb_mm_range calls
export const TFS_IPIS: u32 = 1;    // remote CPUs asked to flush (posted to, or flushed on behalf of when idle)
export const TFS_PAGES: u32 = 2;   // pages flushed one by one (requests at or below the 33-page ceiling)
export const TFS_FULL: u32 = 3;    // requests that became a full flush of the PCID

// @ts-ignore: decorator
@inline function stat_add(cause: u32, field: u32, n: u64): void {
  const a = this_cpu() + PC_TLB_FLUSH_STATS + <usize>cause * TLB_FLUSH_STAT_STRIDE + (<usize>field << 3);
  store<u64>(a, load<u64>(a) + n);
}

/** tlb_flush_stat - CPU cpu's counter field (TFS_*) for cause, or lazy skips with cause == NR_TLB_CAUSES. */
export function tlb_flush_stat(cpu: i32, cause: u32, field: u32): u64 {
  const p = per_cpu_ptr(cpu);
  if (cause == NR_TLB_CAUSES) return load<u64>(p + PC_TLB_LAZY_SKIPPED);
  return load<u64>(p + PC_TLB_FLUSH_STATS + <usize>cause * TLB_FLUSH_STAT_STRIDE + (<usize>field << 3));
}

// The PCID CPU p caches mm's translations under: mm->pcid with CR4.PCIDE, else 0.
// @ts-ignore: decorator
@inline function pcid_on(p: usize, mm: usize): u32 {
  return (load<u64>(p + PC_CR4) & X86_CR4_PCIDE) != 0 ? load<u32>(mm + MM_PCID) : 0;
}

// @ts-ignore: decorator
@inline function cpu_bit(cpu: i32): u64 { return <u64>1 << <u64>cpu; }

/**
 * switch_mm - make next the address space of this CPU (switch_mm_irqs_off): mm_cpumask bits, CR3 with
 * next's PCID (flushing that PCID), cpu_tlbstate. next == 0 means init_mm (as leave_mm). prev is the
 * mm the caller believes is loaded (unused: the CPU's own loaded_mm is authoritative, as in 4.15+).
 * Caller: the task switch, with the runqueue "locked" (this CPU only). Returns 0, or -EFAULT/-EINVAL
 * from the CR3 load.
 */
export function switch_mm(prev: usize, next: usize): i32 {
  const p = this_cpu();
  const me = smp_processor_id();
  const real_prev = <usize>load<u32>(p + PC_LOADED_MM);
  if (next == 0) return leave_mm();
  if (real_prev == next) {
    // Same mm: leaving lazy mode. Order: state OK first, then read tlb_gen (pairs with the flusher's
    // bump-then-read-state).
    if (atomic.load<u32>(p + PC_TLBSTATE) == TLBSTATE_LAZY) {
      atomic.store<u32>(p + PC_TLBSTATE, TLBSTATE_OK);
      const gen = atomic.load<u64>(next + MM_TLB_GEN);
      if (load<u64>(p + PC_LOADED_MM_TLB_GEN) < gen) {
        tlb_flush_pcid(p, pcid_on(p, next));
        store<u64>(p + PC_LOADED_MM_TLB_GEN, gen);
      }
    }
    return 0;
  }
  atomic.or<u64>(next + MM_CPUMASK, cpu_bit(me));
  atomic.store<u32>(p + PC_LOADED_MM, <u32>next);
  atomic.store<u32>(p + PC_TLBSTATE, TLBSTATE_OK);
  const gen = atomic.load<u64>(next + MM_TLB_GEN);
  const r = write_cr3((<u64>load<u32>(next + MM_PGD) << PAGE_SHIFT) | <u64>pcid_on(p, next));
  VM_BUG_ON(r != 0, "switch_mm: CR3 refused the mm's PML4");
  store<u64>(p + PC_LOADED_MM_TLB_GEN, gen);
  if (real_prev != 0) atomic.and<u64>(real_prev + MM_CPUMASK, ~cpu_bit(me));
  return r;
}

/**
 * enter_lazy_tlb - this CPU runs a kernel thread that borrows the loaded mm: keep its tables and
 * cpumask bit, but take no range flushes for it until switch_mm comes back (TLBSTATE_LAZY).
 */
export function enter_lazy_tlb(mm: usize): void {
  const p = this_cpu();
  if (load<u32>(p + PC_LOADED_MM) == 0) return; // init_mm: nothing to be lazy about
  atomic.store<u32>(p + PC_TLBSTATE, TLBSTATE_LAZY);
}

/**
 * leave_mm - stop using the loaded user mm: load init_mm's tables (swapper_pg_dir, PCID 0) and drop
 * this CPU from the old mm's cpumask. Returns 0 (or the CR3 load's errno).
 */
export function leave_mm(): i32 {
  const p = this_cpu();
  const mm = <usize>load<u32>(p + PC_LOADED_MM);
  if (mm == 0) return 0;
  const r = write_cr3(<u64>swapper_pgd() << PAGE_SHIFT);
  atomic.store<u32>(p + PC_LOADED_MM, 0);
  atomic.store<u32>(p + PC_TLBSTATE, TLBSTATE_OK);
  atomic.and<u64>(mm + MM_CPUMASK, ~cpu_bit(smp_processor_id()));
  return r;
}

/** this_cpu_loaded_mm - the mm this CPU has loaded (0: init_mm). */
// @ts-ignore: decorator
@inline export function this_cpu_loaded_mm(): usize { return <usize>load<u32>(this_cpu() + PC_LOADED_MM); }

/**
 * flush_tlb_mm_range - make every CPU forget mm's translations of [start, end) (end TLB_FLUSH_ALL: all
 * of them). stride_shift: 12 (other strides flush the whole PCID). freed_tables: page-table pages were
 * unlinked, so lazy CPUs are flushed too. cause: TLB_CAUSE_* for the statistics.
 * This CPU flushes itself if it has mm loaded; every other CPU in mm_cpumask is posted a request
 * (page by page up to 33 pages, else its whole PCID), lazy ones skipped unless freed_tables; returns
 * only after every target acknowledged. Callable with spinlocks held (interrupts stay on: a CPU
 * spinning on our lock takes our IPI while it spins). Returns the number of remote CPUs asked, or
 * -EINVAL for a bad cause or an empty/inverted range.
 */
export function flush_tlb_mm_range(mm: usize, start: u64, end: u64, stride_shift: u32, freed_tables: bool, cause: u32): i32 {
  if (cause >= NR_TLB_CAUSES || (end != TLB_FLUSH_ALL && end <= start)) return -EINVAL;
  const p = this_cpu();
  const me = smp_processor_id();
  let full = end == TLB_FLUSH_ALL || stride_shift != PAGE_SHIFT;
  let nr_pages: u64 = 0;
  if (end != TLB_FLUSH_ALL) {
    start &= ~(<u64>(1 << PAGE_SHIFT) - 1);
    nr_pages = (end - start + (1 << PAGE_SHIFT) - 1) >> PAGE_SHIFT;
    if (nr_pages > TLB_SINGLE_PAGE_FLUSH_CEILING) full = true;
  }
  // Bump the generation first, then look at the CPUs (pairs with switch_mm).
  const gen = atomic.add<u64>(mm + MM_TLB_GEN, 1) + 1;
  stat_add(cause, TFS_FLUSHES, 1);
  // Pages are those flushed one by one; a range past the ceiling (possibly a page-table span of
  // 512 GiB after free_pgtables) is one full flush, counted in TFS_FULL and not as pages.
  if (full) stat_add(cause, TFS_FULL, 1); else stat_add(cause, TFS_PAGES, nr_pages);

  if (<usize>load<u32>(p + PC_LOADED_MM) == mm) {
    const pcid = pcid_on(p, mm);
    if (full) tlb_flush_pcid(p, pcid);
    else for (let i: u64 = 0; i < nr_pages; i++) tlb_flush_one(p, start + (i << PAGE_SHIFT), pcid, false);
    store<u64>(p + PC_LOADED_MM_TLB_GEN, gen);
  }

  // native_flush_tlb_others: post to every target, then wait for all of them.
  const mask = atomic.load<u64>(mm + MM_CPUMASK) & ~cpu_bit(me);
  const gens = p + PC_TLB_FLUSH_GENS;
  let asked = 0;
  for (let cpu = 0; cpu < nr_cpus; cpu++) {
    store<u32>(gens + (<usize>cpu << 2), 0);
    if ((mask & cpu_bit(cpu)) == 0) continue;
    const tp = per_cpu_ptr(cpu);
    if (!freed_tables && atomic.load<u32>(tp + PC_TLBSTATE) == TLBSTATE_LAZY) {
      store<u64>(p + PC_TLB_LAZY_SKIPPED, load<u64>(p + PC_TLB_LAZY_SKIPPED) + 1);
      continue;
    }
    const pcid = pcid_on(tp, mm);
    const g = full ? tlb_mailbox_post(cpu, FLUSH_PCID, pcid, 0, 0) : tlb_mailbox_post(cpu, FLUSH_RANGE, pcid, start, <u32>nr_pages);
    VM_BUG_ON(g < 0, "flush_tlb_mm_range: the mailbox refused a request");
    store<u32>(gens + (<usize>cpu << 2), <u32>g);
    asked++;
  }
  for (let cpu = 0; cpu < nr_cpus; cpu++) {
    const g = load<u32>(gens + (<usize>cpu << 2));
    if (g != 0) tlb_mailbox_wait(cpu, g);
  }
  stat_add(cause, TFS_IPIS, <u64>asked);
  return asked;
}

/** flush_tlb_mm - flush all of mm's translations everywhere (flush_tlb_mm_range(mm, 0, TLB_FLUSH_ALL)). */
export function flush_tlb_mm(mm: usize, cause: u32): i32 {
  return flush_tlb_mm_range(mm, 0, TLB_FLUSH_ALL, PAGE_SHIFT, false, cause);
}

/** flush_tlb_page - one page of mm (ptep_clear_flush's flush). */
export function flush_tlb_page(mm: usize, addr: u64, cause: u32): i32 {
  return flush_tlb_mm_range(mm, addr, addr + (1 << PAGE_SHIFT), PAGE_SHIFT, false, cause);
}
