import { withTestHistory, type TestHistoryOptions } from "./history.ts";
import type { RunComparison, TestResult } from "./model.ts";
import { loadRunTests, type RunSelector, type RunTests, type TestResultsOptions } from "./results.ts";

const failing = (test: TestResult | undefined) => test?.status === "failed" || test?.status === "errored";

/**
 * Compares the tests of two runs, matched by key (classname and name):
 * - `newFailures`: failed or errored in head, and passed, flaky, skipped or absent in base;
 * - `stillFailing`: failed or errored in both; `fixed`: failing in base, passed or flaky in head;
 * - `added` / `removed`: in head only / in base only; `flaky`: flaky in head.
 *
 * Either side may be a run id or a selector such as the latest passed run on main.
 *
 * @example
 * const diff = await compareRuns(
 *   { runsDir: "./runs" },
 *   { latest: true, status: "passed", label: "branch=main" },
 *   runId,
 * );
 * if (diff.newFailures.length > 0) process.exitCode = 1;
 * // Failed and errored tests with their failing streak and last 10 outcomes:
 * await compareRuns({ runsDir: "./runs" }, { latest: true, label: "branch=main" }, runId, { history: true });
 */
export async function compareRuns(
  options: TestHistoryOptions,
  base: RunSelector,
  head: RunSelector,
  query: { history?: boolean } = {},
): Promise<RunComparison> {
  const [baseTests, headTests] = [await loadRunTests(options, base), await loadRunTests(options, head)];
  const comparison = compareLoaded(baseTests, headTests);
  return query?.history === true ? withComparisonHistory(options, comparison, baseTests, headTests) : comparison;
}

/**
 * `history: true` on a comparison: failed and errored tests gain `failingSince` and `recent`, each
 * against its own run (`removed` against base, every other list against head).
 */
export async function withComparisonHistory(
  options: TestResultsOptions,
  comparison: RunComparison,
  base: RunTests,
  head: RunTests,
): Promise<RunComparison> {
  const failingOf = (lists: TestResult[][]) => lists.flat().filter(failing);
  const lists = ["newFailures", "fixed", "stillFailing", "added", "flaky"] as const;
  const byKey = new Map<string, TestResult>();
  for (const test of await withTestHistory(options, head.run, failingOf(lists.map((l) => comparison[l])))) {
    byKey.set(test.key, test);
  }
  const removed = await withTestHistory(options, base.run, comparison.removed);
  const result = { ...comparison, removed };
  for (const list of lists) result[list] = comparison[list].map((test) => byKey.get(test.key) ?? test);
  return result;
}

/** {@link compareRuns} on two runs' loaded tests. */
export function compareLoaded(base: RunTests, head: RunTests): RunComparison {
  const comparison: RunComparison = {
    base: _side(base),
    head: _side(head),
    newFailures: [],
    fixed: [],
    stillFailing: [],
    added: [],
    removed: [],
    flaky: [],
  };
  for (const test of head.tests) {
    const at = base.byKey.get(test.key);
    const before = at === undefined ? undefined : base.tests[at];
    if (before === undefined) comparison.added.push(test);
    if (test.status === "flaky") comparison.flaky.push(test);
    if (failing(test)) (failing(before) ? comparison.stillFailing : comparison.newFailures).push(test);
    else if (failing(before) && (test.status === "passed" || test.status === "flaky")) comparison.fixed.push(test);
  }
  for (const test of base.tests) if (!head.byKey.has(test.key)) comparison.removed.push(test);
  return comparison;
}

function _side(loaded: RunTests): RunComparison["base"] {
  const { runId, status, startedAt } = loaded.run;
  return { runId, status, startedAt, totals: loaded.totals, diagnostics: loaded.diagnostics };
}
