import { defineConfig } from "vitest/config";

// The browser suite (test/browser/): Chromium found on this machine, driven by playwright-core,
// against the built bin. Run by `npm run test:browser` after a build; not part of `npm test`.
export default defineConfig({
  test: {
    include: ["test/browser/**/*.test.ts"],
    globalSetup: ["test/browser/setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    fileParallelism: false,
  },
});
