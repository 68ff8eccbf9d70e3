#!/usr/bin/env node
// Build the Wasm core: the four targets of asconfig.json, each when any source is newer than its
// output (`--force` rebuilds regardless). The compilations run two at a time (asc is one process per
// target). The virtual targets ("virtual", "virtual-debug": the same source with MMEMU_VIRTUAL) then
// go through Binaryen's Asyncify pass, which turns every CPU into a coroutine that the host's
// scheduler can switch out at env.sched_switch (src/sched/), and are optimised again.
//
// Asyncify instruments only what can reach the one import that unwinds (asyncify-imports =
// env.sched_switch); the other imports (abort, cpu_stuck, ...) never unwind. The pass rewrites the
// output in place through a temporary file; a failed pass removes the output so that the next build
// does not take a half-built file for a fresh one.
import { spawn } from "node:child_process";
import { readdirSync, statSync, existsSync, readFileSync, writeFileSync, renameSync, rmSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const force = process.argv.includes("--force");
const targets = [
  { name: "release", out: "build/mmemu.wasm" },
  { name: "debug", out: "build/mmemu.debug.wasm" },
  { name: "virtual", out: "build/mmemu.virtual.wasm", asyncify: { optimizeLevel: 3, shrinkLevel: 0, debugInfo: false } },
  { name: "virtual-debug", out: "build/mmemu.virtual.debug.wasm", asyncify: { optimizeLevel: 1, shrinkLevel: 0, debugInfo: true } },
];
/** The import through which a CPU gives up its Wasm stack (assembly/kernel/sched.ts). */
const ASYNCIFY_IMPORTS = "env.sched_switch";
const PARALLEL = 2;

function newestSource(dir) {
  let newest = Math.max(statSync(join(root, "asconfig.json")).mtimeMs, statSync(fileURLToPath(import.meta.url)).mtimeMs);
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith(".ts")) continue;
    const path = join(entry.parentPath ?? entry.path, entry.name);
    newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

function compile(t) {
  return new Promise((resolve) => {
    const asc = join(root, "node_modules", "assemblyscript", "bin", "asc.js");
    const child = spawn(process.execPath, [asc, "--config", "asconfig.json", "--target", t.name], { cwd: root, stdio: "inherit" });
    child.on("exit", (code) => resolve(code ?? 1));
  });
}

let binaryen;
async function asyncify(t) {
  binaryen ??= (await import("binaryen")).default;
  const out = join(root, t.out);
  const module = binaryen.readBinary(readFileSync(out));
  try {
    // What asc emitted (threads enabled in asconfig.json, plus asc's defaults); nothing newer, so that
    // the optimiser introduces no instruction Node 20 lacks.
    const F = binaryen.Features;
    module.setFeatures(F.MVP | F.Atomics | F.MutableGlobals | F.NontrappingFPToInt | F.SignExt | F.BulkMemory | F.BulkMemoryOpt);
    binaryen.setPassArgument("asyncify-imports", ASYNCIFY_IMPORTS);
    binaryen.setOptimizeLevel(t.asyncify.optimizeLevel);
    binaryen.setShrinkLevel(t.asyncify.shrinkLevel);
    binaryen.setDebugInfo(t.asyncify.debugInfo);
    module.runPasses(["asyncify"]);
    module.optimize();
    if (!module.validate()) throw new Error("the module does not validate after the Asyncify pass");
    const tmp = `${out}.tmp`;
    writeFileSync(tmp, module.emitBinary());
    renameSync(tmp, out);
  } finally {
    module.dispose();
    binaryen.clearPassArguments();
  }
}

async function build(t) {
  const started = Date.now();
  const status = await compile(t);
  if (status !== 0) throw new Error(`the ${t.name} build failed`);
  if (t.asyncify) {
    try {
      await asyncify(t);
    } catch (e) {
      rmSync(join(root, t.out), { force: true });
      throw new Error(`the Asyncify pass on ${t.out} failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  console.log(`build-wasm: ${t.out}${t.asyncify ? " (+ Asyncify)" : ""} (${Date.now() - started} ms)`);
}

const sources = newestSource(join(root, "assembly"));
const stale = targets.filter((t) => {
  const out = join(root, t.out);
  return force || !existsSync(out) || statSync(out).mtimeMs < sources;
});
const queue = [...stale];
const failures = [];
await Promise.all(Array.from({ length: Math.min(PARALLEL, queue.length) }, async () => {
  for (let t = queue.shift(); t; t = queue.shift()) {
    try {
      await build(t);
    } catch (e) {
      failures.push(e instanceof Error ? e.message : String(e));
    }
  }
}));
if (failures.length > 0) {
  for (const f of failures) console.error(`build-wasm: ${f}`);
  process.exit(1);
}
