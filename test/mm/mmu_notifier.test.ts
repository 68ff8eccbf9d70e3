// mm/mmu_notifier.ts: a recording notifier (as KVM registers), its event ring and the balance checker.
import { describe, it, expect } from "vitest";
import { InvariantError } from "../../src/index.js";
import { machine, newMm, c, u32, i32, u64 } from "./mm_helpers.js";

describe("mmu notifiers", () => {
  it("records invalidate_range_start/end with their range and CPU and keeps the nesting depth", () => {
    const mmu = machine();
    const mm = newMm(mmu, 1);
    const n = mmu.exports.cpu_mmu_notifier_register(0, mm) >>> 0;
    mmu.exports.cpu_mmu_notifier_range(1, mm, 0x1000n, 0x3000n, 0);
    mmu.exports.cpu_mmu_notifier_range(1, mm, 0x1000n, 0x2000n, 0);
    expect(i32(mmu, n + c(mmu, "MN_DEPTH"))).toBe(2);
    expect(mmu.exports.mm_mmu_notifier_check(mm)).toBe(1); // not balanced yet
    mmu.exports.cpu_mmu_notifier_range(1, mm, 0x1000n, 0x2000n, 1);
    mmu.exports.cpu_mmu_notifier_range(1, mm, 0x1000n, 0x3000n, 1);
    expect(mmu.exports.mm_mmu_notifier_check(mm)).toBe(0);
    expect(i32(mmu, n + c(mmu, "MN_MAX_DEPTH"))).toBe(2);
    expect(u32(mmu, n + c(mmu, "MN_NR_EVENTS"))).toBe(4);
    const ev = (i: number) => {
      const e = n + c(mmu, "MN_RING_OFF") + i * c(mmu, "MN_EVENT_SIZE");
      return { kind: u32(mmu, e), cpu: u32(mmu, e + 4), start: u64(mmu, e + 8), end: u64(mmu, e + 16) };
    };
    expect(ev(0)).toEqual({ kind: c(mmu, "MN_EV_START"), cpu: 1, start: 0x1000n, end: 0x3000n });
    expect(ev(3)).toEqual({ kind: c(mmu, "MN_EV_END"), cpu: 1, start: 0x1000n, end: 0x3000n });
    expect(mmu.exports.cpu_mmu_notifier_release(0, mm)).toBe(0);
    expect(u32(mmu, mm + c(mmu, "MM_NOTIFIERS"))).toBe(0);
  });

  it("reports an end without a start: a flag the checker reads, and a VM_BUG_ON in the debug build", () => {
    const rel = machine({ debug: false });
    const mm = newMm(rel, 1);
    const n = rel.exports.cpu_mmu_notifier_register(0, mm) >>> 0;
    rel.exports.cpu_mmu_notifier_range(0, mm, 0n, 0x1000n, 1);
    expect(u32(rel, n + c(rel, "MN_FLAGS")) & c(rel, "MNF_UNBALANCED")).toBe(c(rel, "MNF_UNBALANCED"));
    expect(rel.exports.mm_mmu_notifier_check(mm)).toBe(1);
    expect(rel.exports.cpu_mmu_notifier_release(0, mm)).toBe(1);

    const dbg = machine();
    const mm2 = newMm(dbg, 1);
    dbg.exports.cpu_mmu_notifier_register(0, mm2);
    expect(() => dbg.exports.cpu_mmu_notifier_range(0, mm2, 0n, 0x1000n, 1)).toThrow(InvariantError);
  });
});
