import { describe, expect, it } from "vitest";
import { parseSummary } from "../src/index.ts";

const legacy = { runId: "r1", status: "passed", startedAt: "2025-01-01T00:00:00Z", reports: ["reports/a.html"] };
const current = {
  schemaVersion: 2,
  runId: "r2",
  status: "failed",
  startedAt: "2026-01-01T00:00:00.123+02:00",
  finishedAt: null,
  exitCode: 1,
  command: ["npm", "test"],
  labels: { branch: "main" },
  reports: [{ id: "junit", path: "reports/junit.xml", mediaType: "application/xml", title: "JUnit" }],
  artifactManifest: "assessment-package/artifact-manifest.json",
  submissionManifest: "submission-manifest.json",
};

describe("parseSummary", () => {
  it("reads each generation and tags it", () => {
    expect(parseSummary(JSON.stringify(legacy))).toMatchObject({ generation: "legacy", summary: legacy });
    expect(parseSummary(JSON.stringify(current))).toMatchObject({
      generation: "current",
      summary: { runId: "r2", exitCode: 1 },
    });
    const newer = parseSummary(
      JSON.stringify({ ...current, schemaVersion: 7, labels: "not a record", future: { x: 1 } }),
    );
    expect(newer).toMatchObject({ generation: "newer", summary: { schemaVersion: 7, exitCode: 1 } });
    expect("summary" in newer && newer.summary.labels).toBeUndefined();
  });

  it("reads a newer summary with legacy-style reports best-effort", () => {
    const parsed = parseSummary(JSON.stringify({ ...legacy, schemaVersion: 3 }));
    expect(parsed).toMatchObject({ generation: "newer", summary: { reports: ["reports/a.html"] } });
  });

  it("accepts a UTF-8 byte order mark and timestamps without a zone", () => {
    expect(parseSummary(`\uFEFF${JSON.stringify({ ...legacy, startedAt: "2025-01-01T00:00:00" })}`)).toMatchObject({
      generation: "legacy",
    });
  });

  it.each([
    ["not JSON", "{", "corrupt-summary"],
    ["truncated", JSON.stringify(current).slice(0, 40), "corrupt-summary"],
    ["an array", "[]", "schema-invalid"],
    ["null", "null", "schema-invalid"],
    ["a bad status", JSON.stringify({ ...legacy, status: "green" }), "schema-invalid"],
    ["a date without time", JSON.stringify({ ...legacy, startedAt: "2025-01-01" }), "schema-invalid"],
    ["schemaVersion 1", JSON.stringify({ ...current, schemaVersion: 1 }), "schema-invalid"],
    ["schemaVersion '2'", JSON.stringify({ ...current, schemaVersion: "2" }), "schema-invalid"],
    ["schemaVersion 2.5", JSON.stringify({ ...current, schemaVersion: 2.5 }), "schema-invalid"],
    ["v2 without command", JSON.stringify({ ...current, command: undefined }), "schema-invalid"],
    ["v2 with string reports", JSON.stringify({ ...current, reports: ["a"] }), "schema-invalid"],
    ["newer without status", JSON.stringify({ ...current, schemaVersion: 3, status: undefined }), "schema-invalid"],
  ])("reports %s as %s", (_name, text, kind) => {
    const parsed = parseSummary(text);
    expect(parsed).toMatchObject({ problem: { kind } });
    expect("problem" in parsed && parsed.problem.message).not.toMatch(/\n|at .*\(/);
  });
});
