// Mapping and unmapping, after Linux 2.6.3x mm/mmap.c: vm_get_page_prot (x86 protection_map),
// get_unmapped_area (top-down from mm->mmap_base, then bottom-up), do_mmap / mmap_region, do_munmap
// (split at both ends, detach, unmap_region, free), do_brk and sys_brk. The vma set itself is
// mm/vma.ts.
//
// Locking: do_mmap, do_munmap, do_brk need mm->mmap_sem held for write; the sys_* entry points take
// it themselves (down_write as the kernel's syscalls do). Every error return leaves the vma set as it
// was, except where Linux itself leaves a harmless split behind (do_munmap's second split failing
// after the first succeeded: the same pages mapped the same way, in one more vma).
import { PAGE_SIZE_64, PAGE_MASK_64 } from "../config";
import { EOVERFLOW } from "../errno";
import { syscall_charge } from "../kernel/mm_charge";
import { MM_MMAP, MM_MAP_COUNT, MM_MMAP_CACHE, MM_MMAP_BASE, MM_TASK_SIZE, MM_START_BRK, MM_BRK, MM_TOTAL_VM,
  MM_MMAP_SEM, VMA_MM, VMA_START, VMA_END, VMA_FLAGS, VMA_PGOFF, VMA_PAGE_PROT, VMA_FILE, VMA_NEXT, VMA_PREV, VMA_RB,
  KMEM_VM_AREA, MM_RB, VM_READ, VM_WRITE, VM_EXEC, VM_SHARED, VM_MAYREAD, VM_MAYWRITE, VM_MAYEXEC, VM_MAYSHARE,
  VM_GROWSDOWN, VM_ACCOUNT } from "./mm_types";
import { _PAGE_PRESENT, _PAGE_RW, _PAGE_USER, _PAGE_ACCESSED, _PAGE_NX } from "../arch/x86/pgtable_types";
import { find_vma, find_vma_links, find_vma_intersection, vma_link, vma_merge, __split_vma,
  vm_start, vm_end, vm_next, vm_prev, vma_pages, MAX_MAP_COUNT } from "./vma";
import { rb_erase } from "../lib/rbtree";
import { this_cpu_gather, tlb_gather_mmu, tlb_finish_mmu } from "./mmu_gather";
import { unmap_vmas, free_pgtables } from "./memory_unmap";
import { _PAGE_PROTNONE } from "../arch/x86/pgtable_types";
import { kmem_cache_alloc, kmem_cache_free } from "./slab";
import { __GFP_ZERO } from "./page_alloc";
import { address_space_create } from "./filemap";
import { lock_acquire, lock_release, MODE_WRITE } from "../locking/lock";
import { EINVAL, ENOMEM } from "../errno";

// @ts-ignore: decorator
@inline export function PAGE_ALIGN(x: u64): u64 { return (x + PAGE_SIZE_64 - 1) & PAGE_MASK_64; }

/** mmap's prot and flags (include/uapi/asm-generic/mman-common.h). */
export const PROT_NONE: u32 = 0;
export const PROT_READ: u32 = 0x1;
export const PROT_WRITE: u32 = 0x2;
export const PROT_EXEC: u32 = 0x4;
export const MAP_SHARED: u32 = 0x01;
export const MAP_PRIVATE: u32 = 0x02;
export const MAP_TYPE: u32 = 0x0f;
export const MAP_FIXED: u32 = 0x10;
export const MAP_ANONYMOUS: u32 = 0x20;
export const MAP_GROWSDOWN: u32 = 0x0100;

/** The bottom of the bottom-up search (arch/x86 TASK_UNMAPPED_BASE: TASK_SIZE / 3, page aligned). */
// @ts-ignore: decorator
@inline function task_unmapped_base(mm: usize): u64 { return PAGE_ALIGN(load<u64>(mm + MM_TASK_SIZE) / 3); }
/** mmap_min_addr (the default of CONFIG_DEFAULT_MMAP_MIN_ADDR on x86). */
export const MMAP_MIN_ADDR: u64 = 65536;

// ---------------------------------------------------------------------------------------------
// Protections (arch/x86/include/asm/pgtable_types.h, mm/mmap.c protection_map)
// ---------------------------------------------------------------------------------------------

/** The lowest address user page tables may cover (FIRST_USER_ADDRESS, 0 on x86). */
export const FIRST_USER_ADDRESS: u64 = 0;
const PAGE_NONE: u64 = _PAGE_PROTNONE | _PAGE_ACCESSED;
const PAGE_SHARED: u64 = _PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED | _PAGE_NX;
const PAGE_SHARED_EXEC: u64 = _PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED;
const PAGE_COPY_NOEXEC: u64 = _PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED | _PAGE_NX;
const PAGE_COPY_EXEC: u64 = _PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED;
const PAGE_READONLY: u64 = _PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED | _PAGE_NX;
const PAGE_READONLY_EXEC: u64 = _PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED;

/**
 * vm_get_page_prot - protection_map[vm_flags & (VM_READ|VM_WRITE|VM_EXEC|VM_SHARED)]: the PTE bits of
 * a vma. Private writable vmas get read-only PTEs (__P010 = PAGE_COPY): the write fault breaks COW
 * and sets RW. NX unless VM_EXEC; PROT_WRITE implies read (x86 cannot express write-only).
 */
export function vm_get_page_prot(flags: u32): u64 {
  switch (flags & (VM_READ | VM_WRITE | VM_EXEC | VM_SHARED)) {
    case 0: return PAGE_NONE;                                   // __P000
    case VM_READ: return PAGE_READONLY;                         // __P001
    case VM_WRITE: return PAGE_COPY_NOEXEC;                     // __P010
    case VM_READ | VM_WRITE: return PAGE_COPY_NOEXEC;           // __P011
    case VM_EXEC: return PAGE_READONLY_EXEC;                    // __P100
    case VM_EXEC | VM_READ: return PAGE_READONLY_EXEC;          // __P101
    case VM_EXEC | VM_WRITE: return PAGE_COPY_EXEC;             // __P110
    case VM_EXEC | VM_WRITE | VM_READ: return PAGE_COPY_EXEC;   // __P111
    case VM_SHARED: return PAGE_NONE;                           // __S000
    case VM_SHARED | VM_READ: return PAGE_READONLY;             // __S001
    case VM_SHARED | VM_WRITE: return PAGE_SHARED;              // __S010
    case VM_SHARED | VM_READ | VM_WRITE: return PAGE_SHARED;    // __S011
    case VM_SHARED | VM_EXEC: return PAGE_READONLY_EXEC;        // __S100
    case VM_SHARED | VM_EXEC | VM_READ: return PAGE_READONLY_EXEC; // __S101
    case VM_SHARED | VM_EXEC | VM_WRITE: return PAGE_SHARED_EXEC;  // __S110
    default: return PAGE_SHARED_EXEC;                           // __S111
  }
}

/** calc_vm_prot_bits: PROT_* -> VM_READ/WRITE/EXEC (the same bit values). */
// @ts-ignore: decorator
@inline export function calc_vm_prot_bits(prot: u32): u32 { return prot & (VM_READ | VM_WRITE | VM_EXEC); }

// ---------------------------------------------------------------------------------------------
// get_unmapped_area
// ---------------------------------------------------------------------------------------------

// arch_get_unmapped_area: bottom-up from TASK_UNMAPPED_BASE (the top-down fallback).
function get_unmapped_area_bottomup(mm: usize, len: u64): i64 {
  const task_size = load<u64>(mm + MM_TASK_SIZE);
  let addr = task_unmapped_base(mm);
  for (let vma = find_vma(mm, addr); ; vma = vm_next(vma)) {
    // At this point: (!vma || addr < vma->vm_end).
    if (task_size - len < addr) return -ENOMEM;
    if (vma == 0 || addr + len <= vm_start(vma)) return <i64>addr;
    addr = vm_end(vma);
  }
  return -ENOMEM; // not reached
}

/**
 * get_unmapped_area - where a mapping of len bytes goes: for MAP_FIXED addr itself (checked:
 * aligned, inside the address space); a hint addr when the hole there fits; otherwise the highest
 * hole below mm->mmap_base (arch_get_unmapped_area_topdown), else bottom-up from TASK_UNMAPPED_BASE.
 * Returns the address, -ENOMEM when nothing fits, -EINVAL for a misaligned MAP_FIXED address. Caller
 * holds mmap_sem. The model keeps no free_area_cache / cached_hole_size: every search starts at
 * mmap_base (the same result as a cold cache).
 */
export function get_unmapped_area(mm: usize, addr: u64, len: u64, flags: u32): i64 {
  const task_size = load<u64>(mm + MM_TASK_SIZE);
  // Requested length too big for the entire address space.
  if (len > task_size) return -ENOMEM;
  if ((flags & MAP_FIXED) != 0) {
    if (addr > task_size - len) return -ENOMEM;
    if ((addr & ~PAGE_MASK_64) != 0) return -EINVAL;
    return <i64>addr;
  }
  // Requesting a specific address.
  if (addr != 0) {
    addr = PAGE_ALIGN(addr);
    const vma = find_vma(mm, addr);
    if (task_size - len >= addr && (vma == 0 || addr + len <= vm_start(vma))) return <i64>addr;
  }
  const base = load<u64>(mm + MM_MMAP_BASE);
  if (base < len) return get_unmapped_area_bottomup(mm, len);
  addr = base - len;
  while (true) {
    // Lookup failure means no vma is above this address, else the vma above is the one to beat.
    const vma = find_vma(mm, addr);
    if (vma == 0 || addr + len <= vm_start(vma)) {
      if (addr >= MMAP_MIN_ADDR) return <i64>addr;
      break;
    }
    // Try just below the current vma->vm_start.
    if (len >= vm_start(vma)) break;
    addr = vm_start(vma) - len;
  }
  // A failed top-down search falls back to bottom-up: it may find a hole above mmap_base.
  return get_unmapped_area_bottomup(mm, len);
}

// ---------------------------------------------------------------------------------------------
// mmap
// ---------------------------------------------------------------------------------------------

/**
 * mmap_region - map [addr, addr + len) (page aligned, from get_unmapped_area) with vm_flags: unmap
 * what is there, try to extend a private anonymous neighbour (vma_merge), else link a new vma. Caller
 * holds mmap_sem for write. Returns addr, or -ENOMEM.
 */
export function mmap_region(mm: usize, file: usize, addr: u64, len: u64, flags: u32, vm_flags: u32, pgoff: u32): i64 {
  // Clear old maps.
  let r = find_vma_links(mm, addr, addr + len);
  while (r < 0) {
    if (do_munmap(mm, addr, len) != 0) return -ENOMEM;
    r = find_vma_links(mm, addr, addr + len);
  }
  const prev = <usize>(<u64>r & 0xffffffff), rb_parent = <usize>(<u64>r >> 32);
  // Private writable mappings are accounted (VM_ACCOUNT); the model has no overcommit limit.
  if ((vm_flags & (VM_SHARED | VM_WRITE)) == VM_WRITE) vm_flags |= VM_ACCOUNT;

  // Can we just expand an old mapping?
  if (file == 0 && (vm_flags & VM_SHARED) == 0) {
    const vma = vma_merge(mm, prev, addr, addr + len, vm_flags, 0, 0, pgoff);
    if (vma != 0) {
      store<u64>(mm + MM_TOTAL_VM, load<u64>(mm + MM_TOTAL_VM) + (len >> 12));
      return <i64>addr;
    }
  }
  if (file == 0 && (vm_flags & VM_SHARED) != 0) {
    // shmem_zero_setup: a shared anonymous mapping is a file of its own (an unnamed shmem object:
    // here an emulated file as long as the mapping, whose page cache holds the shared pages).
    file = address_space_create(<u32>(len >> 12));
    if (file == 0) return -ENOMEM;
  }
  const vma = kmem_cache_alloc(KMEM_VM_AREA, __GFP_ZERO);
  if (vma == 0) return -ENOMEM; // (the shmem file is not freed: files live as long as the machine)
  store<u32>(vma + VMA_MM, <u32>mm);
  store<u64>(vma + VMA_START, addr);
  store<u64>(vma + VMA_END, addr + len);
  store<u32>(vma + VMA_FLAGS, vm_flags);
  store<u64>(vma + VMA_PAGE_PROT, vm_get_page_prot(vm_flags));
  store<u32>(vma + VMA_PGOFF, pgoff);
  store<u32>(vma + VMA_FILE, <u32>file); // get_file: files are never freed in the model
  vma_link(mm, vma, prev, rb_parent);
  store<u64>(mm + MM_TOTAL_VM, load<u64>(mm + MM_TOTAL_VM) + (len >> 12));
  return <i64>addr;
}

/**
 * do_mmap - mmap(2) under mmap_sem: map len bytes with prot (PROT_*) and flags (MAP_SHARED or
 * MAP_PRIVATE, MAP_FIXED, MAP_ANONYMOUS) of file (an address_space; ignored with MAP_ANONYMOUS) from
 * page pgoff, at addr for MAP_FIXED (replacing what was there) or where get_unmapped_area puts it.
 * Caller holds mmap_sem for write. Returns the address, or -EINVAL (len 0, bad type, no file for a
 * file mapping, misaligned MAP_FIXED), -ENOMEM (no room, too many vmas, no memory for the vma or for
 * a shared anonymous mapping's shmem file), -EOVERFLOW (pgoff wraps).
 */
export function do_mmap(mm: usize, addr: u64, len: u64, prot: u32, flags: u32, file: usize, pgoff: u32): i64 {
  if ((flags & MAP_ANONYMOUS) != 0) file = 0;
  else if (file == 0) return -EINVAL; // fget failed: EBADF in the kernel; the model has no fd table
  if (len == 0) return -EINVAL;
  if ((flags & MAP_FIXED) == 0 && addr < MMAP_MIN_ADDR && addr != 0) addr = PAGE_ALIGN(MMAP_MIN_ADDR); // round_hint_to_min
  len = PAGE_ALIGN(len);
  if (len == 0) return -ENOMEM;
  // The model's pgoff is 32 bits: a file range past 2^32 pages overflows (Linux: an unsigned long).
  // Lengths beyond the address space fail in get_unmapped_area first, as with a 64-bit pgoff.
  if (file != 0 && len <= load<u64>(mm + MM_TASK_SIZE) && <u64>pgoff + (len >> 12) > 0xffffffff) return -EOVERFLOW;
  if (load<u32>(mm + MM_MAP_COUNT) > MAX_MAP_COUNT) return -ENOMEM;
  const type = flags & MAP_TYPE;
  if (type != MAP_SHARED && type != MAP_PRIVATE) return -EINVAL;

  const got = get_unmapped_area(mm, addr, len, flags);
  if (got < 0) return got;
  addr = <u64>got;

  let vm_flags = calc_vm_prot_bits(prot) | ((flags & MAP_GROWSDOWN) != 0 ? VM_GROWSDOWN : 0) |
    VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
  if (file != 0) {
    // Every emulated file is opened read-write: MAP_SHARED keeps VM_MAYWRITE.
    if (type == MAP_SHARED) vm_flags |= VM_SHARED | VM_MAYSHARE;
  } else {
    if (type == MAP_SHARED) {
      pgoff = 0;
      vm_flags |= VM_SHARED | VM_MAYSHARE;
    } else {
      pgoff = <u32>(addr >> 12);
    }
  }
  return mmap_region(mm, file, addr, len, flags, vm_flags, pgoff);
}

// ---------------------------------------------------------------------------------------------
// munmap
// ---------------------------------------------------------------------------------------------

// detach_vmas_to_be_unmapped: take vma .. the last one starting below end off the list and the tree;
// they stay chained by vm_next (ending with 0) for unmap_region and remove_vma_list.
function detach_vmas_to_be_unmapped(mm: usize, vma: usize, prev: usize, end: u64): void {
  let tail: usize = 0;
  store<u32>(vma + VMA_PREV, 0);
  do {
    rb_erase(vma + VMA_RB, mm + MM_RB);
    store<u32>(mm + MM_MAP_COUNT, load<u32>(mm + MM_MAP_COUNT) - 1);
    tail = vma;
    vma = vm_next(vma);
  } while (vma != 0 && vm_start(vma) < end);
  if (prev != 0) store<u32>(prev + VMA_NEXT, <u32>vma);
  else store<u32>(mm + MM_MMAP, <u32>vma);
  if (vma != 0) store<u32>(vma + VMA_PREV, <u32>prev);
  store<u32>(tail + VMA_NEXT, 0);
  store<u32>(mm + MM_MMAP_CACHE, 0); // kill the cache
}

/**
 * unmap_region - tear down the pages and page tables of the detached vmas from vma (chained by
 * vm_next) over [start, end), prev and the vma now after them bounding which tables may go. Caller
 * holds mmap_sem for write.
 */
export function unmap_region(mm: usize, vma: usize, prev: usize, start: u64, end: u64): void {
  const next = prev != 0 ? vm_next(prev) : <usize>load<u32>(mm + MM_MMAP);
  const tlb = this_cpu_gather();
  tlb_gather_mmu(tlb, mm, start, end);
  unmap_vmas(tlb, vma, start, end);
  // free_pgtables also unlinks each vma from its anon_vmas and its file before its tables go.
  free_pgtables(tlb, vma, prev != 0 ? vm_end(prev) : FIRST_USER_ADDRESS, next != 0 ? vm_start(next) : 0);
  tlb_finish_mmu(tlb, start, end);
}

/** remove_vma_list: free the detached vmas from vma on, uncounting them from total_vm. */
function remove_vma_list(mm: usize, vma: usize): void {
  while (vma != 0) {
    store<u64>(mm + MM_TOTAL_VM, load<u64>(mm + MM_TOTAL_VM) - vma_pages(vma));
    const next = vm_next(vma);
    kmem_cache_free(KMEM_VM_AREA, vma); // remove_vma: fput and mpol_put are no-ops in the model
    vma = next;
  }
}

/**
 * do_munmap - unmap [start, start + len) (len rounded up to pages): split the vmas at both ends,
 * detach the ones inside, unmap_region, free them. Caller holds mmap_sem for write. Returns 0 (also
 * when nothing was mapped there), -EINVAL (misaligned start, range outside the address space, len 0),
 * -ENOMEM (a split needed memory or would exceed sysctl_max_map_count).
 */
export function do_munmap(mm: usize, start: u64, len: u64): i32 {
  const task_size = load<u64>(mm + MM_TASK_SIZE);
  if ((start & ~PAGE_MASK_64) != 0 || start > task_size || len > task_size - start) return -EINVAL;
  len = PAGE_ALIGN(len);
  if (len == 0) return -EINVAL;
  // Find the first overlapping vma.
  let vma = find_vma(mm, start);
  if (vma == 0) return 0;
  let prev = vm_prev(vma);
  const end = start + len;
  // We have start < vma->vm_end; if it doesn't overlap, nothing to do.
  if (vm_start(vma) >= end) return 0;
  // If we need to split any vma, do it now to save pain later. Note: a failed second split leaves
  // the first one done (as Linux does): the same mappings, one more vma.
  if (start > vm_start(vma)) {
    // Make sure that map_count on return from munmap() will not exceed its limit; but don't
    // complain if we only split the tail.
    if (end < vm_end(vma) && load<u32>(mm + MM_MAP_COUNT) >= MAX_MAP_COUNT) return -ENOMEM;
    const err = __split_vma(mm, vma, start, false);
    if (err != 0) return err;
    prev = vma;
  }
  // Does it split the last one?
  const last = find_vma(mm, end);
  if (last != 0 && end > vm_start(last)) {
    const err = __split_vma(mm, last, end, true);
    if (err != 0) return err;
  }
  vma = prev != 0 ? vm_next(prev) : <usize>load<u32>(mm + MM_MMAP);
  // Remove the vmas, and unmap the actual pages.
  detach_vmas_to_be_unmapped(mm, vma, prev, end);
  unmap_region(mm, vma, prev, start, end);
  remove_vma_list(mm, vma);
  return 0;
}

// ---------------------------------------------------------------------------------------------
// brk
// ---------------------------------------------------------------------------------------------

/** VM_DATA_DEFAULT_FLAGS (x86, no READ_IMPLIES_EXEC): rw-, may read/write/exec. */
export const VM_DATA_DEFAULT_FLAGS: u32 = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;

/**
 * do_brk - map [addr, addr + len) anonymous rw- for the heap: unmap what is there, extend the heap
 * vma below it when vma_merge can (the usual case: only vm_end moves), else link a new vma. Caller
 * holds mmap_sem for write. Returns addr, -EINVAL (outside the address space), -ENOMEM.
 */
export function do_brk(mm: usize, addr: u64, len: u64): i64 {
  len = PAGE_ALIGN(len);
  if (len == 0) return <i64>addr;
  const task_size = load<u64>(mm + MM_TASK_SIZE);
  if (addr + len > task_size || addr + len < addr) return -EINVAL;
  const flags = VM_DATA_DEFAULT_FLAGS | VM_ACCOUNT;
  const got = get_unmapped_area(mm, addr, len, MAP_FIXED);
  if (got < 0) return got;
  // Clear old maps; this also does some error checking for us.
  let r = find_vma_links(mm, addr, addr + len);
  while (r < 0) {
    if (do_munmap(mm, addr, len) != 0) return -ENOMEM;
    r = find_vma_links(mm, addr, addr + len);
  }
  const prev = <usize>(<u64>r & 0xffffffff), rb_parent = <usize>(<u64>r >> 32);
  if (load<u32>(mm + MM_MAP_COUNT) > MAX_MAP_COUNT) return -ENOMEM;
  const pgoff = <u32>(addr >> 12);
  // Can we just expand an old private anonymous mapping?
  let vma = vma_merge(mm, prev, addr, addr + len, flags, 0, 0, pgoff);
  if (vma == 0) {
    // Create a vma struct for an anonymous mapping.
    vma = kmem_cache_alloc(KMEM_VM_AREA, __GFP_ZERO);
    if (vma == 0) return -ENOMEM;
    store<u32>(vma + VMA_MM, <u32>mm);
    store<u64>(vma + VMA_START, addr);
    store<u64>(vma + VMA_END, addr + len);
    store<u32>(vma + VMA_PGOFF, pgoff);
    store<u32>(vma + VMA_FLAGS, flags);
    store<u64>(vma + VMA_PAGE_PROT, vm_get_page_prot(flags));
    vma_link(mm, vma, prev, rb_parent);
  }
  store<u64>(mm + MM_TOTAL_VM, load<u64>(mm + MM_TOTAL_VM) + (len >> 12));
  return <i64>addr;
}

/**
 * sys_brk - brk(2): move the program break of mm to brk. Takes mmap_sem for write. Shrinking
 * unmaps with do_munmap; growing checks that nothing is mapped up to one page above the new end,
 * then do_brk. Returns the break after the call (the old one when it refused or failed; below
 * start_brk it refuses).
 */
export function sys_brk(mm: usize, brk: u64): u64 {
  syscall_charge(); // the system call's entry and exit
  lock_acquire(mm + MM_MMAP_SEM, MODE_WRITE, "sys_brk");
  const cur = load<u64>(mm + MM_BRK);
  if (brk >= load<u64>(mm + MM_START_BRK)) {
    const newbrk = PAGE_ALIGN(brk), oldbrk = PAGE_ALIGN(cur);
    let ok = false;
    if (oldbrk == newbrk) {
      ok = true;
    } else if (brk <= cur) {
      // Always allow shrinking brk.
      ok = do_munmap(mm, newbrk, oldbrk - newbrk) == 0;
    } else if (find_vma_intersection(mm, oldbrk, newbrk + PAGE_SIZE_64) == 0) {
      // Check against existing mmap mappings, then let it rip.
      ok = do_brk(mm, oldbrk, newbrk - oldbrk) == <i64>oldbrk;
    }
    if (ok) store<u64>(mm + MM_BRK, brk);
  }
  const ret = load<u64>(mm + MM_BRK);
  lock_release(mm + MM_MMAP_SEM, MODE_WRITE);
  return ret;
}

/** sys_mmap - mmap(2): do_mmap under mmap_sem taken for write (vm_mmap_pgoff). */
export function sys_mmap(mm: usize, addr: u64, len: u64, prot: u32, flags: u32, file: usize, pgoff: u32): i64 {
  syscall_charge(); // the system call's entry and exit
  lock_acquire(mm + MM_MMAP_SEM, MODE_WRITE, "sys_mmap");
  const r = do_mmap(mm, addr, len, prot, flags, file, pgoff);
  lock_release(mm + MM_MMAP_SEM, MODE_WRITE);
  return r;
}

/** sys_munmap - munmap(2): do_munmap under mmap_sem taken for write. */
export function sys_munmap(mm: usize, addr: u64, len: u64): i32 {
  syscall_charge(); // the system call's entry and exit
  lock_acquire(mm + MM_MMAP_SEM, MODE_WRITE, "sys_munmap");
  const r = do_munmap(mm, addr, len);
  lock_release(mm + MM_MMAP_SEM, MODE_WRITE);
  return r;
}
