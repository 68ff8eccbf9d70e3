// Exported entry points and test kernels for the MM core's page-table side (mm/pgtable.ts,
// mm/mmu_gather.ts, arch/x86/mm_tlb.ts, mm/memory.ts, mm/mprotect.ts, mm/mmu_notifier.ts).
// Every cpu_* function enters the core as that CPU and returns -EINVAL for a bad id.
import { nr_cpus } from "../layout";
import { set_this_cpu } from "../percpu";
import { EINVAL } from "../errno";
import { mm_config, mm_config_set } from "../mm/pgtable";
import { switch_mm, enter_lazy_tlb, leave_mm, flush_tlb_mm_range, tlb_flush_stat } from "../arch/x86/mm_tlb";
import { this_cpu_gather } from "../mm/mmu_gather";
export { MMCFG_SPLIT_PTL } from "../mm/pgtable";
export { TLB_CAUSE_MUNMAP, TLB_CAUSE_MPROTECT, TLB_CAUSE_COW, TLB_CAUSE_RECLAIM, TLB_CAUSE_MIGRATION, TLB_CAUSE_EXIT,
  TLB_CAUSE_OTHER, NR_TLB_CAUSES, TFS_FLUSHES, TFS_IPIS, TFS_PAGES, TFS_FULL, TLBSTATE_OK, TLBSTATE_LAZY } from "../arch/x86/mm_tlb";

// @ts-ignore: decorator
@inline function enter(cpu: i32): bool {
  if (cpu < 0 || cpu >= nr_cpus) return false;
  set_this_cpu(cpu);
  return true;
}

export function mm_config_get(): u32 { return mm_config(); }
export function mm_config_write(v: u32): void { mm_config_set(v); }

export function cpu_switch_mm(cpu: i32, next: usize): i32 { return enter(cpu) ? switch_mm(0, next) : -EINVAL; }
export function cpu_enter_lazy_tlb(cpu: i32, mm: usize): i32 { if (!enter(cpu)) return -EINVAL; enter_lazy_tlb(mm); return 0; }
export function cpu_leave_mm(cpu: i32): i32 { return enter(cpu) ? leave_mm() : -EINVAL; }
export function cpu_flush_tlb_mm_range(cpu: i32, mm: usize, start: u64, end: u64, freed_tables: bool, cause: u32): i32 {
  return enter(cpu) ? flush_tlb_mm_range(mm, start, end, 12, freed_tables, cause) : -EINVAL;
}
/** CPU cpu's shootdown counter (TFS_*) for cause; cause NR_TLB_CAUSES: lazy CPUs skipped. */
export function mm_tlb_flush_stat(cpu: i32, cause: u32, field: u32): u64 {
  return cpu < 0 || cpu >= nr_cpus ? 0 : tlb_flush_stat(cpu, cause, field);
}
export function cpu_mmu_gather(cpu: i32): usize { return enter(cpu) ? this_cpu_gather() : 0; }
