// Starting a CPU worker from the TypeScript sources (tests, `tsx`): Node 20 cannot start a .ts
// worker entry itself, so this bootstrap registers tsx in the worker and imports the real entry.
// Built packages start dist/src/cpu/worker.js directly and never load this file.
import { register } from "tsx/esm/api";
import { workerData } from "node:worker_threads";

register();
await import(workerData.entry);
