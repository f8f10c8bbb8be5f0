import type { H3Event } from "h3";
import { z } from "zod";
import {
  compareRuns,
  labelSelectorSchema,
  runStatusSchema,
  selectorOf,
  testResults,
  TESTS_PAGE,
  type TestStatus,
  GuideBoardError,
  type RunFilters,
  type RunIndex,
  type RunSelector,
  type RunsOptions,
} from "../src/_internal.ts";
import { jsonResult, parseQuery, type HttpResult } from "./_http.ts";
import { historyFlag } from "./test-history.ts";

const one = z.tuple([z.string()]).transform(([value]) => value);

/**
 * `GET /retained-runs/{runId}/tests` query: repeatable `status`, one `limit` and one `cursor`.
 * Statuses are checked by the library, so a bad one reads exactly as the CLI's `--json` error.
 */
export const testsQuerySchema = z.strictObject({
  status: z.array(z.string()).optional(),
  limit: z
    .tuple([z.string().regex(/^[1-9]\d{0,4}$/, `expected a whole number from 1 to ${TESTS_PAGE.max}`)])
    .transform(([value]) => Number(value))
    .pipe(z.number().max(TESTS_PAGE.max))
    .optional(),
  cursor: one.optional(),
  history: historyFlag,
});

const sideFields = (side: "base" | "head") => ({
  [side]: one,
  [`${side}Status`]: z.array(runStatusSchema).optional(),
  [`${side}Label`]: z.array(labelSelectorSchema).optional(),
  [`${side}Since`]: one.optional(),
  [`${side}Until`]: one.optional(),
});

/**
 * `GET /retained-runs/compare` query: `base` and `head`, each a run id or `latest`; for `latest`,
 * `baseStatus`, `baseLabel` (repeatable), `baseSince`, `baseUntil` and the same for `head`.
 */
export const compareQuerySchema = z.strictObject({
  ...sideFields("base"),
  ...sideFields("head"),
  history: historyFlag,
});

type Route = (path: string, handler: (event: H3Event) => Promise<HttpResult>) => void;

/** One side of a comparison as the query gives it. */
export function sideSelector(query: Record<string, unknown>, side: "base" | "head"): RunSelector {
  const filters: RunFilters = {
    status: query[`${side}Status`] as RunFilters["status"],
    label: query[`${side}Label`] as string[] | undefined,
    since: query[`${side}Since`] as string | undefined,
    until: query[`${side}Until`] as string | undefined,
  };
  for (const key of Object.keys(filters) as (keyof RunFilters)[]) if (filters[key] === undefined) delete filters[key];
  return selectorOf(query[side] as string, filters, side);
}

/** Resolves a `latest` selector on the live index when there is one (ids are kept as they are). */
async function _resolved(selector: RunSelector, index: RunIndex | undefined): Promise<RunSelector> {
  if (typeof selector === "string" || !index) return selector;
  const { latest: _latest, ...filters } = selector;
  const run = await index.latestRun(filters);
  return run === null ? selector : run.runId; // none: the library says RUN_NOT_FOUND
}

/** Mounts the test-result routes: a run's tests, and two runs compared. */
export function mountTestRoutes(
  route: Route,
  runs: RunsOptions,
  index: RunIndex | undefined,
  runId: (event: H3Event) => string,
): void {
  route("/retained-runs/compare", async (event) => {
    for (const side of ["base", "head"]) {
      if (!event.url.searchParams.has(side)) {
        throw new GuideBoardError(
          "INVALID_OPTIONS",
          `Invalid query parameter ${side}: a run id or 'latest' is required.`,
        );
      }
    }
    const query = parseQuery(event.url.searchParams, compareQuerySchema) as Record<string, unknown>;
    const base = await _resolved(sideSelector(query, "base"), index);
    const head = await _resolved(sideSelector(query, "head"), index);
    const history = query.history === true;
    return jsonResult(await compareRuns(index ? { ...runs, index } : runs, base, head, { history }));
  });
  route("/retained-runs/:runId/tests", async (event) => {
    const query = parseQuery(event.url.searchParams, testsQuerySchema);
    const { status, limit, cursor, history } = query as {
      status?: string[];
      limit?: number;
      cursor?: string;
      history?: boolean;
    };
    const page = { status: status as TestStatus[] | undefined, limit: limit ?? TESTS_PAGE.default, cursor };
    const options = index ? { ...runs, index } : runs;
    return jsonResult(await testResults(options, runId(event), history ? { ...page, history } : page));
  });
}
