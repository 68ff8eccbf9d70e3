// Building and running the native references of the benchmarks: the page walker (bench/native/walk.c)
// for bench/walk.ts, the locks (bench/native/locks.c) for bench/locks.ts. A C source is compiled at
// bench time with `$CC` or `cc` (-O2) into a temporary directory; for the walker, next to a dump of
// the machine's RAM with contents (frames [0, nr_backed): the page tables), so the C walker walks
// byte-identical tables at the same physical addresses. Without a compiler (or when it fails)
// everything here reports a reason instead of throwing: the benchmark then records "native": null
// with that reason.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Mmu } from "../../src/mmu.js";

export const CFLAGS = ["-O2"];

export interface NativeCase {
  name: string;
  vaBase: bigint;
  spanPages: number;
  iters: number;
  seed: number;
  order: number;
  /** 1: walk + counters + TLB fill (what the core does); 0: the bare walk. */
  fill: 0 | 1;
}

export interface NativeCaseResult {
  name: string;
  checksum: bigint;
  iters: number;
  reps: number;
  /** ns per translation of each timed run. */
  nsSamples: number[];
  nsMean: number;
  nsMedian: number;
  nsMin: number;
}

export type NativeBuild =
  | { ok: true; exe: string; dir: string; compiler: string; compilerVersion: string; cflags: string[]; buildMs: number }
  | { ok: false; reason: string };

/** The package root: the nearest directory above this file that holds package.json. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "package.json"))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error("bench: cannot find the package root (package.json)");
    dir = up;
  }
}

export interface NativeSource {
  /** The C file under bench/native/ (default walk.c). */
  file?: string;
  /** Flags after the source (libraries, e.g. ["-pthread"]). */
  libs?: string[];
}

/** Compile a C source of bench/native/ (walk.c by default); never throws. */
export function buildNative(what: NativeSource = {}): NativeBuild {
  const compiler = process.env.CC || "cc";
  const file = what.file ?? "walk.c";
  const name = file.replace(/\.c$/, "");
  const source = join(repoRoot(), "bench", "native", file);
  if (!existsSync(source)) return { ok: false, reason: `${source} is missing` };
  const probe = spawnSync(compiler, ["--version"], { encoding: "utf8" });
  if (probe.error || probe.status !== 0) {
    const why = probe.error ? (probe.error as NodeJS.ErrnoException).code ?? probe.error.message : `exit status ${probe.status}`;
    return { ok: false, reason: `no C compiler: \`${compiler} --version\` failed (${why}); set CC or install cc to get the native figures` };
  }
  const compilerVersion = (probe.stdout.split("\n")[0] ?? "").trim();
  const dir = mkdtempSync(join(tmpdir(), `mmemu-${name}-`));
  const exe = join(dir, name);
  const t0 = performance.now();
  const libs = what.libs ?? [];
  const cc = spawnSync(compiler, [...CFLAGS, "-o", exe, source, ...libs], { encoding: "utf8" });
  if (cc.error || cc.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return { ok: false, reason: `\`${compiler} ${[...CFLAGS, file, ...libs].join(" ")}\` failed: ${(cc.stderr || cc.error?.message || "").trim().slice(0, 500)}` };
  }
  return { ok: true, exe, dir, compiler, compilerVersion, cflags: [...CFLAGS, ...libs], buildMs: performance.now() - t0 };
}

/**
 * Dump the machine's RAM with contents and run the native walker over the cases (each: one warm-up
 * run that yields the checksum, then reps timed runs). Throws with the walker's stderr if it fails.
 */
export function runNative(build: Extract<NativeBuild, { ok: true }>, mmu: Mmu, cases: NativeCase[], reps: number): NativeCaseResult[] {
  const L = mmu.layout;
  const backed = L.nrBacked * 4096;
  const image = join(build.dir, "ram.bin");
  // Copy out of the shared buffer first: the image is written as plain bytes.
  writeFileSync(image, new Uint8Array(mmu.memory.buffer, L.framesBase, backed).slice());
  const r = mmu.registers(0);
  const hex = (v: bigint) => `0x${v.toString(16)}`;
  const args = [image, String(backed), String(L.nrFrames * 4096), String(L.maxPhysAddr),
    hex(r.cr0), hex(r.cr3), hex(r.cr4), hex(r.efer), hex(r.rflags), String(r.cpl), String(reps),
    ...cases.map((c) => [c.name, hex(c.vaBase), c.spanPages, c.iters, c.seed >>> 0, c.order, c.fill].join(":"))];
  const run = spawnSync(build.exe, args, { encoding: "utf8", maxBuffer: 1 << 20 });
  if (run.error || run.status !== 0) {
    throw new Error(`native walker failed (${run.error?.message ?? `exit status ${run.status}`}): ${run.stderr.trim()}`);
  }
  const out = JSON.parse(run.stdout) as { cases: { name: string; checksum: string; iters: number; reps: number; ns: number[]; ns_mean: number; ns_median: number; ns_min: number }[] };
  return out.cases.map((c) => ({
    name: c.name, checksum: BigInt(c.checksum), iters: c.iters, reps: c.reps, nsSamples: c.ns, nsMean: c.ns_mean, nsMedian: c.ns_median, nsMin: c.ns_min,
  }));
}

/** Remove the temporary directory of a build (the executable and the RAM image). */
export function cleanNative(build: NativeBuild): void {
  if (build.ok) rmSync(build.dir, { recursive: true, force: true });
}
