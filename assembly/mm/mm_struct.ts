// The life of an mm_struct, after Linux kernel/fork.c (mm_alloc, mm_init, mmget/mmput, mmdrop,
// get_task_mm) and mm/mmap.c (exit_mmap).
//
// Two counts (mm_types.ts): mm_users, the users of the address space (threads, get_task_mm holders);
// the last mmput tears the address space down (exit_mmap) and drops the users' shared reference on
// mm_count; mm_count, references to the struct itself (lazy-TLB CPUs borrowing it, mmgrab); the
// last mmdrop frees the PML4 page and the struct.
import { atomic_charge } from "../kernel/mm_charge";
import { MM_MMAP_SEM, MM_PAGE_TABLE_LOCK, MM_MMAP, MM_RB, MM_MAP_COUNT, MM_MMAP_CACHE, MM_MMAP_BASE, MM_TASK_SIZE,
  MM_START_BRK, MM_BRK, MM_TOTAL_VM, MM_USERS, MM_COUNT, MM_PGD, MM_PCID, MM_ID, MM_FLAGS, MMF_EXITING, KMEM_MM_STRUCT,
  KMEM_VM_AREA, TASK_SIZE, TASK_MM, TASK_FLAGS, TASK_ALLOC_LOCK, PF_KTHREAD } from "./mm_types";
import { machine_base, HDR_MM_NEXT_ID } from "../layout";
import { kmem_cache_alloc, kmem_cache_free } from "./slab";
import { alloc_page, put_page, GFP_KERNEL, __GFP_ZERO } from "./page_alloc";
import { lock_init, lock_acquire, lock_release, MODE_WRITE } from "../locking/lock";
import { LOCK_CLASS_MMAP_SEM, LOCK_CLASS_PAGE_TABLE_LOCK } from "../locking/lock_types";
import { spin_lock, spin_unlock } from "../locking/spinlock";
import { vm_next } from "./vma";
import { this_cpu_gather, tlb_gather_mmu, tlb_finish_mmu } from "./mmu_gather";
import { TLB_FLUSH_ALL } from "../arch/x86/mm_tlb";
import { unmap_vmas, free_pgtables } from "./memory_unmap";
import { mmu_notifier_release } from "./mmu_notifier";
import { FIRST_USER_ADDRESS } from "./mmap";
import { VM_BUG_ON } from "../debug";
import { EINVAL } from "../errno";

/** The stack gap below TASK_SIZE (arch/x86/mm/mmap.c MIN_GAP: 128 MiB; no randomisation). */
export const MMAP_GAP: u64 = 128 << 20;
/** PCIDs 1..4095 go round-robin to new mms (0 is init_mm's). */
const NR_PCIDS: u32 = 4095;

/**
 * mm_alloc - a new, empty address space: mm_users = mm_count = 1, no vmas, a zeroed PML4 (pgd_alloc),
 * mmap_base = TASK_SIZE - 128 MiB (top-down layout), start_brk = brk = 0 until mm_setup_brk. Returns
 * the mm, or 0 when the struct or the PML4 page cannot be allocated.
 */
export function mm_alloc(): usize {
  const mm = kmem_cache_alloc(KMEM_MM_STRUCT, __GFP_ZERO);
  if (mm == 0) return 0;
  const pgd = alloc_page(GFP_KERNEL | __GFP_ZERO);
  if (pgd < 0) {
    kmem_cache_free(KMEM_MM_STRUCT, mm);
    return 0;
  }
  lock_init(mm + MM_MMAP_SEM, LOCK_CLASS_MMAP_SEM, 0);
  lock_init(mm + MM_PAGE_TABLE_LOCK, LOCK_CLASS_PAGE_TABLE_LOCK, 0);
  store<u64>(mm + MM_TASK_SIZE, TASK_SIZE);
  store<u64>(mm + MM_MMAP_BASE, TASK_SIZE - MMAP_GAP);
  store<u32>(mm + MM_PGD, <u32>pgd);
  const id = atomic.add<u32>(machine_base + HDR_MM_NEXT_ID, 1) + 1;
  store<u32>(mm + MM_ID, id);
  store<u32>(mm + MM_PCID, 1 + (id - 1) % NR_PCIDS);
  atomic.store<i32>(mm + MM_USERS, 1);
  atomic.store<i32>(mm + MM_COUNT, 1);
  return mm;
}

/**
 * mm_setup_brk - what exec's loader does after mapping the image: start_brk = brk = addr (page
 * aligned, below mmap_base). Caller holds mmap_sem for write or owns the mm alone. Returns 0 or
 * -EINVAL.
 */
export function mm_setup_brk(mm: usize, addr: u64): i32 {
  if ((addr & 0xfff) != 0 || addr >= load<u64>(mm + MM_MMAP_BASE)) return -EINVAL;
  store<u64>(mm + MM_START_BRK, addr);
  store<u64>(mm + MM_BRK, addr);
  return 0;
}

/** mmget - one more user of the address space (the caller already holds a user reference). */
export function mmget(mm: usize): void {
  atomic_charge(1); // the locked add on mm_users
  atomic.add<i32>(mm + MM_USERS, 1);
}

/** mmgrab - one more reference to the struct (not to the address space). */
export function mmgrab(mm: usize): void {
  atomic_charge(1); // the locked add on mm_count
  atomic.add<i32>(mm + MM_COUNT, 1);
}

/**
 * get_task_mm - task's mm with a user reference taken, or 0 for a kernel thread or a task without
 * one. Takes task_lock.
 */
export function get_task_mm(task: usize): usize {
  spin_lock(task + TASK_ALLOC_LOCK);
  let mm = <usize>load<u32>(task + TASK_MM);
  if (mm != 0) {
    if ((load<u32>(task + TASK_FLAGS) & PF_KTHREAD) != 0) mm = 0;
    else mmget(mm);
  }
  spin_unlock(task + TASK_ALLOC_LOCK);
  return mm;
}

/**
 * exit_mmap - tear down every mapping of an mm nobody uses any more (mm_users reached 0): unmap the
 * pages, free the page tables, free the vmas. Holds nothing; nobody else can reach the vmas (the
 * kernel takes no mmap_sem here either in 2.6.3x).
 */
export function exit_mmap(mm: usize): void {
  // The secondary MMUs go first (mmu_notifier_release: nobody can start an invalidation any more).
  mmu_notifier_release(mm);
  atomic.or<u32>(mm + MM_FLAGS, MMF_EXITING);
  const vma = <usize>load<u32>(mm + MM_MMAP);
  if (vma == 0) return; // can happen if dup_mmap() received an OOM
  const tlb = this_cpu_gather();
  tlb_gather_mmu(tlb, mm, 0, TLB_FLUSH_ALL);
  // Use -1 here to ensure all VMAs in the mm are unmapped.
  unmap_vmas(tlb, vma, 0, TLB_FLUSH_ALL);
  // free_pgtables unlinks every vma from its anon_vmas and its file, then frees the tables.
  free_pgtables(tlb, vma, FIRST_USER_ADDRESS, 0);
  tlb_finish_mmu(tlb, 0, TLB_FLUSH_ALL);
  // Walk the list again, actually closing and freeing it.
  let v = vma;
  while (v != 0) {
    const next = vm_next(v);
    kmem_cache_free(KMEM_VM_AREA, v);
    v = next;
  }
  store<u32>(mm + MM_MMAP, 0);
  store<u32>(mm + MM_RB, 0);
  store<u32>(mm + MM_MMAP_CACHE, 0);
  store<u32>(mm + MM_MAP_COUNT, 0);
  store<u64>(mm + MM_TOTAL_VM, 0);
}

/**
 * mmdrop - drop a reference to the struct; the last one frees the PML4 page (pgd_free) and the
 * struct. The address space must already be torn down (mm_users 0 and exit_mmap done).
 */
export function mmdrop(mm: usize): void {
  atomic_charge(1); // the locked sub on mm_count
  if (atomic.sub<i32>(mm + MM_COUNT, 1) != 1) return;
  VM_BUG_ON(atomic.load<i32>(mm + MM_USERS) != 0, "mmdrop: the last reference comes after the last user");
  VM_BUG_ON(load<u32>(mm + MM_MMAP) != 0, "mmdrop: no vmas left (exit_mmap ran)");
  put_page(load<u32>(mm + MM_PGD));
  kmem_cache_free(KMEM_MM_STRUCT, mm);
}

/**
 * mmput - drop a user of the address space; the last one runs exit_mmap and then drops the users'
 * reference on the struct (mmdrop). Holds nothing on entry; may free the mm.
 */
export function mmput(mm: usize): void {
  atomic_charge(1); // the locked sub on mm_users
  if (atomic.sub<i32>(mm + MM_USERS, 1) != 1) return;
  exit_mmap(mm);
  mmdrop(mm);
}

/** down_write(&mm->mmap_sem) / up_write, for the entry points that take it themselves. */
export function mmap_write_lock(mm: usize, site: string): void { lock_acquire(mm + MM_MMAP_SEM, MODE_WRITE, site); }
export function mmap_write_unlock(mm: usize): void { lock_release(mm + MM_MMAP_SEM, MODE_WRITE); }
