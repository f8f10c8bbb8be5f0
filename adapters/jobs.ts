import type { H3Event } from "h3";
import { z } from "zod";
import { DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT } from "../src/_internal.ts";
import { errorResult, jsonResult, type HttpResult } from "./_http.ts";

/** Seconds a client told `QUEUE_FULL` should wait before it tries again. */
const QUEUE_FULL_RETRY_AFTER = "10";

/** The states of an in-memory job. */
export const JOB_STATES = ["queued", "running", "succeeded", "failed", "cancelled"] as const;

/** A job as `/runs` returns it. */
export const jobSchema = z.object({
  jobId: z.string(),
  guide: z.string(),
  state: z.enum(JOB_STATES),
  runId: z.string(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  exitCode: z.number().int().nullable(),
  /** `/retained-runs/{runId}` once the run's summary exists, else `null`. */
  retainedRun: z.string().nullable(),
});
export type Job = z.infer<typeof jobSchema>;

/** One page of jobs, newest first. */
export interface JobPage {
  jobs: Job[];
  /** Pass as `cursor` for the next page; absent on the last page. */
  nextCursor?: string;
}

/**
 * What the adapter needs to offer `/runs`; `guide-board serve` implements it by starting
 * `guide-board run NAME` processes. Only guide names ever reach it: never a command.
 */
export interface JobsProvider {
  /** Names of the guides that may be started. */
  guides(): string[];
  /**
   * Starts (or queues) a guide; `undefined` when there is no such guide, `"queue-full"` when the
   * queue is at its bound (the adapter answers 429 `QUEUE_FULL`).
   */
  start(guide: string): Job | "queue-full" | undefined;
  /** A page of jobs, newest first; `undefined` when the cursor is not one this provider gave. */
  list(page: { limit: number; cursor?: string }): JobPage | undefined;
  get(jobId: string): Job | undefined;
  /** Cancels a queued or running job; `"finished"` when it had already ended. */
  cancel(jobId: string): Job | "finished" | undefined;
}

const MAX_BODY_BYTES = 4096;
const startBodySchema = z.strictObject({ guide: z.string().min(1).max(128) });

type Route = (
  path: string,
  handlers: Partial<Record<"GET" | "POST" | "DELETE", (event: H3Event) => Promise<HttpResult> | HttpResult>>,
) => void;

/** Registers `/runs` and `/runs/{jobId}` on the adapter's router. */
export function mountJobRoutes(
  route: Route,
  jobs: JobsProvider | undefined,
  param: (event: H3Event, name: string) => string,
): void {
  const job = (event: H3Event) => (jobs ? jobs.get(param(event, "jobId")) : undefined);
  route("/runs", {
    GET: (event) => {
      const params = event.url.searchParams;
      const limitText = params.get("limit");
      const cursor = params.get("cursor") ?? undefined;
      if (params.getAll("limit").length > 1 || params.getAll("cursor").length > 1)
        return errorResult("INVALID_OPTIONS", "Give limit and cursor at most once.");
      if (limitText !== null && (!/^[1-9]\d{0,6}$/.test(limitText) || Number(limitText) > MAX_LIST_LIMIT))
        return errorResult("INVALID_OPTIONS", `Invalid query parameter limit: expected 1 to ${MAX_LIST_LIMIT}.`);
      const limit = limitText === null ? DEFAULT_LIST_LIMIT : Number(limitText);
      const page = jobs ? jobs.list({ limit, cursor }) : cursor === undefined ? { jobs: [] } : undefined;
      if (!page) return errorResult("INVALID_CURSOR", "Invalid cursor: pass the nextCursor of a previous page.");
      return jsonResult({ enabled: jobs !== undefined, guides: jobs?.guides() ?? [], ...page });
    },
    POST: async (event) => {
      if (!jobs) return errorResult("JOBS_DISABLED", "This server was started without guides, so it starts no runs.");
      const body = await _readJsonBody(event);
      if ("error" in body) return body.error;
      const parsed = startBodySchema.safeParse(body.value);
      if (!parsed.success)
        return errorResult(
          "INVALID_BODY",
          'Expected exactly { "guide": NAME }: a request names a configured guide and nothing else.',
        );
      // Only a configured name ever reaches the provider (never "__proto__" and the like).
      if (!jobs.guides().includes(parsed.data.guide))
        return errorResult("GUIDE_NOT_FOUND", "No guide with that name is configured.");
      const started = jobs.start(parsed.data.guide);
      if (!started) return errorResult("GUIDE_NOT_FOUND", "No guide with that name is configured.");
      if (started === "queue-full")
        return errorResult("QUEUE_FULL", "The job queue is full; try again once some jobs have run.", {
          "retry-after": QUEUE_FULL_RETRY_AFTER,
        });
      return jsonResult(started, 202, { location: `runs/${started.jobId}` });
    },
  });
  route("/runs/:jobId", {
    GET: (event) => {
      const found = job(event);
      return found ? jsonResult(found) : errorResult("JOB_NOT_FOUND", "No such job in this server process.");
    },
    DELETE: (event) => {
      const result = jobs?.cancel(param(event, "jobId"));
      if (result === undefined) return errorResult("JOB_NOT_FOUND", "No such job in this server process.");
      if (result === "finished") return errorResult("JOB_FINISHED", "The job has already finished.");
      return jsonResult(result);
    },
  });
}

async function _readJsonBody(event: H3Event): Promise<{ value: unknown } | { error: HttpResult }> {
  const type = event.req.headers.get("content-type") ?? "";
  if (!/^application\/json\s*(;|$)/i.test(type))
    return { error: errorResult("UNSUPPORTED_MEDIA_TYPE", "Send the body as application/json.") };
  const declared = Number(event.req.headers.get("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES)
    return {
      error: errorResult("BODY_TOO_LARGE", `Bodies are at most ${MAX_BODY_BYTES} bytes.`, { connection: "close" }),
    };
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = event.req.body?.getReader();
  for (let next = await reader?.read(); next && !next.done; next = await reader!.read()) {
    size += next.value.byteLength;
    if (size > MAX_BODY_BYTES) {
      // Stop reading without tearing the socket down under the server; close it after answering.
      reader!.releaseLock();
      return {
        error: errorResult("BODY_TOO_LARGE", `Bodies are at most ${MAX_BODY_BYTES} bytes.`, { connection: "close" }),
      };
    }
    chunks.push(next.value);
  }
  try {
    return { value: JSON.parse(Buffer.concat(chunks).toString("utf8")) };
  } catch {
    return { error: errorResult("INVALID_BODY", "The body is not valid JSON.") };
  }
}
