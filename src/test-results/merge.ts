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

/** A map keyed by a test's classname, then the rest: no long concatenated keys to hash. */
class IdentityMap<V> {
  readonly #byClass = new Map<string, Map<string, V>>();
  get(classname: string, rest: string): V | undefined {
    return this.#byClass.get(classname)?.get(rest);
  }
  set(classname: string, rest: string, value: V): void {
    let inner = this.#byClass.get(classname);
    if (!inner) {
      inner = new Map();
      this.#byClass.set(classname, inner);
    }
    inner.set(rest, value);
  }
}

/** An identity seen in one report: its first attempts, and every place once there are several. */
interface Seen {
  first: RawTest;
  attempts: RawTest[];
  places: Map<string, RawTest[]> | null;
}

const restOf = (test: RawTest) => (test.project === null ? test.name : `${test.name}\u0000${test.project}`);

/**
 * Merges the raw tests of a run's reports into tests. Repeats of one identity in the same place of
 * one report are attempts of one test: `flaky` when some passed and some failed, otherwise the last
 * attempt's outcome. Repeats elsewhere in the report are collisions, kept apart and listed. An
 * identity in several reports is told apart by the report id in its key.
 */
export function mergeTests(reports: readonly ReportTests[]): MergedTests {
  // Pass 1: in how many reports each identity shows up (one report counts once); with one report,
  // every identity is in one, and the pass is skipped.
  const inReports = new IdentityMap<{ count: number; last: number }>();
  if (reports.length > 1)
    reports.forEach((report, r) => {
      for (const test of report.tests) {
        const rest = restOf(test);
        const seen = inReports.get(test.classname, rest);
        if (!seen) inReports.set(test.classname, rest, { count: 1, last: r });
        else if (seen.last !== r) {
          seen.count++;
          seen.last = r;
        }
      }
    });
  const tests: TestResult[] = [];
  const collisions: TestCollision[] = [];
  const byKey = new Map<string, number>();
  for (const { id: reportId, tests: raw } of reports) {
    // Pass 2: attempts grouped by identity and place, in order of first appearance. Most
    // identities have one place: a map of places is made only when a second one shows up.
    const groups: RawTest[][] = [];
    const collided: Seen[] = [];
    const byIdentity = new IdentityMap<Seen>();
    for (const test of raw) {
      const rest = restOf(test);
      const known = byIdentity.get(test.classname, rest);
      if (!known) {
        const attempts = [test];
        groups.push(attempts);
        byIdentity.set(test.classname, rest, { first: test, attempts, places: null });
        continue;
      }
      const attempts = known.places
        ? known.places.get(test.place)
        : known.first.place === test.place
          ? known.attempts
          : undefined;
      if (attempts) attempts.push(test);
      else {
        const fresh = [test];
        groups.push(fresh);
        if (!known.places) {
          known.places = new Map([[known.first.place, known.attempts]]);
          collided.push(known);
        }
        known.places.set(test.place, fresh);
      }
    }
    for (const { first, places } of collided) {
      collisions.push({ reportId, classname: first.classname, name: first.name, count: places!.size });
    }
    for (const attempts of groups) {
      const first = attempts[0]!;
      let base = first.classname === "" ? first.name : `${first.classname}::${first.name}`;
      if (first.project !== null) base += ` [${first.project}]`;
      if (reports.length > 1 && (inReports.get(first.classname, restOf(first))?.count ?? 0) > 1)
        base = `${reportId}:${base}`;
      let key = base;
      for (let n = 2; byKey.has(key); n++) key = `${base} #${n}`;
      byKey.set(key, tests.length);
      tests.push(_merge(key, reportId, attempts));
    }
  }
  return { tests, totals: totalsOf(tests), collisions, byKey };
}

function _merge(key: string, reportId: string, attempts: RawTest[]): TestResult {
  const first = attempts[0]!;
  const outcomes = attempts.length === 1 ? first.outcomes : attempts.flatMap((attempt) => attempt.outcomes);
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
