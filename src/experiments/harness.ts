// The benchmark harness's processes, as the AIM and will-it-scale runners make them: one parent whose
// heap is a malloc arena (grown by HARNESS_HEAP_PAGES and its first page touched, so the heap vma has an
// anon_vma), then tasks forked from it (processes: every child's heap vma joins the parent's anon_vma,
// or its tree from 2.6.34 on, which is how brk-heavy children come to share one anon_vma lock) or
// threads of it (CLONE_VM: one mm, one mmap_sem, one break). Shared by aim9-brk and will-it-scale.
import type { MmModel, Process } from "../mm/process.js";
import { MmemuError } from "../core/errors.js";

/** Pages of heap the harness parent has before the test; the first one touched. */
export const HARNESS_HEAP_PAGES = 16n;

/**
 * harnessTasks - spawn the parent on CPU 0 with its touched heap, then `count` tasks of `shape`:
 * thread k gets home CPU firstCpu + k. Returns the parent and the tasks (the parent not among them).
 * Throws MmemuError naming `experiment` when the heap cannot grow or be touched, or a fork or clone fails.
 */
export function harnessTasks(model: MmModel, o: { experiment: string; shape: "processes" | "threads"; count: number; firstCpu: number }):
{ parent: Process; tasks: Process[] } {
  const parent = model.spawn({ cpu: 0 });
  const start = parent.brk(0n);
  if (parent.brk(start + HARNESS_HEAP_PAGES * 4096n) !== start + HARNESS_HEAP_PAGES * 4096n) throw new MmemuError(`${o.experiment}: the harness heap could not grow`);
  if (parent.write(start, 1) !== 0) throw new MmemuError(`${o.experiment}: the harness heap could not be touched`);
  const tasks: Process[] = [];
  for (let k = 0; k < o.count; k++) {
    const t = o.shape === "processes" ? parent.fork({ cpu: 0 }) : parent.thread({ homeCpu: o.firstCpu + k });
    if (typeof t === "number") throw new MmemuError(`${o.experiment}: ${o.shape === "processes" ? "fork" : "clone"} failed (${t})`);
    tasks.push(t);
  }
  return { parent, tasks };
}
