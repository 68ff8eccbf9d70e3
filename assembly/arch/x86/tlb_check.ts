// The stale-TLB detector (debug builds only): an access that goes through a TLB entry whose frame has
// been freed, or freed and handed out again, since the entry was filled is reported with the CPU, the
// address and the frame. This is the bug mmu_gather exists to prevent: a frame freed before every
// CPU that may cache a translation to it has flushed that translation (a missing or late INVLPG or
// shootdown), so that a CPU keeps reading and writing memory that now belongs to someone else.
//
// How it works:
//   - struct page's flags carry the frame's allocation generation (PAGE_GEN, mm/mm_types.ts), which
//     alloc_page bumps each time it hands the frame out;
//   - when the walker fills a TLB entry (pgtable.ts walk_leaf) for a frame that is allocated at that
//     moment, the entry's data word records T = 1 and the low 10 bits of that generation (GEN; the
//     diagram is in tlb.ts):
//
//        data bits 62..52
//         62   61 ............... 52
//        +---+----------------------+
//        | T |  PAGE_GEN mod 1024   |
//        +---+----------------------+
//
//   - at every TLB hit that completes an access (arch/x86/mmu.ts: the 4 KiB fast path and tlb_hit for
//     large pages), the frame's flags are read: PG_buddy means the frame was freed ("freed"); another
//     generation means it was freed and allocated again ("reused"). Either is reported through the
//     host import env.stale_tlb (host.ts), which throws a StaleTlbError (src/core/errors.ts).
//
// Choices and limits:
//   - Only frames that were allocated when the entry was filled are tracked (T = 1). A translation to
//     a frame that is free or reserved at fill time (page tables built by the host may map any
//     physical address: PageTableBuilder.map) has no allocation whose end could make it stale.
//   - 2 MiB and 1 GiB entries track their head frame (the first frame of the large page), the page
//     compound_head() would name, whatever 4 KiB of the large page the access touches: the page
//     allocator hands out order-0 frames only, so the other frames of a large mapping have no
//     lifetime tied to it. The report names the head frame.
//   - GEN keeps 10 bits: a frame reused a multiple of 1024 times between the fill and the access is
//     missed. A frame that is free at the access is always reported.
//   - A hit that faults on its cached rights, or through which a write walks again to set D, does not
//     reach the frame and is not checked.
//   - The flags are read without a lock: a race can only hide a report (the fill reads the generation
//     after a concurrent free and reallocation: the entry then records the new owner's generation),
//     never make one up: a kernel that flushes before it frees leaves no entry to check.
//   - What the TLB of a CPU holds for a frame that is never accessed again is not reported (hardware
//     may load such an entry speculatively; the model checks the accesses it makes).
// The release build folds every call site away (each is under `if (DEBUG)`), so it pays nothing.
import { PC_CPU, nr_frames } from "../../layout";
import { pfn_to_page, PAGE_FLAGS, PAGE_GEN_SHIFT, PG_buddy, PG_reserved } from "../../mm/mm_types";
import { TLB_D_ADDR, TLB_D_GEN, TLB_D_GEN_SHIFT, TLB_D_TRACKED, TLB_D_XD } from "./tlb";
import { host_stale_tlb } from "../../host";

if (((TLB_D_GEN | TLB_D_TRACKED) & (TLB_D_ADDR | TLB_D_XD | 0xfff)) != 0) ERROR("tlb_check: T and GEN must use the free bits 52..62");

/** What env.stale_tlb reports: the frame of the entry is free now. */
export const STALE_TLB_FREED: i32 = 1;
/** What env.stale_tlb reports: the frame was freed and allocated again since the entry was filled. */
export const STALE_TLB_REUSED: i32 = 2;

/**
 * tlb_gen_tag - the detector's bits (TLB_D_TRACKED | TLB_D_GEN) for a TLB entry about to be filled
 * for frame (the physical address of the page's first byte, aligned to the page size): the frame's
 * allocation generation if it is allocated now, else 0 (not tracked). Debug builds only; holds
 * nothing, reads the frame's flags once.
 */
export function tlb_gen_tag(frame: u64): u64 {
  const pfn = frame >> 12;
  if (pfn >= <u64>nr_frames) return 0;
  const flags = atomic.load<u32>(pfn_to_page(<u32>pfn) + PAGE_FLAGS);
  if ((flags & (PG_buddy | PG_reserved)) != 0) return 0;
  return TLB_D_TRACKED | ((<u64>(flags >> PAGE_GEN_SHIFT) << TLB_D_GEN_SHIFT) & TLB_D_GEN);
}

/**
 * stale_tlb_check - CPU p is about to complete an access to va through a TLB entry with data word
 * data: if the entry is tracked and its frame has been freed or reused since the fill, report it to
 * the host (env.stale_tlb, which throws a StaleTlbError; should a host return, the access goes on).
 * Debug builds only; holds nothing.
 */
export function stale_tlb_check(p: usize, va: u64, data: u64): void {
  if ((data & TLB_D_TRACKED) == 0) return;
  const pfn = <u32>((data & TLB_D_ADDR) >> 12);
  const flags = atomic.load<u32>(pfn_to_page(pfn) + PAGE_FLAGS);
  let kind = 0;
  if ((flags & PG_buddy) != 0) {
    kind = STALE_TLB_FREED;
  } else if (((<u64>(flags >> PAGE_GEN_SHIFT) << TLB_D_GEN_SHIFT) & TLB_D_GEN) != (data & TLB_D_GEN)) {
    kind = STALE_TLB_REUSED;
  }
  if (kind != 0) host_stale_tlb(<i32>load<u32>(p + PC_CPU), va, pfn, kind);
}
