import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import {
  chmodSync,
  closeSync,
  existsSync,
  ftruncateSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  artifactManifest,
  getRetainedRun,
  isGuideBoardError,
  latestRun,
  listRetainedRuns,
  reportPaths,
  type DiagnosticKind,
  type GuideBoardErrorCode,
  type UnsafeReason,
} from "../src/index.ts";
import {
  makeRunsDir,
  sha256,
  writeCurrentRun,
  writeFile,
  writeIncompleteRun,
  writeLegacyRun,
  writeSummaryText,
} from "./helpers/runs.ts";
import { makeFifo } from "./helpers/fifo.ts";

// ---------------------------------------------------------------------------------------------
// The world: a runs directory with two good runs, and canaries where a hostile run might reach.
// Each canary holds the same secret text, shaped so that following a link to it would surface
// the text in a result (as a label, an artifact path, a report).

interface World {
  root: string;
  runsDir: string;
  canary: string;
  /** `root/outside/`: plain text, a valid artifact manifest and a valid summary, all carrying the canary. */
  outside: { text: string; manifest: string; summary: (runId: string) => string; runFolder: string };
}

function makeWorld(): World {
  const { root, runsDir } = makeRunsDir();
  const canary = `CANARY-${randomUUID()}`;
  const text = join(root, "outside", "canary.txt");
  writeFile(text, canary);
  const manifest = join(root, "outside", "canary-manifest.json");
  writeFile(
    manifest,
    JSON.stringify({ schemaVersion: 1, artifacts: [{ path: `${canary}.bin`, size: 1, sha256: sha256("x") }] }),
  );
  const summary = (runId: string) => {
    const path = join(root, "outside", `${runId}-summary.json`);
    writeFile(path, JSON.stringify({ runId, status: "passed", startedAt: "2030-01-01T00:00:00Z", reports: [canary] }));
    return path;
  };
  const runFolder = join(root, "outside", "run-folder");
  writeCurrentRun(join(root, "outside"), "run-folder", {
    startedAt: "2030-01-01T00:00:00Z",
    labels: { secret: canary },
  });
  writeCurrentRun(runsDir, "neighbour", {
    startedAt: "2026-01-01T00:00:00Z",
    reports: [{ id: "secret", path: "reports/secret.txt", content: canary }],
  });
  writeCurrentRun(runsDir, "good", { startedAt: "2026-02-01T00:00:00Z" });
  return { root, runsDir, canary, outside: { text, manifest, summary, runFolder } };
}

/** Every path under `dir` with its kind, size, mtime and link target; nothing is opened. */
function snapshotTree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (path: string) => {
    const stat = lstatSync(path);
    const kind = stat.isSymbolicLink()
      ? `link:${readlinkSync(path)}`
      : stat.isDirectory()
        ? "dir"
        : stat.isFIFO()
          ? "fifo"
          : "file";
    out.set(relative(dir, path) || ".", `${kind} ${stat.size} ${stat.mtimeMs} ${stat.mode}`);
    if (!stat.isDirectory()) return;
    let names: string[];
    try {
      names = readdirSync(path);
    } catch {
      names = []; // a locked folder (when not root): its mode above is what matters
    }
    for (const name of names) walk(join(path, name));
  };
  walk(dir);
  return out;
}

/** JSON of anything a call returned or threw, including an error's message and details. */
function shown(value: unknown): string {
  if (value instanceof Error)
    return JSON.stringify({ value, message: value.message, details: (value as { details?: unknown }).details });
  return String(JSON.stringify(value));
}

/**
 * Runs `act` against the world and checks the two rules every test shares: the tree is untouched,
 * and no canary text comes back. Returns what `act` returned or threw, and how long it took.
 */
async function observe<T>(world: World, act: () => Promise<T>): Promise<{ value?: T; error?: unknown; ms: number }> {
  const before = snapshotTree(world.root);
  const started = performance.now();
  let outcome: { value?: T; error?: unknown };
  try {
    outcome = { value: await act() };
  } catch (error) {
    outcome = { error };
  }
  const ms = performance.now() - started;
  expect(snapshotTree(world.root)).toEqual(before);
  expect(shown("error" in outcome ? outcome.error : outcome.value)).not.toContain(world.canary);
  return { ...outcome, ms };
}

/** The error `act` threw, after checking it is a GuideBoardError with `code`. */
async function expectCode(world: World, code: GuideBoardErrorCode, act: () => Promise<unknown>) {
  const { error } = await observe(world, act);
  expect(isGuideBoardError(error, code), shown(error)).toBe(true);
  return error as { code: string; details?: Record<string, unknown> };
}

async function listIds(world: World, runsDir: string | string[] = world.runsDir) {
  const { value, error, ms } = await observe(world, () => listRetainedRuns({ runsDir }));
  if (error !== undefined) throw error;
  return { ids: value!.runs.map((run) => run.runId).sort(), diagnostics: byEntry(value!.diagnostics), ms };
}

const later = (runId: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    schemaVersion: 2,
    runId,
    status: "passed",
    startedAt: "2030-01-01T00:00:00Z",
    exitCode: 0,
    command: [],
    labels: {},
    reports: [],
    ...extra,
  });

// ---------------------------------------------------------------------------------------------

describe("a broken retention-summary.json is a diagnostic, never a broken listing", () => {
  // Each hostile summary claims a later start than any good run, so a wrongly accepted one would
  // also become the latest run.
  it.each<[string, DiagnosticKind, (world: World, runDir: string) => void]>([
    ["truncated JSON", "corrupt-summary", (w) => writeSummaryText(w.runsDir, "hostile", later("hostile").slice(0, 40))],
    ["not JSON", "corrupt-summary", (w) => writeSummaryText(w.runsDir, "hostile", "<html>nope</html>")],
    ["a JSON array", "schema-invalid", (w) => writeSummaryText(w.runsDir, "hostile", "[]")],
    [
      "an unknown status",
      "schema-invalid",
      (w) => writeSummaryText(w.runsDir, "hostile", later("hostile", { status: "green" })),
    ],
    [
      "schemaVersion 1",
      "schema-invalid",
      (w) => writeSummaryText(w.runsDir, "hostile", later("hostile", { schemaVersion: 1 })),
    ],
    [
      'schemaVersion "2"',
      "schema-invalid",
      (w) => writeSummaryText(w.runsDir, "hostile", later("hostile", { schemaVersion: "2" })),
    ],
    [
      "schemaVersion -3",
      "schema-invalid",
      (w) => writeSummaryText(w.runsDir, "hostile", later("hostile", { schemaVersion: -3 })),
    ],
    ["a runId naming another folder", "run-id-mismatch", (w) => writeSummaryText(w.runsDir, "hostile", later("good"))],
    [
      "a folder in place of the summary",
      "unsafe-summary",
      (_w, runDir) => mkdirSync(join(runDir, "retention-summary.json"), { recursive: true }),
    ],
    [
      "a FIFO in place of the summary",
      "unsafe-summary",
      (_w, runDir) => {
        mkdirSync(runDir);
        makeFifo(join(runDir, "retention-summary.json"));
      },
    ],
    [
      "a link to a summary outside",
      "unsafe-summary",
      (w, runDir) => link(w.outside.summary("hostile"), runDir, "retention-summary.json"),
    ],
    [
      "a link to a summary inside",
      "unsafe-summary",
      (_w, runDir) => {
        writeFile(join(runDir, "s.json"), later("hostile"));
        link("s.json", runDir, "retention-summary.json");
      },
    ],
    [
      "a 1 GiB sparse summary",
      "summary-too-large",
      (_w, runDir) => sparse(join(runDir, "retention-summary.json"), 2 ** 30),
    ],
    ["no summary (still running)", "incomplete", (w) => writeIncompleteRun(w.runsDir, "hostile")],
  ])("%s is a %s diagnostic", async (_name, kind, plant) => {
    const world = makeWorld();
    plant(world, join(world.runsDir, "hostile"));

    const listing = await listIds(world);
    expect(listing.ms).toBeLessThan(2000);
    expect(listing.ids).toEqual(["good", "neighbour"]);
    expect(listing.diagnostics).toEqual([expect.objectContaining({ entry: "hostile", kind })]);

    const error = await expectCode(world, "RUN_NOT_FOUND", () => getRetainedRun({ runsDir: world.runsDir }, "hostile"));
    expect(error.details).toMatchObject({ reason: kind });
    await expectCode(world, "RUN_NOT_FOUND", () => reportPaths({ runsDir: world.runsDir }, "hostile"));
    expect((await observe(world, () => latestRun({ runsDir: world.runsDir }))).value?.runId).toBe("good");
  });

  it("survives a summary nested 100000 arrays deep: listed or a diagnostic, never a crash", async () => {
    const world = makeWorld();
    const deep = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
    writeSummaryText(world.runsDir, "deep", `${later("deep").slice(0, -1)},"extra":${deep}}`);

    const listing = await listIds(world);
    const diagnosed = listing.diagnostics.some((d) => d.entry === "deep" && d.kind === "corrupt-summary");
    expect(listing.ids.includes("deep") !== diagnosed, "exactly one of listed / diagnosed").toBe(true);
    expect(listing.ids).toEqual(expect.arrayContaining(["good", "neighbour"]));
    const { value, error } = await observe(world, () => getRetainedRun({ runsDir: world.runsDir }, "deep"));
    expect(diagnosed ? isGuideBoardError(error, "RUN_NOT_FOUND") : value?.runId === "deep").toBe(true);
  });

  it("hides hostile label keys in its diagnostic message", async () => {
    const { runsDir } = makeRunsDir();
    writeCurrentRun(runsDir, "r", { extra: { labels: { "k\u001b]0;owned\u0007": 5 } } });
    writeLegacyRun(runsDir, "ok");
    const { diagnostics } = await listRetainedRuns({ runsDir });
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]!.message).toMatch(/^Summary field labels\.\*:/);
    expect(diagnostics[0]!.message).not.toMatch(/\u001b/);
  });
});

describe("folders that are not runs", () => {
  it.each([
    ["a newline", "bad\nname"],
    ["a carriage return", "bad\rname"],
    ["a tab", "tab\tname"],
    ["a terminal escape", "esc\u001b[2J"],
    ["DEL", "del\u007f"],
    ["a leading dot", ".hidden"],
    ["a leading dash", "-dash"],
    ["a space", "space name"],
    ["non-ASCII letters", "ünï"],
    ["129 characters", "x".repeat(129)],
  ])("a folder name with %s is an invalid-run-id diagnostic", async (_name, folder) => {
    const world = makeWorld();
    writeLegacyRun(world.runsDir, folder, { startedAt: "2030-01-01T00:00:00Z" });

    const listing = await listIds(world);
    expect(listing.ids).toEqual(["good", "neighbour"]);
    expect(listing.diagnostics).toEqual([expect.objectContaining({ entry: folder, kind: "invalid-run-id" })]);
    await expectCode(world, "INVALID_RUN_ID", () => getRetainedRun({ runsDir: world.runsDir }, folder));
  });

  it.each<[string, (world: World) => void, string[]]>([
    ["to a valid run outside the runs directory", (w) => link(w.outside.runFolder, w.runsDir, "alias"), ["alias"]],
    ["to another run", (w) => link("good", w.runsDir, "alias"), ["alias"]],
    [
      "in a loop",
      (w) => {
        link("alias-b", w.runsDir, "alias");
        link("alias", w.runsDir, "alias-b");
      },
      ["alias", "alias-b"],
    ],
    ["dangling", (w) => link(join(w.root, "nowhere"), w.runsDir, "alias"), ["alias"]],
  ])("a run folder that is a link %s is a symlinked-run-folder diagnostic", async (_name, plant, entries) => {
    const world = makeWorld();
    plant(world);

    const listing = await listIds(world);
    expect(listing.ids).toEqual(["good", "neighbour"]);
    expect(listing.diagnostics).toEqual(
      entries.map((entry) => expect.objectContaining({ entry, kind: "symlinked-run-folder" })),
    );
    const error = await expectCode(world, "RUN_NOT_FOUND", () => getRetainedRun({ runsDir: world.runsDir }, "alias"));
    expect(error.details).toMatchObject({ reason: "symlinked-run-folder" });
    await expectCode(world, "RUN_NOT_FOUND", () => reportPaths({ runsDir: world.runsDir }, "alias"));
    await expectCode(world, "RUN_NOT_FOUND", () => artifactManifest({ runsDir: world.runsDir }, "alias"));
  });

  it("lists the first of two runs directories holding the same run id, with a duplicate-run-id diagnostic", async () => {
    const world = makeWorld();
    const second = join(world.root, "runs-2");
    writeCurrentRun(second, "good", { startedAt: "2030-01-01T00:00:00Z", labels: { from: "second" } });
    writeCurrentRun(second, "only-second", { startedAt: "2025-01-01T00:00:00Z" });

    const { value } = await observe(world, () => listRetainedRuns({ runsDir: [world.runsDir, second] }));
    expect(value!.runs.map((run) => [run.runId, run.runDir])).toEqual([
      ["good", join(world.runsDir, "good")],
      ["neighbour", join(world.runsDir, "neighbour")],
      ["only-second", join(second, "only-second")],
    ]);
    expect(value!.diagnostics).toEqual([
      { runsDir: second, entry: "good", kind: "duplicate-run-id", message: expect.any(String) },
    ]);
    const run = (await observe(world, () => getRetainedRun({ runsDir: [world.runsDir, second] }, "good"))).value;
    expect(run).toMatchObject({ runDir: join(world.runsDir, "good"), labels: {} });
  });

  it("reports a runs directory that does not exist as runs-dir-missing, without throwing", async () => {
    const world = makeWorld();
    const missing = join(world.root, "no-such-runs");

    expect(await listIds(world, missing)).toMatchObject({
      ids: [],
      diagnostics: [{ runsDir: missing, entry: null, kind: "runs-dir-missing" }],
    });
    const both = await listIds(world, [missing, world.runsDir]);
    expect(both.ids).toEqual(["good", "neighbour"]);
    expect(both.diagnostics).toEqual([expect.objectContaining({ runsDir: missing, kind: "runs-dir-missing" })]);
    expect((await observe(world, () => latestRun({ runsDir: missing }))).value).toBeNull();
    await expectCode(world, "RUN_NOT_FOUND", () => getRetainedRun({ runsDir: missing }, "good"));
  });
});

// ---------------------------------------------------------------------------------------------

describe("hostile refs inside a retained run", () => {
  type Outcome = { reason: UnsafeReason } | { exists: boolean };
  const reportCases: [string, string, Outcome, ((world: World, runDir: string) => void)?][] = [
    ["climbs-out", "../neighbour/reports/secret.txt", { reason: "parent-segment" }],
    ["climbs-far", "reports/../../../outside/canary.txt", { reason: "parent-segment" }],
    ["absolute", "/etc/passwd", { reason: "absolute" }],
    ["absolute-canary", "@canary", { reason: "absolute" }],
    ["nul", "reports/a\0.txt", { reason: "nul" }],
    ["backslashes", "..\\neighbour\\reports\\secret.txt", { reason: "backslash" }],
    ["drive", "C:/Windows/win.ini", { reason: "drive-letter" }],
    ["newline", "reports/a\n.txt", { reason: "control-character" }],
    ["link-passwd", "passwd", { reason: "escapes-run" }, (_w, d) => link("/etc/passwd", d, "passwd")],
    [
      "link-sibling",
      "sibling.txt",
      { reason: "escapes-run" },
      (w, d) => link(join(w.runsDir, "neighbour/reports/secret.txt"), d, "sibling.txt"),
    ],
    [
      "link-canary",
      "canary.txt",
      { reason: "escapes-run" },
      (_w, d) => link("../../outside/canary.txt", d, "canary.txt"),
    ],
    [
      "link-runs-root",
      "root/neighbour/reports/secret.txt",
      { reason: "escapes-run" },
      (_w, d) => link("..", d, "root"),
    ],
    [
      "reports-link-out",
      "reports/secret.txt",
      { reason: "escapes-run" },
      (_w, d) => link("../neighbour/reports", d, "reports"),
    ],
    ["link-dev", "null", { reason: "escapes-run" }, (_w, d) => link("/dev/null", d, "null")],
    [
      "loop",
      "loop-a",
      { exists: false },
      (_w, d) => {
        link("loop-b", d, "loop-a");
        link("loop-a", d, "loop-b");
      },
    ],
    ["fifo", "pipe.txt", { exists: false }, (_w, d) => makeFifo(join(d, "pipe.txt"))],
    ["folder", "logs", { exists: false }, (_w, d) => mkdirSync(join(d, "logs"))],
    ["missing", "not-written.html", { exists: false }],
    [
      "link-inside",
      "alias.xml",
      { exists: true },
      (_w, d) => {
        writeFile(join(d, "own/a.xml"), "<a/>");
        link("own/a.xml", d, "alias.xml");
      },
    ],
    ["literal-percent", "%2e%2e/x.txt", { exists: true }, (_w, d) => writeFile(join(d, "%2e%2e/x.txt"), "x")],
  ];

  it("reportPaths marks every hostile report unsafe, without an absolutePath, and answers promptly", async () => {
    const world = makeWorld();
    const refPath = (path: string) => (path === "@canary" ? world.outside.text : path);
    const runDir = writeCurrentRun(world.runsDir, "hostile", {
      reports: reportCases.map(([id, path]) => ({ id, path: refPath(path), content: null })),
    });
    for (const [, , , plant] of reportCases) plant?.(world, runDir);

    const { value, ms } = await observe(world, () => reportPaths({ runsDir: world.runsDir }, "hostile"));
    expect(ms).toBeLessThan(2000);
    const byId = new Map(value!.reports.map((report) => [report.id, report]));
    for (const [id, path, outcome] of reportCases) {
      const report = byId.get(id);
      if ("reason" in outcome) {
        expect(report, id).toMatchObject({
          path: refPath(path),
          unsafe: true,
          reason: outcome.reason,
          exists: false,
          size: null,
        });
        expect(report, id).not.toHaveProperty("absolutePath");
      } else {
        expect(report, id).toMatchObject({ exists: outcome.exists, absolutePath: join(runDir, path) });
        expect(report, id).not.toHaveProperty("unsafe");
      }
    }
  });

  it("treats a legacy run's string refs the same way", async () => {
    const world = makeWorld();
    const runDir = writeLegacyRun(world.runsDir, "legacy", {
      reports: { "../neighbour/reports/secret.txt": null, "/etc/passwd": null, "out.txt": null, "ok.html": "<p/>" },
    });
    link(world.outside.text, runDir, "out.txt");

    const { value } = await observe(world, () => reportPaths({ runsDir: world.runsDir }, "legacy"));
    expect(value!.reports.map((r) => [r.path, r.unsafe ? r.reason : r.exists])).toEqual([
      ["../neighbour/reports/secret.txt", "parent-segment"],
      ["/etc/passwd", "absolute"],
      ["out.txt", "escapes-run"],
      ["ok.html", true],
    ]);
  });

  it("refuses a dangling report link that points outside the run", async () => {
    // Once someone creates the target, the returned absolutePath would read outside the run.
    const world = makeWorld();
    const runDir = writeCurrentRun(world.runsDir, "hostile", {
      reports: [{ id: "later", path: "later.txt", content: null }],
    });
    link(join(world.root, "outside", "created-later.txt"), runDir, "later.txt");

    const { value } = await observe(world, () => reportPaths({ runsDir: world.runsDir }, "hostile"));
    expect(value!.reports[0]).toMatchObject({ unsafe: true, reason: "escapes-run" });
    expect(value!.reports[0]).not.toHaveProperty("absolutePath");
  });

  it("artifactManifest marks hostile artifact entries unsafe, without an absolutePath", async () => {
    const world = makeWorld();
    const entry = (path: string) => ({ path, size: 1, sha256: sha256("x") });
    const unsafe: [string, UnsafeReason][] = [
      ["../../neighbour/reports/secret.txt", "parent-segment"],
      ["/etc/passwd", "absolute"],
      [world.outside.text, "absolute"],
      ["a\0b", "nul"],
      ["..\\..\\outside.txt", "backslash"],
      ["C:/x", "drive-letter"],
      ["escape.txt", "escapes-run"],
      ["neighbour/reports/secret.txt", "escapes-run"],
    ];
    const runDir = writeCurrentRun(world.runsDir, "hostile", {
      artifacts: { "ok.txt": "fine" },
      rawArtifacts: unsafe.map(([path]) => entry(path)),
    });
    link(world.outside.text, join(runDir, "assessment-package"), "escape.txt");
    link("../../neighbour", join(runDir, "assessment-package"), "neighbour");

    const { value } = await observe(world, () => artifactManifest({ runsDir: world.runsDir }, "hostile"));
    if (!value?.available) throw new Error("expected a manifest");
    expect(value.artifacts[0]).toMatchObject({
      path: "ok.txt",
      exists: true,
      absolutePath: join(runDir, "assessment-package/ok.txt"),
    });
    expect(value.artifacts.slice(1).map((a) => [a.path, a.reason, a.unsafe, a.exists, "absolutePath" in a])).toEqual(
      unsafe.map(([path, reason]) => [path, reason, true, false, false]),
    );
  });

  it.each<[string, string | ((world: World, runDir: string) => string), UnsafeReason]>([
    ["climbs into a sibling run", "../neighbour/assessment-package/artifact-manifest.json", "parent-segment"],
    ["is absolute", "/etc/passwd", "absolute"],
    ["is the absolute path of a canary manifest", (w) => w.outside.manifest, "absolute"],
    ["has backslashes", "assessment-package\\artifact-manifest.json", "backslash"],
    ["has a drive letter", "C:/m.json", "drive-letter"],
    ["has NUL", "m\0.json", "nul"],
    [
      "links to a canary manifest outside",
      (w, d) => {
        link(w.outside.manifest, d, "m.json");
        return "m.json";
      },
      "escapes-run",
    ],
    [
      "lies in a folder linked to a sibling run",
      (_w, d) => {
        link("../neighbour/assessment-package", d, "pkg");
        return "pkg/artifact-manifest.json";
      },
      "escapes-run",
    ],
  ])("artifactManifest throws UNSAFE_PATH when the declared manifest path %s", async (_name, declared, reason) => {
    const world = makeWorld();
    const runDir = join(world.runsDir, "hostile");
    mkdirSync(runDir);
    const path = typeof declared === "string" ? declared : declared(world, runDir);
    writeCurrentRun(world.runsDir, "hostile", { manifest: "omit-file", extra: { artifactManifest: path } });

    const error = await expectCode(world, "UNSAFE_PATH", () => artifactManifest({ runsDir: world.runsDir }, "hostile"));
    expect(error.details).toMatchObject({ reason });
    expect((await listIds(world)).ids).toEqual(["good", "hostile", "neighbour"]);
  });

  it("never looks through a declared manifest that links out of the run", async () => {
    // The listing reads no file but the summary, so it cannot tell whether a file outside the run
    // exists; asking for the manifest refuses the link.
    const world = makeWorld();
    const runDir = join(world.runsDir, "hostile");
    mkdirSync(runDir);
    link(world.outside.manifest, runDir, "m.json");
    writeCurrentRun(world.runsDir, "hostile", { manifest: "omit-file", extra: { artifactManifest: "m.json" } });

    const { value } = await observe(world, () => getRetainedRun({ runsDir: world.runsDir }, "hostile"));
    expect(value?.compatibility.missing).toEqual(["submissionManifest"]);
    await expectCode(world, "UNSAFE_PATH", () => artifactManifest({ runsDir: world.runsDir }, "hostile"));
  });

  it("artifactManifest answers a FIFO named as the manifest promptly with a file-missing marker", async () => {
    const world = makeWorld();
    const runDir = writeCurrentRun(world.runsDir, "hostile", { manifest: "omit-file" });
    makeFifo(join(runDir, "assessment-package", "artifact-manifest.json"));

    const started = performance.now();
    const [run, manifest] = await Promise.all([
      getRetainedRun({ runsDir: world.runsDir }, "hostile"),
      artifactManifest({ runsDir: world.runsDir }, "hostile"),
    ]);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(run.runId).toBe("hostile");
    expect(manifest).toMatchObject({ available: false, reason: "file-missing" });
  });
});

// ---------------------------------------------------------------------------------------------

describe("a run the process may not read", () => {
  const dist = fileURLToPath(new URL("../dist/index.js", import.meta.url));

  it("is an unreadable diagnostic while the other runs are listed", async () => {
    const world = makeWorld();
    writeCurrentRun(world.runsDir, "locked-folder", { startedAt: "2030-01-01T00:00:00Z" });
    writeCurrentRun(world.runsDir, "locked-summary", { startedAt: "2030-01-01T00:00:00Z" });
    const expected = ["locked-folder", "locked-summary"].map((entry) =>
      expect.objectContaining({ entry, kind: "unreadable" }),
    );

    const isRoot = process.getuid?.() === 0;
    const lock = () => {
      chmodSync(join(world.runsDir, "locked-folder"), 0o000);
      chmodSync(join(world.runsDir, "locked-summary", "retention-summary.json"), 0o000);
    };
    if (!isRoot) {
      lock();
      const listing = await listIds(world);
      chmodSync(join(world.runsDir, "locked-folder"), 0o755);
      expect(listing.ids).toEqual(["good", "neighbour"]);
      expect(listing.diagnostics).toEqual(expected);
      return;
    }

    // Root reads through chmod 000, so the listing runs in a child that imports the built library
    // as root (the checkout may not be readable by others) and then drops to nobody (65534).
    expect(existsSync(dist), "run `npm run build` first").toBe(true);
    const script = join(world.root, "list.mjs");
    writeFileSync(
      script,
      `import { listRetainedRuns } from ${JSON.stringify(new URL("../dist/index.js", import.meta.url).href)};\n` +
        "process.setgid(65534);\nprocess.setuid(65534);\n" +
        "process.stdout.write(JSON.stringify(await listRetainedRuns({ runsDir: process.argv[2] })));\n",
    );
    for (const path of [world.root, world.runsDir]) chmodSync(path, 0o755);
    lock();

    const before = snapshotTree(world.root);
    const child = spawnSync(process.execPath, [script, world.runsDir], { timeout: 15_000, encoding: "utf8" });
    expect(snapshotTree(world.root)).toEqual(before);
    expect(child.stdout).not.toContain(world.canary);
    expect(child.status, child.stderr).toBe(0);
    const listing = JSON.parse(child.stdout) as { runs: { runId: string }[]; diagnostics: { entry: string | null }[] };
    expect(listing.runs.map((run) => run.runId).sort()).toEqual(["good", "neighbour"]);
    expect(byEntry(listing.diagnostics)).toEqual(expected);
  });
});

/** Diagnostics in a stable order (directory order is the file system's). */
function byEntry<T extends { entry: string | null }>(diagnostics: T[]): T[] {
  return [...diagnostics].sort((a, b) => String(a.entry).localeCompare(String(b.entry)));
}

function link(target: string, dir: string, name: string): void {
  mkdirSync(dir, { recursive: true });
  symlinkSync(target, join(dir, name));
}

function sparse(path: string, size: number): void {
  mkdirSync(join(path, ".."), { recursive: true });
  const fd = openSync(path, "w");
  try {
    ftruncateSync(fd, size);
  } finally {
    closeSync(fd);
  }
}
