// Lockdep (assembly/locking/lockdep.ts, debug build): the kernel's declared order passes silently;
// a lock taken against it, an AB-BA cycle between classes outside it, recursion and a release of a
// lock not held are reported with both classes and both code sites.
import { describe, it, expect } from "vitest";
import { Mmu, LockdepError } from "../../src/index.js";
import { newLock, MODE_WRITE, MODE_READ, MODE_NESTED } from "../helpers/locks.js";

function machine() {
  return Mmu.create({ memory: "1MiB", debug: true, locks: { anon_vma: "rwsem-steal", i_mmap: "mutex" } });
}

const acquire = (mmu: Mmu, lock: number, mode = MODE_WRITE) => mmu.call("cpu_lock_acquire", 0, lock, mode);
const release = (mmu: Mmu, lock: number, mode = MODE_WRITE) => mmu.call("cpu_lock_release", 0, lock, mode);

describe("lockdep", () => {
  it("is silent on the kernel's order: mmap_sem, i_mmap, anon_vma, page_table_lock, swap_lock, mmlist_lock", () => {
    const mmu = machine();
    const order = ["mmap_sem", "i_mmap", "anon_vma", "page_table_lock", "swap_lock", "mmlist_lock"].map((c) => newLock(mmu, c));
    for (const l of order) acquire(mmu, l, l === order[0] ? MODE_READ : MODE_WRITE);
    expect(mmu.call("cpu_lockdep_depth", 0)).toBe(6);
    for (const l of [...order].reverse()) release(mmu, l, l === order[0] ? MODE_READ : MODE_WRITE);
    expect(mmu.call("cpu_lockdep_depth", 0)).toBe(0);
    // A second anon_vma lock is allowed when annotated as nested (as lock_anon_vma_root batching does).
    const [a, b] = [newLock(mmu, "anon_vma"), newLock(mmu, "anon_vma")];
    acquire(mmu, a!);
    acquire(mmu, b!, MODE_WRITE | MODE_NESTED);
    release(mmu, b!);
    release(mmu, a!);
  });

  it("reports a lock taken against the declared order", () => {
    const mmu = machine();
    const ptl = newLock(mmu, "page_table_lock");
    const av = newLock(mmu, "anon_vma");
    acquire(mmu, ptl);
    expect(() => acquire(mmu, av)).toThrow(LockdepError);
    try { acquire(mmu, av); } catch (e) {
      expect(e).toMatchObject({ kind: "lock order violated", heldClass: "page_table_lock", lockClass: "anon_vma", heldSite: "host", site: "host" });
      expect((e as Error).message).toBe("lockdep: lock order violated: taking anon_vma at host while holding page_table_lock (taken at host)");
    }
  });

  it("reports a planted AB-BA between classes outside the order", () => {
    const mmu = machine();
    const [a, b] = [newLock(mmu, "torture_a"), newLock(mmu, "torture_b")];
    acquire(mmu, a!); acquire(mmu, b!); release(mmu, b!); release(mmu, a!); // A -> B: learned, silent
    acquire(mmu, b!);
    expect(() => acquire(mmu, a!)).toThrow(/possible circular locking dependency \(AB-BA\): taking torture_a at host while holding torture_b/);
  });

  it("reports recursion and a release of a lock that is not held", () => {
    const mmu = machine();
    const [a, b] = [newLock(mmu, "torture_a"), newLock(mmu, "torture_a")];
    acquire(mmu, a!);
    expect(() => acquire(mmu, a!)).toThrow(/possible recursive locking/);
    expect(() => acquire(mmu, b!)).toThrow(/possible recursive locking: taking torture_a/);
    expect(() => release(mmu, b!)).toThrow(/release of a lock that is not held: torture_a/);
  });

  it("costs the release build nothing: no checks, no reports", () => {
    const mmu = Mmu.create({ memory: "1MiB", debug: false });
    const ptl = newLock(mmu, "page_table_lock");
    const av = newLock(mmu, "anon_vma");
    acquire(mmu, ptl);
    expect(() => acquire(mmu, av)).not.toThrow();
    expect(mmu.call("cpu_lockdep_depth", 0)).toBe(0); // nothing recorded without lock_stat timing
  });
});
