import type { H3Event } from "h3";
import { z } from "zod";
import {
  GuideBoardError,
  HISTORY_WINDOW,
  testHistory,
  TOP_TESTS,
  TOP_TESTS_BY,
  topTests,
  type RunFilters,
  type RunIndex,
  type RunsOptions,
  type TopTestsBy,
} from "../src/_internal.ts";
import { jsonResult, latestQuerySchema, parseQuery, type HttpResult } from "./_http.ts";

const count = (max: number) => {
  const message = `expected a whole number from 1 to ${max}`;
  return z
    .tuple([
      z
        .string()
        .regex(/^[1-9]\d{0,5}$/, message)
        .refine((value) => Number(value) <= max, message),
    ])
    .transform(([value]) => Number(value));
};

/** `GET /tests/history` query: one `key`, one `limit` (runs, 1 to 500) and the run filters. */
export const historyQuerySchema = latestQuerySchema.extend({
  key: z.tuple([z.string().min(1, "expected a test key").max(4096)]).transform(([value]) => value),
  limit: count(HISTORY_WINDOW.max).optional(),
});

/** `GET /tests/top` query: one `by`, `window` (runs, 1 to 500), `limit` (tests, 1 to 1000) and the run filters. */
export const topQuerySchema = latestQuerySchema.extend({
  by: z.tuple([z.enum(TOP_TESTS_BY, `expected ${TOP_TESTS_BY.join(", ")}`)]).transform(([value]) => value),
  window: count(HISTORY_WINDOW.max).optional(),
  limit: count(TOP_TESTS.max).optional(),
});

/** `?history=1` on a run's tests and on a comparison (`0` or absent: no history). */
export const historyFlag = z
  .tuple([z.enum(["0", "1"], "expected 1 or 0")])
  .transform(([value]) => value === "1")
  .optional();

function _require(event: H3Event, name: string, what: string): void {
  if (!event.url.searchParams.has(name)) {
    throw new GuideBoardError("INVALID_OPTIONS", `Invalid query parameter ${name}: ${what} is required.`);
  }
}

type Route = (path: string, handler: (event: H3Event) => Promise<HttpResult>) => void;

function _filters(query: RunFilters): RunFilters {
  const filters: RunFilters = {};
  if (query.status !== undefined) filters.status = query.status;
  if (query.label !== undefined) filters.label = query.label;
  if (query.since !== undefined) filters.since = query.since;
  if (query.until !== undefined) filters.until = query.until;
  return filters;
}

/** Mounts `GET /tests/history` and `GET /tests/top` (windows listed from the live index when there is one). */
export function mountHistoryRoutes(route: Route, runs: RunsOptions, index: RunIndex | undefined): void {
  const options = index ? { ...runs, index } : runs;
  route("/tests/history", async (event) => {
    _require(event, "key", "a test key");
    const query = parseQuery(event.url.searchParams, historyQuerySchema);
    const { key, limit } = query as { key: string; limit?: number };
    return jsonResult(await testHistory(options, key, { filters: _filters(query), limit, signal: event.req.signal }));
  });
  route("/tests/top", async (event) => {
    _require(event, "by", TOP_TESTS_BY.join(", "));
    const query = parseQuery(event.url.searchParams, topQuerySchema);
    const { by, window, limit } = query as { by: TopTestsBy; window?: number; limit?: number };
    return jsonResult(
      await topTests(options, { by, filters: _filters(query), window, limit, signal: event.req.signal }),
    );
  });
}
