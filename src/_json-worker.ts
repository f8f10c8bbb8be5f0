import { Worker } from "node:worker_threads";

// Large untrusted JSON (a 16 MiB artifact manifest) is parsed off the event loop, in a small pool
// of worker threads. Its big array comes back in chunks the caller pulls one at a time, each
// chunk a separate message, so copying the result back never holds the loop for long either.
// The worker's code is a plain script run with `eval`: no separate file to find in the built
// package, nothing imported.

/** Files at least this large are parsed in a worker; smaller ones inline (1 MiB parses in ~5 ms). */
export const WORKER_PARSE_BYTES = 1024 * 1024;

/** Items per chunk pulled back from a worker (a chunk copies back in a few milliseconds). */
export const PARSE_CHUNK = 2048;

/** Worker threads at most (the work is CPU-bound, and the event loop keeps a core). */
const MAX_WORKERS = 2;

/** Counts parses, for tests and the bench: `inline` on the loop, `worker` off it. */
export const jsonParses: { inline: number; worker: number } = { inline: 0, worker: 0 };

const WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads");
let items = null;
const pick = (item, keys) => {
  if (item === null || typeof item !== "object" || Array.isArray(item)) return item;
  const out = {};
  for (const key of keys) if (Object.prototype.hasOwnProperty.call(item, key)) out[key] = item[key];
  return out;
};
const stand = (v) => (v !== null && typeof v === "object" ? (Array.isArray(v) ? [] : {}) : v);
parentPort.on("message", (m) => {
  if (m.next !== undefined) {
    parentPort.postMessage({ items: items.slice(m.next, m.next + m.chunk).map((i) => pick(i, m.keys)) });
    return;
  }
  if (m.drop) { items = null; return; }
  let value;
  try {
    value = JSON.parse(Buffer.from(m.bytes).toString("utf8"));
  } catch {
    parentPort.postMessage({ invalid: true });
    return;
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    parentPort.postMessage({ head: stand(value), length: -1 });
    return;
  }
  const head = {};
  for (const key of m.headKeys) if (Object.prototype.hasOwnProperty.call(value, key)) head[key] = stand(value[key]);
  const list = value[m.arrayKey];
  if (!Array.isArray(list)) {
    if (list !== undefined) head[m.arrayKey] = stand(list);
    parentPort.postMessage({ head, length: -1 });
    return;
  }
  items = list;
  parentPort.postMessage({ head, length: list.length });
});
`;

type Reply = { invalid: true } | { head: unknown; length: number } | { items: unknown[] };

interface PooledWorker {
  worker: Worker;
  busy: boolean;
}

const pool: PooledWorker[] = [];
const waiting: Array<(worker: PooledWorker) => void> = [];

function _spawn(): PooledWorker {
  const pooled: PooledWorker = { worker: new Worker(WORKER_SOURCE, { eval: true }), busy: true };
  pooled.worker.unref(); // an idle pool never keeps a process alive
  pooled.worker.on("error", () => _retire(pooled));
  pooled.worker.on("exit", () => _retire(pooled));
  pool.push(pooled);
  return pooled;
}

function _retire(pooled: PooledWorker): void {
  const at = pool.indexOf(pooled);
  if (at >= 0) pool.splice(at, 1);
  // Someone waiting for a worker gets a fresh one.
  const next = waiting.shift();
  if (next) next(_spawn());
}

function _acquire(): Promise<PooledWorker> {
  const idle = pool.find((p) => !p.busy);
  if (idle) {
    idle.busy = true;
    return Promise.resolve(idle);
  }
  if (pool.length < MAX_WORKERS) return Promise.resolve(_spawn());
  return new Promise((resolve) => waiting.push(resolve));
}

function _release(pooled: PooledWorker): void {
  const next = waiting.shift();
  if (next) next(pooled);
  else pooled.busy = false;
}

function _ask(pooled: PooledWorker, message: unknown, transfer: ArrayBuffer[] = []): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const onMessage = (reply: Reply) => {
      pooled.worker.off("exit", onExit);
      resolve(reply);
    };
    const onExit = () => {
      pooled.worker.off("message", onMessage);
      reject(new Error("The JSON worker stopped."));
    };
    pooled.worker.once("message", onMessage);
    pooled.worker.once("exit", onExit);
    pooled.worker.postMessage(message, transfer);
  });
}

/**
 * What {@link parseJsonObject} gives back: `null` when the bytes are not JSON; `head` is `null`
 * when the JSON is not an object.
 */
export type ParsedObject = { head: Record<string, unknown> | null; items: unknown[] | null } | null;

/**
 * Parses `bytes` (a JSON object holding one big array under `arrayKey`) without holding the event
 * loop: in a worker when at least {@link WORKER_PARSE_BYTES}, else inline. Only `headKeys` of the
 * object come back (nested values as empty stand-ins), and of each array item only `itemKeys`:
 * what a validator needs to judge the shape, never an unbounded copy. `items` is `null` when the
 * array is missing or not an array (`head[arrayKey]` then holds its stand-in). `onChunk` runs per
 * chunk (validate there, in slices). Aborting `signal` ends the parse (the worker is stopped).
 * A large `bytes` that is its own whole `ArrayBuffer` (`Buffer.allocUnsafeSlow`) is transferred
 * to the worker: it is empty afterwards.
 */
export async function parseJsonObject(
  bytes: Buffer,
  shape: { headKeys: readonly string[]; arrayKey: string; itemKeys: readonly string[] },
  onChunk: (items: unknown[], offset: number) => void,
  signal?: AbortSignal,
): Promise<ParsedObject> {
  signal?.throwIfAborted();
  if (bytes.length < WORKER_PARSE_BYTES) return _inline(bytes, shape, onChunk);
  jsonParses.worker++;
  const pooled = await _acquire();
  let done = false;
  const stop = () => {
    // A stopped worker frees its core at once; the pool spawns another when needed.
    if (!done) void pooled.worker.terminate();
  };
  signal?.addEventListener("abort", stop, { once: true });
  try {
    signal?.throwIfAborted();
    // A buffer that is its own whole ArrayBuffer moves to the worker (no copy: copying 16 MiB
    // takes a busy machine's loop for hundreds of ms); a slice of a shared one is copied.
    const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
    const moved = (own ? bytes.buffer : new Uint8Array(bytes).buffer) as ArrayBuffer;
    const first = await _ask(pooled, { bytes: moved, headKeys: shape.headKeys, arrayKey: shape.arrayKey }, [moved]);
    if ("invalid" in first) return null;
    if (!("head" in first)) throw new Error("Unexpected reply from the JSON worker.");
    if (first.head === null || typeof first.head !== "object" || Array.isArray(first.head)) {
      return { head: null, items: null };
    }
    if (first.length < 0) return { head: first.head as Record<string, unknown>, items: null };
    const items: unknown[] = [];
    for (let next = 0; next < first.length; next += PARSE_CHUNK) {
      signal?.throwIfAborted();
      const reply = await _ask(pooled, { next, chunk: PARSE_CHUNK, keys: shape.itemKeys });
      if (!("items" in reply)) throw new Error("Unexpected reply from the JSON worker.");
      onChunk(reply.items, next);
      for (const item of reply.items) items.push(item);
      await new Promise((resolve) => setImmediate(resolve)); // let other requests run between chunks
    }
    return { head: first.head as Record<string, unknown>, items };
  } catch (error) {
    signal?.throwIfAborted();
    throw error;
  } finally {
    done = true;
    signal?.removeEventListener("abort", stop);
    if (signal?.aborted) void pooled.worker.terminate();
    else {
      pooled.worker.postMessage({ drop: true });
      _release(pooled);
    }
  }
}

function _inline(
  bytes: Buffer,
  shape: { headKeys: readonly string[]; arrayKey: string },
  onChunk: (items: unknown[], offset: number) => void,
): ParsedObject {
  jsonParses.inline++;
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString("utf8"));
  } catch {
    return null;
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) return { head: null, items: null };
  const object = value as Record<string, unknown>;
  const list = object[shape.arrayKey];
  if (!Array.isArray(list)) return { head: object, items: null };
  for (let at = 0; at < list.length; at += PARSE_CHUNK) onChunk(list.slice(at, at + PARSE_CHUNK), at);
  return { head: object, items: list };
}
