#!/usr/bin/env node
// The mmemu command. It runs the compiled host (dist/); `npm run build` makes it.
import { existsSync } from "node:fs";

const cli = new URL("../dist/src/cli.js", import.meta.url);
if (!existsSync(cli)) {
  console.error("mmemu: the host is not built; run `npm run build` (npm start does it for you)");
  process.exit(2);
}
const { main } = await import(cli.href);
process.exitCode = await main(process.argv.slice(2));
