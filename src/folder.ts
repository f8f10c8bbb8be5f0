import { closeSync, fstatSync, lstatSync, openSync, readlinkSync, readSync } from "node:fs";
import { join } from "node:path";
import { isGuideBoardError } from "./errors.ts";
import { SUMMARY_FILE, TOOL_PREFIX } from "./format.ts";
import { OPEN_FLAGS } from "./paths.ts";
import { openedPath } from "./run-handle.ts";
import { isRunId } from "./run-id.ts";
import { toRunEntry, type RunEntry } from "./run.ts";
import type { DiagnosticKind } from "./scan.ts";
import { entryType, type Storage } from "./storage.ts";
import { parseSummary, type ParsedSummary } from "./summary.ts";

// The one place that decides what an entry of a runs directory is: a run, an incomplete folder,
// or a diagnostic with its message (or nothing: tooling entries and plain files). The stateless
// scans (src/scan.ts, src/runs.ts) and the live index (src/run-index.ts) all ask it.

/** What identifies one version of a summary file: a rewrite changes at least one of these. */
export interface SummaryStamp {
  mtimeMs: number;
  size: number;
  ino: number;
}

/** What an entry of a runs directory is. */
export type FolderVerdict =
  | { is: "skip" }
  | { is: "run"; entry: RunEntry; parsed: ParsedSummary; stamp: SummaryStamp | null }
  | { is: "problem"; kind: DiagnosticKind; message: string };

/** An entry's type as a directory listing or an lstat gives it; `null`: nothing is there. */
export type EntryType = "directory" | "symlink" | "other" | null;

/** Decides by name and type alone; `"read"` means the summary decides. */
export function classifyEntry(name: string, type: EntryType): FolderVerdict | "read" {
  if (name.startsWith(TOOL_PREFIX) || type === null || type === "other") return { is: "skip" };
  if (type === "symlink")
    return { is: "problem", kind: "symlinked-run-folder", message: "A run folder must not be a symbolic link." };
  if (!isRunId(name)) return { is: "problem", kind: "invalid-run-id", message: "Folder name is not a valid run id." };
  return "read";
}

/** A summary's bytes, or why there are none (an errno-like code). */
export type SummaryRead = { text: string; stamp: SummaryStamp | null } | { code: string };

/** Decides on a run folder from its summary read. */
export function judgeSummary(runDir: string, runId: string, read: SummaryRead, maxBytes: number): FolderVerdict {
  if ("code" in read) return { is: "problem", ..._readProblem(read.code, maxBytes) };
  const parsed = parseSummary(read.text);
  if ("problem" in parsed) return { is: "problem", ...parsed.problem };
  if (parsed.summary.runId !== runId) {
    return { is: "problem", kind: "run-id-mismatch", message: "Summary runId differs from its folder name." };
  }
  return new RunVerdict(runDir, parsed, read.stamp);
}

/** A run's verdict. The full run object is built only when asked for: a scan keeps just the sort key. */
class RunVerdict {
  readonly is = "run";
  #entry: RunEntry | undefined;
  constructor(
    readonly runDir: string,
    readonly parsed: ParsedSummary,
    readonly stamp: SummaryStamp | null,
  ) {}
  get entry(): RunEntry {
    this.#entry ??= toRunEntry(this.runDir, this.parsed);
    return this.#entry;
  }
}

/** Classifies one entry of `runsDir` synchronously (the CLI, the sync scans). Never throws. */
export function classifyFolderSync(
  runsDir: string,
  name: string,
  type: EntryType,
  maxBytes: number,
  wantStamp: boolean,
): FolderVerdict {
  const first = classifyEntry(name, type);
  if (first !== "read") return first;
  const runDir = childPath(runsDir, name);
  return judgeSummary(runDir, name, readSummarySync(runDir, maxBytes, wantStamp), maxBytes);
}

/**
 * Classifies one entry of `runsDir` through the storage layer. Never throws but
 * `STORAGE_UNAVAILABLE` (the directory did not answer in time).
 */
export async function classifyFolder(
  storage: Storage,
  name: string,
  type: EntryType | "unknown",
  maxBytes: number,
  wantStamp: boolean,
): Promise<FolderVerdict> {
  const runDir = join(storage.runsDir, name);
  let read: SummaryRead | undefined;
  if (type === "unknown") {
    // A listing without types (a network file system). A run id is read first: a read that
    // succeeds went through no link (the descriptor check says so), so only a failed read, or
    // another name, costs an lstat to tell what the entry is.
    if (isRunId(name) && !name.startsWith(TOOL_PREFIX)) {
      read = await readSummary(storage, runDir, maxBytes, wantStamp);
      if (!("code" in read)) return judgeSummary(runDir, name, read, maxBytes);
    }
    try {
      type = entryType(await storage.lstat(runDir));
    } catch (error) {
      if (isGuideBoardError(error, "STORAGE_UNAVAILABLE")) throw error;
      type = null;
    }
  }
  const first = classifyEntry(name, type);
  if (first !== "read") return first;
  read ??= await readSummary(storage, runDir, maxBytes, wantStamp);
  return judgeSummary(runDir, name, read, maxBytes);
}

/** The stamp of a run folder's summary, through the storage layer; `null` when there is none. */
export async function summaryStamp(storage: Storage, runDir: string): Promise<SummaryStamp | null> {
  try {
    const stat = await storage.stat(join(runDir, SUMMARY_FILE));
    return { mtimeMs: stat.mtimeMs, size: stat.size, ino: stat.ino };
  } catch (error) {
    if (isGuideBoardError(error, "STORAGE_UNAVAILABLE")) throw error;
    return null;
  }
}

/** Whether two stamps name the same version of a summary. */
export function sameStamp(a: SummaryStamp | null, b: SummaryStamp | null): boolean {
  return a !== null && b !== null && a.mtimeMs === b.mtimeMs && a.size === b.size && a.ino === b.ino;
}

// Reading a summary: opened without following a final link and without blocking (a FIFO), read
// whole into a buffer; fstat only when a stamp is wanted or the read looks odd (nothing, an
// error, or too much), which keeps a cold listing near the I/O floor.

let shared = Buffer.allocUnsafe(64 * 1024);

/** Reads a run folder's summary synchronously. */
export function readSummarySync(runDir: string, maxBytes: number, wantStamp: boolean): SummaryRead {
  let fd: number;
  const path = childPath(runDir, SUMMARY_FILE);
  try {
    fd = openSync(path, OPEN_FLAGS);
  } catch (error) {
    return { code: _openFailure(error, () => _existsSync(runDir)) };
  }
  try {
    if (!_openedAtSync(fd, path)) return { code: "EMOVED" };
    if (!wantStamp) {
      const text = _readQuick(fd, maxBytes);
      if (text !== null) return { text, stamp: null };
    }
    const stat = fstatSync(fd);
    if (!stat.isFile()) return { code: "ENOTFILE" };
    if (stat.size > maxBytes) return { code: "ETOOLARGE" };
    const buffer = Buffer.allocUnsafe(stat.size);
    let length = 0;
    while (length < buffer.length) {
      const n = readSync(fd, buffer, length, buffer.length - length, length);
      if (n === 0) break;
      length += n;
    }
    const stamp = wantStamp ? { mtimeMs: stat.mtimeMs, size: stat.size, ino: stat.ino } : null;
    return { text: buffer.toString("utf8", 0, length), stamp };
  } catch {
    return { code: "EIO" };
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads a run folder's summary through the storage layer (throws only `STORAGE_UNAVAILABLE`),
 * opening it at `at` (a run handle's path for it; by default its path in the runs directory).
 */
export async function readSummary(
  storage: Storage,
  runDir: string,
  maxBytes: number,
  wantStamp: boolean,
  at = join(runDir, SUMMARY_FILE),
): Promise<SummaryRead> {
  let handle: Awaited<ReturnType<Storage["open"]>>;
  try {
    handle = await storage.open(at, OPEN_FLAGS);
  } catch (error) {
    if (isGuideBoardError(error, "STORAGE_UNAVAILABLE")) throw error;
    let exists = true;
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      exists = await storage.lstat(runDir).then(
        () => true,
        (problem: unknown) => {
          if (isGuideBoardError(problem, "STORAGE_UNAVAILABLE")) throw problem;
          return false;
        },
      );
    }
    return { code: _openFailure(error, () => exists) };
  }
  try {
    // The summary read must be this run folder's own, not one reached through a run folder (or
    // a runs directory entry) swapped for a link meanwhile: on Linux the opened descriptor says.
    const opened = await storage.call("readlink", () => openedPath(handle.fd)).catch(_keep(""));
    if (opened !== null && opened !== join(runDir, SUMMARY_FILE)) return { code: "EMOVED" };
    if (!wantStamp) {
      // One read into a fresh 16 KiB buffer answers nearly every summary without an fstat.
      const buffer = Buffer.allocUnsafe(Math.min(16 * 1024, maxBytes + 1));
      const { bytesRead } = await storage
        .call("read", () => handle.read(buffer, 0, buffer.length, 0))
        .catch(_keep({ bytesRead: -1 }));
      if (bytesRead > 0 && bytesRead < buffer.length)
        return { text: buffer.toString("utf8", 0, bytesRead), stamp: null };
    }
    const stat = await storage.call("fstat", () => handle.stat()).catch(_keep(null));
    if (stat === null) return { code: "EIO" };
    if (!stat.isFile()) return { code: "ENOTFILE" };
    if (stat.size > maxBytes) return { code: "ETOOLARGE" };
    const buffer = Buffer.allocUnsafe(stat.size);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await storage
        .call("read", () => handle.read(buffer, length, buffer.length - length, length))
        .catch(_keep({ bytesRead: -1 }));
      if (bytesRead < 0) return { code: "EIO" };
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    const stamp = wantStamp ? { mtimeMs: stat.mtimeMs, size: stat.size, ino: stat.ino } : null;
    return { text: buffer.toString("utf8", 0, length), stamp };
  } finally {
    // Not awaited: a close that hangs holds its slot, never the caller.
    storage.close(handle);
  }
}

/** A catch handler: `STORAGE_UNAVAILABLE` passes, anything else becomes `value`. */
function _keep<T>(value: T): (error: unknown) => T {
  return (error) => {
    if (isGuideBoardError(error, "STORAGE_UNAVAILABLE")) throw error;
    return value;
  };
}

function _openFailure(error: unknown, exists: () => boolean): string {
  const code = (error as NodeJS.ErrnoException).code ?? "EIO";
  if (code === "ENOENT" && !exists()) return "EVANISHED";
  return code;
}

/**
 * `join(dir, name)` for a normalized directory path (a real path) and a plain entry name (a run
 * id or a file name): a scan builds two per summary, and `join` normalizes what needs none.
 */
export function childPath(dir: string, name: string): string {
  return dir.endsWith("/") ? dir + name : `${dir}/${name}`;
}

/** Whether the descriptor `fd` is the file at `path` (Linux: /proc/self/fd; elsewhere, assumed). */
function _openedAtSync(fd: number, path: string): boolean {
  if (process.platform !== "linux") return true;
  try {
    return readlinkSync(`/proc/self/fd/${fd}`) === path;
  } catch {
    return true; // no /proc mounted: as before
  }
}

function _existsSync(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

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
      const want = shared.length - length;
      const n = readSync(fd, shared, length, want, length);
      length += n;
      if (length > maxBytes) return null;
      // A short read is the end of a regular file (as the asynchronous read takes it): one call
      // fewer per summary. Anything else got here without blocking (the open is non-blocking).
      if (n < want) break;
    }
  } catch {
    return null;
  }
  return length === 0 ? null : shared.toString("utf8", 0, length);
}

function _readProblem(code: string, maxBytes: number): { kind: DiagnosticKind; message: string } {
  switch (code) {
    case "ENOENT":
      return { kind: "incomplete", message: "No retention-summary.json: the run is in progress or was abandoned." };
    case "EVANISHED":
      return { kind: "vanished", message: "The folder disappeared while it was read." };
    case "ENOTDIR":
    case "EMOVED":
      return { kind: "vanished", message: "The folder was replaced while it was read." };
    case "ELOOP":
      return { kind: "unsafe-summary", message: "retention-summary.json is a symbolic link." };
    case "ENOTFILE":
      return { kind: "unsafe-summary", message: "retention-summary.json is not a regular file." };
    case "ETOOLARGE":
      return { kind: "summary-too-large", message: `retention-summary.json is larger than ${maxBytes} bytes.` };
    default:
      return { kind: "unreadable", message: "retention-summary.json cannot be read." };
  }
}
