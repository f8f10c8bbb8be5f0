import {
  artifactManifest,
  DEFAULT_LIST_LIMIT,
  getRetainedRun,
  latestRun,
  listRetainedRuns,
  MAX_LIST_LIMIT,
  reportPaths,
  toJSONText,
  type Diagnostic,
  type RunStatus,
} from "../src/_internal.ts";
import { loadConfig } from "./config.ts";
import { listAll } from "./list-all.ts";
import { COMMON_OPTIONS, EXIT, fail, parse, runsDirsOf, UsageError, type CliContext } from "./context.ts";
import { LOGS_HELP, LOGS_OPTIONS, logsCommand } from "./logs.ts";
import { bytes, printable, RUN_COLUMNS, runDetails, runRow, table } from "./format.ts";
import {
  COMPARE_HELP,
  COMPARE_OPTIONS,
  compareCommand,
  TESTS_HELP,
  TESTS_OPTIONS,
  testsCommand,
} from "./test-results.ts";
import { HISTORY_HELP, HISTORY_OPTIONS, historyCommand, TOP_HELP, TOP_OPTIONS, topCommand } from "./test-history.ts";

const FILTER_OPTIONS = {
  ...COMMON_OPTIONS,
  status: { type: "string", multiple: true },
  since: { type: "string" },
  until: { type: "string" },
  label: { type: "string", multiple: true },
} as const;

const LIST_OPTIONS = {
  ...FILTER_OPTIONS,
  limit: { type: "string" },
  cursor: { type: "string" },
  all: { type: "boolean", default: false },
} as const;

const COMMON_HELP = `  --runs-dir DIR   runs directory (repeatable; default $GUIDE_BOARD_RUNS_DIR or ./runs)
  --json           print the library's JSON object instead of a table
  -h, --help       show this help`;

const FILTER_HELP = `  --status S       passed, failed, errored or cancelled (repeatable: any of them)
  --since TIME     started at or after TIME (ISO 8601)
  --until TIME     started before TIME (ISO 8601)
  --label K=V      label must match (repeatable: all of them)`;

const HELP: Record<string, string> = {
  runs: `Usage: guide-board runs <command> [options]

Commands:
  list             list retained runs, newest first
  latest           the newest retained run (optionally with --status)
  show RUN         one run
  reports RUN      a run's reports
  manifest RUN     a run's artifact manifest (or why it has none)
  logs RUN         a run's log (--tail N, --follow a run still being written)
  tests RUN        a run's test results: totals and failing tests (--status)
  compare BASE HEAD  what changed between two runs; exit 1 on new failures (--fail-on)
  history KEY      one test's outcomes over the last runs: failing since, last passed, flake rate
  top --by WHAT    tests ranked over the last runs by failures, flaky or slow

Run 'guide-board runs <command> --help' for a command's options.`,
  list: `Usage: guide-board runs list [options]

List retained runs, newest first by start time, then run id: ${DEFAULT_LIST_LIMIT} a page unless --limit
says otherwise, like GET /retained-runs, and the cursor of the next page when more remain.

Options:
${FILTER_HELP}
  --limit N        at most N runs per page (1 to ${MAX_LIST_LIMIT}; default ${DEFAULT_LIST_LIMIT})
  --cursor C       the next page: the cursor a previous page printed (same filters)
  --all            every run, printed as it is read (not with --limit or --cursor)
${COMMON_HELP}`,
  latest: `Usage: guide-board runs latest [options]

Show the newest retained run matching the filters. Exit 1 when there is none.

Options:
${FILTER_HELP}
${COMMON_HELP}`,
  show: `Usage: guide-board runs show RUN [options]\n\nShow one retained run. Exit 1 when it is not retained.\n\nOptions:\n${COMMON_HELP}`,
  reports: `Usage: guide-board runs reports RUN [options]

List a run's reports: id, media type, size, path and state, in summary order: ${DEFAULT_LIST_LIMIT} a page
unless --limit says otherwise, like GET /retained-runs/{runId}/reports, and the cursor of the next
page when more remain.

Options:
  --limit N        at most N reports per page (1 to ${MAX_LIST_LIMIT}; default ${DEFAULT_LIST_LIMIT})
  --cursor C       the next page: the cursor a previous page printed
${COMMON_HELP}`,
  logs: LOGS_HELP,
  tests: `${TESTS_HELP}\n${COMMON_HELP}`,
  compare: `${COMPARE_HELP}\n\nCommon options:\n${COMMON_HELP}`,
  history: `${HISTORY_HELP}\n${COMMON_HELP}`,
  top: `${TOP_HELP}\n${COMMON_HELP}`,
  manifest: `Usage: guide-board runs manifest RUN [options]\n\nShow a run's artifact manifest, or the compatibility marker that says why it has none.\n\nOptions:\n${COMMON_HELP}`,
};

/** `guide-board runs <command>`. */
export async function runsCommand(args: string[], ctx: CliContext): Promise<number> {
  const [command, ...rest] = args;
  if (command === undefined || command === "--help" || command === "-h" || command === "help") {
    ctx.stdout.write(`${HELP.runs}\n`);
    return command === undefined ? EXIT.usage : EXIT.ok;
  }
  const run = COMMANDS[command];
  if (!run) {
    ctx.stderr.write(
      `guide-board: unknown command 'runs ${printable(command)}'\nRun 'guide-board runs --help' for usage.\n`,
    );
    return EXIT.usage;
  }
  let json = rest.includes("--json");
  try {
    const parsed = parse(rest, OPTIONS_BY_COMMAND[command] ?? COMMON_OPTIONS);
    json = parsed.values.json === true;
    if (parsed.values.help) {
      ctx.stdout.write(`${HELP[command]}\n`);
      return EXIT.ok;
    }
    return await run(parsed.values as Values, parsed.positionals, ctx);
  } catch (error) {
    return fail(error, ctx, json, `guide-board runs ${command}`);
  }
}

type Values = {
  "runs-dir"?: string[];
  json?: boolean;
  status?: string[];
  since?: string;
  until?: string;
  label?: string[];
  limit?: string;
  cursor?: string;
  all?: boolean;
  log?: string;
  tail?: string;
  follow?: boolean;
};

const OPTIONS_BY_COMMAND: Record<string, typeof COMMON_OPTIONS> = {
  list: LIST_OPTIONS,
  latest: FILTER_OPTIONS,
  tests: TESTS_OPTIONS,
  compare: COMPARE_OPTIONS as unknown as typeof COMMON_OPTIONS,
  logs: LOGS_OPTIONS,
  reports: { ...COMMON_OPTIONS, limit: { type: "string" }, cursor: { type: "string" } } as typeof COMMON_OPTIONS,
  history: HISTORY_OPTIONS as unknown as typeof COMMON_OPTIONS,
  top: TOP_OPTIONS as unknown as typeof COMMON_OPTIONS,
};

const COMMANDS: Record<string, (values: Values, positionals: string[], ctx: CliContext) => Promise<number>> = {
  tests: (values, positionals, ctx) => testsCommand(values, positionals, _dirs(values, ctx), ctx),
  compare: (values, positionals, ctx) => compareCommand(values, positionals, _dirs(values, ctx), ctx),
  history: (values, positionals, ctx) => historyCommand(values, positionals, _dirs(values, ctx), ctx),
  top: (values, positionals, ctx) => topCommand(values, positionals, _dirs(values, ctx), ctx),
  async list(values, positionals, ctx) {
    _noPositionals(positionals);
    if (values.all && (values.limit !== undefined || values.cursor !== undefined))
      throw new UsageError("--all prints every run: it takes no --limit or --cursor");
    const runsDir = _dirs(values, ctx);
    if (values.all) {
      const diagnostics = await listAll(ctx, { runsDir, ..._filters(values), json: values.json === true });
      if (!values.json) _diagnostics(ctx, diagnostics);
      return EXIT.ok;
    }
    const page = await listRetainedRuns({
      runsDir,
      ..._filters(values),
      limit: _limit(values.limit) ?? DEFAULT_LIST_LIMIT,
      cursor: values.cursor,
    });
    if (values.json) return _json(ctx, page);
    if (page.runs.length === 0) ctx.stdout.write(`No retained runs in ${printable(runsDir.join(", "))}.\n`);
    else {
      ctx.stdout.write(`${table(RUN_COLUMNS, page.runs.map(runRow))}\n`);
    }
    if (page.nextCursor) ctx.stdout.write(`next page: --cursor ${printable(page.nextCursor)}\n`);
    _diagnostics(ctx, page.diagnostics);
    return EXIT.ok;
  },
  async latest(values, positionals, ctx) {
    _noPositionals(positionals);
    const run = await latestRun({ runsDir: _dirs(values, ctx), ..._filters(values) });
    if (values.json) {
      ctx.stdout.write(toJSONText(run));
      return run === null ? EXIT.notFound : EXIT.ok;
    }
    if (run === null) {
      ctx.stderr.write("guide-board: no retained run matches.\n");
      return EXIT.notFound;
    }
    ctx.stdout.write(`${runDetails(run)}\n`);
    return EXIT.ok;
  },
  async show(values, positionals, ctx) {
    const run = await getRetainedRun({ runsDir: _dirs(values, ctx) }, _runId(positionals));
    if (values.json) return _json(ctx, run);
    ctx.stdout.write(`${runDetails(run)}\n`);
    return EXIT.ok;
  },
  async reports(values, positionals, ctx) {
    const page = { limit: _limit(values.limit) ?? DEFAULT_LIST_LIMIT, cursor: values.cursor };
    const list = await reportPaths({ runsDir: _dirs(values, ctx) }, _runId(positionals), page);
    if (values.json) return _json(ctx, list);
    if (list.reports.length === 0) ctx.stdout.write("This run lists no reports.\n");
    else {
      const rows = list.reports.map((r) => [
        r.id,
        r.mediaType.split(";")[0]!,
        bytes(r.size),
        r.path,
        r.unsafe ? `unsafe (${r.reason})` : r.exists ? "ok" : "missing",
      ]);
      ctx.stdout.write(`${table(["ID", "TYPE", "SIZE", "PATH", "STATE"], rows)}\n`);
    }
    if (list.nextCursor) ctx.stdout.write(`next page: --cursor ${printable(list.nextCursor)}\n`);
    return EXIT.ok;
  },
  logs: (values, positionals, ctx) => logsCommand(values, _dirs(values, ctx), _runId(positionals), ctx),
  async manifest(values, positionals, ctx) {
    const manifest = await artifactManifest({ runsDir: _dirs(values, ctx) }, _runId(positionals));
    if (values.json) return _json(ctx, manifest);
    if (!manifest.available)
      ctx.stdout.write(`No artifact manifest (${manifest.reason}): ${printable(manifest.message)}\n`);
    else if (manifest.artifacts.length === 0) ctx.stdout.write("The artifact manifest lists no artifacts.\n");
    else {
      const rows = manifest.artifacts.map((a) => [
        a.path,
        bytes(a.size),
        a.sha256,
        a.unsafe ? `unsafe (${a.reason})` : a.exists ? "ok" : "missing",
      ]);
      ctx.stdout.write(`${table(["PATH", "SIZE", "SHA256", "STATE"], rows)}\n`);
    }
    return EXIT.ok;
  },
};

function _dirs(values: Values, ctx: CliContext): string[] {
  return runsDirsOf(values, ctx, () => loadConfig(ctx.cwd).runsDir);
}

function _json(ctx: CliContext, value: unknown): number {
  ctx.stdout.write(toJSONText(value));
  return EXIT.ok;
}

function _filters(values: Values) {
  return {
    status: values.status as RunStatus[] | undefined,
    since: values.since,
    until: values.until,
    label: values.label,
  };
}

function _limit(limit: string | undefined): number | undefined {
  if (limit === undefined) return undefined;
  if (!/^[1-9]\d{0,15}$/.test(limit) || Number(limit) > MAX_LIST_LIMIT)
    throw new UsageError(`--limit takes a whole number from 1 to ${MAX_LIST_LIMIT}`);
  return Number(limit);
}

function _runId(positionals: string[]): string {
  if (positionals.length !== 1) throw new UsageError("expected exactly one RUN argument");
  return positionals[0]!;
}

function _noPositionals(positionals: string[]): void {
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${printable(positionals[0]!)}'`);
}

function _diagnostics(ctx: CliContext, diagnostics: Diagnostic[]): void {
  if (diagnostics.length === 0) return;
  const counts = new Map<string, number>();
  for (const d of diagnostics) counts.set(d.kind, (counts.get(d.kind) ?? 0) + 1);
  const summary = [...counts].map(([kind, n]) => `${kind} ${n}`).join(", ");
  ctx.stderr.write(`Skipped ${diagnostics.length} folder(s): ${summary} (details with --json).\n`);
}
