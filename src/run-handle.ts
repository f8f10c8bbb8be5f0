import { constants, promises as fsp, type Stats } from "node:fs";
import { join } from "node:path";
import { isGuideBoardError } from "./errors.ts";
import type { Storage } from "./storage.ts";

// Reading inside a run folder without races (issue 15, part 3). A run folder is opened once,
// without following a link (O_DIRECTORY | O_NOFOLLOW), and the opened folder is checked: it is a
// folder, and /proc/self/fd/N names it at its place in the runs directory. Everything under it is
// then opened as `/proc/self/fd/N/<rel>`: the kernel starts the walk at the opened folder, so a
// run folder renamed away and replaced by a link (to anything) meanwhile is never walked through.
// A link swapped in deeper down (`reports/` replaced by a link) is caught on the opened file
// itself: its last component is opened with O_NOFOLLOW, and the opened descriptor's real path
// (/proc/self/fd/M) must lie under the run folder's real path read at the same time. Sizes come
// from fstat of the opened file, never from a stat by path.
//
// Where /proc/self/fd does not exist (macOS, a container without /proc), paths are opened as
// they are, and the checks are the descriptor's device and inode against those seen by path.

/** Flags a run folder is opened with: read-only, a folder, never through a final link. */
const DIR_FLAGS: number =
  constants.O_RDONLY | (constants.O_DIRECTORY ?? 0) | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

/** Read-only, never through a final link, never blocking (FIFOs), never taking a terminal. */
export const FILE_FLAGS: number =
  constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0);

/** Why a run folder could not be opened as a handle. */
export type RunOpenFailure = "absent" | "link" | "not-a-folder" | "moved";

/** A run folder opened once and checked: read everything under it through {@link RunHandle.pathOf}. */
export interface RunHandle {
  /** The run folder's real path (`<runsDir>/<runId>`). */
  readonly runDir: string;
  /** The fstat of the opened folder. */
  readonly stat: Stats;
  /** The folder's descriptor while open. */
  readonly fd: number;
  /** Whether paths go through /proc/self/fd (Linux); otherwise they are the run folder's own paths. */
  readonly pinned: boolean;
  /** The path to open `rel` (a checked relative path) through the handle. */
  pathOf(rel: string): string;
  /** Closes the folder's descriptor (never waits on a hung mount). Safe to call twice. */
  close(): void;
}

/** The result of {@link openRunHandle}. */
export type RunHandleResult = { handle: RunHandle } | { failure: RunOpenFailure };

/**
 * Opens the run folder `runDir` (a real path in `storage.runsDir`) without following a link and
 * checks the opened descriptor. Throws only `STORAGE_UNAVAILABLE`; the caller must `close()`.
 */
export async function openRunHandle(storage: Storage, runDir: string): Promise<RunHandleResult> {
  let dir: fsp.FileHandle;
  try {
    dir = await storage.open(runDir, DIR_FLAGS);
  } catch (error) {
    if (isGuideBoardError(error, "STORAGE_UNAVAILABLE")) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    // O_NOFOLLOW on a link: ELOOP (Linux, macOS) or, on some systems, EMLINK / EFTYPE.
    // O_DIRECTORY | O_NOFOLLOW on a link is ENOTDIR on Linux (ELOOP elsewhere): ask which it was.
    if (code === "ELOOP" || code === "EMLINK" || code === "EFTYPE") return { failure: "link" };
    if (code !== "ENOTDIR") return { failure: "absent" };
    const type = await storage.lstat(runDir).catch(_unlessUnavailable(null));
    return { failure: type === null ? "absent" : type.isSymbolicLink() ? "link" : "not-a-folder" };
  }
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    storage.close(dir);
  };
  try {
    const stat = await storage.call("fstat", () => dir.stat());
    if (!stat.isDirectory()) {
      close();
      return { failure: "not-a-folder" };
    }
    const where = await storage.call("readlink", () => openedPath(dir.fd));
    if (where === null) {
      // No /proc: the folder at that path now must be the one opened.
      const now = await storage.lstat(runDir).catch(_unlessUnavailable(null));
      if (now === null || now.ino !== stat.ino || now.dev !== stat.dev) {
        close();
        return { failure: "moved" };
      }
    } else if (where !== runDir) {
      close();
      return { failure: "moved" };
    }
    const root = where === null ? runDir : `/proc/self/fd/${dir.fd}`;
    return {
      handle: {
        runDir,
        stat,
        fd: dir.fd,
        pinned: where !== null,
        pathOf: (rel) => (closed ? join(runDir, rel) : `${root}/${rel}`),
        close,
      },
    };
  } catch (error) {
    close();
    throw error;
  }
}

/**
 * Runs `use` with the run folder `runDir` opened as a handle, closing it afterwards whatever
 * happens; `failed` is called instead when the folder cannot be opened.
 */
export async function withRunHandle<T>(
  storage: Storage,
  runDir: string,
  use: (handle: RunHandle) => Promise<T>,
  failed: (failure: RunOpenFailure) => T | Promise<T>,
): Promise<T> {
  const result = await openRunHandle(storage, runDir);
  if ("failure" in result) return failed(result.failure);
  try {
    return await use(result.handle);
  } finally {
    result.handle.close();
  }
}

/** The outcome of opening a file under a run handle. */
export type OpenedInRun =
  | { ok: true; file: fsp.FileHandle; stat: Stats; realPath: string }
  | { ok: false; why: "missing" | "not-a-file" | "escapes" };

/**
 * Opens `rel` (a checked relative path, links resolved) under `run` and proves the opened file is
 * a regular file inside the run folder. Throws only `STORAGE_UNAVAILABLE`; on success the caller
 * must close `file`.
 */
export async function openUnder(storage: Storage, run: RunHandle, rel: string): Promise<OpenedInRun> {
  let file: fsp.FileHandle;
  try {
    file = await storage.open(run.pathOf(rel), FILE_FLAGS);
  } catch (error) {
    if (isGuideBoardError(error, "STORAGE_UNAVAILABLE")) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    // A link where the file should be: refused like any link out of the run.
    return { ok: false, why: code === "ELOOP" || code === "EMLINK" || code === "EFTYPE" ? "escapes" : "missing" };
  }
  let keep = false;
  try {
    const stat = await storage.call("fstat", () => file.stat());
    if (!stat.isFile()) return { ok: false, why: "not-a-file" };
    const realPath = join(run.runDir, rel);
    if (run.pinned) {
      // Any link on the way (a `reports/` swapped for a link) shows in where the file really is.
      // A run folder renamed meanwhile moves both alike: then its path now is asked for.
      const opened = await storage.call("readlink", () => openedPath(file.fd));
      let inside = opened?.startsWith(`${run.runDir}/`) === true;
      if (!inside && opened !== null) {
        const root = await storage.call("readlink", () => openedPath(run.fd));
        inside = root !== null && opened.startsWith(`${root}/`);
      }
      if (!inside) return { ok: false, why: "escapes" };
      keep = true;
      return { ok: true, file, stat, realPath };
    }
    // No /proc: the file at that path now must be the one opened.
    const now = await storage.lstat(realPath).catch(_unlessUnavailable(null));
    if (now === null || now.ino !== stat.ino || now.dev !== stat.dev) return { ok: false, why: "escapes" };
    keep = true;
    return { ok: true, file, stat, realPath };
  } finally {
    if (!keep) storage.close(file);
  }
}

/** The size of the regular file `rel` under `run`, from the opened file; `null` when there is none. */
export async function sizeUnder(storage: Storage, run: RunHandle, rel: string): Promise<number | null> {
  const opened = await openUnder(storage, run, rel);
  if (!opened.ok) return null;
  storage.close(opened.file);
  return opened.stat.size;
}

/** Where an open descriptor really points, via /proc on Linux; `null` where that is unavailable. */
export async function openedPath(fd: number): Promise<string | null> {
  if (process.platform !== "linux") return null;
  try {
    return await fsp.readlink(`/proc/self/fd/${fd}`);
  } catch {
    return null;
  }
}

function _unlessUnavailable<T>(value: T): (error: unknown) => T {
  return (error) => {
    if (isGuideBoardError(error, "STORAGE_UNAVAILABLE")) throw error;
    return value;
  };
}
