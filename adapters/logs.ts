import { z } from "zod";
import { findTailStart, openRunLog, type RunsOptions } from "../src/_internal.ts";
import { contentDisposition, errorResult, fileResult, parseQuery, type HttpResult } from "./_http.ts";
import type { createJobLogHub } from "./job-log.ts";
import type { JobsProvider } from "./jobs.ts";

type JobLogHub = ReturnType<typeof createJobLogHub>;

/** Most lines `?tail=N` returns. */
export const MAX_HTTP_TAIL_LINES = 10_000;

/** Most bytes a `?tail=N` answer holds (a CR-only progress bar is one endless line). */
export const MAX_HTTP_TAIL_BYTES = 4 * 1024 * 1024;

/** Logs are served as text, whatever their bytes: the page and `curl` decide how to show them. */
export const LOG_MEDIA_TYPE = "text/plain; charset=utf-8";

const logQuerySchema = z.strictObject({
  tail: z
    .tuple([z.string().regex(/^(0|[1-9]\d{0,3}|10000)$/, `expected a whole number from 0 to ${MAX_HTTP_TAIL_LINES}`)])
    .transform(([value]) => Number(value))
    .optional(),
});

/**
 * `GET /retained-runs/{runId}/logs/{logId}`: the log with the file-response rules of reports
 * (Range, ETag/304, nosniff, `CSP: sandbox`), always as `text/plain; charset=utf-8`. With
 * `?tail=N` the body is the last N lines: a 200 whose `X-Log-Range: bytes start-end/size` says
 * where it lies in the file, so a client can load earlier output with `Range`. A tail ignores `Range`.
 */
export async function logFileResult(
  request: { method: string; headers: Headers; url: URL },
  runs: RunsOptions,
  runId: string,
  logId: string,
): Promise<HttpResult> {
  const { tail } = parseQuery(request.url.searchParams, logQuerySchema);
  const { entry, file } = await openRunLog(runs, runId, logId);
  const meta = { mediaType: LOG_MEDIA_TYPE, disposition: contentDisposition("inline", entry.path) };
  if (tail === undefined) return fileResult(request, file, meta);
  let range: { start: number; end: number };
  try {
    range = await findTailStart(file.handle, { lines: tail, maxBytes: MAX_HTTP_TAIL_BYTES, size: file.stat.size });
  } catch (error) {
    await file.handle.close();
    throw error;
  }
  const { size, mtime } = file.stat;
  const etag = `W/"${size.toString(16)}-${Math.floor(mtime.getTime()).toString(16)}-t${tail}"`;
  const headers = new Headers(request.headers);
  headers.delete("if-range");
  headers.delete("range");
  if (range.end > range.start) headers.set("range", `bytes=${range.start}-${range.end - 1}`);
  const result = fileResult({ method: request.method, headers }, file, { ...meta, etag });
  if (result.status === 206 || (result.status === 200 && range.end === range.start)) {
    delete result.headers["content-range"];
    result.status = 200;
    result.headers["x-log-range"] =
      range.end === range.start ? `bytes */${size}` : `bytes ${range.start}-${range.end - 1}/${size}`;
    if (range.end === range.start) {
      result.headers["content-length"] = "0";
      if (result.body !== null && typeof result.body !== "string") result.body.destroy();
      result.body = request.method === "HEAD" ? null : "";
    }
  }
  return result;
}

const jobLogQuerySchema = z.strictObject({
  log: z
    .tuple([z.enum(["stdout", "stderr"])])
    .transform(([value]) => value)
    .optional(),
});

const STREAM_HEADERS = {
  "content-type": LOG_MEDIA_TYPE,
  "cache-control": "no-cache",
  "x-content-type-options": "nosniff",
  "content-security-policy": "sandbox",
  "x-accel-buffering": "no",
} as const;

/**
 * `GET /runs/{jobId}/log[?log=stderr]`: a job's output as a chunked `text/plain` stream, from its
 * first byte, that ends when the job has ended. `HEAD` subscribes to nothing.
 */
export function jobLogResult(
  request: { method: string; url: URL },
  hub: JobLogHub,
  jobs: JobsProvider | undefined,
  jobId: string,
): HttpResult {
  const { log = "stdout" } = parseQuery(request.url.searchParams, jobLogQuerySchema);
  const job = jobs?.get(jobId);
  if (!jobs || !job) return errorResult("JOB_NOT_FOUND", "No such job in this server process.");
  if (request.method === "HEAD") return { status: 200, headers: { ...STREAM_HEADERS }, body: null };
  const ended = () => {
    const now = jobs.get(jobId);
    return now === undefined || now.finishedAt !== null;
  };
  return { status: 200, headers: { ...STREAM_HEADERS }, body: hub.follow(jobId, log, { runId: job.runId, ended }) };
}
