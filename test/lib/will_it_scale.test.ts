// The will-it-scale jobs' loop structure (assembly/lib/will_it_scale.ts, JOB_WIS_*): brk1's break
// toggles and comes back, 2 iterations per brk pair; brk2 keeps one heap vma that expands and
// contracts; page_fault1 faults exactly region/4096 pages per loop and leaves no vma; tlb_flush1
// flushes one page per iteration, with IPIs to the other threads' CPUs in threads mode; the job's
// argument checks; in the parallel build, the host-time budget clock (WIS_OUT_CLOCK in ns) and maxiters.
import { describe, it, expect } from "vitest";
import { MmModel } from "../../src/mm/process.js";
import { constant } from "../../src/core/abi.js";
import { harnessMachine } from "../helpers/harness.js";
import { withParallelMachine } from "../../src/experiments/parallel.js";

function setup(cpus: number, threads: boolean) {
  const h = harnessMachine(cpus, threads, "WIS_OUT_SIZE");
  const lock = (cls: string) => h.vm.mmu.lockStats().find((s) => s.class === cls)!;
  return { ...h, lock, heap: h.parent.brk(0n) };
}

const BIG = 1e12; // a budget no test reaches: maxiters bounds the run

describe("will-it-scale jobs", () => {
  it("brk1: two brk calls per loop, iterations += 2, the break back where it began", () => {
    const { vm, tasks, outs, field, lock, heap } = setup(1, false);
    const vmasBefore = tasks[0]!.vmas();
    const w0 = lock("mmap_sem").acquisitions.write;
    const r = vm.run({ mode: "timed", seed: 1, jobs: [{ cpu: 0, job: "wis_brk1", args: [tasks[0]!.pid, 0, BIG, 100, outs[0]!] }] });
    expect(r.cpus[0]!.result).toBe(100n);
    expect(field(outs[0]!, "WIS_OUT_ITERATIONS")).toBe(100);
    expect(field(outs[0]!, "WIS_OUT_SYSCALLS")).toBe(1 + 100); // sbrk(0), then one brk per iteration
    expect(lock("mmap_sem").acquisitions.write - w0).toBe(101); // each brk takes mmap_sem for write
    expect(BigInt(field(outs[0]!, "WIS_OUT_BRK_START"))).toBe(heap);
    expect(BigInt(field(outs[0]!, "WIS_OUT_BRK_END"))).toBe(heap);
    expect(tasks[0]!.brk(0n)).toBe(heap);
    expect(tasks[0]!.vmas()).toEqual(vmasBefore);
    expect(field(outs[0]!, "WIS_OUT_FAULTS")).toBe(0); // no page is touched
  });

  it("brk1 stops at the budget: an even iteration count, the clock just past the budget", () => {
    const { vm, tasks, outs, field } = setup(1, false);
    const budget = 200_000;
    const r = vm.run({ mode: "timed", seed: 1, jobs: [{ cpu: 0, job: "wis_brk1", args: [tasks[0]!.pid, 0, budget, 1e9, outs[0]!] }] });
    const it = Number(r.cpus[0]!.result);
    expect(it).toBeGreaterThan(0);
    expect(it % 2).toBe(0);
    expect(field(outs[0]!, "WIS_OUT_CLOCK")).toBeGreaterThanOrEqual(budget);
  });

  it("brk2: sbrk(page) first, then one heap vma expands and contracts between 1 and 2 pages", () => {
    const { vm, tasks, outs, field, heap } = setup(1, false);
    const heapVma = () => tasks[0]!.vmas().filter((v) => v.start < heap + 8192n && v.end > heap - 4096n);
    const r = vm.run({ mode: "timed", seed: 1, jobs: [{ cpu: 0, job: "wis_brk2", args: [tasks[0]!.pid, 0, BIG, 10, outs[0]!] }] });
    expect(r.cpus[0]!.result).toBe(10n);
    expect(field(outs[0]!, "WIS_OUT_SYSCALLS")).toBe(2 + 10); // sbrk(page) (= brk(0) + brk), then the pairs
    expect(BigInt(field(outs[0]!, "WIS_OUT_BRK_START"))).toBe(heap + 4096n);
    expect(BigInt(field(outs[0]!, "WIS_OUT_BRK_END"))).toBe(heap + 4096n);
    expect(tasks[0]!.brk(0n)).toBe(heap + 4096n);
    // one vma: the runner's heap grown by the page sbrk added (merged, not a second vma)
    const v = heapVma();
    expect(v).toHaveLength(1);
    expect(v[0]!.end).toBe(heap + 4096n);
  });

  it("page_fault1: region/4096 faults per loop, one mmap and munmap per loop, no vma left", () => {
    const { vm, tasks, outs, field } = setup(1, false);
    const before = tasks[0]!.vmas();
    const pages = 64;
    const r = vm.run({ mode: "timed", seed: 1, jobs: [{ cpu: 0, job: "wis_page_fault1", args: [tasks[0]!.pid, pages * 4096, BIG, 3 * pages, outs[0]!] }] });
    expect(r.cpus[0]!.result).toBe(BigInt(3 * pages));
    expect(field(outs[0]!, "WIS_OUT_FAULTS")).toBe(3 * pages); // exactly one fault per page
    expect(r.cpus[0]!.stats.pf).toBe(BigInt(3 * pages));
    expect(field(outs[0]!, "WIS_OUT_SYSCALLS")).toBe(2 * 3); // mmap + munmap per loop
    expect(tasks[0]!.vmas()).toEqual(before);
  });

  it("page_fault1 stopped mid-region by the budget still munmaps", () => {
    const { vm, tasks, outs, field } = setup(1, false);
    const before = tasks[0]!.vmas();
    const r = vm.run({ mode: "timed", seed: 1, jobs: [{ cpu: 0, job: "wis_page_fault1", args: [tasks[0]!.pid, 4096 * 4096, 300_000, 1e9, outs[0]!] }] });
    const n = Number(r.cpus[0]!.result);
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThan(4096);
    expect(field(outs[0]!, "WIS_OUT_FAULTS")).toBe(n);
    expect(tasks[0]!.vmas()).toEqual(before);
  });

  it("tlb_flush1 as threads: a one-page flush per iteration, with IPIs to the other threads' CPUs", () => {
    const { vm, tasks, outs, field } = setup(2, true);
    const before = tasks[0]!.vmas();
    const n = 40;
    const r = vm.run({ mode: "timed", seed: 1, jobs: tasks.map((t, cpu) => ({ cpu, job: "wis_tlb_flush1", args: [t.pid, 16 * 4096, BIG, n, outs[cpu]!] })) });
    for (const cpu of [0, 1]) {
      expect(r.cpus[cpu]!.result).toBe(BigInt(n));
      // store (demand-zero fault) and read back after MADV_DONTNEED (another fault): two per iteration
      expect(field(outs[cpu]!, "WIS_OUT_FAULTS")).toBe(2 * n);
      // one madvise per iteration, and mmap + munmap per region of 16 pages
      expect(field(outs[cpu]!, "WIS_OUT_SYSCALLS")).toBe(n + 2 * Math.ceil(n / 16));
      // at least one flush per madvise, and one shootdown request to the other thread's CPU each
      expect(field(outs[cpu]!, "WIS_OUT_TLB_FLUSHES")).toBeGreaterThanOrEqual(n);
      expect(field(outs[cpu]!, "WIS_OUT_TLB_IPIS")).toBeGreaterThanOrEqual(n);
      expect(r.cpus[1 - cpu]!.stats.shootdownRecv! + r.cpus[1 - cpu]!.stats.shootdownRemote!).toBeGreaterThanOrEqual(BigInt(n));
    }
    expect(tasks[0]!.vmas()).toEqual(before);
  });

  it("tlb_flush1 as processes: flushes but no IPI (each mm runs on one CPU)", () => {
    const { vm, tasks, outs, field } = setup(2, false);
    const r = vm.run({ mode: "timed", seed: 1, jobs: tasks.map((t, cpu) => ({ cpu, job: "wis_tlb_flush1", args: [t.pid, 8 * 4096, BIG, 20, outs[cpu]!] })) });
    for (const cpu of [0, 1]) {
      expect(r.cpus[cpu]!.result).toBe(20n);
      expect(field(outs[cpu]!, "WIS_OUT_TLB_FLUSHES")).toBeGreaterThanOrEqual(20);
      expect(field(outs[cpu]!, "WIS_OUT_TLB_IPIS")).toBe(0);
    }
  });

  it("refuses bad arguments and reports a task it cannot enter", () => {
    const { vm, x, tasks, outs } = setup(2, false);
    const job = (n: string) => constant(x, n as "JOB_WIS_BRK1");
    const pid = BigInt(tasks[0]!.pid);
    expect(x.vcpu_set_job(0, job("JOB_WIS_PAGE_FAULT1"), pid, 0n, 1000n, 1n, 0n, 0n)).toBe(-22); // no region
    expect(x.vcpu_set_job(0, job("JOB_WIS_TLB_FLUSH1"), pid, 4097n, 1000n, 1n, 0n, 0n)).toBe(-22); // unaligned
    expect(x.vcpu_set_job(0, job("JOB_WIS_PAGE_FAULT1"), pid, (1n << 30n) + 4096n, 1000n, 1n, 0n, 0n)).toBe(-22); // > 1 GiB
    expect(x.vcpu_set_job(0, job("JOB_WIS_BRK1"), pid, 0n, 1000n, 1n, 12345n, 0n)).toBe(-22); // out not kernel memory
    expect(x.vcpu_set_job(0, job("JOB_WIS_BRK2"), pid, 0n, 1000n, 1n, BigInt(outs[0]!), 0n)).toBe(0);
    const r = vm.run({ mode: "timed", seed: 1, jobs: [{ cpu: 1, job: "wis_brk1", args: [9999, 0, BIG, 2, 0] }] });
    expect(r.cpus[0]!.result).toBe(-3n); // -ESRCH
    const busy = vm.run({ mode: "timed", seed: 1, jobs: [{ cpu: 1, job: "wis_brk1", args: [tasks[0]!.pid, 0, BIG, 2, 0] }] });
    expect(busy.cpus[0]!.result).toBe(-16n); // -EBUSY: the parent is current on CPU 0
  });
});

describe("will-it-scale jobs, parallel build (host-time budget)", () => {
  it("run until the host clock passes the budget in ns (WIS_OUT_CLOCK), or maxiters", async () => {
    await withParallelMachine({ cpus: 1, memory: "32MiB" }, async (pm) => {
      const x = pm.mmu.exports;
      const model = new MmModel(pm.mmu);
      const p = model.spawn({ cpu: 0 });
      model.idle({ cpu: 0 });
      const out = pm.alloc(constant(x, "WIS_OUT_SIZE"));
      const field = (f: string) => Number(pm.read64(out + constant(x, f as "WIS_OUT_ITERATIONS")));
      const budgetNs = 2_000_000;
      for (const job of ["wis_brk1", "wis_page_fault1"]) {
        const region = job === "wis_brk1" ? 0 : 8 * 4096;
        const r = await pm.run([{ cpu: 0, job, args: [p.pid, region, budgetNs, 0xffff_ffff, out] }]);
        expect(r.cpus[0]!.result, job).toBeGreaterThan(0n);
        expect(field("WIS_OUT_ITERATIONS"), job).toBe(Number(r.cpus[0]!.result));
        // host ns since the job began: past the budget, within the job's own host time
        expect(field("WIS_OUT_CLOCK"), job).toBeGreaterThanOrEqual(budgetNs);
        expect(field("WIS_OUT_CLOCK"), job).toBeLessThanOrEqual(r.cpus[0]!.endNs - r.cpus[0]!.startNs);
      }
      // maxiters still bounds a run whose budget is far away (1000 s)
      const r = await pm.run([{ cpu: 0, job: "wis_brk2", args: [p.pid, 0, 1e12, 10, out] }]);
      expect(r.cpus[0]!.result).toBe(10n);
      expect(field("WIS_OUT_CLOCK")).toBeLessThan(1e12);
      for (const v of model.check().violations) expect.fail(v);
    });
  });
});
