import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll } from "vitest";

const made: string[] = [];
afterAll(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh temp folder (real path), removed after the test file. */
export function tempDir(prefix = "gb-"): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  made.push(dir);
  return dir;
}

/** A root with a `runs/` folder inside, so tests can plant files next to the runs directory. */
export function makeRunsDir(): { root: string; runsDir: string } {
  const root = tempDir();
  const runsDir = join(root, "runs");
  mkdirSync(runsDir);
  return { root, runsDir };
}

/** Writes `content` at `path`, creating folders. */
export function writeFile(path: string, content: string | Buffer): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
}

export const sha256 = (content: string | Buffer): string => createHash("sha256").update(content).digest("hex");

/** Writes a raw summary text (anything: broken JSON, wrong schema) for `runId`. */
export function writeSummaryText(runsDir: string, runId: string, text: string): string {
  const runDir = join(runsDir, runId);
  writeFile(join(runDir, "retention-summary.json"), text);
  return runDir;
}

export interface LegacyRunSpec {
  status?: string;
  startedAt?: string;
  finishedAt?: string;
  reports?: Record<string, string | null>;
  extra?: Record<string, unknown>;
}

/** A legacy run: no schemaVersion, string report refs. `reports` maps ref → content (null: not written). */
export function writeLegacyRun(runsDir: string, runId: string, spec: LegacyRunSpec = {}): string {
  const runDir = join(runsDir, runId);
  const reports = spec.reports ?? { "reports/summary.html": "<h1>ok</h1>" };
  for (const [ref, content] of Object.entries(reports)) if (content !== null) writeFile(join(runDir, ref), content);
  const summary = {
    runId,
    status: spec.status ?? "passed",
    startedAt: spec.startedAt ?? "2025-01-01T00:00:00Z",
    ...(spec.finishedAt ? { finishedAt: spec.finishedAt } : {}),
    reports: Object.keys(reports),
    ...spec.extra,
  };
  return writeSummaryText(runsDir, runId, JSON.stringify(summary));
}

export interface ReportSpec {
  id: string;
  path: string;
  content?: string | null;
  mediaType?: string;
  title?: string;
  format?: "junit" | "ctrf";
}

export interface CurrentRunSpec {
  status?: string;
  startedAt?: string;
  finishedAt?: string | null;
  exitCode?: number | null;
  labels?: Record<string, string>;
  command?: string[];
  reports?: ReportSpec[];
  /** path (relative to assessment-package/) → content; null writes the entry but not the file. */
  artifacts?: Record<string, string | null>;
  /** Extra manifest entries written as they are (for unsafe paths). */
  rawArtifacts?: unknown[];
  manifest?: "write" | "omit-file" | "undeclared";
  submission?: Record<string, unknown> | null;
  schemaVersion?: number;
  extra?: Record<string, unknown>;
}

/** A current (schema version 2) run with reports, an artifact manifest and optionally a submission. */
export function writeCurrentRun(runsDir: string, runId: string, spec: CurrentRunSpec = {}): string {
  const runDir = join(runsDir, runId);
  const reports = spec.reports ?? [{ id: "junit", path: "reports/junit.xml", content: "<testsuite/>" }];
  for (const r of reports) if (r.content !== null) writeFile(join(runDir, r.path), r.content ?? `report ${r.id}`);
  const artifacts = spec.artifacts ?? { "out/result.json": '{"ok":true}' };
  const entries: unknown[] = Object.entries(artifacts).map(([path, content]) => {
    const body = content ?? "never written";
    if (content !== null) writeFile(join(runDir, "assessment-package", path), body);
    return { path, size: Buffer.byteLength(body), sha256: sha256(body) };
  });
  const manifest = spec.manifest ?? "write";
  if (manifest === "write") {
    writeFile(
      join(runDir, "assessment-package", "artifact-manifest.json"),
      JSON.stringify({ schemaVersion: 1, artifacts: [...entries, ...(spec.rawArtifacts ?? [])] }),
    );
  }
  if (spec.submission) writeFile(join(runDir, "submission-manifest.json"), JSON.stringify(spec.submission));
  const summary = {
    schemaVersion: spec.schemaVersion ?? 2,
    runId,
    status: spec.status ?? "passed",
    startedAt: spec.startedAt ?? "2026-01-01T00:00:00Z",
    finishedAt: spec.finishedAt === undefined ? "2026-01-01T00:01:00Z" : spec.finishedAt,
    exitCode: spec.exitCode === undefined ? 0 : spec.exitCode,
    command: spec.command ?? ["npm", "test"],
    labels: spec.labels ?? {},
    reports: reports.map(({ content: _content, ...ref }) => ref),
    ...(manifest === "undeclared" ? {} : { artifactManifest: "assessment-package/artifact-manifest.json" }),
    ...(spec.submission ? { submissionManifest: "submission-manifest.json" } : {}),
    ...spec.extra,
  };
  return writeSummaryText(runsDir, runId, JSON.stringify(summary));
}

/**
 * Run `r` whose reports all point at `<root>/canary.txt` (content `CANARY-outside`), outside the
 * runs directory: by `..`, by absolute path, by backslashes, and through a link in `reports/`.
 * Returns the report ids with the reason each is unsafe.
 */
export function writeUnsafeReportsRun(root: string, runsDir: string): [id: string, reason: string][] {
  const canary = join(root, "canary.txt");
  writeFileSync(canary, "CANARY-outside");
  const runDir = writeCurrentRun(runsDir, "r", {
    reports: [
      { id: "up", path: "../../canary.txt", content: null },
      { id: "abs", path: canary, content: null },
      { id: "bs", path: "reports\\..\\..\\canary.txt", content: null },
      { id: "link", path: "reports/link.txt", content: null },
    ],
  });
  mkdirSync(join(runDir, "reports"));
  symlinkSync(canary, join(runDir, "reports", "link.txt"));
  return [
    ["up", "parent-segment"],
    ["abs", "absolute"],
    ["bs", "backslash"],
    ["link", "escapes-run"],
  ];
}

/** A folder with some output but no summary: in progress or abandoned. */
export function writeIncompleteRun(runsDir: string, runId: string): string {
  const runDir = join(runsDir, runId);
  writeFile(join(runDir, "logs", "stdout.log"), "still running");
  return runDir;
}

/** `n` current runs, one minute apart, newest last; returns their ids. */
export function writeManyRuns(runsDir: string, n: number, labels?: (i: number) => Record<string, string>): string[] {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const runId = `run-${String(i).padStart(5, "0")}`;
    const startedAt = new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString();
    writeCurrentRun(runsDir, runId, {
      startedAt,
      status: i % 3 === 0 ? "failed" : "passed",
      labels: labels?.(i) ?? {},
      reports: [],
      artifacts: {},
    });
    ids.push(runId);
  }
  return ids;
}
