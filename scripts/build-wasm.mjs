#!/usr/bin/env node
// Build the Wasm core (release and debug targets of asconfig.json) when any source is newer than
// its output. `--force` rebuilds regardless.
import { spawnSync } from "node:child_process";
import { readdirSync, statSync, existsSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const force = process.argv.includes("--force");
const targets = [
  { name: "release", out: "build/mmemu.wasm" },
  { name: "debug", out: "build/mmemu.debug.wasm" },
];

function newestSource(dir) {
  let newest = statSync(join(root, "asconfig.json")).mtimeMs;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith(".ts")) continue;
    const path = join(entry.parentPath ?? entry.path, entry.name);
    newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

const sources = newestSource(join(root, "assembly"));
const asc = join(root, "node_modules", "assemblyscript", "bin", "asc.js");
for (const t of targets) {
  const out = join(root, t.out);
  if (!force && existsSync(out) && statSync(out).mtimeMs >= sources) continue;
  const started = Date.now();
  const r = spawnSync(process.execPath, [asc, "--config", "asconfig.json", "--target", t.name], { cwd: root, stdio: "inherit" });
  if (r.status !== 0) {
    console.error(`build-wasm: the ${t.name} build failed`);
    process.exit(r.status ?? 1);
  }
  console.log(`build-wasm: ${t.out} (${Date.now() - started} ms)`);
}
