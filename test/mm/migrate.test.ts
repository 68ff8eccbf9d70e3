// Page migration (mm/migrate.ts) and the migration-entry format (mm/swapops.ts): contents and every
// mapping move to the new frame, for anonymous pages (anon_vma walk) and page-cache pages (i_mmap
// walk and the page-cache slot), and a fault on a migration entry waits for the page lock.
import { describe, it, expect } from "vitest";
import { Machine } from "../../src/index.js";
import { RmapWorld, BASE, PAGE } from "./rmap_helpers.js";

const P_BIT = 1n, RW_BIT = 1n << 1n;
const pfnOf = (pte: bigint) => Number((pte & 0x000f_ffff_ffff_f000n) >> 12n);

describe("migration entries (swapops)", () => {
  it("encode the pfn and the write bit in a non-present PTE and decode them", () => {
    const w = RmapWorld.create();
    for (const [pfn, write] of [[1, 0], [0x12345, 1], [0xfffff, 1]] as const) {
      const e = BigInt.asUintN(64, BigInt(w.mmu.call("swp_make_migration_entry", pfn, write)));
      expect(e & P_BIT).toBe(0n);
      expect(e & (1n << 8n)).toBe(0n); // not PROT_NONE
      expect(w.mmu.call("swp_is_swap_pte", e)).toBe(1);
      expect(w.mmu.call("swp_is_migration_entry", e)).toBe(1);
      expect(w.mmu.call("swp_is_write_migration_entry", e)).toBe(write);
      expect(w.mmu.call("swp_migration_entry_to_pfn", e)).toBe(pfn);
      const r = BigInt.asUintN(64, BigInt(w.mmu.call("swp_make_migration_entry_read", e)));
      expect(w.mmu.call("swp_is_write_migration_entry", r)).toBe(0);
      expect(w.mmu.call("swp_migration_entry_to_pfn", r)).toBe(pfn);
    }
    expect(w.mmu.call("swp_is_swap_pte", 0n)).toBe(0);
    expect(w.mmu.call("swp_is_swap_pte", 0x1234_5067n)).toBe(0); // present
    expect(w.mmu.call("swp_is_swap_pte", 0x100n)).toBe(0);        // PROT_NONE
  });
});

describe("migrate_page", () => {
  it("moves an anonymous page's contents and both mappings (parent and forked child) to the new frame", () => {
    const w = RmapWorld.create();
    const parent = w.mm(1), child = w.mm(2);
    const P = w.vma(parent, BASE, 4);
    const old = w.faultAnon(P, BASE + PAGE, 99);
    const C = w.fork(child, P);
    w.load(0, parent);
    w.load(1, child);
    expect(w.touch(0, BASE + PAGE)).toBe(old);
    expect(w.touch(1, BASE + PAGE)).toBe(old);
    const av = w.anonVma(P);
    w.mmu.call("cpu_get_page", 0, old); // the migrator's reference
    const nw = Number(w.mmu.call("cpu_migrate_page", 0, old));
    expect(nw).toBeGreaterThan(0);
    expect(nw).not.toBe(old);
    for (const mm of [parent, child]) {
      const pte = w.pte(mm, BASE + PAGE);
      expect(pte & P_BIT).toBe(1n);
      expect(pfnOf(pte)).toBe(nw);
      expect(pte & RW_BIT).toBe(0n); // COW-protected before: still read-only
    }
    const bytes = new DataView(w.mmu.frameBytes(nw).buffer, w.mmu.frameBytes(nw).byteOffset, 4096);
    for (const i of [0, 7, 1023]) expect(bytes.getUint32(i * 4, true)).toBe(Number(w.mmu.call("test_rmap_anon_pattern", 99, i)) >>> 0);
    expect(w.mapcount(nw)).toBe(2);
    expect(w.refs(nw)).toBe(2);
    expect(w.mapping(nw)).toBe(av | 1);
    expect(w.index(nw)).toBe(Number((BASE >> 12n) + 1n));
    expect(w.mapcount(old)).toBe(0);
    expect(w.mapping(old)).toBe(0);
    expect(w.flags(old) & w.c("PG_locked")).toBe(0);
    expect(w.flags(nw) & w.c("PG_locked")).toBe(0);
    // The CPUs reach the new frame (their old translations were flushed).
    expect(w.touch(0, BASE + PAGE)).toBe(nw);
    expect(w.touch(1, BASE + PAGE)).toBe(nw);
    expect(w.mmu.call("cpu_put_page", 0, old)).toBe(1);
    // The rmap of the new page works: unmap it everywhere.
    expect(w.mmu.call("cpu_page_referenced", 0, nw)).toBe(2);
    expect(w.unmap(C)).toBe(1);
    expect(w.mapcount(nw)).toBe(1);
  });

  it("keeps a writable mapping writable", () => {
    const w = RmapWorld.create();
    const mm = w.mm(1);
    const V = w.vma(mm, BASE, 2);
    const old = w.faultAnon(V, BASE, 3);
    w.mmu.call("cpu_get_page", 0, old);
    const nw = Number(w.mmu.call("cpu_migrate_page", 0, old));
    expect(nw).toBeGreaterThan(0);
    expect(w.pte(mm, BASE) & RW_BIT).toBe(RW_BIT);
    w.load(0, mm);
    expect(w.touch(0, BASE, true)).toBe(nw);
    w.mmu.call("cpu_put_page", 0, old);
  });

  it("moves a page-cache page: its slot and every shared mapping follow", () => {
    const w = RmapWorld.create();
    const f = Number(w.mmu.call("cpu_address_space_create", 0, 4));
    const flags = w.c("VM_READ") | w.c("VM_WRITE") | w.c("VM_SHARED");
    const mms = [w.mm(1), w.mm(2)];
    const vmas = mms.map((mm) => { const v = w.vma(mm, BASE, 4, flags, f, 0); w.mmu.call("cpu_test_vma_link_file", 0, v); return v; });
    const old = Number(w.mmu.call("cpu_filemap_fault", 0, vmas[0]!, 3));
    w.mmu.call("cpu_test_map_file_page", 0, vmas[0]!, BASE + 3n * PAGE, old);
    w.mmu.call("cpu_filemap_fault", 0, vmas[1]!, 3);
    w.mmu.call("cpu_test_map_file_page", 0, vmas[1]!, BASE + 3n * PAGE, old);
    const before = Buffer.from(w.mmu.frameBytes(old));
    expect(w.mmu.call("cpu_find_get_page", 0, f, 3)).toBe(old); // the migrator's reference
    const nw = Number(w.mmu.call("cpu_migrate_page", 0, old));
    expect(nw).toBeGreaterThan(0);
    expect(Buffer.compare(Buffer.from(w.mmu.frameBytes(nw)), before)).toBe(0);
    for (const mm of mms) expect(pfnOf(w.pte(mm, BASE + 3n * PAGE))).toBe(nw);
    expect(w.mmu.call("cpu_find_get_page", 0, f, 3)).toBe(nw);
    expect(w.mapping(nw)).toBe(f);
    expect(w.refs(nw)).toBe(4); // cache + 2 mappings + the find_get_page just above
    expect(w.mapping(old)).toBe(0);
    expect(w.refs(old)).toBe(1);
    expect(w.mmu.call("cpu_put_page", 0, old)).toBe(1);
  });

  it("fails with -EAGAIN and restores every mapping when someone else holds a reference", () => {
    const w = RmapWorld.create();
    const mm = w.mm(1);
    const V = w.vma(mm, BASE, 2);
    const old = w.faultAnon(V, BASE, 3);
    w.mmu.call("cpu_get_page", 0, old); // the migrator's
    w.mmu.call("cpu_get_page", 0, old); // a stranger's (say, get_user_pages)
    expect(w.mmu.call("cpu_migrate_page", 0, old)).toBe(-11);
    const pte = w.pte(mm, BASE);
    expect(pte & P_BIT).toBe(1n);
    expect(pfnOf(pte)).toBe(old);
    expect(pte & RW_BIT).toBe(RW_BIT);
    expect(w.mapcount(old)).toBe(1);
    expect(w.flags(old) & w.c("PG_locked")).toBe(0);
  });

  it("refuses free and page-table frames", () => {
    const w = RmapWorld.create();
    const mm = w.mm(1);
    expect(w.mmu.call("cpu_migrate_page", 0, w.u32(mm + w.c("MM_PGD")))).toBe(-22);
    const pfn = Number(w.mmu.call("cpu_alloc_page", 0, 0));
    w.mmu.call("cpu_put_page", 0, pfn);
    expect(w.mmu.call("cpu_migrate_page", 0, pfn)).toBe(-22);
  });
});

describe("migration_entry_wait", () => {
  it("returns at once when the PTE is no longer a migration entry", () => {
    const w = RmapWorld.create();
    const mm = w.mm(1);
    const V = w.vma(mm, BASE, 2);
    w.faultAnon(V, BASE);
    expect(w.mmu.call("cpu_migration_entry_wait", 0, mm, BASE)).toBe(0);
    expect(w.mmu.call("cpu_migration_entry_wait", 0, mm, BASE + 0x100000n)).toBe(0);
  });

  it("a fault on a migration entry sleeps until the migrating page is unlocked (two CPUs on workers)", async () => {
    const m = await Machine.create({ cpus: 2, memory: "8MiB", debug: true, callTimeoutMs: 20_000 });
    try {
      const w = new RmapWorld(m.mmu);
      const mm = Number(await m.call(0, "cpu_test_mm_create", 1));
      const V = Number(await m.call(0, "cpu_test_vma_create", mm, BASE, BASE + 2n * PAGE, w.c("VM_READ") | w.c("VM_WRITE"), 0, 0xffffffff));
      const pfn = Number(await m.call(0, "cpu_test_fault_anon", V, BASE, 1));
      await m.call(0, "cpu_get_page", pfn);
      await m.call(0, "cpu_lock_page", pfn);                       // migration in progress:
      expect(await m.call(0, "cpu_try_to_unmap", pfn, w.c("TTU_MIGRATION"))).toBe(1); // entries installed
      let done = false;
      const waiter = m.call(1, "cpu_migration_entry_wait", mm, BASE).then((r) => { done = true; return r; });
      await new Promise((r) => setTimeout(r, 200));
      expect(done).toBe(false);                                     // asleep on the page lock
      expect(w.flags(pfn) & w.c("PG_waiters")).not.toBe(0);                 // PG_waiters
      await m.call(0, "cpu_unlock_page", pfn);
      expect(await waiter).toBe(1);
      expect(w.flags(pfn) & (w.c("PG_locked") | w.c("PG_waiters"))).toBe(0);
    } finally {
      await m.destroy();
    }
  });
});
