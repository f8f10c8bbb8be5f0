import { GuideBoardError } from "./errors.ts";
import type { SummaryStamp } from "./folder.ts";
import { compareEntries, compareKeys, compileQuery, encodeCursor, type ListQuery, type RunFilters } from "./query.ts";
import { assertRunId } from "./run-id.ts";
import type { RetainedRun, RunEntry } from "./run.ts";
import type { RetainedRunList } from "./runs.ts";
import { diagnosticOrder, type Diagnostic } from "./scan.ts";
import { sortInSlices } from "./_slices.ts";

/** What the table knows of one folder: its run, or why it is not one. */
export interface FolderState {
  entry: RunEntry | null;
  problem: Diagnostic | null;
  stamp: SummaryStamp | null;
}

/** What changed in the table. */
export interface RunTableChange {
  type: "added" | "updated" | "removed";
  runId: string;
}

/**
 * The in-memory table of a live index, with no file access and no timers: folder states per
 * runs directory, the winning run of each id (earlier runs directories win), the runs sorted
 * newest first, and the diagnostics. Everything a listing answers comes from here.
 */
export interface RunTable {
  /** The runs directories in order (real paths); folders of directories no longer listed are dropped. */
  setDirs(dirs: readonly string[]): RunTableChange[];
  readonly dirs: readonly string[];
  /** Puts a folder's state (or nothing) in place; returns the change to the listing, if any. */
  set(dir: string, name: string, state: FolderState | null): RunTableChange | null;
  get(dir: string, name: string): FolderState | undefined;
  /** Folder names known in a runs directory. */
  names(dir: string): string[];
  /** Folders whose summary was missing when last read (watched or polled until it appears). */
  incomplete(): Array<[string, string]>;
  /** Starts collecting without sorting (a first scan); `endBulk` sorts once, in slices. */
  beginBulk(): void;
  endBulk(): Promise<void>;
  /** Runs-directory-level diagnostics (missing, unreadable, unresponsive). */
  setDirDiagnostics(diagnostics: Diagnostic[]): void;
  diagnostics(): Diagnostic[];
  list(query?: ListQuery): RetainedRunList;
  latest(filters?: RunFilters): RetainedRun | null;
  /** The run held for `runId` and its runs directory, or `RUN_NOT_FOUND` with a reason. */
  held(runId: string): { run: RetainedRun; runsDir: string };
  readonly size: number;
}

/** Creates an empty {@link RunTable}. */
export function createRunTable(): RunTable {
  const folders = new Map<string, Map<string, FolderState>>(); // runs dir → folder name → state
  const sorted: RunEntry[] = []; // the winning entry of each run id, newest first
  const winners = new Map<string, string>(); // run id → runs dir it comes from
  const problems = new Map<string, Diagnostic>(); // "dir\0name" → why that folder is not listed
  let dirs: string[] = [];
  let dirDiagnostics: Diagnostic[] = [];
  let bulk: RunEntry[] | null = null;

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

  const set = (dir: string, name: string, state: FolderState | null): RunTableChange | null => {
    let states = folders.get(dir);
    if (!states) {
      if (state === null) return null;
      states = new Map();
      folders.set(dir, states);
    }
    const winnerBefore = winners.get(name);
    const before = winnerBefore === undefined ? null : (folders.get(winnerBefore)?.get(name)?.entry ?? null);
    if (state === null) states.delete(name);
    else states.set(name, state);
    let winnerAfter: string | undefined;
    for (const d of dirs) {
      if (folders.get(d)?.get(name)?.entry) {
        winnerAfter = d;
        break;
      }
    }
    const after = winnerAfter === undefined ? null : folders.get(winnerAfter)!.get(name)!.entry;
    for (const [d, inDir] of folders) {
      const folder = inDir.get(name);
      const diagnostic = folder?.problem ?? (folder?.entry && d !== winnerAfter ? _duplicate(d, name) : null);
      if (diagnostic) problems.set(`${d}\0${name}`, diagnostic);
      else if (problems.size > 0) problems.delete(`${d}\0${name}`); // (no key to build while none is held)
    }
    if (winnerAfter === undefined) winners.delete(name);
    else winners.set(name, winnerAfter);
    if (before === after) return null;
    if (bulk !== null) {
      const at = before ? bulk.indexOf(before) : -1;
      if (at >= 0) bulk.splice(at, 1);
      if (after) bulk.push(after);
      return null;
    }
    if (before) {
      const at = position(before);
      if (sorted[at] === before) sorted.splice(at, 1);
    }
    if (after) sorted.splice(position(after), 0, after);
    return { type: before === null ? "added" : after === null ? "removed" : "updated", runId: name };
  };

  return {
    get dirs() {
      return dirs;
    },
    setDirs(next) {
      dirs = [...next];
      const changes: RunTableChange[] = [];
      for (const [dir, states] of [...folders]) {
        if (dirs.includes(dir)) continue;
        for (const name of [...states.keys()]) {
          const change = set(dir, name, null);
          if (change) changes.push(change);
        }
        folders.delete(dir);
      }
      for (const dir of dirs) if (!folders.has(dir)) folders.set(dir, new Map());
      return changes;
    },
    set,
    get: (dir, name) => folders.get(dir)?.get(name),
    names: (dir) => [...(folders.get(dir)?.keys() ?? [])],
    incomplete() {
      const out: Array<[string, string]> = [];
      for (const [dir, states] of folders)
        for (const [name, state] of states) if (state.problem?.kind === "incomplete") out.push([dir, name]);
      return out;
    },
    beginBulk() {
      bulk = [...sorted];
      sorted.length = 0;
    },
    async endBulk() {
      const collected = bulk ?? [];
      const ordered = await sortInSlices(collected, compareEntries);
      sorted.length = 0;
      for (const entry of ordered) sorted.push(entry);
      bulk = null;
    },
    setDirDiagnostics(diagnostics) {
      dirDiagnostics = diagnostics;
    },
    diagnostics: () => [...dirDiagnostics, ...[...problems.values()].sort(diagnosticOrder(dirs))],
    get size() {
      return sorted.length;
    },
    list(query = {}) {
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
      const diagnostics = [...dirDiagnostics, ...[...problems.values()].sort(diagnosticOrder(dirs))];
      const list: RetainedRunList = { runs, diagnostics };
      if (more && last) list.nextCursor = encodeCursor(last);
      return list;
    },
    latest(filters = {}) {
      const compiled = compileQuery({ ...filters, limit: undefined, cursor: undefined });
      return sorted.find((entry) => compiled.matches(entry))?.run ?? null;
    },
    held(runId) {
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
