import { closeSync, existsSync, fstatSync, openSync, opendirSync, readSync, realpathSync, type Dir } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { createSlicer } from "./_slices.ts";
import { OPEN_FLAGS } from "./paths.ts";
import { isRunId } from "./run-id.ts";
import { toRunEntry, toRunKey, type RunEntry, type RunKey } from "./run.ts";
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
  const stamp: SummaryStamp = { mtimeMs: 0, size: -1, ino: 0 };
  const read = _readParsed(runDir, runId, maxBytes, stamp);
  return read.ok ? { ok: true, parsed: read.parsed, stamp, entry: toRunEntry(runDir, read.parsed) } : read;
}

/** A run key found by a scan, and the runs directory it is in. */
export interface ScannedKey extends RunKey {
  runsDir: string;
}

function _readParsed(
  runDir: string,
  runId: string,
  maxBytes: number,
  stamp: SummaryStamp | null,
):
  | { ok: true; parsed: ParsedSummary; stamp: SummaryStamp | null }
  | { ok: false; kind: DiagnosticKind; message: string } {
  let text: string;
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
  return { ok: true, parsed, stamp };
}

/**
 * Scans runs directories in order and keeps only each retained run's key (sort key, status,
 * labels): the full run objects are built for the runs a caller returns. The first directory
 * holding a retained run with a given id wins; a later one is a `duplicate-run-id` diagnostic.
 * Reads synchronously in slices so a long scan never holds the event loop for long.
 */
export async function scanRunsDirs(
  runsDirs: readonly string[],
  options: ScanOptions = {},
): Promise<{ keys: ScannedKey[]; diagnostics: Diagnostic[] }> {
  const maxBytes = options.maxSummaryBytes ?? DEFAULT_MAX_SUMMARY_BYTES;
  const keys: ScannedKey[] = [];
  const diagnostics: Diagnostic[] = [];
  const seen = new Set<string>();
  const slicer = createSlicer();
  for (const runsDir of resolveRunsDirs(runsDirs, diagnostics)) {
    let dir: Dir;
    try {
      dir = opendirSync(runsDir, { bufferSize: 512 });
    } catch {
      diagnostics.push({
        runsDir,
        entry: null,
        kind: "runs-dir-unreadable",
        message: "Runs directory cannot be read.",
      });
      continue;
    }
    try {
      let count = 0;
      for (let dirent = dir.readSync(); dirent !== null; dirent = dir.readSync()) {
        const name = dirent.name;
        if (name.startsWith(TOOL_PREFIX)) continue;
        let problem: { kind: DiagnosticKind; message: string } | null = null;
        if (dirent.isSymbolicLink())
          problem = { kind: "symlinked-run-folder", message: "A run folder must not be a symbolic link." };
        else if (!dirent.isDirectory()) continue;
        else if (!isRunId(name)) problem = { kind: "invalid-run-id", message: "Folder name is not a valid run id." };
        else {
          const read = _readParsed(join(runsDir, name), name, maxBytes, null);
          if (!read.ok) problem = read;
          else if (seen.has(name))
            problem = { kind: "duplicate-run-id", message: "An earlier runs directory holds a run with this id." };
          else {
            seen.add(name);
            const key = toRunKey(read.parsed) as ScannedKey;
            key.runsDir = runsDir;
            keys.push(key);
          }
        }
        if (problem) diagnostics.push({ runsDir, entry: name, kind: problem.kind, message: problem.message });
        if (++count % 32 === 0 && slicer.due()) await slicer.yield();
      }
    } catch {
      diagnostics.push({
        runsDir,
        entry: null,
        kind: "runs-dir-unreadable",
        message: "Runs directory could not be read to the end.",
      });
    } finally {
      dir.closeSync();
    }
  }
  return { keys, diagnostics };
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

function _readSummary(runDir: string, maxBytes: number, stamp: SummaryStamp | null): string {
  const fd = openSync(join(runDir, SUMMARY_FILE), OPEN_FLAGS);
  try {
    // A scan needs no stamp: it reads into a shared buffer and asks fstat only when the read
    // looks odd (nothing, an error, or too much), which keeps a cold listing near the I/O floor.
    if (stamp === null) {
      const text = _readQuick(fd, maxBytes);
      if (text !== null) return text;
    }
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw Object.assign(new Error("not a file"), { code: "ENOTFILE" });
    if (stat.size > maxBytes) throw Object.assign(new Error("too large"), { code: "ETOOLARGE" });
    if (stamp !== null) {
      stamp.mtimeMs = stat.mtimeMs;
      stamp.size = stat.size;
      stamp.ino = stat.ino;
    }
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

let shared = Buffer.allocUnsafe(64 * 1024);

/** Reads a whole small file into the shared buffer; `null` when fstat must decide. */
function _readQuick(fd: number, maxBytes: number): string | null {
  let length = 0;
  try {
    for (;;) {
      if (length === shared.length) {
        if (length >= maxBytes) return null;
        const bigger = Buffer.allocUnsafe(Math.min(shared.length * 2, maxBytes + 1));
        shared.copy(bigger, 0, 0, length);
        shared = bigger;
      }
      const n = readSync(fd, shared, length, shared.length - length, length);
      if (n === 0) break;
      length += n;
      if (length > maxBytes) return null;
    }
  } catch {
    return null;
  }
  return length === 0 ? null : shared.toString("utf8", 0, length);
}

function _readProblem(runDir: string, error: unknown, maxBytes: number): RunRead & { ok: false } {
  switch ((error as NodeJS.ErrnoException).code) {
    case "ENOENT":
      return existsSync(runDir)
        ? {
            ok: false,
            kind: "incomplete",
            message: "No retention-summary.json: the run is in progress or was abandoned.",
          }
        : { ok: false, kind: "vanished", message: "The folder disappeared while it was read." };
    case "ENOTDIR":
      return { ok: false, kind: "vanished", message: "The folder was replaced while it was read." };
    case "ELOOP":
      return { ok: false, kind: "unsafe-summary", message: "retention-summary.json is a symbolic link." };
    case "ENOTFILE":
      return { ok: false, kind: "unsafe-summary", message: "retention-summary.json is not a regular file." };
    case "ETOOLARGE":
      return {
        ok: false,
        kind: "summary-too-large",
        message: `retention-summary.json is larger than ${maxBytes} bytes.`,
      };
    default:
      return { ok: false, kind: "unreadable", message: "retention-summary.json cannot be read." };
  }
}
