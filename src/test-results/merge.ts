import type { TestTotals } from "../summary.ts";
import type { RawTest, TestCollision, TestResult, TestStatus } from "./model.ts";

/** The tests one report gave. */
export interface ReportTests {
  id: string;
  tests: RawTest[];
}

/** A run's tests, merged: what the cache keeps per run. */
export interface MergedTests {
  tests: TestResult[];
  totals: TestTotals;
  collisions: TestCollision[];
  /** Position of each key in `tests`, for cursors and comparisons. */
  byKey: Map<string, number>;
}

const identity = (test: RawTest) => `${test.classname}\u0000${test.name}\u0000${test.project ?? ""}`;

/**
 * Merges the raw tests of a run's reports into tests. Repeats of one identity in the same place of
 * one report are attempts of one test: `flaky` when some passed and some failed, otherwise the last
 * attempt's outcome. Repeats elsewhere in the report are collisions, kept apart and listed. An
 * identity in several reports is told apart by the report id in its key.
 */
export function mergeTests(reports: readonly ReportTests[]): MergedTests {
  const inReports = new Map<string, number>();
  const grouped = reports.map((report) => {
    const groups = new Map<string, Map<string, RawTest[]>>();
    for (const test of report.tests) {
      const id = identity(test);
      let places = groups.get(id);
      if (!places) {
        places = new Map();
        groups.set(id, places);
        inReports.set(id, (inReports.get(id) ?? 0) + 1);
      }
      const attempts = places.get(test.place);
      if (attempts) attempts.push(test);
      else places.set(test.place, [test]);
    }
    return { id: report.id, groups };
  });
  const tests: TestResult[] = [];
  const collisions: TestCollision[] = [];
  const byKey = new Map<string, number>();
  for (const { id: reportId, groups } of grouped) {
    for (const [id, places] of groups) {
      const first = places.values().next().value![0]!;
      if (places.size > 1) {
        collisions.push({ reportId, classname: first.classname, name: first.name, count: places.size });
      }
      let base = first.classname === "" ? first.name : `${first.classname}::${first.name}`;
      if (first.project !== null) base += ` [${first.project}]`;
      if ((inReports.get(id) ?? 0) > 1) base = `${reportId}:${base}`;
      for (const attempts of places.values()) {
        let key = base;
        for (let n = 2; byKey.has(key); n++) key = `${base} #${n}`;
        byKey.set(key, tests.length);
        tests.push(_merge(key, reportId, attempts));
      }
    }
  }
  return { tests, totals: totalsOf(tests), collisions, byKey };
}

function _merge(key: string, reportId: string, attempts: RawTest[]): TestResult {
  const first = attempts[0]!;
  const outcomes = attempts.flatMap((attempt) => attempt.outcomes);
  const passed = outcomes.includes("passed");
  const failing = outcomes.some((outcome) => outcome === "failed" || outcome === "errored");
  const status: TestStatus = passed && failing ? "flaky" : outcomes[outcomes.length - 1]!;
  // The message worth showing: the last failing attempt's, else the last attempt's.
  let source = attempts[attempts.length - 1]!;
  for (let i = attempts.length - 1; i >= 0; i--) {
    const outcomesOf = attempts[i]!.outcomes;
    if (outcomesOf.some((o) => o === "failed" || o === "errored") && attempts[i]!.message !== null) {
      source = attempts[i]!;
      break;
    }
  }
  let durationMs = 0;
  for (const attempt of attempts) durationMs += attempt.durationMs;
  return {
    key,
    classname: first.classname,
    name: first.name,
    suite: first.suite,
    file: first.file,
    reportId,
    status,
    durationMs: Math.round(durationMs * 1e3) / 1e3,
    attempts: outcomes.length,
    message: source.message,
    detail: source.detail,
  };
}

/** Totals of a list of tests. */
export function totalsOf(tests: readonly TestResult[]): TestTotals {
  const totals: TestTotals = { tests: 0, passed: 0, failed: 0, errored: 0, skipped: 0, flaky: 0, durationMs: 0 };
  for (const test of tests) {
    totals.tests++;
    totals[test.status]++;
    totals.durationMs += test.durationMs;
  }
  totals.durationMs = Math.round(totals.durationMs * 1e3) / 1e3;
  return totals;
}
