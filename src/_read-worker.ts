import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { SUMMARY_FILE } from "./format.ts";
import type { SummaryRead } from "./folder.ts";
import type { DirEntry } from "./storage.ts";
import { OPEN_FLAGS } from "./paths.ts";
import { runInSlices } from "./_slices.ts";

// The live index's first scan of a LOCAL runs directory: a worker thread reads the summaries
// synchronously (one open, fstat, read and close each, no thread-pool hop, no promise), the
// event loop only parses what it hands back in batches. On a warm cache that is what the
// synchronous floor costs, with the reading and the parsing on two threads; the service's event
// loop never makes a file call. As soon as the reads go to the device (a cold cache: many reads
// in flight are faster then) the workers read the rest with the directory's cap of reads in
// flight through libuv's pool, their own event loops taking the completions: the service's
// event loop still only parses. Network file systems never get a worker.
//
// The worker's reads are those of `readSummarySync(…, wantStamp: true)` in src/folder.ts, step
// for step (no-follow, non-blocking open; fstat: a regular file no larger than the cap; whole
// read; close), with the same failure codes, synchronous or in flight;
// test/run-index-worker.test.ts checks both give the same verdict for every hostile folder. It is
// plain JavaScript in a string so that it runs the same from the built package and from the
// sources.
const WORKER_SOURCE = `
const fs = require("node:fs");
const { parentPort } = require("node:worker_threads");
// Background work: on Linux this lowers the priority of this thread only, so the event loop (and
// its garbage collector's helpers) win a core whenever they want one; the reads fill the rest.
// (Elsewhere it would lower the whole process: left alone there.)
if (process.platform === "linux") {
  try {
    const os = require("node:os");
    os.setPriority(Math.max(os.getPriority(), 10));
  } catch {}
}
function openedAt(fd, path) {
  if (process.platform !== "linux") return true;
  try {
    return fs.readlinkSync("/proc/self/fd/" + fd) === path;
  } catch {
    return true;
  }
}
// Why the opened summary cannot be read (its descriptor's fstat is \`stat\`), or null.
function openedProblem(fd, path, stat, maxBytes) {
  if (!openedAt(fd, path)) return "EMOVED";
  if (!stat.isFile()) return "ENOTFILE";
  if (stat.size > maxBytes) return "ETOOLARGE";
  return null;
}
// One job at a time: the worker stays alive between jobs (its code stays compiled and hot).
parentPort.on("message", ({ list, chunk, dir, named, maxBytes, flags, file, slowMs, inFlight, batch, batchBytes, ack, shared }) => {
  if (list !== undefined) {
    // A listing: names with their types (1 directory, 2 link, 3 other), in chunks.
    let entries;
    try {
      entries = fs.readdirSync(list, { withFileTypes: true });
    } catch (error) {
      parentPort.postMessage({ error: (error && error.code) || "EIO" });
      return;
    }
    for (let from = 0; from < entries.length; from += chunk) {
      const part = entries.slice(from, from + chunk);
      const types = new Uint8Array(part.length);
      for (let i = 0; i < part.length; i++)
        types[i] = part[i].isSymbolicLink() ? 2 : part[i].isDirectory() ? 1 : 3;
      parentPort.postMessage({ names: part.map((entry) => entry.name), types }, [types.buffer]);
    }
    parentPort.postMessage({ listed: entries.length });
    return;
  }
  // Batches handed back and not yet handled: at most two (the event loop handles queued messages
  // in one go, so a worker running ahead would make one long stall of them).
  const acked = new Int32Array(ack);
  let posted = 0;
  // A batch is one buffer of summary bytes, moved (not copied) to the event loop, which decodes
  // each summary as it parses it: no string per summary here, none to copy across.
  let bytes = Buffer.allocUnsafeSlow(batchBytes);
  let used = 0;
  let first = 0; // the index in names of the batch's first read
  let count = 0;
  let ends = [];
  let codes = null;
  let stamps = [];
  const flush = () => {
    if (count === 0) return;
    const message = { first, bytes: bytes.buffer, ends: Int32Array.from(ends), codes, stamps: Float64Array.from(stamps) };
    parentPort.postMessage(message, [message.bytes]);
    first += count;
    posted++;
    for (;;) {
      const handled = Atomics.load(acked, 0);
      if (posted - handled < 2) break;
      Atomics.wait(acked, 0, handled, 1000);
    }
    bytes = Buffer.allocUnsafeSlow(batchBytes);
    used = 0;
    count = 0;
    ends = [];
    codes = null;
    stamps = [];
  };
  const fail = (code) => {
    codes ??= [];
    codes[count] = code;
    ends.push(used);
    stamps.push(0, 0, 0);
    count++;
  };
  // Room in the batch's buffer for \`size\` more bytes at \`used\`: when they do not fit, the batch
  // goes out first (a summary larger than the buffer gets one of its own). Says whether it went.
  const makeRoom = (size) => {
    if (used + size <= bytes.length) return false;
    flush();
    if (size > bytes.length) bytes = Buffer.allocUnsafeSlow(size);
    return true;
  };
  // A summary of \`length\` bytes now at \`used\`, with its stamp.
  const took = (length, mtimeMs, size, ino) => {
    used += length;
    ends.push(used);
    stamps.push(mtimeMs, size, ino);
    count++;
  };
  // The workers of one scan share the names: each takes the next \`batch\` of them in turn
  // (shared[0]), so a worker that gets less of a core reads less, and none waits on the other.
  // shared[1] set: one found the cache cold, and every worker stops reading synchronously before
  // its next read. The names are shared too: UTF-8, each ended by a NUL, read in place.
  const nameBytes = Buffer.from(named);
  const starts = [0];
  for (let at = nameBytes.indexOf(0); at !== -1; at = nameBytes.indexOf(0, at + 1)) starts.push(at + 1);
  const total = starts.length - 1;
  const next = new Int32Array(shared);
  const cold = () => Atomics.load(next, 1) !== 0;
  const nameAt = (i) => nameBytes.toString("utf8", starts[i], starts[i + 1] - 1);
  let slow = 0;
  let timed = 0;
  let left = null; // [from, to): the names of a batch not read when the cache proved cold
  for (;;) {
    if (cold()) break;
    const from = Atomics.add(next, 0, batch);
    if (from >= total) break;
    const to = Math.min(total, from + batch);
    first = from;
    for (let i = from; i < to; i++) {
      if (cold()) {
        left = [i, to];
        break;
      }
      let started = performance.now();
      const runDir = dir + "/" + nameAt(i);
      let fd = -1;
      let code = null;
      try {
        fd = fs.openSync(runDir + "/" + file, flags);
      } catch (error) {
        code = (error && error.code) || "EIO";
        if (code === "ENOENT") {
          try {
            fs.lstatSync(runDir);
          } catch {
            code = "EVANISHED";
          }
        }
      }
      if (fd >= 0) {
        try {
          const stat = fs.fstatSync(fd);
          code = openedProblem(fd, runDir + "/" + file, stat, maxBytes);
          if (code === null) {
            // (waiting for the event loop is not a slow read)
            if (makeRoom(stat.size)) started = performance.now();
            let length = 0;
            while (length < stat.size) {
              const n = fs.readSync(fd, bytes, used + length, stat.size - length, length);
              if (n === 0) break;
              length += n;
            }
            took(length, stat.mtimeMs, stat.size, stat.ino);
          }
        } catch {
          code = "EIO";
        } finally {
          fs.closeSync(fd);
        }
      }
      if (code !== null) fail(code);
      if (performance.now() - started > slowMs) slow++;
      if (++timed === 64) {
        if (slow * 4 >= timed) {
          Atomics.store(next, 1, 1);
          left = [i + 1, to];
          break;
        }
        slow = 0;
        timed = 0;
      }
    }
    flush();
    if (left !== null) break;
  }
  if (!cold() || inFlight === 0) {
    parentPort.postMessage({ stop: true });
    return;
  }
  // A cold cache: the rest with \`inFlight\` reads in flight through libuv's pool (the device
  // wants many queued), each the same steps as above. The disk waits (the open's lookup, the
  // read) go to the pool; the fstat and the check of the descriptor's path are answered from
  // memory once the file is open, and stay synchronous. Batches go out whole, in order of
  // completion, once every read of one is done.
  let active = 0;
  let batchOf = null; // the batch being started: { from, reads, left }
  let at = 0;
  let to = 0;
  let exhausted = false;
  const startBatch = (from, end) => {
    batchOf = { from, reads: new Array(end - from), left: end - from };
    at = from;
    to = end;
  };
  const hand = (b) => {
    first = b.from;
    for (const read of b.reads) {
      if (read.code !== undefined) {
        fail(read.code);
        continue;
      }
      makeRoom(read.bytes.length);
      read.bytes.copy(bytes, used);
      took(read.bytes.length, read.mtimeMs, read.size, read.ino);
    }
    flush();
  };
  const readAsync = (i, done) => {
    const runDir = dir + "/" + nameAt(i);
    const path = runDir + "/" + file;
    fs.open(path, flags, (error, fd) => {
      if (error) {
        const code = error.code || "EIO";
        if (code !== "ENOENT") return done({ code });
        return fs.lstat(runDir, (gone) => done({ code: gone ? "EVANISHED" : "ENOENT" }));
      }
      let stat = null;
      let code;
      try {
        stat = fs.fstatSync(fd);
        code = openedProblem(fd, path, stat, maxBytes);
      } catch {
        code = "EIO";
      }
      const end = (result) => {
        try {
          fs.closeSync(fd);
        } catch {}
        done(result);
      };
      if (code !== null) return end({ code });
      const size = stat.size;
      const into = Buffer.allocUnsafe(size);
      const readFrom = (length) => {
        if (length >= size) return end({ bytes: into, mtimeMs: stat.mtimeMs, size, ino: stat.ino });
        fs.read(fd, into, length, size - length, length, (failed, n) => {
          if (failed) return end({ code: "EIO" });
          if (n === 0) return end({ bytes: into.subarray(0, length), mtimeMs: stat.mtimeMs, size, ino: stat.ino });
          readFrom(length + n);
        });
      };
      readFrom(0);
    });
  };
  const pump = () => {
    while (active < inFlight) {
      if (at >= to) {
        if (exhausted) break;
        const from = Atomics.add(next, 0, batch);
        if (from >= total) {
          exhausted = true;
          break;
        }
        startBatch(from, Math.min(total, from + batch));
      }
      const b = batchOf;
      const i = at++;
      active++;
      readAsync(i, (read) => {
        active--;
        b.reads[i - b.from] = read;
        if (--b.left === 0) hand(b);
        pump();
      });
    }
    if (active === 0 && exhausted) parentPort.postMessage({ stop: true });
  };
  if (left !== null && left[0] < left[1]) startBatch(left[0], left[1]);
  pump();
});
`;

/**
 * A synchronous read slower than this went to the device (or waited on a lock): when a quarter
 * of the last 64 reads did, the cache is cold and the rest is read with many reads in flight.
 * Measured on this project's CI machine kind: a read from a warm cache takes about 0.02 ms, even
 * on a busy machine; after `drop_caches` nine reads in ten take 0.25 ms or more (median 0.4 ms).
 * A preempted thread makes one read slow, not a quarter of them.
 */
export const SLOW_SYNC_READ_MS = 0.15;

/**
 * A scan of a local runs directory with at least this many entries reads its summaries in a
 * worker thread; starting one costs a few milliseconds (tens on a busy machine), which a smaller
 * directory would not win back.
 */
export const OFF_THREAD_MIN_ENTRIES = 256;

/** Summaries handed back per message: parsing one batch holds the event loop a few milliseconds. */
export const BATCH = 128;

/** Bytes of one batch's buffer; a batch ends early when the next summary does not fit (a larger one goes alone). */
const BATCH_BYTES = 256 * 1024;

/** Names a directory needs before two workers read it (one per core). */
const SPLIT_AT = 256;

/** How a read job reads (see {@link readSummariesOffThread}). */
export interface OffThreadReadOptions {
  /**
   * Reads in flight, across the job's workers, once the cache proves cold; 0: the workers stop
   * then, and the caller reads the rest.
   */
  inFlight?: number;
  /** What counts as a slow synchronous read, in ms (tests). */
  slowMs?: number;
}

/**
 * Reads the summaries of `names` (run folders of the local runs directory `runsDir`, a real
 * path) in worker threads, handing each batch to `onBatch` (the read of `names[first + i]` is
 * `reads[i]`; batches come in no set order). A large directory is read by two workers where the
 * machine has two cores or more, each taking the next batch of names in turn: reading is the
 * bottleneck, the event loop only parses, and a worker that shares its core with the event loop
 * simply reads fewer. The workers read synchronously while the cache is warm; once it proves
 * cold, with `inFlight` reads in flight through libuv's pool, the completions handled in the
 * workers, not on the event loop. Resolves with the names left unread: the caller reads them
 * itself, through the storage layer. That happens when no worker can start, when no batch
 * arrives within `timeoutMs` (the worker is then left to finish or hang on its own, and never
 * keeps the process alive), and when the cache proves cold with `inFlight` 0.
 */
export async function readSummariesOffThread(
  runsDir: string,
  names: readonly string[],
  maxBytes: number,
  timeoutMs: number,
  onBatch: (first: number, reads: SummaryRead[]) => void,
  { inFlight = 0, slowMs = SLOW_SYNC_READ_MS }: OffThreadReadOptions = {},
): Promise<string[]> {
  if (names.length === 0) return [];
  const workers = names.length >= SPLIT_AT && availableParallelism() >= 2 ? 2 : 1;
  const read = new Uint8Array(names.length);
  const job = {
    dir: runsDir,
    named: _sharedNames(names),
    maxBytes,
    flags: OPEN_FLAGS,
    file: SUMMARY_FILE,
    slowMs,
    inFlight: Math.ceil(inFlight / workers),
    batch: BATCH,
    batchBytes: BATCH_BYTES,
    shared: new SharedArrayBuffer(8),
  };
  await Promise.all(
    Array.from({ length: workers }, () =>
      _readShare(job, timeoutMs, (first, reads) => {
        read.fill(1, first, first + reads.length);
        onBatch(first, reads);
      }),
    ),
  );
  return names.filter((_, i) => read[i] === 0);
}

/** `names` as UTF-8 in shared memory, each ended by a NUL (no name holds one): both workers read it in place. */
function _sharedNames(names: readonly string[]): SharedArrayBuffer {
  const joined = `${names.join("\0")}\0`;
  const shared = new SharedArrayBuffer(Buffer.byteLength(joined));
  Buffer.from(shared).write(joined);
  return shared;
}

/** Names handed back per message by a listing in a worker. */
const LIST_CHUNK = 4096;

/**
 * Lists a local runs directory (a real path) in a worker thread: `readdir` of a large directory
 * builds every entry on the event loop, or one promise per entry when read in chunks, and the
 * listing is the first step of every scan. Resolves with its entries, or `null` when it could not
 * (a failed call, no worker, no answer within `timeoutMs`): the caller then lists it through the
 * storage layer, which says why.
 */
export async function listOffThread(runsDir: string, timeoutMs: number): Promise<DirEntry[] | null> {
  const worker = _acquire();
  if (!worker) return null;
  const entries: DirEntry[] = [];
  let listed: DirEntry[] | null = null;
  type Answer = { names?: string[]; types?: Uint8Array; listed?: number; error?: string };
  await _runJob<Answer>(worker, { list: runsDir, chunk: LIST_CHUNK }, timeoutMs, (message, done) => {
    if (message.error !== undefined) return done(true);
    if (message.listed !== undefined) {
      if (entries.length === message.listed) listed = entries;
      return done(true);
    }
    const { names = [], types = new Uint8Array() } = message;
    for (let i = 0; i < names.length; i++)
      entries.push({ name: names[i]!, type: types[i] === 1 ? "directory" : types[i] === 2 ? "symlink" : "other" });
  });
  return listed;
}

/** One summary of a batch as text (a decode that fails, a string too long for V8, is an `EIO`). */
function _decoded(bytes: Buffer, start: number, end: number, stamps: Float64Array, i: number): SummaryRead {
  try {
    const stamp = { mtimeMs: stamps[3 * i]!, size: stamps[3 * i + 1]!, ino: stamps[3 * i + 2]! };
    return { text: bytes.toString("utf8", start, end), stamp };
  } catch {
    return { code: "EIO" };
  }
}

/** Read workers between jobs; at most one per core, two at most. */
const idle: Worker[] = [];

/**
 * Read workers alive at once, busy or idle (a worker left on a hung disk counts until it exits):
 * concurrent scans share them, and a scan that finds none free reads through the storage layer.
 */
const MAX_LIVE = 4;
let live = 0;

/** Read workers alive now (for tests). */
export function liveReadWorkers(): number {
  return live;
}

/** An idle read worker, or a new one; `null` when none is free or none can start. */
function _acquire(): Worker | null {
  const reused = idle.pop();
  if (reused) return reused;
  if (live >= MAX_LIVE) return null;
  try {
    const worker = new Worker(WORKER_SOURCE, { eval: true, stdout: false, stderr: false });
    worker.on("error", () => {}); // a worker that fails is dropped by its job (below)
    live++;
    worker.once("exit", () => {
      live--;
      const at = idle.indexOf(worker);
      if (at >= 0) idle.splice(at, 1);
    });
    return worker;
  } catch {
    return null;
  }
}

/** Keeps a worker that finished its job cleanly for the next one (it never keeps the process alive). */
function _release(worker: Worker): void {
  worker.unref();
  if (idle.length < Math.min(2, availableParallelism())) idle.push(worker);
  else void worker.terminate().catch(() => {});
}

/** One worker's part of a read job: the batches it takes from the shared names, until none is left. */
async function _readShare(
  job: object,
  timeoutMs: number,
  onBatch: (first: number, reads: SummaryRead[]) => void,
): Promise<void> {
  const worker = _acquire();
  if (!worker) return;
  const ack = new SharedArrayBuffer(4);
  const acked = new Int32Array(ack);
  type Answer = {
    stop?: boolean;
    first?: number;
    bytes?: ArrayBuffer;
    ends?: Int32Array;
    codes?: (string | undefined)[] | null;
    stamps?: Float64Array;
  };
  await _runJob<Answer>(worker, { ...job, ack }, timeoutMs, (message, done) => {
    if (message.stop !== undefined) return done(true);
    const { first = 0, ends = new Int32Array(), codes = null, stamps = new Float64Array() } = message;
    const bytes = Buffer.from(message.bytes ?? new ArrayBuffer(0));
    const reads: SummaryRead[] = new Array(ends.length);
    for (let i = 0, start = 0; i < ends.length; i++) {
      const code = codes?.[i];
      reads[i] = code != null ? { code } : _decoded(bytes, start, ends[i]!, stamps, i);
      start = ends[i]!;
    }
    onBatch(first, reads);
    Atomics.add(acked, 0, 1);
    Atomics.notify(acked, 0);
  });
}

/**
 * Runs one job on a read worker: posts `job`, hands each answer to `onAnswer` in slices of the
 * event loop's turns (two workers' queued batches would otherwise be parsed in one go), and ends
 * when `onAnswer` calls `done` (`clean`: the worker said it stopped, and takes the next job), when
 * the worker exits, or when no answer arrives within `timeoutMs`: a failed worker, or a disk that
 * stopped answering, is then left to finish or hang on its own, never keeping the process alive.
 */
function _runJob<Answer>(
  worker: Worker,
  job: object,
  timeoutMs: number,
  onAnswer: (message: Answer, done: (clean: boolean) => void) => void,
): Promise<void> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (clean: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      worker.off("message", onMessage);
      worker.off("exit", onExit);
      if (clean) _release(worker);
      else {
        worker.unref();
        void worker.terminate().catch(() => {});
      }
      resolve();
    };
    const onExit = () => done(false);
    let timer = setTimeout(() => done(false), timeoutMs);
    const onMessage = (message: Answer) => {
      if (settled) return;
      clearTimeout(timer);
      timer = setTimeout(() => done(false), timeoutMs);
      runInSlices(() => {
        if (!settled) onAnswer(message, done);
      });
    };
    worker.unref(); // the timer keeps a caller's process alive while the job runs, never the worker
    worker.on("message", onMessage);
    worker.on("exit", onExit);
    worker.postMessage(job);
  });
}
