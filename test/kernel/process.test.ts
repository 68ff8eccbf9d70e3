// Processes end to end: spawn, mmap, faults through user accesses, fork with copy-on-write, exit,
// with the invariant checker after every step and every frame back when all have exited.
import { describe, it, expect } from "vitest";
import { Mmu } from "../../src/index.js";
import { MmModel, PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS } from "../../src/mm/process.js";

function model(cpus = 2) {
  const mmu = Mmu.create({ memory: "32MiB", debug: true, cpus });
  return { mmu, mm: new MmModel(mmu) };
}

function clean(mm: MmModel) {
  const r = mm.check();
  expect(r.violations).toEqual([]);
  return r;
}

describe("processes", () => {
  it("maps anonymous memory, faults it in on access, and gives every frame back on exit", () => {
    const { mmu, mm } = model();
    const free0 = mmu.freeFrames();
    const p = mm.spawn();
    const a = p.mmap(16 * 4096);
    expect(a).toBeGreaterThan(0n);
    clean(mm);
    expect(p.read(a)).toBe(0); // demand zero
    expect(p.write(a + 8n, 0xdeadbeef)).toBe(0);
    expect(p.read(a + 8n)).toBe(0xdeadbeef);
    const r = clean(mm);
    expect(r.mappedPtes).toBe(1);
    p.exit();
    clean(mm);
    expect(mmu.freeFrames()).toBe(free0);
  });

  it("fork shares pages copy-on-write: each side sees its own writes", () => {
    const { mmu, mm } = model();
    const free0 = mmu.freeFrames();
    const parent = mm.spawn();
    const a = parent.mmap(4 * 4096, { prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS });
    for (let i = 0n; i < 4n; i++) expect(parent.write(a + i * 4096n, 100 + Number(i))).toBe(0);
    const child = parent.fork();
    if (typeof child === "number") throw new Error(`fork: ${child}`);
    clean(mm);
    expect(child.read(a + 4096n)).toBe(101);
    expect(child.write(a + 4096n, 7)).toBe(0);
    expect(child.read(a + 4096n)).toBe(7);
    expect(parent.read(a + 4096n)).toBe(101);
    expect(parent.write(a, 9)).toBe(0);
    expect(child.read(a)).toBe(100);
    clean(mm);
    child.exit();
    clean(mm);
    expect(parent.read(a + 2n * 4096n)).toBe(102);
    parent.exit();
    clean(mm);
    expect(mmu.freeFrames()).toBe(free0);
  });

  it("reports SIGSEGV outside any vma and for a write to a read-only mapping", () => {
    const { mm } = model();
    const p = mm.spawn();
    const a = p.mmap(4096, { prot: PROT_READ });
    expect(p.read(a)).toBe(0);
    expect(p.write(a, 1)).toBe(-14);
    expect(p.read(0x1000n)).toBe(-14);
    clean(mm);
    p.exit();
  });

  it("runs two processes on one CPU, switching address spaces", () => {
    const { mm } = model(1);
    const p = mm.spawn(), q = mm.spawn();
    const a = p.mmap(4096), b = q.mmap(4096);
    expect(a).toBe(b); // same layout, different address spaces
    expect(p.write(a, 1)).toBe(0);
    expect(q.write(b, 2)).toBe(0);
    expect(p.read(a)).toBe(1);
    expect(q.read(b)).toBe(2);
    clean(mm);
    p.exit();
    q.exit();
    clean(mm);
  });
});

describe("processes: the rest of the system calls", () => {
  it("brk grows and shrinks the heap as AIM9's brk_test does, and the heap comes back to where it began", () => {
    const { mmu, mm } = model();
    const free0 = mmu.freeFrames();
    const p = mm.spawn();
    const start = p.sbrk(0);
    expect(p.sbrk(1 << 20)).toBe(start);
    for (let loop = 0; loop < 3; loop++) {
      expect(p.sbrk(-64 * 1024)).toBeGreaterThan(0n);
      for (let i = 0; i < 16; i++) expect(p.sbrk(4096)).toBeGreaterThan(0n);
    }
    expect(p.sbrk(0)).toBe(start + BigInt(1 << 20));
    // page_test: dirty every 128 bytes of the last 64 KiB
    const end = p.sbrk(0);
    for (let va = end - 65536n; va < end; va += 128n) expect(p.write(va, 1)).toBe(0);
    expect(p.maps()).toContain("[heap]");
    expect(p.vmas().length).toBe(1);
    clean(mm);
    p.exit();
    expect(mmu.freeFrames()).toBe(free0);
  });

  it("munmap of the middle splits a vma; mprotect splits and merges; madvise(DONTNEED) drops pages", () => {
    const { mm } = model();
    const p = mm.spawn();
    const a = p.mmap(8 * 4096);
    for (let i = 0n; i < 8n; i++) p.write(a + i * 4096n, 1 + Number(i));
    expect(p.munmap(a + 2n * 4096n, 2 * 4096)).toBe(0);
    expect(p.vmas().length).toBe(2);
    expect(p.read(a + 2n * 4096n)).toBe(-14);
    expect(p.read(a + 4n * 4096n)).toBe(5);
    clean(mm);
    expect(p.mprotect(a + 4n * 4096n, 4096, PROT_READ)).toBe(0);
    expect(p.vmas().length).toBe(3);
    expect(p.write(a + 4n * 4096n, 0)).toBe(-14);
    expect(p.mprotect(a + 4n * 4096n, 4096, PROT_READ | PROT_WRITE)).toBe(0);
    expect(p.vmas().length).toBe(2);
    expect(p.write(a + 4n * 4096n, 0)).toBe(0);
    expect(p.madvise(a, 2 * 4096, 4)).toBe(0);
    expect(p.read(a)).toBe(0); // dropped: a new zero page on the next touch
    clean(mm);
    p.exit();
  });

  it("maps files privately and shared: reads come from the page cache, private writes are copied", () => {
    const { mmu, mm } = model();
    const free0 = mmu.freeFrames();
    const f = mm.createFile(4);
    const p = mm.spawn();
    const shared = p.mmap(4 * 4096, { file: f, flags: 0x01 });
    const priv = p.mmap(4 * 4096, { file: f, flags: 0x02 });
    expect(shared).toBeGreaterThan(0n);
    expect(priv).toBeGreaterThan(0n);
    const v = p.read(shared + 4096n);
    expect(p.read(priv + 4096n)).toBe(v);
    expect(p.write(priv + 4096n, (v ^ 1) >>> 0)).toBe(0);
    expect(p.read(shared + 4096n)).toBe(v);
    expect(p.write(shared + 4096n, 77)).toBe(0);
    expect(p.read(priv + 4096n)).toBe((v ^ 1) >>> 0);
    const q = p.fork();
    if (typeof q === "number") throw new Error(`fork ${q}`);
    expect(q.read(shared + 4096n)).toBe(77);
    clean(mm);
    q.exit();
    p.exit();
    clean(mm);
    expect(mmu.freeFrames()).toBeLessThanOrEqual(free0); // the page cache keeps the file's pages
  });

  it("threads share one mm on two CPUs; munmap on one flushes the other's TLB", () => {
    const { mm } = model(2);
    const p = mm.spawn({ cpu: 0 });
    const t = p.thread({ homeCpu: 1 });
    if (typeof t === "number") throw new Error(`clone ${t}`);
    const a = p.mmap(4096);
    expect(p.write(a, 5)).toBe(0);
    expect(t.read(a)).toBe(5); // CPU 1 caches the translation
    expect(p.munmap(a, 4096)).toBe(0);
    expect(t.read(a)).toBe(-14);
    clean(mm);
    t.exit();
    p.exit();
    clean(mm);
  });

  it("maps() prints /proc/pid/maps lines", () => {
    const { mm } = model();
    const p = mm.spawn();
    const a = p.mmap(2 * 4096, { prot: PROT_READ });
    p.sbrk(4096);
    const text = p.maps();
    expect(text).toMatch(new RegExp(`^${a.toString(16).padStart(8, "0")}-[0-9a-f]+ r--p 00000000 00:00 0`, "m"));
    expect(text).toMatch(/rw-p .*\[heap\]/);
    p.exit();
  });
});

describe("seed 000: get_task_mm and borrowed address spaces", () => {
  it("seed 000: get_task_mm takes a user reference on a process's mm and refuses a kernel thread's adopted (use_mm) one", () => {
    const { mmu, mm } = model(2);
    const dv = () => new DataView(mmu.memory.buffer);
    const users = (m: number) => dv().getInt32(m + Number(mmu.exports.MM_USERS.value), true);
    const p = mm.spawn({ cpu: 0 });
    const a = p.mmap(4096);
    expect(p.write(a, 42)).toBe(0);
    const pmm = p.mm;
    expect(users(pmm)).toBe(1);
    // A process: its mm with a reference.
    expect(mmu.exports.cpu_get_task_mm(0, p.pid) >>> 0).toBe(pmm);
    expect(users(pmm)).toBe(2);
    mmu.exports.cpu_mmput(0, pmm);
    expect(users(pmm)).toBe(1);
    // A kernel thread adopting it (use_mm, as an AIO worker): it holds a user reference meanwhile,
    // and get_task_mm refuses the thread's mm (PF_BORROWED_MM in 2.6.x, PF_KTHREAD here).
    const k = mm.kthread({ cpu: 1 });
    expect(k.useMm(p)).toBe(pmm);
    expect(users(pmm)).toBe(2);
    expect(mmu.exports.cpu_get_task_mm(1, k.pid)).toBe(0);
    expect(k.useMm(p)).toBe(-22); // already using one
    expect(k.unuseMm()).toBe(0);
    expect(users(pmm)).toBe(1);
    expect(k.unuseMm()).toBe(-22);
    // The process exits: its address space goes although the thread still has it loaded lazily.
    const free0 = mmu.freeFrames();
    p.exit();
    expect(mmu.freeFrames()).toBeGreaterThan(free0);
    k.exit();
    expect(mm.check().violations).toEqual([]);
  });
});
