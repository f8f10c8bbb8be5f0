import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { artifactManifest, isGuideBoardError, reportPaths, submissionManifest } from "../src/index.ts";
import {
  makeRunsDir,
  sha256,
  writeCurrentRun,
  writeFile,
  writeLegacyRun,
  writeSummaryText,
  writeUnsafeReportsRun,
} from "./helpers/runs.ts";

/** The error code a library call rejects with, or "resolved". */
const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => "resolved",
    (error: unknown) => (isGuideBoardError(error) ? error.code : String(error)),
  );

describe("reportPaths", () => {
  it("resolves current refs with ids, media types, sizes and existence", async () => {
    const { runsDir } = makeRunsDir();
    const runDir = writeCurrentRun(runsDir, "r", {
      reports: [
        { id: "html", path: "reports/index.html", content: "<h1>hi</h1>", title: "Report" },
        { id: "junit", path: "./reports//junit.xml", content: "<x/>", mediaType: "application/vnd.junit+xml" },
        { id: "gone", path: "reports/gone.txt", content: null },
        { id: "html", path: "reports/other.html", content: "dup" },
      ],
    });
    const { runId, reports, compatibility } = await reportPaths({ runsDir }, "r");
    expect(runId).toBe("r");
    expect(compatibility.generation).toBe("current");
    expect(reports).toEqual([
      {
        id: "html",
        path: "reports/index.html",
        title: "Report",
        mediaType: "text/html; charset=utf-8",
        size: 11,
        exists: true,
        absolutePath: join(runDir, "reports/index.html"),
      },
      expect.objectContaining({
        id: "junit",
        path: "reports/junit.xml",
        mediaType: "application/vnd.junit+xml",
        size: 4,
      }),
      expect.objectContaining({
        id: "gone",
        exists: false,
        size: null,
        absolutePath: join(runDir, "reports/gone.txt"),
      }),
      expect.objectContaining({ id: "html-2", path: "reports/other.html", exists: true }),
    ]);
  });

  it("derives ids for legacy string refs from file names", async () => {
    const { runsDir } = makeRunsDir();
    writeLegacyRun(runsDir, "old", {
      reports: {
        "reports/junit.xml": "<x/>",
        "other/junit.xml": "<y/>",
        "reports/My Report (final).html": "<p/>",
        "reports/.hidden": "h",
      },
    });
    const { reports, compatibility } = await reportPaths({ runsDir }, "old");
    expect(reports.map((r) => r.id)).toEqual(["junit.xml", "junit.xml-2", "My-Report-final-.html", "hidden"]);
    expect(reports.every((r) => r.exists && r.title === null)).toBe(true);
    expect(compatibility.generation).toBe("legacy");
  });

  it("marks unsafe refs and never resolves them", async () => {
    const { root, runsDir } = makeRunsDir();
    const unsafe = writeUnsafeReportsRun(root, runsDir);
    const { reports } = await reportPaths({ runsDir }, "r");
    expect(reports.map((r) => [r.id, r.reason])).toEqual(unsafe);
    expect(reports.map((r) => [r.id, r.unsafe, r.reason, "absolutePath" in r, r.exists])).toEqual([
      ["up", true, "parent-segment", false, false],
      ["abs", true, "absolute", false, false],
      ["bs", true, "backslash", false, false],
      ["link", true, "escapes-run", false, false],
    ]);
    expect(JSON.stringify(reports)).not.toContain("CANARY");
  });

  it("numbers repeated ids in order without colliding with ids the summary gives", async () => {
    const { runsDir } = makeRunsDir();
    writeCurrentRun(runsDir, "r", {
      reports: ["a", "a", "a-2", "a", "b"].map((id, i) => ({ id, path: `reports/${i}.txt` })),
    });
    const { reports } = await reportPaths({ runsDir }, "r");
    expect(reports.map((r) => r.id)).toEqual(["a", "a-2", "a-2-2", "a-3", "b"]);
  });

  it("numbers repeated ids in linear time, for a summary that repeats one ref 50,000 times", async () => {
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

describe("artifactManifest", () => {
  it("returns the validated manifest with resolved entries", async () => {
    const { runsDir } = makeRunsDir();
    const runDir = writeCurrentRun(runsDir, "r", {
      artifacts: { "coverage/summary.json": "{}", "build/app.bin": "binary", "lost.txt": null },
    });
    const manifest = await artifactManifest({ runsDir }, "r");
    expect(manifest).toEqual({
      runId: "r",
      available: true,
      schemaVersion: 1,
      path: "assessment-package/artifact-manifest.json",
      compatibility: { generation: "current", schemaVersion: 2, missing: ["submissionManifest"] },
      artifacts: [
        {
          path: "coverage/summary.json",
          size: 2,
          sha256: sha256("{}"),
          mediaType: "application/json",
          exists: true,
          absolutePath: join(runDir, "assessment-package/coverage/summary.json"),
        },
        expect.objectContaining({ path: "build/app.bin", mediaType: "application/octet-stream", exists: true }),
        expect.objectContaining({
          path: "lost.txt",
          exists: false,
          absolutePath: join(runDir, "assessment-package/lost.txt"),
        }),
      ],
    });
  });

  it("returns a compatibility marker for legacy runs and missing manifests", async () => {
    const { runsDir } = makeRunsDir();
    writeLegacyRun(runsDir, "old");
    writeCurrentRun(runsDir, "lost", { manifest: "omit-file" });
    writeCurrentRun(runsDir, "none", { manifest: "undeclared" });
    expect(await artifactManifest({ runsDir }, "old")).toMatchObject({
      runId: "old",
      available: false,
      reason: "legacy-run",
      message: expect.stringMatching(/older writer/),
      compatibility: { generation: "legacy", missing: ["artifactManifest", "submissionManifest"] },
    });
    expect(await artifactManifest({ runsDir }, "lost")).toMatchObject({ available: false, reason: "file-missing" });
    expect(await artifactManifest({ runsDir }, "none")).toMatchObject({ available: false, reason: "not-declared" });
  });

  it("answers a manifest path that is a folder with a file-missing marker", async () => {
    const { runsDir } = makeRunsDir();
    const runDir = writeCurrentRun(runsDir, "r", { manifest: "omit-file" });
    mkdirSync(join(runDir, "assessment-package", "artifact-manifest.json"), { recursive: true });
    expect(await artifactManifest({ runsDir }, "r")).toMatchObject({ available: false, reason: "file-missing" });
  });

  it("flags unsafe entries without failing the manifest", async () => {
    const { root, runsDir } = makeRunsDir();
    writeFileSync(join(root, "canary.txt"), "CANARY-outside");
    const runDir = writeCurrentRun(runsDir, "r", {
      artifacts: { "ok.txt": "fine", "out.txt": null },
      rawArtifacts: [
        { path: "../../../canary.txt", size: 1, sha256: sha256("x") },
        { path: "/etc/passwd", size: 1, sha256: sha256("x") },
        { path: "a\u0000b", size: 1, sha256: sha256("x") },
      ],
    });
    symlinkSync(join(root, "canary.txt"), join(runDir, "assessment-package", "out.txt"));
    const manifest = await artifactManifest({ runsDir }, "r");
    if (!manifest.available) throw new Error("expected a manifest");
    expect(manifest.artifacts.map((a) => [a.path.slice(0, 12), a.unsafe ?? false, a.reason ?? null])).toEqual([
      ["ok.txt", false, null],
      ["out.txt", true, "escapes-run"],
      ["../../../can", true, "parent-segment"],
      ["/etc/passwd", true, "absolute"],
      ["a\u0000b", true, "nul"],
    ]);
    expect(manifest.artifacts.filter((a) => a.unsafe).every((a) => a.absolutePath === undefined)).toBe(true);
    expect(JSON.stringify(manifest)).not.toContain("CANARY");
  });

  it.each([
    ["not JSON", "{"],
    ["wrong version", JSON.stringify({ schemaVersion: 2, artifacts: [] })],
    ["bad sha256", JSON.stringify({ schemaVersion: 1, artifacts: [{ path: "a", size: 1, sha256: "XYZ" }] })],
    ["negative size", JSON.stringify({ schemaVersion: 1, artifacts: [{ path: "a", size: -1, sha256: sha256("") }] })],
  ])("throws MANIFEST_INVALID for %s", async (_name, text) => {
    const { runsDir } = makeRunsDir();
    const runDir = writeCurrentRun(runsDir, "r");
    writeFile(join(runDir, "assessment-package/artifact-manifest.json"), text);
    const error = await artifactManifest({ runsDir }, "r").catch((e: unknown) => e);
    expect(isGuideBoardError(error, "MANIFEST_INVALID")).toBe(true);
  });

  it("throws UNSAFE_PATH when the summary names a manifest outside the run", async () => {
    const { root, runsDir } = makeRunsDir();
    writeFileSync(join(root, "m.json"), JSON.stringify({ schemaVersion: 1, artifacts: [] }));
    writeCurrentRun(runsDir, "up", { extra: { artifactManifest: "../../m.json" } });
    const linked = writeCurrentRun(runsDir, "link", { manifest: "undeclared", extra: { artifactManifest: "m.json" } });
    symlinkSync(join(root, "m.json"), join(linked, "m.json"));
    for (const runId of ["up", "link"]) {
      const error = await artifactManifest({ runsDir }, runId).catch((e: unknown) => e);
      expect(isGuideBoardError(error, "UNSAFE_PATH")).toBe(true);
    }
  });
});

describe("submissionManifest", () => {
  it("surfaces the submission manifest as it is, or a marker", async () => {
    const { runsDir } = makeRunsDir();
    writeCurrentRun(runsDir, "sub", { submission: { schemaVersion: 3, board: "x", nested: { a: [1] } } });
    writeCurrentRun(runsDir, "plain");
    writeLegacyRun(runsDir, "old");
    expect(await submissionManifest({ runsDir }, "sub")).toMatchObject({
      available: true,
      path: "submission-manifest.json",
      manifest: { schemaVersion: 3, board: "x", nested: { a: [1] } },
    });
    expect(await submissionManifest({ runsDir }, "plain")).toMatchObject({ available: false, reason: "not-declared" });
    expect(await submissionManifest({ runsDir }, "old")).toMatchObject({ available: false, reason: "legacy-run" });
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
});

describe("artifact existence", () => {
  it("counts only regular files as existing artifacts", async () => {
    const { runsDir } = makeRunsDir();
    const runDir = writeCurrentRun(runsDir, "r", { artifacts: { "file.txt": "x", dir: null } });
    mkdirSync(join(runDir, "assessment-package", "dir"));
    const manifest = await artifactManifest({ runsDir }, "r");
    if (!manifest.available) throw new Error("expected a manifest");
    expect(manifest.artifacts.map((a) => [a.path, a.exists])).toEqual([
      ["file.txt", true],
      ["dir", false],
    ]);
  });
});
