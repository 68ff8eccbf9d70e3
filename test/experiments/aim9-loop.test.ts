// The AIM9 jobs' loop structure (assembly/lib/aim9.ts, JOB_AIM9_BRK / JOB_AIM9_PAGE): brk_test issues
// exactly 17,000 sbrk calls per loop (counted by the job, and independently by mmap_sem's write
// acquisitions: one per brk) and leaves the heap where it began; page_test stores every 128 bytes of
// each page it grew; the job's argument checks and errors.
import { describe, it, expect } from "vitest";
import { constant } from "../../src/core/abi.js";
import { harnessMachine } from "../helpers/harness.js";

function setup(cpus: number, threads: boolean) {
  const h = harnessMachine(cpus, threads, "AIM9_OUT_SIZE");
  const mmapSemWrites = () => h.vm.mmu.lockStats().find((s) => s.class === "mmap_sem")!.acquisitions.write;
  return { ...h, start: h.parent.brk(0n), mmapSemWrites };
}

describe("AIM9 jobs", () => {
  it("brk_test: 17,000 sbrk calls per loop, 3 other brk calls, heap back where it began (processes)", () => {
    const { vm, x, tasks, outs, field, mmapSemWrites } = setup(2, false);
    expect(constant(x, "AIM9_SBRK_PER_LOOP")).toBe(17_000);
    const heap = tasks.map((t) => t.brk(0n, { cpu: 0 }));
    tasks[0]!.brk(0n, { cpu: 0 }); // the parent current on CPU 0 again: each job enters its task on its CPU
    const before = mmapSemWrites();
    const loops = 2;
    const r = vm.run({ mode: "timed", seed: 3, jobs: tasks.map((t, cpu) => ({ cpu, job: "aim9_brk", args: [t.pid, loops, 0, outs[cpu]!] })) });
    // every brk takes mmap_sem for write once; nothing else in brk_test takes it
    expect(mmapSemWrites() - before).toBe(tasks.length * loops * (17_000 + 3));
    for (const [cpu, t] of tasks.entries()) {
      expect(r.cpus[cpu]!.result).toBe(BigInt(loops));
      expect(field(outs[cpu]!, "AIM9_OUT_SBRK")).toBe(17_000 * loops);
      expect(field(outs[cpu]!, "AIM9_OUT_OTHER_BRK")).toBe(3 * loops);
      expect(field(outs[cpu]!, "AIM9_OUT_WRITES")).toBe(0);
      expect(BigInt(field(outs[cpu]!, "AIM9_OUT_BRK_START"))).toBe(heap[cpu]);
      expect(BigInt(field(outs[cpu]!, "AIM9_OUT_BRK_END"))).toBe(heap[cpu]);
      expect(t.brk(0n, { cpu })).toBe(heap[cpu]);
      // no vma is left above the break: the heap vma ends where it began
      expect(t.vmas().every((v) => v.end <= heap[cpu]!)).toBe(true);
    }
  });

  it("brk_test as threads from a common base: the shared heap ends where it began", () => {
    const { vm, parent, tasks, outs, field, start } = setup(3, true);
    const r = vm.run({ mode: "timed", seed: 1, jobs: tasks.map((t, cpu) => ({ cpu, job: "aim9_brk", args: [t.pid, 1, start, outs[cpu]!] })) });
    for (const [cpu] of tasks.entries()) {
      expect(r.cpus[cpu]!.result).toBe(1n);
      expect(field(outs[cpu]!, "AIM9_OUT_SBRK")).toBe(17_000);
      expect(field(outs[cpu]!, "AIM9_OUT_OTHER_BRK")).toBe(2); // base given: no sbrk(0)
    }
    expect(parent.brk(0n, { cpu: 0 })).toBe(start);
    expect(parent.vmas().every((v) => v.end <= start)).toBe(true);
  });

  it("page_test: 32 stores per page grown (512,000 per loop), each new page faulted in once", () => {
    const { vm, tasks, outs, field, start } = setup(1, false);
    const r = vm.run({ mode: "timed", seed: 1, jobs: [{ cpu: 0, job: "aim9_page", args: [tasks[0]!.pid, 1, 0, outs[0]!] }] });
    expect(r.cpus[0]!.result).toBe(1n);
    expect(field(outs[0]!, "AIM9_OUT_SBRK")).toBe(17_000);
    expect(field(outs[0]!, "AIM9_OUT_WRITES")).toBe(1000 * 16 * 32);
    expect(r.cpus[0]!.stats.pf).toBe(16_000n); // the first store to each page grown faults
    expect(tasks[0]!.brk(0n)).toBe(start);
  });

  it("refuses bad arguments and reports a task it cannot enter", () => {
    const { vm, x, tasks, outs } = setup(2, false);
    expect(x.vcpu_set_job(0, constant(x, "JOB_AIM9_BRK"), BigInt(tasks[0]!.pid), 1n, 4097n, 0n, 0n, 0n)).toBe(-22); // unaligned base
    expect(x.vcpu_set_job(0, constant(x, "JOB_AIM9_BRK"), BigInt(tasks[0]!.pid), 1n, 0n, 12345n, 0n, 0n)).toBe(-22); // out not kernel memory
    const r = vm.run({ mode: "timed", seed: 1, jobs: [{ cpu: 1, job: "aim9_brk", args: [9999, 1, 0, outs[1]!] }] });
    expect(r.cpus[0]!.result).toBe(-3n); // -ESRCH
    // the parent is current on CPU 0: CPU 1 cannot run it
    const busy = vm.run({ mode: "timed", seed: 1, jobs: [{ cpu: 1, job: "aim9_brk", args: [tasks[0]!.pid, 1, 0, 0] }] });
    expect(busy.cpus[0]!.result).toBe(-16n); // -EBUSY
  });
});
