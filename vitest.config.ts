import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Tests that start worker CPUs need real threads and some seconds on a 2-core machine.
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Files that start worker CPUs measure real contention: run files one at a time so that they
    // do not compete for the machine's two cores.
    fileParallelism: false,
    reporters: ["default"],
  },
});
