// Random mmap (MAP_FIXED, anonymous and file) / munmap / mprotect / anon_vma_prepare sequences in a
// 64-page window, checked after every step against a page-by-page model: which pages are mapped, with
// which protection, shared or private, from which file and at which file page (so every split and
// merge keeps vm_pgoff right), plus the list/tree/map_count agreement and the i_mmap tree's contents.
import { describe, it, expect } from "vitest";
import { Mmu, readVmas } from "../../src/index.js";
import { constant } from "../../src/core/abi.js";
import { Xoshiro128 } from "../../src/sched/prng.js";

const PAGE = 4096n;
const WIN = 0x100000n; // first page of the window
const NPAGES = 64;
const MAP_SHARED = 1, MAP_PRIVATE = 2, MAP_FIXED = 0x10, MAP_ANON = 0x20;

interface PageModel { prot: number; shared: boolean; file: number; pgoff: number }

describe("vma set against a page model", () => {
  for (const seed of [1, 2, 3]) {
    it(`agrees after every step (seed ${seed})`, () => {
      const mmu = Mmu.create({ memory: "16MiB", debug: true, cpus: 2 });
      const mm = Number(mmu.call("cpu_mm_alloc", 0)) >>> 0;
      const files = [Number(mmu.call("cpu_test_file_new", 0, 1024, 7)) >>> 0, Number(mmu.call("cpu_test_file_new", 0, 1024, 8)) >>> 0];
      const rng = new Xoshiro128(seed * 7919);
      const model: (PageModel | undefined)[] = new Array(NPAGES).fill(undefined);
      const winPage = Number(WIN / PAGE);
      const c = (n: "VMA_RB" | "MM_RB" | "MM_MAP_COUNT" | "AS_I_MMAP" | "VMA_PGOFF" | "VMA_START" | "VMA_END") => constant(mmu.exports, n);

      for (let step = 0; step < 400; step++) {
        const op = rng.below(100);
        const first = rng.below(NPAGES);
        const n = 1 + rng.below(Math.min(12, NPAGES - first));
        const addr = WIN + BigInt(first) * PAGE, len = BigInt(n) * PAGE;
        const prot = rng.below(8);
        const cpu = rng.below(2);
        if (op < 40) {
          const useFile = rng.below(3) === 0;
          const shared = useFile && rng.below(2) === 0;
          const file = useFile ? files[rng.below(2)]! : 0;
          const pgoff = useFile ? rng.below(200) : 0;
          const r = BigInt(mmu.call("cpu_mmap", cpu, mm, addr, len, prot, (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_FIXED | (useFile ? 0 : MAP_ANON), file, pgoff));
          expect(r).toBe(addr);
          for (let i = 0; i < n; i++) model[first + i] = { prot, shared, file, pgoff: useFile ? pgoff + i : winPage + first + i };
        } else if (op < 65) {
          expect(mmu.call("cpu_munmap", cpu, mm, addr, len)).toBe(0);
          for (let i = 0; i < n; i++) model[first + i] = undefined;
        } else if (op < 90) {
          const r = mmu.call("cpu_mprotect", cpu, mm, addr, len, prot);
          let i = 0;
          if (model[first]) for (; i < n && model[first + i]; i++) model[first + i]!.prot = prot;
          expect(r).toBe(i === n ? 0 : -12);
        } else {
          const vmas = readVmas(mmu, mm);
          if (vmas.length) {
            const v = vmas[rng.below(vmas.length)]!;
            expect(mmu.call("cpu_anon_vma_prepare", cpu, v.addr)).toBe(0);
          }
        }

        // Compare.
        const vmas = readVmas(mmu, mm);
        const got: (PageModel | undefined)[] = new Array(NPAGES).fill(undefined);
        for (const v of vmas) {
          expect(v.start >= WIN && v.end <= WIN + BigInt(NPAGES) * PAGE).toBe(true);
          for (let a = v.start; a < v.end; a += PAGE) {
            const i = Number((a - WIN) / PAGE);
            got[i] = { prot: v.flags & 7, shared: (v.flags & 8) !== 0, file: v.file, pgoff: v.pgoff + Number((a - v.start) / PAGE) };
          }
        }
        expect(got).toEqual(model);
        // List, tree and count agree.
        const dv = new DataView(mmu.memory.buffer);
        expect(dv.getUint32(mm + c("MM_MAP_COUNT"), true)).toBe(vmas.length);
        const inorder: number[] = [];
        for (let x = Number(mmu.call("rb_first", mm + c("MM_RB"))) >>> 0; x; x = Number(mmu.call("rb_next", x)) >>> 0) inorder.push(x - c("VMA_RB"));
        expect(inorder).toEqual(vmas.map((v) => v.addr));
        // Each file's i_mmap tree holds exactly its vmas.
        for (const f of files) {
          const onTree = new Set<number>();
          for (let x = Number(mmu.call("vma_interval_tree_iter_first", f + c("AS_I_MMAP"), 0n, 0xffffffffn)) >>> 0; x;
            x = Number(mmu.call("vma_interval_tree_iter_next", x, 0n, 0xffffffffn)) >>> 0) onTree.add(x);
          expect(onTree).toEqual(new Set(vmas.filter((v) => v.file === f).map((v) => v.addr)));
        }
      }
      // Tear down: everything goes, the files' trees empty.
      expect(mmu.call("cpu_mmput", 0, mm)).toBe(0);
      const dv = new DataView(mmu.memory.buffer);
      for (const f of files) expect(dv.getUint32(f + c("AS_I_MMAP"), true)).toBe(0);
    });
  }
});
