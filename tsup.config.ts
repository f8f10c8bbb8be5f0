import { defineConfig } from "tsup";

export default defineConfig([
  {
    // The library: ESM + CJS with types for both.
    entry: { index: "src/index.ts" },
    format: ["esm", "cjs"],
    dts: true,
    target: "node20",
    sourcemap: false,
  },
  {
    // The CLI: ESM only, loaded by bin/guide-board.mjs.
    entry: { cli: "cli/index.ts" },
    format: ["esm"],
    dts: false,
    target: "node20",
  },
]);
