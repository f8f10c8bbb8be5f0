import { defineConfig } from "tsup";

export default defineConfig([
  {
    // ESM: the library, the h3 adapter and the CLI, sharing chunks so the adapter and the CLI
    // use the library's own code instead of a copy.
    entry: { index: "src/index.ts", h3: "adapters/h3.ts", cli: "cli/index.ts" },
    format: ["esm"],
    dts: { entry: { index: "src/index.ts", h3: "adapters/h3.ts" } },
    splitting: true,
    target: "node20",
  },
  {
    // CJS for the library only (h3 is ESM-only, so the adapter is too).
    entry: { index: "src/index.ts" },
    format: ["cjs"],
    dts: { entry: { index: "src/index.ts" } },
    target: "node20",
  },
]);
