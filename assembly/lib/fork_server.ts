// Fork-heavy workloads of issue 5, as jobs of the virtual-CPU job table (kernel/vcpu.ts:
// JOB_FORK_SERVER, JOB_AIM7_FORK): the exim-like fork server (MOSBENCH exim) and AIM7's fork_test.
// ../shared/notes/kernel-history.md: 3.0's anon_vma mutex cost exim -52% on 40 cores (anon_vma_clone,
// unlink_anon_vmas, anon_vma_fork, anon_vma_free on the root lock); 3.8's FIFO rwsem cost fork_test
// -50%, recovered by 3.9's writer lock-stealing.
//
// The host sets up one tree: a master process with a heap (its pages touched: an anon_vma, pages
// present) and a few more anonymous vmas, and one "daemon" per CPU forked from it. Every anon_vma of
// the tree shares the master's root anon_vma lock from 2.6.34 on (anon_vma_chain); before it the
// forked vmas share the master's one anon_vma.
//
// fork_server, as the daemon pid on this CPU, one message at a time (exim accepts a connection and
// forks a process to receive it; MOSBENCH's receiver forks again to deliver):
//   fork(2)                        copy_process: dup_mmap, anon_vma_fork per vma (the root lock)
//   switch to the child            a context switch: the child runs on the daemon's CPU
//   child: touch pages             `touch` user stores into the COW-shared heap, page
//                                  (message x touch + i) mod heap_pages: a COW fault each (wp_page_copy)
//   [deliver: the child forks a grandchild and switches to it; the grandchild does the buffer work
//    below and exits, and the child waits for it]
//   buffer: mmap `buf` anonymous pages, store a word in each (a fault each: anon_vma_prepare),
//           munmap them              (the mailbox write's buffer)
//   exit(2)                        exit_mm: the last mmput tears the copy down (unlink_anon_vmas per
//                                  vma under the root lock, anon_vma_free)
//   switch back to the daemon      wait4(2) returns in the daemon, which reaps the child
// One message = one op. fork, exit and wait4 each charge a system call's entry and exit
// (syscall_charge), as do the buffer's mmap and munmap (inside sys_mmap/sys_munmap).
//
// aim7_fork (AIM7 fork_test), as the task pid on this CPU: fork(2); the child runs (a context switch)
// and exits at once; the parent's wait4 returns (a context switch back). One fork + exit = one op.
//
// Message sizes: with a non-zero size seed in params (bits 49..63), each message draws its touched
// heap pages uniformly from 1..2*touch-1 and its buffer pages from 1..2*buf-1 (the same means; 0 stays
// 0), from a xorshift32 seeded from the size seed and pid (so CPUs differ), kept in a local of the job
// (locals survive a preemption point; no Wasm global). Real mail varies in size (MOSBENCH's exim
// delivers messages of varied sizes); identical messages let the daemons' identical loops phase-lock
// into a stagger in deterministic virtual time and stop contending. Size seed 0: every message the same.
// The touched pages run on from a cursor through the heap (mod heap pages): with fixed sizes the
// message's first page is message x touch, as before; a message drawing more pages than the heap has
// writes some twice (no second COW fault). The draw is x mod n (a bias below 2^-17 for n < 2^16).
//
// Both run until their budget clock reaches `budget` (checked before each op) or `maxops` ops. The
// budget clock is this CPU's virtual clock in cycles in the virtual build, and host nanoseconds since
// the job began in the parallel build (lib/job_clock.ts: env.now_ns, one monotonic clock for every worker),
// as lib/rmap_storm.ts. Every child has exited and been released when the job returns, on success and
// on error (no task, mm or anon_vma is left behind).
//
// Simplifications (README "Differences"): no wait queue, SIGCHLD or zombie: the exiting child
// switches straight back to its parent (the scheduler's pick when the parent sleeps in wait4) and
// the switch away from the dead child releases it (release_task: the reap). No SMTP, no files: exim's
// spool and mailbox writes are the anonymous buffer. Children run on their parent's CPU only.
import { job_clock_start, job_clock, job_faults } from "./job_clock";
import { ENOMEM, EINVAL } from "../errno";
import { task_fork, task_exit, context_switch, current_task } from "../kernel/task";
import { enter_task } from "../kernel/syscalls";
import { syscall_charge } from "../kernel/mm_charge";
import { TASK_MM } from "../mm/mm_types";
import { sys_mmap, sys_munmap, PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS } from "../mm/mmap";
import { user_access } from "../arch/x86/mm_fault";
import { ACC_WRITE } from "../arch/x86/pgtable_types";

// fork_server's packed parameters (its third argument, a u64):
//
//   63          49 48 47            32 31            16 15             0
//  +--------------+--+----------------+----------------+----------------+
//  | size seed    |D | heap pages     | buffer pages   | touch pages    |
//  +--------------+--+----------------+----------------+----------------+
//   size seed: 15 bits; 0 = every message touch and buffer pages; else sizes vary (see above).
//   D: deliver (the child forks a grandchild that does the buffer work).
//   touch <= heap pages (heap pages may be 0 only with touch 0); buffer pages <= FS_MAX_BUF_PAGES
//   (the mean: a message's buffer may reach 2 x buffer pages - 1 with varying sizes).
export const FS_TOUCH_SHIFT: u32 = 0;
export const FS_BUF_SHIFT: u32 = 16;
export const FS_HEAP_SHIFT: u32 = 32;
export const FS_DELIVER: u64 = <u64>1 << 48;
export const FS_SIZE_SEED_SHIFT: u32 = 49;
export const FS_SIZE_SEED_MAX: u32 = 0x7fff;
export const FS_PARAMS_MASK: u64 = 0xffff_ffff_ffff_ffff;
export const FS_MAX_BUF_PAGES: u32 = 512;

// The report (out, 8-aligned kernel memory, optional): FS_OUT_SIZE bytes, written by the job.
//   +0  ops (messages for fork_server, fork + exit pairs for aim7_fork)
//   +8  forks          +16 exits (every fork's child exited and was released)
//   +24 page faults taken on this CPU during the job (STAT_PF)
//   +32 user stores    +40 mmaps    +48 munmaps
//   +56 the budget clock at the end (virtual cycles; host ns since the job began in the parallel build)
export const FS_OUT_OPS: u32 = 0;
export const FS_OUT_FORKS: u32 = 8;
export const FS_OUT_EXITS: u32 = 16;
export const FS_OUT_FAULTS: u32 = 24;
export const FS_OUT_STORES: u32 = 32;
export const FS_OUT_MMAPS: u32 = 40;
export const FS_OUT_MUNMAPS: u32 = 48;
export const FS_OUT_CLOCK: u32 = 56;
export const FS_OUT_SIZE: u32 = 64;

/**
 * fs_size_rng_init - the message-size generator's first state for size seed seed (1..FS_SIZE_SEED_MAX)
 * and task pid: a xorshift32 state, never 0. Holds nothing; pure.
 */
export function fs_size_rng_init(seed: u32, pid: u32): u32 {
  let x = (seed * 0x9e3779b1) ^ (pid * 0x85ebca6b) ^ 0x6a09e667;
  if (x == 0) x = 1;
  for (let i = 0; i < 4; i++) x = fs_xorshift32(x);
  return x;
}

/** fs_xorshift32 - Marsaglia's xorshift32 step (13, 17, 5): the next state of x (non-zero stays non-zero). */
// @ts-ignore: decorator
@inline export function fs_xorshift32(x: u32): u32 {
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return x;
}

/**
 * fs_draw - a message's size for mean m drawn with the generator's state x: uniform in 1..2m-1
 * (mean m); 0 for m 0. Holds nothing; pure.
 */
// @ts-ignore: decorator
@inline function fs_draw(x: u32, m: u32): u32 {
  return m == 0 ? 0 : 1 + x % (2 * m - 1);
}

/** fork_server_params_ok - whether params is a valid packed parameter word (see the diagram above). */
export function fork_server_params_ok(params: u64): bool {
  const touch = <u32>((params >> FS_TOUCH_SHIFT) & 0xffff);
  const buf = <u32>((params >> FS_BUF_SHIFT) & 0xffff);
  const heap = <u32>((params >> FS_HEAP_SHIFT) & 0xffff);
  return touch <= heap && buf <= FS_MAX_BUF_PAGES;
}

/**
 * fork_child - fork(2) as the task parent, current on this CPU, and switch to the child (it runs on
 * this CPU). Holds nothing. Returns the child task (> 0), or -ENOMEM (nothing left behind), or the
 * context switch's error (switch_mm's CR3 load refused: a broken PML4, which the invariant checker
 * reports; the child is left unrun and parent current).
 */
function fork_child(parent: usize): i64 {
  syscall_charge(); // clone(2)
  const child = task_fork(parent, 0);
  if (child == 0) return -ENOMEM;
  const r = context_switch(child);
  if (r < 0) return r;
  return <i64>child;
}

/**
 * reap_child - the current task child (forked by parent) exits (exit(2): exit_mm, the last mmput
 * tears its address space down) and this CPU switches back to parent, whose wait4(2) returns; the
 * switch away releases the dead child. Returns 0 or a negative errno (context_switch's).
 */
function reap_child(child: usize, parent: usize): i32 {
  syscall_charge(); // exit_group(2)
  const r = task_exit(child, 0);
  if (r < 0) return r;
  const s = context_switch(parent);
  if (s < 0) return s;
  syscall_charge(); // wait4(2) returns in the parent
  return 0;
}

/**
 * buffer_work - mmap buf anonymous pages as the current task (mm), store a word in each (a fault
 * each), munmap them. Nothing for buf 0. Returns the stores made (buf), or a negative errno: mmap's,
 * munmap's, or a store's (the region is unmapped again before returning it).
 */
function buffer_work(mm: usize, buf: u32, tag: u32): i64 {
  if (buf == 0) return 0;
  const len = <u64>buf << 12;
  const addr = sys_mmap(mm, 0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, 0, 0);
  if (addr < 0) return addr;
  for (let a: u64 = <u64>addr; a < <u64>addr + len; a += 4096) {
    const r = user_access(a, ACC_WRITE, tag);
    if (r < 0) { sys_munmap(mm, <u64>addr, len); return r; }
  }
  const u = sys_munmap(mm, <u64>addr, len);
  if (u < 0) return u;
  return <i64>buf;
}

function write_report(out: usize, ops: u64, forks: u64, exits: u64, faults: u64, stores: u64, mmaps: u64, munmaps: u64, clock: u64): void {
  if (out == 0) return;
  store<u64>(out + FS_OUT_OPS, ops);
  store<u64>(out + FS_OUT_FORKS, forks);
  store<u64>(out + FS_OUT_EXITS, exits);
  store<u64>(out + FS_OUT_FAULTS, faults);
  store<u64>(out + FS_OUT_STORES, stores);
  store<u64>(out + FS_OUT_MMAPS, mmaps);
  store<u64>(out + FS_OUT_MUNMAPS, munmaps);
  store<u64>(out + FS_OUT_CLOCK, clock);
}

/**
 * job_fork_server - the exim-like daemon loop (see the top of this file) as the task pid, made current
 * on this CPU, over the heap at heap_va (params: the packed word above), until this CPU's budget
 * clock (virtual cycles; host ns in the parallel build) reaches budget or maxops messages are done. out: the report above, or 0. Holds nothing on
 * entry or return; leaves pid current and every child exited and released.
 * Returns the messages done, or a negative errno: -ESRCH / -EBUSY entering pid, -EINVAL for bad
 * params or a kernel thread, -ENOMEM from fork or mmap, a user store's error (-EFAULT: the heap is
 * not mapped there).
 */
export function job_fork_server(pid: u32, heap_va: u64, params: u64, budget: u64, maxops: u32, out: usize): i64 {
  if (!fork_server_params_ok(params) || (heap_va & 4095) != 0) return -EINVAL;
  const touch = <u32>((params >> FS_TOUCH_SHIFT) & 0xffff);
  const buf = <u32>((params >> FS_BUF_SHIFT) & 0xffff);
  const heap_pages = <u64>((params >> FS_HEAP_SHIFT) & 0xffff);
  const deliver = (params & FS_DELIVER) != 0;
  const size_seed = <u32>(params >> FS_SIZE_SEED_SHIFT);
  const t = enter_task(pid);
  if (t < 0) return t;
  const daemon = <usize>t;
  if (load<u32>(daemon + TASK_MM) == 0) return -EINVAL;
  const faults0 = job_faults();
  const start = job_clock_start();
  // Locals survive a preemption point (the virtual build's Asyncify saves them with the stack).
  let ops: u64 = 0, forks: u64 = 0, exits: u64 = 0, stores: u64 = 0, buffers: u64 = 0;
  let err: i64 = 0;
  let rng: u32 = size_seed != 0 ? fs_size_rng_init(size_seed, pid) : 0;
  let cursor: u64 = 0; // the next message's first heap page (before mod heap pages)
  while (ops < <u64>maxops && job_clock(start) < budget) {
    let mtouch = touch, mbuf = buf;
    if (rng != 0) {
      rng = fs_xorshift32(rng);
      mtouch = fs_draw(rng, touch);
      rng = fs_xorshift32(rng);
      mbuf = fs_draw(rng, buf);
    }
    const c = fork_child(daemon);
    if (c < 0) { err = c; break; }
    forks++;
    const child = <usize>c;
    const mm = <usize>load<u32>(child + TASK_MM);
    for (let i: u32 = 0; i < mtouch && err == 0; i++) {
      const page = (cursor + <u64>i) % heap_pages;
      const r = user_access(heap_va + (page << 12), ACC_WRITE, <u32>ops + 1);
      if (r < 0) err = r;
      else stores++;
    }
    if (err == 0 && deliver) {
      const g = fork_child(child);
      if (g < 0) err = g;
      else {
        forks++;
        const gc = <usize>g;
        const b = buffer_work(<usize>load<u32>(gc + TASK_MM), mbuf, <u32>ops + 1);
        if (b < 0) err = b;
        else if (mbuf != 0) { stores += <u64>b; buffers++; }
        const r = reap_child(gc, child);
        if (r < 0 && err == 0) err = r;
        if (r >= 0) exits++;
      }
    } else if (err == 0) {
      const b = buffer_work(mm, mbuf, <u32>ops + 1);
      if (b < 0) err = b;
      else if (mbuf != 0) { stores += <u64>b; buffers++; }
    }
    cursor += <u64>mtouch;
    const r = reap_child(child, daemon);
    if (r < 0) { if (err == 0) err = r; break; }
    exits++;
    if (err != 0) break;
    ops++;
  }
  write_report(out, ops, forks, exits, job_faults() - faults0, stores, buffers, buffers, job_clock(start));
  if (current_task() != daemon) context_switch(daemon);
  return err != 0 ? err : <i64>ops;
}

/**
 * job_aim7_fork - AIM7 fork_test as the task pid, made current on this CPU: fork(2), the child runs
 * and exits at once, the parent's wait4(2) returns; until this CPU's virtual clock reaches budget or
 * maxops forks are done. out: the report above (stores, mmaps, munmaps 0), or 0. Holds nothing on
 * entry or return; leaves pid current and every child released. The budget clock as fork_server's.
 * Returns the fork + exit pairs done, or a negative errno: -ESRCH / -EBUSY entering pid, -EINVAL for
 * a kernel thread, -ENOMEM from fork.
 */
export function job_aim7_fork(pid: u32, budget: u64, maxops: u32, out: usize): i64 {
  const t = enter_task(pid);
  if (t < 0) return t;
  const parent = <usize>t;
  if (load<u32>(parent + TASK_MM) == 0) return -EINVAL;
  const faults0 = job_faults();
  const start = job_clock_start();
  let ops: u64 = 0, forks: u64 = 0, exits: u64 = 0;
  let err: i64 = 0;
  while (ops < <u64>maxops && job_clock(start) < budget) {
    const c = fork_child(parent);
    if (c < 0) { err = c; break; }
    forks++;
    const r = reap_child(<usize>c, parent);
    if (r < 0) { err = r; break; }
    exits++;
    ops++;
  }
  write_report(out, ops, forks, exits, job_faults() - faults0, 0, 0, 0, job_clock(start));
  return err != 0 ? err : <i64>ops;
}
