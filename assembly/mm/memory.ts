// Page faults (mm/memory.c: handle_mm_fault, handle_pte_fault, do_anonymous_page, do_fault,
// do_wp_page, wp_page_copy, do_swap_page's entry check) on the x86-64 page tables of mm/pgtable.ts.
//
// Caller: the fault path of an emulated CPU (arch/x86 do_page_fault), holding mm->mmap_sem for read,
// with the vma find_vma returned for the address (0 if none). Locks taken inside, in the kernel's
// order: the anon_vma lock (anon_vma_prepare) and mm->page_table_lock (table allocation) never
// while a pte lock is held; the pte lock around every PTE change; mmu notifiers outside the pte lock.
// A result of 0 means "retry the access" (the PTE is now there, or someone else changed it first).
//
// Simplifications: no zero page (a read fault on anonymous memory allocates a zeroed page), no
// fault-around, no swap-in (a swap entry gives VM_FAULT_SIGBUS), no ->page_mkwrite, no huge pages, no page lock (the
// reuse decision of do_wp_page reads the mapcount under the pte lock only), no userfaultfd/NUMA.
import { pte_rmw_charge, page_lines_charge } from "../kernel/mm_charge";
import { PAGE_SHIFT, PAGE_SIZE, PAGE_MASK_64 } from "../config";
import { nr_frames } from "../layout";
import { _PAGE_RW, _PAGE_ACCESSED, _PAGE_DIRTY } from "../arch/x86/pgtable_types";
import { alloc_page, put_page, get_page, page_has_data, page_address, GFP_HIGHUSER, __GFP_ZERO } from "./page_alloc";
import { pfn_to_page, page_mapcount, set_page_flag, PAGE_FLAGS, PAGE_MAPPING, PAGE_MAPPING_ANON, PG_reserved, PG_dirty,
  VMA_MM, VMA_START, VMA_END, VMA_FLAGS, VMA_PAGE_PROT, VMA_FILE, VMA_PGOFF,
  VM_READ, VM_WRITE, VM_EXEC, VM_SHARED, MM_ANONPAGES, MM_FILEPAGES } from "./mm_types";
import { pgd_offset, pud_alloc, pmd_alloc, pte_alloc, pte_offset_map, pte_lockptr, table_bad, ptep_get,
  ptep_get_and_clear, set_pte_at, pte_none, pte_present, pte_write, pte_special, pte_pfn, mk_pte, pte_mkwrite,
  pte_mkdirty, pte_mkyoung, add_mm_counter } from "./pgtable";
import { lock_acquire, lock_release, MODE_WRITE } from "../locking/lock";
import { flush_tlb_page, TLB_CAUSE_COW } from "../arch/x86/mm_tlb";
import { mmu_notifier_invalidate_range_start, mmu_notifier_invalidate_range_end } from "./mmu_notifier";
import { anon_vma_prepare, page_add_new_anon_rmap, page_remove_rmap, page_add_file_rmap } from "./rmap";
import { filemap_fault } from "./filemap";
import { is_migration_entry } from "./swapops";
import { migration_entry_wait } from "./migrate";
import { ENOMEM } from "../errno";
import { VM_BUG_ON } from "../debug";

// VM_FAULT_* (include/linux/mm.h): handle_mm_fault's result bits.
export const VM_FAULT_OOM: u32 = 0x0001;
export const VM_FAULT_SIGBUS: u32 = 0x0002;
export const VM_FAULT_MAJOR: u32 = 0x0004;
export const VM_FAULT_WRITE: u32 = 0x0008;    // a COW or reuse made the PTE writable
export const VM_FAULT_SIGSEGV: u32 = 0x0040;
export const VM_FAULT_NOPAGE: u32 = 0x0100;
export const VM_FAULT_RETRY: u32 = 0x0400;
export const VM_FAULT_ERROR: u32 = VM_FAULT_OOM | VM_FAULT_SIGBUS | VM_FAULT_SIGSEGV;

// FAULT_FLAG_* (include/linux/mm.h): what the access was.
export const FAULT_FLAG_WRITE: u32 = 0x01;
export const FAULT_FLAG_USER: u32 = 0x40;
export const FAULT_FLAG_INSTRUCTION: u32 = 0x100;
export const FAULT_FLAG_KNOWN: u32 = FAULT_FLAG_WRITE | FAULT_FLAG_USER | FAULT_FLAG_INSTRUCTION;

/** PageAnon: page->mapping holds an anon_vma. */
// @ts-ignore: decorator
@inline export function PageAnon(pfn: u32): bool {
  return (load<u32>(pfn_to_page(pfn) + PAGE_MAPPING) & PAGE_MAPPING_ANON) != 0;
}

/**
 * vm_normal_page - the frame a present PTE maps if the MM manages it (refcount, mapcount, rmap):
 * not a special PTE, inside RAM, not reserved. Returns the pfn or -1.
 */
export function vm_normal_page(pte: u64): i64 {
  if (pte_special(pte)) return -1;
  const pfn = pte_pfn(pte);
  if (pfn >= nr_frames) return -1;
  if ((atomic.load<u32>(pfn_to_page(pfn) + PAGE_FLAGS) & PG_reserved) != 0) return -1;
  return <i64>pfn;
}

/** mm_counter_file / mm_counter: which RSS counter a page counts in. */
// @ts-ignore: decorator
@inline export function mm_counter(pfn: u32): i32 { return PageAnon(pfn) ? MM_ANONPAGES : MM_FILEPAGES; }

/** set_page_dirty - mark a file page dirty (its contents must reach the file). */
// @ts-ignore: decorator
@inline export function set_page_dirty(pfn: u32): void { set_page_flag(pfn_to_page(pfn), PG_dirty); }

/** copy_user_highpage - copy frame src's contents to dst where both carry contents (dst zeroed otherwise). */
export function copy_user_highpage(dst: u32, src: u32): void {
  page_lines_charge(); // copying 4 KiB: 64 lines at LLC latency (kernel/mm_charge.ts says why)
  if (page_has_data(dst) && page_has_data(src)) memory.copy(page_address(dst), page_address(src), PAGE_SIZE);
}

/** is_cow_mapping - private and may become writable: its pages are copied on write. */
// @ts-ignore: decorator
@inline export function is_cow_mapping(flags: u32): bool { return (flags & (VM_SHARED | 0x20 /* VM_MAYWRITE */)) == 0x20; }

// The arch's access_error (arch/x86/mm/fault.c): does the vma allow the access at all?
function access_error(vma: usize, flags: u32): bool {
  const vf = load<u32>(vma + VMA_FLAGS);
  if ((flags & FAULT_FLAG_WRITE) != 0) return (vf & VM_WRITE) == 0;
  if ((flags & FAULT_FLAG_INSTRUCTION) != 0) return (vf & VM_EXEC) == 0;
  return (vf & (VM_READ | VM_WRITE | VM_EXEC)) == 0;
}

/**
 * handle_mm_fault - resolve a fault at addr in vma of mm (flags: FAULT_FLAG_*). mmap_sem held for
 * read. Returns 0 (retry the access) or VM_FAULT_* bits: VM_FAULT_SIGSEGV for an address outside the
 * vma (or no vma) or an access its flags refuse, VM_FAULT_OOM when a page or page table could not be
 * allocated, VM_FAULT_SIGBUS for what the model cannot serve (a swap entry, a bad table entry),
 * VM_FAULT_WRITE with 0 otherwise when a write fault made the PTE writable.
 */
export function handle_mm_fault(mm: usize, vma: usize, addr: u64, flags: u32): u32 {
  if (vma == 0 || (flags & ~FAULT_FLAG_KNOWN) != 0) return VM_FAULT_SIGSEGV;
  if (addr < load<u64>(vma + VMA_START) || addr >= load<u64>(vma + VMA_END)) return VM_FAULT_SIGSEGV;
  if (access_error(vma, flags)) return VM_FAULT_SIGSEGV;
  VM_BUG_ON(<usize>load<u32>(vma + VMA_MM) != mm, "handle_mm_fault: the vma belongs to another mm");
  addr &= PAGE_MASK_64;
  const pgd = pgd_offset(mm, addr);
  if (table_bad(atomic.load<u64>(pgd))) return VM_FAULT_SIGBUS;
  const pud = pud_alloc(mm, pgd, addr);
  if (pud == 0) return VM_FAULT_OOM;
  if (table_bad(atomic.load<u64>(pud))) return VM_FAULT_SIGBUS;
  const pmd = pmd_alloc(mm, pud, addr);
  if (pmd == 0) return VM_FAULT_OOM;
  if (pte_alloc(mm, pmd) < 0) return VM_FAULT_OOM;
  if (table_bad(atomic.load<u64>(pmd))) return VM_FAULT_SIGBUS;
  return handle_pte_fault(mm, vma, addr, pmd, flags);
}

/**
 * handle_pte_fault - the PTE level: an empty PTE goes to do_anonymous_page or do_fault, a swap or
 * migration entry to do_swap_page, a present one is a protection fault (do_wp_page) or a spurious
 * one (A/D set, retry). The PTE is read without the lock first and checked again under it.
 */
export function handle_pte_fault(mm: usize, vma: usize, addr: u64, pmd: usize, flags: u32): u32 {
  const entry = ptep_get(pte_offset_map(pmd, addr));
  if (!pte_present(entry)) {
    if (pte_none(entry)) {
      if (load<u32>(vma + VMA_FILE) == 0) return do_anonymous_page(mm, vma, addr, pmd, flags);
      return do_fault(mm, vma, addr, pmd, flags);
    }
    return do_swap_page(mm, vma, addr, pmd, flags, entry);
  }
  const ptl = pte_lockptr(mm, pmd);
  lock_acquire(ptl, MODE_WRITE, "handle_pte_fault");
  const pte = pte_offset_map(pmd, addr);
  const cur = ptep_get(pte);
  if ((cur & ~_PAGE_ACCESSED) != (entry & ~_PAGE_ACCESSED)) {
    lock_release(ptl, MODE_WRITE); // changed under us: retry
    return 0;
  }
  if ((flags & FAULT_FLAG_WRITE) != 0) {
    if (!pte_write(cur)) return do_wp_page(mm, vma, addr, pmd, pte, cur, ptl);
    pte_rmw_charge(); // ptep_set_access_flags: a PTE write
    atomic.or<u64>(pte, _PAGE_ACCESSED | _PAGE_DIRTY); // ptep_set_access_flags
  }
  // A read fault on a present PTE was a stale TLB entry: the model's TLB dropped it at the fault.
  lock_release(ptl, MODE_WRITE);
  return 0;
}

/**
 * do_anonymous_page - demand zero: a new zeroed page (zeroed only where frames carry contents),
 * writable at once in a writable vma, added to the vma's anon_vma. mmap_sem held, no other lock.
 */
export function do_anonymous_page(mm: usize, vma: usize, addr: u64, pmd: usize, flags: u32): u32 {
  if (anon_vma_prepare(vma) < 0) return VM_FAULT_OOM;
  const pfn = alloc_page(GFP_HIGHUSER | __GFP_ZERO);
  if (pfn < 0) return VM_FAULT_OOM;
  let entry = mk_pte(<u32>pfn, load<u64>(vma + VMA_PAGE_PROT)) | _PAGE_ACCESSED;
  if ((load<u32>(vma + VMA_FLAGS) & VM_WRITE) != 0) entry = pte_mkwrite(pte_mkdirty(entry));
  const ptl = pte_lockptr(mm, pmd);
  lock_acquire(ptl, MODE_WRITE, "do_anonymous_page");
  const pte = pte_offset_map(pmd, addr);
  if (!pte_none(ptep_get(pte))) {
    lock_release(ptl, MODE_WRITE); // another thread faulted it in first
    put_page(<u32>pfn);
    return 0;
  }
  add_mm_counter(mm, MM_ANONPAGES, 1);
  page_add_new_anon_rmap(<u32>pfn, vma, addr);
  set_pte_at(pte, entry);
  lock_release(ptl, MODE_WRITE);
  return 0;
}

/**
 * do_fault - an empty PTE in a file mapping (mmap_sem held, no lock): filemap_fault gives the page-cache
 * page with a reference. A read fault maps it (do_read_fault), read-only unless the mapping is shared
 * and the fault a write; a write fault on a private mapping copies it into a new anonymous page
 * (do_cow_fault); on a shared mapping it is mapped writable and dirtied (do_shared_fault).
 * -EFAULT from filemap_fault (past the end of the file) is VM_FAULT_SIGBUS, -ENOMEM VM_FAULT_OOM.
 */
export function do_fault(mm: usize, vma: usize, addr: u64, pmd: usize, flags: u32): u32 {
  const vs = load<u64>(vma + VMA_START);
  const pgoff = <u32>((addr - vs) >> PAGE_SHIFT) + load<u32>(vma + VMA_PGOFF);
  const r = filemap_fault(vma, pgoff);
  if (r < 0) return r == -ENOMEM ? VM_FAULT_OOM : VM_FAULT_SIGBUS;
  const pfn = <u32>r;
  const vf = load<u32>(vma + VMA_FLAGS);
  const write = (flags & FAULT_FLAG_WRITE) != 0;
  if (write && (vf & VM_SHARED) == 0) {
    // do_cow_fault: the private copy goes to the vma's anon_vma (wp_page_copy with orig = none: the
    // PTE is still empty, so it maps the copy only if nobody filled it meanwhile).
    return wp_page_copy(mm, vma, addr, pmd, 0, <i32>pfn); // drops filemap_fault's reference
  }
  let entry = mk_pte(pfn, load<u64>(vma + VMA_PAGE_PROT)) | _PAGE_ACCESSED;
  if (write) entry = pte_mkwrite(pte_mkdirty(entry));
  const ptl = pte_lockptr(mm, pmd);
  lock_acquire(ptl, MODE_WRITE, "do_fault");
  const pte = pte_offset_map(pmd, addr);
  if (!pte_none(ptep_get(pte))) {
    lock_release(ptl, MODE_WRITE);
    put_page(pfn);
    return 0;
  }
  add_mm_counter(mm, MM_FILEPAGES, 1);
  page_add_file_rmap(pfn);
  set_pte_at(pte, entry); // the reference from filemap_fault is the mapping's now
  if (write) set_page_dirty(pfn);
  lock_release(ptl, MODE_WRITE);
  return 0;
}

/**
 * do_swap_page - a non-present, non-empty PTE: a migration entry (wait for the migration to finish,
 * then retry) or a swap entry (swap-in is not modelled: VM_FAULT_SIGBUS).
 */
export function do_swap_page(mm: usize, vma: usize, addr: u64, pmd: usize, flags: u32, entry: u64): u32 {
  if (is_migration_entry(entry)) {
    migration_entry_wait(mm, addr);
    return 0;
  }
  return VM_FAULT_SIGBUS;
}

/**
 * do_wp_page - a write to a present read-only PTE in a writable vma (pte lock held, released here):
 * an anonymous page only this PTE maps is reused (made writable in place); a page of a shared
 * mapping is made writable and dirtied; anything else is copied (wp_page_copy).
 */
export function do_wp_page(mm: usize, vma: usize, addr: u64, pmd: usize, pte: usize, orig: u64, ptl: usize): u32 {
  const r = vm_normal_page(orig);
  const vf = load<u32>(vma + VMA_FLAGS);
  if (r >= 0) {
    const pfn = <u32>r;
    if (PageAnon(pfn)) {
      if (page_mapcount(pfn_to_page(pfn)) == 1) {
        pte_rmw_charge(); // wp_page_reuse: a PTE write
        atomic.or<u64>(pte, _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY); // wp_page_reuse
        lock_release(ptl, MODE_WRITE);
        return VM_FAULT_WRITE;
      }
    } else if ((vf & (VM_WRITE | VM_SHARED)) == (VM_WRITE | VM_SHARED)) {
      pte_rmw_charge(); // wp_page_shared: a PTE write
      atomic.or<u64>(pte, _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY); // wp_page_shared
      set_page_dirty(pfn);
      lock_release(ptl, MODE_WRITE);
      return VM_FAULT_WRITE;
    }
    get_page(pfn);
  }
  lock_release(ptl, MODE_WRITE);
  return wp_page_copy(mm, vma, addr, pmd, orig, r >= 0 ? <i32>r : -1);
}

/**
 * wp_page_copy - break COW: copy old_pfn (or zero for no page) into a new anonymous page and map
 * it writable in place of orig, if the PTE is still orig. Called with a reference on old_pfn and no
 * lock; mmu notifiers invalidate the page around the switch; the old PTE is cleared and its TLB entries
 * flushed on every CPU before the new one is set (ptep_clear_flush).
 */
function wp_page_copy(mm: usize, vma: usize, addr: u64, pmd: usize, orig: u64, old_pfn: i32): u32 {
  if (anon_vma_prepare(vma) < 0) {
    if (old_pfn >= 0) put_page(<u32>old_pfn);
    return VM_FAULT_OOM;
  }
  const new_pfn = alloc_page(GFP_HIGHUSER | __GFP_ZERO);
  if (new_pfn < 0) {
    if (old_pfn >= 0) put_page(<u32>old_pfn);
    return VM_FAULT_OOM;
  }
  if (old_pfn >= 0) copy_user_highpage(<u32>new_pfn, <u32>old_pfn);
  mmu_notifier_invalidate_range_start(mm, addr, addr + PAGE_SIZE);
  const ptl = pte_lockptr(mm, pmd);
  lock_acquire(ptl, MODE_WRITE, "wp_page_copy");
  const pte = pte_offset_map(pmd, addr);
  let to_free = <u32>new_pfn;
  let ret: u32 = 0;
  if ((ptep_get(pte) & ~_PAGE_ACCESSED) == (orig & ~_PAGE_ACCESSED)) {
    if (orig != 0 && old_pfn >= 0 && !PageAnon(<u32>old_pfn)) {
      add_mm_counter(mm, MM_FILEPAGES, -1);
      add_mm_counter(mm, MM_ANONPAGES, 1);
    } else if (orig == 0 || old_pfn < 0) {
      add_mm_counter(mm, MM_ANONPAGES, 1);
    }
    const entry = pte_mkwrite(pte_mkdirty(pte_mkyoung(mk_pte(<u32>new_pfn, load<u64>(vma + VMA_PAGE_PROT)))));
    if (orig != 0) {
      ptep_get_and_clear(pte);
      flush_tlb_page(mm, addr, TLB_CAUSE_COW); // ptep_clear_flush: no CPU may write the old frame now
    }
    page_add_new_anon_rmap(<u32>new_pfn, vma, addr);
    set_pte_at(pte, entry);
    if (orig != 0 && old_pfn >= 0) {
      page_remove_rmap(<u32>old_pfn);
      to_free = <u32>old_pfn; // the old PTE's reference
    } else {
      to_free = 0xffffffff;
    }
    ret = VM_FAULT_WRITE;
  }
  if (to_free != 0xffffffff) put_page(to_free);
  lock_release(ptl, MODE_WRITE);
  mmu_notifier_invalidate_range_end(mm, addr, addr + PAGE_SIZE);
  if (old_pfn >= 0) put_page(<u32>old_pfn); // do_wp_page's reference
  return ret;
}
