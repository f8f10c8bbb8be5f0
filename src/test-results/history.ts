import { join } from "node:path";
import { z } from "zod";
import { GuideBoardError, isGuideBoardError } from "../errors.ts";
import { SUMMARY_FILE } from "../format.ts";
import { checkRef } from "../paths.ts";
import { runFiltersSchema, type RunFilters } from "../query.ts";
import { reportRefs } from "../reports.ts";
import type { RetainedRun } from "../run.ts";
import type { RunIndex } from "../run-index.ts";
import { listRetainedRuns, loadRun, runsOptionsOf } from "../runs.ts";
import { resolveRunsDirsAsync, type Diagnostic } from "../scan.ts";
import type { FileIdentity } from "../_stat-worker.ts";
import { isLocalFs, runsDirOf, storageOf, type DirEntry, type StorageOptions } from "../storage.ts";
import { describeIssue, runStatusSchema, toEpochMs } from "../summary.ts";
import { LruCache } from "./cache.ts";
import {
  failingSinceSchema,
  historyStatusSchema,
  TEST_STATUSES,
  testStatusSchema,
  type FailingSince,
  type HistoryStatus,
  type TestResult,
} from "./model.ts";
import { mayBeTestReport } from "./read.ts";
import { limitsOf, loadRunTests, type TestResultsOptions } from "./results.ts";

/** Runs in a test-history window when none is given, and the most allowed. */
export const HISTORY_WINDOW = Object.freeze({ default: 50, max: 500 });
/** Tests `topTests` returns when no `limit` is given, and the most allowed. */
export const TOP_TESTS = Object.freeze({ default: 20, max: 1000 });
/** Newest runs a failing test's `recent` strip holds (`history: true`). */
export const RECENT_RUNS = 10;
/** What `topTests` ranks by. */
export const TOP_TESTS_BY = ["failures", "flaky", "slow"] as const;
export type TopTestsBy = (typeof TOP_TESTS_BY)[number];

/** One run of a test's history. */
export const testHistoryRunSchema = z.object({
  runId: z.string(),
  startedAt: z.string(),
  runStatus: runStatusSchema,
  labels: z.record(z.string(), z.string()),
  status: historyStatusSchema,
  durationMs: z.number().nullable(),
  message: z.string().nullable(),
});

/** What {@link testHistory} returns (and `GET /tests/history`). */
export const testHistorySchema = z.object({
  key: z.string(),
  classname: z.string().nullable(),
  name: z.string().nullable(),
  window: z.object({ runs: z.number().int(), limit: z.number().int() }),
  runs: z.array(testHistoryRunSchema),
  failingSince: failingSinceSchema.nullable(),
  lastPassed: z.object({ runId: z.string(), startedAt: z.string() }).nullable(),
  flakeRate: z.number(),
});
export type TestHistory = z.infer<typeof testHistorySchema>;

/** One ranked test of {@link topTests}. */
export const topTestSchema = z.object({
  key: z.string(),
  classname: z.string(),
  name: z.string(),
  runs: z.number().int(),
  failures: z.number().int(),
  flaky: z.number().int(),
  flakeRate: z.number(),
  meanDurationMs: z.number(),
  maxDurationMs: z.number(),
  lastStatus: testStatusSchema,
  lastRunId: z.string(),
});
export type TopTest = z.infer<typeof topTestSchema>;

/** What {@link topTests} returns (and `GET /tests/top`). */
export const topTestsSchema = z.object({
  by: z.enum(TOP_TESTS_BY),
  window: z.object({ runs: z.number().int() }),
  tests: z.array(topTestSchema),
});
export type TopTests = z.infer<typeof topTestsSchema>;

/** Options of {@link testHistory} and {@link topTests}: where the runs are, plus an optional live index. */
export interface TestHistoryOptions extends TestResultsOptions {
  /** A live index (`createRunIndex`) to list the window from memory instead of scanning. */
  index?: RunIndex;
}

/** Which runs {@link testHistory} looks at. */
export interface TestHistoryQuery {
  filters?: RunFilters;
  /** Runs in the window, newest first (default 50, at most 500). */
  limit?: number;
  signal?: AbortSignal;
}

/** What {@link topTests} ranks, over which runs. */
export interface TopTestsQuery {
  by: TopTestsBy;
  filters?: RunFilters;
  /** Runs in the window, newest first (default 50, at most 500). */
  window?: number;
  /** Tests returned (default 20, at most 1000). */
  limit?: number;
  signal?: AbortSignal;
}

const int = (max: number) => z.number().int().min(1).max(max);
const historyQuerySchema = z.object({
  filters: runFiltersSchema.optional(),
  limit: int(HISTORY_WINDOW.max).optional(),
  signal: z.instanceof(AbortSignal).optional(),
});
const topQuerySchema = z.object({
  by: z.enum(TOP_TESTS_BY),
  filters: runFiltersSchema.optional(),
  window: int(HISTORY_WINDOW.max).optional(),
  limit: int(TOP_TESTS.max).optional(),
  signal: z.instanceof(AbortSignal).optional(),
});

// Statuses as small codes in the digests; `ABSENT` only in a history, never stored.
const CODE: Record<string, number> = Object.fromEntries(TEST_STATUSES.map((status, i) => [status, i]));
const [PASSED, FAILED, ERRORED, SKIPPED, FLAKY] = [
  CODE.passed!,
  CODE.failed!,
  CODE.errored!,
  CODE.skipped!,
  CODE.flaky!,
];
const ABSENT = TEST_STATUSES.length;
const STATUS_OF: HistoryStatus[] = [...TEST_STATUSES, "absent"];

/**
 * A copy of `text` that holds nothing else alive: a parsed report's strings may be slices of the
 * whole report text, which a digest kept for hundreds of runs must not pin (a copy of ≤ 1 KiB each).
 */
const _own = (text: string): string => (text.length < 13 ? text : JSON.parse(JSON.stringify(text)));

/** Every test key seen, once, as a small number; emptied (with the digests) past a bound. */
class KeyTable {
  ids = new Map<string, number>();
  classnames: string[] = [];
  names: string[] = [];
  keys: string[] = [];
  generation = 0;
  /** How many distinct keys it holds at most (a test may lower it). */
  max = 400_000;

  id(test: TestResult): number {
    let id = this.ids.get(test.key);
    if (id === undefined) {
      id = this.keys.length;
      const key = _own(test.key);
      this.ids.set(key, id);
      this.keys.push(key);
      this.classnames.push(_own(test.classname));
      this.names.push(_own(test.name));
    }
    return id;
  }

  reset(): void {
    this.ids = new Map();
    this.classnames = [];
    this.names = [];
    this.keys = [];
    this.generation++;
  }
}

/**
 * A run's tests, compact: key ids sorted ascending, a status code and a duration per test, and
 * the messages of failed, errored and flaky tests. `files` stamp the summary and every report the
 * digest came from (paths and identities), so a warm check is one batch of `stat` calls.
 */
interface RunDigest {
  generation: number;
  ids: Int32Array;
  codes: Uint8Array;
  durations: Float64Array;
  messages: Map<number, string>;
  /** The summary first, then the test reports. */
  files: { path: string; identity: FileIdentity | null }[];
  /** The listed run last checked: a live index lists the same object until the summary changes. */
  run: RetainedRun;
}

const keyTable = new KeyTable();
// About 13 bytes a test: a window of 500 runs × 10k tests is 65 MB; the bound keeps 6 M tests.
const digests = new LruCache<RunDigest>(4096, 6_000_000);

/** Sets how many distinct test keys history keeps (and empties it); returns the bound it had. */
export function setTestHistoryKeyBound(max: number): number {
  const before = keyTable.max;
  keyTable.max = max;
  clearTestHistoryCache();
  return before;
}

/** Empties the history digests (benchmarks measure cold history with it). */
export function clearTestHistoryCache(): void {
  digests.clear();
  windows.clear();
  keyTable.reset();
}

/**
 * The digests of `runs` (in order) whose files are unchanged since they were made; `undefined`
 * where there is none or it is stale. Every file to check (each test report, and the summary
 * unless a live index lists the very run object it was last checked against: the index replaces
 * that object when the summary changes) is stated in one batch per runs directory.
 */
async function _warm(
  settings: StorageOptions,
  keys: readonly string[],
  runs: readonly RetainedRun[],
): Promise<(RunDigest | undefined)[]> {
  const found: (RunDigest | undefined)[] = runs.map((_run, i) => {
    const digest = digests.get(keys[i]!);
    return digest && digest.generation === keyTable.generation ? digest : undefined;
  });
  const byDir = new Map<string, number[]>();
  runs.forEach((run, i) => {
    if (!found[i]) return;
    const dir = runsDirOf(run.runDir);
    const list = byDir.get(dir);
    if (list) list.push(i);
    else byDir.set(dir, [i]);
  });
  await Promise.all(
    [...byDir].map(async ([dir, members]) => {
      const files = members.map((i) => (found[i]!.run === runs[i] ? found[i]!.files.slice(1) : found[i]!.files));
      const now = await storageOf(dir, settings).identities(files.flatMap((list) => list.map((file) => file.path)));
      let at = 0;
      members.forEach((i, m) => {
        const unchanged = files[m]!.every((file) => now[at++] === file.identity);
        if (unchanged) found[i]!.run = runs[i]!;
        else found[i] = undefined;
      });
    }),
  );
  return found;
}

/** Reads a run's tests (through the results caches, without filling them) into a digest. */
async function _build(options: TestResultsOptions, run: RetainedRun): Promise<RunDigest | null> {
  let files: RunDigest["files"];
  try {
    const { parsed, runDir } = await loadRun(options, run.runId);
    const paths = [join(runDir, SUMMARY_FILE)];
    for (const ref of reportRefs(parsed)) {
      const check = checkRef(ref.path);
      if (check.safe && mayBeTestReport(ref)) paths.push(join(runDir, check.path));
    }
    // Stamped before reading: a file that changes meanwhile fails the next check, never a stale digest.
    const storage = storageOf(runsDirOf(runDir), runsOptionsOf(options));
    const identities = await storage.identities(paths);
    files = paths.map((path, i) => ({ path, identity: identities[i]! }));
  } catch (error) {
    if (isGuideBoardError(error, "RUN_NOT_FOUND")) return null; // gone since it was listed
    throw error;
  }
  let loaded: Awaited<ReturnType<typeof loadRunTests>>;
  try {
    loaded = await loadRunTests(options, run.runId, false);
  } catch (error) {
    if (isGuideBoardError(error, "RUN_NOT_FOUND")) return null;
    throw error;
  }
  let fresh = 0;
  for (const test of loaded.tests) if (!keyTable.ids.has(test.key)) fresh++;
  if (fresh > 0 && keyTable.keys.length + fresh > keyTable.max) {
    digests.clear();
    keyTable.reset();
  }
  const n = loaded.tests.length;
  const raw = new Int32Array(n);
  for (let i = 0; i < n; i++) raw[i] = keyTable.id(loaded.tests[i]!);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => raw[a]! - raw[b]!);
  const digest: RunDigest = {
    generation: keyTable.generation,
    ids: new Int32Array(n),
    codes: new Uint8Array(n),
    durations: new Float64Array(n),
    messages: new Map(),
    files,
    run,
  };
  for (let at = 0; at < n; at++) {
    const test = loaded.tests[order[at]!]!;
    digest.ids[at] = raw[order[at]!]!;
    digest.codes[at] = CODE[test.status]!;
    digest.durations[at] = test.durationMs;
    if (test.message !== null && test.status !== "passed" && test.status !== "skipped") {
      digest.messages.set(at, _own(test.message));
    }
  }
  return digest;
}

/** Runs `task` over `items` with at most `limit` in flight; stops at the first error or abort. */
async function _pool<T>(
  items: readonly T[],
  limit: number,
  task: (item: T, i: number) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      signal?.throwIfAborted();
      const i = next++;
      await task(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * The digests of the window's runs, in window order; a run gone since it was listed is dropped.
 * Warm checks are one batch of `stat`s per runs directory; cold runs are read 4 at a time.
 */
async function _digests(
  options: TestResultsOptions,
  runs: readonly RetainedRun[],
  signal?: AbortSignal,
): Promise<{ run: RetainedRun; digest: RunDigest }[]> {
  const limits = limitsOf(options);
  const settings = runsOptionsOf(options);
  const suffix = `\u0000${limits.maxReportBytes}:${limits.maxTestCases}:${limits.maxDepth}`;
  const found: (RunDigest | null | undefined)[] = await _warm(
    settings,
    runs.map((run) => run.runDir + suffix),
    runs,
  );
  signal?.throwIfAborted();
  const build = async (i: number) => {
    const digest = await _build(options, runs[i]!);
    found[i] = digest;
    if (digest) digests.set(runs[i]!.runDir + suffix, digest, digest.ids.length + 1);
  };
  await _pool(
    runs.flatMap((_run, i) => (found[i] === undefined ? [i] : [])),
    4,
    build,
    signal,
  );
  // The key table was emptied while this window was read (it passed its bound): the runs
  // digested before that are read again, once, so one answer never mixes two tables.
  const stale = () => runs.flatMap((_run, i) => (found[i] && found[i]!.generation !== keyTable.generation ? [i] : []));
  if (stale().length > 0) await _pool(stale(), 4, build, signal);
  signal?.throwIfAborted();
  if (stale().length > 0) {
    throw new GuideBoardError(
      "INVALID_OPTIONS",
      `Invalid option window: these runs hold more than ${keyTable.max} distinct tests; choose a smaller window.`,
    );
  }
  return runs.flatMap((run, i) => (found[i] ? [{ run, digest: found[i]! }] : []));
}

/** Position of key id `id` in a digest, or -1. */
function _find(digest: RunDigest, id: number): number {
  let lo = 0;
  let hi = digest.ids.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const at = digest.ids[mid]!;
    if (at === id) return mid;
    if (at < id) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/**
 * The newest `limit` runs matching `filters` and `accept`, newest first, from the index when
 * given; `accept` answering `"stop"` ends the window there.
 */
async function _window(
  options: TestHistoryOptions,
  filters: RunFilters,
  limit: number,
  accept?: (run: RetainedRun) => boolean | "stop",
): Promise<RetainedRun[]> {
  if (options.index || accept) return _listWindow(options, filters, limit, accept);
  // The plain library: the window listed last time, while every runs directory holds the same
  // entries and every summary the same file (one listing and one batch of stats, no reads).
  const settings = runsOptionsOf(options);
  const key = JSON.stringify([settings.runsDirs, settings.maxSummaryBytes, filters, limit]);
  const print = await _printOf(settings);
  const known = windows.get(key);
  if (print && known && _samePrint(known.print, print)) return [...known.runs];
  const runs = await _listWindow(options, filters, limit);
  if (print) windows.set(key, { print, runs }, print.names.length + 1);
  return [...runs];
}

/** What a window listed without an index was listed from: each runs directory's entries, and the identity of each one's summary. */
interface DirsPrint {
  names: string[];
  summaries: (FileIdentity | null)[];
}

const windows = new LruCache<{ print: DirsPrint; runs: RetainedRun[] }>(16, 200_000);

/**
 * The print of the configured runs directories; `null` where it cannot vouch for them: a
 * directory on a network file system (times of whole seconds there can hide a rewrite), or one
 * that is missing or does not list.
 */
async function _printOf(settings: ReturnType<typeof runsOptionsOf>): Promise<DirsPrint | null> {
  const problems: Diagnostic[] = [];
  const dirs = await resolveRunsDirsAsync(settings.runsDirs, problems, settings);
  if (problems.length > 0) return null;
  const print: DirsPrint = { names: [], summaries: [] };
  for (const dir of dirs) {
    if (!(await isLocalFs(dir, settings))) return null;
    const storage = storageOf(dir, settings);
    let entries: DirEntry[];
    try {
      entries = await storage.readdir(dir, true);
    } catch (error) {
      if (isGuideBoardError(error, "STORAGE_UNAVAILABLE")) throw error;
      return null;
    }
    const names = entries.map((entry) => `${entry.type === "directory" ? "d" : "o"}${entry.name}`).sort();
    print.names.push(dir, ...names);
    print.summaries.push(...(await storage.identities(names.map((name) => join(dir, name.slice(1), SUMMARY_FILE)))));
  }
  return print;
}

function _samePrint(a: DirsPrint, b: DirsPrint): boolean {
  return (
    a.names.length === b.names.length &&
    a.summaries.length === b.summaries.length &&
    a.names.every((name, i) => name === b.names[i]) &&
    a.summaries.every((identity, i) => identity === b.summaries[i])
  );
}

/** The window as a listing gives it: from the index when given, else a scan. */
async function _listWindow(
  options: TestHistoryOptions,
  filters: RunFilters,
  limit: number,
  accept: (run: RetainedRun) => boolean | "stop" = () => true,
): Promise<RetainedRun[]> {
  const { index, maxReportBytes: _b, maxTestCases: _t, maxDepth: _d, ...runsOptions } = options;
  const runs: RetainedRun[] = [];
  let cursor: string | undefined;
  do {
    const query = { ...filters, limit: limit - runs.length, cursor };
    const page = index ? await index.listRetainedRuns(query) : await listRetainedRuns({ ...runsOptions, ...query });
    for (const run of page.runs) {
      const verdict = accept(run);
      if (verdict === "stop") return runs;
      if (verdict) runs.push(run);
    }
    cursor = page.nextCursor;
  } while (cursor !== undefined && runs.length < limit);
  return runs;
}

const _groupKey = (labels: Record<string, string>) => JSON.stringify(Object.entries(labels).sort());

/**
 * Counts unstable runs per test and label group, fed newest run first. A run is unstable when
 * the test was `flaky` in it, or when its outcome (passed/flaky = pass, failed/errored = fail)
 * differs from both neighbouring runs of the same label group that ran the test (an isolated
 * pass or fail). Skipped and absent runs are not fed: they neither count nor separate neighbours.
 */
class Stability {
  // Per (key, group): the newer neighbour's outcome (1 pass, 2 fail, 0 none), the middle one's, and its flakiness.
  readonly #state = new Map<number, number>();

  /** Feeds one present run; returns 1 when it makes the run before it (the newer one) unstable. */
  push(id: number, group: number, code: number): number {
    const slot = id * 512 + group;
    const outcome = code === FAILED || code === ERRORED ? 2 : 1;
    const state = this.#state.get(slot) ?? 0;
    const newer = state >> 3;
    const middle = (state >> 1) & 3;
    const middleFlaky = state & 1;
    this.#state.set(slot, (middle << 3) | (outcome << 1) | (code === FLAKY ? 1 : 0));
    return !middleFlaky && newer !== 0 && middle !== newer && middle !== outcome ? 1 : 0;
  }
}

const _round = (value: number, places: number) => Math.round(value * 10 ** places) / 10 ** places;

function _parse<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value ?? {});
  if (!parsed.success) throw new GuideBoardError("INVALID_OPTIONS", `Invalid option ${describeIssue(parsed.error)}`);
  return parsed.data;
}

function _checkKey(key: unknown): asserts key is string {
  if (typeof key !== "string" || key === "" || key.length > 4096) {
    throw new GuideBoardError("INVALID_OPTIONS", "Invalid option key: expected a test key (1 to 4096 characters).");
  }
}

/** The history of key id `id` (undefined: never seen) over digested runs, newest first. */
function _history(
  key: string,
  id: number | undefined,
  window: readonly { run: RetainedRun; digest: RunDigest }[],
  limit: number,
): TestHistory {
  const runs: TestHistory["runs"] = [];
  const stability = new Stability();
  const groups = new Map<string, number>();
  let present = 0;
  let unstable = 0;
  let failingSince: FailingSince | null = null;
  let streakOpen = true;
  let streak = 0;
  let lastPassed: TestHistory["lastPassed"] = null;
  let seen = false;
  for (const { run, digest } of window) {
    const at = id === undefined || digest.generation !== keyTable.generation ? -1 : _find(digest, id);
    const code = at < 0 ? ABSENT : digest.codes[at]!;
    runs.push({
      runId: run.runId,
      startedAt: run.startedAt,
      runStatus: run.status,
      labels: run.labels,
      status: STATUS_OF[code]!,
      durationMs: at < 0 ? null : digest.durations[at]!,
      message: at < 0 ? null : (digest.messages.get(at) ?? null),
    });
    if (at >= 0) seen = true;
    if (code === ABSENT || code === SKIPPED) continue;
    const groupKey = _groupKey(run.labels);
    const group = groups.get(groupKey) ?? groups.size;
    groups.set(groupKey, group);
    present++;
    unstable += stability.push(0, group, code) + (code === FLAKY ? 1 : 0);
    if (lastPassed === null && (code === PASSED || code === FLAKY)) {
      lastPassed = { runId: run.runId, startedAt: run.startedAt };
    }
    if (streakOpen && (code === FAILED || code === ERRORED)) {
      streak++;
      failingSince = { runId: run.runId, startedAt: run.startedAt, runs: streak };
    } else streakOpen = false;
  }
  const known = seen && id !== undefined;
  return {
    key,
    classname: known ? keyTable.classnames[id]! : null,
    name: known ? keyTable.names[id]! : null,
    window: { runs: window.length, limit },
    runs,
    failingSince,
    lastPassed,
    flakeRate: present === 0 ? 0 : _round(unstable / present, 4),
  };
}

/**
 * One test's outcome in each of the last `limit` runs matching `filters` (default 50, at most
 * 500), newest first: status (`absent` when the run does not have the test), duration and
 * message, plus `failingSince` (the first run of the current failing streak), `lastPassed` (the
 * newest run where it passed or was flaky) and `flakeRate` (0 to 1; see docs/library.md). Each
 * run's reports are read at most once: a compact digest of every run is kept (about 13 bytes a
 * test) and checked with a `stat` of its files. A key never seen in the window gives every run
 * `absent` and `classname`/`name` `null`.
 *
 * @example
 * const history = await testHistory({ runsDir: "./runs" }, "com.example.CartTest::adds an item", {
 *   filters: { label: "branch=main" },
 *   limit: 100,
 * });
 * if (history.failingSince) console.log(`failing for ${history.failingSince.runs} runs`);
 */
export async function testHistory(
  options: TestHistoryOptions,
  key: string,
  query: TestHistoryQuery = {},
): Promise<TestHistory> {
  _checkKey(key);
  const { filters = {}, limit = HISTORY_WINDOW.default, signal } = _parse(historyQuerySchema, query);
  const window = await _digests(options, await _window(options, filters, limit), signal);
  return _history(key, keyTable.ids.get(key), window, limit);
}

interface Aggregate {
  runs: number;
  failures: number;
  flaky: number;
  present: number;
  unstable: number;
  durations: number;
  timed: number;
  maxDurationMs: number;
  lastStatus: number;
  lastRunId: string;
}

/**
 * Ranks tests over the last `window` runs matching `filters` (default 50, at most 500) and
 * returns the first `limit` (default 20, at most 1000):
 * - `failures`: tests that failed or errored, most failures first;
 * - `flaky`: tests with a flake rate above 0 (flaky in a run, or an isolated pass or fail among
 *   runs with the same labels), highest rate first;
 * - `slow`: tests by mean duration over the runs that ran them (not skipped), slowest first.
 * Ties go by key. Each run is folded into small per-test counts and dropped, so memory grows with
 * the number of distinct tests, not runs × tests.
 *
 * @example
 * const { tests } = await topTests({ runsDir: "./runs" }, { by: "flaky", filters: { label: "branch=main" } });
 * for (const test of tests) console.log(test.flakeRate, test.key);
 */
export async function topTests(options: TestHistoryOptions, query: TopTestsQuery): Promise<TopTests> {
  const parsed = _parse(topQuerySchema, query);
  const { by, filters = {}, window: size = HISTORY_WINDOW.default, limit = TOP_TESTS.default, signal } = parsed;
  const window = await _digests(options, await _window(options, filters, size), signal);
  const generation = keyTable.generation;
  const aggregates = new Map<number, Aggregate>();
  const stability = new Stability();
  const groups = new Map<string, number>();
  for (const { run, digest } of window) {
    if (digest.generation !== generation) continue; // (the table was emptied meanwhile: never mixed)
    const groupKey = _groupKey(run.labels);
    const group = groups.get(groupKey) ?? groups.size;
    groups.set(groupKey, group);
    for (let at = 0; at < digest.ids.length; at++) {
      const id = digest.ids[at]!;
      const code = digest.codes[at]!;
      let aggregate = aggregates.get(id);
      if (!aggregate) {
        aggregate = {
          runs: 0,
          failures: 0,
          flaky: 0,
          present: 0,
          unstable: 0,
          durations: 0,
          timed: 0,
          maxDurationMs: 0,
          lastStatus: code,
          lastRunId: run.runId,
        };
        aggregates.set(id, aggregate);
      }
      aggregate.runs++;
      if (code === SKIPPED) continue;
      const duration = digest.durations[at]!;
      aggregate.durations += duration;
      aggregate.timed++;
      if (duration > aggregate.maxDurationMs) aggregate.maxDurationMs = duration;
      if (code === FAILED || code === ERRORED) aggregate.failures++;
      if (code === FLAKY) aggregate.flaky++;
      aggregate.present++;
      aggregate.unstable += stability.push(id, group, code) + (code === FLAKY ? 1 : 0);
    }
  }
  const rate = (a: Aggregate) => (a.present === 0 ? 0 : a.unstable / a.present);
  const mean = (a: Aggregate) => (a.timed === 0 ? 0 : a.durations / a.timed);
  const ranked = [...aggregates].filter(([, a]) =>
    by === "failures" ? a.failures > 0 : by === "flaky" ? a.unstable > 0 : a.timed > 0,
  );
  const keys = keyTable.keys;
  const byKey = (x: number, y: number) => (keys[x]! < keys[y]! ? -1 : keys[x]! > keys[y]! ? 1 : 0);
  ranked.sort(([x, a], [y, b]) => {
    const order =
      by === "failures"
        ? b.failures - a.failures
        : by === "flaky"
          ? rate(b) - rate(a) || b.unstable - a.unstable
          : mean(b) - mean(a);
    return order || byKey(x, y);
  });
  return {
    by,
    window: { runs: window.length },
    tests: ranked.slice(0, limit).map(([id, a]) => ({
      key: keys[id]!,
      classname: keyTable.classnames[id]!,
      name: keyTable.names[id]!,
      runs: a.runs,
      failures: a.failures,
      flaky: a.flaky,
      flakeRate: _round(rate(a), 4),
      meanDurationMs: _round(mean(a), 3),
      maxDurationMs: a.maxDurationMs,
      lastStatus: TEST_STATUSES[a.lastStatus]!,
      lastRunId: a.lastRunId,
    })),
  };
}

/**
 * `history: true` on `testResults` and `compareRuns`: each failed or errored test of `run` gains
 * `failingSince` and `recent`, computed over the newest runs (up to `HISTORY_WINDOW.default`) with
 * exactly the run's labels, up to and including the run. Other tests are returned as they are.
 */
export async function withTestHistory(
  options: TestHistoryOptions,
  run: RetainedRun,
  tests: readonly TestResult[],
  signal?: AbortSignal,
): Promise<TestResult[]> {
  if (!tests.some((test) => test.status === "failed" || test.status === "errored")) return [...tests];
  const labels = Object.entries(run.labels);
  const selectors = labels.filter(([name]) => !name.includes("=")).map(([name, value]) => `${name}=${value}`);
  const group = _groupKey(run.labels);
  const startedAtMs = toEpochMs(run.startedAt);
  let reached = false;
  const accept = (other: RetainedRun) => {
    reached ||= other.runId === run.runId;
    // Runs listed before it started at the same instant; one older and it is not listed at all.
    if (!reached) return toEpochMs(other.startedAt) < startedAtMs ? "stop" : false;
    return _groupKey(other.labels) === group;
  };
  const until = new Date(Math.floor(startedAtMs) + 1);
  let runs = await _window(options, { label: selectors, until }, HISTORY_WINDOW.default, accept);
  if (!reached) runs = [run]; // (the run is not listed: a legacy or just-removed folder) — itself only
  const window = await _digests(options, runs, signal);
  return tests.map((test) => {
    if (test.status !== "failed" && test.status !== "errored") return test;
    const history = _history(test.key, keyTable.ids.get(test.key), window, HISTORY_WINDOW.default);
    const recent = history.runs.slice(0, RECENT_RUNS).map(({ runId, status }) => ({ runId, status }));
    return { ...test, failingSince: history.failingSince, recent };
  });
}
