import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createOpenAPIDocument } from "../adapters/openapi.ts";

describe("docs/openapi.json", () => {
  it("is the document the server serves at /openapi.json (regenerate with npm run docs:openapi)", () => {
    const committed = readFileSync(join(import.meta.dirname, "..", "docs", "openapi.json"), "utf8");
    expect(committed).toBe(`${JSON.stringify(createOpenAPIDocument(), null, 2)}\n`);
  });
});
