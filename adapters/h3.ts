import { getRouterParams, H3, type HTTPError, HTTPResponse, type H3Event } from "h3";
import {
  artifactManifest,
  DEFAULT_LIST_LIMIT,
  getRetainedRun,
  latestRun,
  listRetainedRuns,
  listRunLogs,
  openArtifact,
  openReport,
  reportPaths,
  type RunIndex,
  type RunsOptions,
} from "../src/_internal.ts";
import {
  contentDisposition,
  errorResult,
  fileResult,
  hasBearerToken,
  jsonResult,
  latestQuerySchema,
  listQueryWireSchema,
  parseQuery,
  reportPageWireSchema,
  safeMediaType,
  toErrorResult,
  type HttpErrorCode,
  type HttpResult,
} from "./_http.ts";
import { isAllowedHost } from "./_host.ts";
import { DEFAULT_MAX_EVENT_STREAMS, eventsResult } from "./events.ts";
import { createJobLogHub } from "./job-log.ts";
import { jobLogResult, logFileResult } from "./logs.ts";
import { mountJobRoutes, type JobsProvider } from "./jobs.ts";
import { mountHistoryRoutes } from "./test-history.ts";
import { mountTestRoutes } from "./test-results.ts";
import { uiResult } from "./ui/page.ts";
import { vendorResult } from "./ui/vendor.ts";
import { createOpenAPIDocument } from "./openapi.ts";

export { createOpenAPIDocument };
export type { JobsProvider, Job } from "./jobs.ts";

/** Options of {@link createGuideBoardApp}. */
export interface GuideBoardAppOptions extends RunsOptions {
  /** Require `Authorization: Bearer <token>` on every route but `/healthz` (compared in constant time). */
  token?: string;
  /**
   * Refuse requests whose `Host` header is not allowed, with 421: `"loopback"` allows only
   * `localhost`, `*.localhost`, `127.0.0.0/8` and `[::1]` (use it whenever the server listens on
   * loopback, against DNS rebinding); a list allows exactly those host names.
   */
  allowedHosts?: "loopback" | readonly string[];
  /**
   * Page size of `GET /retained-runs` when the request gives no `limit` (default 100, the page
   * size of `guide-board runs list`).
   */
  defaultLimit?: number;
  /**
   * A live index (`createRunIndex`) to answer listings, `latest` and single runs from memory;
   * without one every request reads the folders. Reports and manifests are always read on demand.
   */
  index?: RunIndex;
  /**
   * Origins allowed to call the API from a browser (CORS), exactly as browsers send them
   * (`https://dash.example.com`). Off unless given; credentials (cookies) are never allowed — the
   * API uses bearer tokens.
   */
  corsOrigins?: readonly string[];
  /**
   * Serve the run browser page at `/` (and its script and stylesheet under `/ui/`). Off by
   * default when embedded; `guide-board serve` turns it on.
   */
  ui?: boolean;
  /** In-memory jobs behind `/runs` (`guide-board serve` passes one when its config has guides). */
  jobs?: JobsProvider;
  /**
   * Live-update streams (`GET /events`) open at once; more are answered 503 `TOO_MANY_STREAMS`
   * with `Retry-After` (default 1,000). Each holds a connection and a file descriptor.
   */
  maxEventStreams?: number;
}

/**
 * An h3 app serving retained runs over HTTP. Mount it in your own app under a prefix, or serve
 * it as it is (`guide-board serve` does). Every JSON body is exactly what the library returns,
 * serialized by `toJSONText`; every error is `{ "error": { "code", "message" } }`.
 *
 * @example
 * import { H3 } from "h3";
 * import { createGuideBoardApp } from "guide-board/h3";
 *
 * const app = new H3().mount("/runs-api", createGuideBoardApp({ runsDir: "./runs" }));
 */
export function createGuideBoardApp(options: GuideBoardAppOptions): H3 {
  // The service never makes a synchronous file call: every read goes through the storage layer.
  const runs: RunsOptions = {
    runsDir: options.runsDir,
    maxSummaryBytes: options.maxSummaryBytes,
    storageTimeoutMs: options.storageTimeoutMs,
    readMode: "async",
  };
  const defaultLimit = options.defaultLimit ?? DEFAULT_LIST_LIMIT;
  const index = options.index;
  const eventStreams = { open: 0, max: options.maxEventStreams ?? DEFAULT_MAX_EVENT_STREAMS };
  const corsOrigins = new Set(options.corsOrigins ?? []);
  const allowedHosts =
    options.allowedHosts === undefined || options.allowedHosts === "loopback"
      ? options.allowedHosts
      : options.allowedHosts.map((name) => name.toLowerCase());
  const app = new H3({ onError: (error) => _send(_h3ErrorResult(error)) });

  type Handler = (event: H3Event) => Promise<HttpResult> | HttpResult;
  const route = (
    path: string,
    handlers: Handler | Partial<Record<"GET" | "POST" | "DELETE", Handler>>,
    open = false,
  ) => {
    const byMethod = typeof handlers === "function" ? { GET: handlers } : handlers;
    const allow = ["GET", "HEAD", "POST", "DELETE"]
      .filter((m) => (m === "HEAD" ? byMethod.GET : byMethod[m as "GET"]))
      .join(", ");
    app.all(path, async (event) => {
      const origin = event.req.headers.get("origin");
      const cors = origin !== null && corsOrigins.has(origin) ? _corsHeaders(origin) : null;
      const send = (result: HttpResult) =>
        _send(cors ? { ...result, headers: { ...result.headers, ...cors } } : result);
      const method = event.req.method;
      const host = event.req.headers.get("host");
      if (allowedHosts !== undefined && !isAllowedHost(host, allowedHosts)) {
        return send(errorResult("HOST_NOT_ALLOWED", "This server does not answer for that host name."));
      }
      if (method === "OPTIONS" && cors && event.req.headers.has("access-control-request-method")) {
        return send({
          status: 204,
          headers: {
            "access-control-allow-methods": allow,
            "access-control-allow-headers": CORS_REQUEST_HEADERS,
            "access-control-max-age": "600",
          },
          body: null,
        });
      }
      const handler = method === "HEAD" ? byMethod.GET : byMethod[method as "GET"];
      if (!handler) return send(errorResult("METHOD_NOT_ALLOWED", `Allowed methods: ${allow}.`, { allow }));
      if (
        !open &&
        options.token !== undefined &&
        !hasBearerToken(event.req.headers.get("authorization"), options.token)
      ) {
        return send(
          errorResult("UNAUTHORIZED", "A valid bearer token is required.", {
            "www-authenticate": 'Bearer realm="guide-board"',
          }),
        );
      }
      if (method !== "GET" && method !== "HEAD" && !cors && !_sameOrigin(event.req.headers)) {
        return send(errorResult("FORBIDDEN_ORIGIN", "Cross-origin requests may not change anything."));
      }
      try {
        return send(await handler(event));
      } catch (error) {
        if (error instanceof URIError)
          return send(errorResult("BAD_REQUEST", "Malformed percent-encoding in the path."));
        return send(toErrorResult(error));
      }
    });
  };
  // Parameters decoded once; encoded separators (%2F, %5C) stay encoded, so they never split a path.
  const param = (event: H3Event, name: string) => getRouterParams(event, { decode: true })[name] ?? "";
  const runId = (event: H3Event) => param(event, "runId");

  route("/healthz", () => jsonResult({ status: "ok" }), true);
  route("/openapi.json", () => jsonResult(createOpenAPIDocument()));
  route("/retained-runs", async (event) => {
    const query = parseQuery(event.url.searchParams, listQueryWireSchema);
    const page = { ...query, limit: query.limit ?? defaultLimit };
    return jsonResult(await (index ? index.listRetainedRuns(page) : listRetainedRuns({ ...runs, ...page })));
  });
  route("/retained-runs/latest", async (event) => {
    const filters = parseQuery(event.url.searchParams, latestQuerySchema);
    const run = await (index ? index.latestRun(filters) : latestRun({ ...runs, ...filters }));
    return run === null ? errorResult("RUN_NOT_FOUND", "No retained run matches.") : jsonResult(run);
  });
  mountTestRoutes(route, runs, index, runId);
  mountHistoryRoutes(route, runs, index); // GET /tests/history, /tests/top
  route("/retained-runs/:runId", async (event) =>
    jsonResult(await (index ? index.getRetainedRun(runId(event)) : getRetainedRun(runs, runId(event)))),
  );
  // Work stops when the client goes: `signal` is checked before every file call and between slices.
  const until = (event: H3Event): RunsOptions => ({ ...runs, signal: event.req.signal });
  route("/retained-runs/:runId/reports", async (event) => {
    const query = parseQuery(event.url.searchParams, reportPageWireSchema);
    const page = { limit: query.limit ?? DEFAULT_LIST_LIMIT, cursor: query.cursor };
    const signal = event.req.signal;
    return jsonResult(
      await (index
        ? index.reportPaths(runId(event), { ...page, signal })
        : reportPaths(until(event), runId(event), page)),
    );
  });
  route("/retained-runs/:runId/reports/:reportId", async (event) => {
    const { entry, file } = await openReport(until(event), runId(event), param(event, "reportId"));
    return fileResult(event.req, file, {
      mediaType: safeMediaType(entry.mediaType, entry.path),
      disposition: contentDisposition("inline", entry.path),
    });
  });
  route("/retained-runs/:runId/artifact-manifest", async (event) =>
    jsonResult(
      await (index
        ? index.artifactManifest(runId(event), { signal: event.req.signal })
        : artifactManifest(until(event), runId(event))),
    ),
  );
  route("/retained-runs/:runId/artifacts/**:path", async (event) => {
    const { entry, file } = await openArtifact(until(event), runId(event), param(event, "path"));
    const etag = file.stat.size === entry.size ? `"sha256-${entry.sha256}"` : undefined;
    return fileResult(event.req, file, {
      mediaType: safeMediaType(entry.mediaType, entry.path),
      etag,
      disposition: contentDisposition("attachment", entry.path),
    });
  });
  mountJobRoutes(route, options.jobs, param);
  // Logs: a retained run's (read on demand), and a running job's (one shared reader per job).
  const logHub = createJobLogHub(runs);
  route("/retained-runs/:runId/logs", async (event) => jsonResult(await listRunLogs(runs, runId(event))));
  route("/retained-runs/:runId/logs/:logId", (event) =>
    logFileResult(
      { method: event.req.method, headers: event.req.headers, url: event.url },
      runs,
      runId(event),
      param(event, "logId"),
    ),
  );
  route("/runs/:jobId/log", (event) =>
    jobLogResult({ method: event.req.method, url: event.url }, logHub, options.jobs, param(event, "jobId")),
  );
  route("/events", (event) => eventsResult(index, event.req.method, eventStreams));
  if (options.ui) {
    for (const path of ["", "ui/app.js", "ui/app.css"]) route(`/${path}`, () => uiResult(path)!, true);
    route("/ui/ansi_up.js", () => vendorResult("ui/ansi_up.js")!, true);
  }
  route("/**", () => errorResult("NOT_FOUND", "No such route."));
  return app;
}

/** Status codes of errors raised by h3 itself (malformed URLs, unmatched routes) → our codes. */
const H3_ERROR_CODES: Record<number, HttpErrorCode> = {
  400: "BAD_REQUEST",
  404: "NOT_FOUND",
  405: "METHOD_NOT_ALLOWED",
};

function _h3ErrorResult(error: HTTPError): HttpResult {
  const code = error.unhandled ? "INTERNAL_ERROR" : H3_ERROR_CODES[error.status];
  if (code === undefined) return errorResult(error.status >= 500 ? "INTERNAL_ERROR" : "BAD_REQUEST", "Bad request.");
  return errorResult(code, code === "INTERNAL_ERROR" ? "Unexpected server error." : "Bad request.");
}

function _send(result: HttpResult): HTTPResponse {
  // A Node stream body is piped by h3's Node runtime (srvx) without a web-stream detour.
  return new HTTPResponse(result.body as ConstructorParameters<typeof HTTPResponse>[0], {
    status: result.status,
    headers: result.headers,
  });
}

const CORS_REQUEST_HEADERS = "authorization, content-type, range, if-none-match, if-modified-since, if-range";

function _corsHeaders(origin: string): Record<string, string> {
  return {
    "access-control-allow-origin": origin,
    vary: "Origin",
    "access-control-expose-headers":
      "content-length, content-range, content-disposition, etag, last-modified, location, x-log-range",
  };
}

/** A state-changing request must not come from another origin (a page on another site). */
function _sameOrigin(headers: Headers): boolean {
  const origin = headers.get("origin");
  if (origin === null) return true; // not a browser's cross-origin request
  try {
    return new URL(origin).host.toLowerCase() === (headers.get("host") ?? "").toLowerCase();
  } catch {
    return false;
  }
}
