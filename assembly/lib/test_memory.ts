// Exported entry points and test kernels for the MM core's page-table side (mm/pgtable.ts,
// mm/mmu_gather.ts, arch/x86/mm_tlb.ts, mm/memory.ts, mm/mprotect.ts, mm/mmu_notifier.ts).
// Every cpu_* function enters the core as that CPU and returns -EINVAL for a bad id.
import { test_vma_create_prot } from "./test_rmap";
import { nr_cpus } from "../layout";
import { set_this_cpu } from "../percpu";
import { EINVAL } from "../errno";
import { switch_mm, enter_lazy_tlb, leave_mm, flush_tlb_mm_range, tlb_flush_stat } from "../arch/x86/mm_tlb";
import { this_cpu_gather } from "../mm/mmu_gather";
export { TLB_CAUSE_MUNMAP, TLB_CAUSE_MPROTECT, TLB_CAUSE_COW, TLB_CAUSE_RECLAIM, TLB_CAUSE_MIGRATION, TLB_CAUSE_EXIT,
  TLB_CAUSE_OTHER, NR_TLB_CAUSES, TFS_FLUSHES, TFS_IPIS, TFS_PAGES, TFS_FULL, TLBSTATE_OK, TLBSTATE_LAZY } from "../arch/x86/mm_tlb";

// @ts-ignore: decorator
@inline function enter(cpu: i32): bool {
  if (cpu < 0 || cpu >= nr_cpus) return false;
  set_this_cpu(cpu);
  return true;
}


export function cpu_switch_mm(cpu: i32, next: usize): i32 { return enter(cpu) ? switch_mm(0, next) : -EINVAL; }
export function cpu_enter_lazy_tlb(cpu: i32, mm: usize): i32 { if (!enter(cpu)) return -EINVAL; enter_lazy_tlb(mm); return 0; }
export function cpu_leave_mm(cpu: i32): i32 { return enter(cpu) ? leave_mm() : -EINVAL; }
export function cpu_flush_tlb_mm_range(cpu: i32, mm: usize, start: u64, end: u64, freed_tables: bool, cause: u32): i32 {
  return enter(cpu) ? flush_tlb_mm_range(mm, start, end, 12, freed_tables, cause) : -EINVAL;
}
/** CPU cpu's shootdown counter (TFS_*) for cause; cause NR_TLB_CAUSES: lazy CPUs skipped. */
export function mm_tlb_flush_stat(cpu: i32, cause: u32, field: u32): u64 {
  return cpu < 0 || cpu >= nr_cpus ? 0 : tlb_flush_stat(cpu, cause, field);
}
export function cpu_mmu_gather(cpu: i32): usize { return enter(cpu) ? this_cpu_gather() : 0; }

// ---- test scaffolding: mm and vma objects built directly (mm-a's mm_alloc/vma_link replace them) ----
import { kmem_cache_alloc } from "../mm/slab";
import { __GFP_ZERO, alloc_page, GFP_HIGHUSER } from "../mm/page_alloc";
import { lock_init } from "../locking/lock";
import { LOCK_CLASS_MMAP_SEM, LOCK_CLASS_PAGE_TABLE_LOCK } from "../locking/lock_types";
import { KMEM_MM_STRUCT, MM_MMAP_SEM, MM_PAGE_TABLE_LOCK, MM_PCID, MM_ID, MM_USERS, MM_COUNT, MM_TASK_SIZE,
  TASK_SIZE, VMA_MM, VMA_NEXT, VMA_START, VMA_END, pfn_to_page, PAGE_FLAGS, PG_buddy } from "../mm/mm_types";
import { pgd_alloc, pgd_offset, pud_alloc, pmd_alloc, pte_alloc, pte_offset_map, pte_lockptr, mk_pte, set_pte_at,
  ptep_get_and_clear, pte_present, pte_pfn, table_present, walk_to_pmd } from "../mm/pgtable";
import { tlb_gather_mmu, tlb_finish_mmu, tlb_remove_tlb_entry, __tlb_remove_page, tlb_flush_mmu } from "../mm/mmu_gather";
import { lock_acquire, lock_release, MODE_WRITE } from "../locking/lock";
import { free_pgd_range } from "../mm/memory_pgd";
import { this_cpu } from "../percpu";
import { cpu_relax } from "../arch/x86/processor";
import { mmu_translate } from "../arch/x86/mmu";
import { tlb_lookup_4k } from "../arch/x86/tlb";
import { current_pcid } from "../arch/x86/processor";
import { ENOMEM } from "../errno";
import { mmu_notifier_register, mmu_notifier_check, mmu_notifier_release, mmu_notifier_invalidate_range_start,
  mmu_notifier_invalidate_range_end } from "../mm/mmu_notifier";
import { change_protection } from "../mm/mprotect";
import { fail_page_alloc_set } from "../mm/page_alloc";
export { MMU_NOTIFIER_SIZE, MN_DEPTH, MN_FLAGS, MN_NR_START, MN_NR_END, MN_NR_INVALIDATE_PAGE, MN_NR_CLEAR_YOUNG,
  MN_MAX_DEPTH, MN_NR_EVENTS, MN_RING_OFF, MN_EVENT_SIZE, MN_RING, MNF_UNBALANCED, MN_EV_START, MN_EV_END } from "../mm/mmu_notifier";
export { MM_CPUMASK, MM_TLB_GEN, MM_NOTIFIERS } from "../mm/mm_types";
export { PC_MMU_GATHER, PC_LOADED_MM, PC_TLBSTATE } from "../layout";

/**
 * cpu_pt_mm_create - an mm as mm_alloc would make it (locks, a PML4, PCID pcid, one user), for the
 * tests of the page-table side. Returns the mm, or 0 when out of memory.
 */
export function cpu_pt_mm_create(cpu: i32, pcid: u32): usize {
  if (!enter(cpu)) return 0;
  const mm = kmem_cache_alloc(KMEM_MM_STRUCT, __GFP_ZERO);
  if (mm == 0) return 0;
  lock_init(mm + MM_MMAP_SEM, LOCK_CLASS_MMAP_SEM, 0);
  lock_init(mm + MM_PAGE_TABLE_LOCK, LOCK_CLASS_PAGE_TABLE_LOCK, 0);
  if (pgd_alloc(mm) < 0) return 0;
  store<u32>(mm + MM_PCID, pcid);
  store<u32>(mm + MM_ID, pcid);
  store<i32>(mm + MM_USERS, 1);
  store<i32>(mm + MM_COUNT, 1);
  store<u64>(mm + MM_TASK_SIZE, TASK_SIZE);
  return mm;
}

/**
 * cpu_pt_vma_create - a vma [start, end) of mm with vm_flags, vm_page_prot and vm_file, inserted
 * in the mm's sorted vma list (no tree: the test scaffolding). Returns the vma or 0.
 */
export function cpu_pt_vma_create(cpu: i32, mm: usize, start: u64, end: u64, flags: u32, prot: u64, file: usize): usize {
  return enter(cpu) ? test_vma_create_prot(mm, start, end, flags, prot, file, <u32>(start >> 12)) : 0;
}

/**
 * cpu_test_map_pages - map n fresh zeroed frames at start in mm with protection prot, directly
 * (no vma, no rmap: for the TLB and gather tests). Returns the first pfn (the others follow in
 * allocation order, not necessarily consecutive), or -ENOMEM.
 */
export function cpu_test_map_pages(cpu: i32, mm: usize, start: u64, n: u32, prot: u64): i32 {
  if (!enter(cpu)) return -EINVAL;
  let first = -1;
  for (let i: u32 = 0; i < n; i++) {
    const addr = start + (<u64>i << 12);
    const pud = pud_alloc(mm, pgd_offset(mm, addr), addr);
    if (pud == 0) return -ENOMEM;
    const pmd = pmd_alloc(mm, pud, addr);
    if (pmd == 0 || pte_alloc(mm, pmd) < 0) return -ENOMEM;
    const pfn = alloc_page(GFP_HIGHUSER | __GFP_ZERO);
    if (pfn < 0) return -ENOMEM;
    if (first < 0) first = pfn;
    const ptl = pte_lockptr(mm, pmd);
    lock_acquire(ptl, MODE_WRITE, "test_map_pages");
    set_pte_at(pte_offset_map(pmd, addr), mk_pte(<u32>pfn, prot));
    lock_release(ptl, MODE_WRITE);
  }
  return first;
}

/** The PTE of mm for addr (0 when no table maps it). */
export function mm_test_pte(mm: usize, addr: u64): u64 {
  const pmd = walk_to_pmd(mm, addr);
  if (pmd == 0 || !table_present(atomic.load<u64>(pmd))) return 0;
  return atomic.load<u64>(pte_offset_map(pmd, addr));
}

/** The pte lock that guards addr's PTE in mm (0 when no PTE page maps it). */
export function mm_test_pte_lock(mm: usize, addr: u64): usize {
  const pmd = walk_to_pmd(mm, addr);
  if (pmd == 0 || !table_present(atomic.load<u64>(pmd))) return 0;
  return pte_lockptr(mm, pmd);
}

// The unmap of test_map_pages' pages: clear the PTEs into this CPU's gather (the pages have no rmap),
// then free the page tables of [start, end) with free_pgd_range.
function test_unmap(mm: usize, start: u64, n: u32, free_tables: bool): void {
  const end = start + (<u64>n << 12);
  const tlb = this_cpu_gather();
  tlb_gather_mmu(tlb, mm, start, end);
  for (let addr = start; addr < end; addr += 4096) {
    const pmd = walk_to_pmd(mm, addr);
    if (pmd == 0 || !table_present(atomic.load<u64>(pmd))) continue;
    const ptl = pte_lockptr(mm, pmd);
    lock_acquire(ptl, MODE_WRITE, "test_unmap");
    const old = ptep_get_and_clear(pte_offset_map(pmd, addr));
    let full = false;
    if (pte_present(old)) {
      tlb_remove_tlb_entry(tlb, addr);
      full = __tlb_remove_page(tlb, pte_pfn(old));
    }
    lock_release(ptl, MODE_WRITE);
    if (full) tlb_flush_mmu(tlb);
  }
  if (free_tables) free_pgd_range(tlb, start, end, 0, 0);
  tlb_finish_mmu(tlb, start, end);
}

/** cpu_test_unmap_pages - unmap test_map_pages' n pages at start through the mmu_gather (and their tables). */
export function cpu_test_unmap_pages(cpu: i32, mm: usize, start: u64, n: u32, free_tables: bool): i32 {
  if (!enter(cpu)) return -EINVAL;
  test_unmap(mm, start, n, free_tables);
  return 0;
}

/**
 * cpu_test_stale_watch - the other side of the "free only after every acknowledgement" test: fill
 * this CPU's TLB with va (mapping frame pfn), set *ready, then until *done: count the moments its TLB
 * still translates va while the frame is already free (a stale entry to a freed frame), taking IPIs in
 * cpu_relax. Returns violations << 1 | (1 if the entry was flushed by then).
 */
export function cpu_test_stale_watch(cpu: i32, va: u64, pfn: u32, ready: usize, done: usize): i64 {
  if (!enter(cpu)) return -EINVAL;
  const p = this_cpu();
  if (mmu_translate(p, va, 0) < 0) return -EINVAL;
  atomic.store<u32>(ready, 1);
  let bad: i64 = 0;
  const page = pfn_to_page(pfn);
  while (atomic.load<u32>(done) == 0) {
    const cached = tlb_lookup_4k(p, va, current_pcid(p)) != 0;
    if (cached && (atomic.load<u32>(page + PAGE_FLAGS) & PG_buddy) != 0) bad++;
    cpu_relax();
  }
  const flushed: i64 = tlb_lookup_4k(p, va, current_pcid(p)) == 0 ? 1 : 0;
  return (bad << 1) | flushed;
}

/** cpu_test_unmap_when_ready - wait for *ready, unmap (test_unmap, tables too), set *done. */
export function cpu_test_unmap_when_ready(cpu: i32, mm: usize, start: u64, n: u32, ready: usize, done: usize): i32 {
  if (!enter(cpu)) return -EINVAL;
  while (atomic.load<u32>(ready) == 0) cpu_relax();
  test_unmap(mm, start, n, true);
  atomic.store<u32>(done, 1);
  return 0;
}

// ---- mmu notifiers, mprotect, fault injection -----------------------------------------------------
export function cpu_mmu_notifier_register(cpu: i32, mm: usize): usize { return enter(cpu) ? mmu_notifier_register(mm) : 0; }
export function mm_mmu_notifier_check(mm: usize): i32 { return mmu_notifier_check(mm); }
export function cpu_mmu_notifier_release(cpu: i32, mm: usize): i32 { return enter(cpu) ? mmu_notifier_release(mm) : -EINVAL; }
export function cpu_mmu_notifier_range(cpu: i32, mm: usize, start: u64, end: u64, which: u32): i32 {
  if (!enter(cpu)) return -EINVAL;
  if (which == 0) mmu_notifier_invalidate_range_start(mm, start, end);
  else mmu_notifier_invalidate_range_end(mm, start, end);
  return 0;
}
export function cpu_change_protection(cpu: i32, vma: usize, start: u64, end: u64, newprot: u64, cp_flags: u32): i64 {
  return enter(cpu) ? change_protection(vma, start, end, newprot, cp_flags) : -EINVAL;
}
/** Fault injection on CPU cpu: n - 1 more page allocations succeed, then they fail (0: off). */
export function cpu_fail_page_alloc(cpu: i32, n: u32): i32 {
  if (!enter(cpu)) return -EINVAL;
  fail_page_alloc_set(n);
  return 0;
}

// ---- faults, fork's copy, unmap and exit (mm/memory.ts, memory_copy.ts, memory_unmap.ts) ---------
import { handle_mm_fault, FAULT_FLAG_WRITE, FAULT_FLAG_USER } from "../mm/memory";
import { copy_page_range } from "../mm/memory_copy";
import { unmap_vmas, free_pgtables, zap_page_range } from "../mm/memory_unmap";
import { ACC_USER, ACC_WRITE } from "../arch/x86/pgtable_types";
import { lock_acquire as __lock_acquire, lock_release as __lock_release, MODE_READ } from "../locking/lock";
import { MM_MMAP as __MM_MMAP } from "../mm/mm_types";
export { VM_FAULT_OOM, VM_FAULT_SIGBUS, VM_FAULT_SIGSEGV, VM_FAULT_WRITE, FAULT_FLAG_WRITE, FAULT_FLAG_USER,
  FAULT_FLAG_INSTRUCTION } from "../mm/memory";

// find_vma over the test scaffolding's sorted list (mm-a's find_vma uses the tree).
function test_find_vma(mm: usize, addr: u64): usize {
  for (let v = <usize>load<u32>(mm + __MM_MMAP); v != 0; v = <usize>load<u32>(v + VMA_NEXT)) {
    if (addr < load<u64>(v + VMA_END)) return load<u64>(v + VMA_START) <= addr ? v : 0;
  }
  return 0;
}

/** cpu_handle_mm_fault - handle_mm_fault(mm, vma, addr, flags) as CPU cpu, with mmap_sem held for read. */
export function cpu_handle_mm_fault(cpu: i32, mm: usize, vma: usize, addr: u64, flags: u32): i32 {
  if (!enter(cpu)) return -EINVAL;
  __lock_acquire(mm + MM_MMAP_SEM, MODE_READ, "cpu_handle_mm_fault");
  const r = handle_mm_fault(mm, vma, addr, flags);
  __lock_release(mm + MM_MMAP_SEM, MODE_READ);
  return <i32>r;
}

/**
 * cpu_test_user_access - a user access (write or read) at addr on CPU cpu (which has mm loaded), as
 * the CPU and the kernel's fault path do it: translate; on #PF find the vma and handle_mm_fault under
 * mmap_sem; retry (at most 4 faults). Returns the physical address, or -(VM_FAULT_* bits) on a fatal
 * fault, or -EFAULT when it keeps faulting.
 */
export function cpu_test_user_access(cpu: i32, mm: usize, addr: u64, write: bool): i64 {
  if (!enter(cpu)) return -EINVAL;
  const p = this_cpu();
  for (let i = 0; i < 5; i++) {
    const pa = mmu_translate(p, addr, ACC_USER | (write ? ACC_WRITE : 0));
    if (pa >= 0) return pa;
    __lock_acquire(mm + MM_MMAP_SEM, MODE_READ, "do_user_addr_fault");
    const r = handle_mm_fault(mm, test_find_vma(mm, addr), addr, FAULT_FLAG_USER | (write ? FAULT_FLAG_WRITE : 0));
    __lock_release(mm + MM_MMAP_SEM, MODE_READ);
    if ((r & (0x1 | 0x2 | 0x40)) != 0) return -(<i64>r);
  }
  return -14;
}

/** cpu_copy_page_range - copy_page_range(dst_mm, src_mm, vma) with both mmap_sems held for write. */
export function cpu_copy_page_range(cpu: i32, dst_mm: usize, src_mm: usize, vma: usize): i32 {
  if (!enter(cpu)) return -EINVAL;
  __lock_acquire(src_mm + MM_MMAP_SEM, MODE_WRITE, "dup_mmap");
  __lock_acquire(dst_mm + MM_MMAP_SEM, MODE_WRITE | 16 /* MODE_NESTED */, "dup_mmap(child)");
  const r = copy_page_range(dst_mm, src_mm, vma);
  __lock_release(dst_mm + MM_MMAP_SEM, MODE_WRITE | 16);
  __lock_release(src_mm + MM_MMAP_SEM, MODE_WRITE);
  return r;
}

/** cpu_zap_page_range - zap_page_range(vma, start, size) with mmap_sem held for read (madvise). */
export function cpu_zap_page_range(cpu: i32, vma: usize, start: u64, size: u64): i32 {
  if (!enter(cpu)) return -EINVAL;
  const mm = <usize>load<u32>(vma + VMA_MM);
  __lock_acquire(mm + MM_MMAP_SEM, MODE_READ, "madvise_dontneed");
  zap_page_range(vma, start, size);
  __lock_release(mm + MM_MMAP_SEM, MODE_READ);
  return 0;
}

/**
 * cpu_test_exit_mmap - exit_mmap's page-table half for mm (mm_users gone): one fullmm gather,
 * unmap_vmas over every vma, free_pgtables (each vma unlinked from rmap before its tables go),
 * tlb_finish_mmu. The vmas stay allocated (remove_vma is mm-a's). Returns 0.
 */
export function cpu_test_exit_mmap(cpu: i32, mm: usize): i32 {
  if (!enter(cpu)) return -EINVAL;
  const vma = <usize>load<u32>(mm + __MM_MMAP);
  const tlb = this_cpu_gather();
  __lock_acquire(mm + MM_MMAP_SEM, MODE_WRITE, "exit_mmap");
  tlb_gather_mmu(tlb, mm, 0, u64.MAX_VALUE);
  unmap_vmas(tlb, vma, 0, u64.MAX_VALUE);
  free_pgtables(tlb, vma, 0, 0);
  tlb_finish_mmu(tlb, 0, u64.MAX_VALUE);
  __lock_release(mm + MM_MMAP_SEM, MODE_WRITE);
  return 0;
}

/**
 * cpu_test_fault_range - write-touch n pages from start in mm on CPU cpu (which has mm loaded), in an
 * order that depends on seed (i x step mod n, step odd), through cpu_test_user_access's fault loop, so
 * several CPUs fault the same pages and page tables at once. Returns the number of accesses that
 * failed (the test expects 0).
 */
export function cpu_test_fault_range(cpu: i32, mm: usize, start: u64, n: u32, seed: u32): i32 {
  if (!enter(cpu) || n == 0) return -EINVAL;
  const step = (seed * 2 + 1) % n == 0 ? 1 : (seed * 2 + 1);
  let bad = 0;
  for (let i: u32 = 0; i < n; i++) {
    const page = <u64>((<u64>i * step + seed) % n);
    if (cpu_test_user_access(cpu, mm, start + (page << 12), true) < 0) bad++;
  }
  return bad;
}
