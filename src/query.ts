import { z } from "zod";
import { GuideBoardError } from "./errors.ts";
import { isRunId } from "./run-id.ts";
import type { RunKey } from "./run.ts";
import { describeIssue, runStatusSchema, timestampSchema, toEpochMs, type RunStatus } from "./summary.ts";

/** A label selector, `key=value`; the key is everything before the first `=`. */
export const labelSelectorSchema = z.string().regex(/^[^=]+=/, "expected key=value");

const timeBound = z.union([timestampSchema, z.date()]);

/** Filters shared by `listRetainedRuns`, `latestRun`, the CLI and the HTTP query. */
export const runFiltersSchema = z.object({
  status: z.union([runStatusSchema, z.array(runStatusSchema)]).optional(),
  since: timeBound.optional(),
  until: timeBound.optional(),
  label: z.union([labelSelectorSchema, z.array(labelSelectorSchema)]).optional(),
});

/**
 * Page size of `GET /retained-runs` and `guide-board runs list` when no `limit` is given: the
 * HTTP route and the CLI page alike, so their answers are the same bytes at their defaults.
 */
export const DEFAULT_LIST_LIMIT = 100;

/** Largest `limit` `GET /retained-runs` and `guide-board runs list` accept. */
export const MAX_LIST_LIMIT = 1000;

/** Filters plus keyset pagination. */
export const listQuerySchema = runFiltersSchema.extend({
  limit: z.number().int().min(1).optional(),
  cursor: z.string().optional(),
});

/** Filters on retained runs; all given filters must match. */
export interface RunFilters {
  /** One status, or any of several. */
  status?: RunStatus | readonly RunStatus[];
  /** Runs that started at or after this instant (ISO 8601 or a Date). */
  since?: string | Date;
  /** Runs that started before this instant (exclusive, so windows tile). */
  until?: string | Date;
  /** `key=value` selectors; every one must match the run's labels. */
  label?: string | readonly string[];
}

/** Filters plus a page size and the `nextCursor` of the previous page. */
export interface ListQuery extends RunFilters {
  limit?: number;
  cursor?: string;
}

/** A validated query, ready to test runs against. */
export interface CompiledQuery {
  matches(entry: RunKey): boolean;
  limit: number;
  /** The cursor's sort key: matching runs sort after it. */
  after: { startedAtMs: number; runId: string } | null;
}

/** Validates a query and compiles it to a predicate; bad input throws `INVALID_OPTIONS`/`INVALID_CURSOR`. */
export function compileQuery(query: ListQuery): CompiledQuery {
  let parsed: ReturnType<typeof listQuerySchema.safeParse>;
  try {
    parsed = listQuerySchema.safeParse(query ?? {});
  } catch {
    throw new GuideBoardError("INVALID_OPTIONS", "Invalid options: they could not be read.");
  }
  if (!parsed.success) throw new GuideBoardError("INVALID_OPTIONS", `Invalid option ${describeIssue(parsed.error)}`);
  const { status, since, until, label, limit, cursor } = parsed.data;
  const statuses = status === undefined ? null : new Set<string>([status].flat());
  const sinceMs = since === undefined ? -Infinity : _ms(since);
  const untilMs = until === undefined ? Infinity : _ms(until);
  const labels = [label ?? []].flat().map((selector) => {
    const at = selector.indexOf("=");
    return [selector.slice(0, at), selector.slice(at + 1)] as const;
  });
  const after = cursor === undefined ? null : decodeCursor(cursor);
  return {
    after,
    limit: limit ?? Infinity,
    matches: (entry) =>
      (statuses === null || statuses.has(entry.run.status)) &&
      entry.startedAtMs >= sinceMs &&
      entry.startedAtMs < untilMs &&
      labels.every(([key, value]) => Object.hasOwn(entry.run.labels, key) && entry.run.labels[key] === value) &&
      (after === null || compareKeys(entry.startedAtMs, entry.run.runId, after.startedAtMs, after.runId) > 0),
  };
}

/** Newest first by `startedAt`, then by run id, descending. Negative when run A comes first. */
export function compareKeys(aMs: number, aId: string, bMs: number, bId: string): number {
  if (aMs !== bMs) return bMs - aMs;
  return aId === bId ? 0 : aId < bId ? 1 : -1;
}

/** {@link compareKeys} for two run entries, for `Array.prototype.sort`. */
export function compareEntries(a: RunKey, b: RunKey): number {
  return compareKeys(a.startedAtMs, a.run.runId, b.startedAtMs, b.run.runId);
}

/**
 * The opaque cursor after `entry`: its sort key, not an offset, so pages stay right while runs come
 * and go. The instant is the number as JavaScript prints it (`1e-7` within a microsecond of 1970).
 */
export function encodeCursor(entry: RunKey): string {
  return Buffer.from(`1:${entry.startedAtMs}:${entry.run.runId}`, "utf8").toString("base64url");
}

/** Decodes a cursor made by {@link encodeCursor}; anything else throws `INVALID_CURSOR`. */
export function decodeCursor(cursor: string): { startedAtMs: number; runId: string } {
  if (cursor.length > 1024)
    throw new GuideBoardError("INVALID_CURSOR", "Invalid cursor: pass the nextCursor of a previous page.");
  const match = /^1:(-?\d{1,16}(?:\.\d{1,20})?(?:e-\d{1,3})?):(.+)$/.exec(
    Buffer.from(cursor, "base64url").toString("utf8"),
  );
  if (!match || !isRunId(match[2]) || !/^[A-Za-z0-9_-]*$/.test(cursor)) {
    throw new GuideBoardError("INVALID_CURSOR", "Invalid cursor: pass the nextCursor of a previous page.");
  }
  return { startedAtMs: Number(match[1]), runId: match[2] };
}

function _ms(bound: string | Date): number {
  const ms = typeof bound === "string" ? toEpochMs(bound) : bound.getTime();
  if (Number.isNaN(ms)) throw new GuideBoardError("INVALID_OPTIONS", "Invalid option since/until: not a valid time.");
  return ms;
}
