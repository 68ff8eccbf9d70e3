// Virtual time charges the MM core (issue 3, assembly/kernel/mm_charge.ts): a brk costs its system
// call and what it does inside; page walks charge walk_level per paging-structure load; PTE writes
// are preemption points that explore mode interleaves at (the planted race on a PTE).
import { describe, it, expect } from "vitest";
import { VirtualMachine } from "../../src/sched/virtual-machine.js";
import { MmModel } from "../../src/mm/process.js";
import { COST_NAMES, type CostName } from "../../src/cost/profile.js";
import { DEFAULT_PROFILE } from "../../src/cost/default-profile.js";

/** One process on CPU 0 whose heap has an anon_vma (as in the AIM9 experiment). */
function setup() {
  const vm = VirtualMachine.create({ cpus: 1, memory: "32MiB", debug: true });
  const model = new MmModel(vm.mmu);
  const p = model.spawn({ cpu: 0 });
  const start = p.brk(0n);
  p.brk(start + 4096n);
  p.write(start, 1);
  p.brk(start, { cpu: 0 });
  return { vm, p };
}

/** Every cost 0 but one. */
function only(name: CostName, cycles: number): Partial<Record<CostName, number>> {
  return Object.fromEntries(COST_NAMES.map((n) => [n, n === name ? cycles : 0]));
}

const BRKS = 17_000 + 3; // one AIM9 loop: 17,000 sbrk calls, the sbrk(0), the 1 MiB grow, the cleanup

describe("virtual time charges the MM core", () => {
  it("a brk charges exactly one system call's entry and exit", () => {
    const { vm, p } = setup();
    vm.setCosts(only("syscall", 1));
    const r = vm.run({ mode: "timed", seed: 1, jobs: [{ cpu: 0, job: "aim9_brk", args: [p.pid, 1, 0, 0] }] });
    expect(r.cpus[0]!.result).toBe(1n);
    expect(r.makespan).toBe(BigInt(BRKS));
  });

  it("a brk in timed mode costs at least its system call, mmap_sem and vma lookup, and a plausible total", () => {
    const { vm, p } = setup();
    const r = vm.run({ mode: "timed", seed: 1, jobs: [{ cpu: 0, job: "aim9_brk", args: [p.pid, 1, 0, 0] }] });
    const c = (n: CostName) => DEFAULT_PROFILE.costs[n].cycles;
    const perBrk = Number(r.makespan) / BRKS;
    // sys_brk: the system call, mmap_sem taken and released for write (an atomic each), find_vma's
    // cached vma (an LLC load)
    expect(perBrk).toBeGreaterThanOrEqual(c("syscall") + 2 * c("atomic") + c("load_llc"));
    // and less than a microsecond and a half at 3 GHz: nothing sleeps, nothing is sent
    expect(perBrk).toBeLessThan(4500);
    // Shrinking charges the vma split and the slab (more than the lock-only figure of before)
    vm.setCosts(only("load_llc", 1));
    const llc = vm.run({ mode: "timed", seed: 1, jobs: [{ cpu: 0, job: "aim9_brk", args: [p.pid, 1, 0, 0] }] });
    expect(Number(llc.makespan)).toBeGreaterThanOrEqual(BRKS); // at least one vma line per brk
  });

  it("page walks charge walk_level per paging-structure load, and faults charge the page's zeroing", () => {
    const { vm, p } = setup();
    vm.setCosts(only("walk_level", 1));
    const r = vm.run({ mode: "timed", seed: 1, jobs: [{ cpu: 0, job: "aim9_page", args: [p.pid, 1, 0, 0] }] });
    expect(r.cpus[0]!.result).toBe(1n);
    const walks = Number(r.cpus[0]!.stats.walk);
    expect(walks).toBeGreaterThanOrEqual(16_000); // each page grown is walked (faults, then again)
    expect(Number(r.makespan)).toBeGreaterThan(walks); // a walk reads more than one level
    expect(Number(r.makespan)).toBeLessThanOrEqual(4 * walks); // and at most four
    // 16,000 pages faulted in, each zeroed: 64 lines at load_llc (and more LLC loads besides)
    vm.setCosts(only("load_llc", 1));
    const z = vm.run({ mode: "timed", seed: 1, jobs: [{ cpu: 0, job: "aim9_page", args: [p.pid, 1, 0, 0] }] });
    expect(Number(z.makespan)).toBeGreaterThanOrEqual(16_000 * 64);
  });

  it("explore mode preempts at PTE writes: it finds the planted lost update on a PTE", () => {
    const vm = VirtualMachine.create({ cpus: 2, memory: "16MiB", debug: true });
    const pte = vm.alloc(64);
    const n = 4;
    const found = vm.explore({
      runs: 50, seed: 1, log: null,
      jobs: [0, 1].map((cpu) => ({ cpu, job: "pte_racy", args: [pte, n] })),
      setup: () => vm.write64(pte, 0n),
      check: () => vm.read64(pte) === BigInt(2 * n * 4096) || `pte ${vm.read64(pte)}`,
    });
    expect(found.failingSeed).toBeDefined();
    expect(vm.run(found.failure!.replay).digest).toBe(found.failure!.result!.digest);
  });

  it("is deterministic: the same seed gives the same clocks with the MM charges", () => {
    const a = setup(), b = setup();
    const ra = a.vm.run({ mode: "timed", seed: 7, jobs: [{ cpu: 0, job: "aim9_page", args: [a.p.pid, 1, 0, 0] }] });
    const rb = b.vm.run({ mode: "timed", seed: 7, jobs: [{ cpu: 0, job: "aim9_page", args: [b.p.pid, 1, 0, 0] }] });
    expect(rb.makespan).toBe(ra.makespan);
    expect(rb.digest).toBe(ra.digest);
  });
});
