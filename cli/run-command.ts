import { resolve } from "node:path";
import { isRunId, labelSelectorSchema } from "../src/_internal.ts";
import { loadConfig, parseDuration } from "./config.ts";
import { COMMON_OPTIONS, EXIT, fail, parse, runsDirsOf, UsageError, type CliContext } from "./context.ts";
import { printable } from "./format.ts";
import { recordRun, reportOutcome } from "./run.ts";

const RUN_OPTIONS = {
  ...COMMON_OPTIONS,
  label: { type: "string", multiple: true },
  timeout: { type: "string" },
  config: { type: "string" },
  "run-id": { type: "string" },
} as const;

const HELP = `Usage: guide-board run NAME [options]
       guide-board run [options] -- COMMAND [ARGS...]

Run a guide from guide-board.config.json, or an ad-hoc command, as a recorded run in
<runs-dir>/<run-id>/. Its reports (reports/*), artifacts (assessment-package/**, hashed into
artifact-manifest.json) and logs are kept; retention-summary.json is written last.

The command sees GUIDE_BOARD_RUN_ID, GUIDE_BOARD_RUN_DIR, GUIDE_BOARD_REPORTS_DIR,
GUIDE_BOARD_ARTIFACTS_DIR and GUIDE_BOARD_SUBMISSION_FILE.

Options:
  --runs-dir DIR   runs directory (default $GUIDE_BOARD_RUNS_DIR, the config's runsDir, or ./runs)
  --label K=V      add a label (repeatable; adds to the guide's labels)
  --timeout D      stop the command after D (e.g. 90s, 30m, 2h); the run is errored
  --config FILE    config file (default ./guide-board.config.json)
  --run-id ID      use this new run id instead of a generated one
  --json           print the retained run object at the end
  -h, --help       show this help

Exit code: the run's: 0 passed, the command's exit code when it failed, 124 timed out,
126/127 could not start, 130 cancelled (SIGINT/SIGTERM); 2 bad usage.`;

/** `guide-board run`. */
export async function runCommand(args: string[], ctx: CliContext & { signal?: AbortSignal }): Promise<number> {
  const split = args.indexOf("--");
  const own = split === -1 ? args : args.slice(0, split);
  const adHoc = split === -1 ? null : args.slice(split + 1);
  let json = own.includes("--json");
  try {
    const { values, positionals } = parse(own, RUN_OPTIONS);
    json = values.json === true;
    if (values.help) {
      ctx.stdout.write(`${HELP}\n`);
      return EXIT.ok;
    }
    if (values["run-id"] !== undefined && !isRunId(values["run-id"]))
      throw new UsageError("--run-id must follow the run-id rule");
    const config = loadConfig(ctx.cwd, values.config);
    let command: string[];
    let cwd = ctx.cwd;
    let env: Record<string, string> = {};
    let labels: Record<string, string> = {};
    let timeoutMs: number | undefined;
    if (adHoc !== null) {
      if (positionals.length > 0) throw new UsageError("give either a guide NAME or -- COMMAND, not both");
      if (adHoc.length === 0) throw new UsageError("expected a command after --");
      command = adHoc;
    } else {
      if (positionals.length !== 1) throw new UsageError("expected a guide NAME, or -- COMMAND [ARGS...]");
      const name = positionals[0]!;
      const guide = Object.hasOwn(config.guides, name) ? config.guides[name] : undefined;
      if (!guide)
        throw new UsageError(
          `no guide named '${printable(name)}' in ${config.path ?? "guide-board.config.json (no config file found)"}`,
        );
      command = guide.command;
      cwd = resolve(config.dir, guide.cwd ?? ".");
      env = guide.env ?? {};
      labels = { ...guide.labels, guide: name };
      timeoutMs = guide.timeout;
    }
    for (const selector of values.label ?? []) {
      if (!labelSelectorSchema.safeParse(selector).success)
        throw new UsageError(`--label takes key=value, got '${printable(selector)}'`);
      const at = selector.indexOf("=");
      labels[selector.slice(0, at)] = selector.slice(at + 1);
    }
    if (values.timeout !== undefined) {
      timeoutMs = parseDuration(values.timeout) ?? undefined;
      if (timeoutMs === undefined || timeoutMs <= 0)
        throw new UsageError("--timeout takes a duration such as 90s, 30m or 2h");
    }
    const [runsDir] = runsDirsOf(values, ctx, () => config.runsDir);
    const outcome = await recordRun(
      {
        runsDir: runsDir!,
        command,
        cwd,
        env: { ..._stringEnv(ctx.env), ...env },
        labels,
        timeoutMs,
        runId: values["run-id"],
      },
      ctx,
      ctx.signal,
      json,
    );
    await reportOutcome(outcome, runsDir!, ctx, json);
    return outcome.cliExitCode;
  } catch (error) {
    if (error instanceof Error && "code" in error && typeof (error as NodeJS.ErrnoException).syscall === "string") {
      ctx.stderr.write(
        `guide-board: run failed: ${printable((error as NodeJS.ErrnoException).code ?? error.message)} (${printable(error.message)})\n`,
      );
      return 1;
    }
    return fail(error, ctx, json, "guide-board run");
  }
}

function _stringEnv(env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
}
