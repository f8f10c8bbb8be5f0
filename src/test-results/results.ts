import { z } from "zod";
import { GuideBoardError } from "../errors.ts";
import { runFiltersSchema, type RunFilters } from "../query.ts";
import { reportRefs, type IdentifiedRef } from "../reports.ts";
import type { RetainedRun } from "../run.ts";
import { latestRun, loadRun, runsOptionsOf, type RunsOptions } from "../runs.ts";
import { describeIssue, type TestTotals } from "../summary.ts";
import { LruCache } from "./cache.ts";
import { withTestHistory, type TestHistoryOptions } from "./history.ts";
import { mergeTests, type MergedTests } from "./merge.ts";
import {
  testStatusSchema,
  type RawTest,
  type TestDiagnostic,
  type TestReportFormat,
  type TestResults,
  type TestStatus,
} from "./model.ts";
import { DEFAULT_TEST_REPORT_LIMITS, mayBeTestReport, readTestReport, type TestReportLimits } from "./read.ts";

/** Options of {@link testResults} and {@link compareRuns}: where the runs are, and caps on reports. */
export interface TestResultsOptions extends RunsOptions, Partial<TestReportLimits> {}

/** The latest retained run matching filters, where a run id would go: `{ latest: true, status: "passed" }`. */
export interface LatestRunSelector extends RunFilters {
  latest: true;
}

/** A run id, or a {@link LatestRunSelector}. */
export type RunSelector = string | LatestRunSelector;

/** Which tests {@link testResults} returns, and how many at a time. */
export interface TestQuery {
  status?: TestStatus | readonly TestStatus[];
  limit?: number;
  cursor?: string;
  /** Failed and errored tests gain `failingSince` and `recent` (runs with the same labels; see `testHistory`). */
  history?: boolean;
}

const testQuerySchema = z.object({
  history: z.boolean().optional(),
  status: z.union([testStatusSchema, z.array(testStatusSchema)]).optional(),
  limit: z.number().int().min(1).optional(),
  cursor: z.string().max(4096).optional(),
});

/** A run's tests as computed once per set of unchanged reports. */
export interface RunTests extends MergedTests {
  run: RetainedRun;
  reports: TestResults["reports"];
  diagnostics: TestDiagnostic[];
}

const runCache = new LruCache<Omit<RunTests, "run">>(16, 2_000_000);

/** Resolves a selector to a run id; `RUN_NOT_FOUND` when no run matches a `latest` selector. */
export async function resolveRunSelector(options: RunsOptions, selector: RunSelector): Promise<string> {
  if (typeof selector === "string") return selector;
  const parsed = runFiltersSchema.extend({ latest: z.literal(true) }).safeParse(selector);
  if (!parsed.success) throw new GuideBoardError("INVALID_OPTIONS", `Invalid selector ${describeIssue(parsed.error)}`);
  const { latest: _latest, ...filters } = selector;
  const run = await latestRun({ runsDir: options.runsDir, maxSummaryBytes: options.maxSummaryBytes, ...filters });
  if (run === null) throw new GuideBoardError("RUN_NOT_FOUND", "No retained run matches the selector.");
  return run.runId;
}

/** The caps of `options`, checked: each a positive whole number when given. */
export function limitsOf(options: TestResultsOptions): TestReportLimits {
  const limits = { ...DEFAULT_TEST_REPORT_LIMITS };
  for (const name of ["maxReportBytes", "maxTestCases", "maxDepth"] as const) {
    const value = options[name];
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new GuideBoardError("INVALID_OPTIONS", `Invalid option ${name}: expected a positive whole number.`);
    }
    limits[name] = value;
  }
  return limits;
}

/**
 * Reads and merges every test report of one run (from the caches when nothing changed).
 * `store: false` leaves the caches as they were (test history folds a window of runs into digests).
 */
export async function loadRunTests(
  options: TestResultsOptions,
  selector: RunSelector,
  store = true,
): Promise<RunTests> {
  const limits = limitsOf(options);
  const runId = await resolveRunSelector(options, selector);
  const { entry, parsed, runDir } = await loadRun(options, runId);
  const settings = runsOptionsOf(options);
  const read = [];
  for (const ref of reportRefs(parsed)) {
    if (mayBeTestReport(ref)) read.push(await readTestReport(runDir, ref, limits, settings, store));
  }
  const keys = read.map((result) => result?.cacheKey ?? "-").join("\u0001");
  const stable = read.every((result) => result === null || result.cacheKey !== null);
  const cached = stable ? runCache.get(`${runDir}\u0001${keys}`) : undefined;
  if (cached) return { ...cached, run: entry.run };
  const diagnostics: TestDiagnostic[] = [];
  const reports: RunTests["reports"] = [];
  const found: { id: string; tests: RawTest[] }[] = [];
  for (const result of read) {
    if (result === null) continue;
    if ("diagnostic" in result) diagnostics.push(result.diagnostic);
    else {
      found.push(result);
      reports.push({ id: result.id, format: result.format, tests: result.tests.length });
    }
  }
  const merged = { ...mergeTests(found), reports, diagnostics };
  if (stable && store) runCache.set(`${runDir}\u0001${keys}`, merged, merged.tests.length + 1);
  return { ...merged, run: entry.run };
}

/**
 * A run's test results, read from its JUnit XML and CTRF JSON reports: totals, the tests (all, or
 * those with the given statuses, a page at a time), tests that share an identity without being
 * attempts (`collisions`), and a diagnostic per report that could not be read. Reports are parsed
 * once and kept in a bounded cache keyed by their identity, size and modification time; the runs
 * directory is never written to.
 *
 * @example
 * const { totals, tests } = await testResults({ runsDir: "./runs" }, runId, { status: ["failed", "errored"] });
 * for (const test of tests) console.log(test.key, test.message);
 * // The latest passed run on main:
 * await testResults({ runsDir: "./runs" }, { latest: true, status: "passed", label: "branch=main" });
 * // Each failing test with its failing streak and last 10 outcomes:
 * await testResults({ runsDir: "./runs" }, runId, { status: "failed", history: true });
 */
export async function testResults(
  options: TestHistoryOptions,
  run: RunSelector,
  query: TestQuery = {},
): Promise<TestResults> {
  const parsed = testQuerySchema.safeParse(query ?? {});
  if (!parsed.success) throw new GuideBoardError("INVALID_OPTIONS", `Invalid option ${describeIssue(parsed.error)}`);
  const { status, limit = Infinity, cursor, history } = parsed.data;
  const loaded = await loadRunTests(options, run);
  const statuses = status === undefined ? null : new Set<string>([status].flat());
  let start = 0;
  if (cursor !== undefined) {
    const key = _decodeCursor(cursor);
    const at = key === null ? undefined : loaded.byKey.get(key);
    if (at === undefined) {
      throw new GuideBoardError("INVALID_CURSOR", "Invalid cursor: pass the nextCursor of a previous page.");
    }
    start = at + 1;
  }
  const tests = [];
  let i = start;
  for (; i < loaded.tests.length && tests.length < limit; i++) {
    const test = loaded.tests[i]!;
    if (statuses === null || statuses.has(test.status)) tests.push(test);
  }
  const result: TestResults = {
    runId: loaded.run.runId,
    totals: loaded.totals,
    tests: history ? await withTestHistory(options, loaded.run, tests) : tests,
    reports: loaded.reports,
    collisions: loaded.collisions,
    diagnostics: loaded.diagnostics,
  };
  if (tests.length === limit) {
    for (; i < loaded.tests.length; i++) {
      if (statuses === null || statuses.has(loaded.tests[i]!.status)) {
        result.nextCursor = Buffer.from(`t1:${tests[tests.length - 1]!.key}`, "utf8").toString("base64url");
        break;
      }
    }
  }
  return result;
}

function _decodeCursor(cursor: string): string | null {
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) return null;
  const text = Buffer.from(cursor, "base64url").toString("utf8");
  return text.startsWith("t1:") ? text.slice(3) : null;
}

/**
 * Totals of the test reports among `refs` of a run folder that has no summary yet (what
 * `guide-board run` writes into the summary), and the format found for each report id; `null`
 * when none of the refs is a readable test report.
 */
export async function totalsOfReports(
  runDir: string,
  refs: readonly IdentifiedRef[],
): Promise<{ totals: TestTotals; formats: Map<string, TestReportFormat> } | null> {
  const found: { id: string; tests: RawTest[] }[] = [];
  const formats = new Map<string, TestReportFormat>();
  for (const ref of refs) {
    if (!mayBeTestReport(ref)) continue;
    const read = await readTestReport(runDir, ref, DEFAULT_TEST_REPORT_LIMITS);
    if (read && "tests" in read) {
      found.push(read);
      formats.set(read.id, read.format);
    }
  }
  return found.length === 0 ? null : { totals: mergeTests(found).totals, formats };
}

/**
 * The selector the CLI and the HTTP API build from one side of a comparison: `latest` with
 * filters, or a run id (filters with a run id are `INVALID_OPTIONS`: they would be ignored).
 */
export function selectorOf(value: string, filters: RunFilters, side: string): RunSelector {
  const given = Object.values(filters).some((filter) => filter !== undefined && [filter].flat().length > 0);
  if (value === "latest") return { latest: true, ...filters };
  if (given) {
    throw new GuideBoardError("INVALID_OPTIONS", `Invalid option ${side}: filters apply only to 'latest'.`);
  }
  return value;
}
