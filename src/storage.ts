import { promises as fsp, type Stats } from "node:fs";
import { statfs } from "node:fs/promises";
import { listOffThread, OFF_THREAD_MIN_ENTRIES } from "./_read-worker.ts";
import { type FileIdentity, fileIdentity, statInWorker } from "./_stat-worker.ts";
import { GuideBoardError, isGuideBoardError } from "./errors.ts";

// Every file call the service makes on a runs directory goes through here: asynchronous, with a
// bounded number of calls in flight per runs directory and a deadline per call. A call that
// misses its deadline is answered `STORAGE_UNAVAILABLE` at once, but the file system call itself
// may still be stuck in libuv's thread pool (a hung NFS or sshfs mount): it keeps its slot until
// it really returns, so a hung directory holds at most `maxInFlight` pool threads and the rest
// of the pool stays free for every other directory, for sockets' DNS, for crypto.

/** Default deadline of one storage call, in milliseconds. */
export const DEFAULT_STORAGE_TIMEOUT_MS = 10_000;

/**
 * Default number of file calls in flight per runs directory on a network file system. Measured
 * (docs/performance.md): 16 reads in flight reach the network floor on a 1 ms-latency mount, and
 * libuv's pool (sized 64 by the `guide-board` bin; 4 by default in other programs) keeps room for
 * other directories. A local file system may use half the pool ({@link setStorageLocal}).
 */
export const DEFAULT_STORAGE_IN_FLIGHT = 16;

/** Options every storage call takes. */
export interface StorageOptions {
  /** Deadline of one file call on a runs directory, in ms (default 10 000). */
  storageTimeoutMs?: number;
  /** Stops the work: every later file call rejects with `signal.reason` (an `AbortError`). */
  signal?: AbortSignal;
}

/** The health of one runs directory as the storage layer sees it. */
export interface StorageHealth {
  runsDir: string;
  /** Calls running now (holding a slot), including stuck ones. */
  inFlight: number;
  /** Calls waiting for a slot. */
  queued: number;
  /** Calls that missed their deadline and have still not returned. */
  stuck: number;
  /** Since when (epoch ms) the directory has not answered; `null` while it answers. */
  unresponsiveSince: number | null;
}

interface DirState {
  runsDir: string;
  inFlight: number;
  stuck: number;
  queue: Array<() => void>;
  unresponsiveSince: number | null;
  listeners: Set<(health: StorageHealth) => void>;
  /** On a local file system (see {@link setStorageLocal}). */
  local: boolean;
  /** Handles whose close was refused while the directory did not answer: closed when it answers. */
  closeLater: Set<{ close(): Promise<void> }>;
}

const states = new Map<string, DirState>();

/**
 * Half of libuv's thread pool, at most {@link DEFAULT_STORAGE_IN_FLIGHT}: with Node's default pool
 * of 4 that is 2, so one hung directory never holds the whole pool. The `guide-board` bin sizes
 * the pool to 64 (unless `UV_THREADPOOL_SIZE` is set), which gives 16.
 */
function _defaultInFlight(): number {
  return Math.max(1, Math.min(DEFAULT_STORAGE_IN_FLIGHT, _halfPool()));
}

function _halfPool(): number {
  return Math.floor((Number(process.env.UV_THREADPOOL_SIZE) || 4) / 2);
}

let maxInFlight = 0; // decided on first use: the bin sets UV_THREADPOOL_SIZE before any call
let localInFlight = 0; // likewise, for a runs directory on a local file system

/** Counts every storage call (a bench wraps it to count the idle cost). */
export const storageCalls: { total: number; byOp: Record<string, number> } = { total: 0, byOp: {} };

function _state(runsDir: string): DirState {
  let state = states.get(runsDir);
  if (!state) {
    state = {
      runsDir,
      inFlight: 0,
      stuck: 0,
      queue: [],
      unresponsiveSince: null,
      listeners: new Set(),
      local: false,
      closeLater: new Set(),
    };
    states.set(runsDir, state);
  }
  return state;
}

/** The health of a runs directory (a real path). */
export function storageHealth(runsDir: string): StorageHealth {
  const state = _state(runsDir);
  return {
    runsDir,
    inFlight: state.inFlight,
    queued: state.queue.length,
    stuck: state.stuck,
    unresponsiveSince: state.unresponsiveSince,
  };
}

/** Calls `listener` when a runs directory stops or starts answering; returns the unsubscribe function. */
export function onStorageHealth(runsDir: string, listener: (health: StorageHealth) => void): () => void {
  const state = _state(runsDir);
  state.listeners.add(listener);
  return () => state.listeners.delete(listener);
}

/** File systems whose calls go over a network (statfs magic numbers): never read synchronously. */
const NETWORK_FS = new Set([
  0x6969, // NFS
  0x517b, // SMB
  0xff534d42, // CIFS
  0xfe534d42, // SMB2
  0x65735546, // FUSE (sshfs, s3fs, gcsfuse, …)
  0x00c36400, // Ceph
  0x5346414f, // AFS
  0x01021997, // 9P
  0x0bd00bd0, // Lustre
  0x01161970, // GFS2
  0x7461636f, // OCFS2
  0x6b414653, // AFS (kafs)
]);

const fsTypes = new Map<string, { network: boolean; at: number }>();

/**
 * Whether `runsDir` is on a local file system (by its type, as statfs gives it; not a network
 * mount, and not a file system that cannot be told). Answered from a cache.
 */
export async function isLocalFs(runsDir: string, options: StorageOptions): Promise<boolean> {
  return !(await _isNetworkFs(runsDir, options));
}

async function _isNetworkFs(runsDir: string, options: StorageOptions): Promise<boolean> {
  const known = fsTypes.get(runsDir);
  if (known && Date.now() - known.at < 10_000) return known.network;
  let network = true;
  try {
    const stat = await storageCall(runsDir, "statfs", () => statfs(runsDir), options);
    network = NETWORK_FS.has(Number(stat.type) >>> 0);
  } catch {
    // Unknown: read asynchronously.
  }
  fsTypes.set(runsDir, { network, at: Date.now() });
  setStorageLocal(runsDir, !network); // (a local one may have more calls in flight)
  return network;
}

/** Sets the cap on calls in flight per runs directory, local or not (for measurements; at least 1). */
export function setStorageInFlight(value: number): void {
  maxInFlight = Math.max(1, Math.floor(value));
  localInFlight = maxInFlight;
}

/**
 * Says whether a runs directory is on a local file system ({@link isLocalFs} tells it by statfs). A
 * local one may have half of libuv's pool in flight (32 under the bin), not 16: reading a cold
 * local disk wants many reads queued at the device. Each directory leaves at least half the pool
 * to the others; several busy directories together can fill it (docs/service-durability.md).
 */
export function setStorageLocal(runsDir: string, local: boolean): void {
  const state = _state(runsDir);
  state.local = local;
  _startQueued(state);
}

function _cap(state: DirState): number {
  _decideCaps();
  return state.local ? localInFlight : maxInFlight;
}

/** Decides the caps on first use (the bin sets `UV_THREADPOOL_SIZE` before any call). */
function _decideCaps(): void {
  if (maxInFlight !== 0) return;
  maxInFlight = _defaultInFlight();
  localInFlight = Math.max(maxInFlight, _halfPool());
}

/**
 * The cap on calls in flight on `runsDir` (a real path): work that reads it outside this layer
 * (the read workers of src/_read-worker.ts) keeps to it.
 */
export function storageInFlight(runsDir: string): number {
  return _cap(_state(runsDir));
}

/** Starts queued calls while the directory has free slots (first in, first out). */
function _startQueued(state: DirState): void {
  while (state.queue.length > 0 && state.inFlight < _cap(state)) state.queue.shift()!();
}

/**
 * Closes a handle through a slot. Refused because the directory does not answer, it waits for the
 * directory to answer again (a close on a hung mount would hold a pool thread outside the cap;
 * an open descriptor costs less); refused for another reason (aborted work), it is closed at once.
 */
function _close(runsDir: string, handle: { close(): Promise<void> }, options: StorageOptions = {}): void {
  const settings = { storageTimeoutMs: options.storageTimeoutMs };
  void storageCall(runsDir, "close", () => handle.close(), settings).catch((error: unknown) => {
    const state = _state(runsDir);
    if (isGuideBoardError(error, "STORAGE_UNAVAILABLE") && state.unresponsiveSince !== null)
      state.closeLater.add(handle);
    else void handle.close().catch(() => {});
  });
}

function _mark(state: DirState, unresponsive: boolean): void {
  if ((state.unresponsiveSince !== null) === unresponsive) return;
  state.unresponsiveSince = unresponsive ? Date.now() : null;
  if (!unresponsive && state.closeLater.size > 0) {
    const handles = [...state.closeLater];
    state.closeLater.clear();
    queueMicrotask(() => {
      for (const handle of handles) _close(state.runsDir, handle);
    });
  }
  const health = storageHealth(state.runsDir);
  for (const listener of state.listeners) listener(health);
}

/** The error of a call that missed its deadline. */
export function storageUnavailable(runsDir: string, timeoutMs: number): GuideBoardError {
  return new GuideBoardError(
    "STORAGE_UNAVAILABLE",
    `The runs directory did not answer within ${Math.round(timeoutMs / 100) / 10} s; try again later.`,
    { runsDir, retryAfter: Math.max(1, Math.ceil(timeoutMs / 1000)) },
  );
}

/**
 * Runs one file call on `runsDir` with a slot and a deadline. `late` cleans up after a call that
 * returns after its deadline (closes a file it opened). Rejects with `STORAGE_UNAVAILABLE` when
 * the deadline passes first, whether the call waited for a slot or was running.
 */
export function storageCall<T>(
  runsDir: string,
  op: string,
  call: () => Promise<T>,
  options: StorageOptions = {},
  late?: (value: T) => void,
): Promise<T> {
  const timeoutMs = options.storageTimeoutMs ?? DEFAULT_STORAGE_TIMEOUT_MS;
  const state = _state(runsDir);
  _decideCaps();
  // Work whose caller has gone (a client that disconnected) makes no further file call.
  if (options.signal?.aborted) return Promise.reject(options.signal.reason);
  storageCalls.total++;
  storageCalls.byOp[op] = (storageCalls.byOp[op] ?? 0) + 1;
  // A call that missed its deadline has not returned yet: the directory is hung, answer at once
  // (the stuck calls are the probe: when they return, the directory answers again).
  if (state.unresponsiveSince !== null && state.stuck > 0) {
    return Promise.reject(storageUnavailable(runsDir, timeoutMs));
  }
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    let timedOut = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      timedOut = true;
      const at = state.queue.indexOf(start);
      if (at >= 0) state.queue.splice(at, 1);
      else state.stuck++;
      _mark(state, true);
      reject(storageUnavailable(runsDir, timeoutMs));
    }, timeoutMs);
    timer.unref?.();
    const finish = () => {
      state.inFlight--;
      if (timedOut) state.stuck--;
      else _mark(state, false);
      if (state.stuck === 0) _mark(state, false);
      _startQueued(state);
    };
    function start() {
      state.inFlight++;
      let promise: Promise<T>;
      try {
        promise = call();
      } catch (error) {
        promise = Promise.reject(error);
      }
      promise.then(
        (value) => {
          finish();
          if (settled) {
            late?.(value);
            return;
          }
          settled = true;
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          finish();
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          reject(error);
        },
      );
    }
    state.queue.push(start);
    _startQueued(state);
  });
}

/**
 * The file calls of one runs directory, each through {@link storageCall}. Paths must lie in
 * `runsDir` (or be `runsDir` itself); callers check containment.
 */
export interface Storage {
  readonly runsDir: string;
  readonly timeoutMs: number;
  stat(path: string): Promise<Stats>;
  lstat(path: string): Promise<Stats>;
  realpath(path: string): Promise<string>;
  readlink(path: string): Promise<string>;
  /**
   * A directory's entries. With `types` (a local file system), each with its type as the listing
   * gives it; without, names only (`type: "unknown"`): a network file system often gives no types,
   * and Node then finds them with a synchronous `lstat` per entry on the event loop.
   */
  readdir(path: string, types: boolean): Promise<DirEntry[]>;
  open(path: string, flags: number): Promise<fsp.FileHandle>;
  /**
   * The identity (device, inode, size, mtime) of each path, `null` where it is missing or not a
   * regular file. Many paths go to the directory's worker thread as one call (one slot, one
   * deadline); a few are stated one by one.
   */
  identities(paths: readonly string[]): Promise<(FileIdentity | null)[]>;
  /** Any other call on a handle or path of this directory (a read, an fstat). */
  call<T>(op: string, call: () => Promise<T>, late?: (value: T) => void): Promise<T>;
  /**
   * Closes a handle (a file, a directory) without waiting, through a slot like any call. Refused
   * because the directory is not answering, it is closed when the directory answers again (a
   * close on a hung mount would hold a pool thread outside the directory's slots); a descriptor
   * is never left for the garbage collector.
   */
  close(handle: { close(): Promise<void> }): void;
}

/** One entry of a directory listing; `"unknown"`: the listing did not say (an `lstat` decides). */
export interface DirEntry {
  name: string;
  type: "directory" | "symlink" | "other" | "unknown";
}

/** The type of a directory entry, from a listing's entry or an lstat. */
export function entryType(stat: {
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
}): "directory" | "symlink" | "other" {
  return stat.isSymbolicLink() ? "symlink" : stat.isDirectory() ? "directory" : "other";
}

/** A directory of this size or more (when its link count says nothing) is listed in a read worker: about 256 entries. */
const LARGE_DIR_BYTES = 8192;

/** At least this many paths are stated in the directory's worker thread, as one call. */
const WORKER_STAT_PATHS = 16;

/** The storage of one runs directory (a real path). */
export function storageOf(runsDir: string, options: StorageOptions = {}): Storage {
  const timeoutMs = options.storageTimeoutMs ?? DEFAULT_STORAGE_TIMEOUT_MS;
  const settings = { storageTimeoutMs: timeoutMs, signal: options.signal };
  const call = <T>(op: string, fn: () => Promise<T>, late?: (value: T) => void) =>
    storageCall(runsDir, op, fn, settings, late);
  return {
    runsDir,
    timeoutMs,
    stat: (path) => call("stat", () => fsp.stat(path)),
    lstat: (path) => call("lstat", () => fsp.lstat(path)),
    realpath: (path) => call("realpath", () => fsp.realpath(path)),
    readlink: (path) => call("readlink", () => fsp.readlink(path)),
    readdir: (path, types) =>
      call("readdir", async () => {
        if (!types) return (await fsp.readdir(path)).map((name) => ({ name, type: "unknown" as const }));
        // A directory holding many folders is listed in a read worker: a few messages, instead
        // of one promise per entry on the event loop. Its link count says how many it holds; a
        // count of 1 says nothing (btrfs; ext4 past 65,000 folders), and then its size does.
        const started = Date.now();
        const { nlink, size } = await fsp.stat(path);
        if (nlink === 1 ? size >= LARGE_DIR_BYTES : nlink - 2 >= OFF_THREAD_MIN_ENTRIES) {
          const listed = await listOffThread(path, timeoutMs);
          if (listed) return listed;
          // (no answer in time: the call has missed its deadline, so no second listing behind it)
          if (Date.now() - started >= timeoutMs) throw storageUnavailable(runsDir, timeoutMs);
        }
        return _readdirInChunks(path);
      }),
    identities: (paths) =>
      paths.length >= WORKER_STAT_PATHS
        ? call("stats", () => statInWorker(runsDir, paths))
        : Promise.all(
            paths.map((path) =>
              call("stat", () => fsp.stat(path)).then(fileIdentity, (error: unknown) => {
                if (isGuideBoardError(error, "STORAGE_UNAVAILABLE") || options.signal?.aborted) throw error;
                return null;
              }),
            ),
          ),
    open: (path, flags) =>
      call(
        "open",
        () => fsp.open(path, flags),
        (handle) => void handle.close().catch(() => {}),
      ),
    call,
    close: (handle) => _close(runsDir, handle, settings),
  };
}

/**
 * A directory's entries, read 1,024 at a time: `readdir` of 100,000 entries builds every entry
 * on the event loop in one go (over 100 ms); here each chunk is its own short task.
 */
async function _readdirInChunks(path: string): Promise<DirEntry[]> {
  const dir = await fsp.opendir(path, { bufferSize: 1024 });
  const entries: DirEntry[] = [];
  try {
    for (let entry = await dir.read(); entry !== null; entry = await dir.read()) {
      entries.push({ name: entry.name, type: entryType(entry) });
    }
  } finally {
    await dir.close().catch(() => {});
  }
  return entries;
}

/** The runs directory a run folder (a real path, `<runsDir>/<runId>`) belongs to. */
export function runsDirOf(runDir: string): string {
  const at = runDir.lastIndexOf("/");
  return at <= 0 ? "/" : runDir.slice(0, at);
}

/** Validates the `storageTimeoutMs` option: `INVALID_OPTIONS` unless a positive number of ms. */
export function storageTimeoutOf(value: unknown): number {
  if (value === undefined) return DEFAULT_STORAGE_TIMEOUT_MS;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0 || value > 2_147_483_647) {
    throw new GuideBoardError("INVALID_OPTIONS", "Invalid option storageTimeoutMs: expected a positive number of ms.");
  }
  return value;
}

/** Validates the `signal` option: `INVALID_OPTIONS` unless an `AbortSignal`. */
export function signalOf(value: unknown): AbortSignal | undefined {
  if (value === undefined || value instanceof AbortSignal) return value;
  throw new GuideBoardError("INVALID_OPTIONS", "Invalid option signal: expected an AbortSignal.");
}
