import { join } from "node:path";
import { GuideBoardError } from "./errors.ts";
import { createSlicer, sortInSlices } from "./_slices.ts";
import {
  compileQuery,
  compareEntries,
  encodeCursor,
  type CompiledQuery,
  type ListQuery,
  type RunFilters,
} from "./query.ts";
import { assertRunId } from "./run-id.ts";
import { toRunEntry, type RetainedRun, type RunEntry } from "./run.ts";
import { classifyEntry, judgeSummary, readSummary, type FolderVerdict, type SummaryStamp } from "./folder.ts";
import { SUMMARY_FILE } from "./format.ts";
import { withRunHandle } from "./run-handle.ts";
import {
  DEFAULT_MAX_SUMMARY_BYTES,
  mayReadSync,
  readRun,
  readRunSync,
  resolveRunsDirs,
  resolveRunsDirsAsync,
  scanRunsDirs,
  type Diagnostic,
  type DiagnosticKind,
  type ScanOptions,
  type ScannedKey,
} from "./scan.ts";
import { signalOf, storageOf, storageTimeoutOf, storageUnavailable, type Storage } from "./storage.ts";
import type { ParsedSummary } from "./summary.ts";

/** Options every function takes: where the runs are. */
export interface RunsOptions extends ScanOptions {
  /** The configured runs directory, or several; earlier ones win on duplicate run ids. */
  runsDir: string | readonly string[];
}

/** Options of {@link listRetainedRuns}. */
export interface ListRetainedRunsOptions extends RunsOptions, ListQuery {}

/** Options of {@link latestRun}. */
export interface LatestRunOptions extends RunsOptions, RunFilters {}

/** One page of retained runs. */
export interface RetainedRunList {
  /** Newest first by `startedAt`, then run id. */
  runs: RetainedRun[];
  /** Pass as `cursor` for the next page; absent on the last page. */
  nextCursor?: string;
  /** Folders that were skipped, and why. */
  diagnostics: Diagnostic[];
}

/**
 * Lists every retained run under the configured runs directories, newest first, with filters
 * and keyset pagination. Broken folders never break the listing: they come back as diagnostics.
 *
 * @example
 * const page = await listRetainedRuns({ runsDir: "./runs", status: "failed", limit: 20 });
 * for (const run of page.runs) console.log(run.runId, run.startedAt);
 * if (page.nextCursor) await listRetainedRuns({ runsDir: "./runs", status: "failed", limit: 20, cursor: page.nextCursor });
 */
export async function listRetainedRuns(options: ListRetainedRunsOptions): Promise<RetainedRunList> {
  const { runsDirs, ...scan } = runsOptionsOf(options);
  const query = compileQuery(options);
  const { keys, diagnostics } = await scanRunsDirs(runsDirs, scan, _keepNewest(query, query.limit));
  const matching = await sortInSlices(keys.filter(query.matches), compareEntries);
  const runs: RetainedRun[] = [];
  let next = 0;
  let last: RunEntry | undefined;
  while (next < matching.length && runs.length < query.limit) {
    const entry = await _materialize(matching[next++]!, scan, diagnostics);
    if (entry && query.matches(entry)) {
      // (a summary rewritten since the scan may no longer match)
      runs.push(entry.run);
      last = entry;
    }
  }
  const list: RetainedRunList = { runs, diagnostics };
  if (next < matching.length && last) list.nextCursor = encodeCursor(last);
  return list;
}

/** Options of {@link iterateRetainedRuns}. */
export interface IterateRetainedRunsOptions extends RunsOptions, RunFilters {
  /**
   * Called with each skipped folder: those the scan found, before the first run, then any folder
   * that changed or vanished by the time its run was loaded. Without it they are not reported.
   */
  onDiagnostic?: (diagnostic: Diagnostic) => void;
}

/** How many summaries {@link iterateRetainedRuns} loads at a time. */
const ITERATE_BATCH = 128;

/**
 * Every retained run matching the filters, newest first, in the order of
 * {@link listRetainedRuns}' pages, without paging: one scan keeps only each run's small sort key,
 * and full summaries are loaded in small batches as the loop asks for them, so memory stays
 * bounded by the number of runs' keys, not their summaries. Bad options throw `INVALID_OPTIONS` at
 * once; skipped folders go to `onDiagnostic`.
 *
 * @example
 * for await (const run of iterateRetainedRuns({ runsDir: "./runs", status: "failed" })) {
 *   console.log(run.runId, run.startedAt);
 * }
 */
export function iterateRetainedRuns(options: IterateRetainedRunsOptions): AsyncGenerator<RetainedRun, void> {
  const { runsDirs, ...scan } = runsOptionsOf(options);
  let filters: RunFilters;
  let onDiagnostic: unknown;
  try {
    filters = { status: options.status, since: options.since, until: options.until, label: options.label };
    onDiagnostic = options.onDiagnostic;
  } catch {
    throw new GuideBoardError("INVALID_OPTIONS", "Invalid options: they could not be read.");
  }
  if (onDiagnostic !== undefined && typeof onDiagnostic !== "function") {
    throw new GuideBoardError("INVALID_OPTIONS", "Invalid option onDiagnostic: expected a function.");
  }
  const query = compileQuery(filters);
  const report = (onDiagnostic as ((diagnostic: Diagnostic) => void) | undefined) ?? (() => {});
  return _iterate(runsDirs, scan, query, report);
}

async function* _iterate(
  runsDirs: readonly string[],
  scan: ScanSettings,
  query: CompiledQuery,
  report: (diagnostic: Diagnostic) => void,
): AsyncGenerator<RetainedRun, void> {
  const { matching, diagnostics } = await _sortedMatches(runsDirs, scan, query);
  for (const diagnostic of diagnostics) report(diagnostic);
  const slicer = createSlicer();
  const late: Diagnostic[] = [];
  for (let start = 0; start < matching.length; start += ITERATE_BATCH) {
    const batch: RetainedRun[] = [];
    const end = Math.min(start + ITERATE_BATCH, matching.length);
    for (let i = start; i < end; i++) {
      const entry = await _materialize(matching[i]!, scan, late);
      matching[i] = undefined; // the key is done with: let it go
      if (entry && query.matches(entry)) batch.push(entry.run);
    }
    for (const diagnostic of late.splice(0)) report(diagnostic);
    yield* batch;
    if (slicer.due()) await slicer.yield();
  }
}

/** Scans, keeps the keys matching `query`, and sorts them in listing order. */
async function _sortedMatches(
  runsDirs: readonly string[],
  scan: ScanSettings,
  query: CompiledQuery,
): Promise<{ matching: (ScannedKey | undefined)[]; diagnostics: Diagnostic[] }> {
  const { keys, diagnostics } = await scanRunsDirs(runsDirs, scan);
  return { matching: await sortInSlices(keys.filter(query.matches), compareEntries), diagnostics };
}

/**
 * The newest retained run, optionally the newest matching filters (like Jenkins'
 * lastSuccessfulBuild / lastFailedBuild); `null` when there is none.
 *
 * @example
 * const lastFailed = await latestRun({ runsDir: "./runs", status: "failed" });
 */
export async function latestRun(options: LatestRunOptions): Promise<RetainedRun | null> {
  const { runsDirs, ...scan } = runsOptionsOf(options);
  const query = compileQuery({ ...options, limit: undefined, cursor: undefined });
  const { keys } = await scanRunsDirs(runsDirs, scan, _keepNewest(query, 1));
  const matching = keys.filter(query.matches);
  while (matching.length > 0) {
    let best = 0;
    for (let i = 1; i < matching.length; i++) if (compareEntries(matching[i]!, matching[best]!) < 0) best = i;
    const entry = await _materialize(matching[best]!, scan, []);
    if (entry && query.matches(entry)) return entry.run;
    matching.splice(best, 1); // vanished since the scan: the next newest
  }
  return null;
}

/**
 * One retained run by id. Throws `INVALID_RUN_ID` for a malformed id and `RUN_NOT_FOUND` when no
 * runs directory holds it as a retained run (`details.reason` says why, e.g. `incomplete`).
 *
 * @example
 * const run = await getRetainedRun({ runsDir: "./runs" }, "2026-11-24T09-00-00Z-a1b2");
 */
export async function getRetainedRun(options: RunsOptions, runId: string): Promise<RetainedRun> {
  return (await loadRun(options, runId)).entry.run;
}

/** Summaries a scan keeps at most for one call: enough for a page, a history window, or the latest run. */
const KEEP_MAX = 1000;

/**
 * A scan hook that keeps the parsed summaries of the newest `limit` keys matching `query` (at
 * most {@link KEEP_MAX}), so the runs a call returns are built from the scan's own read instead of
 * a second one. Memory stays bounded: past twice the bound, all but the newest `limit` are let go.
 */
function _keepNewest(query: CompiledQuery, limit: number): (key: ScannedKey, parsed: ParsedSummary) => void {
  const bound = Math.min(limit, KEEP_MAX);
  let kept: ScannedKey[] = [];
  let worst: ScannedKey | undefined; // nothing after it can be on the page
  return (key, parsed) => {
    if (!query.matches(key) || (worst && compareEntries(key, worst) > 0)) return;
    key.parsed = parsed;
    kept.push(key);
    if (kept.length < 2 * bound) return;
    kept.sort(compareEntries);
    for (const dropped of kept.slice(bound)) delete dropped.parsed;
    kept = kept.slice(0, bound);
    worst = kept[bound - 1];
  };
}

/**
 * The full run for a scanned key: built from the summary the scan kept, or read again (a folder
 * that changed since is then a diagnostic).
 */
async function _materialize(key: ScannedKey, scan: ScanSettings, diagnostics: Diagnostic[]): Promise<RunEntry | null> {
  if (key.parsed) return toRunEntry(join(key.runsDir, key.run.runId), key.parsed);
  // (a caller that may block, on a local file system: read it again synchronously, no pool hops)
  const read = (await mayReadSync(key.runsDir, scan))
    ? readRunSync(join(key.runsDir, key.run.runId), key.run.runId, scan.maxSummaryBytes)
    : await readRun(key.runsDir, key.run.runId, scan.maxSummaryBytes, scan);
  if (read.ok) return read.entry;
  diagnostics.push({ runsDir: key.runsDir, entry: key.run.runId, kind: read.kind, message: read.message });
  return null;
}

/**
 * Reads one run with its full summary; shared by every per-run function. Every file call goes
 * through the storage layer (a runs directory that does not answer: `STORAGE_UNAVAILABLE`).
 */
export async function loadRun(
  options: RunsOptions,
  runId: string,
): Promise<{ entry: RunEntry; parsed: ParsedSummary; runDir: string; stamp: SummaryStamp | null }> {
  const { runsDirs, ...scan } = runsOptionsOf(options);
  assertRunId(runId);
  scan.signal?.throwIfAborted();
  let reason: DiagnosticKind | "absent" = "absent";
  const problems: Diagnostic[] = [];
  const dirs =
    scan.readMode === "async" ? await resolveRunsDirsAsync(runsDirs, problems, scan) : resolveRunsDirs(runsDirs);
  // An earlier runs directory that does not answer might hold the run: no answer is right without it.
  const hung = problems.find((d) => d.kind === "runs-dir-unresponsive");
  if (hung) throw storageUnavailable(hung.runsDir, scan.storageTimeoutMs);
  for (const runsDir of dirs) {
    const verdict = await _classifyRun(storageOf(runsDir, scan), runId, scan.maxSummaryBytes);
    if (verdict.is === "run") {
      return { entry: verdict.entry, parsed: verdict.parsed, runDir: join(runsDir, runId), stamp: verdict.stamp };
    }
    if (verdict.is === "problem") reason = verdict.kind;
  }
  scan.signal?.throwIfAborted(); // an aborted read is not "not found"
  const why = reason === "absent" ? "" : ` (${reason})`;
  throw new GuideBoardError("RUN_NOT_FOUND", `No retained run ${runId}${why}.`, { runId, reason });
}

/**
 * Classifies one run folder for a per-run read: the folder is opened once without following a
 * link (a run handle), and its summary is read through that handle, so a folder swapped for a
 * link meanwhile never lends its summary. Throws only `STORAGE_UNAVAILABLE`.
 */
async function _classifyRun(storage: Storage, runId: string, maxBytes: number): Promise<FolderVerdict> {
  const first = classifyEntry(runId, "directory");
  if (first !== "read") return first;
  const runDir = join(storage.runsDir, runId);
  return withRunHandle(
    storage,
    runDir,
    async (run) =>
      judgeSummary(
        runDir,
        runId,
        await readSummary(storage, runDir, maxBytes, true, run.pathOf(SUMMARY_FILE)),
        maxBytes,
      ),
    (failure): FolderVerdict =>
      failure === "link"
        ? (classifyEntry(runId, "symlink") as FolderVerdict)
        : failure === "moved"
          ? { is: "problem", kind: "vanished", message: "The folder was replaced while it was read." }
          : { is: "skip" },
  );
}

/** The settings a scan runs with, validated. */
export interface ScanSettings {
  maxSummaryBytes: number;
  storageTimeoutMs: number;
  readMode: "auto" | "async";
  /** Stops the work when aborted (checked before every file call). */
  signal?: AbortSignal;
}

/**
 * The options every function shares, read once and validated: bad or missing values, and options
 * objects whose getters throw, are `INVALID_OPTIONS`.
 */
export function runsOptionsOf(options: RunsOptions): { runsDirs: readonly string[] } & ScanSettings {
  let runsDir: unknown;
  let maxSummaryBytes: unknown;
  let storageTimeoutMs: unknown;
  let readMode: unknown;
  let signal: unknown;
  try {
    ({ runsDir, maxSummaryBytes, storageTimeoutMs, readMode, signal } = options);
  } catch {
    throw new GuideBoardError("INVALID_OPTIONS", "Invalid options: expected an object with runsDir.");
  }
  const dirs = typeof runsDir === "string" ? [runsDir] : runsDir;
  if (!Array.isArray(dirs) || dirs.length === 0 || !dirs.every((dir) => typeof dir === "string" && dir !== "")) {
    throw new GuideBoardError(
      "INVALID_OPTIONS",
      "Invalid option runsDir: expected a path or a non-empty array of paths.",
    );
  }
  if (maxSummaryBytes !== undefined && !(Number.isSafeInteger(maxSummaryBytes) && (maxSummaryBytes as number) > 0)) {
    throw new GuideBoardError(
      "INVALID_OPTIONS",
      "Invalid option maxSummaryBytes: expected a positive whole number of bytes.",
    );
  }
  if (readMode !== undefined && readMode !== "auto" && readMode !== "async") {
    throw new GuideBoardError("INVALID_OPTIONS", 'Invalid option readMode: expected "auto" or "async".');
  }
  return {
    runsDirs: [...dirs],
    maxSummaryBytes: (maxSummaryBytes as number | undefined) ?? DEFAULT_MAX_SUMMARY_BYTES,
    storageTimeoutMs: storageTimeoutOf(storageTimeoutMs),
    readMode: readMode ?? "auto",
    ...(signal === undefined ? {} : { signal: signalOf(signal) }),
  };
}
