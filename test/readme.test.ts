// The README's embedding example runs as written (with "mmemu" resolved to the sources).
import { describe, it, expect } from "vitest";
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { pathToFileURL } from "node:url";

/**
 * Run the README's code block marked `<!-- example: name -->` with "mmemu" resolved to the sources
 * and its final console.log replaced by `replacement` (which exports `result`); return that result.
 */
async function runExample(name: string, log: string, replacement: string): Promise<any> {
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  const m = new RegExp(`<!-- example: ${name} -->\n\`\`\`ts\n([\\s\\S]*?)\`\`\``).exec(readme);
  expect(m).not.toBeNull();
  const index = pathToFileURL(join(process.cwd(), "src/index.ts")).href;
  const code = m![1]!.replace('from "mmemu"', `from ${JSON.stringify(index)}`).replace(log, replacement);
  expect(code).toContain("export const result");
  const dir = mkdtempSync(join(tmpdir(), "mmemu-readme-"));
  const file = join(dir, "example.ts");
  writeFileSync(file, code);
  try {
    return (await import(pathToFileURL(file).href)).result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("README", () => {
  it("embedding example runs and prints the translation it promises", async () => {
    const result = await runExample("embedding", "console.log(t, miss, mmu.cpuStats(0).tlbHit, mmu.cpuStats(0).walk);",
      "export const result = { t, miss, frame, hits: mmu.cpuStats(0).tlbHit, walks: mmu.cpuStats(0).walk };");
    expect(result.t).toEqual({ ok: true, pa: (BigInt(result.frame) << 12n) | 0x123n, pageSize: 4096 });
    expect(result.miss).toEqual({ ok: false, fault: "#PF", vector: 14, errorCode: 4, cr2: 0x800000n });
    expect(result.walks).toBe(2n);
  });

  it("processes example runs: fork with copy-on-write, a shared mapping, maps, a clean check", async () => {
    const result = await runExample("processes", "console.log(seen, maps, violations, free0 - mmu.freeFrames());",
      "export const result = { seen, maps, violations, kept: free0 - mmu.freeFrames() };");
    expect(result.seen).toEqual([42, 7, 9]);
    expect(result.maps).toMatch(/^[0-9a-f]{8,}-[0-9a-f]{8,} rw-s 00000000 00:01 \d+ +\/mmemu\/file\d+\n[0-9a-f]+-[0-9a-f]+ rw-p 00000000 00:00 0 \n$/);
    expect(result.violations).toEqual([]);
    expect(result.kept).toBe(2);
  });
});
