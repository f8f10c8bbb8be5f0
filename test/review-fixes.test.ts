import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  artifactManifest,
  getRetainedRun,
  isGuideBoardError,
  latestRun,
  listRetainedRuns,
  reportPaths,
  submissionManifest,
  toJSONText,
} from "../src/index.ts";
import { makeRunsDir, writeCurrentRun, writeFile, writeLegacyRun, writeSummaryText } from "./helpers/runs.ts";

const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => "resolved",
    (error: unknown) => (isGuideBoardError(error) ? error.code : String(error)),
  );

describe("report ids", () => {
  it("numbers repeats in order without colliding with ids the summary gives", async () => {
    const { runsDir } = makeRunsDir();
    writeCurrentRun(runsDir, "r", {
      reports: ["a", "a", "a-2", "a", "b"].map((id, i) => ({ id, path: `reports/${i}.txt` })),
    });
    const { reports } = await reportPaths({ runsDir }, "r");
    expect(reports.map((r) => r.id)).toEqual(["a", "a-2", "a-2-2", "a-3", "b"]);
  });

  it("stays linear for a summary that repeats one ref 50,000 times", async () => {
    const { runsDir } = makeRunsDir();
    writeSummaryText(
      runsDir,
      "many",
      JSON.stringify({
        runId: "many",
        status: "passed",
        startedAt: "2026-01-01T00:00:00Z",
        reports: Array(50_000).fill("a"),
      }),
    );
    const { reports } = await reportPaths({ runsDir }, "many");
    expect(reports).toHaveLength(50_000);
    expect(reports.at(-1)!.id).toBe("a-50000");
  });
});

describe("options", () => {
  it.each([
    ["latestRun(undefined)", () => latestRun(undefined as never)],
    ["getRetainedRun(null)", () => getRetainedRun(null as never, "x")],
    ["reportPaths(undefined)", () => reportPaths(undefined as never, "x")],
    ["maxSummaryBytes NaN", () => listRetainedRuns({ runsDir: "/tmp", maxSummaryBytes: Number.NaN })],
    ["maxSummaryBytes -1", () => listRetainedRuns({ runsDir: "/tmp", maxSummaryBytes: -1 })],
    ["maxSummaryBytes 1.5", () => latestRun({ runsDir: "/tmp", maxSummaryBytes: 1.5 })],
    [
      "a throwing getter",
      () =>
        listRetainedRuns(
          Object.defineProperty({}, "runsDir", {
            get: () => {
              throw new Error("boom");
            },
          }) as never,
        ),
    ],
  ])("%s is INVALID_OPTIONS", async (_name, call) => {
    expect(await codeOf(call())).toBe("INVALID_OPTIONS");
  });
});

describe("time precision", () => {
  it("orders and filters by digits finer than a millisecond", async () => {
    const { runsDir } = makeRunsDir();
    writeCurrentRun(runsDir, "b", { startedAt: "2026-01-01T00:00:00Z" });
    writeCurrentRun(runsDir, "a", { startedAt: "2026-01-01T00:00:00.0009Z" });
    const all = await listRetainedRuns({ runsDir });
    expect(all.runs.map((run) => run.runId)).toEqual(["a", "b"]);
    const since = await listRetainedRuns({ runsDir, since: "2026-01-01T00:00:00.0005Z" });
    expect(since.runs.map((run) => run.runId)).toEqual(["a"]);
    const first = await listRetainedRuns({ runsDir, limit: 1 });
    const second = await listRetainedRuns({ runsDir, limit: 1, cursor: first.nextCursor });
    expect(second.runs.map((run) => run.runId)).toEqual(["b"]);
  });
});

describe("toJSONText", () => {
  it("escapes characters that act on terminals and still parses to the same value", () => {
    const value = { label: "a\u009b31m\u202eb\u2028c\u0000" };
    const text = toJSONText(value);
    expect(text.slice(0, -1)).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202e\u2028]/);
    expect(text.endsWith("\n")).toBe(true);
    expect(JSON.parse(text)).toEqual(value);
  });
});

describe("manifests", () => {
  it("answers a manifest path that is a folder with a file-missing marker", async () => {
    const { runsDir } = makeRunsDir();
    const runDir = writeCurrentRun(runsDir, "r", { manifest: "omit-file" });
    mkdirSync(join(runDir, "assessment-package", "artifact-manifest.json"), { recursive: true });
    expect(await artifactManifest({ runsDir }, "r")).toMatchObject({ available: false, reason: "file-missing" });
  });

  it("refuses submission manifests that are too large or nested too deeply", async () => {
    const { runsDir } = makeRunsDir();
    const big = writeCurrentRun(runsDir, "big", { submission: { schemaVersion: 1 } });
    writeFile(
      join(big, "submission-manifest.json"),
      JSON.stringify({ schemaVersion: 1, pad: "x".repeat(2 * 1024 * 1024) }),
    );
    const deep = writeCurrentRun(runsDir, "deep", { submission: { schemaVersion: 1 } });
    writeFile(
      join(deep, "submission-manifest.json"),
      `{"schemaVersion":1,"x":${"[".repeat(200_000)}${"]".repeat(200_000)}}`,
    );
    expect(await codeOf(submissionManifest({ runsDir }, "big"))).toBe("MANIFEST_INVALID");
    expect(await codeOf(submissionManifest({ runsDir }, "deep"))).toBe("MANIFEST_INVALID");
  });

  it("hides hostile keys in diagnostic messages", async () => {
    const { runsDir } = makeRunsDir();
    writeCurrentRun(runsDir, "r", { extra: { labels: { "k\u001b]0;owned\u0007": 5 } } });
    writeLegacyRun(runsDir, "ok");
    const { diagnostics } = await listRetainedRuns({ runsDir });
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]!.message).toMatch(/^Summary field labels\.\*:/);
    expect(diagnostics[0]!.message).not.toMatch(/\u001b/);
  });
});
