import { defineConfig } from "tsup";

export default defineConfig([
  {
    // ESM: the library, the h3 adapter and the CLI, sharing chunks so the adapter and the CLI
    // use the library's own code instead of a copy.
    // (parser-options: the XML parser's settings, for the benchmark's parser-alone baseline.)
    entry: {
      index: "src/index.ts",
      h3: "adapters/h3.ts",
      cli: "cli/index.ts",
      "parser-options": "src/test-results/parser-options.ts",
    },
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
