import { spawn } from "node:child_process";
import { createWriteStream, mkdirSync, readFileSync, rmSync, writeFileSync, type WriteStream } from "node:fs";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import { once } from "node:events";
import {
  ARTIFACT_MANIFEST_FILE,
  checkRef,
  CONVENTIONAL_LOGS,
  getRetainedRun,
  idFromPath,
  isRunId,
  mediaTypeOf,
  SUMMARY_FILE,
  toJSONText,
  totalsOfReports,
  type CurrentSummary,
  type RunStatus,
} from "../src/_internal.ts";
import { hashFile, newRunId, walkFiles, writeFileAtomic } from "./_write.ts";
import type { CliContext } from "./context.ts";
import { printable } from "./format.ts";
import { WRITER_FILE } from "./prune.ts";

/** The file a command may write to record a submission (see docs/run-layout.md). */
export const SUBMISSION_RECORD = "submission-record.json";

/** How long output pipes held by the command's leftovers may keep draining after it exits. */
const PIPE_GRACE_MS = 1000;

/** How long a stopped command gets between SIGTERM and SIGKILL. */
const KILL_GRACE_MS = 5000;

/** What `guide-board run` records. */
export interface RunSpec {
  runsDir: string;
  command: string[];
  cwd: string;
  env: Record<string, string>;
  labels: Record<string, string>;
  timeoutMs?: number;
  /** A run id chosen by the caller (the service does, to link its job); must be new. */
  runId?: string;
}

/** How a recorded run ended. */
export interface RunOutcome {
  runId: string;
  runDir: string;
  status: RunStatus;
  exitCode: number | null;
  /** The CLI's own exit code, mirroring the run. */
  cliExitCode: number;
}

/**
 * Runs a command as a recorded run: creates `<runsDir>/<runId>/`, runs the command with the
 * `GUIDE_BOARD_*` variables, tees its output to `logs/` and `ctx`, then writes the report refs,
 * the artifact manifest (streamed sha256), the submission manifest when the command left a
 * record, and `retention-summary.json` last, atomically. `signal` cancels: the command is stopped
 * and the run is still retained, as `cancelled`.
 */
export async function recordRun(
  spec: RunSpec,
  ctx: CliContext,
  signal?: AbortSignal,
  json = false,
): Promise<RunOutcome> {
  mkdirSync(spec.runsDir, { recursive: true });
  const { runId, runDir } = _createRunDir(spec.runsDir, spec.runId);
  const reportsDir = join(runDir, "reports");
  const packageDir = join(runDir, "assessment-package");
  for (const dir of [reportsDir, packageDir, join(runDir, "logs")]) mkdirSync(dir, { recursive: true });

  const writerFile = join(runDir, WRITER_FILE);
  writeFileSync(writerFile, JSON.stringify({ pid: process.pid, host: hostname() }));
  const startedAt = new Date().toISOString();
  const logs = {
    stdout: createWriteStream(join(runDir, CONVENTIONAL_LOGS.stdout)),
    stderr: createWriteStream(join(runDir, CONVENTIONAL_LOGS.stderr)),
  };
  const child = spawn(spec.command[0]!, spec.command.slice(1), {
    cwd: spec.cwd,
    env: {
      ...spec.env,
      GUIDE_BOARD_RUN_ID: runId,
      GUIDE_BOARD_RUN_DIR: runDir,
      GUIDE_BOARD_REPORTS_DIR: reportsDir,
      GUIDE_BOARD_ARTIFACTS_DIR: packageDir,
      GUIDE_BOARD_SUBMISSION_FILE: join(runDir, SUBMISSION_RECORD),
    },
    stdio: ["ignore", "pipe", "pipe"],
    detached: process.platform !== "win32", // its own process group, so a stop reaches its children
  });
  let logError: NodeJS.ErrnoException | undefined;
  for (const log of [logs.stdout, logs.stderr]) log.on("error", (error) => (logError ??= error));
  // With --json, stdout carries only the run object: the command's output goes to stderr.
  const drained = new Promise((resolve) => child.once("close", resolve));
  child.stdout.on("data", (chunk: Buffer) => _tee(chunk, logs.stdout, json ? ctx.stderr : ctx.stdout));
  child.stderr.on("data", (chunk: Buffer) => _tee(chunk, logs.stderr, ctx.stderr));

  let stoppedFor: "timeout" | "cancel" | null = null;
  let exited = false;
  const stop = (why: "timeout" | "cancel") => {
    if (stoppedFor !== null || exited) return;
    stoppedFor = why;
    _signal(child.pid, "SIGTERM");
    setTimeout(() => _signal(child.pid, "SIGKILL"), KILL_GRACE_MS).unref();
  };
  const timer = spec.timeoutMs === undefined ? undefined : setTimeout(() => stop("timeout"), spec.timeoutMs);
  const onAbort = () => stop("cancel");
  signal?.addEventListener("abort", onAbort, { once: true });
  if (signal?.aborted) onAbort();

  // The command's end is its own exit. Something it left running in the background may hold the
  // output pipes open: give them a moment to drain, then stop reading them.
  const ended = await new Promise<{ code: number | null; spawnError?: NodeJS.ErrnoException }>((done) => {
    child.once("error", (error: NodeJS.ErrnoException) => done({ code: null, spawnError: error }));
    child.once("exit", (code) => done({ code }));
  });
  exited = true;
  if (!ended.spawnError) {
    let grace: NodeJS.Timeout | undefined;
    await Promise.race([drained, new Promise((resolve) => (grace = setTimeout(resolve, PIPE_GRACE_MS)))]);
    clearTimeout(grace);
    child.stdout.destroy();
    child.stderr.destroy();
  }
  clearTimeout(timer);
  signal?.removeEventListener("abort", onAbort);
  if (ended.spawnError) {
    const message = `guide-board: could not start ${printable(spec.command[0]!)}: ${ended.spawnError.code ?? ended.spawnError.message}\n`;
    logs.stderr.write(message);
    ctx.stderr.write(message);
  }
  await Promise.all([_close(logs.stdout), _close(logs.stderr)]);
  if (logError) throw logError; // e.g. ENOSPC: no summary, so the run stays incomplete

  const status: RunStatus =
    ended.spawnError || stoppedFor === "timeout"
      ? "errored"
      : stoppedFor === "cancel"
        ? "cancelled"
        : ended.code === 0
          ? "passed"
          : "failed";
  const exitCode = ended.code;
  const reports = _collectReports(reportsDir, ctx);
  const tested = await totalsOfReports(runDir, reports);
  for (const ref of reports) {
    const format = tested?.formats.get(ref.id);
    if (format) Object.assign(ref, { format });
  }
  await _writeArtifactManifest(packageDir, ctx);
  const submission = _writeSubmission(runDir, ctx);
  const summary = {
    schemaVersion: 2,
    runId,
    status,
    startedAt,
    finishedAt: new Date().toISOString(),
    exitCode,
    command: spec.command,
    labels: spec.labels,
    reports,
    artifactManifest: ARTIFACT_MANIFEST_FILE,
    logs: Object.entries(CONVENTIONAL_LOGS).map(([id, path]) => ({ id, path })),
    ...(submission ? { submissionManifest: "submission-manifest.json" } : {}),
    ...(tested ? { tests: tested.totals } : {}),
  } satisfies CurrentSummary;
  rmSync(writerFile, { force: true });
  writeFileAtomic(runDir, SUMMARY_FILE, `${JSON.stringify(summary, null, 2)}\n`);
  const cliExitCode =
    status === "passed"
      ? 0
      : status === "cancelled"
        ? 130
        : status === "failed"
          ? exitCode !== null && exitCode > 0 && exitCode < 256
            ? exitCode
            : 1
          : ended.spawnError
            ? ended.spawnError.code === "ENOENT"
              ? 127
              : 126
            : 124;
  return { runId, runDir, status, exitCode, cliExitCode };
}

/** Prints the outcome: the run object with `--json`, else one line on stderr. */
export async function reportOutcome(
  outcome: RunOutcome,
  runsDir: string,
  ctx: CliContext,
  json: boolean,
): Promise<void> {
  if (json) ctx.stdout.write(toJSONText(await getRetainedRun({ runsDir }, outcome.runId)));
  const code = outcome.exitCode === null ? "" : ` (exit ${outcome.exitCode})`;
  ctx.stderr.write(
    `guide-board: run ${outcome.runId} ${outcome.status}${code}, retained in ${printable(outcome.runDir)}\n`,
  );
}

function _createRunDir(runsDir: string, wanted: string | undefined): { runId: string; runDir: string } {
  for (let attempt = 0; attempt < 5; attempt++) {
    const runId = wanted ?? newRunId();
    if (!isRunId(runId)) throw new Error("invalid run id");
    const runDir = join(resolve(runsDir), runId);
    try {
      mkdirSync(runDir); // exclusive: two runs never share a folder
      return { runId, runDir };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST" || wanted !== undefined) throw error;
    }
  }
  throw new Error("could not create a unique run folder");
}

function _collectReports(reportsDir: string, ctx: CliContext) {
  const { files, skipped } = walkFiles(reportsDir);
  _warnSkipped("reports", skipped, ctx);
  const used = new Set<string>();
  return files.flatMap((file) => {
    const ref = `reports/${file}`;
    if (!checkRef(ref).safe) {
      ctx.stderr.write(`guide-board: skipped report with an unsafe name: ${printable(file)}\n`);
      return [];
    }
    const base = idFromPath(file);
    let id = base;
    for (let n = 2; used.has(id); n++) id = `${base}-${n}`;
    used.add(id);
    return [{ id, path: ref, mediaType: mediaTypeOf(file) }];
  });
}

async function _writeArtifactManifest(packageDir: string, ctx: CliContext): Promise<void> {
  const { files, skipped } = walkFiles(packageDir);
  _warnSkipped("artifacts", skipped, ctx);
  const artifacts = [];
  for (const file of files) {
    if (file === "artifact-manifest.json") continue;
    if (!checkRef(file).safe) {
      ctx.stderr.write(`guide-board: skipped artifact with an unsafe name: ${printable(file)}\n`);
      continue;
    }
    artifacts.push({ path: file, ...(await hashFile(join(packageDir, file))) });
  }
  writeFileAtomic(
    packageDir,
    "artifact-manifest.json",
    `${JSON.stringify({ schemaVersion: 1, artifacts }, null, 2)}\n`,
  );
}

/** Turns the command's submission record, if any, into `submission-manifest.json`. */
function _writeSubmission(runDir: string, ctx: CliContext): boolean {
  let text: string;
  try {
    text = readFileSync(join(runDir, SUBMISSION_RECORD), "utf8");
  } catch {
    return false;
  }
  let record: unknown;
  try {
    record = JSON.parse(text);
  } catch {
    record = undefined;
  }
  if (typeof record !== "object" || record === null || Array.isArray(record) || text.length > 1024 * 1024) {
    ctx.stderr.write(`guide-board: ignored ${SUBMISSION_RECORD}: expected a JSON object of at most 1 MiB\n`);
    return false;
  }
  writeFileAtomic(runDir, "submission-manifest.json", `${JSON.stringify({ schemaVersion: 1, ...record }, null, 2)}\n`);
  return true;
}

function _warnSkipped(where: string, skipped: { path: string; why: string }[], ctx: CliContext): void {
  for (const { path, why } of skipped) {
    ctx.stderr.write(
      `guide-board: skipped ${where} entry ${printable(path)} (${why === "link" ? "a symbolic link" : "not a regular file"})\n`,
    );
  }
}

function _tee(chunk: Buffer, log: WriteStream, out: { write(text: string | Buffer): unknown }): void {
  log.write(chunk);
  try {
    out.write(chunk);
  } catch {
    // The terminal went away; the log still has everything.
  }
}

async function _close(stream: WriteStream): Promise<void> {
  if (stream.closed || stream.destroyed) return;
  stream.end();
  await once(stream, "close").catch(() => {});
}

function _signal(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(process.platform === "win32" ? pid : -pid, signal);
  } catch {
    // Already gone.
  }
}
