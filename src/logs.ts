import { lstatSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { GuideBoardError } from "./errors.ts";
import type { OpenedFile } from "./files.ts";
import { ARTIFACT_MANIFEST_FILE } from "./manifest.ts";
import { openInRun, regularFileSizeAsync, resolveInRunAsync, unsafePathError, UNSAFE_REASONS } from "./paths.ts";
import { assertRunId } from "./run-id.ts";
import { loadRun, runsOptionsOf, type RunsOptions } from "./runs.ts";
import { resolveRunsDirs } from "./scan.ts";
import { runsDirOf, storageOf, type Storage } from "./storage.ts";
import { SUMMARY_FILE, type LogRef, type ParsedSummary } from "./summary.ts";

/** Where `guide-board run` writes the command's output, by log id. */
export const CONVENTIONAL_LOGS: Readonly<Record<"stdout" | "stderr", string>> = Object.freeze({
  stdout: "logs/stdout.log",
  stderr: "logs/stderr.log",
});

/**
 * One log of a run. `declared` is false for the conventional `logs/stdout.log` and
 * `logs/stderr.log` of a guide-board run recorded before summaries declared logs. Unsafe refs carry
 * `unsafe: true` and a reason, and never an `absolutePath`.
 */
export const logSchema = z.object({
  id: z.string(),
  path: z.string(),
  size: z.number().int().nullable(),
  exists: z.boolean(),
  declared: z.boolean(),
  absolutePath: z.string().optional(),
  unsafe: z.literal(true).optional(),
  reason: z.enum(UNSAFE_REASONS).optional(),
});
export type Log = z.infer<typeof logSchema>;

/** The logs of one run, in summary order. */
export const logListSchema = z.object({ runId: z.string(), logs: z.array(logSchema) });
export type LogList = z.infer<typeof logListSchema>;

/**
 * The logs a run's summary declares (`logs: [{ id, path }]`), each resolved inside the run folder
 * with its size and state, like reports. A summary written by `guide-board run` before the field
 * existed gets its conventional `logs/stdout.log` and `logs/stderr.log`, through the
 * same path checks, marked `declared: false`.
 *
 * @example
 * const { logs } = await listRunLogs({ runsDir: "./runs" }, runId);
 * for (const log of logs) console.log(log.id, log.size);
 */
export async function listRunLogs(options: RunsOptions, runId: string): Promise<LogList> {
  const { parsed, runDir } = await loadRun(options, runId);
  const storage = storageOf(runsDirOf(runDir), runsOptionsOf(options));
  const logs: Log[] = [];
  for (const ref of logRefsOf(parsed)) logs.push(await _resolve(runDir, ref, storage));
  return { runId, logs };
}

/**
 * Opens one log of a run for reading, by log id. Throws `LOG_NOT_FOUND` when the run has no such
 * log or its file is missing (or is not a regular file: a FIFO or a device is never opened),
 * `UNSAFE_PATH` when the ref or a link on its way leaves the run folder. Read any byte range from
 * `file.handle`, and close it when done.
 *
 * @example
 * const { file } = await openRunLog({ runsDir: "./runs" }, runId, "stdout");
 * file.handle.createReadStream({ start: 0, end: 1023 }).pipe(process.stdout); // the first KiB
 */
export async function openRunLog(options: RunsOptions, runId: string, logId: string): Promise<OpenedFile<Log>> {
  const { parsed, runDir } = await loadRun(options, runId);
  const settings = runsOptionsOf(options);
  const notFound = () => new GuideBoardError("LOG_NOT_FOUND", `Run ${runId} has no log with that id.`, { runId });
  const ref = logRefsOf(parsed).find((candidate) => candidate.id === logId);
  if (!ref) throw notFound();
  const entry = await _resolve(runDir, ref, storageOf(runsDirOf(runDir), settings));
  if (entry.unsafe) throw unsafePathError(entry.path, entry.reason!);
  return { entry, file: await openInRun(runDir, entry.path, notFound, settings) };
}

/** The logs a parsed summary offers, with unique ids (see {@link listRunLogs}). */
export function logRefsOf(parsed: ParsedSummary): (LogRef & { declared: boolean })[] {
  const summary = parsed.summary as { logs?: unknown; artifactManifest?: unknown };
  if (Array.isArray(summary.logs)) {
    const seen = new Set<string>();
    return summary.logs.flatMap((raw: unknown) => {
      const ref = raw as Partial<LogRef> | null;
      // Legacy summaries keep `logs` as written: take only well-formed refs, first of an id wins.
      if (typeof ref?.id !== "string" || ref.id === "" || ref.id.length > 256 || typeof ref.path !== "string")
        return [];
      if (seen.has(ref.id)) return [];
      seen.add(ref.id);
      return [{ id: ref.id, path: ref.path, declared: true }];
    });
  }
  // The writer generation that predates the field: schema 2 as `guide-board run` wrote it.
  const predates =
    parsed.generation === "current" &&
    !Object.hasOwn(summary, "logs") &&
    summary.artifactManifest === ARTIFACT_MANIFEST_FILE;
  if (!predates) return [];
  return Object.entries(CONVENTIONAL_LOGS).map(([id, path]) => ({ id, path, declared: false }));
}

/** A run folder by id, retained or not (`retained`: its summary exists); for following a run that is still writing. */
export function findRunFolder(options: RunsOptions, runId: string): { runDir: string; retained: boolean } {
  const { runsDirs } = runsOptionsOf(options);
  assertRunId(runId);
  for (const runsDir of resolveRunsDirs(runsDirs)) {
    const runDir = join(runsDir, runId);
    const stat = _lstat(runDir);
    if (stat?.isDirectory()) return { runDir, retained: _lstat(join(runDir, SUMMARY_FILE))?.isFile() === true };
  }
  throw new GuideBoardError("RUN_NOT_FOUND", `No run folder ${runId}.`, { runId, reason: "absent" });
}

/**
 * Opens a conventional log (`stdout` or `stderr`) of a run folder that may still be incomplete,
 * through the same path checks; `LOG_NOT_FOUND` while it does not exist yet.
 */
export async function openConventionalLog(runDir: string, logId: string): Promise<OpenedFile<Log>> {
  const notFound = () => new GuideBoardError("LOG_NOT_FOUND", "The run folder has no such log (yet).");
  const path = Object.hasOwn(CONVENTIONAL_LOGS, logId) ? CONVENTIONAL_LOGS[logId as "stdout"] : undefined;
  if (path === undefined) throw notFound();
  const file = await openInRun(runDir, path, notFound);
  const entry: Log = { id: logId, path, size: file.stat.size, exists: true, declared: false };
  return { entry, file };
}

/** Resolves one log ref through the storage layer; its size from the opened file. */
async function _resolve(runDir: string, ref: LogRef & { declared: boolean }, storage: Storage): Promise<Log> {
  const resolved = await resolveInRunAsync(runDir, ref.path, storage);
  const base = { id: ref.id, path: resolved.path, declared: ref.declared };
  if (!resolved.safe) return { ...base, size: null, exists: false, unsafe: true, reason: resolved.reason };
  const size = resolved.realPath === null ? null : await regularFileSizeAsync(resolved.realPath, storage);
  return { ...base, size, exists: size !== null, absolutePath: resolved.absolutePath };
}

function _lstat(path: string) {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}
