// The MM invariant checker: callable at any time the CPUs are quiescent (between operations, after a
// run), and in tests after every operation. It reads the shared memory only, so it cannot be fooled
// by the core's own bookkeeping: every count it checks it recounts from the page tables.
//
// Checked (issue 4, "Checking, always available"):
//  - each mm's vmas: sorted, non-overlapping, page-aligned, vm_mm right, map_count right, and the
//    red-black tree in order is the vm_next list;
//  - page tables: every page-table page is PG_pgtable and covers a range some vma intersects (no
//    page table is left reachable from a vma-less range after munmap: free_pgtables' job); every
//    present PTE lies inside a vma;
//  - each frame's mapcount equals the number of PTEs that map it, and its refcount is at least that;
//  - every mapped anonymous page is reachable through its anon_vma from every vma that maps it
//    (anon_vma_chain), at the index linear_page_index gives; every mapped file page through its
//    address_space's i_mmap tree;
//  - every vma with an anon_vma is on that anon_vma's list (through its anon_vma_chain, or itself with
//    the 2.6.25 design, mm_config MMC_AV_2625);
//  - the RSS counters (MM_ANONPAGES, MM_FILEPAGES, MM_PGTABLES) equal what the page tables hold;
//  - split PTE locks (mm_config MMC_SPLIT_PTL): every PTE page has its own pte_lock (page->private, of
//    class pte_lock) and, without the switch, none; the live KMEM_PTLOCK objects are exactly those locks
//    (exact when the switch was set at boot, as the `mm` machine option does; the mms off the task
//    list, built directly by test kernels, are not walked);
//  - every mmu notifier of every mm is balanced (each invalidate_range_start ended, no end without
//    a start): the CPUs are quiescent, so a start still open is one that will never end (seed 002);
//  - free frames are clean: refcount 0, no mapcount, no mapping.
// A PTE is "present" for the MM when P or _PAGE_PROTNONE is set (a PROT_NONE mapping keeps its frame
// with P clear, mm/pgtable.ts pte_present); swap and migration entries have neither bit.
// "After every process exits every frame is free again" is a comparison of nr_free_pages the caller
// makes (it knows what it allocated itself).
import type { CoreExports } from "../core/abi.js";
import type { MachineLayout } from "../core/layout.js";
import { MmView, type VmaView } from "./structs.js";

const PTRS = 512;
const PS = 1n << 7n;
const PFN_MASK = 0x000f_ffff_ffff_f000n;
const PAGE_MAPPING_ANON = 1;
/** Levels below the PML4: bytes one entry of a table at that level maps. */
const SHIFT = { pml4: 39n, pdpt: 30n, pd: 21n, pt: 12n };

export interface MmCheckResult {
  /** One line per broken invariant (empty when everything holds). */
  violations: string[];
  /** What was examined, for reports and for tests that want to see the checker did look. */
  mms: number;
  vmas: number;
  pageTables: number;
  mappedPtes: number;
}

const hex = (v: bigint | number) => `0x${v.toString(16)}`;

/**
 * checkMmInvariants - check the MM's invariants over the whole machine. The CPUs must be quiescent
 * (no operation in flight): the checker takes no lock. Returns the violations, never throws for a
 * broken invariant.
 */
export function checkMmInvariants(x: CoreExports, layout: MachineLayout, maxViolations = 50): MmCheckResult {
  const m = new MmView(x, layout);
  const o = m.off;
  const out: string[] = [];
  const bad = (s: string) => { if (out.length < maxViolations) out.push(s); };
  const mapped = new Map<number, number>(); // pfn -> PTEs that map it
  let nvmas = 0, ntables = 0, nptes = 0, ptlocks = 0;
  const mms = m.mms();
  const P = 1n;
  const PRESENT = P | BigInt(o.protnone);
  const split = (m.mmConfig() & o.mmc.splitPtl) !== 0;

  for (const mm of mms) {
    const who = `mm ${m.u32(mm + o.mm.id)} (${hex(mm)})`;
    let vmas: VmaView[];
    try {
      vmas = m.vmas(mm);
    } catch (e) {
      bad(`${who}: ${(e as Error).message}`);
      continue;
    }
    nvmas += vmas.length;
    checkVmaSet(m, mm, vmas, who, bad);
    for (const v of vmas) {
      if (v.anonVma !== 0 && !m.anonVmaVmas(v.anonVma).includes(v.addr))
        bad(`${who}: vma ${hex(v.start)}-${hex(v.end)} is not on the list of its anon_vma ${hex(v.anonVma)}`);
    }
    for (const n of m.notifiers(mm)) {
      const depth = m.i32(n + o.mn.depth);
      if (depth !== 0) bad(`${who}: mmu notifier ${hex(n)} unbalanced: ${depth} invalidate_range_start without an end`);
      if ((m.u32(n + o.mn.flags) & o.mn.unbalanced) !== 0) bad(`${who}: mmu notifier ${hex(n)} saw an invalidate_range_end without a start`);
    }

    // Page tables of the user half (PML4 entries 0..255).
    const pgd = m.u32(mm + o.mm.pgd);
    if (pgd === 0) { bad(`${who}: no pgd`); continue; }
    let anon = 0, file = 0, tables = 0;
    const covers = (lo: bigint, hi: bigint) => vmas.some((v) => v.start < hi && v.end > lo);
    const vmaAt = (va: bigint) => vmas.find((v) => v.start <= va && va < v.end);
    const table = (pfn: number, lo: bigint, span: bigint, level: string) => {
      tables++;
      if ((m.pageFlags(pfn) & o.pg.pgtable) === 0) bad(`${who}: ${level} page pfn ${pfn} at ${hex(lo)} is not PG_pgtable`);
      if (!covers(lo, lo + span)) bad(`${who}: ${level} page pfn ${pfn} covers ${hex(lo)}..${hex(lo + span)}, where no vma is (free_pgtables missed it)`);
    };
    for (let i4 = 0; i4 < PTRS / 2; i4++) {
      const e4 = m.entry(pgd, i4);
      if ((e4 & P) === 0n) continue;
      const va4 = BigInt(i4) << SHIFT.pml4;
      const pdpt = Number((e4 & PFN_MASK) >> 12n);
      table(pdpt, va4, 1n << SHIFT.pml4, "PDPT");
      for (let i3 = 0; i3 < PTRS; i3++) {
        const e3 = m.entry(pdpt, i3);
        if ((e3 & P) === 0n) continue;
        const va3 = va4 | (BigInt(i3) << SHIFT.pdpt);
        if ((e3 & PS) !== 0n) { bad(`${who}: 1 GiB leaf at ${hex(va3)} (the MM core maps 4 KiB pages only)`); continue; }
        const pd = Number((e3 & PFN_MASK) >> 12n);
        table(pd, va3, 1n << SHIFT.pdpt, "PD");
        for (let i2 = 0; i2 < PTRS; i2++) {
          const e2 = m.entry(pd, i2);
          if ((e2 & P) === 0n) continue;
          const va2 = va3 | (BigInt(i2) << SHIFT.pd);
          if ((e2 & PS) !== 0n) { bad(`${who}: 2 MiB leaf at ${hex(va2)} (the MM core maps 4 KiB pages only)`); continue; }
          const pt = Number((e2 & PFN_MASK) >> 12n);
          table(pt, va2, 1n << SHIFT.pd, "PT");
          const ptl = m.u32(m.page(pt) + o.pagePrivate);
          if (ptl !== 0) {
            ptlocks++;
            if (!split) bad(`${who}: PTE page pfn ${pt} at ${hex(va2)} has a lock of its own (${hex(ptl)}) without split PTE locks`);
            else if (m.u32(ptl + o.lockClass.offset) % 256 !== o.lockClass.pte) bad(`${who}: PTE page pfn ${pt}'s lock ${hex(ptl)} is not of class pte_lock`);
          } else if (split) {
            bad(`${who}: PTE page pfn ${pt} at ${hex(va2)} has no pte_lock of its own with split PTE locks`);
          }
          for (let i1 = 0; i1 < PTRS; i1++) {
            const pte = m.entry(pt, i1);
            if ((pte & PRESENT) === 0n) continue; // none, or a swap/migration entry (no mapcount of its own)
            const va = va2 | (BigInt(i1) << SHIFT.pt);
            const pfn = Number((pte & PFN_MASK) >> 12n);
            nptes++;
            mapped.set(pfn, (mapped.get(pfn) ?? 0) + 1);
            const vma = vmaAt(va);
            if (!vma) { bad(`${who}: PTE at ${hex(va)} maps pfn ${pfn} outside every vma`); continue; }
            if (checkMappedPage(m, vma, va, pfn, who, bad)) anon++; else file++;
          }
        }
      }
    }
    const rss = (i: number) => m.i32(mm + o.mm.rss + 4 * i);
    if (rss(o.rss.anon) !== anon) bad(`${who}: rss MM_ANONPAGES ${rss(o.rss.anon)}, page tables map ${anon} anonymous pages`);
    if (rss(o.rss.file) !== file) bad(`${who}: rss MM_FILEPAGES ${rss(o.rss.file)}, page tables map ${file} file pages`);
    // The PML4 itself is not counted in MM_PGTABLES (Linux's nr_ptes counts PTE pages; the model counts
    // every level below the PGD, see memory.ts).
    if (rss(o.rss.pgtables) !== tables) bad(`${who}: MM_PGTABLES ${rss(o.rss.pgtables)}, page tables hold ${tables} table pages below the PML4`);
    ntables += tables;
  }

  // Split PTE locks: the live KMEM_PTLOCK objects are exactly the PTE pages' locks (none leaked).
  const liveLocks = x.kmem_cache_nr_objs(o.kmem.ptlock) - x.kmem_cache_nr_free(o.kmem.ptlock);
  if (liveLocks !== ptlocks) bad(`split PTE locks: ${liveLocks} live in KMEM_PTLOCK, ${ptlocks} held by PTE pages`);

  // Every frame: mapcount equals the PTEs counted; free frames clean.
  for (let pfn = 1; pfn < layout.nrFrames; pfn++) {
    const flags = m.pageFlags(pfn);
    const mc = m.pageMapcount(pfn);
    const want = mapped.get(pfn) ?? 0;
    if ((flags & o.pg.buddy) !== 0) {
      if (want !== 0) bad(`pfn ${pfn}: free (PG_buddy) yet mapped by ${want} PTEs`);
      if (m.pageRefcount(pfn) !== 0 || mc !== 0 || m.pageMapping(pfn) !== 0)
        bad(`pfn ${pfn}: free but not clean (refcount ${m.pageRefcount(pfn)}, mapcount ${mc}, mapping ${hex(m.pageMapping(pfn))})`);
      continue;
    }
    if (mc !== want) bad(`pfn ${pfn}: mapcount ${mc}, mapped by ${want} PTEs`);
    if (want > 0 && m.pageRefcount(pfn) < want) bad(`pfn ${pfn}: refcount ${m.pageRefcount(pfn)} below its ${want} mappings`);
  }
  return { violations: out, mms: mms.length, vmas: nvmas, pageTables: ntables, mappedPtes: nptes };
}

// The vma set of one mm: sorted, disjoint, aligned, owned, counted, and the tree agrees with the list.
function checkVmaSet(m: MmView, mm: number, vmas: VmaView[], who: string, bad: (s: string) => void): void {
  const o = m.off;
  let prevEnd = 0n;
  let prev = 0;
  for (const v of vmas) {
    const at = `${who}: vma ${hex(v.start)}-${hex(v.end)}`;
    if (v.start >= v.end || (v.start & 0xfffn) !== 0n || (v.end & 0xfffn) !== 0n) bad(`${at}: empty or unaligned`);
    if (v.start < prevEnd) bad(`${at}: overlaps or is out of order after one ending at ${hex(prevEnd)}`);
    if (m.u32(v.addr + o.vma.mm) !== mm) bad(`${at}: vm_mm is ${hex(m.u32(v.addr + o.vma.mm))}`);
    if (m.u32(v.addr + o.vma.prev) !== prev) bad(`${at}: vm_prev is ${hex(m.u32(v.addr + o.vma.prev))}, the list says ${hex(prev)}`);
    prevEnd = v.end;
    prev = v.addr;
  }
  const count = m.u32(mm + o.mm.mapCount);
  if (count !== vmas.length) bad(`${who}: map_count ${count}, the list holds ${vmas.length} vmas`);
  const inorder = m.rbInorder(m.u32(mm + o.mm.rb), o.vma.rb);
  if (inorder.length !== vmas.length || inorder.some((a, i) => a !== vmas[i]?.addr))
    bad(`${who}: the vma tree in order (${inorder.length} vmas) is not the vm_next list (${vmas.length})`);
}

// One present PTE at va in vma mapping pfn: the page's rmap must lead back to vma. Returns true for an
// anonymous page, false for a file page.
function checkMappedPage(m: MmView, vma: VmaView, va: bigint, pfn: number, who: string, bad: (s: string) => void): boolean {
  const mapping = m.pageMapping(pfn);
  const index = m.pageIndex(pfn);
  const at = `${who}: pfn ${pfn} at ${hex(va)}`;
  if ((mapping & PAGE_MAPPING_ANON) !== 0) {
    const av = mapping & ~PAGE_MAPPING_ANON;
    if ((m.pageFlags(pfn) & m.off.pg.anon) === 0) bad(`${at}: anon mapping without PG_anon`);
    if (!m.anonVmaVmas(av).includes(vma.addr)) bad(`${at}: vma ${hex(vma.start)} is not on the chain of the page's anon_vma ${hex(av)}`);
    if (index !== m.linearPageIndex(vma, va)) bad(`${at}: page->index ${index}, linear_page_index ${m.linearPageIndex(vma, va)}`);
    return true;
  }
  if (mapping === 0) { bad(`${at}: mapped page without a mapping`); return false; }
  if (vma.file !== mapping) bad(`${at}: file page of mapping ${hex(mapping)} in a vma of ${hex(vma.file)}`);
  else if (!m.iMmapVmas(mapping).includes(vma.addr)) bad(`${at}: vma ${hex(vma.start)} is not in its file's i_mmap tree`);
  if (index !== m.linearPageIndex(vma, va)) bad(`${at}: page->index ${index}, linear_page_index ${m.linearPageIndex(vma, va)}`);
  return false;
}
