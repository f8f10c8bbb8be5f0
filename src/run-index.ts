import { watch, type FSWatcher } from "node:fs";
import { basename, join } from "node:path";
import { isGuideBoardError } from "./errors.ts";
import {
  childPath,
  classifyEntry,
  classifyFolder,
  judgeSummary,
  sameStamp,
  summaryStamp,
  type FolderVerdict,
} from "./folder.ts";
import { OFF_THREAD_MIN_ENTRIES, readSummariesOffThread } from "./_read-worker.ts";
import { createSlicer } from "./_slices.ts";
import { TOOL_PREFIX } from "./format.ts";
import { artifactManifest, type ArtifactManifest, type CompatibilityMarker } from "./manifest.ts";
import type { ListQuery, RunFilters } from "./query.ts";
import { reportPaths, type ReportList, type ReportPage } from "./reports.ts";
import type { RetainedRun } from "./run.ts";
import { createRunTable, type FolderState } from "./run-table.ts";
import { runsOptionsOf, type RetainedRunList, type RunsOptions } from "./runs.ts";
import { resolveRunsDirsAsync, runsDirProblem, type Diagnostic } from "./scan.ts";
import { isLocalFs, onStorageHealth, type Storage, storageInFlight, storageOf } from "./storage.ts";

/** Options of {@link createRunIndex}. */
export interface RunIndexOptions extends RunsOptions {
  /** Watch the runs directories for changes (default `true`). */
  watch?: boolean;
  /**
   * Re-check a few summaries this often, in ms, for changes inside a run folder that watching and
   * polling miss (default 10 000; 0: never). Each cycle re-stats {@link REVALIDATE_BATCH} of them
   * in turn, so the idle cost does not grow with the number of runs. `refresh()` re-checks all.
   */
  revalidateMs?: number;
  /**
   * Check each runs directory's own modification time and entry count this often, in ms (default
   * 750; 0: never): a network mount sends no file events, so this is how runs that other hosts
   * add or remove show up.
   */
  pollMs?: number;
}

/**
 * After a runs directory's stat changed, its listing is read again this often, this many times
 * (about 2.8 s): a client may cache a listing for a second after the attributes changed, and
 * where modification times have whole-second grain (sshfs, SFTP) a second change within the same
 * second leaves the stat as it was. A re-read that finds a change starts the series again.
 */
const RECHECK_MS = 200;
const RECHECKS = 14;

/** Summaries re-stat'ed per revalidation cycle. */
export const REVALIDATE_BATCH = 2;

/** Incomplete folders re-checked per poll (those not watched, e.g. on a network mount). */
const INCOMPLETE_BATCH = 4;

/** Storage calls in flight per runs directory during a scan (the storage layer caps it too). */
const SCAN_IN_FLIGHT = 64;

/** What changed in an index. */
export interface RunIndexChange {
  type: "added" | "updated" | "removed";
  runId: string;
}

/** A runs directory that stopped answering, or answers again. */
export interface RunIndexStorageEvent {
  runsDir: string;
  state: "unresponsive" | "answering";
}

/** A live, in-memory index of retained runs: see {@link createRunIndex}. */
export interface RunIndex {
  /** Resolves when the first scan is done. */
  ready(): Promise<void>;
  listRetainedRuns(query?: ListQuery): Promise<RetainedRunList>;
  latestRun(filters?: RunFilters): Promise<RetainedRun | null>;
  getRetainedRun(runId: string): Promise<RetainedRun>;
  /** {@link reportPaths} for a run the index holds, read from its folder on demand (`signal` stops it). */
  reportPaths(runId: string, page?: ReportPage & { signal?: AbortSignal }): Promise<ReportList>;
  /** {@link artifactManifest} for a run the index holds, read from its folder on demand. */
  artifactManifest(runId: string, options?: { signal?: AbortSignal }): Promise<ArtifactManifest | CompatibilityMarker>;
  /** Re-checks every folder now. */
  refresh(): Promise<void>;
  /** Calls `listener` for every run added, updated or removed; returns the unsubscribe function. */
  onChange(listener: (change: RunIndexChange) => void): () => void;
  /** Calls `listener` when a runs directory stops answering or answers again. */
  onStorage?(listener: (event: RunIndexStorageEvent) => void): () => void;
  /** Stops watching, polling and revalidating. */
  close(): void;
  /** Retained runs in the index. */
  readonly size: number;
}

/** Folders watched one by one while they are incomplete, so a finished run shows at once. */
const MAX_FOLDER_WATCHERS = 256;

/**
 * Creates an index of retained runs that scans once, keeps what listings need in memory (never
 * reports or manifests: those are read on demand), and stays fresh by watching each runs
 * directory (file events, where the file system sends them), polling each runs directory's own
 * modification time and entry count every 750 ms (network mounts, where it does not), and
 * re-stat'ing a few summaries at a time. Every file call goes through the storage layer: a runs
 * directory that stops answering (a hung mount) becomes a `runs-dir-unresponsive` diagnostic
 * while its runs are still answered from memory, and everything recovers by itself once it
 * answers again. Derived state only: it writes nothing, and a new index over the same folders
 * gives the same answers as the stateless functions.
 *
 * @example
 * const index = createRunIndex({ runsDir: "./runs" });
 * const { runs } = await index.listRetainedRuns({ limit: 50 });
 * index.onChange((change) => console.log(change.type, change.runId));
 * index.close();
 */
export function createRunIndex(options: RunIndexOptions): RunIndex {
  const { runsDirs, maxSummaryBytes, storageTimeoutMs } = runsOptionsOf(options);
  const configured = [...new Set(runsDirs)];
  const table = createRunTable();
  const listeners = new Set<(change: RunIndexChange) => void>();
  const storageListeners = new Set<(event: RunIndexStorageEvent) => void>();
  const realOf = new Map<string, string>(); // configured runs dir → its real path when last resolved
  const unresponsive = new Set<string>(); // runs dirs (real, or configured when never resolved) not answering
  // One watcher per runs directory, with the identity (device:inode) of the folder it watches.
  const dirWatchers = new Map<string, FSWatcher>();
  const folderWatchers = new Map<string, FSWatcher>(); // "dir\0name" → watcher of an incomplete folder
  const fingerprints = new Map<string, string>(); // configured runs dir → its own stat, last seen
  let dirDiagnostics: Diagnostic[] = [];
  const networkDirs = new Set<string>(); // runs dirs on a network file system: polled, never watched
  let closed = false;
  let started = false;

  const storage = (dir: string): Storage => storageOf(dir, { storageTimeoutMs });
  const emit = (change: RunIndexChange | null) => {
    if (change) for (const listener of listeners) listener(change);
  };
  const setHealth = (dir: string, answering: boolean) => {
    if (answering !== unresponsive.has(dir)) return;
    if (answering) unresponsive.delete(dir);
    else unresponsive.add(dir);
    publishDiagnostics();
    const event: RunIndexStorageEvent = { runsDir: dir, state: answering ? "answering" : "unresponsive" };
    for (const listener of storageListeners) listener(event);
  };
  // A runs directory is shown unresponsive as soon as any storage call on it misses its deadline
  // (a request's, not only this index's own poll): configured dir → its subscription.
  const healthWatch = new Map<string, { key: string; stop: () => void }>();
  const followHealth = (dir: string, key: string) => {
    const current = healthWatch.get(dir);
    if (closed || current?.key === key) return;
    current?.stop();
    const stop = onStorageHealth(key, (health) => {
      if (health.unresponsiveSince !== null) setHealth(key, false); // (back: the poll sees it, and reads again)
    });
    healthWatch.set(dir, { key, stop });
  };
  const publishDiagnostics = () => {
    const hung = [...unresponsive].map((dir) => runsDirProblem(dir, _unavailable));
    table.setDirDiagnostics([...dirDiagnostics.filter((d) => !unresponsive.has(d.runsDir)), ...hung]);
  };

  /** Puts a folder's verdict in place (and watches it while it is incomplete or half-written). */
  const put = (dir: string, name: string, verdict: FolderVerdict) => {
    let state: FolderState | null = null;
    if (verdict.is === "run") state = { entry: verdict.entry, problem: null, stamp: verdict.stamp };
    else if (verdict.is === "problem")
      state = {
        entry: null,
        problem: { runsDir: dir, entry: name, kind: verdict.kind, message: verdict.message },
        stamp: null,
      };
    // Watched while incomplete, and while its summary does not parse: a writer that does not
    // rename its summary into place (cp, rsync) may have been read half-way through.
    const watched = state?.problem?.kind === "incomplete" || state?.problem?.kind === "corrupt-summary";
    if (!watched && folderWatchers.size > 0) {
      const key = `${dir}\0${name}`;
      folderWatchers.get(key)?.close();
      folderWatchers.delete(key);
    }
    emit(table.set(dir, name, state));
    if (watched) watchFolder(dir, name);
  };

  /** Reads one folder again (unless `checkStamp` and its summary's stamp is unchanged). */
  const apply = async (dir: string, name: string, checkStamp: boolean) => {
    if (name.startsWith(TOOL_PREFIX) || !table.dirs.includes(dir)) return;
    const known = table.get(dir, name);
    if (checkStamp && known?.entry) {
      const stamp = await summaryStamp(storage(dir), join(dir, name));
      if (stamp && sameStamp(known.stamp, stamp)) return;
    }
    const verdict = await classifyFolder(storage(dir), name, "unknown", maxSummaryBytes, true);
    if (!closed && table.dirs.includes(dir)) put(dir, name, verdict);
  };

  const watchFolder = (dir: string, name: string) => {
    const key = `${dir}\0${name}`;
    if (networkDirs.has(dir)) return;
    if (closed || options.watch === false || folderWatchers.has(key) || folderWatchers.size >= MAX_FOLDER_WATCHERS)
      return;
    try {
      const watcher = watch(join(dir, name), { persistent: false }, () => schedule(dir, name));
      watcher.on("error", () => {});
      folderWatchers.set(key, watcher);
      // A summary that landed between the read and this watch sends no event: look once more.
      schedule(dir, name);
    } catch {
      // Polling will notice.
    }
  };

  // All changes to the table run one after another; within one, storage calls run in parallel.
  let work: Promise<unknown> = Promise.resolve();
  const serially = <T>(task: () => Promise<T>): Promise<T | undefined> => {
    const next = work.then(task).catch((error: unknown) => {
      if (!isGuideBoardError(error, "STORAGE_UNAVAILABLE")) throw error;
      return undefined;
    });
    work = next.catch(() => {});
    return next;
  };

  // Changes arrive in bursts (a writer renames, a prune renames then deletes): batch them.
  let pending = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  const schedule = (dir: string, name: string | null) => {
    if (closed) return;
    if (name === null) {
      if (started) refresh().catch(_keepServing);
      return;
    }
    pending.add(`${dir}\0${name}`);
    timer ??= setTimeout(flush, 15);
  };
  const flush = () => {
    timer = undefined;
    if (!started) return; // the first scan is still running; it re-arms the flush when done
    const batch = pending;
    pending = new Set();
    if (batch.size === 0) return Promise.resolve();
    return serially(() =>
      _forEach([...batch], SCAN_IN_FLIGHT, async (key) => {
        const at = key.indexOf("\0");
        const dir = key.slice(0, at);
        try {
          await apply(dir, key.slice(at + 1), false);
          setHealth(dir, true);
        } catch (error) {
          if (!isGuideBoardError(error, "STORAGE_UNAVAILABLE")) throw error;
          setHealth(dir, false);
          pending.add(key); // tried again when the directory answers
        }
      }),
    );
  };

  /**
   * A runs directory's own stat as the poll compares it (identity, modification time, entries);
   * `missing:<code>` when it cannot be stat'ed. Throws only `STORAGE_UNAVAILABLE`.
   */
  const fingerprint = async (dir: string, key: string): Promise<string> => {
    try {
      const stat = await storage(key).stat(dir);
      return `${stat.dev}:${stat.ino}:${stat.mtimeMs}:${stat.nlink}:${stat.size}`;
    } catch (error) {
      if (isGuideBoardError(error, "STORAGE_UNAVAILABLE")) throw error;
      return `missing:${(error as NodeJS.ErrnoException).code ?? "?"}`;
    }
  };

  /** Re-resolves the runs directories and re-checks every folder (stamps first). */
  const revalidate = async () => {
    const diagnostics: Diagnostic[] = [];
    const resolved: string[] = [];
    const hung = new Set<string>();
    for (const dir of configured) {
      const found: Diagnostic[] = [];
      const [real] = await resolveRunsDirsAsync([dir], found, { storageTimeoutMs });
      if (real !== undefined) {
        followHealth(dir, real);
        // The poll compares against the directory this scan reads (stat'ed before it is read):
        // one replaced meanwhile at the same path (a remount, a restore) is then seen as moved.
        await fingerprint(dir, real).then(
          (print) => fingerprints.set(dir, print),
          () => fingerprints.delete(dir),
        );
        realOf.set(dir, real);
        if (!resolved.includes(real)) resolved.push(real);
        if (real !== dir) setHealth(dir, true);
      } else if (found[0]?.kind === "runs-dir-unresponsive") {
        // Keep answering its runs from memory until it answers again.
        const known = realOf.get(dir) ?? dir;
        hung.add(known);
        if (!resolved.includes(known)) resolved.push(known);
      } else {
        realOf.delete(dir);
        fingerprints.delete(dir); // (the next poll looks again whatever it finds)
        diagnostics.push(...found);
      }
    }
    for (const [dir, watcher] of dirWatchers) {
      if (resolved.includes(dir)) continue;
      watcher.close();
      dirWatchers.delete(dir);
    }
    for (const change of table.setDirs(resolved)) emit(change);
    for (const dir of resolved) {
      if (closed) return;
      if (hung.has(dir)) {
        setHealth(dir, false);
        continue;
      }
      try {
        // inotify sees nothing on a network mount, and adding a watch there is a synchronous call
        // that a hung mount would block: such directories are polled only.
        const local = await isLocalFs(dir, { storageTimeoutMs });
        if (local) watchDir(dir);
        else networkDirs.add(dir);
        // (names only on a network file system: it may give no types, and the lstats then go
        // through the storage layer instead of Node's synchronous fallback)
        let entries = await storage(dir).readdir(dir, local);
        const seen = new Set<string>();
        const first = table.names(dir).length === 0;
        if (first && local && entries.length >= OFF_THREAD_MIN_ENTRIES) {
          // A first scan of a large local directory: summaries read in a worker thread (src/_read-worker.ts).
          const names: string[] = [];
          const slicer = createSlicer();
          for (const dirent of entries) {
            if (slicer.due()) await slicer.yield();
            seen.add(dirent.name);
            const verdict = dirent.type === "unknown" ? "read" : classifyEntry(dirent.name, dirent.type);
            if (verdict === "read") names.push(dirent.name);
            else if (verdict.is !== "skip") put(dir, dirent.name, verdict);
          }
          const unread = await readSummariesOffThread(
            dir,
            names,
            maxSummaryBytes,
            storageTimeoutMs,
            (at, reads) => {
              if (closed) return;
              for (let i = 0; i < reads.length; i++) {
                const name = names[at + i]!;
                put(dir, name, judgeSummary(childPath(dir, name), name, reads[i]!, maxSummaryBytes));
              }
            },
            { inFlight: storageInFlight(dir) },
          );
          // The rest (no worker, or one that did not answer): through the storage layer.
          const rest = new Set(unread);
          entries = entries.filter((dirent) => rest.has(dirent.name));
        }
        await _forEach(entries, SCAN_IN_FLIGHT, async (dirent) => {
          seen.add(dirent.name);
          if (dirent.name.startsWith(TOOL_PREFIX)) return;
          if (first) {
            const verdict = await classifyFolder(storage(dir), dirent.name, dirent.type, maxSummaryBytes, true);
            if (!closed) put(dir, dirent.name, verdict);
          } else await apply(dir, dirent.name, true);
        });
        const gone = createSlicer();
        for (const name of table.names(dir)) {
          if (gone.due()) await gone.yield();
          if (!seen.has(name)) await apply(dir, name, false);
        }
        setHealth(dir, true);
      } catch (error) {
        if (!isGuideBoardError(error, "STORAGE_UNAVAILABLE")) diagnostics.push(runsDirProblem(dir, error));
        else setHealth(dir, false);
      }
    }
    dirDiagnostics = diagnostics;
    publishDiagnostics();
  };

  const watchDir = (dir: string) => {
    if (options.watch === false || closed || dirWatchers.has(dir)) return;
    try {
      // An event about the directory itself (moved away, removed) comes with its own name on
      // Linux, or none. This watcher then follows a folder no longer at `dir`: it goes, and the
      // scan of everything watches whatever is at `dir` now (an entry of that name is read too).
      const self = basename(dir);
      const watcher = watch(dir, { persistent: false }, (_type, name) => {
        const entry = name ? name.toString() : null;
        if (entry !== null) schedule(dir, entry);
        if (entry !== null && entry !== self) return;
        watcher.close();
        if (dirWatchers.get(dir) === watcher) dirWatchers.delete(dir);
        schedule(dir, null);
      });
      watcher.on("error", () => {});
      dirWatchers.set(dir, watcher);
    } catch {
      // Watching is not available here: polling keeps the index fresh.
    }
  };

  let scanning: Promise<void> | null = null;
  let again = false;
  const refresh = (): Promise<void> => {
    if (closed) return Promise.resolve();
    if (scanning) {
      again = true; // something changed during the scan: scan once more after it
      return scanning;
    }
    scanning = serially(revalidate).finally(() => {
      scanning = null;
      if (again) {
        again = false;
        refresh().catch(_keepServing);
      }
    });
    return scanning;
  };

  /**
   * Every `pollMs`: one stat of each configured runs directory. Its identity, modification time
   * and link count change when a run folder is added, renamed or removed, on any host: then its
   * listing is read again (one readdir) and only the names that came or went are read.
   */
  let polling = false;
  // A client may cache a listing longer than the attributes that told us it changed (sshfs, NFS
  // with lookupcache): after a change, the listing is read again a few times, shortly apart.
  const rechecks = new Map<string, NodeJS.Timeout>();
  const scheduleRecheck = (dir: string, left: number) => {
    clearTimeout(rechecks.get(dir));
    if (left <= 0 || closed) {
      rechecks.delete(dir);
      return;
    }
    const timer: NodeJS.Timeout = setTimeout(() => {
      serially(() => _listingChanged(dir))
        .catch(() => false)
        // A change found starts the series again: runs often come in bursts (many CI hosts),
        // and each listing read refills the client's cache, which then hides the next run for as
        // long as it lasts. (Only while no newer change started a new series: that one goes on.)
        .then((changed) => rechecks.get(dir) === timer && scheduleRecheck(dir, changed === true ? RECHECKS : left - 1));
    }, RECHECK_MS);
    timer.unref();
    rechecks.set(dir, timer);
  };
  const poll = async () => {
    if (polling || closed || !started) return;
    polling = true;
    try {
      for (const dir of configured) {
        const real = realOf.get(dir);
        const key = real ?? dir;
        followHealth(dir, key);
        let print: string;
        try {
          print = await fingerprint(dir, key);
        } catch {
          setHealth(key, false);
          continue;
        }
        const wasHung = unresponsive.has(key);
        const before = fingerprints.get(dir);
        fingerprints.set(dir, print);
        if (real !== undefined) fingerprints.set(real, print);
        if (wasHung) {
          setHealth(key, true);
          await refresh(); // back: everything may have changed meanwhile
          continue;
        }
        if (before === print) continue;
        const identity = (p: string | undefined) => p?.split(":").slice(0, 2).join(":");
        // (no stat from the last scan: the listing is read once)
        const moved = before !== undefined && identity(before) !== identity(print);
        if (real === undefined || moved || print.startsWith("missing:")) {
          dirWatchers.get(real ?? "")?.close(); // watching the folder that was there: watch the new one
          dirWatchers.delete(real ?? "");
          await refresh();
          continue;
        }
        // A client may cache a listing longer than the attributes that told us it changed (sshfs,
        // NFS with lookupcache): it is read again a few times, shortly apart.
        if (before !== undefined) scheduleRecheck(real, RECHECKS);
        await serially(() => _listingChanged(real));
      }
      await pollIncomplete();
    } finally {
      polling = false;
    }
  };

  /** Reads a runs directory's listing and applies only the names that came or went; says whether any did. */
  const _listingChanged = async (dir: string): Promise<boolean> => {
    try {
      const entries = (await storage(dir).readdir(dir, false)).map((dirent) => dirent.name);
      const now = new Set(entries);
      const known = new Set(table.names(dir));
      const changed = [
        ...entries.filter((name) => !known.has(name) && !name.startsWith(TOOL_PREFIX)),
        ...[...known].filter((name) => !now.has(name)),
      ];
      await _forEach(changed, SCAN_IN_FLIGHT, (name) => apply(dir, name, false));
      return changed.length > 0;
    } catch (error) {
      // Not read to the end: forget the directory's stat, so the next poll reads the listing again.
      for (const key of [...fingerprints.keys()]) if (key === dir || realOf.get(key) === dir) fingerprints.delete(key);
      if (isGuideBoardError(error, "STORAGE_UNAVAILABLE")) setHealth(dir, false);
      else throw error;
      return false;
    }
  };

  // Incomplete folders not watched (a network mount, or past the watcher cap): a few per poll.
  let incompleteTurn = 0;
  const pollIncomplete = async () => {
    const waiting = table.incomplete().filter(([dir, name]) => !folderWatchers.has(`${dir}\0${name}`));
    if (waiting.length === 0) return;
    const batch: Array<[string, string]> = [];
    for (let i = 0; i < Math.min(INCOMPLETE_BATCH, waiting.length); i++)
      batch.push(waiting[(incompleteTurn + i) % waiting.length]!);
    incompleteTurn = (incompleteTurn + batch.length) % Math.max(1, waiting.length);
    await serially(async () => {
      for (const [dir, name] of batch) {
        if ((await summaryStamp(storage(dir), join(dir, name))) !== null) await apply(dir, name, false);
      }
    });
  };

  // The slow cycle: a few summaries re-stat'ed in turn (a summary rewritten inside its folder).
  let revalidateTurn = 0;
  const revalidateSome = () =>
    serially(async () => {
      const all: Array<[string, string]> = [];
      for (const dir of table.dirs) for (const name of table.names(dir)) all.push([dir, name]);
      if (all.length === 0) return;
      for (let i = 0; i < Math.min(REVALIDATE_BATCH, all.length); i++) {
        const [dir, name] = all[(revalidateTurn + i) % all.length]!;
        if (!unresponsive.has(dir)) await apply(dir, name, true);
      }
      revalidateTurn = (revalidateTurn + REVALIDATE_BATCH) % all.length;
    });

  table.beginBulk();
  const first = refresh().then(async () => {
    await table.endBulk();
    started = true;
    if (pending.size > 0) timer ??= setTimeout(flush, 0);
  });
  const interval = options.revalidateMs ?? 10_000;
  const revalidator =
    interval > 0 ? setInterval(() => started && revalidateSome().catch(_keepServing), interval) : undefined;
  revalidator?.unref();
  const pollMs = options.pollMs ?? 750;
  const poller = pollMs > 0 ? setInterval(() => poll().catch(_keepServing), pollMs) : undefined;
  poller?.unref();

  const held = async (runId: string) => {
    await first;
    return table.held(runId);
  };

  return {
    ready: () => first,
    get size() {
      return table.size;
    },
    async listRetainedRuns(query = {}) {
      await first;
      return table.list(query);
    },
    async latestRun(filters = {}) {
      await first;
      return table.latest(filters);
    },
    getRetainedRun: async (runId) => (await held(runId)).run,
    // Reports and manifests are never kept: read from the run's own runs directory when asked.
    reportPaths: async (runId, { signal, ...page } = {}) =>
      reportPaths(
        { runsDir: (await held(runId)).runsDir, maxSummaryBytes, storageTimeoutMs, readMode: "async", signal },
        runId,
        page,
      ),
    artifactManifest: async (runId, { signal } = {}) =>
      artifactManifest(
        { runsDir: (await held(runId)).runsDir, maxSummaryBytes, storageTimeoutMs, readMode: "async", signal },
        runId,
      ),
    refresh: async () => {
      await first;
      await flush();
      await refresh();
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    onStorage(listener) {
      storageListeners.add(listener);
      return () => storageListeners.delete(listener);
    },
    close() {
      closed = true;
      clearInterval(revalidator);
      clearInterval(poller);
      for (const recheck of rechecks.values()) clearTimeout(recheck);
      clearTimeout(timer);
      for (const watcher of dirWatchers.values()) watcher.close();
      dirWatchers.clear();
      for (const watcher of folderWatchers.values()) watcher.close();
      for (const { stop } of healthWatch.values()) stop();
      healthWatch.clear();
      folderWatchers.clear();
      listeners.clear();
      storageListeners.clear();
    },
  };
}

/**
 * Background checks never take the service down: the index keeps what it had, and the next poll
 * or `refresh()` tries again (a direct `refresh()` still rejects).
 */
function _keepServing(): void {}

const _unavailable = Object.assign(new Error("unavailable"), { name: "GuideBoardError", code: "STORAGE_UNAVAILABLE" });

/** Runs `task` on every item with at most `limit` in flight; the first failure rejects (after the rest stop). */
async function _forEach<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | null = null;
  const worker = async () => {
    while (next < items.length && failure === null) {
      const item = items[next++]!;
      try {
        await task(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== null) throw (failure as { error: unknown }).error;
}
