// What `guide-board serve` must answer, endpoint by endpoint, computed from the library alone;
// and the same endpoints asked of a running service over a socket. Tests of the service as a
// child process (test/serve.test.ts, test/stress/faults.test.ts) compare the two after restarts,
// kills and faults: the folders are the only truth.
//
// JSON bodies are compared as text; report and artifact bodies by their length and sha256, so a
// difference does not print a whole file.
import { createHash } from "node:crypto";
import { symlinkSync } from "node:fs";
import { join } from "node:path";
import { STATUS_BY_CODE } from "../../adapters/_http.ts";
import {
  artifactManifest,
  getRetainedRun,
  isGuideBoardError,
  latestRun,
  listRetainedRuns,
  openArtifact,
  openReport,
  reportPaths,
  toJSONText,
  type OpenedFile,
  type RunsOptions,
} from "../../src/index.ts";
import { rawRequest } from "./http.ts";
import { writeCurrentRun, writeIncompleteRun, writeLegacyRun } from "./runs.ts";

/** One endpoint's answer: its status and its body (JSON as text, a file as {@link fileDigest}). */
export interface Answer {
  status: number;
  body: string;
}

/** How a report or artifact body is compared: its length and sha256. */
export const fileDigest = (bytes: Buffer | string): string => {
  const buffer = Buffer.from(bytes);
  return `${buffer.length} bytes, sha256 ${createHash("sha256").update(buffer).digest("hex")}`;
};

const isFileRoute = (path: string) => /^\/retained-runs\/[^/]+\/(?:reports\/[^/]+|artifacts\/.+)$/.test(path);
const encodePath = (path: string) => path.split("/").map(encodeURIComponent).join("/");

function errorAnswer(error: unknown): Answer {
  if (!isGuideBoardError(error)) throw error;
  return { status: STATUS_BY_CODE[error.code], body: toJSONText(error.toJSON()) };
}

async function jsonAnswer(fn: () => Promise<unknown>): Promise<Answer> {
  try {
    return { status: 200, body: toJSONText(await fn()) };
  } catch (error) {
    return errorAnswer(error);
  }
}

/** A report or artifact: the library decides whether it is served; the body is the bytes it opened. */
async function fileAnswer(open: () => Promise<OpenedFile<unknown>>): Promise<Answer> {
  let opened: OpenedFile<unknown>;
  try {
    opened = await open();
  } catch (error) {
    return errorAnswer(error);
  }
  try {
    return { status: 200, body: fileDigest(await opened.file.handle.readFile()) };
  } finally {
    await opened.file.handle.close();
  }
}

/** `latestRun` as the service answers it: the run, or 404 when none matches. */
async function latestAnswer(options: Parameters<typeof latestRun>[0]): Promise<Answer> {
  const run = await latestRun(options);
  if (run !== null) return { status: 200, body: toJSONText(run) };
  return { status: 404, body: toJSONText({ error: { code: "RUN_NOT_FOUND", message: "No retained run matches." } }) };
}

/**
 * Every endpoint as the library answers it for `runsDir`: the list, latest, latest failed, and
 * for each retained run the run, its reports, each report's body, its artifact manifest and each
 * listed artifact's body. Runs in `absent` (removed, or never there) are asked the same routes.
 */
export async function expectedAnswers(
  runsDir: string,
  absent: readonly string[] = [],
): Promise<Record<string, Answer>> {
  const options: RunsOptions = { runsDir: [runsDir] };
  const answers: Record<string, Answer> = {
    "/retained-runs": await jsonAnswer(() => listRetainedRuns({ ...options, limit: 100 })),
    "/retained-runs/latest": await latestAnswer(options),
    "/retained-runs/latest?status=failed": await latestAnswer({ ...options, status: ["failed"] }),
  };
  const { runs } = await listRetainedRuns({ ...options, limit: 1000 });
  for (const runId of [...runs.map((run) => run.runId), ...absent]) {
    const base = `/retained-runs/${runId}`;
    answers[base] = await jsonAnswer(() => getRetainedRun(options, runId));
    answers[`${base}/reports`] = await jsonAnswer(() => reportPaths(options, runId));
    answers[`${base}/artifact-manifest`] = await jsonAnswer(() => artifactManifest(options, runId));
    const retained = !absent.includes(runId);
    const reportIds = retained ? (await reportPaths(options, runId)).reports.map((report) => report.id) : ["junit"];
    for (const id of reportIds) {
      answers[`${base}/reports/${encodeURIComponent(id)}`] = await fileAnswer(() => openReport(options, runId, id));
    }
    const manifest = retained ? await artifactManifest(options, runId) : null;
    const paths =
      manifest === null ? ["out/result.json"] : manifest.available ? manifest.artifacts.map((a) => a.path) : [];
    for (const path of paths) {
      answers[`${base}/artifacts/${encodePath(path)}`] = await fileAnswer(() => openArtifact(options, runId, path));
    }
  }
  return answers;
}

/**
 * Asks the service on 127.0.0.1:`port` every endpoint `expected` names, one at a time on a new
 * connection, and returns its answers in the same shape.
 */
export async function servedAnswers(
  port: number,
  expected: Record<string, Answer>,
  timeoutMs = 20_000,
): Promise<Record<string, Answer>> {
  const answers: Record<string, Answer> = {};
  for (const path of Object.keys(expected)) {
    const { status, body, bytes } = await rawRequest(port, path, { timeoutMs });
    answers[path] = { status, body: status === 200 && isFileRoute(path) ? fileDigest(bytes) : body };
  }
  return answers;
}

// ---------------------------------------------------------------------------------------------
// The world both service suites serve: a passed run with every kind of report ref (a link inside
// the run, a missing file) and of artifact (nested, missing), a failed run, a legacy run and an
// incomplete folder.

export const PASSED = "2026-03-01T09-00-00Z-pass";
export const FAILED = "2026-03-02T09-00-00Z-fail";
export const LEGACY = "2025-06-01T08-00-00Z-legacy";
export const INCOMPLETE = "2026-03-03T09-00-00Z-busy";

export function writeServiceWorld(runsDir: string): void {
  const passed = writeCurrentRun(runsDir, PASSED, {
    startedAt: "2026-03-01T09:00:00Z",
    labels: { suite: "unit", branch: "main" },
    reports: [
      { id: "junit", path: "reports/junit.xml", content: '<testsuite tests="3"/>', mediaType: "application/xml" },
      { id: "html", path: "reports/index.html", content: "<h1>3 passed</h1>", title: "Test report" },
      { id: "alias", path: "reports/latest.xml", content: null },
      { id: "missing", path: "reports/missing.txt", content: null },
    ],
    artifacts: { "out/result.json": '{"ok":true}', "coverage/summary.json": '{"lines":91.4}', "gone.bin": null },
    submission: { schemaVersion: 1, submittedTo: "board", submissionId: "sub-1" },
  });
  symlinkSync("junit.xml", join(passed, "reports", "latest.xml"));
  writeCurrentRun(runsDir, FAILED, {
    startedAt: "2026-03-02T09:00:00Z",
    status: "failed",
    exitCode: 1,
    labels: { suite: "e2e" },
    artifacts: { "out/result.json": '{"ok":false}' },
  });
  writeLegacyRun(runsDir, LEGACY, {
    startedAt: "2025-06-01T08:00:00Z",
    reports: { "reports/summary.html": "<p>legacy</p>", "reports/gone.xml": null },
  });
  writeIncompleteRun(runsDir, INCOMPLETE);
}
