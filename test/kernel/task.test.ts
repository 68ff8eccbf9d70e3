// Tasks and their mms (kernel/task.ts): threads share an mm (mm_users), fork copies it, a kernel
// thread borrows the previous task's mm (mm_count, lazy TLB), exit drops the mm and the last user
// tears it down; the struct goes with the last reference, once no CPU borrows it.
import { describe, it, expect } from "vitest";
import { Mmu, readVmas } from "../../src/index.js";
import { constant } from "../../src/core/abi.js";

const PAGE = 4096n;
const MAP_PRIVATE = 2, MAP_FIXED = 0x10, MAP_ANON = 0x20;
const BASE = 0x4000_0000n;

describe("tasks and mms", () => {
  it("threads, fork, kernel-thread borrowing and exit keep mm_users and mm_count right", () => {
    const mmu = Mmu.create({ memory: "16MiB", debug: true, cpus: 2 });
    const free0 = mmu.freeFrames();
    const c = (n: "MM_USERS" | "MM_COUNT" | "TASK_ACTIVE_MM" | "TASK_MM" | "TASK_TGID" | "TASK_PID" | "CLONE_VM") => constant(mmu.exports, n);
    const dv = () => new DataView(mmu.memory.buffer);
    const users = (mm: number) => dv().getInt32(mm + c("MM_USERS"), true);
    const count = (mm: number) => dv().getInt32(mm + c("MM_COUNT"), true);
    const u32 = (a: number) => dv().getUint32(a, true);
    const call = (fn: Parameters<Mmu["call"]>[0], ...a: (number | bigint)[]) => Number(mmu.call(fn, ...a));

    const mm1 = call("cpu_mm_alloc", 0) >>> 0;
    expect(BigInt(mmu.call("cpu_mmap", 0, mm1, BASE, 4n * PAGE, 3, MAP_PRIVATE | MAP_ANON | MAP_FIXED, 0, 0))).toBe(BASE);
    const p1 = call("cpu_task_alloc", 0, mm1) >>> 0;
    const t1 = call("cpu_task_fork", 0, p1, c("CLONE_VM")) >>> 0;
    expect(u32(t1 + c("TASK_MM"))).toBe(mm1);
    expect(u32(t1 + c("TASK_TGID"))).toBe(u32(p1 + c("TASK_PID")));
    expect(users(mm1)).toBe(2);
    const p2 = call("cpu_task_fork", 0, p1, 0) >>> 0;
    const mm2 = u32(p2 + c("TASK_MM"));
    expect(mm2).not.toBe(mm1);
    expect(readVmas(mmu, mm2).length).toBe(1);
    const k = call("cpu_task_alloc", 0, 0) >>> 0;

    // CPU 0: p1, then its thread (same mm), then the kernel thread (borrows mm1), then p2.
    expect(call("cpu_context_switch", 0, p1)).toBe(0);
    expect(BigInt(mmu.call("cpu_test_user_access", 0, mm1, BASE, 1)) >= 0n).toBe(true);
    expect(call("cpu_context_switch", 0, t1)).toBe(0);
    expect(call("cpu_context_switch", 0, k)).toBe(0);
    expect(u32(k + c("TASK_ACTIVE_MM"))).toBe(mm1);
    expect(count(mm1)).toBe(2);
    expect(call("cpu_context_switch", 1, k)).toBe(-16); // running on CPU 0
    expect(call("cpu_context_switch", 0, p2)).toBe(0);
    expect(count(mm1)).toBe(1);
    expect(u32(k + c("TASK_ACTIVE_MM"))).toBe(0);
    expect(call("cpu_current_task", 0) >>> 0).toBe(p2);

    // p2 exits on CPU 0; the kernel thread borrows its mm, then p1 runs: mm2 is gone.
    expect(call("cpu_task_exit", 0, p2, 0)).toBe(0);
    expect(users(mm2)).toBe(0);
    expect(readVmas(mmu, mm2).length).toBe(0);
    expect(call("cpu_context_switch", 0, k)).toBe(0);
    expect(u32(k + c("TASK_ACTIVE_MM"))).toBe(mm2);
    expect(call("cpu_context_switch", 0, p1)).toBe(0);
    expect(call("cpu_context_switch", 0, p2)).toBe(-22); // dead (and freed)

    // The thread and the process exit; mm1's last user tears it down.
    expect(call("cpu_context_switch", 1, t1)).toBe(0);
    expect(call("cpu_task_exit", 1, t1, 0)).toBe(0);
    expect(users(mm1)).toBe(1);
    expect(call("cpu_context_switch", 1, k)).toBe(0); // k borrows mm1 from the dead thread
    expect(call("cpu_task_exit", 0, p1, 0)).toBe(0);
    expect(users(mm1)).toBe(0);
    expect(readVmas(mmu, mm1).length).toBe(0);
    expect(count(mm1)).toBe(2); // p1's active_mm and k's borrow
    const k2 = call("cpu_task_alloc", 0, 0) >>> 0;
    expect(call("cpu_context_switch", 0, k2)).toBe(0); // p1 freed; k2 borrows mm1
    const m3 = call("cpu_mm_alloc", 0) >>> 0;
    const p3 = call("cpu_task_alloc", 0, m3) >>> 0;
    expect(call("cpu_context_switch", 1, p3)).toBe(0); // k drops mm1
    expect(count(mm1)).toBe(1);
    const child = call("cpu_task_fork", 0, p3, 0) >>> 0;
    const mmCache = constant(mmu.exports, "KMEM_MM_STRUCT");
    const freeMm = call("kmem_cache_nr_free", mmCache);
    expect(call("cpu_context_switch", 0, child)).toBe(0); // k2 drops mm1: freed
    expect(call("kmem_cache_nr_free", mmCache)).toBe(freeMm + 1);
    // Both exit; the kernel threads borrow their mms until something else runs.
    expect(call("cpu_task_exit", 0, child, 0)).toBe(0);
    expect(call("cpu_task_exit", 1, p3, 0)).toBe(0);
    expect(call("cpu_context_switch", 0, k2)).toBe(0);
    expect(call("cpu_context_switch", 1, k)).toBe(0);
    expect(users(m3)).toBe(0);
    expect(count(m3)).toBe(1); // k's borrow
    expect(mmu.freeFrames()).toBe(free0 - 2); // only the two borrowed PML4s
  });
});
