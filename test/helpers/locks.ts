// Kernel objects for lock tests: a struct mm_lock and torture data from a kmem cache of 64-byte objects
// (the helpers live in src/locking/lock-objects.ts, which the benchmarks use too).
export { kobj, newLock, MODE_WRITE, MODE_READ, MODE_NESTED } from "../../src/locking/lock-objects.js";
