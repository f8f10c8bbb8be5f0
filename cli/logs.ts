import { promises as fsp } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { join } from "node:path";
import {
  findRunFolder,
  getRetainedRun,
  GuideBoardError,
  listRunLogs,
  MAX_TAIL_LINES,
  openConventionalLog,
  openRunLog,
  readLogTail,
  SUMMARY_FILE,
  toJSONText,
  type RetainedRun,
  type RunsOptions,
} from "../src/_internal.ts";
import { COMMON_OPTIONS, EXIT, UsageError, type CliContext } from "./context.ts";
import { createTerminalFilter } from "./terminal.ts";

/** Options of `runs logs`. */
export const LOGS_OPTIONS = {
  ...COMMON_OPTIONS,
  log: { type: "string" },
  tail: { type: "string" },
  follow: { type: "boolean", short: "f", default: false },
} as const;

export const LOGS_HELP = `Usage: guide-board runs logs RUN [options]

Print a run's log: the first it declares (stdout for runs recorded by 'guide-board run').
To a terminal, control sequences other than colours are shown as text; to a pipe or a file the
bytes go out as they are.

Options:
  --log ID         the log to print (see --json for the list)
  --tail N         only the last N lines
  -f, --follow     wait for a run that is still being written: print its output as it grows,
                   and exit with the run's status once its summary appears (0 passed, the
                   command's exit code when it failed, 124 errored, 130 cancelled)
  --runs-dir DIR   runs directory (repeatable; default $GUIDE_BOARD_RUNS_DIR or ./runs)
  --json           print the run's logs (id, path, size, state) instead
  -h, --help       show this help`;

/** How often `--follow` looks for new output and for the summary. */
const FOLLOW_POLL_MS = 100;
const CHUNK = 256 * 1024;

type Values = { log?: string; tail?: string; follow?: boolean; json?: boolean };
type Out = { write(chunk: string | Uint8Array): unknown; isTTY?: boolean };

/** `guide-board runs logs RUN`. */
export async function logsCommand(values: Values, runsDir: string[], runId: string, ctx: CliContext): Promise<number> {
  const runs: RunsOptions = { runsDir };
  const tail = _tail(values.tail);
  if (values.json) {
    ctx.stdout.write(toJSONText(await listRunLogs(runs, runId)));
    return EXIT.ok;
  }
  const out = ctx.stdout as Out;
  const filter = out.isTTY ? createTerminalFilter() : null;
  const print = (bytes: Uint8Array) => {
    if (bytes.length > 0) out.write(filter ? filter.write(bytes) : bytes);
  };
  const folder = values.follow ? findRunFolder(runs, runId) : { runDir: "", retained: true };
  let handle: FileHandle;
  if (folder.retained) {
    let logId = values.log;
    if (logId === undefined) {
      logId = (await listRunLogs(runs, runId)).logs[0]?.id;
      if (logId === undefined) throw new GuideBoardError("LOG_NOT_FOUND", `Run ${runId} declares no logs.`, { runId });
    }
    ({ handle } = (await openRunLog(runs, runId, logId)).file);
  } else {
    handle = await _waitForLog(folder.runDir, values.log ?? "stdout");
  }
  try {
    let position = 0;
    if (tail !== undefined) {
      const found = await readLogTail(handle, { lines: tail });
      print(found.bytes);
      position = found.end;
    }
    position = await _copy(handle, position, print);
    if (!values.follow) return EXIT.ok;
    let run: RetainedRun | null = folder.retained ? await getRetainedRun(runs, runId) : null;
    while (run === null) {
      await new Promise((resolve) => setTimeout(resolve, FOLLOW_POLL_MS));
      const summary = await fsp.lstat(join(folder.runDir, SUMMARY_FILE)).catch(() => null);
      // The summary is written last: once it exists, the log is complete.
      if (summary?.isFile()) run = await getRetainedRun(runs, runId);
      position = await _copy(handle, position, print);
    }
    if (filter) out.write(filter.end());
    return exitCodeOf(run);
  } finally {
    await handle.close();
  }
}

/** A finished run's status as an exit code, as `guide-board run` maps it. */
export function exitCodeOf(run: Pick<RetainedRun, "status" | "exitCode">): number {
  if (run.status === "passed") return 0;
  if (run.status === "cancelled") return 130;
  if (run.status === "errored") return 124;
  return run.exitCode !== null && run.exitCode > 0 && run.exitCode < 256 ? run.exitCode : 1;
}

async function _copy(handle: FileHandle, from: number, print: (bytes: Uint8Array) => void): Promise<number> {
  const buffer = Buffer.allocUnsafe(CHUNK);
  let position = from;
  for (;;) {
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
    if (bytesRead === 0) return position;
    print(Buffer.from(buffer.subarray(0, bytesRead)));
    position += bytesRead;
  }
}

/** The log of an incomplete run folder, once `guide-board run` has created it. */
async function _waitForLog(runDir: string, logId: string): Promise<FileHandle> {
  if (logId !== "stdout" && logId !== "stderr")
    throw new UsageError("a run still being written has only the logs stdout and stderr");
  for (;;) {
    try {
      return (await openConventionalLog(runDir, logId)).file.handle;
    } catch (error) {
      if (!(error instanceof GuideBoardError && error.code === "LOG_NOT_FOUND")) throw error;
      const folder = await fsp.lstat(runDir).catch(() => null);
      if (!folder?.isDirectory()) throw new GuideBoardError("RUN_NOT_FOUND", "The run folder went away.");
    }
    await new Promise((resolve) => setTimeout(resolve, FOLLOW_POLL_MS));
  }
}

function _tail(tail: string | undefined): number | undefined {
  if (tail === undefined) return undefined;
  if (!/^\d{1,6}$/.test(tail) || Number(tail) > MAX_TAIL_LINES)
    throw new UsageError(`--tail takes a whole number from 0 to ${MAX_TAIL_LINES}`);
  return Number(tail);
}
