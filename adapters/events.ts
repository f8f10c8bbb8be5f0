import { PassThrough } from "node:stream";
import type { RunIndex } from "../src/_internal.ts";
import { errorResult, type HttpResult } from "./_http.ts";

/** How often an idle event stream sends a comment, so proxies keep it open. */
const HEARTBEAT_MS = 15_000;

const HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  "x-content-type-options": "nosniff",
  "x-accel-buffering": "no",
} as const;

/**
 * `GET /events`: server-sent events from the index, one `change` event per run added, updated or
 * removed (`data: {"type":"added","runId":"…"}`). Without an index there is nothing to stream
 * (404); the run browser then polls. `HEAD` gets the same status and headers, and subscribes to nothing.
 */
export function eventsResult(index: RunIndex | undefined, method: string): HttpResult {
  if (!index) return errorResult("NOT_FOUND", "Live updates need a run index; poll /retained-runs instead.");
  if (method === "HEAD") return { status: 200, headers: HEADERS, body: null };
  const stream = new PassThrough();
  stream.write(": guide-board events\nretry: 3000\n\n");
  const unsubscribe = index.onChange((change) => stream.write(`event: change\ndata: ${JSON.stringify(change)}\n\n`));
  const heartbeat = setInterval(() => stream.write(": keep-alive\n\n"), HEARTBEAT_MS);
  heartbeat.unref();
  stream.once("close", () => {
    unsubscribe();
    clearInterval(heartbeat);
  });
  return { status: 200, headers: HEADERS, body: stream };
}
