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
});
