// Choosing lock types per class: names come from the core; bad input is a clear ConfigError.
import { describe, it, expect } from "vitest";
import { Mmu, ConfigError } from "../../src/index.js";
import { lockClassNames, LOCK_SPECS } from "../../src/locking/lock-config.js";

describe("lock configuration", () => {
  it("names the kernel's lock classes and defaults mmap_sem to an rwsem, the rest to ticket spinlocks", () => {
    const mmu = Mmu.create({ memory: "1MiB" });
    expect(lockClassNames(mmu.exports)).toEqual(["mmap_sem", "i_mmap", "anon_vma", "page_table_lock", "pte_lock",
      "swap_lock", "mmlist_lock", "torture_a", "torture_b"]);
    expect(mmu.exports.mm_lock_class_get(0) & 0xff).toBe(3); // LOCK_RWSEM
    expect(mmu.exports.mm_lock_class_get(2) & 0xff).toBe(0); // LOCK_TICKET
  });

  it("applies every lock type to a class", () => {
    for (const spec of LOCK_SPECS) {
      const mmu = Mmu.create({ memory: "1MiB", locks: { anon_vma: spec } });
      expect(mmu.exports.mm_lock_class_get(2)).toBeGreaterThanOrEqual(0);
    }
  });

  it("refuses unknown classes, types and option shapes", () => {
    expect(() => Mmu.create({ memory: "1MiB", locks: { anon_vmas: "mutex" } })).toThrow(/unknown lock class "anon_vmas" \(classes: mmap_sem, i_mmap, anon_vma/);
    expect(() => Mmu.create({ memory: "1MiB", locks: { anon_vma: "rwlock" } })).toThrow(/locks.anon_vma: unknown lock type "rwlock" \(types: ticket, tas/);
    expect(() => Mmu.create({ memory: "1MiB", locks: ["mutex"] as never })).toThrow(ConfigError);
    expect(() => Mmu.create({ memory: "1MiB", lockStatTiming: "yes" as never })).toThrow(/lockStatTiming/);
  });

  it("refuses policies that do not belong to the type, in the core itself", () => {
    const mmu = Mmu.create({ memory: "1MiB" });
    const set = (type: number, policy: number) => mmu.exports.mm_lock_class_set(2, type, policy, 0);
    expect(set(0, 1)).toBe(-22); // ticket with a policy
    expect(set(2, 2)).toBe(-22); // mutex with an rwsem policy
    expect(set(3, 2 | 4)).toBe(-22); // handoff and steal at once
    expect(set(3, 8)).toBe(-22); // optimistic spinning without stealing
    expect(set(9, 0)).toBe(-22); // unknown type
    expect(mmu.exports.mm_lock_class_set(99, 0, 0, 0)).toBe(-22);
  });
});
