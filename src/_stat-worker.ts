import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";

// Many `stat`s at once (a history's warm check stats every report of 500 runs) cost a thread-pool
// hop each: about 20 µs of the event loop per call on a busy 2-core machine. Here a batch goes to
// a worker thread in one message, which stats them synchronously (the worker blocks, never the
// event loop) and answers with one transferred array. One worker per runs directory, so a hung
// mount holds only its own; the storage layer puts the batch under its deadline like any call.
// The worker's code is a plain script run with `eval`: no separate file in the built package.

const WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads");
const { statSync } = require("node:fs");
parentPort.on("message", ({ id, paths }) => {
  const out = new Float64Array(paths.length * 4).fill(NaN);
  for (let i = 0; i < paths.length; i++) {
    let stat;
    try {
      stat = statSync(paths[i], { throwIfNoEntry: false });
    } catch {
      continue;
    }
    if (!stat || !stat.isFile()) continue;
    out[i * 4] = stat.dev;
    out[i * 4 + 1] = stat.ino;
    out[i * 4 + 2] = stat.size;
    out[i * 4 + 3] = stat.mtimeMs;
  }
  parentPort.postMessage({ id, out }, [out.buffer]);
});
`;

/** A regular file's identity: device, inode, size and modification time. */
export type FileIdentity = `${number}:${number}:${number}:${number}`;

/** The identity of a regular file's stat; `null` for anything else. */
export function fileIdentity(
  stat: { isFile(): boolean; dev: number; ino: number; size: number; mtimeMs: number } | null,
): FileIdentity | null {
  return stat?.isFile() ? `${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeMs}` : null;
}

interface StatWorker {
  worker: Worker;
  pending: Map<number, { resolve: (out: Float64Array) => void; reject: (error: Error) => void }>;
}

/** A runs directory's stat workers: one, and a second for large batches on a machine with two cores. */
const workers = new Map<string, (StatWorker | undefined)[]>();
let nextId = 0;

/** Paths from which a batch is split between the directory's two workers. */
const SPLIT_AT = 512;

function _worker(runsDir: string, slot: number): StatWorker {
  const own = workers.get(runsDir) ?? [];
  workers.set(runsDir, own);
  const existing = own[slot];
  if (existing) return existing;
  const worker = new Worker(WORKER_SOURCE, { eval: true });
  worker.unref(); // an idle worker never keeps a process alive; a busy one does (see below)
  const created: StatWorker = { worker, pending: new Map() };
  worker.on("message", ({ id, out }: { id: number; out: Float64Array }) => {
    const waiter = created.pending.get(id);
    created.pending.delete(id);
    if (created.pending.size === 0) worker.unref();
    waiter?.resolve(out);
  });
  const fail = () => {
    if (own[slot] === created) own[slot] = undefined;
    for (const waiter of created.pending.values()) waiter.reject(new Error("The stat worker stopped."));
    created.pending.clear();
  };
  worker.on("error", fail);
  worker.on("exit", fail);
  own[slot] = created;
  return created;
}

function _ask(entry: StatWorker, paths: readonly string[]): Promise<Float64Array> {
  const id = nextId++;
  return new Promise<Float64Array>((resolve, reject) => {
    // Referenced while a batch is out: a CLI awaiting only this batch must not exit meanwhile.
    if (entry.pending.size === 0) entry.worker.ref();
    entry.pending.set(id, { resolve, reject });
    entry.worker.postMessage({ id, paths });
  });
}

/**
 * The identities of `paths` (all in `runsDir`), in order, stated in the directory's worker
 * threads (a large batch is split between two); `null` for a path that is missing, not a
 * regular file, or failed.
 */
export async function statInWorker(runsDir: string, paths: readonly string[]): Promise<(FileIdentity | null)[]> {
  const half = paths.length >= SPLIT_AT && availableParallelism() >= 2 ? Math.ceil(paths.length / 2) : paths.length;
  const parts = await Promise.all(
    half === paths.length
      ? [_ask(_worker(runsDir, 0), paths)]
      : [_ask(_worker(runsDir, 0), paths.slice(0, half)), _ask(_worker(runsDir, 1), paths.slice(half))],
  );
  const identities: (FileIdentity | null)[] = [];
  for (const out of parts) {
    for (let at = 0; at < out.length; at += 4) {
      const [dev, ino, size, mtimeMs] = [out[at]!, out[at + 1]!, out[at + 2]!, out[at + 3]!];
      identities.push(Number.isNaN(dev) ? null : `${dev}:${ino}:${size}:${mtimeMs}`);
    }
  }
  return identities;
}
