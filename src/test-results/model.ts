import { z } from "zod";
import { testTotalsSchema } from "../summary.ts";

/** What a test ended as in one run. `flaky`: some attempts passed and some failed. */
export const TEST_STATUSES = ["passed", "failed", "errored", "skipped", "flaky"] as const;
export const testStatusSchema = z.enum(TEST_STATUSES);
export type TestStatus = z.infer<typeof testStatusSchema>;

/** The two test report formats guide-board reads. */
export const TEST_REPORT_FORMATS = ["junit", "ctrf"] as const;
export type TestReportFormat = (typeof TEST_REPORT_FORMATS)[number];

/** Longest failure message kept, in characters; longer ones end with `…`. */
export const MAX_MESSAGE_CHARS = 1024;
/** Longest start of a failure's detail (stack trace, output) kept, in characters. */
export const MAX_DETAIL_CHARS = 4096;
/** Page size of `runs tests` and `GET /retained-runs/{runId}/tests` when none is given, and the largest. */
export const TESTS_PAGE = Object.freeze({ default: 1000, max: 10_000 });

/** The first run of a test's current failing streak, and how many runs the streak has (test history). */
export const failingSinceSchema = z.object({ runId: z.string(), startedAt: z.string(), runs: z.number().int() });
export type FailingSince = z.infer<typeof failingSinceSchema>;

/** A test's status in one run of its history; `absent` when that run does not have the test. */
export const historyStatusSchema = z.enum([...TEST_STATUSES, "absent"]);
export type HistoryStatus = z.infer<typeof historyStatusSchema>;

/** One test of a run, its attempts merged. */
export const testResultSchema = z.object({
  /** Stable across runs: classname and name (plus the report id when two reports hold the test). */
  key: z.string(),
  classname: z.string(),
  name: z.string(),
  suite: z.string().nullable(),
  file: z.string().nullable(),
  reportId: z.string(),
  status: testStatusSchema,
  durationMs: z.number(),
  attempts: z.number().int(),
  message: z.string().nullable(),
  detail: z.string().nullable(),
  /** With `history: true` (`?history=1`), on failed and errored tests only: see `testHistory`. */
  failingSince: failingSinceSchema.nullable().optional(),
  /** With `history: true`: up to 10 newest runs with the run's labels, this run first. */
  recent: z.array(z.object({ runId: z.string(), status: historyStatusSchema })).optional(),
});
export type TestResult = z.infer<typeof testResultSchema>;

/** Why a report gave no (or only some) tests. */
export const TEST_DIAGNOSTIC_KINDS = [
  "unreadable",
  "unsafe-path",
  "too-large",
  "too-deep",
  "too-many-tests",
  "dtd-refused",
  "invalid-utf8",
  "malformed",
  "not-a-test-report",
  "invalid-ctrf",
  "changed-while-reading",
  "empty",
] as const;
export const testDiagnosticSchema = z.object({
  reportId: z.string(),
  kind: z.enum(TEST_DIAGNOSTIC_KINDS),
  message: z.string(),
});
export type TestDiagnostic = z.infer<typeof testDiagnosticSchema>;

/** Tests that share an identity within one report but are not attempts of one test (kept apart). */
export const testCollisionSchema = z.object({
  reportId: z.string(),
  classname: z.string(),
  name: z.string(),
  count: z.number().int(),
});
export type TestCollision = z.infer<typeof testCollisionSchema>;

/** One report read as test results. */
export const testReportSchema = z.object({
  id: z.string(),
  format: z.enum(TEST_REPORT_FORMATS),
  tests: z.number().int(),
});

/** What {@link testResults} returns: a run's totals, one page of its tests, and per-report problems. */
export const testResultsSchema = z.object({
  runId: z.string(),
  totals: testTotalsSchema,
  tests: z.array(testResultSchema),
  nextCursor: z.string().optional(),
  reports: z.array(testReportSchema),
  collisions: z.array(testCollisionSchema),
  diagnostics: z.array(testDiagnosticSchema),
});
export type TestResults = z.infer<typeof testResultsSchema>;

const sideSchema = z.object({
  runId: z.string(),
  status: z.string(),
  startedAt: z.string(),
  totals: testTotalsSchema,
  diagnostics: z.array(testDiagnosticSchema),
});

/** What {@link compareRuns} returns. Each list is in head order (removed: base order). */
export const runComparisonSchema = z.object({
  base: sideSchema,
  head: sideSchema,
  newFailures: z.array(testResultSchema),
  fixed: z.array(testResultSchema),
  stillFailing: z.array(testResultSchema),
  added: z.array(testResultSchema),
  removed: z.array(testResultSchema),
  flaky: z.array(testResultSchema),
});
export type RunComparison = z.infer<typeof runComparisonSchema>;

/** A test as a report gives it, one attempt (or a Surefire element that holds several). */
export interface RawTest {
  classname: string;
  name: string;
  suite: string | null;
  file: string | null;
  /** Qualifies the identity when one report runs the test in several projects (Playwright). */
  project: string | null;
  /** Where the case sits (suite path): repeats in the same place are attempts, elsewhere collisions. */
  place: string;
  /** Outcomes of the attempts this element records, in order. */
  outcomes: ("passed" | "failed" | "errored" | "skipped")[];
  durationMs: number;
  message: string | null;
  detail: string | null;
}

/** Cuts `text` to `max` characters (never inside a surrogate pair), marking the cut with `…`. */
export function cap(text: string | null | undefined, max: number): string | null {
  if (text === null || text === undefined || text === "") return null;
  if (text.length <= max) return text;
  let end = max - 1;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--;
  return `${text.slice(0, end)}…`;
}
