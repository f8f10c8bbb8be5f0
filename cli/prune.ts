import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { hostname } from "node:os";
import { basename, dirname, join } from "node:path";
import {
  listRetainedRuns,
  runStatusSchema,
  toJSONText,
  TOOL_PREFIX,
  toEpochMs,
  type RetainedRun,
  type RunStatus,
} from "../src/_internal.ts";
import { randomSuffix } from "./_write.ts";
import { loadConfig, parseDuration, type Retention } from "./config.ts";
import { COMMON_OPTIONS, EXIT, fail, parse, runsDirsOf, UsageError, type CliContext } from "./context.ts";
import { printable, table } from "./format.ts";

/** Written into a run folder while `guide-board run` works on it: `{ pid, host }`. */
export const WRITER_FILE = ".guide-board-writer.json";

const DEFAULT_INCOMPLETE_GRACE_MS = 24 * 3_600_000;

/** One decision of a prune. */
export interface PruneDecision {
  runId: string;
  runsDir: string;
  reason: string;
}

/**
 * Which retained runs a policy removes, newest first in, decisions out. A run goes when it is
 * beyond `keepLast` or older than `maxAge`, unless it is protected: pinned (label `pinned=true`
 * or a `.pinned` file), the newest run of its status (what `latestRun` points at), or among the
 * newest `keepStatuses[status]` runs of its status.
 */
export function planPrune(
  runs: RetainedRun[],
  policy: Retention,
  now: number,
  isPinned: (run: RetainedRun) => boolean,
): PruneDecision[] {
  const seen = new Map<RunStatus, number>();
  const decisions: PruneDecision[] = [];
  runs.forEach((run, rank) => {
    const ofStatus = (seen.get(run.status) ?? 0) + 1;
    seen.set(run.status, ofStatus);
    const age = now - toEpochMs(run.finishedAt ?? run.startedAt);
    const why: string[] = [];
    if (policy.keepLast !== undefined && rank >= policy.keepLast) why.push(`beyond the newest ${policy.keepLast}`);
    if (policy.maxAge !== undefined && age > policy.maxAge) why.push(`older than ${_days(policy.maxAge)}`);
    if (why.length === 0) return;
    if (ofStatus === 1 || isPinned(run) || ofStatus <= (policy.keepStatuses?.[run.status] ?? 0)) return;
    decisions.push({ runId: run.runId, runsDir: dirname(run.runDir), reason: why.join(", ") });
  });
  return decisions;
}

/** Removes a folder so it vanishes from listings at once: renamed out of the way, then deleted. */
export function removeFolder(runsDir: string, name: string): void {
  const trash = join(runsDir, `${TOOL_PREFIX}trash-${name.slice(0, 64)}-${randomSuffix()}`);
  renameSync(join(runsDir, name), trash);
  rmSync(trash, { recursive: true, force: true });
}

const PRUNE_OPTIONS = {
  ...COMMON_OPTIONS,
  "keep-last": { type: "string" },
  "max-age": { type: "string" },
  "keep-status": { type: "string", multiple: true },
  "incomplete-grace": { type: "string" },
  "dry-run": { type: "boolean", default: false },
  config: { type: "string" },
} as const;

const HELP = `Usage: guide-board prune [options]

Remove retained runs that the retention policy lets go, and incomplete folders older than a grace
period. Never removes pinned runs (label pinned=true or a .pinned file) or the newest run of each
status. Flags override the config's "retention".

Options:
  --keep-last N           keep the newest N runs
  --max-age D             remove runs that finished more than D ago (e.g. 30d, 12h)
  --keep-status S=N       always keep the newest N runs with status S (repeatable)
  --incomplete-grace D    remove incomplete folders untouched for D (default 24h)
  --dry-run               list what would go, remove nothing
  --runs-dir DIR          runs directory (repeatable)
  --config FILE           config file (default ./guide-board.config.json)
  --json                  print the decisions as JSON
  -h, --help              show this help`;

/** `guide-board prune`. */
export async function pruneCommand(args: string[], ctx: CliContext): Promise<number> {
  let json = args.includes("--json");
  try {
    const { values, positionals } = parse(args, PRUNE_OPTIONS);
    json = values.json === true;
    if (values.help) {
      ctx.stdout.write(`${HELP}\n`);
      return EXIT.ok;
    }
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${printable(positionals[0]!)}'`);
    const config = loadConfig(ctx.cwd, values.config);
    const policy = _policy(config.retention, values);
    const runsDirs = runsDirsOf(values, ctx, () => config.runsDir);
    const now = Date.now();
    const { runs, diagnostics } = await listRetainedRuns({ runsDir: runsDirs });
    const remove = planPrune(runs, policy, now, _isPinned);
    const grace = policy.incompleteGrace ?? DEFAULT_INCOMPLETE_GRACE_MS;
    const incomplete: PruneDecision[] = diagnostics
      .filter((d) => d.kind === "incomplete" && d.entry !== null && _idleFor(join(d.runsDir, d.entry), now) > grace)
      .map((d) => ({
        runId: d.entry!,
        runsDir: d.runsDir,
        reason: `incomplete, untouched for more than ${_days(grace)}`,
      }));
    const removed: PruneDecision[] = [];
    const failed: PruneDecision[] = [];
    if (!values["dry-run"]) {
      for (const decision of [...remove, ...incomplete]) {
        try {
          removeFolder(decision.runsDir, decision.runId);
          removed.push(decision);
        } catch (error) {
          failed.push({ ...decision, reason: `could not remove: ${(error as NodeJS.ErrnoException).code ?? "error"}` });
        }
      }
      for (const runsDir of runsDirs) if (existsSync(runsDir)) _emptyTrash(runsDir);
    }
    const removedRuns = values["dry-run"] ? remove.length : removed.filter((d) => remove.includes(d)).length;
    const result = {
      dryRun: values["dry-run"],
      removed: values["dry-run"] ? [...remove, ...incomplete] : removed,
      failed,
      kept: runs.length - removedRuns,
    };
    if (json) ctx.stdout.write(toJSONText(result));
    else _print(result, policy, ctx);
    return failed.length > 0 ? EXIT.notFound : EXIT.ok;
  } catch (error) {
    return fail(error, ctx, json, "guide-board prune");
  }
}

function _policy(base: Retention, values: Record<string, unknown>): Retention {
  const policy: Retention = { ...base, keepStatuses: { ...base.keepStatuses } };
  if (typeof values["keep-last"] === "string") {
    if (!/^[1-9]\d*$/.test(values["keep-last"])) throw new UsageError("--keep-last takes a whole number from 1");
    policy.keepLast = Number(values["keep-last"]);
  }
  for (const [flag, key] of [
    ["max-age", "maxAge"],
    ["incomplete-grace", "incompleteGrace"],
  ] as const) {
    if (typeof values[flag] !== "string") continue;
    const ms = parseDuration(values[flag]);
    if (ms === null) throw new UsageError(`--${flag} takes a duration such as 30d or 12h`);
    policy[key] = ms;
  }
  for (const item of (values["keep-status"] as string[] | undefined) ?? []) {
    const [status, count] = item.split("=");
    const parsed = runStatusSchema.safeParse(status);
    if (!parsed.success || !/^\d+$/.test(count ?? ""))
      throw new UsageError("--keep-status takes STATUS=N, e.g. failed=3");
    policy.keepStatuses![parsed.data] = Number(count);
  }
  return policy;
}

function _isPinned(run: RetainedRun): boolean {
  return run.labels.pinned === "true" || existsSync(join(run.runDir, ".pinned"));
}

/** Milliseconds since anything in an incomplete folder changed; a live writer on this host keeps it at 0. */
function _idleFor(runDir: string, now: number): number {
  try {
    const writer = JSON.parse(readFileSync(join(runDir, WRITER_FILE), "utf8")) as { pid?: unknown; host?: unknown };
    if (writer.host === hostname() && typeof writer.pid === "number" && _alive(writer.pid)) return 0;
  } catch {
    // No writer record (or unreadable): judge by modification times alone.
  }
  const times = [runDir, join(runDir, "logs", "stdout.log"), join(runDir, "logs", "stderr.log")].map(
    (path) => statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 0,
  );
  return now - Math.max(...times);
}

function _alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Deletes what an interrupted prune left behind. */
function _emptyTrash(runsDir: string): void {
  for (const name of readdirSync(runsDir)) {
    if (name.startsWith(`${TOOL_PREFIX}trash-`))
      rmSync(join(runsDir, basename(name)), { recursive: true, force: true });
  }
}

function _days(ms: number): string {
  return ms % 86_400_000 === 0
    ? `${ms / 86_400_000}d`
    : ms % 3_600_000 === 0
      ? `${ms / 3_600_000}h`
      : `${Math.round(ms / 1000)}s`;
}

function _print(
  result: { dryRun: boolean; removed: PruneDecision[]; failed: PruneDecision[]; kept: number },
  policy: Retention,
  ctx: CliContext,
): void {
  if (policy.keepLast === undefined && policy.maxAge === undefined) {
    ctx.stderr.write("guide-board: no keepLast or maxAge set: only incomplete folders are pruned.\n");
  }
  const verb = result.dryRun ? "Would remove" : "Removed";
  if (result.removed.length === 0) ctx.stdout.write(`Nothing to remove; ${result.kept} retained run(s) kept.\n`);
  else {
    ctx.stdout.write(
      `${table(
        ["RUN", "WHY"],
        result.removed.map((d) => [d.runId, d.reason]),
      )}\n`,
    );
    ctx.stdout.write(`${verb} ${result.removed.length} folder(s); ${result.kept} retained run(s) kept.\n`);
  }
  for (const d of result.failed) ctx.stderr.write(`guide-board: ${printable(d.runId)}: ${d.reason}\n`);
}
