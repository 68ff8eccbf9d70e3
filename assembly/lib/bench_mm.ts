// Benchmark kernels of the MM core (bench/mm.ts, `npm run bench:mm`): the same operations bench/native/mm.c
// makes the host kernel do, issued here as system calls of an emulated process on this CPU, in a loop
// inside Wasm so that one host call covers many operations. Each kernel makes its task current here
// (enter_task), does its set-up untimed by the host (a separate call), and returns the operations it
// did, or a negative errno (never a partial count).
import { PAGE_SIZE_64 } from "../config";
import { enter_task, enter_user, do_fork, sys_exit } from "../kernel/syscalls";
import { context_switch } from "../kernel/task";
import { sys_brk, sys_mmap, sys_munmap, PROT_READ, PROT_WRITE, PROT_NONE, MAP_PRIVATE, MAP_ANONYMOUS } from "../mm/mmap";
import { sys_mprotect } from "../mm/mprotect_vma";
import { user_access } from "../arch/x86/mm_fault";
import { ACC_WRITE } from "../arch/x86/pgtable_types";
import { page_referenced } from "../mm/rmap_walk";
import { follow_page } from "../mm/follow_page";
import { lock_acquire, lock_release, MODE_READ } from "../locking/lock";
import { MM_BRK, MM_MMAP_SEM } from "../mm/mm_types";
import { ENOMEM, EFAULT } from "../errno";


/**
 * bench_brk1 - will-it-scale brk1 with pages pages: iters x (brk up by pages, brk back). Returns the
 * brk calls made (2 x iters), -ENOMEM when a brk was refused, or the error entering the task.
 */
export function bench_brk1(pid: u32, pages: u32, iters: u32): i64 {
  const e = enter_user(pid);
  if (e < 0) return e;
  const mm = <usize>e;
  const base = load<u64>(mm + MM_BRK);
  const top = base + <u64>pages * PAGE_SIZE_64;
  for (let i: u32 = 0; i < iters; i++) {
    if (sys_brk(mm, top) != top) return -ENOMEM;
    if (sys_brk(mm, base) != base) return -ENOMEM;
  }
  return <i64>iters * 2;
}

/**
 * bench_make_vmas - v vmas that cannot merge (2v pages PROT_NONE, every other page made read-write),
 * touched when touch: bench/native/mm.c make_vmas. Returns the start address, or a negative errno.
 */
export function bench_make_vmas(pid: u32, v: u32, touch: bool): i64 {
  const e = enter_user(pid);
  if (e < 0) return e;
  const mm = <usize>e;
  const a = sys_mmap(mm, 0, <u64>v * 2 * PAGE_SIZE_64, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, 0, 0);
  if (a < 0) return a;
  for (let i: u32 = 0; i < v; i++) {
    const va = <u64>a + <u64>i * 2 * PAGE_SIZE_64;
    const r = sys_mprotect(mm, va, PAGE_SIZE_64, PROT_READ | PROT_WRITE);
    if (r < 0) return r;
    if (touch && user_access(va, ACC_WRITE, i) < 0) return -EFAULT;
  }
  return a;
}

/**
 * bench_page_fault1 - will-it-scale page_fault1 with pages pages: iters x (mmap, write every page,
 * munmap). Returns the faults taken (pages x iters) or a negative errno.
 */
export function bench_page_fault1(pid: u32, pages: u32, iters: u32): i64 {
  const e = enter_user(pid);
  if (e < 0) return e;
  const mm = <usize>e;
  const len = <u64>pages * PAGE_SIZE_64;
  for (let i: u32 = 0; i < iters; i++) {
    const a = sys_mmap(mm, 0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, 0, 0);
    if (a < 0) return a;
    for (let va = <u64>a; va < <u64>a + len; va += PAGE_SIZE_64) {
      const r = user_access(va, ACC_WRITE, 1);
      if (r < 0) return r;
    }
    const r = sys_munmap(mm, <u64>a, len);
    if (r < 0) return r;
  }
  return <i64>pages * iters;
}

/**
 * bench_touch - map pages anonymous pages read-write in pid and write each (untimed set-up of the
 * fork, munmap and rmap cases). Returns the address, or a negative errno.
 */
export function bench_touch(pid: u32, pages: u32): i64 {
  const e = enter_user(pid);
  if (e < 0) return e;
  const mm = <usize>e;
  const len = <u64>pages * PAGE_SIZE_64;
  const a = sys_mmap(mm, 0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, 0, 0);
  if (a < 0) return a;
  for (let va = <u64>a; va < <u64>a + len; va += PAGE_SIZE_64) {
    const r = user_access(va, ACC_WRITE, <u32>va);
    if (r < 0) return r;
  }
  return a;
}

/**
 * bench_fork_exit - iters x (fork of pid, the child runs on this CPU and exits, the parent is made
 * current again, as waitpid returns to it). Returns the forks made, or a negative errno.
 */
export function bench_fork_exit(pid: u32, iters: u32): i64 {
  for (let i: u32 = 0; i < iters; i++) {
    const t = enter_task(pid);
    if (t < 0) return t;
    const child = do_fork(<usize>t, 0);
    if (child < 0) return child;
    const c = enter_task(<u32>child);
    if (c < 0) return c;
    sys_exit(<usize>c, 0);
  }
  const t = enter_task(pid);
  return t < 0 ? t : <i64>iters;
}

/** bench_munmap - one munmap of [addr, addr + pages pages) in pid. Returns 1, or a negative errno. */
export function bench_munmap(pid: u32, addr: u64, pages: u32): i64 {
  const mm = enter_user(pid);
  if (mm < 0) return mm;
  const r = sys_munmap(<usize>mm, addr, <u64>pages * PAGE_SIZE_64);
  return r < 0 ? r : 1;
}

/**
 * bench_fork_n - fork pid n times (children not running; they share every private page of pid
 * copy-on-write). Returns the pid of the last child, or a negative errno.
 */
export function bench_fork_n(pid: u32, n: u32): i64 {
  let last: i64 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const t = enter_task(pid);
    if (t < 0) return t;
    last = do_fork(<usize>t, 0);
    if (last < 0) return last;
  }
  return last;
}

/** The pfn mapped at va in pid's page tables (follow_page without a reference), or a negative errno. */
export function bench_follow_pfn(pid: u32, va: u64): i64 {
  const e = enter_user(pid);
  if (e < 0) return e;
  const mm = <usize>e;
  lock_acquire(mm + MM_MMAP_SEM, MODE_READ, "bench_follow_pfn");
  const r = follow_page(mm, va, 0);
  lock_release(mm + MM_MMAP_SEM, MODE_READ);
  return r;
}

/**
 * bench_rmap_walk - iters x page_referenced(pfn): an rmap walk over every mapping of the page (each
 * of which clears and reports its Accessed bit). Returns the walks made.
 */
export function bench_rmap_walk(pfn: u32, iters: u32): i64 {
  context_switch(0); // the walker is a kernel context (reclaim), not one of the processes
  let found: i64 = 0;
  for (let i: u32 = 0; i < iters; i++) found += page_referenced(pfn, 0, 0);
  return found >= 0 ? <i64>iters : found;
}
