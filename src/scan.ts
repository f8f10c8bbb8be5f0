import { closeSync, existsSync, fstatSync, openSync, opendirSync, readSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { createSlicer } from "./_slices.ts";
import { OPEN_FLAGS } from "./paths.ts";
import { isRunId } from "./run-id.ts";
import { toRunEntry, type RunEntry } from "./run.ts";
import { parseSummary, SUMMARY_FILE, type ParsedSummary } from "./summary.ts";

/** Why a folder (or a whole runs directory) was skipped. */
export const DIAGNOSTIC_KINDS = [
  "runs-dir-missing",
  "runs-dir-unreadable",
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

/**
 * Entries of a runs directory whose names start with this belong to guide-board's own tooling
 * (a prune's folder on its way out, say): skipped without a diagnostic.
 */
export const TOOL_PREFIX = ".guide-board-";

/** Default cap on a summary's size; a larger one is a diagnostic and is never read. */
export const DEFAULT_MAX_SUMMARY_BYTES: number = 1024 * 1024;

/** Options every scan takes. */
export interface ScanOptions {
  /** Largest `retention-summary.json` read, in bytes (default 1 MiB). */
  maxSummaryBytes?: number;
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
  let text: string;
  const stamp: SummaryStamp = { mtimeMs: 0, size: -1, ino: 0 };
  try {
    text = _readSummary(runDir, maxBytes, stamp);
  } catch (error) {
    return _readProblem(runDir, error, maxBytes);
  }
  const parsed = parseSummary(text);
  if ("problem" in parsed) return { ok: false, ...parsed.problem };
  if (parsed.summary.runId !== runId) {
    return { ok: false, kind: "run-id-mismatch", message: "Summary runId differs from its folder name." };
  }
  return { ok: true, entry: toRunEntry(runDir, parsed), parsed, stamp };
}

/**
 * Scans runs directories in order. The first directory holding a retained run with a given id
 * wins; a later one is a `duplicate-run-id` diagnostic. Reads synchronously in slices so a long
 * scan never holds the event loop for long.
 */
export async function scanRunsDirs(
  runsDirs: readonly string[],
  options: ScanOptions = {},
): Promise<{ entries: RunEntry[]; diagnostics: Diagnostic[] }> {
  const maxBytes = options.maxSummaryBytes ?? DEFAULT_MAX_SUMMARY_BYTES;
  const entries: RunEntry[] = [];
  const diagnostics: Diagnostic[] = [];
  const seen = new Set<string>();
  const slicer = createSlicer();
  for (const runsDir of resolveRunsDirs(runsDirs, diagnostics)) {
    let dir;
    try {
      dir = opendirSync(runsDir, { bufferSize: 512 });
    } catch {
      diagnostics.push({ runsDir, entry: null, kind: "runs-dir-unreadable", message: "Runs directory cannot be read." });
      continue;
    }
    try {
      let count = 0;
      for (let dirent = dir.readSync(); dirent !== null; dirent = dir.readSync()) {
        const name = dirent.name;
        if (name.startsWith(TOOL_PREFIX)) continue;
        let problem: { kind: DiagnosticKind; message: string } | null = null;
        if (dirent.isSymbolicLink()) problem = { kind: "symlinked-run-folder", message: "A run folder must not be a symbolic link." };
        else if (!dirent.isDirectory()) continue;
        else if (!isRunId(name)) problem = { kind: "invalid-run-id", message: "Folder name is not a valid run id." };
        else {
          const read = readRunSync(join(runsDir, name), name, maxBytes);
          if (!read.ok) problem = read;
          else if (seen.has(name)) problem = { kind: "duplicate-run-id", message: "An earlier runs directory holds a run with this id." };
          else {
            seen.add(name);
            entries.push(read.entry);
          }
        }
        if (problem) diagnostics.push({ runsDir, entry: name, kind: problem.kind, message: problem.message });
        if (++count % 32 === 0 && slicer.due()) await slicer.yield();
      }
    } catch {
      diagnostics.push({ runsDir, entry: null, kind: "runs-dir-unreadable", message: "Runs directory could not be read to the end." });
    } finally {
      dir.closeSync();
    }
  }
  return { entries, diagnostics };
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

/** What identifies one version of a summary file: a rewrite changes at least one of these. */
export interface SummaryStamp {
  mtimeMs: number;
  size: number;
  ino: number;
}

function _readSummary(runDir: string, maxBytes: number, stamp: SummaryStamp): string {
  const fd = openSync(join(runDir, SUMMARY_FILE), OPEN_FLAGS);
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw Object.assign(new Error("not a file"), { code: "ENOTFILE" });
    if (stat.size > maxBytes) throw Object.assign(new Error("too large"), { code: "ETOOLARGE" });
    stamp.mtimeMs = stat.mtimeMs;
    stamp.size = stat.size;
    stamp.ino = stat.ino;
    const buffer = Buffer.allocUnsafe(stat.size);
    let length = 0;
    while (length < buffer.length) {
      const n = readSync(fd, buffer, length, buffer.length - length, length);
      if (n === 0) break;
      length += n;
    }
    return buffer.toString("utf8", 0, length);
  } finally {
    closeSync(fd);
  }
}

function _readProblem(runDir: string, error: unknown, maxBytes: number): RunRead & { ok: false } {
  switch ((error as NodeJS.ErrnoException).code) {
    case "ENOENT":
      return existsSync(runDir)
        ? { ok: false, kind: "incomplete", message: "No retention-summary.json: the run is in progress or was abandoned." }
        : { ok: false, kind: "vanished", message: "The folder disappeared while it was read." };
    case "ENOTDIR":
      return { ok: false, kind: "vanished", message: "The folder was replaced while it was read." };
    case "ELOOP":
      return { ok: false, kind: "unsafe-summary", message: "retention-summary.json is a symbolic link." };
    case "ENOTFILE":
      return { ok: false, kind: "unsafe-summary", message: "retention-summary.json is not a regular file." };
    case "ETOOLARGE":
      return { ok: false, kind: "summary-too-large", message: `retention-summary.json is larger than ${maxBytes} bytes.` };
    default:
      return { ok: false, kind: "unreadable", message: "retention-summary.json cannot be read." };
  }
}
