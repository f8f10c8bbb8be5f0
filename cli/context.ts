import { delimiter, resolve } from "node:path";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { GuideBoardError, isGuideBoardError, toJSONText, type GuideBoardErrorCode } from "../src/_internal.ts";
import { printable } from "./format.ts";

/** What `main` runs with; tests pass their own streams, env and cwd. */
export interface CliContext {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  env: Record<string, string | undefined>;
  cwd: string;
}

/** Exit codes, chosen on purpose: 0 ok, 1 not found, 2 bad usage or unsafe input. */
export const EXIT = { ok: 0, notFound: 1, usage: 2 } as const;

const EXIT_BY_CODE: Record<GuideBoardErrorCode, number> = {
  INVALID_RUN_ID: EXIT.usage,
  INVALID_OPTIONS: EXIT.usage,
  INVALID_CURSOR: EXIT.usage,
  UNSAFE_PATH: EXIT.usage,
  RUN_NOT_FOUND: EXIT.notFound,
  REPORT_NOT_FOUND: EXIT.notFound,
  ARTIFACT_NOT_FOUND: EXIT.notFound,
  LOG_NOT_FOUND: EXIT.notFound,
  MANIFEST_INVALID: EXIT.notFound,
  STORAGE_UNAVAILABLE: EXIT.notFound,
};

/** Raised for a bad command line; printed as one line plus a hint to `--help`. */
export class UsageError extends Error {}

/** Options every `runs` command takes. */
export const COMMON_OPTIONS = {
  "runs-dir": { type: "string", multiple: true },
  json: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
} as const satisfies ParseArgsConfig["options"];

/** `parseArgs`, strict, with errors turned into {@link UsageError}. */
export function parse<O extends NonNullable<ParseArgsConfig["options"]>>(args: string[], options: O) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(printable((error as Error).message.replace(/\s*\n\s*/g, " ")));
  }
}

/**
 * `--runs-dir` (repeatable), else `GUIDE_BOARD_RUNS_DIR` (path-delimited), else the config's
 * `runsDir` (read only when needed), else `./runs`.
 */
export function runsDirsOf(
  values: { "runs-dir"?: string[] | undefined },
  ctx: CliContext,
  configRunsDir: () => string[] | undefined,
): string[] {
  const given = values["runs-dir"]?.length
    ? values["runs-dir"]
    : (ctx.env.GUIDE_BOARD_RUNS_DIR?.split(delimiter).filter(Boolean) ?? []);
  if (given.length > 0) return given.map((dir) => resolve(ctx.cwd, dir));
  return configRunsDir() ?? [resolve(ctx.cwd, "runs")];
}

/** Prints an error the way the command line promises and returns its exit code. */
export function fail(error: unknown, ctx: CliContext, json: boolean, helpHint: string): number {
  if (error instanceof UsageError) {
    if (json) ctx.stdout.write(toJSONText(new GuideBoardError("INVALID_OPTIONS", error.message).toJSON()));
    ctx.stderr.write(`guide-board: ${error.message}\nRun '${helpHint} --help' for usage.\n`);
    return EXIT.usage;
  }
  if (!isGuideBoardError(error)) {
    const message = "Unexpected internal error; nothing was changed.";
    if (json) ctx.stdout.write(toJSONText({ error: { code: "INTERNAL_ERROR", message } }));
    ctx.stderr.write(`guide-board: ${message}\n`);
    return EXIT.notFound;
  }
  if (json) ctx.stdout.write(toJSONText(error.toJSON()));
  ctx.stderr.write(`guide-board: ${printable(error.message)}\n`);
  return EXIT_BY_CODE[error.code];
}
