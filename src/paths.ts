import {
  closeSync,
  fstatSync,
  lstatSync,
  openSync,
  type promises as fsp,
  readlinkSync,
  realpathSync,
  statSync,
  type Stats,
} from "node:fs";
import { basename, dirname, join, resolve, sep } from "node:path";
import { GuideBoardError, isGuideBoardError } from "./errors.ts";
import { FILE_FLAGS, openedPath, openUnder, withRunHandle } from "./run-handle.ts";
import { runsDirOf, storageOf, type Storage, type StorageOptions } from "./storage.ts";

/** Why a path from a run folder was refused. */
export const UNSAFE_REASONS = [
  "not-a-string",
  "empty",
  "too-long",
  "nul",
  "control-character",
  "backslash",
  "absolute",
  "drive-letter",
  "parent-segment",
  "escapes-run",
] as const;
export type UnsafeReason = (typeof UNSAFE_REASONS)[number];

/** Longest ref accepted, in characters. Real file systems stop at 4096 bytes. */
const MAX_REF_LENGTH = 4096;

/** The result of checking a ref by its text alone (no file system access). */
export type RefCheck = { safe: true; path: string } | { safe: false; reason: UnsafeReason };

// C0 controls, DEL and C1 controls; NUL is reported on its own.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0001-\u001f\u007f-\u009f]/;
const DRIVE = /^[A-Za-z]:/;

/**
 * Checks a path written inside a run folder (a report ref, a manifest entry) by its text: it must
 * be relative POSIX, without `..` segments, a leading `/`, `\`, a drive letter, NUL or other
 * control characters. `.` and empty segments are dropped, so `./reports//a.html` is
 * `reports/a.html`. Nothing is decoded: `%2e%2e` is a literal file name.
 *
 * @example
 * checkRef("reports/junit.xml"); // { safe: true, path: "reports/junit.xml" }
 * checkRef("../other-run/secret"); // { safe: false, reason: "parent-segment" }
 */
export function checkRef(ref: unknown): RefCheck {
  if (typeof ref !== "string") return { safe: false, reason: "not-a-string" };
  if (ref.length > MAX_REF_LENGTH) return { safe: false, reason: "too-long" };
  if (ref.includes("\0")) return { safe: false, reason: "nul" };
  if (CONTROL.test(ref)) return { safe: false, reason: "control-character" };
  if (ref.includes("\\")) return { safe: false, reason: "backslash" };
  if (ref.startsWith("/")) return { safe: false, reason: "absolute" };
  if (DRIVE.test(ref)) return { safe: false, reason: "drive-letter" };
  const segments: string[] = [];
  for (const segment of ref.split("/")) {
    if (segment === "..") return { safe: false, reason: "parent-segment" };
    if (segment !== "" && segment !== ".") segments.push(segment);
  }
  if (segments.length === 0) return { safe: false, reason: "empty" };
  // `./C:/x` normalises to `C:/x`: check the result too.
  if (DRIVE.test(segments[0]!)) return { safe: false, reason: "drive-letter" };
  return { safe: true, path: segments.join("/") };
}

/** Whether `candidate` (a real path) is `root` itself or lies below it. */
export function isInside(root: string, candidate: string): boolean {
  return candidate === root || candidate.startsWith(root.endsWith(sep) ? root : root + sep);
}

/** A ref resolved against its run folder on the real file system. */
export type ResolvedRef =
  | { safe: true; path: string; absolutePath: string; realPath: string | null }
  | { safe: false; path: string; reason: UnsafeReason };

/** A file-system question the path rules ask; answered synchronously or through the storage layer. */
type FsAsk = ["realpath", string] | ["lstat", string] | ["readlink", string] | ["stat", string];
type Ruling<T> = Generator<FsAsk, T, unknown>;

/** Answers a ruling's questions synchronously (the library's sync API, the CLI). */
function _ruleSync<T>(ruling: Ruling<T>): T {
  let step = ruling.next();
  while (!step.done) {
    const [op, path] = step.value;
    let answer: unknown;
    try {
      answer =
        op === "realpath"
          ? realpathSync.native(path)
          : op === "lstat"
            ? lstatSync(path)
            : op === "readlink"
              ? readlinkSync(path)
              : statSync(path);
    } catch (error) {
      step = ruling.throw(error);
      continue;
    }
    step = ruling.next(answer);
  }
  return step.value;
}

/** Answers a ruling's questions through the storage layer (deadline, bounded calls in flight). */
async function _ruleAsync<T>(ruling: Ruling<T>, storage: Storage): Promise<T> {
  let step = ruling.next();
  while (!step.done) {
    const [op, path] = step.value;
    let answer: unknown;
    try {
      answer = await storage[op](path);
    } catch (error) {
      if (isGuideBoardError(error, "STORAGE_UNAVAILABLE")) throw error;
      step = ruling.throw(error);
      continue;
    }
    step = ruling.next(answer);
  }
  return step.value;
}

/**
 * Resolves `ref` inside the run folder `runDir` (already a real path) and checks containment on
 * the real path: a symlink anywhere on the way that leads out of the run folder makes the ref
 * unsafe. `realPath` is `null` when nothing exists there (yet).
 */
export function resolveInRun(runDir: string, ref: unknown): ResolvedRef {
  return _ruleSync(_resolve(runDir, ref));
}

/** {@link resolveInRun} through the storage layer: every file call has a deadline. */
export function resolveInRunAsync(runDir: string, ref: unknown, storage: Storage): Promise<ResolvedRef> {
  return _ruleAsync(_resolve(runDir, ref), storage);
}

function* _resolve(runDir: string, ref: unknown): Ruling<ResolvedRef> {
  const check = checkRef(ref);
  if (!check.safe) return { safe: false, path: _shown(ref), reason: check.reason };
  const absolutePath = join(runDir, check.path);
  let realPath: string | null;
  try {
    realPath = (yield ["realpath", absolutePath]) as string;
  } catch {
    // Nothing readable there now; but a dangling link must not point out of the run either,
    // or the ref would leave the run as soon as its target appears.
    // (A run folder that vanished meanwhile — pruned mid-request — is just missing, not unsafe.)
    if (!(yield* _runGone(runDir)) && (yield* _danglingEscapes(runDir, absolutePath)))
      return { safe: false, path: check.path, reason: "escapes-run" };
    return { safe: true, path: check.path, absolutePath, realPath: null };
  }
  if (!isInside(runDir, realPath)) return { safe: false, path: check.path, reason: "escapes-run" };
  return { safe: true, path: check.path, absolutePath, realPath };
}

/**
 * The size of the regular file at `path` (a real path, as {@link resolveInRun} gives it), or
 * `null` when there is none. The size is the opened file's own: on Linux the opened descriptor
 * must be that very path (/proc/self/fd), so a link swapped in anywhere on the way meanwhile
 * yields `null`, never the size of a file elsewhere.
 */
export function regularFileSize(path: string): number | null {
  let fd: number;
  try {
    fd = openSync(path, OPEN_FLAGS);
  } catch {
    return null;
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) return null;
    let opened: string | null = null;
    if (process.platform === "linux") {
      try {
        opened = readlinkSync(`/proc/self/fd/${fd}`);
      } catch {}
    }
    if (opened === null ? !_sameFile(stat, _lstatOrNull(path)) : opened !== path) return null;
    return stat.size;
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/** {@link regularFileSize} through the storage layer. */
export async function regularFileSizeAsync(path: string, storage: Storage): Promise<number | null> {
  const handle = await storage.open(path, OPEN_FLAGS).catch(_unlessUnavailable(null));
  if (handle === null) return null;
  try {
    const stat = await storage.call("fstat", () => handle.stat()).catch(_unlessUnavailable(null));
    if (!stat?.isFile()) return null;
    const opened = await storage.call("readlink", () => openedPath(handle.fd));
    if (opened === null) {
      const now = await storage.lstat(path).catch(_unlessUnavailable(null));
      return _sameFile(stat, now) ? stat.size : null;
    }
    return opened === path ? stat.size : null;
  } finally {
    storage.close(handle);
  }
}

function _sameFile(a: Stats, b: Stats | null): boolean {
  return b !== null && a.ino === b.ino && a.dev === b.dev;
}

function _lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}

/** Read-only, never through a final link, never blocking (FIFOs), never taking a terminal. */
export const OPEN_FLAGS: number = FILE_FLAGS;

/** A regular file opened for reading after proving it lies inside its run folder. */
export interface ContainedFile {
  handle: fsp.FileHandle;
  stat: Stats;
  realPath: string;
}

/**
 * Opens the file `ref` names inside `runDir` (a real path) for reading, or throws a typed error:
 * `UNSAFE_PATH` when the ref or a link on its way leaves the run folder, `notFound` when nothing
 * readable is there or it is not a regular file (a FIFO, a device or a folder is never opened for
 * reading, so it cannot hang a caller). The run folder is opened once without following a link
 * and the file is opened through that handle (/proc/self/fd/N/… on Linux); the opened descriptor
 * itself is then checked, so a link swapped in anywhere between the check and the open is caught.
 */
export async function openInRun(
  runDir: string,
  ref: unknown,
  notFound: () => GuideBoardError,
  options: StorageOptions = {},
): Promise<ContainedFile> {
  const storage = storageOf(runsDirOf(runDir), options);
  const resolved = await resolveInRunAsync(runDir, ref, storage);
  if (!resolved.safe) throw unsafePathError(resolved.path, resolved.reason);
  if (resolved.realPath === null || resolved.realPath === runDir) throw notFound();
  const rel = resolved.realPath.slice(runDir.length + 1);
  // A run folder that is gone or was replaced (by a link, by a file) is "not found".
  const opened = await withRunHandle(
    storage,
    runDir,
    (run) => openUnder(storage, run, rel),
    () => null,
  );
  if (opened === null) throw notFound();
  if (opened.ok) return { handle: opened.file, stat: opened.stat, realPath: resolved.realPath };
  // Either way nothing is read; a run pruned after the check is "not found", not an attack.
  if (opened.why === "escapes" && !(await runGoneAsync(runDir, storage))) {
    throw unsafePathError(resolved.path, "escapes-run");
  }
  throw notFound();
}

/** A catch handler that turns any error but `STORAGE_UNAVAILABLE` into `value`. */
function _unlessUnavailable<T>(value: T): (error: unknown) => T {
  return (error) => {
    if (isGuideBoardError(error, "STORAGE_UNAVAILABLE")) throw error;
    return value;
  };
}

/** Reads a whole contained file, refusing files larger than `maxBytes`. */
export async function readInRun(
  runDir: string,
  ref: unknown,
  maxBytes: number,
  notFound: () => GuideBoardError,
  tooLarge: (size: number) => GuideBoardError,
  options: StorageOptions = {},
): Promise<string> {
  const file = await openInRun(runDir, ref, notFound, options);
  const storage = storageOf(runsDirOf(runDir), options);
  try {
    if (file.stat.size > maxBytes) throw tooLarge(file.stat.size);
    const buffer = Buffer.alloc(file.stat.size);
    const { bytesRead } = await storage.call("read", () => file.handle.read(buffer, 0, buffer.length, 0));
    return buffer.toString("utf8", 0, bytesRead);
  } finally {
    void file.handle.close().catch(() => {});
  }
}

/** Whether a run folder (a real path) has gone, or is no longer itself: renamed away or deleted. */
export function runGone(runDir: string): boolean {
  return _ruleSync(_runGone(runDir));
}

/** {@link runGone} through the storage layer. */
export function runGoneAsync(runDir: string, storage: Storage): Promise<boolean> {
  return _ruleAsync(_runGone(runDir), storage);
}

function* _runGone(runDir: string): Ruling<boolean> {
  try {
    return ((yield ["realpath", runDir]) as string) !== runDir;
  } catch {
    return true;
  }
}

/** The `UNSAFE_PATH` error for a refused ref; the message never echoes control characters. */
export function unsafePathError(path: string, reason: UnsafeReason): GuideBoardError {
  return new GuideBoardError("UNSAFE_PATH", `Refused an unsafe path (${reason}).`, { path, reason });
}

/**
 * For a path whose real path cannot be resolved: follows the links on its way by hand and says
 * whether the deepest part that exists lies outside `runDir` (so the path would leave the run).
 */
function* _danglingEscapes(runDir: string, absolutePath: string): Ruling<boolean> {
  let path = absolutePath;
  const followed = new Set<string>();
  for (let hops = 0; hops < 40; hops++) {
    let existing = path;
    let real: string | null = null;
    const rest: string[] = [];
    while (real === null) {
      try {
        real = (yield ["realpath", existing]) as string;
      } catch {
        if (existing === dirname(existing)) return true;
        rest.unshift(basename(existing));
        existing = dirname(existing);
      }
    }
    if (!isInside(runDir, real)) return true;
    const next = join(real, rest[0] ?? "");
    if (followed.has(next)) return false; // a loop: never resolves to anything
    followed.add(next);
    let target: string;
    try {
      if (!((yield ["lstat", next]) as Stats).isSymbolicLink()) return false;
      target = (yield ["readlink", next]) as string;
    } catch {
      return false; // plainly missing (or unreadable): nothing to follow
    }
    path = resolve(real, target, ...rest.slice(1));
  }
  return true; // too many links: treat as leaving the run
}

function _shown(ref: unknown): string {
  try {
    return String(ref);
  } catch {
    return Object.prototype.toString.call(ref);
  }
}
