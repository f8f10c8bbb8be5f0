// `guide-board runs history KEY` and `guide-board runs top --by …`: a test's outcomes over the
// last runs, and tests ranked over a window (the same library calls and JSON as GET /tests/*).
import {
  HISTORY_WINDOW,
  testHistory,
  TOP_TESTS,
  TOP_TESTS_BY,
  topTests,
  toJSONText,
  type RunFilters,
  type RunStatus,
  type TestHistory,
  type TopTests,
  type TopTestsBy,
} from "../src/_internal.ts";
import { COMMON_OPTIONS, EXIT, UsageError, type CliContext } from "./context.ts";
import { duration, printable, table } from "./format.ts";

const FILTERS = {
  status: { type: "string", multiple: true },
  since: { type: "string" },
  until: { type: "string" },
  label: { type: "string", multiple: true },
} as const;

/** Options of `runs history` and `runs top`. */
export const HISTORY_OPTIONS = { ...COMMON_OPTIONS, ...FILTERS, limit: { type: "string" } } as const;
export const TOP_OPTIONS = { ...HISTORY_OPTIONS, by: { type: "string" }, window: { type: "string" } } as const;

const FILTER_HELP = `  --status S       runs with this status only: passed, failed, errored or cancelled (repeatable)
  --since TIME     runs started at or after TIME (ISO 8601)
  --until TIME     runs started before TIME (ISO 8601)
  --label K=V      runs whose label matches (repeatable: all of them)`;

export const HISTORY_HELP = `Usage: guide-board runs history KEY [options]

One test's outcome in each of the last runs matching the filters, newest first (absent: the run
does not have the test), with the run its current failing streak started in, the last run it
passed in and its flake rate. KEY is the test key 'runs tests --json' prints (classname::name).

Options:
  --limit N        runs in the window (default ${HISTORY_WINDOW.default}, at most ${HISTORY_WINDOW.max})
${FILTER_HELP}`;

export const TOP_HELP = `Usage: guide-board runs top --by failures|flaky|slow [options]

Tests ranked over the last runs matching the filters: most failures, highest flake rate, or
longest mean duration.

Options:
  --by WHAT        failures, flaky or slow (required)
  --window N       runs in the window (default ${HISTORY_WINDOW.default}, at most ${HISTORY_WINDOW.max})
  --limit M        tests shown (default ${TOP_TESTS.default}, at most ${TOP_TESTS.max})
${FILTER_HELP}`;

type Values = Record<string, string | string[] | boolean | undefined>;

/** `guide-board runs history KEY`. */
export async function historyCommand(values: Values, positionals: string[], runsDir: string[], ctx: CliContext) {
  if (positionals.length !== 1 || positionals[0] === "") throw new UsageError("expected exactly one test KEY");
  const limit = _count(values.limit, "--limit", HISTORY_WINDOW.max);
  const history = await testHistory({ runsDir }, positionals[0]!, { filters: _filters(values), limit });
  if (values.json) ctx.stdout.write(toJSONText(history));
  else _printHistory(history, ctx);
  return EXIT.ok;
}

/** `guide-board runs top --by failures|flaky|slow`. */
export async function topCommand(values: Values, positionals: string[], runsDir: string[], ctx: CliContext) {
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${printable(positionals[0]!)}'`);
  const by = values.by as string | undefined;
  if (!TOP_TESTS_BY.includes(by as TopTestsBy)) throw new UsageError("--by takes failures, flaky or slow");
  const window = _count(values.window, "--window", HISTORY_WINDOW.max);
  const limit = _count(values.limit, "--limit", TOP_TESTS.max);
  const top = await topTests({ runsDir }, { by: by as TopTestsBy, filters: _filters(values), window, limit });
  if (values.json) ctx.stdout.write(toJSONText(top));
  else _printTop(top, ctx);
  return EXIT.ok;
}

/** `failing since RUN (N runs)` or why not, for a table cell. */
export function failingSinceText(since: TestHistory["failingSince"] | undefined): string {
  return since ? `failing since ${since.runId} (${since.runs} run${since.runs === 1 ? "" : "s"})` : "";
}

function _printHistory(history: TestHistory, ctx: CliContext): void {
  const out = (text: string) => ctx.stdout.write(`${text}\n`);
  out(`Test ${printable(history.key)} over ${history.window.runs} run(s)`);
  if (history.classname === null) out("Not in any run of the window.");
  const since = history.failingSince;
  const edge = since !== null && since.runId === history.runs[history.runs.length - 1]?.runId;
  const more = edge ? ", from the window's oldest run: maybe earlier" : "";
  out(since ? `Failing since ${printable(since.runId)} (${since.runs} runs${more})` : "Not failing");
  out(`Last passed: ${history.lastPassed ? printable(history.lastPassed.runId) : "-"}`);
  out(`Flake rate: ${(history.flakeRate * 100).toFixed(1)}%`);
  if (history.runs.length === 0) return;
  const rows = history.runs.map((run) => [
    run.runId,
    run.startedAt,
    run.status,
    run.durationMs === null ? "-" : duration(Math.round(run.durationMs)),
    _oneLine(run.message ?? ""),
  ]);
  out(table(["RUN", "STARTED", "STATUS", "DURATION", "MESSAGE"], rows));
}

function _printTop(top: TopTests, ctx: CliContext): void {
  const out = (text: string) => ctx.stdout.write(`${text}\n`);
  out(`Top tests by ${top.by} over ${top.window.runs} run(s)`);
  if (top.tests.length === 0) {
    out(
      top.by === "slow"
        ? "No timed tests in the window."
        : `No ${top.by === "flaky" ? "flaky" : "failing"} tests in the window.`,
    );
    return;
  }
  const rows = top.tests.map((test) => [
    test.key,
    String(test.runs),
    String(test.failures),
    String(test.flaky),
    `${(test.flakeRate * 100).toFixed(1)}%`,
    duration(Math.round(test.meanDurationMs)),
    test.lastStatus,
  ]);
  out(table(["TEST", "RUNS", "FAILURES", "FLAKY", "FLAKE RATE", "MEAN", "LAST"], rows));
}

function _oneLine(text: string): string {
  const line = text.split(/\r?\n/, 1)[0] ?? "";
  return line.length > 120 ? `${line.slice(0, 119)}…` : line;
}

function _filters(values: Values): RunFilters {
  const filters: RunFilters = {};
  if (values.status) filters.status = values.status as RunStatus[];
  if (values.label) filters.label = values.label as string[];
  if (values.since !== undefined) filters.since = values.since as string;
  if (values.until !== undefined) filters.until = values.until as string;
  return filters;
}

function _count(value: unknown, option: string, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || !/^[1-9]\d{0,5}$/.test(value) || Number(value) > max) {
    throw new UsageError(`${option} takes a whole number from 1 to ${max}`);
  }
  return Number(value);
}
