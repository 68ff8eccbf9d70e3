// The README's embedding example runs as written (with "mmemu" resolved to the sources).
import { describe, it, expect } from "vitest";
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { pathToFileURL } from "node:url";

describe("README", () => {
  it("embedding example runs and prints the translation it promises", async () => {
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    const m = /<!-- example: embedding -->\n```ts\n([\s\S]*?)```/.exec(readme);
    expect(m).not.toBeNull();
    const index = pathToFileURL(join(process.cwd(), "src/index.ts")).href;
    const code = m![1]!.replace('from "mmemu"', `from ${JSON.stringify(index)}`)
      .replace("console.log(t, miss, mmu.cpuStats(0).tlbHit, mmu.cpuStats(0).walk);",
        "export const result = { t, miss, frame, hits: mmu.cpuStats(0).tlbHit, walks: mmu.cpuStats(0).walk };");
    const dir = mkdtempSync(join(tmpdir(), "mmemu-readme-"));
    const file = join(dir, "example.ts");
    writeFileSync(file, code);
    let result;
    try {
      ({ result } = await import(pathToFileURL(file).href));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(result.t).toEqual({ ok: true, pa: (BigInt(result.frame) << 12n) | 0x123n, pageSize: 4096 });
    expect(result.miss).toEqual({ ok: false, fault: "#PF", vector: 14, errorCode: 4, cr2: 0x800000n });
    expect(result.walks).toBe(2n);
  });

  it("processes example runs: fork with copy-on-write, a shared mapping, maps, a clean check", async () => {
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    const m = /<!-- example: processes -->\n```ts\n([\s\S]*?)```/.exec(readme);
    expect(m).not.toBeNull();
    const index = pathToFileURL(join(process.cwd(), "src/index.ts")).href;
    const code = m![1]!.replace('from "mmemu"', `from ${JSON.stringify(index)}`)
      .replace("console.log(seen, maps, violations, free0 - mmu.freeFrames());", "export const result = { seen, maps, violations, kept: free0 - mmu.freeFrames() };");
    expect(code).toContain("export const result");
    const dir = mkdtempSync(join(tmpdir(), "mmemu-readme-"));
    const file = join(dir, "example.ts");
    writeFileSync(file, code);
    let result;
    try {
      ({ result } = await import(pathToFileURL(file).href));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(result.seen).toEqual([42, 7, 9]);
    expect(result.maps).toMatch(/^[0-9a-f]{8,}-[0-9a-f]{8,} rw-s 00000000 00:01 \d+ +\/mmemu\/file\d+\n[0-9a-f]+-[0-9a-f]+ rw-p 00000000 00:00 0 \n$/);
    expect(result.violations).toEqual([]);
    expect(result.kept).toBe(2);
  });
});
