// mm/memory.ts, memory_copy.ts, memory_unmap.ts, mprotect.ts: demand-zero and COW faults, fork's
// copy_page_range, zap and exit with free_pgtables, split PTE locks; seed 002 and seed 004 regressions.
import { describe, it, expect } from "vitest";
import type { Mmu } from "../../src/index.js";
import { machine, newMm, c, u32, u64, rss, page, tlbStat, VA, PROT_RW, VM_PRIVATE_RW, VM_READ, VM_MAYREAD } from "./mm_helpers.js";

const PAGE = 4096n;
const ANON = 1, PGTABLES = 3;

function vma(mmu: Mmu, mm: number, start: bigint, npages: number, flags = VM_PRIVATE_RW, prot = PROT_RW): number {
  const v = mmu.exports.cpu_pt_vma_create(0, mm, start, start + BigInt(npages) * PAGE, flags, prot, 0) >>> 0;
  expect(v).not.toBe(0);
  return v;
}

function access(mmu: Mmu, cpu: number, mm: number, addr: bigint, write: boolean): bigint {
  return mmu.exports.cpu_test_user_access(cpu, mm, addr, write ? 1 : 0);
}

function pteOf(mmu: Mmu, mm: number, addr: bigint): bigint {
  return mmu.exports.mm_test_pte(mm, addr);
}
const pfnOf = (pte: bigint) => Number((pte & 0x000f_ffff_ffff_f000n) >> 12n);
const RW = 2n;

/** A parent with n anonymous pages written with a pattern, and a forked child sharing them. */
function forked(n: number) {
  const mmu = machine();
  const parent = newMm(mmu, 1);
  const pvma = vma(mmu, parent, VA, n);
  mmu.exports.cpu_switch_mm(0, parent);
  const pfns: number[] = [];
  for (let i = 0; i < n; i++) {
    const pa = access(mmu, 0, parent, VA + BigInt(i) * PAGE, true);
    expect(pa).toBeGreaterThan(0n);
    const pfn = Number(pa >> 12n);
    mmu.frameBytes(pfn).fill(0x40 + i);
    pfns.push(pfn);
  }
  const child = newMm(mmu, 2);
  const cvma = vma(mmu, child, VA, n);
  expect(mmu.exports.cpu_anon_vma_fork(0, cvma, pvma)).toBe(0);
  return { mmu, parent, pvma, child, cvma, pfns };
}

describe("do_anonymous_page", () => {
  it("maps a zeroed page on first touch, counted in RSS and the anon rmap", () => {
    const mmu = machine();
    const mm = newMm(mmu, 1);
    const v = vma(mmu, mm, VA, 4);
    mmu.exports.cpu_switch_mm(0, mm);
    const free0 = mmu.freeFrames();
    const pa = access(mmu, 0, mm, VA + 0x123n, false);
    expect(pa).toBeGreaterThan(0n);
    const pfn = Number(pa >> 12n);
    expect(mmu.frameBytes(pfn).every((b) => b === 0)).toBe(true);
    expect(page(mmu, pfn)).toMatchObject({ refcount: 1, mapcount: 1 });
    expect(page(mmu, pfn).mapping & 1).toBe(1); // PAGE_MAPPING_ANON
    expect(rss(mmu, mm, ANON)).toBe(1);
    expect(rss(mmu, mm, PGTABLES)).toBe(3); // PUD, PMD, PTE pages
    expect(free0 - mmu.freeFrames()).toBe(4);
    // A writable vma's anonymous page is writable at once: the write hits without a second fault.
    expect(access(mmu, 0, mm, VA + 0x123n, true)).toBe(pa);
    expect(u32(mmu, v + 60)).not.toBe(0); // vma->anon_vma set by anon_vma_prepare
  });

  it("gives VM_FAULT_SIGSEGV outside any vma and for an access the vma refuses", () => {
    const mmu = machine();
    const mm = newMm(mmu, 1);
    const ro = vma(mmu, mm, VA, 1, VM_READ | VM_MAYREAD);
    mmu.exports.cpu_switch_mm(0, mm);
    const SEGV = BigInt(c(mmu, "VM_FAULT_SIGSEGV"));
    expect(access(mmu, 0, mm, VA + 16n * PAGE, false)).toBe(-SEGV);
    expect(access(mmu, 0, mm, VA, true)).toBe(-SEGV);
    expect(access(mmu, 0, mm, VA, false)).toBeGreaterThan(0n);
    expect(mmu.exports.cpu_handle_mm_fault(0, mm, ro, VA + PAGE, 0)).toBe(Number(SEGV));
    expect(mmu.exports.cpu_handle_mm_fault(0, mm, 0, VA, 0)).toBe(Number(SEGV));
  });

  it("returns VM_FAULT_OOM when the page or a page table cannot be allocated, leaving nothing behind", () => {
    const mmu = machine();
    const mm = newMm(mmu, 1);
    vma(mmu, mm, VA, 1);
    mmu.exports.cpu_switch_mm(0, mm);
    const OOM = BigInt(c(mmu, "VM_FAULT_OOM"));
    const free0 = mmu.freeFrames();
    // 1st allocation (the PUD page) fails: nothing allocated stays behind.
    mmu.exports.cpu_fail_page_alloc(0, 1);
    expect(access(mmu, 0, mm, VA, true)).toBe(-OOM);
    expect(mmu.freeFrames()).toBe(free0);
    // Then the PMD page: the PUD page stays (populated), the fault fails again.
    mmu.exports.cpu_fail_page_alloc(0, 2);
    expect(access(mmu, 0, mm, VA, true)).toBe(-OOM);
    expect(rss(mmu, mm, PGTABLES)).toBe(1);
    // Then the PTE page, then the data page itself.
    mmu.exports.cpu_fail_page_alloc(0, 2);
    expect(access(mmu, 0, mm, VA, true)).toBe(-OOM);
    expect(rss(mmu, mm, PGTABLES)).toBe(2);
    mmu.exports.cpu_fail_page_alloc(0, 2);
    expect(access(mmu, 0, mm, VA, true)).toBe(-OOM);
    expect(rss(mmu, mm, PGTABLES)).toBe(3);
    expect(rss(mmu, mm, ANON)).toBe(0);
    mmu.exports.cpu_fail_page_alloc(0, 0);
    expect(access(mmu, 0, mm, VA, true)).toBeGreaterThan(0n);
    expect(rss(mmu, mm, ANON)).toBe(1);
  });
});

describe("copy_page_range and COW", () => {
  it("write-protects private writable PTEs in parent and child and shares the frames (refcount, mapcount)", () => {
    const { mmu, parent, pvma, child, pfns } = forked(3);
    expect(mmu.exports.cpu_copy_page_range(0, child, parent, pvma)).toBe(0);
    for (let i = 0; i < 3; i++) {
      const a = VA + BigInt(i) * PAGE;
      const pp = pteOf(mmu, parent, a), cp = pteOf(mmu, child, a);
      expect(pfnOf(pp)).toBe(pfns[i]);
      expect(pfnOf(cp)).toBe(pfns[i]);
      expect(pp & RW).toBe(0n);
      expect(cp & RW).toBe(0n);
      expect(page(mmu, pfns[i]!)).toMatchObject({ refcount: 2, mapcount: 2 });
    }
    expect(rss(mmu, child, ANON)).toBe(3);
    // The parent's TLB lost its writable entries (one COW flush for the vma).
    expect(tlbStat(mmu, 0, "COW", "FLUSHES")).toBe(1);
  });

  it("a write after fork gives the writer a distinct frame with the copied contents; the last sharer reuses its frame", () => {
    const { mmu, parent, pvma, child, pfns } = forked(2);
    expect(mmu.exports.cpu_copy_page_range(0, child, parent, pvma)).toBe(0);
    mmu.exports.cpu_switch_mm(1, child);
    const pa = access(mmu, 1, child, VA, true);
    const cpfn = Number(pa >> 12n);
    expect(cpfn).not.toBe(pfns[0]);
    expect(mmu.frameBytes(cpfn).every((b) => b === 0x40)).toBe(true);
    mmu.frameBytes(cpfn).fill(0x99);
    expect(mmu.frameBytes(pfns[0]!).every((b) => b === 0x40)).toBe(true); // the parent's copy is untouched
    expect(page(mmu, pfns[0]!)).toMatchObject({ refcount: 1, mapcount: 1 });
    expect(page(mmu, cpfn)).toMatchObject({ refcount: 1, mapcount: 1 });
    expect(tlbStat(mmu, 1, "COW", "FLUSHES")).toBe(1); // ptep_clear_flush of the child's old PTE
    // The parent is now the only mapper of its frame: the write fault reuses it in place.
    const ppa = access(mmu, 0, parent, VA, true);
    expect(Number(ppa >> 12n)).toBe(pfns[0]);
    expect(pteOf(mmu, parent, VA) & RW).toBe(RW);
    // Page 1 is still shared until someone writes it.
    expect(page(mmu, pfns[1]!)).toMatchObject({ refcount: 2, mapcount: 2 });
  });

  it("seed 002: copy_page_range returning -ENOMEM keeps the mmu notifier start/end pair balanced", () => {
    const { mmu, parent, pvma, pfns } = forked(2);
    const notifier = mmu.exports.cpu_mmu_notifier_register(0, parent) >>> 0;
    expect(notifier).not.toBe(0);
    let failures = 0;
    // Fail the child's 1st, 2nd, 3rd page-table allocation: PUD, PMD, PTE page.
    for (let n = 1; n <= 4; n++) {
      const child = newMm(mmu, 10 + n);
      const cvma = vma(mmu, child, VA, 2);
      expect(mmu.exports.cpu_anon_vma_fork(0, cvma, pvma)).toBe(0);
      mmu.exports.cpu_fail_page_alloc(0, n);
      const r = mmu.exports.cpu_copy_page_range(0, child, parent, pvma);
      mmu.exports.cpu_fail_page_alloc(0, 0);
      if (n <= 3) { expect(r).toBe(-12); failures++; } else expect(r).toBe(0);
      expect(mmu.exports.mm_mmu_notifier_check(parent)).toBe(0);
      expect(u32(mmu, notifier + c(mmu, "MN_NR_START"))).toBe(n);
      expect(u32(mmu, notifier + c(mmu, "MN_NR_END"))).toBe(n);
      // The child's partial copy goes with its exit; the parent's pages keep exactly their mapping.
      mmu.exports.cpu_test_exit_mmap(0, child);
      expect(rss(mmu, child, PGTABLES)).toBe(0);
      for (const pfn of pfns) expect(page(mmu, pfn)).toMatchObject({ refcount: 1, mapcount: 1 });
    }
    expect(failures).toBe(3);
  });
});

describe("zap and exit", () => {
  it("zap_page_range leaves mapcounts, refcounts and RSS right and the frames free", () => {
    const mmu = machine();
    const mm = newMm(mmu, 1);
    const v = vma(mmu, mm, VA, 8);
    mmu.exports.cpu_switch_mm(0, mm);
    const free0 = mmu.freeFrames();
    const pfns = [];
    for (let i = 0; i < 8; i++) pfns.push(Number(access(mmu, 0, mm, VA + BigInt(i) * PAGE, true) >> 12n));
    mmu.exports.cpu_zap_page_range(0, v, VA + 2n * PAGE, 4n * PAGE);
    expect(rss(mmu, mm, ANON)).toBe(4);
    for (let i = 0; i < 8; i++) {
      const zapped = i >= 2 && i < 6;
      expect(pteOf(mmu, mm, VA + BigInt(i) * PAGE) === 0n).toBe(zapped);
      expect(page(mmu, pfns[i]!)).toMatchObject(zapped ? { refcount: 0, mapcount: 0 } : { refcount: 1, mapcount: 1 });
    }
    expect(free0 - mmu.freeFrames()).toBe(3 + 4); // page tables stay with zap_page_range
    expect(mmu.translate(0, VA + 3n * PAGE, { user: true }).ok).toBe(false); // flushed from the TLB
    expect(tlbStat(mmu, 0, "MUNMAP", "PAGES")).toBe(4);
  });

  it("seed 004: exit unlinks every vma from its anon_vma before free_pgtables frees its page tables; nothing leaks", () => {
    const { mmu, parent, pvma, child, cvma } = forked(3);
    expect(mmu.exports.cpu_copy_page_range(0, child, parent, pvma)).toBe(0);
    const freeBefore = mmu.freeFrames();
    const childTables = rss(mmu, child, PGTABLES);
    mmu.exports.cpu_test_exit_mmap(0, child); // VM_BUG_ON (debug build) if a vma were still linked
    expect(u32(mmu, cvma + 64)).toBe(0);      // vma->anon_vma_chain emptied by unlink_anon_vmas
    expect(rss(mmu, child, PGTABLES)).toBe(0);
    expect(rss(mmu, child, ANON)).toBe(0);
    expect(mmu.freeFrames() - freeBefore).toBe(childTables); // only the tables: the pages stay the parent's
    mmu.exports.cpu_test_exit_mmap(0, parent);
    expect(rss(mmu, parent, ANON)).toBe(0);
    expect(rss(mmu, parent, PGTABLES)).toBe(0);
    // every data frame and page-table page is back: 3 pages + 3 tables of the parent
    expect(mmu.freeFrames() - freeBefore).toBe(childTables + 6);
    // a fullmm gather: one full flush for the exit (lockdep saw anon_vma never taken inside a page-table lock)
    expect(tlbStat(mmu, 0, "EXIT", "FULL")).toBeGreaterThanOrEqual(1);
    expect(mmu.exports.cpu_lockdep_depth(0)).toBe(0);
  });
});

describe("split PTE locks", () => {
  it("gives each PTE page its own pte_lock when MMC_SPLIT_PTL is set, and frees it with the page", () => {
    const mmu = machine();
    expect(mmu.exports.mm_config_write(mmu.exports.mm_config_get() | c(mmu, "MMC_SPLIT_PTL"))).toBe(0);
    const mm = newMm(mmu, 1);
    vma(mmu, mm, VA, 1);
    vma(mmu, mm, VA + (1n << 21n), 1); // the next PMD: a second PTE page
    mmu.exports.cpu_switch_mm(0, mm);
    const live = () => mmu.exports.kmem_cache_nr_objs(6) - mmu.exports.kmem_cache_nr_free(6); // KMEM_PTLOCK
    expect(live()).toBe(0);
    expect(access(mmu, 0, mm, VA, true)).toBeGreaterThan(0n);
    expect(access(mmu, 0, mm, VA + (1n << 21n), true)).toBeGreaterThan(0n);
    const l1 = mmu.exports.mm_test_pte_lock(mm, VA) >>> 0, l2 = mmu.exports.mm_test_pte_lock(mm, VA + (1n << 21n)) >>> 0;
    expect(l1).not.toBe(mm + 64); // not mm->page_table_lock
    expect(l2).not.toBe(l1);
    expect(new DataView(mmu.memory.buffer).getUint8(l1 + 20)).toBe(c(mmu, "LOCK_CLASS_PTE_LOCK"));
    expect(live()).toBe(2);
    mmu.exports.cpu_test_exit_mmap(0, mm);
    expect(live()).toBe(0);
  });

  it("uses mm->page_table_lock without the switch", () => {
    const mmu = machine();
    const mm = newMm(mmu, 1);
    vma(mmu, mm, VA, 1);
    mmu.exports.cpu_switch_mm(0, mm);
    access(mmu, 0, mm, VA, true);
    expect(mmu.exports.mm_test_pte_lock(mm, VA) >>> 0).toBe(mm + 64);
  });
});

describe("change_protection", () => {
  it("write-protects present PTEs, flushes them (cause mprotect), and a later write reuses the page", () => {
    const mmu = machine();
    const mm = newMm(mmu, 1);
    const v = vma(mmu, mm, VA, 4);
    mmu.exports.cpu_switch_mm(0, mm);
    const pa = access(mmu, 0, mm, VA, true);
    access(mmu, 0, mm, VA + PAGE, true);
    expect(mmu.exports.cpu_change_protection(0, v, VA, VA + 4n * PAGE, PROT_RW, 0)).toBe(2n);
    expect(pteOf(mmu, mm, VA) & RW).toBe(0n);
    expect(pteOf(mmu, mm, VA) & 0x40n).toBe(0x40n); // D kept
    expect(tlbStat(mmu, 0, "MPROTECT", "FLUSHES")).toBe(1);
    expect(mmu.translate(0, VA, { user: true, write: true }).ok).toBe(false);
    expect(access(mmu, 0, mm, VA, true)).toBe(pa); // do_wp_page: mapcount 1, reused
    expect(mmu.exports.cpu_change_protection(0, v, VA, VA, PROT_RW, 0)).toBe(-22n);
  });
});

void u64;

describe("file faults (filemap_fault)", () => {
  function fileVma(mmu: Mmu, mm: number, flags: number, prot: bigint) {
    const mapping = mmu.exports.cpu_address_space_create(0, 8) >>> 0;
    expect(mapping).not.toBe(0);
    const v = vma(mmu, mm, VA, 8, flags, prot);
    new DataView(mmu.memory.buffer).setUint32(v + 56, mapping, true); // vm_file
    new DataView(mmu.memory.buffer).setUint32(v + 44, 0, true);       // vm_pgoff 0
    return { v, mapping };
  }
  const FILE = 0;

  it("maps the page-cache page on a read fault; a private write copies it into an anonymous page", () => {
    const mmu = machine();
    const mm = newMm(mmu, 1);
    const { mapping } = fileVma(mmu, mm, VM_PRIVATE_RW, PROT_RW);
    mmu.exports.cpu_switch_mm(0, mm);
    const pa = access(mmu, 0, mm, VA + 2n * PAGE, false);
    expect(pa).toBeGreaterThan(0n);
    const fpfn = Number(pa >> 12n);
    expect(mmu.exports.cpu_find_get_page(0, mapping, 2)).toBe(fpfn); // (takes a reference)
    mmu.exports.cpu_put_page(0, fpfn);
    expect(page(mmu, fpfn)).toMatchObject({ mapcount: 1, refcount: 2, mapping });
    expect(rss(mmu, mm, FILE)).toBe(1);
    const ino = u32(mmu, mapping + 88);
    const words = new Uint32Array(mmu.memory.buffer, mmu.layout.framesBase + fpfn * 4096, 4);
    expect(words[1]).toBe(mmu.exports.rmap_filemap_pattern(ino, 2, 1) >>> 0);
    // Write: COW from the page cache (do_wp_page -> wp_page_copy).
    const wpa = access(mmu, 0, mm, VA + 2n * PAGE, true);
    const apfn = Number(wpa >> 12n);
    expect(apfn).not.toBe(fpfn);
    expect(new Uint32Array(mmu.memory.buffer, mmu.layout.framesBase + apfn * 4096, 4)[1]).toBe(words[1]);
    expect(page(mmu, fpfn)).toMatchObject({ mapcount: 0, refcount: 1 });
    expect(rss(mmu, mm, FILE)).toBe(0);
    expect(rss(mmu, mm, ANON)).toBe(1);
    // A write to a page not yet mapped copies at once (do_cow_fault).
    const cpa = access(mmu, 0, mm, VA + 3n * PAGE, true);
    expect(page(mmu, Number(cpa >> 12n)).mapping & 1).toBe(1);
    expect(rss(mmu, mm, ANON)).toBe(2);
    mmu.exports.cpu_test_exit_mmap(0, mm);
    expect(page(mmu, fpfn)).toMatchObject({ mapcount: 0, refcount: 1 }); // the page cache keeps it
  });

  it("maps a shared file page writable and dirty on a write fault", () => {
    const mmu = machine();
    const mm = newMm(mmu, 1);
    fileVma(mmu, mm, VM_PRIVATE_RW | 0x8 | 0x80 /* VM_SHARED | VM_MAYSHARE */, PROT_RW | 2n);
    mmu.exports.cpu_switch_mm(0, mm);
    const pa = access(mmu, 0, mm, VA, true);
    const pfn = Number(pa >> 12n);
    expect(page(mmu, pfn).mapping & 1).toBe(0);
    expect(page(mmu, pfn).flags & c(mmu, "PG_dirty")).toBe(c(mmu, "PG_dirty"));
    expect(rss(mmu, mm, FILE)).toBe(1);
    expect(pteOf(mmu, mm, VA) & RW).toBe(RW);
  });
});

describe("concurrent faults on workers", () => {
  for (const split of [false, true]) {
    it(`two CPUs faulting the same pages and page tables end with one frame per page${split ? " (split PTE locks)" : ""}`, async () => {
      const { Machine } = await import("../../src/index.js");
      const m = await Machine.create({ cpus: 2, memory: "16MiB", debug: true, callTimeoutMs: 60_000, mm: { splitPtlock: split } });
      try {
        const mmu = m.mmu;
        const mm = Number(await m.call(0, "cpu_pt_mm_create", 9)) >>> 0;
        const n = 96; // spans two PTE pages
        const start = VA + (1n << 21n) - 48n * PAGE;
        expect(Number(await m.call(0, "cpu_pt_vma_create", mm, start, start + BigInt(n) * PAGE, VM_PRIVATE_RW, PROT_RW, 0))).not.toBe(0);
        for (const cpu of [0, 1]) expect(await m.call(cpu, "cpu_switch_mm", mm)).toBe(0);
        const free0 = mmu.freeFrames();
        const bad = await m.run([
          { cpu: 0, fn: "cpu_test_fault_range", args: [mm, start, n, 0] },
          { cpu: 1, fn: "cpu_test_fault_range", args: [mm, start, n, 5] },
        ]);
        expect(bad).toEqual([0, 0]);
        const pfns = new Set<number>();
        for (let i = 0n; i < BigInt(n); i++) {
          const pte = pteOf(mmu, mm, start + i * PAGE);
          const pfn = pfnOf(pte);
          expect(pfns.has(pfn)).toBe(false);
          pfns.add(pfn);
          expect(page(mmu, pfn)).toMatchObject({ refcount: 1, mapcount: 1 });
        }
        expect(rss(mmu, mm, ANON)).toBe(n);
        expect(rss(mmu, mm, PGTABLES)).toBe(4); // PUD, PMD, two PTE pages: the losers freed theirs
        expect(free0 - mmu.freeFrames()).toBe(n + 4);
        await m.call(0, "cpu_test_exit_mmap", mm);
        expect(mmu.freeFrames()).toBe(free0);
      } finally {
        await m.destroy();
      }
    });
  }
});
