// Emulated files and the page cache (mm/filemap.ts), the file side of the rmap walks (i_mmap
// interval tree: page_mkclean, try_to_unmap, page_referenced) and the page lock.
import { describe, it, expect } from "vitest";
import { RmapWorld, BASE, PAGE } from "./rmap_helpers.js";

const D_BIT = 1n << 6n, RW_BIT = 1n << 1n;

function file(w: RmapWorld, pages: number): number {
  const m = Number(w.mmu.call("cpu_address_space_create", 0, pages));
  expect(m).not.toBe(0);
  return m;
}

/** A shared writable mapping of file page `index` in two mms (CPU 0 runs the first, CPU 1 the second). */
function shared(opts: Parameters<typeof RmapWorld.create>[0] = {}, index = 2) {
  const w = RmapWorld.create(opts);
  const f = file(w, 8);
  const flags = w.c("VM_READ") | w.c("VM_WRITE") | w.c("VM_SHARED") | w.c("VM_MAYSHARE");
  const mms = [w.mm(1), w.mm(2)];
  const vmas = mms.map((mm) => {
    const v = w.vma(mm, BASE, 8, flags, f, 0);
    expect(w.mmu.call("cpu_test_vma_link_file", 0, v)).toBe(0);
    return v;
  });
  const pfn = Number(w.mmu.call("cpu_filemap_fault", 0, vmas[0]!, index));
  expect(pfn).toBeGreaterThan(0);
  expect(w.mmu.call("cpu_test_map_file_page", 0, vmas[0]!, BASE + BigInt(index) * PAGE, pfn)).toBe(0);
  expect(w.mmu.call("cpu_filemap_fault", 0, vmas[1]!, index)).toBe(pfn); // a page-cache hit, another reference
  expect(w.mmu.call("cpu_test_map_file_page", 0, vmas[1]!, BASE + BigInt(index) * PAGE, pfn)).toBe(0);
  w.load(0, mms[0]!);
  w.load(1, mms[1]!);
  return { w, f, mms, vmas, pfn, va: BASE + BigInt(index) * PAGE };
}

describe("address_space and the page cache", () => {
  it("creates files of 1..PAGE_CACHE_SLOTS pages and refuses other sizes", () => {
    const w = RmapWorld.create();
    expect(w.mmu.call("cpu_address_space_create", 0, 0)).toBe(0);
    expect(w.mmu.call("cpu_address_space_create", 0, w.c("PAGE_CACHE_SLOTS") + 1)).toBe(0);
    const a = file(w, 1), b = file(w, w.c("PAGE_CACHE_SLOTS"));
    expect(a).not.toBe(b);
  });

  it("filemap_fault fills a missing page with the file's pattern, caches it, and hits it next time", () => {
    const w = RmapWorld.create();
    const f = file(w, 4);
    const mm = w.mm();
    const v = w.vma(mm, BASE, 4, w.c("VM_READ"), f, 0);
    expect(w.mmu.call("cpu_find_get_page", 0, f, 1)).toBe(-2);
    const pfn = Number(w.mmu.call("cpu_filemap_fault", 0, v, 1));
    expect(pfn).toBeGreaterThan(0);
    expect(w.mapping(pfn)).toBe(f);
    expect(w.index(pfn)).toBe(1);
    expect(w.refs(pfn)).toBe(2); // the cache's and the caller's
    const ino = w.u32(f + w.c("AS_INO"));
    const bytes = new DataView(w.mmu.frameBytes(pfn).buffer, w.mmu.frameBytes(pfn).byteOffset, 4096);
    for (const i of [0, 1, 511, 1023]) expect(bytes.getUint32(i * 4, true)).toBe(Number(w.mmu.call("rmap_filemap_pattern", ino, 1, i)) >>> 0);
    expect(w.mmu.call("cpu_find_get_page", 0, f, 1)).toBe(pfn);
    expect(w.refs(pfn)).toBe(3);
    expect(w.mmu.call("cpu_filemap_fault", 0, v, 4)).toBe(-14); // past EOF: SIGBUS
    // Another file's page 1 has other contents.
    const g = file(w, 4);
    const v2 = w.vma(mm, BASE + 64n * PAGE, 4, w.c("VM_READ"), g, 0);
    const pfn2 = Number(w.mmu.call("cpu_filemap_fault", 0, v2, 1));
    expect(Buffer.compare(Buffer.from(w.mmu.frameBytes(pfn2)), Buffer.from(w.mmu.frameBytes(pfn)))).not.toBe(0);
  });

  it("delete_from_page_cache drops the cache's reference and the mapping", () => {
    const w = RmapWorld.create();
    const f = file(w, 2);
    const pfn = Number(w.mmu.call("cpu_alloc_page", 0, 0));
    expect(w.mmu.call("cpu_add_to_page_cache", 0, pfn, f, 0)).toBe(0);
    expect(w.mmu.call("cpu_add_to_page_cache", 0, pfn, f, 0)).toBe(-17);
    expect(w.refs(pfn)).toBe(2);
    expect(w.mmu.call("cpu_delete_from_page_cache", 0, pfn)).toBe(0);
    expect(w.mapping(pfn)).toBe(0);
    expect(w.mmu.call("cpu_find_get_page", 0, f, 0)).toBe(-2);
    expect(w.mmu.call("cpu_put_page", 0, pfn)).toBe(1);
  });

  it("the page lock: trylock fails while held, succeeds after unlock_page", () => {
    const w = RmapWorld.create();
    const pfn = Number(w.mmu.call("cpu_alloc_page", 0, 0));
    expect(w.mmu.call("cpu_trylock_page", 0, pfn)).toBe(1);
    expect(w.mmu.call("cpu_trylock_page", 1, pfn)).toBe(0);
    expect(w.mmu.call("cpu_unlock_page", 0, pfn)).toBe(0);
    expect(w.flags(pfn) & w.c("PG_locked")).toBe(0);
    expect(w.mmu.call("cpu_trylock_page", 1, pfn)).toBe(1);
  });
});

describe("file rmap walks (i_mmap interval tree)", () => {
  it("page_referenced finds both shared mappings through the i_mmap tree", () => {
    const { w, pfn, va } = shared();
    expect(w.touch(0, va)).toBe(pfn);
    expect(w.touch(1, va)).toBe(pfn);
    expect(w.mmu.call("cpu_page_referenced", 0, pfn)).toBe(2);
    expect(w.mmu.call("cpu_page_referenced", 0, pfn)).toBe(0);
  });

  it("page_mkclean write-protects and cleans every shared mapping; the next write faults", () => {
    const { w, mms, pfn, va } = shared();
    expect(w.touch(0, va, true)).toBe(pfn);
    expect(w.pte(mms[0]!, va) & D_BIT).toBe(D_BIT);
    expect(w.mmu.call("cpu_page_mkclean", 0, pfn)).toBe(2);
    for (const mm of mms) expect(w.pte(mm, va) & (D_BIT | RW_BIT)).toBe(0n);
    expect(w.flags(pfn) & w.c("PG_dirty")).not.toBe(0); // the dirty bit moved to the page
    expect(w.touch(0, va, true)).toBe(-1);
    expect(w.touch(1, va, false)).toBe(pfn);
    expect(w.mmu.call("cpu_page_mkclean", 0, pfn)).toBe(0);
  });

  it("page_mkclean leaves private mappings alone", () => {
    const w = RmapWorld.create();
    const f = file(w, 4);
    const mm = w.mm();
    const v = w.vma(mm, BASE, 4, w.c("VM_READ") | w.c("VM_WRITE"), f, 0);
    w.mmu.call("cpu_test_vma_link_file", 0, v);
    const pfn = Number(w.mmu.call("cpu_filemap_fault", 0, v, 0));
    w.mmu.call("cpu_test_map_file_page", 0, v, BASE, pfn);
    expect(w.mmu.call("cpu_page_mkclean", 0, pfn)).toBe(0);
  });

  for (const [spec, mode] of [["ticket", "write"], ["rwsem-steal", "read"]] as const) {
    it(`try_to_unmap of a file page clears both PTEs under the i_mmap lock taken for ${mode} (${spec})`, () => {
      const { w, mms, pfn, va } = shared({ locks: { i_mmap: spec } });
      const before = w.lockStat("i_mmap");
      expect(w.mmu.call("cpu_try_to_unmap", 0, pfn, 0)).toBe(2);
      const after = w.lockStat("i_mmap");
      expect(after.read - before.read).toBe(mode === "read" ? 1 : 0);
      expect(after.write - before.write).toBe(mode === "write" ? 1 : 0);
      expect(w.mapcount(pfn)).toBe(0);
      for (const mm of mms) expect(w.pte(mm, va)).toBe(0n);
      expect(w.rss(mms[0]!, 0)).toBe(0);
      expect(w.refs(pfn)).toBe(1); // the page cache's
    });
  }
});
