// The fork-server and AIM7 fork_test jobs' loop structure (assembly/lib/fork_server.ts, JOB_FORK_SERVER /
// JOB_AIM7_FORK): each exim message forks exactly once (twice with deliver) and every child exits;
// the child's heap writes are COW faults, its buffer faults once per page; fork_test's children
// exit; after the run no task, mm, vma, anon_vma or anon_vma_chain is left behind and the MM
// invariant checker passes; the jobs' argument checks and errors.
import { describe, it, expect } from "vitest";
import { VirtualMachine } from "../../src/sched/virtual-machine.js";
import { MmModel, type Process } from "../../src/mm/process.js";
import { constant, type CoreExports } from "../../src/core/abi.js";
import { forkServerParams } from "../../src/experiments/fork-server.js";

const CACHES = ["KMEM_TASK_STRUCT", "KMEM_MM_STRUCT", "KMEM_VM_AREA", "KMEM_ANON_VMA", "KMEM_ANON_VMA_CHAIN"] as const;
const HEAP_PAGES = 8;

function setup(cpus: number, era: { locks?: Record<string, string> } = {}) {
  const vm = VirtualMachine.create({ cpus, memory: "32MiB", debug: true, ...era });
  const x = vm.exports;
  const model = new MmModel(vm.mmu);
  const master = model.spawn({ cpu: 0 });
  const heap = master.brk(0n);
  master.brk(heap + BigInt(HEAP_PAGES) * 4096n);
  for (let p = 0; p < HEAP_PAGES; p++) expect(master.write(heap + BigInt(p * 4096), p + 1)).toBe(0);
  const daemons: Process[] = [];
  for (let k = 0; k < cpus; k++) {
    const d = master.fork({ cpu: 0 });
    if (typeof d === "number") throw new Error(`fork: ${d}`);
    daemons.push(d);
  }
  model.idle({ cpu: 0 });
  const outs = daemons.map(() => vm.alloc(constant(x, "FS_OUT_SIZE")));
  const field = (o: number, f: string) => Number(vm.read64(o + constant(x, f as keyof CoreExports)));
  const call = x as unknown as Record<string, (c: number) => number>;
  const live = () => CACHES.map((k) => call.kmem_cache_nr_objs!(constant(x, k)) - call.kmem_cache_nr_free!(constant(x, k)));
  const anonVmaWrites = () => vm.mmu.lockStats().find((s) => s.class === "anon_vma")?.acquisitions.write ?? 0;
  return { vm, x, model, master, heap, daemons, outs, field, live, anonVmaWrites };
}

describe("fork-server jobs", () => {
  it("exim: each message forks exactly once, its child exits, COW faults on the heap and one fault per buffer page; nothing left behind", () => {
    const { vm, x, model, heap, daemons, outs, field, live, anonVmaWrites } = setup(2);
    const before = live();
    const av0 = anonVmaWrites();
    const msgs = 5, touch = 3, buf = 2;
    const params = forkServerParams(x, { heapPages: HEAP_PAGES, touchPages: touch, bufferPages: buf, deliver: false });
    const r = vm.run({ mode: "timed", seed: 2, jobs: daemons.map((d, cpu) => ({ cpu, job: "fork_server", args: [d.pid, heap, params, 1n << 60n, msgs, outs[cpu]!] })) });
    for (const [cpu] of daemons.entries()) {
      const o = outs[cpu]!;
      expect(r.cpus[cpu]!.result).toBe(BigInt(msgs));
      expect(field(o, "FS_OUT_OPS")).toBe(msgs);
      expect(field(o, "FS_OUT_FORKS")).toBe(msgs);
      expect(field(o, "FS_OUT_EXITS")).toBe(msgs);
      expect(field(o, "FS_OUT_STORES")).toBe(msgs * (touch + buf));
      expect(field(o, "FS_OUT_MMAPS")).toBe(msgs);
      expect(field(o, "FS_OUT_MUNMAPS")).toBe(msgs);
      // every heap write is a COW fault (the page is shared with the daemon and the master), every buffer page faults once
      expect(field(o, "FS_OUT_FAULTS")).toBe(msgs * (touch + buf));
      expect(field(o, "FS_OUT_CLOCK")).toBeLessThanOrEqual(Number(r.cpus[cpu]!.clock));
      expect(field(o, "FS_OUT_CLOCK")).toBeGreaterThan(0);
      expect(x.cpu_current_pid(cpu)).toBe(daemons[cpu]!.pid); // the daemon is current again
    }
    // forks and exits take the tree's root anon_vma lock
    expect(anonVmaWrites() - av0).toBeGreaterThan(2 * msgs * daemons.length);
    for (let cpu = 0; cpu < 2; cpu++) model.idle({ cpu });
    expect(live()).toEqual(before);
    expect(model.check().violations).toEqual([]);
    // the daemons' heap is still the master's contents: the children's writes went to their own copies
    expect(daemons[0]!.read(heap + 4096n, { cpu: 0 })).toBe(2);
  });

  it("exim with deliver: two forks per message (the child forks a grandchild), all exited", () => {
    const { vm, x, model, heap, daemons, outs, field, live } = setup(1);
    const before = live();
    const params = forkServerParams(x, { heapPages: HEAP_PAGES, touchPages: 1, bufferPages: 1, deliver: true });
    const r = vm.run({ mode: "timed", seed: 1, jobs: [{ cpu: 0, job: "fork_server", args: [daemons[0]!.pid, heap, params, 1n << 60n, 4, outs[0]!] }] });
    expect(r.cpus[0]!.result).toBe(4n);
    expect(field(outs[0]!, "FS_OUT_FORKS")).toBe(8);
    expect(field(outs[0]!, "FS_OUT_EXITS")).toBe(8);
    expect(field(outs[0]!, "FS_OUT_FAULTS")).toBe(4 * 2);
    model.idle({ cpu: 0 });
    expect(live()).toEqual(before);
    expect(model.check().violations).toEqual([]);
  });

  it("varying sizes: each message draws 1..2*touch-1 heap pages (a COW fault each); CPUs differ; the same size seed gives the same sizes", () => {
    const { vm, x, heap, daemons, outs, field } = setup(2);
    const touch = 3;
    const params = forkServerParams(x, { heapPages: HEAP_PAGES, touchPages: touch, bufferPages: 0, deliver: false, sizeSeed: 77 });
    // the generator restarts with every job: k messages touch the first k sizes of each CPU's sequence
    const cumulative: number[][] = [[0], [0]];
    for (let k = 1; k <= 12; k++) {
      const r = vm.run({ mode: "timed", seed: 1, jobs: daemons.map((d, cpu) => ({ cpu, job: "fork_server", args: [d.pid, heap, params, 1n << 60n, k, outs[cpu]!] })) });
      for (let cpu = 0; cpu < 2; cpu++) {
        expect(r.cpus[cpu]!.result).toBe(BigInt(k));
        expect(field(outs[cpu]!, "FS_OUT_FAULTS")).toBe(field(outs[cpu]!, "FS_OUT_STORES"));
        expect(field(outs[cpu]!, "FS_OUT_MMAPS")).toBe(0); // buffer 0 stays 0
        cumulative[cpu]!.push(field(outs[cpu]!, "FS_OUT_STORES"));
      }
    }
    const sizes = cumulative.map((c) => c.slice(1).map((v, i) => v - c[i]!));
    for (const sz of sizes) {
      for (const t of sz) { expect(t).toBeGreaterThanOrEqual(1); expect(t).toBeLessThanOrEqual(2 * touch - 1); }
      expect(new Set(sz).size).toBeGreaterThan(1); // they vary
    }
    expect(sizes[0]).not.toEqual(sizes[1]); // seeded with the pid: CPUs differ
  });

  it("varying sizes: over many messages the means are touch and buffer pages", () => {
    const { vm, x, heap, daemons, outs, field, model, live } = setup(1);
    const before = live();
    const msgs = 300;
    for (const [touch, buf] of [[4, 0], [0, 3]] as const) {
      const params = forkServerParams(x, { heapPages: HEAP_PAGES, touchPages: touch, bufferPages: buf, deliver: false, sizeSeed: 12345 });
      const r = vm.run({ mode: "timed", seed: 1, jobs: [{ cpu: 0, job: "fork_server", args: [daemons[0]!.pid, heap, params, 1n << 60n, msgs, outs[0]!] }] });
      expect(r.cpus[0]!.result).toBe(BigInt(msgs));
      const mean = field(outs[0]!, "FS_OUT_STORES") / msgs;
      expect(Math.abs(mean - (touch + buf)), `touch ${touch}, buffer ${buf}: mean ${mean}`).toBeLessThan(0.35); // sd of the mean ~0.1
      expect(field(outs[0]!, "FS_OUT_FAULTS")).toBe(field(outs[0]!, "FS_OUT_STORES"));
      expect(field(outs[0]!, "FS_OUT_MMAPS")).toBe(buf ? msgs : 0);
    }
    model.idle({ cpu: 0 });
    expect(live()).toEqual(before);
    expect(model.check().violations).toEqual([]);
  });

  it("stops at the virtual-time budget", () => {
    const { vm, x, heap, daemons, outs, field } = setup(1);
    const params = forkServerParams(x, { heapPages: HEAP_PAGES, touchPages: 2, bufferPages: 2, deliver: false });
    const r = vm.run({ mode: "timed", seed: 1, jobs: [{ cpu: 0, job: "fork_server", args: [daemons[0]!.pid, heap, params, 300_000, 0xffff_ffff, outs[0]!] }] });
    const ops = field(outs[0]!, "FS_OUT_OPS");
    expect(ops).toBeGreaterThan(0);
    expect(r.cpus[0]!.result).toBe(BigInt(ops));
    expect(r.cpus[0]!.clock).toBeGreaterThanOrEqual(300_000n);
  });

  it("aim7_fork: fork, the child exits at once, the parent waits; no fault, nothing left behind", () => {
    const { vm, model, daemons, outs, field, live } = setup(3, { locks: { anon_vma: "rwsem-handoff" } });
    const before = live();
    const r = vm.run({ mode: "timed", seed: 4, jobs: daemons.map((d, cpu) => ({ cpu, job: "aim7_fork", args: [d.pid, 1n << 60n, 7, outs[cpu]!] })) });
    for (const [cpu] of daemons.entries()) {
      expect(r.cpus[cpu]!.result).toBe(7n);
      expect(field(outs[cpu]!, "FS_OUT_FORKS")).toBe(7);
      expect(field(outs[cpu]!, "FS_OUT_EXITS")).toBe(7);
      expect(field(outs[cpu]!, "FS_OUT_FAULTS")).toBe(0);
      expect(field(outs[cpu]!, "FS_OUT_STORES") + field(outs[cpu]!, "FS_OUT_MMAPS")).toBe(0);
    }
    for (let cpu = 0; cpu < 3; cpu++) model.idle({ cpu });
    expect(live()).toEqual(before);
    expect(model.check().violations).toEqual([]);
  });

  it("refuses bad arguments and reports a task it cannot enter", () => {
    const { vm, x, heap, daemons, outs, master } = setup(2);
    const job = constant(x, "JOB_FORK_SERVER");
    const pid = BigInt(daemons[0]!.pid);
    const ok = forkServerParams(x, { heapPages: 4, touchPages: 4, bufferPages: 1, deliver: false });
    expect(x.vcpu_set_job(0, job, pid, heap, ok, 1000n, 1n, 0n)).toBe(0);
    expect(x.vcpu_set_job(0, job, pid, heap + 1n, ok, 1000n, 1n, 0n)).toBe(-22); // unaligned heap
    expect(x.vcpu_set_job(0, job, pid, heap, forkServerParams(x, { heapPages: 2, touchPages: 3, bufferPages: 1, deliver: false }), 1000n, 1n, 0n)).toBe(-22);
    expect(x.vcpu_set_job(0, job, pid, heap, forkServerParams(x, { heapPages: 2, touchPages: 1, bufferPages: 513, deliver: false }), 1000n, 1n, 0n)).toBe(-22);
    expect(x.vcpu_set_job(0, job, pid, heap, ok | (1n << 60n), 1000n, 1n, 0n)).toBe(0); // bits 49..63: a size seed
    expect(x.vcpu_set_job(0, job, pid, heap, ok, 1000n, 1n, 12345n)).toBe(-22); // out not kernel memory
    expect(x.vcpu_set_job(0, constant(x, "JOB_AIM7_FORK"), pid, 1000n, 1n << 33n, 0n, 0n, 0n)).toBe(-22); // maxops above u32
    const r = vm.run({ mode: "timed", seed: 1, jobs: [{ cpu: 0, job: "aim7_fork", args: [9999, 1n << 40n, 1, outs[0]!] }] });
    expect(r.cpus[0]!.result).toBe(-3n); // -ESRCH
    // the master is current on CPU 0: CPU 1 cannot run it
    master.brk(0n, { cpu: 0 });
    const busy = vm.run({ mode: "timed", seed: 1, jobs: [{ cpu: 1, job: "aim7_fork", args: [master.pid, 1n << 40n, 1, 0] }] });
    expect(busy.cpus[0]!.result).toBe(-16n); // -EBUSY
  });
});
