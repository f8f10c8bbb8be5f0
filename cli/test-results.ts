import {
  compareRuns,
  selectorOf,
  TESTS_PAGE,
  testResults,
  toJSONText,
  type RunComparison,
  type RunFilters,
  type RunStatus,
  type TestResult,
  type TestStatus,
  type TestTotals,
} from "../src/_internal.ts";
import { COMMON_OPTIONS, EXIT, UsageError, type CliContext } from "./context.ts";
import { duration, printable, table } from "./format.ts";
import { failingSinceText } from "./test-history.ts";

const side = (name: string) =>
  ({
    [`${name}-status`]: { type: "string", multiple: true },
    [`${name}-label`]: { type: "string", multiple: true },
    [`${name}-since`]: { type: "string" },
    [`${name}-until`]: { type: "string" },
  }) as const;

/** Options of `runs tests` and `runs compare`. */
export const TESTS_OPTIONS = {
  ...COMMON_OPTIONS,
  status: { type: "string", multiple: true },
  limit: { type: "string" },
  cursor: { type: "string" },
  history: { type: "boolean", default: false },
} as const;
export const COMPARE_OPTIONS = {
  ...COMMON_OPTIONS,
  ...side("base"),
  ...side("head"),
  "fail-on": { type: "string" },
  history: { type: "boolean", default: false },
} as { [key: string]: { type: "string" | "boolean"; multiple?: boolean } };

export const TESTS_HELP = `Usage: guide-board runs tests RUN [options]

A run's test results from its JUnit XML and CTRF reports: totals, then the failing tests with
their messages (or the tests with the given statuses). RUN may be 'latest'.

Options:
  --status S       passed, failed, errored, skipped or flaky (repeatable)
  --limit N        at most N tests (default ${TESTS_PAGE.default}, at most ${TESTS_PAGE.max}); prints a cursor
  --cursor C       continue after a previous page
  --history        each failing test with the run its failing streak started in and its last 10
                   outcomes (runs with the same labels)`;

export const COMPARE_HELP = `Usage: guide-board runs compare BASE HEAD [options]

Compare two runs' tests: new failures, still failing, fixed, added, removed, flaky. BASE and HEAD
are run ids or 'latest' (the newest run matching that side's filters).

Options:
  --base-status S, --base-label K=V, --base-since T, --base-until T
                   filters for BASE when it is 'latest' (status and label repeatable)
  --head-status S, --head-label K=V, --head-since T, --head-until T
                   the same for HEAD
  --fail-on WHEN   new-failures (default), failures (any failing test in HEAD) or never;
                   exit 1 when it holds
  --history        each failing test with the run its failing streak started in and its last 10
                   outcomes (runs with the same labels)

CI: fail only on new failures against the latest passed run on main:
  guide-board runs compare latest "$RUN_ID" --base-status passed --base-label branch=main`;

type Values = Record<string, string | string[] | boolean | undefined>;

/** `guide-board runs tests RUN`. */
export async function testsCommand(values: Values, positionals: string[], runsDir: string[], ctx: CliContext) {
  if (positionals.length !== 1) throw new UsageError("expected exactly one RUN argument");
  const run = positionals[0] === "latest" ? { latest: true as const } : positionals[0]!;
  const status = values.status as TestStatus[] | undefined;
  const limit = values.limit === undefined ? TESTS_PAGE.default : _limit(values.limit as string);
  const page = { status, limit, cursor: values.cursor as string | undefined };
  const results = await testResults({ runsDir }, run, values.history ? { ...page, history: true } : page);
  if (values.json) {
    ctx.stdout.write(toJSONText(results));
    return EXIT.ok;
  }
  ctx.stdout.write(`Run ${printable(results.runId)}: ${totalsLine(results.totals)}\n`);
  const shown = status ? results.tests : results.tests.filter(failing);
  if (shown.length > 0) ctx.stdout.write(`${testsTable(shown)}\n`);
  else if (results.totals.tests > 0) ctx.stdout.write(status ? "No tests with that status.\n" : "No failing tests.\n");
  else ctx.stdout.write("No test reports (JUnit XML or CTRF) in this run.\n");
  if (results.nextCursor) ctx.stdout.write(`More tests: --cursor ${results.nextCursor}\n`);
  for (const d of results.diagnostics)
    ctx.stderr.write(`Report ${printable(d.reportId)}: ${d.kind}: ${printable(d.message)}\n`);
  return EXIT.ok;
}

/** `guide-board runs compare BASE HEAD`: exit 1 when `--fail-on` holds. */
export async function compareCommand(values: Values, positionals: string[], runsDir: string[], ctx: CliContext) {
  if (positionals.length !== 2) throw new UsageError("expected BASE and HEAD arguments");
  const failOn = (values["fail-on"] as string | undefined) ?? "new-failures";
  if (!["new-failures", "failures", "never"].includes(failOn)) {
    throw new UsageError("--fail-on takes new-failures, failures or never");
  }
  const base = selectorOf(positionals[0]!, _filters(values, "base"), "base");
  const head = selectorOf(positionals[1]!, _filters(values, "head"), "head");
  const diff = await compareRuns({ runsDir }, base, head, { history: values.history === true });
  if (values.json) ctx.stdout.write(toJSONText(diff));
  else _printComparison(diff, ctx);
  const holds =
    failOn === "new-failures"
      ? diff.newFailures.length > 0
      : failOn === "failures"
        ? diff.head.totals.failed + diff.head.totals.errored > 0
        : false;
  return holds ? EXIT.notFound : EXIT.ok;
}

const failing = (test: TestResult) => test.status === "failed" || test.status === "errored";

/** `12 tests: 9 passed, 2 failed, 0 errored, 1 skipped, 0 flaky (3s)`. */
export function totalsLine(t: TestTotals): string {
  return `${t.tests} tests: ${t.passed} passed, ${t.failed} failed, ${t.errored} errored, ${t.skipped} skipped, ${t.flaky} flaky (${duration(Math.round(t.durationMs))})`;
}

function testsTable(tests: TestResult[]): string {
  if (tests.some((test) => test.recent !== undefined)) {
    const strip = (test: TestResult) => (test.recent ?? []).map((run) => STRIP[run.status]).join("");
    const rows = tests.map((test) => [
      test.status,
      test.key,
      strip(test),
      failingSinceText(test.failingSince),
      _oneLine(test.message ?? ""),
    ]);
    return table(["STATUS", "TEST", "RECENT", "SINCE", "MESSAGE"], rows);
  }
  const rows = tests.map((test) => [test.status, test.key, String(test.attempts), _oneLine(test.message ?? "")]);
  return table(["STATUS", "TEST", "ATTEMPTS", "MESSAGE"], rows);
}

/** One letter per run in a `--history` strip, newest first. */
const STRIP: Record<string, string> = { passed: "P", failed: "F", errored: "E", skipped: "S", flaky: "~", absent: "." };

function _printComparison(diff: RunComparison, ctx: CliContext): void {
  const out = (text: string) => ctx.stdout.write(`${text}\n`);
  out(`Base ${printable(diff.base.runId)} (${diff.base.status}): ${totalsLine(diff.base.totals)}`);
  out(`Head ${printable(diff.head.runId)} (${diff.head.status}): ${totalsLine(diff.head.totals)}`);
  for (const [title, tests] of [
    ["New failures", diff.newFailures],
    ["Still failing", diff.stillFailing],
  ] as const) {
    out(`\n${title} (${tests.length})`);
    if (tests.length > 0) out(testsTable(tests));
  }
  out(
    `\nFixed ${diff.fixed.length}, added ${diff.added.length}, removed ${diff.removed.length}, flaky ${diff.flaky.length}`,
  );
  for (const [name, d] of [
    ...diff.base.diagnostics.map((x) => ["base", x] as const),
    ...diff.head.diagnostics.map((x) => ["head", x] as const),
  ]) {
    ctx.stderr.write(`${name} report ${printable(d.reportId)}: ${d.kind}: ${printable(d.message)}\n`);
  }
}

/** The first line of a message, cut to 160 characters (the table makes it printable). */
function _oneLine(text: string): string {
  const line = text.split(/\r?\n/, 1)[0] ?? "";
  return line.length > 160 ? `${line.slice(0, 159)}…` : line;
}

function _filters(values: Values, name: string): RunFilters {
  const filters: RunFilters = {};
  const status = values[`${name}-status`] as RunStatus[] | undefined;
  const label = values[`${name}-label`] as string[] | undefined;
  if (status) filters.status = status;
  if (label) filters.label = label;
  if (values[`${name}-since`] !== undefined) filters.since = values[`${name}-since`] as string;
  if (values[`${name}-until`] !== undefined) filters.until = values[`${name}-until`] as string;
  return filters;
}

function _limit(limit: string): number {
  if (!/^[1-9]\d{0,4}$/.test(limit) || Number(limit) > TESTS_PAGE.max) {
    throw new UsageError(`--limit takes a whole number from 1 to ${TESTS_PAGE.max}`);
  }
  return Number(limit);
}
