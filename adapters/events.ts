import { PassThrough } from "node:stream";
import type { RunIndex } from "../src/_internal.ts";
import { errorResult, type HttpResult } from "./_http.ts";

/** How often an idle event stream sends a comment, so proxies keep it open. */
const HEARTBEAT_MS = 15_000;
/** Event streams open at once unless the app is told otherwise. */
export const DEFAULT_MAX_EVENT_STREAMS = 1000;
/**
 * Bytes an event stream may hold for a client that does not read (about 500 change events). Past
 * it the stream is closed: the client reconnects (`retry`) and re-reads the listing, which is
 * cheaper than remembering everything it missed.
 */
export const MAX_BUFFERED_EVENT_BYTES = 64 * 1024;

const HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  "x-content-type-options": "nosniff",
  "x-accel-buffering": "no",
} as const;

/** How many event streams are open, against the cap; one per app. */
export interface EventStreams {
  open: number;
  max: number;
}

/**
 * `GET /events`: server-sent events from the index, one `change` event per run added, updated or
 * removed (`data: {"type":"added","runId":"…"}`). Without an index there is nothing to stream
 * (404); the run browser then polls. `HEAD` gets the same status and headers, and subscribes to
 * nothing. Past `streams.max` open streams the answer is 503 `TOO_MANY_STREAMS` with `Retry-After`.
 */
export function eventsResult(index: RunIndex | undefined, method: string, streams: EventStreams): HttpResult {
  if (!index) return errorResult("NOT_FOUND", "Live updates need a run index; poll /retained-runs instead.");
  if (streams.open >= streams.max) {
    return errorResult("TOO_MANY_STREAMS", "Too many live-update streams are open; retry later or poll.", {
      "retry-after": "10",
    });
  }
  if (method === "HEAD") return { status: 200, headers: HEADERS, body: null };
  streams.open++;
  const stream = new PassThrough();
  const send = (text: string) => {
    if (stream.destroyed) return;
    if (stream.writableLength + stream.readableLength > MAX_BUFFERED_EVENT_BYTES) stream.destroy();
    else stream.write(text);
  };
  send(": guide-board events\nretry: 3000\n\n");
  const unsubscribe = index.onChange((change) => send(`event: change\ndata: ${JSON.stringify(change)}\n\n`));
  // A runs directory that stops answering (a hung mount), or answers again.
  const unsubscribeStorage = index.onStorage?.((event) => send(`event: storage\ndata: ${JSON.stringify(event)}\n\n`));
  const heartbeat = setInterval(() => send(": keep-alive\n\n"), HEARTBEAT_MS);
  heartbeat.unref();
  stream.once("close", () => {
    streams.open--;
    unsubscribe();
    unsubscribeStorage?.();
    clearInterval(heartbeat);
  });
  return { status: 200, headers: HEADERS, body: stream };
}
