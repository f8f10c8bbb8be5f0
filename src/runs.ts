import { lstatSync } from "node:fs";
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
import type { RetainedRun, RunEntry } from "./run.ts";
import {
  DEFAULT_MAX_SUMMARY_BYTES,
  readRunSync,
  resolveRunsDirs,
  scanRunsDirs,
  type Diagnostic,
  type DiagnosticKind,
  type ScanOptions,
  type ScannedKey,
} from "./scan.ts";
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
  const { runsDirs, maxSummaryBytes } = runsOptionsOf(options);
  const query = compileQuery(options);
  const { keys, diagnostics } = await scanRunsDirs(runsDirs, { maxSummaryBytes });
  const matching = await sortInSlices(keys.filter(query.matches), compareEntries);
  const runs: RetainedRun[] = [];
  let next = 0;
  let last: RunEntry | undefined;
  while (next < matching.length && runs.length < query.limit) {
    const entry = _materialize(matching[next++]!, maxSummaryBytes, diagnostics);
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
  const { runsDirs, maxSummaryBytes } = runsOptionsOf(options);
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
  return _iterate(runsDirs, maxSummaryBytes, query, report);
}

async function* _iterate(
  runsDirs: readonly string[],
  maxSummaryBytes: number,
  query: CompiledQuery,
  report: (diagnostic: Diagnostic) => void,
): AsyncGenerator<RetainedRun, void> {
  const { matching, diagnostics } = await _sortedMatches(runsDirs, maxSummaryBytes, query);
  for (const diagnostic of diagnostics) report(diagnostic);
  const slicer = createSlicer();
  const late: Diagnostic[] = [];
  for (let start = 0; start < matching.length; start += ITERATE_BATCH) {
    const batch: RetainedRun[] = [];
    const end = Math.min(start + ITERATE_BATCH, matching.length);
    for (let i = start; i < end; i++) {
      const entry = _materialize(matching[i]!, maxSummaryBytes, late);
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
  maxSummaryBytes: number,
  query: CompiledQuery,
): Promise<{ matching: (ScannedKey | undefined)[]; diagnostics: Diagnostic[] }> {
  const { keys, diagnostics } = await scanRunsDirs(runsDirs, { maxSummaryBytes });
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
  const { runsDirs, maxSummaryBytes } = runsOptionsOf(options);
  const query = compileQuery({ ...options, limit: undefined, cursor: undefined });
  const { keys } = await scanRunsDirs(runsDirs, { maxSummaryBytes });
  const matching = keys.filter(query.matches);
  while (matching.length > 0) {
    let best = 0;
    for (let i = 1; i < matching.length; i++) if (compareEntries(matching[i]!, matching[best]!) < 0) best = i;
    const entry = _materialize(matching[best]!, maxSummaryBytes, []);
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
  return loadRun(options, runId).entry.run;
}

/** The full run for a scanned key: its summary read again (a folder that changed since is a diagnostic). */
function _materialize(key: ScannedKey, maxSummaryBytes: number, diagnostics: Diagnostic[]): RunEntry | null {
  const read = readRunSync(join(key.runsDir, key.run.runId), key.run.runId, maxSummaryBytes);
  if (read.ok) return read.entry;
  diagnostics.push({ runsDir: key.runsDir, entry: key.run.runId, kind: read.kind, message: read.message });
  return null;
}

/** Reads one run with its full summary; shared by every per-run function. */
export function loadRun(
  options: RunsOptions,
  runId: string,
): { entry: RunEntry; parsed: ParsedSummary; runDir: string } {
  const { runsDirs, maxSummaryBytes } = runsOptionsOf(options);
  assertRunId(runId);
  let reason: DiagnosticKind | "absent" = "absent";
  for (const runsDir of resolveRunsDirs(runsDirs)) {
    const runDir = join(runsDir, runId);
    const stat = _lstat(runDir);
    if (stat === null) continue;
    if (stat.isSymbolicLink()) reason = "symlinked-run-folder";
    else if (stat.isDirectory()) {
      const read = readRunSync(runDir, runId, maxSummaryBytes);
      if (read.ok) return { entry: read.entry, parsed: read.parsed, runDir };
      reason = read.kind;
    }
  }
  const why = reason === "absent" ? "" : ` (${reason})`;
  throw new GuideBoardError("RUN_NOT_FOUND", `No retained run ${runId}${why}.`, { runId, reason });
}

/**
 * The options every function shares, read once and validated: bad or missing values, and options
 * objects whose getters throw, are `INVALID_OPTIONS`.
 */
export function runsOptionsOf(options: RunsOptions): { runsDirs: readonly string[]; maxSummaryBytes: number } {
  let runsDir: unknown;
  let maxSummaryBytes: unknown;
  try {
    ({ runsDir, maxSummaryBytes } = options);
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
  return { runsDirs: [...dirs], maxSummaryBytes: (maxSummaryBytes as number | undefined) ?? DEFAULT_MAX_SUMMARY_BYTES };
}

function _lstat(path: string) {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}
