// lib/rbtree.ts and lib/interval_tree.ts: random insert/erase sequences on trees of vmas built in the
// core, checked from the host by reading the nodes in shared memory against a sorted model: in-order
// keys, parent pointers, the red-black properties (black root, no red node with a red child, equal
// black height on every path), the interval tree's augmented rb_subtree_last at every node, and
// interval queries against brute force. Seeded, so every run is the same.
import { describe, it, expect } from "vitest";
import { Mmu } from "../../src/index.js";
import { constant } from "../../src/core/abi.js";
import { Xoshiro128 } from "../../src/sched/prng.js";

const NAMES = ["RB_PARENT_COLOR", "RB_RIGHT", "RB_LEFT", "VMA_RB", "VMA_START", "VMA_END", "VMA_PGOFF",
  "VMA_SHARED_RB", "VMA_SHARED_SUBTREE_LAST"] as const;
type Off = Record<(typeof NAMES)[number], number>;

function offsets(mmu: Mmu): Off {
  const o = {} as Off;
  for (const n of NAMES) o[n] = constant(mmu.exports, n);
  return o;
}

class View {
  readonly dv: DataView;
  constructor(readonly mmu: Mmu, readonly o: Off) { this.dv = new DataView(mmu.memory.buffer); }
  u32(a: number): number { return this.dv.getUint32(a, true); }
  u64(a: number): bigint { return this.dv.getBigUint64(a, true); }
  left(n: number): number { return this.u32(n + this.o.RB_LEFT); }
  right(n: number): number { return this.u32(n + this.o.RB_RIGHT); }
  parent(n: number): number { return this.u32(n + this.o.RB_PARENT_COLOR) & ~3; }
  black(n: number): boolean { return (this.u32(n + this.o.RB_PARENT_COLOR) & 1) === 1; }
}

/**
 * Check a red-black tree whose nodes sit at offset nodeOff of their vmas: parent pointers, black root,
 * no red-red, equal black height. Returns the vmas in order and the black height.
 */
function checkRb(v: View, root: number, nodeOff: number): { inorder: number[]; blackHeight: number } {
  const top = v.u32(root);
  const inorder: number[] = [];
  if (top === 0) return { inorder, blackHeight: 0 };
  expect(v.black(top), "root is black").toBe(true);
  expect(v.parent(top)).toBe(0);
  const walk = (n: number): number => {
    if (n === 0) return 1;
    const l = v.left(n), r = v.right(n);
    if (l) expect(v.parent(l), "left child's parent").toBe(n);
    if (r) expect(v.parent(r), "right child's parent").toBe(n);
    if (!v.black(n)) {
      if (l) expect(v.black(l), "no red node has a red child").toBe(true);
      if (r) expect(v.black(r), "no red node has a red child").toBe(true);
    }
    const bl = walk(l);
    inorder.push(n - nodeOff);
    const br = walk(r);
    expect(bl, "equal black height").toBe(br);
    return bl + (v.black(n) ? 1 : 0);
  };
  return { inorder, blackHeight: walk(top) };
}

function lastPgoff(v: View, vma: number): bigint {
  return BigInt(v.u32(vma + v.o.VMA_PGOFF)) + ((v.u64(vma + v.o.VMA_END) - v.u64(vma + v.o.VMA_START)) >> 12n) - 1n;
}

/** Check every node's rb_subtree_last of the interval tree at root; returns its vmas in order. */
function checkAugmented(v: View, root: number): number[] {
  const sh = v.o.VMA_SHARED_RB;
  const { inorder } = checkRb(v, root, sh);
  const sub = (n: number): bigint => {
    if (n === 0) return -1n;
    const vma = n - sh;
    let m = lastPgoff(v, vma);
    const l = sub(v.left(n)), r = sub(v.right(n));
    if (l > m) m = l;
    if (r > m) m = r;
    expect(v.u64(vma + v.o.VMA_SHARED_SUBTREE_LAST), "rb_subtree_last").toBe(m);
    return m;
  };
  sub(v.u32(root));
  return inorder;
}

function newVma(mmu: Mmu, start: bigint, end: bigint, pgoff: number): number {
  const vma = Number(mmu.call("cpu_test_rb_vma_new", 0, start, end, pgoff)) >>> 0;
  expect(vma).not.toBe(0);
  return vma;
}

describe("rbtree", () => {
  it("keeps order and the red-black properties through random inserts and erases", () => {
    const mmu = Mmu.create({ memory: "16MiB", debug: true, cpus: 1 });
    const v = new View(mmu, offsets(mmu));
    const root = newVma(mmu, 0n, 0n, 0); // its first word serves as the root
    const rng = new Xoshiro128(12345);
    const live: { vma: number; key: bigint }[] = [];
    let maxHeight = 0;
    for (let step = 0; step < 1500; step++) {
      const insert = live.length === 0 || rng.next() % 100 < 60;
      if (insert) {
        const key = BigInt(rng.next() % 512) << 12n; // duplicates allowed (equal keys go right)
        const vma = newVma(mmu, key, key + 4096n, 0);
        expect(mmu.call("test_rb_insert", root, vma)).toBe(0);
        live.push({ vma, key });
      } else {
        const i = rng.next() % live.length;
        const e = live.splice(i, 1)[0]!;
        expect(mmu.call("test_rb_erase", root, e.vma)).toBe(0);
        expect(mmu.call("cpu_test_rb_vma_free", 0, e.vma)).toBe(0);
      }
      if (step % 25 === 0 || step > 1450) {
        const { inorder, blackHeight } = checkRb(v, root, v.o.VMA_RB);
        const keys = inorder.map((x) => v.u64(x + v.o.VMA_START));
        const model = live.map((e) => e.key).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        expect(keys).toEqual(model);
        expect(new Set(inorder)).toEqual(new Set(live.map((e) => e.vma)));
        // rb_first/rb_next and rb_last/rb_prev walk the same order.
        const fwd: number[] = [];
        for (let n = Number(mmu.call("rb_first", root)) >>> 0; n; n = Number(mmu.call("rb_next", n)) >>> 0) fwd.push(n - v.o.VMA_RB);
        const back: number[] = [];
        for (let n = Number(mmu.call("rb_last", root)) >>> 0; n; n = Number(mmu.call("rb_prev", n)) >>> 0) back.push(n - v.o.VMA_RB);
        expect(fwd).toEqual(inorder);
        expect(back.reverse()).toEqual(inorder);
        // Height bound: 2 log2(n + 1) via black height.
        if (live.length > 0) expect(2 ** (blackHeight - 1)).toBeLessThanOrEqual(live.length + 1);
        maxHeight = Math.max(maxHeight, blackHeight);
      }
    }
    expect(maxHeight).toBeGreaterThan(3);
  });

  it("erases down to an empty tree in every order of a small set", () => {
    const mmu = Mmu.create({ memory: "16MiB", debug: true, cpus: 1 });
    const v = new View(mmu, offsets(mmu));
    const root = newVma(mmu, 0n, 0n, 0);
    for (let perm = 0; perm < 24; perm++) {
      const vmas = [0, 1, 2, 3, 4, 5, 6].map((k) => newVma(mmu, BigInt(k) << 12n, BigInt(k + 1) << 12n, 0));
      for (const x of vmas) mmu.call("test_rb_insert", root, x);
      const order = [...vmas];
      const rng = new Xoshiro128(perm + 1);
      for (let i = order.length - 1; i > 0; i--) { const j = rng.next() % (i + 1); [order[i], order[j]] = [order[j]!, order[i]!]; }
      for (const x of order) {
        mmu.call("test_rb_erase", root, x);
        checkRb(v, root, v.o.VMA_RB);
      }
      expect(v.u32(root)).toBe(0);
      for (const x of vmas) mmu.call("cpu_test_rb_vma_free", 0, x);
    }
  });
});

describe("vma interval tree", () => {
  it("keeps rb_subtree_last through rotations and erasure, and answers queries as brute force does", () => {
    const mmu = Mmu.create({ memory: "16MiB", debug: true, cpus: 1 });
    const v = new View(mmu, offsets(mmu));
    const root = newVma(mmu, 0n, 0n, 0);
    const rng = new Xoshiro128(777);
    const live: { vma: number; first: bigint; last: bigint }[] = [];
    for (let step = 0; step < 1200; step++) {
      if (live.length === 0 || rng.next() % 100 < 60) {
        const pgoff = rng.next() % 1000;
        const pages = 1 + (rng.next() % 64);
        const start = BigInt(rng.next() % 1024) << 12n;
        const vma = newVma(mmu, start, start + (BigInt(pages) << 12n), pgoff);
        mmu.call("test_it_insert", root, vma);
        live.push({ vma, first: BigInt(pgoff), last: BigInt(pgoff + pages - 1) });
      } else {
        const e = live.splice(rng.next() % live.length, 1)[0]!;
        mmu.call("test_it_remove", root, e.vma);
        mmu.call("cpu_test_rb_vma_free", 0, e.vma);
      }
      if (step % 20 === 0 || step > 1180) {
        const inorder = checkAugmented(v, root);
        const starts = inorder.map((x) => BigInt(v.u32(x + v.o.VMA_PGOFF)));
        for (let i = 1; i < starts.length; i++) expect(starts[i - 1]! <= starts[i]!).toBe(true);
        expect(new Set(inorder)).toEqual(new Set(live.map((e) => e.vma)));
        for (let q = 0; q < 8; q++) {
          const a = BigInt(rng.next() % 1100), b = a + BigInt(rng.next() % 40);
          const got: number[] = [];
          for (let x = Number(mmu.call("vma_interval_tree_iter_first", root, a, b)) >>> 0; x;
            x = Number(mmu.call("vma_interval_tree_iter_next", x, a, b)) >>> 0) got.push(x);
          // Brute force, in tree order (start order; ties as the tree keeps them).
          const want = inorder.filter((x) => { const e = live.find((l) => l.vma === x)!; return e.first <= b && a <= e.last; });
          expect(got).toEqual(want);
        }
      }
    }
  });

  it("returns nothing from an empty tree", () => {
    const mmu = Mmu.create({ memory: "16MiB", debug: true, cpus: 1 });
    const root = newVma(mmu, 0n, 0n, 0);
    expect(mmu.call("vma_interval_tree_iter_first", root, 0n, 100n)).toBe(0);
  });
});
