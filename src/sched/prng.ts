// The deterministic randomness of virtual time: xoshiro128** (Blackman and Vigna, 2018) seeded through
// splitmix32, and the schedule digest. Integer arithmetic only (Math.imul, >>>), so the same seed gives
// the same sequence on every machine and Node version; Math.random is never used by the scheduler.

/** splitmix32 step: the next state and output (used only to seed xoshiro128**). */
function splitmix32(x: number): [number, number] {
  const state = (x + 0x9e3779b9) >>> 0;
  let z = state;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return [state, (z ^ (z >>> 16)) >>> 0];
}

export class Xoshiro128 {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;

  /** seed: a non-negative safe integer (the caller validates); all 53 bits count. */
  constructor(seed: number) {
    const lo = seed >>> 0;
    const hi = Math.floor(seed / 4294967296) >>> 0;
    let x = lo;
    const out: number[] = [];
    for (let i = 0; i < 4; i++) {
      const [state, z] = splitmix32(x);
      x = state;
      out.push(z);
    }
    // Fold the high bits in through a second splitmix stream.
    let y = hi ^ 0x6a09e667;
    for (let i = 0; i < 4; i++) {
      const [state, z] = splitmix32(y);
      y = state;
      out[i] = (out[i]! ^ z) >>> 0;
    }
    [this.s0, this.s1, this.s2, this.s3] = out as [number, number, number, number];
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // the all-zero state is a fixed point
  }

  /** A generator in a given state (the reference implementation's test vectors start from one). */
  static fromState(s0: number, s1: number, s2: number, s3: number): Xoshiro128 {
    const g = new Xoshiro128(0);
    [g.s0, g.s1, g.s2, g.s3] = [s0 >>> 0, s1 >>> 0, s2 >>> 0, s3 >>> 0];
    return g;
  }

  /** The next 32-bit output, as an unsigned number. */
  next(): number {
    const s1 = this.s1;
    const m = Math.imul(s1, 5);
    const result = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = (this.s3 << 11) | (this.s3 >>> 21);
    return result;
  }

  /** A uniform integer in [0, n) for 1 <= n <= 2^32 (bias below n / 2^32). */
  below(n: number): number {
    return Math.floor((this.next() * n) / 4294967296);
  }
}

/**
 * A 64-bit digest of a sequence of small integers (the CPUs chosen at each scheduling step), as two
 * 32-bit lanes: FNV-1a and a multiplicative hash with a different prime. Equal sequences give equal
 * digests; a differing step changes it (barring 2^-64 collisions).
 */
export class Digest {
  private a = 0x811c9dc5;
  private b = 0x9e3779b9;

  add(v: number): void {
    this.a = Math.imul(this.a ^ v, 0x01000193);
    this.b = Math.imul((this.b ^ v) + 0x7f4a7c15, 0x5bd1e995);
    this.b ^= this.b >>> 15;
  }

  hex(): string {
    return (this.a >>> 0).toString(16).padStart(8, "0") + (this.b >>> 0).toString(16).padStart(8, "0");
  }
}
