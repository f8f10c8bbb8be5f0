import { realpathSync } from "node:fs";
import { z } from "zod";
import { OFF_THREAD_MIN_ENTRIES, readSummariesOffThread, SLOW_SYNC_READ_MS } from "./_read-worker.ts";
import { createSlicer } from "./_slices.ts";
import { isGuideBoardError } from "./errors.ts";
import {
  childPath,
  classifyEntry,
  classifyFolder,
  classifyFolderSync,
  type EntryType,
  judgeSummary,
  type FolderVerdict,
  type SummaryStamp,
} from "./folder.ts";
import { toRunKey, type RunEntry, type RunKey } from "./run.ts";
import {
  DEFAULT_STORAGE_TIMEOUT_MS,
  isLocalFs,
  storageInFlight,
  storageOf,
  storageUnavailable,
  type DirEntry,
  type StorageOptions,
} from "./storage.ts";
import type { ParsedSummary } from "./summary.ts";

export { TOOL_PREFIX } from "./format.ts";
export type { SummaryStamp } from "./folder.ts";

/** Why a folder (or a whole runs directory) was skipped. */
export const DIAGNOSTIC_KINDS = [
  "runs-dir-missing",
  "runs-dir-unreadable",
  "runs-dir-unresponsive",
  "invalid-run-id",
  "symlinked-run-folder",
  "incomplete",
  "vanished",
  "unreadable",
  "unsafe-summary",
  "summary-too-large",
  "corrupt-summary",
  "schema-invalid",
  "run-id-mismatch",
  "duplicate-run-id",
] as const;
export type DiagnosticKind = (typeof DIAGNOSTIC_KINDS)[number];

/** One skipped folder: where it is, what kind of problem, and a short message. */
export const diagnosticSchema = z.object({
  runsDir: z.string(),
  entry: z.string().nullable(),
  kind: z.enum(DIAGNOSTIC_KINDS),
  message: z.string(),
});
export type Diagnostic = z.infer<typeof diagnosticSchema>;

/** Default cap on a summary's size; a larger one is a diagnostic and is never read. */
export const DEFAULT_MAX_SUMMARY_BYTES: number = 1024 * 1024;

/** Options every scan takes. */
export interface ScanOptions extends StorageOptions {
  /** Largest `retention-summary.json` read, in bytes (default 1 MiB). */
  maxSummaryBytes?: number;
  /**
   * How summaries are read: `"async"` through the storage layer only (a service: never a
   * synchronous call on the event loop), `"auto"` (default) synchronously in slices on a local
   * file system while reads prove fast, else asynchronously with many reads in flight.
   */
  readMode?: "auto" | "async";
}

/** The result of reading one run folder. */
export type RunRead =
  | { ok: true; entry: RunEntry; parsed: ParsedSummary; stamp: SummaryStamp }
  | { ok: false; kind: DiagnosticKind; message: string };

/**
 * Reads and validates one run folder's summary, synchronously. `runDir` must be a real directory
 * (not a link) whose name is `runId`. Never throws.
 */
export function readRunSync(runDir: string, runId: string, maxBytes: number): RunRead {
  const at = runDir.lastIndexOf("/");
  const verdict = classifyFolderSync(runDir.slice(0, at), runId, "directory", maxBytes, true);
  return _toRead(verdict);
}

/** {@link readRunSync} through the storage layer; throws only `STORAGE_UNAVAILABLE`. */
export async function readRun(
  runsDir: string,
  runId: string,
  maxBytes: number,
  options: StorageOptions = {},
): Promise<RunRead> {
  return _toRead(await classifyFolder(storageOf(runsDir, options), runId, "directory", maxBytes, true));
}

function _toRead(verdict: FolderVerdict): RunRead {
  if (verdict.is === "run") return { ok: true, entry: verdict.entry, parsed: verdict.parsed, stamp: verdict.stamp! };
  if (verdict.is === "problem") return { ok: false, kind: verdict.kind, message: verdict.message };
  return { ok: false, kind: "vanished", message: "The folder disappeared while it was read." };
}

/** A run key found by a scan, and the runs directory it is in. */
export interface ScannedKey extends RunKey {
  runsDir: string;
  /** Its summary as the scan read it, when the caller asked the scan to keep it. */
  parsed?: ParsedSummary;
}

/** Reads in flight per runs directory when a scan reads asynchronously (the storage layer caps it too). */
const SCAN_IN_FLIGHT = 64;

/**
 * Scans runs directories in order and keeps only each retained run's key (sort key, status,
 * labels): the full run objects are built for the runs a caller returns. The first directory
 * holding a retained run with a given id wins; a later one is a `duplicate-run-id` diagnostic.
 * Reads synchronously in slices while that proves fast on a local file system (a warm cache),
 * otherwise with many asynchronous reads in flight (a cold cache, a network mount); a runs
 * directory that does not answer within the storage deadline is a `runs-dir-unresponsive`
 * diagnostic.
 */
export async function scanRunsDirs(
  runsDirs: readonly string[],
  options: ScanOptions = {},
  keep?: (key: ScannedKey, parsed: ParsedSummary) => void,
): Promise<{ keys: ScannedKey[]; diagnostics: Diagnostic[] }> {
  const maxBytes = options.maxSummaryBytes ?? DEFAULT_MAX_SUMMARY_BYTES;
  const keys: ScannedKey[] = [];
  const diagnostics: Diagnostic[] = [];
  const entryProblems: Diagnostic[] = [];
  const seen = new Set<string>();
  const dirs =
    options.readMode === "async"
      ? await resolveRunsDirsAsync(runsDirs, diagnostics, options)
      : resolveRunsDirs(runsDirs, diagnostics);
  for (const runsDir of dirs) {
    // Each folder is turned into its small key as soon as it is read: the parsed summaries die
    // young (a scan that kept them all until the end spent a fifth of its time collecting them).
    const onFolder = ({ name, verdict }: ScannedFolder) => {
      if (verdict.is === "skip") return;
      let problem: { kind: DiagnosticKind; message: string } | null = verdict.is === "problem" ? verdict : null;
      if (verdict.is === "run") {
        if (seen.has(name))
          problem = { kind: "duplicate-run-id", message: "An earlier runs directory holds a run with this id." };
        else {
          seen.add(name);
          const key = toRunKey(verdict.parsed) as ScannedKey;
          key.runsDir = runsDir;
          keys.push(key);
          keep?.(key, verdict.parsed);
        }
      }
      if (problem) entryProblems.push({ runsDir, entry: name, kind: problem.kind, message: problem.message });
    };
    await scanRunsDir(runsDir, { ...options, maxSummaryBytes: maxBytes }, diagnostics, onFolder);
  }
  // Reads finish in any order (asynchronous scans): problems are listed in one order everywhere.
  diagnostics.push(...entryProblems.sort(diagnosticOrder(dirs)));
  // A runs directory that does not answer: no listing is right without it.
  const hung = diagnostics.find((d) => d.kind === "runs-dir-unresponsive");
  if (hung) throw storageUnavailable(hung.runsDir, options.storageTimeoutMs ?? DEFAULT_STORAGE_TIMEOUT_MS);
  return { keys, diagnostics };
}

/**
 * The order folder problems are listed in, by every listing: runs directory in the configured
 * order (`dirs`), then entry name.
 */
export function diagnosticOrder(dirs: readonly string[]): (a: Diagnostic, b: Diagnostic) => number {
  const rank = new Map<string, number>();
  for (const [i, dir] of dirs.entries()) if (!rank.has(dir)) rank.set(dir, i);
  return (a, b) => {
    if (a.runsDir !== b.runsDir) return (rank.get(a.runsDir) ?? dirs.length) - (rank.get(b.runsDir) ?? dirs.length);
    return _compareEntryNames(a, b);
  };
}

function _compareEntryNames(a: Diagnostic, b: Diagnostic): number {
  const x = a.entry ?? "";
  const y = b.entry ?? "";
  return x < y ? -1 : x > y ? 1 : 0;
}

/** One entry of a runs directory and what it is. */
export interface ScannedFolder {
  name: string;
  verdict: FolderVerdict;
}

/**
 * Lists one runs directory (a real path) and classifies every entry, in directory order. A
 * directory that cannot be listed, or does not answer in time, adds a diagnostic and gives what
 * was read so far. `wantStamp` adds each summary's stamp (the live index keeps it). With
 * `onFolder`, each entry goes to it as soon as it is classified (in any order) and nothing is
 * kept: the result is empty.
 */
export async function scanRunsDir(
  runsDir: string,
  options: ScanOptions & { wantStamp?: boolean } = {},
  diagnostics: Diagnostic[] = [],
  onFolder?: (folder: ScannedFolder) => void,
): Promise<ScannedFolder[]> {
  const maxBytes = options.maxSummaryBytes ?? DEFAULT_MAX_SUMMARY_BYTES;
  const wantStamp = options.wantStamp ?? false;
  const storage = storageOf(runsDir, options);
  const local = await isLocalFs(runsDir, options);
  const sync = local && options.readMode !== "async";
  let entries: DirEntry[];
  try {
    // Asynchronous even where reads may be synchronous: listing a large directory from a cold
    // cache takes tens of milliseconds, and in chunks it costs a few pool hops, not a stall.
    // Names only on a network file system (types, where it gives none, are lstat'ed below).
    entries = await storage.readdir(runsDir, local);
  } catch (error) {
    diagnostics.push(runsDirProblem(runsDir, error));
    return [];
  }
  const out: ScannedFolder[] = onFolder ? [] : new Array(entries.length);
  const done = (at: number, folder: ScannedFolder) => {
    if (onFolder) onFolder(folder);
    else out[at] = folder;
  };
  const slicer = createSlicer();
  // Entries still to classify, by index; a large local directory has its summaries read in
  // worker threads first (the event loop only parses), and what they leave is read below.
  // (an entry of unknown type goes to the asynchronous reads: an lstat there decides)
  let todo: number[] = [];
  const unknown: number[] = [];
  for (let i = 0; i < entries.length; i++) (entries[i]!.type === "unknown" ? unknown : todo).push(i);
  let syncReads = sync;
  if (sync && entries.length >= OFF_THREAD_MIN_ENTRIES) {
    const names: string[] = [];
    const at: number[] = [];
    const rest: number[] = [];
    for (const i of todo) {
      const { name, type } = entries[i]!;
      if (type === "unknown") continue; // (never here: see above)
      const first = classifyEntry(name, type);
      if (first !== "read") done(i, { name, verdict: first });
      else if (type === "directory") {
        names.push(name);
        at.push(i);
      } else rest.push(i);
      if (slicer.due()) await slicer.yield();
    }
    const unread = new Set(
      await readSummariesOffThread(
        runsDir,
        names,
        maxBytes,
        options.storageTimeoutMs ?? DEFAULT_STORAGE_TIMEOUT_MS,
        (first, reads) => {
          for (let k = 0; k < reads.length; k++) {
            const name = names[first + k]!;
            done(at[first + k]!, { name, verdict: judgeSummary(childPath(runsDir, name), name, reads[k]!, maxBytes) });
          }
        },
        { inFlight: storageInFlight(runsDir) },
      ),
    );
    todo = rest;
    for (let k = 0; k < names.length; k++) if (unread.has(names[k]!)) todo.push(at[k]!);
    syncReads = false; // what the workers left (no worker, or one that did not answer): many reads in flight
  }
  let next = 0;
  // Synchronous reads first, while they prove fast (a warm cache on a local disk).
  if (syncReads) {
    let slow = 0;
    let timed = 0;
    while (next < todo.length) {
      const at = todo[next]!;
      const dirent = entries[at]!;
      const started = performance.now();
      done(at, {
        name: dirent.name,
        verdict: classifyFolderSync(runsDir, dirent.name, dirent.type as EntryType, maxBytes, wantStamp),
      });
      next++;
      if (performance.now() - started > SLOW_SYNC_READ_MS) slow++;
      if (++timed === 64) {
        if (slow * 4 >= timed) break; // a cold cache: the rest in parallel
        slow = 0;
        timed = 0;
      }
      // (checked after every read: one read from a cold disk can take milliseconds)
      if (slicer.due()) await slicer.yield();
    }
  }
  todo.push(...unknown);
  if (next < todo.length) {
    let failed: unknown = null;
    const worker = async () => {
      while (next < todo.length && failed === null) {
        const at = todo[next++]!;
        const dirent = entries[at]!;
        try {
          done(at, {
            name: dirent.name,
            verdict: await classifyFolder(storage, dirent.name, dirent.type, maxBytes, wantStamp),
          });
        } catch (error) {
          failed = error;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(SCAN_IN_FLIGHT, todo.length - next) }, worker));
    if (failed !== null) {
      diagnostics.push(runsDirProblem(runsDir, failed));
      return out.filter(Boolean);
    }
  }
  return out;
}

/** The diagnostic of a runs directory that could not be listed, or did not answer in time. */
export function runsDirProblem(runsDir: string, error: unknown): Diagnostic {
  if (isGuideBoardError(error, "STORAGE_UNAVAILABLE")) {
    return {
      runsDir,
      entry: null,
      kind: "runs-dir-unresponsive",
      message: "Runs directory does not answer (a hung network mount?); runs are shown as last read.",
    };
  }
  return { runsDir, entry: null, kind: "runs-dir-unreadable", message: "Runs directory cannot be read." };
}

/**
 * Whether a caller may read `runsDir` synchronously: not a service (`readMode: "async"`), and a
 * local file system (a network mount can hang a synchronous call). Answered from a cache.
 */
export async function mayReadSync(runsDir: string, options: ScanOptions): Promise<boolean> {
  return options.readMode !== "async" && (await isLocalFs(runsDir, options));
}

/**
 * Real paths of the configured runs directories, in order and without repeats; a missing one is
 * a diagnostic, not an error, so a service can start before its first run.
 */
export function resolveRunsDirs(runsDirs: readonly string[], diagnostics: Diagnostic[] = []): string[] {
  const out: string[] = [];
  for (const configured of runsDirs) {
    try {
      const real = realpathSync.native(configured);
      if (!out.includes(real)) out.push(real);
    } catch (error) {
      const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
      diagnostics.push({
        runsDir: configured,
        entry: null,
        kind: missing ? "runs-dir-missing" : "runs-dir-unreadable",
        message: missing ? "Runs directory does not exist." : "Runs directory cannot be resolved.",
      });
    }
  }
  return out;
}

/** {@link resolveRunsDirs} through the storage layer (a service: no synchronous call). */
export async function resolveRunsDirsAsync(
  runsDirs: readonly string[],
  diagnostics: Diagnostic[] = [],
  options: StorageOptions = {},
): Promise<string[]> {
  const out: string[] = [];
  for (const configured of runsDirs) {
    try {
      // The configured path itself is the storage key until its real path is known.
      const real = await storageOf(configured, options).realpath(configured);
      if (!out.includes(real)) out.push(real);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (isGuideBoardError(error, "STORAGE_UNAVAILABLE")) diagnostics.push(runsDirProblem(configured, error));
      else
        diagnostics.push({
          runsDir: configured,
          entry: null,
          kind: code === "ENOENT" ? "runs-dir-missing" : "runs-dir-unreadable",
          message: code === "ENOENT" ? "Runs directory does not exist." : "Runs directory cannot be resolved.",
        });
    }
  }
  return out;
}
