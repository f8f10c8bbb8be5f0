import { createHash, timingSafeEqual } from "node:crypto";
import type { Readable } from "node:stream";
import { z } from "zod";
import {
  GuideBoardError,
  isGuideBoardError,
  labelSelectorSchema,
  MAX_LIST_LIMIT,
  mediaTypeOf,
  runStatusSchema,
  toJSONText,
  type ContainedFile,
  type GuideBoardErrorCode,
  type ListQuery,
} from "../src/_internal.ts";

/** Every error code an HTTP response can carry: the library's, plus the HTTP layer's own. */
export type HttpErrorCode =
  | GuideBoardErrorCode
  | "BAD_REQUEST"
  | "NOT_FOUND"
  | "METHOD_NOT_ALLOWED"
  | "UNAUTHORIZED"
  | "HOST_NOT_ALLOWED"
  | "RANGE_NOT_SATISFIABLE"
  | "FORBIDDEN_ORIGIN"
  | "JOBS_DISABLED"
  | "GUIDE_NOT_FOUND"
  | "JOB_NOT_FOUND"
  | "JOB_FINISHED"
  | "INVALID_BODY"
  | "BODY_TOO_LARGE"
  | "UNSUPPORTED_MEDIA_TYPE"
  | "TOO_MANY_STREAMS"
  | "QUEUE_FULL"
  | "INTERNAL_ERROR";

/** The one table from error codes to HTTP statuses. */
export const STATUS_BY_CODE: Record<HttpErrorCode, number> = {
  INVALID_RUN_ID: 400,
  INVALID_OPTIONS: 400,
  INVALID_CURSOR: 400,
  BAD_REQUEST: 400,
  INVALID_BODY: 400,
  UNAUTHORIZED: 401,
  UNSAFE_PATH: 403,
  FORBIDDEN_ORIGIN: 403,
  JOBS_DISABLED: 403,
  RUN_NOT_FOUND: 404,
  REPORT_NOT_FOUND: 404,
  ARTIFACT_NOT_FOUND: 404,
  LOG_NOT_FOUND: 404,
  NOT_FOUND: 404,
  GUIDE_NOT_FOUND: 404,
  JOB_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  JOB_FINISHED: 409,
  BODY_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RANGE_NOT_SATISFIABLE: 416,
  HOST_NOT_ALLOWED: 421,
  QUEUE_FULL: 429,
  MANIFEST_INVALID: 422,
  INTERNAL_ERROR: 500,
  TOO_MANY_STREAMS: 503,
  STORAGE_UNAVAILABLE: 503,
};

/** A response, independent of any framework: the h3 adapter turns it into an h3 response. */
export interface HttpResult {
  status: number;
  headers: Record<string, string>;
  body: string | Readable | null;
}

const COMMON_HEADERS = { "x-content-type-options": "nosniff", "cache-control": "no-cache" } as const;

/** A JSON response whose body is {@link toJSONText} of `value`: the CLI's `--json` bytes. */
export function jsonResult(value: unknown, status = 200, headers: Record<string, string> = {}): HttpResult {
  return {
    status,
    headers: { ...COMMON_HEADERS, "content-type": "application/json; charset=utf-8", ...headers },
    body: toJSONText(value),
  };
}

/** The error shape, `{ "error": { "code", "message" } }`, with the status its code maps to. */
export function errorResult(code: HttpErrorCode, message: string, headers: Record<string, string> = {}): HttpResult {
  return jsonResult({ error: { code, message } }, STATUS_BY_CODE[code], headers);
}

/** Maps anything thrown to an error result; unexpected errors never show their message or stack. */
export function toErrorResult(error: unknown): HttpResult {
  if (isGuideBoardError(error, "STORAGE_UNAVAILABLE")) {
    // A runs directory that does not answer (a hung mount): try again after about one deadline.
    const retryAfter = Number(error.details?.retryAfter) || 10;
    return errorResult(error.code, error.message, { "retry-after": String(retryAfter) });
  }
  if (isGuideBoardError(error)) return errorResult(error.code, error.message);
  return errorResult("INTERNAL_ERROR", "Unexpected server error.");
}

const one = z.tuple([z.string()]).transform(([value]) => value);
const filterFields = {
  status: z.array(runStatusSchema).optional(),
  since: one.optional(),
  until: one.optional(),
  label: z.array(labelSelectorSchema).optional(),
};

/** `GET /retained-runs/latest` query: repeatable `status` and `label`, one `since` and `until`. */
export const latestQuerySchema = z.strictObject(filterFields);

const limitMessage = `expected a whole number from 1 to ${MAX_LIST_LIMIT}`;

/** `GET /retained-runs` query: the filters plus one `limit` (1 to `MAX_LIST_LIMIT`) and one `cursor`. */
export const listQueryWireSchema = z.strictObject({
  ...filterFields,
  limit: z
    .tuple([
      z
        .string()
        .regex(/^[1-9]\d{0,15}$/, limitMessage)
        .refine((value) => Number(value) <= MAX_LIST_LIMIT, limitMessage),
    ])
    .transform(([value]) => Number(value))
    .optional(),
  cursor: one.optional(),
});

/** `GET /retained-runs/{runId}/reports` query: one `limit` (1 to `MAX_LIST_LIMIT`) and one `cursor`. */
export const reportPageWireSchema = listQueryWireSchema.pick({ limit: true, cursor: true });

/**
 * Parses a query string with `schema`; every key is collected as a list first, so repeated keys
 * are caught where only one is allowed. Bad input throws `INVALID_OPTIONS` naming the field.
 */
export function parseQuery<S extends z.ZodType>(params: URLSearchParams, schema: S): z.output<S> & ListQuery {
  const grouped: Record<string, string[]> = Object.create(null);
  for (const [key, value] of params) {
    grouped[key] ??= [];
    grouped[key].push(value);
  }
  const parsed = schema.safeParse(grouped);
  if (parsed.success) return parsed.data as z.output<S> & ListQuery;
  const issue = parsed.error.issues[0];
  const key = issue?.code === "unrecognized_keys" ? issue.keys[0] : issue?.path[0];
  const field = typeof key === "string" ? key.slice(0, 64).replace(/[^\w.-]/g, "?") : "query";
  const why =
    issue?.code === "unrecognized_keys"
      ? "unknown parameter"
      : issue?.path.length === 1 && (issue.code === "too_big" || issue.code === "invalid_type")
        ? "given more than once"
        : issue?.message;
  throw new GuideBoardError("INVALID_OPTIONS", `Invalid query parameter ${field}: ${why}.`);
}

/**
 * A file response with `Content-Type`, `Content-Length`, `ETag`, `Last-Modified`, conditional
 * requests (304), `HEAD`, one `Range` (206/416), `nosniff` and `Content-Security-Policy: sandbox`
 * (files are untrusted: an HTML or SVG report can never run script on the API's origin). Takes
 * ownership of `file` and closes it unless a stream body does.
 */
export function fileResult(
  request: { method: string; headers: Headers },
  file: ContainedFile,
  meta: { mediaType: string; etag?: string; disposition: string },
): HttpResult {
  const { size, mtime } = file.stat;
  const etag = meta.etag ?? `W/"${size.toString(16)}-${Math.floor(mtime.getTime()).toString(16)}"`;
  const headers: Record<string, string> = {
    ...COMMON_HEADERS,
    "content-type": meta.mediaType,
    "content-security-policy": "sandbox",
    "content-disposition": meta.disposition,
    "accept-ranges": "bytes",
    etag,
    "last-modified": mtime.toUTCString(),
  };
  const done = (result: HttpResult) => {
    if (result.body === null || typeof result.body === "string") void file.handle.close().catch(() => {});
    return result;
  };
  if (_notModified(request.headers, etag, mtime)) return done({ status: 304, headers, body: null });

  let start = 0;
  let end = size - 1;
  let status = 200;
  const range = request.headers.get("range");
  if (range !== null && _ifRangeHolds(request.headers.get("if-range"), etag, mtime)) {
    const parsed = parseRange(range, size);
    if (parsed === "unsatisfiable") {
      return done(
        errorResult("RANGE_NOT_SATISFIABLE", "Requested range is outside the file.", {
          "content-range": `bytes */${size}`,
        }),
      );
    }
    if (parsed !== null) {
      [start, end] = parsed;
      status = 206;
      headers["content-range"] = `bytes ${start}-${end}/${size}`;
    }
  }
  headers["content-length"] = String(end - start + 1);
  if (request.method === "HEAD" || size === 0)
    return done({ status, headers, body: request.method === "HEAD" ? null : "" });
  // Large chunks: fewer trips through the stream machinery for big artifacts.
  return {
    status,
    headers,
    body: file.handle.createReadStream({ start, end, autoClose: true, highWaterMark: 512 * 1024 }),
  };
}

/**
 * One byte range from a `Range` header: `[start, end]` inclusive, `"unsatisfiable"`, or `null`
 * to ignore the header (bad syntax, another unit, or several ranges: a full 200 is allowed).
 */
export function parseRange(header: string, size: number): [number, number] | "unsatisfiable" | null {
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === "" && match[2] === "")) return null;
  const [, from, to] = match as unknown as [string, string, string];
  if (from === "") {
    const suffix = Number(to);
    if (suffix === 0 || size === 0) return "unsatisfiable";
    return [Math.max(0, size - suffix), size - 1];
  }
  const start = Number(from);
  const end = to === "" ? size - 1 : Math.min(Number(to), size - 1);
  if (!Number.isSafeInteger(start) || start >= size) return "unsatisfiable";
  if (end < start) return null;
  return [start, end];
}

/** Whether `Authorization: Bearer …` carries `token`, compared in constant time. */
export function hasBearerToken(authorization: string | null, token: string): boolean {
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization ?? "");
  if (!match) return false;
  const digest = (value: string) => createHash("sha256").update(value).digest();
  return timingSafeEqual(digest(match[1]!), digest(token));
}

const MEDIA_TYPE = /^[!#$%&'*+.^\w`|~-]+\/[!#$%&'*+.^\w`|~-]+(?:\s*;\s*[\x20-\x7e]*)?$/;

/**
 * A media type from a run folder, if it is a well-formed, printable-ASCII one; otherwise the type
 * of the file's extension. A run's own text never reaches a header unchecked.
 */
export function safeMediaType(given: string, path: string): string {
  return given.length <= 256 && MEDIA_TYPE.test(given) ? given : mediaTypeOf(_wellFormed(path));
}

/** `inline` or `attachment` with an ASCII fallback name and the UTF-8 name; never throws. */
export function contentDisposition(kind: "inline" | "attachment", path: string): string {
  const name = _wellFormed(path.slice(path.lastIndexOf("/") + 1)); // a lone surrogate would make encodeURIComponent throw
  const ascii = name.replace(/[^\x20-\x7e]|["\\%]/g, "_");
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function _wellFormed(text: string): string {
  return text.replace(LONE_SURROGATE, "\ufffd");
}

function _notModified(headers: Headers, etag: string, mtime: Date): boolean {
  const ifNoneMatch = headers.get("if-none-match");
  if (ifNoneMatch !== null) {
    const bare = (tag: string) => tag.trim().replace(/^W\//, "");
    return ifNoneMatch.trim() === "*" || ifNoneMatch.split(",").some((tag) => bare(tag) === bare(etag));
  }
  const since = Date.parse(headers.get("if-modified-since") ?? "");
  return !Number.isNaN(since) && Math.floor(mtime.getTime() / 1000) * 1000 <= since;
}

function _ifRangeHolds(ifRange: string | null, etag: string, mtime: Date): boolean {
  if (ifRange === null) return true;
  if (ifRange.startsWith('"')) return !etag.startsWith("W/") && ifRange === etag;
  return Date.parse(ifRange) === Math.floor(mtime.getTime() / 1000) * 1000;
}
