// The `mm` machine option: the MM core's switches mapped onto the one mm_config word at boot.
import { describe, expect, it } from "vitest";
import { Mmu, Machine, VirtualMachine, ConfigError } from "../../src/index.js";
import { constant } from "../../src/core/abi.js";

const small = { memory: "4MiB", kernelHeap: "1MiB" } as const;
const bit = (mmu: Mmu, name: "MMC_AV_2625" | "MMC_RMAP_LOCKLESS" | "MMC_VMA_ADJUST_ANON_ALWAYS" | "MMC_SPLIT_PTL" | "MMC_RMAP_WALK_EXCL") => constant(mmu.exports, name);

describe("machine option mm", () => {
  it("defaults to the 2.6.34+ kernel: every switch clear", () => {
    const mmu = Mmu.create(small);
    expect(mmu.exports.mm_config_get()).toBe(0);
  });

  it("maps each switch onto its MMC_* bit of mm_config", () => {
    const cases = [
      [{ anonVma: "shared" }, "MMC_AV_2625"],
      [{ vmaAdjustAnonLock: "always" }, "MMC_VMA_ADJUST_ANON_ALWAYS"],
      [{ rmapLockless: true }, "MMC_RMAP_LOCKLESS"],
      [{ splitPtlock: true }, "MMC_SPLIT_PTL"],
      [{ rmapWalkExclusive: true }, "MMC_RMAP_WALK_EXCL"],
    ] as const;
    for (const [mm, name] of cases) {
      const mmu = Mmu.create({ ...small, mm });
      expect(mmu.exports.mm_config_get(), name).toBe(bit(mmu, name));
    }
    const all = Mmu.create({ ...small, mm: { anonVma: "shared", vmaAdjustAnonLock: "always", rmapLockless: true, splitPtlock: true, rmapWalkExclusive: true } });
    expect(all.exports.mm_config_get()).toBe(constant(all.exports, "MMC_KNOWN"));
    const dflt = Mmu.create({ ...small, mm: { anonVma: "chain", vmaAdjustAnonLock: "when-needed", rmapLockless: false, splitPtlock: false } });
    expect(dflt.exports.mm_config_get()).toBe(0);
  });

  it("the split-PTL switch is one of the MMC_* set: the one setter accepts it and refuses unknown bits", () => {
    const mmu = Mmu.create(small);
    expect(bit(mmu, "MMC_SPLIT_PTL") & constant(mmu.exports, "MMC_KNOWN")).toBe(bit(mmu, "MMC_SPLIT_PTL"));
    expect(mmu.exports.mm_config_write(bit(mmu, "MMC_SPLIT_PTL"))).toBe(0);
    expect(mmu.exports.mm_config_write(1 << 31)).toBe(-22);
    expect(mmu.exports.mm_config_get()).toBe(bit(mmu, "MMC_SPLIT_PTL"));
  });

  it("refuses unknown switches and values with a ConfigError naming them", () => {
    const bad: [unknown, RegExp][] = [
      [{ anonVMA: "shared" }, /mm: unknown switch "anonVMA".*anonVma/],
      [{ anonVma: "2.6.25" }, /mm\.anonVma: "2\.6\.25" is not one of "chain", "shared"/],
      [{ vmaAdjustAnonLock: "never" }, /mm\.vmaAdjustAnonLock: "never"/],
      [{ rmapLockless: 1 }, /mm\.rmapLockless: expected true or false/],
      [{ splitPtlock: "yes" }, /mm\.splitPtlock: expected true or false/],
      ["chain", /mm: expected \{/],
      [null, /mm: expected \{/],
    ];
    for (const [mm, re] of bad) {
      expect(() => Mmu.create({ ...small, mm: mm as never })).toThrow(ConfigError);
      expect(() => Mmu.create({ ...small, mm: mm as never })).toThrow(re);
    }
  });

  it("reaches the machine through Machine.create and VirtualMachine.create too", async () => {
    const m = await Machine.create({ ...small, cpus: 1, mm: { anonVma: "shared", splitPtlock: true } });
    try {
      expect(m.mmu.exports.mm_config_get()).toBe(bit(m.mmu, "MMC_AV_2625") | bit(m.mmu, "MMC_SPLIT_PTL"));
    } finally {
      await m.destroy();
    }
    const vm = VirtualMachine.create({ ...small, cpus: 1, mm: { vmaAdjustAnonLock: "always" } });
    expect(vm.mmu.exports.mm_config_get()).toBe(bit(vm.mmu, "MMC_VMA_ADJUST_ANON_ALWAYS"));
    await expect(Machine.create({ ...small, cpus: 1, mm: { bogus: true } as never })).rejects.toThrow(ConfigError);
    expect(() => VirtualMachine.create({ ...small, mm: { anonVma: "x" } as never })).toThrow(ConfigError);
  });
});
