import { lstatSync, opendirSync, statSync, watch, type Dir, type FSWatcher } from "node:fs";
import { join } from "node:path";
import { GuideBoardError } from "./errors.ts";
import { artifactManifest, type ArtifactManifest, type CompatibilityMarker } from "./manifest.ts";
import { reportPaths, type ReportList } from "./reports.ts";
import { compareEntries, compareKeys, compileQuery, encodeCursor, type ListQuery, type RunFilters } from "./query.ts";
import { assertRunId, isRunId } from "./run-id.ts";
import type { RetainedRun, RunEntry } from "./run.ts";
import { runsOptionsOf, type RetainedRunList, type RunsOptions } from "./runs.ts";
import { createSlicer, sortInSlices } from "./_slices.ts";
import { readRunSync, resolveRunsDirs, TOOL_PREFIX, type Diagnostic, type SummaryStamp } from "./scan.ts";
import { SUMMARY_FILE } from "./summary.ts";

/** Options of {@link createRunIndex}. */
export interface RunIndexOptions extends RunsOptions {
  /** Watch the runs directories for changes (default `true`). */
  watch?: boolean;
  /** Re-check every folder this often, in ms, for file systems where watching misses changes (default 10 000; 0: never). */
  revalidateMs?: number;
}

/** What changed in an index. */
export interface RunIndexChange {
  type: "added" | "updated" | "removed";
  runId: string;
}

/** A live, in-memory index of retained runs: see {@link createRunIndex}. */
export interface RunIndex {
  /** Resolves when the first scan is done. */
  ready(): Promise<void>;
  listRetainedRuns(query?: ListQuery): Promise<RetainedRunList>;
  latestRun(filters?: RunFilters): Promise<RetainedRun | null>;
  getRetainedRun(runId: string): Promise<RetainedRun>;
  /** {@link reportPaths} for a run the index holds, read from its folder on demand. */
  reportPaths(runId: string): Promise<ReportList>;
  /** {@link artifactManifest} for a run the index holds, read from its folder on demand. */
  artifactManifest(runId: string): Promise<ArtifactManifest | CompatibilityMarker>;
  /** Re-checks every folder now (what the periodic revalidation does). */
  refresh(): Promise<void>;
  /** Calls `listener` for every run added, updated or removed; returns the unsubscribe function. */
  onChange(listener: (change: RunIndexChange) => void): () => void;
  /** Stops watching and revalidating. */
  close(): void;
  /** Retained runs in the index. */
  readonly size: number;
}

interface FolderState {
  entry: RunEntry | null;
  problem: Diagnostic | null;
  stamp: SummaryStamp | null;
  watcher?: FSWatcher;
}

/** Folders watched one by one while they are incomplete, so a finished run shows at once. */
const MAX_FOLDER_WATCHERS = 256;

/**
 * Creates an index of retained runs that scans once, keeps what listings need in memory (never
 * reports or manifests: those are read on demand), and stays fresh by watching each runs
 * directory — run folders added, renamed or removed, and incomplete folders whose summary appears
 * — with a periodic revalidation (stat of every summary) as the fallback for file systems where
 * watching is unreliable. Derived state only: it writes nothing, and a new index over the same
 * folders gives the same answers as the stateless functions.
 *
 * @example
 * const index = createRunIndex({ runsDir: "./runs" });
 * const { runs } = await index.listRetainedRuns({ limit: 50 });
 * index.onChange((change) => console.log(change.type, change.runId));
 * index.close();
 */
export function createRunIndex(options: RunIndexOptions): RunIndex {
  const { runsDirs, maxSummaryBytes } = runsOptionsOf(options);
  const folders = new Map<string, Map<string, FolderState>>(); // runs dir → folder name → state
  const sorted: RunEntry[] = []; // the winning entry of each run id, newest first
  const winners = new Map<string, string>(); // run id → runs dir it comes from
  const problems = new Map<string, Diagnostic>(); // "dir\0name" → why that folder is not listed
  const listeners = new Set<(change: RunIndexChange) => void>();
  // One watcher per runs directory, with the identity (device:inode) of the folder it watches: a
  // directory moved away, or replaced at the same path (a remount, a restore), is noticed.
  const dirWatchers = new Map<string, { watcher: FSWatcher; identity: string }>();
  let dirs: string[] = [];
  let dirDiagnostics: Diagnostic[] = [];
  let folderWatchers = 0;
  let closed = false;
  let bulk: RunEntry[] | null = []; // the first scan collects, then sorts once, in slices
  let missingTimer: NodeJS.Timeout | undefined;

  const emit = (change: RunIndexChange) => {
    for (const listener of listeners) listener(change);
  };
  const position = (entry: RunEntry) => {
    let low = 0;
    let high = sorted.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (compareEntries(sorted[mid]!, entry) < 0) low = mid + 1;
      else high = mid;
    }
    return low;
  };
  const unsort = (entry: RunEntry) => {
    const at = position(entry);
    if (sorted[at] === entry) sorted.splice(at, 1);
  };

  /** Puts `state` (or nothing) in place for a folder and keeps `sorted`, `winners` and listeners in step. */
  const swap = (dir: string, name: string, state: FolderState | null) => {
    const states = folders.get(dir)!;
    const previous = states.get(name);
    const winnerBefore = winners.get(name);
    const before = winnerBefore === undefined ? null : (folders.get(winnerBefore)?.get(name)?.entry ?? null);
    if (previous?.watcher) {
      previous.watcher.close();
      folderWatchers--;
    }
    if (state === null) states.delete(name);
    else states.set(name, state);
    const winnerAfter = dirs.find((d) => folders.get(d)?.get(name)?.entry);
    const after = winnerAfter === undefined ? null : folders.get(winnerAfter)!.get(name)!.entry;
    if (winnerAfter === undefined) winners.delete(name);
    else winners.set(name, winnerAfter);
    for (const d of folders.keys()) {
      const folder = folders.get(d)!.get(name);
      const diagnostic = folder?.problem ?? (folder?.entry && d !== winnerAfter ? _duplicate(d, name) : null);
      if (diagnostic) problems.set(`${d}\0${name}`, diagnostic);
      else problems.delete(`${d}\0${name}`);
    }
    if (before === after) return;
    if (bulk !== null) {
      if (after) bulk.push(after);
      return;
    }
    if (before) unsort(before);
    if (after) sorted.splice(position(after), 0, after);
    emit({ type: before === null ? "added" : after === null ? "removed" : "updated", runId: name });
  };

  /** Reads one folder again (unless its summary's stamp is unchanged) and applies what changed. */
  const apply = (dir: string, name: string, stamp?: SummaryStamp | null) => {
    if (!folders.has(dir) || name.startsWith(TOOL_PREFIX)) return;
    const previous = folders.get(dir)!.get(name);
    const runDir = join(dir, name);
    const stat = _lstat(runDir);
    let state: FolderState | null;
    if (stat === null || (!stat.isDirectory() && !stat.isSymbolicLink())) state = null;
    else if (stat.isSymbolicLink())
      state = _problem(dir, name, "symlinked-run-folder", "A run folder must not be a symbolic link.");
    else if (!isRunId(name)) state = _problem(dir, name, "invalid-run-id", "Folder name is not a valid run id.");
    else if (previous?.entry && stamp && _sameStamp(previous.stamp, stamp))
      return; // unchanged
    else {
      const read = readRunSync(runDir, name, maxSummaryBytes);
      state = read.ok
        ? { entry: read.entry, problem: null, stamp: read.stamp }
        : _problem(dir, name, read.kind, read.message);
    }
    swap(dir, name, state);
    if (state?.problem?.kind === "incomplete") watchFolder(dir, name, state);
  };

  const watchFolder = (dir: string, name: string, state: FolderState) => {
    if (closed || options.watch === false || folderWatchers >= MAX_FOLDER_WATCHERS) return;
    try {
      state.watcher = watch(join(dir, name), { persistent: false }, () => schedule(dir, name));
      state.watcher.on("error", () => {});
      folderWatchers++;
    } catch {
      // Revalidation will notice.
    }
  };

  // Changes arrive in bursts (a writer renames, a prune renames then deletes): batch them.
  let pending = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  const schedule = (dir: string, name: string | null) => {
    if (closed) return;
    if (name === null) {
      if (bulk === null) void refresh();
      return;
    }
    pending.add(`${dir}\0${name}`);
    timer ??= setTimeout(flush, 15);
  };
  const flush = () => {
    timer = undefined;
    if (bulk !== null) return; // the first scan is still running; it re-arms the flush when done
    const batch = pending;
    pending = new Set();
    for (const key of batch) {
      const at = key.indexOf("\0");
      apply(key.slice(0, at), key.slice(at + 1));
    }
  };

  let scanning: Promise<void> | null = null;
  const refresh = () => {
    if (closed) return Promise.resolve();
    scanning ??= revalidate().finally(() => {
      scanning = null;
    });
    return scanning;
  };
  const revalidate = async () => {
    const diagnostics: Diagnostic[] = [];
    const resolved = resolveRunsDirs(runsDirs, diagnostics);
    const slicer = createSlicer();
    for (const [dir, { watcher, identity }] of dirWatchers) {
      if (!resolved.includes(dir) || _identity(dir) !== identity) {
        watcher.close();
        dirWatchers.delete(dir);
      }
    }
    for (const dir of resolved) {
      if (!folders.has(dir)) folders.set(dir, new Map());
      if (options.watch !== false && !closed && !dirWatchers.has(dir)) {
        const identity = _identity(dir);
        try {
          const watcher = watch(dir, { persistent: false }, (_type, name) =>
            // An event about the directory itself (moved away, replaced) means: look at everything.
            schedule(dir, _identity(dir) === identity ? (name?.toString() ?? null) : null),
          );
          watcher.on("error", () => {});
          dirWatchers.set(dir, { watcher, identity });
        } catch {
          // Watching is not available here: revalidation keeps the index fresh.
        }
      }
    }
    dirs = resolved;
    // A configured runs directory that does not exist yet is looked for every second.
    if (resolved.length < new Set(runsDirs).size && !closed) {
      missingTimer ??= setInterval(() => {
        if (resolveRunsDirs(runsDirs).length > dirs.length && bulk === null) void refresh();
      }, 1000);
      missingTimer.unref();
    } else if (missingTimer) {
      clearInterval(missingTimer);
      missingTimer = undefined;
    }
    for (const [dir, states] of folders) {
      if (dirs.includes(dir)) continue;
      for (const name of [...states.keys()]) swap(dir, name, null);
      folders.delete(dir);
    }
    for (const dir of dirs) {
      const states = folders.get(dir)!;
      const seen = new Set<string>();
      let handle: Dir;
      try {
        handle = opendirSync(dir, { bufferSize: 512 });
      } catch {
        diagnostics.push({
          runsDir: dir,
          entry: null,
          kind: "runs-dir-unreadable",
          message: "Runs directory cannot be read.",
        });
        continue;
      }
      try {
        let count = 0;
        for (let dirent = handle.readSync(); dirent !== null; dirent = handle.readSync()) {
          seen.add(dirent.name);
          const known = states.get(dirent.name);
          apply(dir, dirent.name, known?.entry ? _stamp(join(dir, dirent.name)) : undefined);
          if (++count % 32 === 0 && slicer.due()) await slicer.yield();
          if (closed) return;
        }
      } catch {
        diagnostics.push({
          runsDir: dir,
          entry: null,
          kind: "runs-dir-unreadable",
          message: "Runs directory could not be read to the end.",
        });
      } finally {
        handle.closeSync();
      }
      for (const name of [...states.keys()]) if (!seen.has(name)) apply(dir, name);
    }
    dirDiagnostics = diagnostics;
  };

  const first = refresh().then(async () => {
    for (const entry of await sortInSlices(bulk!, compareEntries)) sorted.push(entry);
    bulk = null;
    if (pending.size > 0) timer ??= setTimeout(flush, 0);
  });
  const interval = options.revalidateMs ?? 10_000;
  const revalidator = interval > 0 ? setInterval(() => bulk === null && void refresh(), interval) : undefined;
  revalidator?.unref();

  const diagnostics = (): Diagnostic[] => [...dirDiagnostics, ...problems.values()];

  /** The run the index holds for `runId` and its runs directory, or `RUN_NOT_FOUND` with a reason. */
  const held = async (runId: string): Promise<{ run: RetainedRun; runsDir: string }> => {
    await first;
    assertRunId(runId);
    const dir = winners.get(runId);
    const entry = dir === undefined ? undefined : folders.get(dir)?.get(runId)?.entry;
    if (entry) return { run: entry.run, runsDir: dir! };
    const reason =
      [...dirs]
        .reverse()
        .map((d) => folders.get(d)?.get(runId)?.problem?.kind)
        .find(Boolean) ?? "absent";
    const why = reason === "absent" ? "" : ` (${reason})`;
    throw new GuideBoardError("RUN_NOT_FOUND", `No retained run ${runId}${why}.`, { runId, reason });
  };

  return {
    ready: () => first,
    get size() {
      return sorted.length;
    },
    async listRetainedRuns(query = {}) {
      await first;
      const compiled = compileQuery(query);
      const start = compiled.after === null ? 0 : _firstAfter(sorted, compiled.after);
      const runs: RetainedRun[] = [];
      let last: RunEntry | undefined;
      let more = false;
      for (let i = start; i < sorted.length; i++) {
        const entry = sorted[i]!;
        if (!compiled.matches(entry)) continue;
        if (runs.length === compiled.limit) {
          more = true;
          break;
        }
        runs.push(entry.run);
        last = entry;
      }
      const list: RetainedRunList = { runs, diagnostics: diagnostics() };
      if (more && last) list.nextCursor = encodeCursor(last);
      return list;
    },
    async latestRun(filters = {}) {
      await first;
      const compiled = compileQuery({ ...filters, limit: undefined, cursor: undefined });
      return sorted.find((entry) => compiled.matches(entry))?.run ?? null;
    },
    getRetainedRun: async (runId) => (await held(runId)).run,
    // Reports and manifests are never kept: read from the run's own runs directory when asked.
    reportPaths: async (runId) => reportPaths({ runsDir: (await held(runId)).runsDir, maxSummaryBytes }, runId),
    artifactManifest: async (runId) =>
      artifactManifest({ runsDir: (await held(runId)).runsDir, maxSummaryBytes }, runId),
    refresh: async () => {
      await first;
      flush();
      await refresh();
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      closed = true;
      clearInterval(revalidator);
      clearInterval(missingTimer);
      clearTimeout(timer);
      for (const { watcher } of dirWatchers.values()) watcher.close();
      dirWatchers.clear();
      for (const states of folders.values()) for (const state of states.values()) state.watcher?.close();
      listeners.clear();
    },
  };
}

/** Index of the first entry that sorts after the cursor's key. */
function _firstAfter(sorted: RunEntry[], after: { startedAtMs: number; runId: string }): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    const entry = sorted[mid]!;
    if (compareKeys(entry.startedAtMs, entry.run.runId, after.startedAtMs, after.runId) <= 0) low = mid + 1;
    else high = mid;
  }
  return low;
}

function _duplicate(runsDir: string, entry: string): Diagnostic {
  return { runsDir, entry, kind: "duplicate-run-id", message: "An earlier runs directory holds a run with this id." };
}

function _problem(runsDir: string, entry: string, kind: Diagnostic["kind"], message: string): FolderState {
  return { entry: null, problem: { runsDir, entry, kind, message }, stamp: null };
}

function _stamp(runDir: string): SummaryStamp | null {
  try {
    const stat = statSync(join(runDir, SUMMARY_FILE), { throwIfNoEntry: false });
    return stat ? { mtimeMs: stat.mtimeMs, size: stat.size, ino: stat.ino } : null;
  } catch {
    return null;
  }
}

function _sameStamp(a: SummaryStamp | null, b: SummaryStamp): boolean {
  return a !== null && a.mtimeMs === b.mtimeMs && a.size === b.size && a.ino === b.ino;
}

function _identity(dir: string): string {
  try {
    const stat = statSync(dir);
    return `${stat.dev}:${stat.ino}`;
  } catch {
    return "gone";
  }
}

function _lstat(path: string) {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}
