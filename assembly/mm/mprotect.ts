// Changing the protection of the PTEs of a range (mm/mprotect.c: change_protection, change_pte_range
// and the levels above). mprotect_fixup (mm-a) updates the vma's vm_flags and vm_page_prot, then
// calls change_protection with the new vm_page_prot.
//
// Each present PTE keeps its frame, A, D and special bits and takes the new protection bits
// (pte_modify), atomically against the walker (get-and-clear, modify, set, under the pte lock, as
// ptep_modify_prot_start/commit). Empty PTEs stay empty (faults fill them with the new protection);
// swap and migration entries are left as they are. After the walk the range is flushed from every TLB
// (cause mprotect), between one mmu_notifier invalidate_range_start/end pair. Page tables are
// never allocated.
// Simplifications: no dirty accounting (a shared writable mapping's PTEs get R/W from vm_page_prot
// directly), no NUMA hinting (MM_CP_PROT_NUMA), one notifier pair for the whole range instead of one
// per PMD.
import { PAGE_SIZE } from "../config";
import { VMA_MM } from "./mm_types";
import { pgd_offset, pud_offset, pmd_offset, pte_offset_map, pte_lockptr, table_present, ptep_get_and_clear,
  set_pte_at, pte_none, pte_present, pte_modify, pgd_addr_end, pud_addr_end, pmd_addr_end } from "./pgtable";
import { lock_acquire, lock_release, MODE_WRITE } from "../locking/lock";
import { flush_tlb_mm_range, TLB_CAUSE_MPROTECT } from "../arch/x86/mm_tlb";
import { mmu_notifier_invalidate_range_start, mmu_notifier_invalidate_range_end } from "./mmu_notifier";
import { EINVAL } from "../errno";

/** cp_flags of change_protection (include/linux/mm.h MM_CP_*): none are modelled yet; must be 0. */
export const MM_CP_KNOWN: u32 = 0;

function change_pte_range(mm: usize, pmd: usize, addr: u64, end: u64, newprot: u64): i32 {
  const ptl = pte_lockptr(mm, pmd);
  lock_acquire(ptl, MODE_WRITE, "change_pte_range");
  let pages = 0;
  for (; addr != end; addr += PAGE_SIZE) {
    const pte = pte_offset_map(pmd, addr);
    const old = atomic.load<u64>(pte);
    if (pte_none(old) || !pte_present(old)) continue;
    // TODO(integrate): mm/swapops.ts (mm-c): a write migration entry becomes a read one when
    // newprot is not writable (make_migration_entry(pfn, false)); counted as a changed page.
    const ptent = ptep_get_and_clear(pte); // ptep_modify_prot_start: A/D the walker set are kept
    set_pte_at(pte, pte_modify(ptent, newprot));
    pages++;
  }
  lock_release(ptl, MODE_WRITE);
  return pages;
}

/**
 * change_protection - give the present PTEs of [start, end) in vma the protection newprot (a
 * vm_page_prot), flush the range from every TLB, and return the number of PTEs changed. mmap_sem held
 * for write. cp_flags: 0. Returns -EINVAL for unknown cp_flags or an empty range.
 */
export function change_protection(vma: usize, start: u64, end: u64, newprot: u64, cp_flags: u32): i64 {
  if ((cp_flags & ~MM_CP_KNOWN) != 0 || end <= start) return -EINVAL;
  const mm = <usize>load<u32>(vma + VMA_MM);
  mmu_notifier_invalidate_range_start(mm, start, end);
  let pages: i64 = 0;
  let addr = start;
  do {
    const next = pgd_addr_end(addr, end);
    const pgd = pgd_offset(mm, addr);
    if (table_present(atomic.load<u64>(pgd))) {
      let a = addr;
      do {
        const n2 = pud_addr_end(a, next);
        const pud = pud_offset(pgd, a);
        if (table_present(atomic.load<u64>(pud))) {
          let b = a;
          do {
            const n3 = pmd_addr_end(b, n2);
            const pmd = pmd_offset(pud, b);
            if (table_present(atomic.load<u64>(pmd))) pages += change_pte_range(mm, pmd, b, n3, newprot);
            b = n3;
          } while (b != n2);
        }
        a = n2;
      } while (a != next);
    }
    addr = next;
  } while (addr != end);
  if (pages > 0) flush_tlb_mm_range(mm, start, end, 12, false, TLB_CAUSE_MPROTECT);
  mmu_notifier_invalidate_range_end(mm, start, end);
  return pages;
}
