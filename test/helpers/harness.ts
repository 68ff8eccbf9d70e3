// A virtual machine with the experiments' harness tasks (src/experiments/harness.ts) for the workload
// jobs' loop tests: the parent (its heap touched: an anon_vma) and cpus - 1 children or threads of it,
// the parent current on CPU 0, a job report per task, and a reader of a report's fields.
import { VirtualMachine } from "../../src/sched/virtual-machine.js";
import { MmModel } from "../../src/mm/process.js";
import { constant, type CoreExports } from "../../src/core/abi.js";
import { harnessTasks } from "../../src/experiments/harness.js";

export function harnessMachine(cpus: number, threads: boolean, outSize: keyof CoreExports) {
  const vm = VirtualMachine.create({ cpus, memory: "32MiB", debug: true });
  const x = vm.exports;
  const model = new MmModel(vm.mmu);
  const h = harnessTasks(model, { experiment: "test", shape: threads ? "threads" : "processes", count: cpus - 1, firstCpu: 1 });
  const parent = h.parent;
  const tasks = [parent, ...h.tasks];
  parent.brk(0n, { cpu: 0 });
  const outs = tasks.map(() => vm.alloc(constant(x, outSize)));
  /** The u64 at report o's offset f (an exported *_OUT_* constant), as a number. */
  const field = (o: number, f: string) => Number(vm.read64(o + constant(x, f as keyof CoreExports)));
  return { vm, x, model, parent, tasks, outs, field };
}
