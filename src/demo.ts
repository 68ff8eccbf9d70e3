// The demo: boot a machine with CPUs on workers, map memory, walk and print translations, shoot a
// TLB entry down across CPUs, run every CPU at once behind the barrier, and print TLB statistics.
import { Machine } from "./machine.js";
import { PageTableBuilder } from "./pagetable.js";
import { PTE, ACC, PAGE_SIZE_2M } from "./arch/x86.js";
import { constant } from "./core/abi.js";
import { describeTranslation, hex, table } from "./report/format.js";

export interface DemoOptions {
  cpus?: number;
  log?: (line: string) => void;
}

const USER_TEXT = 0x0000_5555_5555_4000n;
const USER_HEAP = 0x0000_5555_5560_0000n;
const USER_STACK = 0x0000_7ffd_ffff_e000n;
const KERNEL_DIRECT = 0xffff_8880_0020_0000n;
const STAT_ROWS = ["tlbHit", "tlbMiss", "walk", "walkRestart", "pf", "gp", "setAccessed", "setDirty", "tlbDirtyRewalk",
  "flushOne", "shootdownSent", "shootdownRecv", "shootdownRemote"];

export async function runDemo(opts: DemoOptions = {}): Promise<void> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const cpus = opts.cpus ?? 2;
  const machine = await Machine.create({ cpus, memory: "64MiB", callTimeoutMs: 30_000 });
  try {
    const { mmu } = machine;
    log(`mmemu demo: ${cpus} CPUs on worker threads; ${mmu.layout.nrFrames / 256} MiB of emulated RAM in one ` +
      `shared memory of ${(mmu.layout.totalSize / 2 ** 20).toFixed(1)} MiB`);
    const pt = new PageTableBuilder(mmu);
    pt.mapFresh(USER_TEXT, 2, PTE.USER);                    // r-x
    pt.mapFresh(USER_HEAP, 4, PTE.USER | PTE.RW | PTE.NX);  // rw-
    pt.mapFresh(USER_STACK, 2, PTE.USER | PTE.RW | PTE.NX); // rw-
    pt.map(KERNEL_DIRECT, 0x20_0000n, PTE.RW | PTE.GLOBAL | PTE.NX, PAGE_SIZE_2M);
    log(`page tables: PML4 at ${hex(pt.root)}; user text (r-x), heap and stack (rw-) in 4 KiB pages; ` +
      `a global 2 MiB kernel page`);
    for (let cpu = 0; cpu < cpus; cpu++) await machine.call(cpu, "cpu_write_cr3", pt.root);

    const probes: [string, bigint, number][] = [
      ["user fetch, text", USER_TEXT + 0x10n, ACC.USER | ACC.FETCH],
      ["user write, text", USER_TEXT + 0x10n, ACC.USER | ACC.WRITE],
      ["user write, heap", USER_HEAP + 0x1238n, ACC.USER | ACC.WRITE],
      ["user fetch, heap", USER_HEAP, ACC.USER | ACC.FETCH],
      ["user read, stack", USER_STACK + 0x1ff8n, ACC.USER],
      ["kernel read, 2 MiB page", KERNEL_DIRECT + 0x12_3456n, 0],
      ["user read, kernel page", KERNEL_DIRECT, ACC.USER],
      ["user read, unmapped", USER_HEAP + 0x10_0000n, ACC.USER],
      ["read, non-canonical", 0x0000_8000_0000_0000n, 0],
    ];
    const rows: string[][] = [];
    for (const [what, va, access] of probes) {
      const cpu = rows.length % cpus;
      const raw = await machine.call(cpu, "cpu_translate", va, access);
      rows.push([`CPU ${cpu}`, what, hex(va, 16), describeTranslation(mmu.decodeTranslation(cpu, BigInt(raw)))]);
    }
    log("\ntranslations, each on a worker CPU (TLB, then page walk):\n" + table(["cpu", "access", "linear address", "result"], rows));

    // Every CPU caches the heap page; CPU 0 moves it to a new frame and shoots the stale entry down.
    for (let cpu = 0; cpu < cpus; cpu++) await machine.call(cpu, "cpu_translate", USER_HEAP, ACC.USER);
    const fresh = mmu.allocFrame({ highmem: true });
    pt.map(USER_HEAP, BigInt(fresh) << 12n, PTE.USER | PTE.RW | PTE.NX);
    await machine.call(0, "cpu_invlpg", USER_HEAP);
    const FLUSH_RANGE = constant(mmu.exports, "FLUSH_RANGE");
    for (let cpu = 1; cpu < cpus; cpu++) {
      const gen = await machine.call(0, "cpu_tlb_post", cpu, FLUSH_RANGE, 0, USER_HEAP, 1);
      await machine.call(0, "cpu_tlb_wait", cpu, Number(gen));
    }
    const after: string[][] = [];
    for (let cpu = 0; cpu < cpus; cpu++) {
      const raw = await machine.call(cpu, "cpu_translate", USER_HEAP, ACC.USER);
      after.push([`CPU ${cpu}`, describeTranslation(mmu.decodeTranslation(cpu, BigInt(raw)))]);
    }
    log(`\nCPU 0 moved the heap page to frame ${hex(fresh)} and shot the old translation down on every CPU:\n` +
      table(["cpu", "heap page now"], after));

    // Every CPU translates the heap at once, started together by the shared-memory barrier.
    const iters = 200_000;
    const results = await machine.run(Array.from({ length: cpus }, (_, cpu) => ({
      cpu, fn: "cpu_bench_translate" as const, args: [USER_HEAP, 4, iters, 1 + cpu, 0, 1] })));
    const bad = results.find((r) => BigInt(r) < 0n);
    if (bad !== undefined) throw new Error(`a translation in the contended run faulted (${bad})`);
    const stats = Array.from({ length: cpus }, (_, cpu) => mmu.cpuStats(cpu));
    log(`\nTLB and MMU counters per CPU, after ${iters.toLocaleString("en-US")} more translations each, all CPUs at once:\n` +
      table(["counter", ...stats.map((_, c) => `CPU ${c}`)], STAT_ROWS.map((n) => [n, ...stats.map((s) => String(s[n] ?? 0n))])));
  } finally {
    await machine.destroy();
  }
}
