// Shared set-up for the virtual-time tests: machines and the jobs of assembly/kernel/vcpu_jobs.ts.
import { VirtualMachine, type JobSpec, type RunResult } from "../../src/index.js";

/** A small virtual machine (debug build by default: VM_BUG_ON checked). */
export function vmachine(cpus: number, debug = true): VirtualMachine {
  return VirtualMachine.create({ cpus, memory: "16MiB", debug });
}

/** A ticket-lock word and a u64 counter, zeroed, and spin_lock_loop jobs for the first `cpus` CPUs. */
export function lockLoop(vm: VirtualMachine, cpus: number, n: number): { lock: number; counter: number; jobs: JobSpec[]; reset(): void } {
  const lock = vm.alloc(64);
  const counter = vm.alloc(64);
  const jobs = Array.from({ length: cpus }, (_, cpu) => ({ cpu, job: "spin_lock_loop", args: [lock, counter, n] }));
  return { lock, counter, jobs, reset: () => { vm.write32(lock, 0); vm.write64(counter, 0); } };
}

/** The racy increment on one counter by the first `cpus` CPUs, n times each. */
export function racy(vm: VirtualMachine, cpus: number, n: number): { counter: number; jobs: JobSpec[]; reset(): void } {
  const counter = vm.alloc(64);
  const jobs = Array.from({ length: cpus }, (_, cpu) => ({ cpu, job: "racy_increment", args: [counter, n] }));
  return { counter, jobs, reset: () => vm.write64(counter, 0) };
}

/** What must be equal between two runs of one seed. */
export function fingerprint(r: RunResult): unknown {
  return {
    steps: r.steps, switches: r.switches, digest: r.digest, makespan: r.makespan,
    cpus: r.cpus.map((c) => ({ cpu: c.cpu, result: c.result, clock: c.clock, stats: c.stats })),
  };
}
