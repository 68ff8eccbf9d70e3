// The eras table (src/experiments/eras.ts): every era names every MM lock class and resolves to machine
// options a machine boots with, with the lock types and mm_config word it declares; the history the
// table encodes (what changed from one era to the next); lookup errors; single-switch overrides.
import { describe, it, expect } from "vitest";
import { Mmu } from "../../src/mmu.js";
import { constant } from "../../src/core/abi.js";
import { ConfigError } from "../../src/core/errors.js";
import { lockClassId } from "../../src/locking/lock-config.js";
import { mmConfigWord } from "../../src/mmu.js";
import { ERAS, ERA_NAMES, ERA_LOCK_CLASSES, era, eraMachineOptions } from "../../src/experiments/eras.js";

const SPEC_TYPE: Record<string, [string, string[]]> = {
  ticket: ["LOCK_TICKET", []], tas: ["LOCK_TAS", []], mutex: ["LOCK_MUTEX", []], "mutex-spin": ["LOCK_MUTEX", ["MUTEX_OPT_SPIN"]],
  "rwsem-handoff": ["LOCK_RWSEM", ["RWSEM_HANDOFF"]], "rwsem-steal": ["LOCK_RWSEM", ["RWSEM_STEAL"]],
  "rwsem-spin": ["LOCK_RWSEM", ["RWSEM_STEAL", "RWSEM_OPT_SPIN"]],
};

describe("eras", () => {
  it("lists the eras of issue 5 in history order", () => {
    expect(ERA_NAMES).toEqual(["2.6.25", "2008-rwsem", "2.6.31", "2.6.34", "3.0", "3.8", "3.9", "3.16"]);
  });

  it("every era boots a machine with exactly its lock types and mm switches", () => {
    for (const name of ERA_NAMES) {
      const e = ERAS.get(name)!;
      expect(e.source.length, name).toBeGreaterThan(0);
      expect(Object.keys(e.locks).sort()).toEqual([...ERA_LOCK_CLASSES].sort());
      const mmu = Mmu.create({ cpus: 1, memory: "1MiB", ...eraMachineOptions(e) });
      const x = mmu.exports;
      expect(x.mm_config_get(), name).toBe(mmConfigWord(x, e.mm));
      for (const cls of ERA_LOCK_CLASSES) {
        const [type, policy] = SPEC_TYPE[e.locks[cls]]!;
        const got = x.mm_lock_class_get(lockClassId(x, cls));
        expect(got & 0xff, `${name} ${cls}`).toBe(constant(x, type as "LOCK_TICKET"));
        expect((got >> 8) & 0xff, `${name} ${cls} policy`).toBe(policy.reduce((a, p) => a | constant(x, p as "LOCK_TICKET"), 0));
      }
    }
  });

  it("encodes the history: what each era changes from the one before", () => {
    const g = (n: string) => ERAS.get(n)!;
    expect(g("2.6.25").locks.anon_vma).toBe("ticket");
    expect(g("2.6.25").mm).toMatchObject({ anonVma: "shared", vmaAdjustAnonLock: "always" });
    // seed 002: anon_vma and i_mmap become FIFO-handoff rwsems, nothing else changes
    expect(g("2008-rwsem").locks).toEqual({ ...g("2.6.25").locks, anon_vma: "rwsem-handoff", i_mmap: "rwsem-handoff" });
    expect(g("2008-rwsem").mm).toEqual(g("2.6.25").mm);
    // Lee Schermerhorn: only the vma_adjust switch
    expect(g("2.6.31").locks).toEqual(g("2.6.25").locks);
    expect(g("2.6.31").mm).toEqual({ ...g("2.6.25").mm, vmaAdjustAnonLock: "when-needed" });
    expect(g("2.6.34").mm).toEqual({ ...g("2.6.31").mm, anonVma: "chain" });
    expect([g("3.0").locks.anon_vma, g("3.0").locks.i_mmap]).toEqual(["mutex-spin", "mutex-spin"]);
    expect(g("3.8").locks.anon_vma).toBe("rwsem-handoff");
    expect([g("3.9").locks.anon_vma, g("3.9").locks.mmap_sem]).toEqual(["rwsem-steal", "rwsem-steal"]);
    expect([g("3.16").locks.anon_vma, g("3.16").locks.mmap_sem]).toEqual(["rwsem-spin", "rwsem-spin"]);
    for (const n of ERA_NAMES) expect(g(n).mm.rmapLockless, n).toBe(false);
  });

  it("refuses an unknown era, naming the known ones", () => {
    expect(() => era("2.6.99")).toThrow(ConfigError);
    expect(() => era("2.6.99")).toThrow(/unknown era "2.6.99" \(eras: 2.6.25, 2008-rwsem/);
  });

  it("overrides single switches without changing the table", () => {
    const e = era("3.0", { locks: { anon_vma: "mutex" }, mm: { rmapLockless: true } });
    expect(e.locks.anon_vma).toBe("mutex");
    expect(e.locks.i_mmap).toBe("mutex-spin");
    expect(e.mm).toEqual({ ...ERAS.get("3.0")!.mm, rmapLockless: true });
    expect(ERAS.get("3.0")!.locks.anon_vma).toBe("mutex-spin");
    expect(ERAS.get("3.0")!.mm.rmapLockless).toBe(false);
    expect(() => era("3.0", { locks: { anon_vma: "futex" } })).toThrow(/unknown lock type "futex"/);
    expect(() => era("3.0", { locks: { torture_a: "ticket" } as never })).toThrow(/unknown lock class "torture_a"/);
    expect(() => era("3.0", { mm: { anonVma: "tree" } as never })).toThrow(/mm.anonVma/);
    expect(() => era("3.0", { mm: { bogus: true } as never })).toThrow(/unknown switch "bogus"/);
  });
});
