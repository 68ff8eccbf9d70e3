// The scheduler's randomness (src/sched/prng.ts): xoshiro128** against the reference implementation,
// seeding, and the schedule digest.
import { describe, expect, it } from "vitest";
import { Digest, Xoshiro128 } from "../../src/sched/prng.js";

describe("xoshiro128**", () => {
  it("matches the reference implementation (Blackman and Vigna) from state {1, 2, 3, 4}", () => {
    // Printed by xoshiro128starstar.c from prng.di.unimi.it with s = {1, 2, 3, 4}.
    const g = Xoshiro128.fromState(1, 2, 3, 4);
    expect(Array.from({ length: 8 }, () => g.next())).toEqual(
      [11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849]);
  });

  it("gives one sequence per seed, and different seeds (high bits included) different sequences", () => {
    const seq = (seed: number) => { const g = new Xoshiro128(seed); return Array.from({ length: 16 }, () => g.next()); };
    expect(seq(42)).toEqual(seq(42));
    expect(seq(42)).not.toEqual(seq(43));
    expect(seq(2 ** 40)).not.toEqual(seq(0));
    expect(seq(Number.MAX_SAFE_INTEGER)).not.toEqual(seq(Number.MAX_SAFE_INTEGER - 2 ** 32));
  });

  it("draws below(n) in range and roughly uniformly", () => {
    const g = new Xoshiro128(7);
    const counts = new Array<number>(8).fill(0);
    let outside = 0;
    for (let i = 0; i < 80_000; i++) {
      const v = g.below(8);
      if (v >= 0 && v < 8) counts[v]!++;
      else outside++;
    }
    expect(outside).toBe(0);
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500);
  });
});

describe("Digest", () => {
  it("is equal for equal sequences and differs when one step differs or moves", () => {
    const hex = (xs: number[]) => { const d = new Digest(); for (const x of xs) d.add(x); return d.hex(); };
    expect(hex([0, 1, 2, 3])).toBe(hex([0, 1, 2, 3]));
    expect(hex([0, 1, 2, 3])).not.toBe(hex([0, 1, 3, 2]));
    expect(hex([0, 1, 2, 3])).not.toBe(hex([0, 1, 2, 3, 0]));
    expect(hex([])).toMatch(/^[0-9a-f]{16}$/);
  });
});
