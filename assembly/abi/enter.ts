// The entry check every exported CPU function makes (assembly/abi/*.ts, assembly/index.ts).
import { nr_cpus } from "../layout";
import { set_this_cpu } from "../percpu";

// Enter the core as cpu; false for an id outside the machine.
// @ts-ignore: decorator
@inline export function enter(cpu: i32): bool {
  if (cpu < 0 || cpu >= nr_cpus) return false;
  set_this_cpu(cpu);
  return true;
}
