import type { TestTotals } from "../summary.ts";
import { KeyPositions } from "./key-positions.ts";
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

/**
 * A map keyed by a test's classname, then the rest: no long concatenated keys to hash. Tests of one
 * class come in a row, so the last class's map is kept at hand.
 */
class IdentityMap<V> {
  readonly #byClass = new Map<string, Map<string, V>>();
  #lastClass: string | null = null;
  #last = new Map<string, V>();
  get(classname: string, rest: string): V | undefined {
    return this.#of(classname).get(rest);
  }
  set(classname: string, rest: string, value: V): void {
    this.#of(classname).set(rest, value);
  }
  #of(classname: string): Map<string, V> {
    if (classname === this.#lastClass) return this.#last;
    let inner = this.#byClass.get(classname);
    if (!inner) {
      inner = new Map();
      this.#byClass.set(classname, inner);
    }
    this.#lastClass = classname;
    this.#last = inner;
    return inner;
  }
}

const restOf = (test: RawTest) => (test.project === null ? test.name : `${test.name}\u0000${test.project}`);

const sameIdentity = (a: RawTest, b: RawTest) =>
  a.classname === b.classname && a.name === b.name && a.project === b.project;

/**
 * Merges the raw tests of a run's reports into tests. Repeats of one identity in the same place of
 * one report are attempts of one test: `flaky` when some passed and some failed, otherwise the last
 * attempt's outcome. Repeats elsewhere in the report are collisions, kept apart and listed. An
 * identity in several reports is told apart by the report id in its key.
 *
 * One pass over the raw tests, keyed by the tests' own keys: a test's key starts with its identity,
 * so the one map that finds a key's position also finds the earlier attempts of an identity (the
 * groups under that key and its `#2`, `#3`… suffixes). Only repeated tests keep a list of attempts.
 * In one report whose keys are all plain (the usual case), the groups are found by identity
 * instead, and the map of keys is filled only when a cursor or a comparison first asks.
 */
export function mergeTests(reports: readonly ReportTests[]): MergedTests {
  // In how many reports each identity shows up (one report counts once); with one report, every
  // identity is in one, and the pass is skipped.
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
  // Per group (one test of the result), in order: its first attempt and the report. Each test is
  // built as its group starts, and built again at the end only if further attempts came.
  const firsts: RawTest[] = [];
  const reportOf: number[] = [];
  const tests: TestResult[] = [];
  const more = new Map<number, RawTest[]>();
  // When every key is plain, a key names one identity and group number: the groups of an identity
  // are found by identity, with no key hashed here.
  const plain = reports.length === 1 && reports[0]!.tests.every(_isPlain);
  const groups = plain ? new IdentityMap<number | number[]>() : null;
  const byKey = plain ? null : new Map<string, number>();
  const collisions: TestCollision[] = [];
  const collisionOf = new Map<number, TestCollision>();
  for (let r = 0; r < reports.length; r++) {
    const { id: reportId, tests: raw } = reports[r]!;
    for (const test of raw) {
      let base = test.classname === "" ? test.name : `${test.classname}::${test.name}`;
      if (test.project !== null) base += ` [${test.project}]`;
      if (reports.length > 1 && (inReports.get(test.classname, restOf(test))?.count ?? 0) > 1)
        base = `${reportId}:${base}`;
      let key = base;
      const held = groups?.get(test.classname, test.name);
      let at = byKey ? byKey.get(key) : _group(held, 1);
      let sibling = -1; // the first group of this identity in this report, when there is one
      let attempt = false;
      for (let n = 2; at !== undefined; n++) {
        const first = firsts[at]!;
        if (reportOf[at] === r && sameIdentity(first, test)) {
          if (first.place === test.place) {
            attempt = true;
            break;
          }
          if (sibling === -1) sibling = at;
        }
        key = `${base} #${n}`;
        at = byKey ? byKey.get(key) : _group(held, n);
      }
      if (attempt) {
        const attempts = more.get(at!);
        if (attempts) attempts.push(test);
        else more.set(at!, [firsts[at!]!, test]);
        continue;
      }
      if (sibling !== -1) {
        // The same identity in another place of the report: a collision, kept apart.
        const collision = collisionOf.get(sibling);
        if (collision) collision.count++;
        else {
          const fresh = { reportId, classname: test.classname, name: test.name, count: 2 };
          collisionOf.set(sibling, fresh);
          collisions.push(fresh);
        }
      }
      if (byKey) byKey.set(key, tests.length);
      else if (typeof held === "object") held.push(tests.length);
      else groups!.set(test.classname, test.name, held === undefined ? tests.length : [held, tests.length]);
      firsts.push(test);
      reportOf.push(r);
      tests.push(_single(key, reportId, test));
    }
  }
  for (const [at, attempts] of more) tests[at] = _merge(tests[at]!.key, reports[reportOf[at]!]!.id, attempts);
  return { tests, totals: totalsOf(tests), collisions, byKey: byKey ?? new KeyPositions(tests) };
}

/**
 * Whether a test's key is `classname::name` and reads one way only: no project, no `:` in either
 * part (nor an empty classname), no ` #` in the name. Such keys, and their ` #n` forms, are
 * distinct exactly when their identities or group numbers are.
 */
const _isPlain = ({ classname, name, project }: RawTest): boolean =>
  project === null && classname !== "" && !classname.includes(":") && !name.includes(":") && !name.includes(" #");

/** The n-th group (from 1) of an identity. */
const _group = (held: number | number[] | undefined, n: number): number | undefined =>
  typeof held === "number" ? (n === 1 ? held : undefined) : held?.[n - 1];

/** The status of a list of outcomes: `flaky` when some passed and some failed, else the last. */
function _status(outcomes: readonly RawTest["outcomes"][number][]): TestStatus {
  const last = outcomes[outcomes.length - 1]!;
  if (outcomes.length === 1) return last;
  let passed = false;
  let failing = false;
  for (const outcome of outcomes) {
    if (outcome === "passed") passed = true;
    else if (outcome === "failed" || outcome === "errored") failing = true;
  }
  return passed && failing ? "flaky" : last;
}

/** A test seen once (the usual case): no lists to build. */
function _single(key: string, reportId: string, test: RawTest): TestResult {
  return {
    key,
    classname: test.classname,
    name: test.name,
    suite: test.suite,
    file: test.file,
    reportId,
    status: _status(test.outcomes),
    durationMs: Math.round(test.durationMs * 1e3) / 1e3,
    attempts: test.outcomes.length,
    message: test.message,
    detail: test.detail,
  };
}

function _merge(key: string, reportId: string, attempts: RawTest[]): TestResult {
  const first = attempts[0]!;
  const outcomes = attempts.flatMap((attempt) => attempt.outcomes);
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
    status: _status(outcomes),
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
