import { defineConfig } from "vitest/config";

// The longer reliability suite (test/stress/): bounded in time, run by .ci/run after npm test.
export default defineConfig({
  test: {
    include: ["test/stress/**/*.test.ts"],
    testTimeout: 180_000,
    hookTimeout: 60_000,
    pool: "forks",
    fileParallelism: false,
  },
});
