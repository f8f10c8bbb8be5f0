// Connection limits of the service: the cap on live-update streams and their backpressure (the
// adapter), and what `serve` puts on its Node server — a connection cap, a header deadline that
// drops slowloris clients, and a send timeout for downloads that make no progress.
import { createServer, type Server } from "node:http";
import { connect, type AddressInfo, type Socket } from "node:net";
import type { PassThrough, Readable } from "node:stream";
import { toNodeHandler } from "h3";
import { afterEach, describe, expect, it } from "vitest";
import { eventsResult, MAX_BUFFERED_EVENT_BYTES } from "../adapters/events.ts";
import { createGuideBoardApp } from "../adapters/h3.ts";
import { loadConfig } from "../cli/config.ts";
import { startServer } from "../cli/serve.ts";
import { applyServerLimits, defaultServerLimits, type ServerLimits } from "../cli/server-limits.ts";
import { createRunIndex, type RunIndex, type RunIndexChange } from "../src/index.ts";
import { makeRunsDir, tempDir, writeFile } from "./helpers/runs.ts";

const servers: Server[] = [];
const sockets: Socket[] = [];
const indexes: RunIndex[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const index of indexes.splice(0)) index.close();
  await Promise.all(
    servers.splice(0).map((server) => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    }),
  );
});

async function listen(server: Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

/** A raw connection; `head` is written as is (no final blank line unless it has one). */
function open(port: number, head = ""): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => {
      if (head) socket.write(head);
      resolve(socket);
    });
    socket.on("error", reject);
    sockets.push(socket);
  });
}

/** Resolves with how long the socket took to be closed by the other side, from now. */
function closedWithin(socket: Socket, limitMs: number): Promise<number> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    if (socket.destroyed) return resolve(0);
    const timer = setTimeout(() => reject(new Error(`still open after ${limitMs} ms`)), limitMs);
    socket.on("error", () => {});
    socket.once("close", () => {
      clearTimeout(timer);
      resolve(performance.now() - start);
    });
  });
}

/** The status line of the first answer on `socket`, or null when it closes first. */
function firstStatus(socket: Socket): Promise<number | null> {
  return new Promise((resolve) => {
    let text = "";
    socket.on("data", (chunk) => {
      text += chunk;
      const match = /^HTTP\/1\.1 (\d{3})/.exec(text);
      if (match) resolve(Number(match[1]));
    });
    socket.on("error", () => resolve(null));
    socket.once("close", () => resolve(null));
  });
}

describe("live-update streams (GET /events)", () => {
  function fakeIndex() {
    const listeners = new Set<(change: RunIndexChange) => void>();
    const index = {
      onChange(listener: (change: RunIndexChange) => void) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    } as unknown as RunIndex;
    const emit = (change: RunIndexChange) => {
      for (const listener of listeners) listener(change);
    };
    return { index, emit, listeners };
  }

  it("closes the stream of a client that stops reading once its buffer passes the bound", () => {
    const { index, emit, listeners } = fakeIndex();
    const streams = { open: 0, max: 10 };
    const body = eventsResult(index, "GET", streams).body as PassThrough;
    expect(streams.open).toBe(1);
    const change = { type: "added", runId: "2026-01-01T00-00-00Z-aaaa" } as RunIndexChange;
    const perEvent = `event: change\ndata: ${JSON.stringify(change)}\n\n`.length;
    let sent = 0;
    while (!body.destroyed && sent < 100_000) {
      emit(change);
      sent++;
    }
    expect(body.destroyed).toBe(true);
    expect(sent * perEvent).toBeGreaterThan(MAX_BUFFERED_EVENT_BYTES);
    expect(sent * perEvent).toBeLessThan(MAX_BUFFERED_EVENT_BYTES + 2 * perEvent + 64); // + the greeting
    return new Promise<void>((resolve) =>
      setImmediate(() => {
        expect(streams.open).toBe(0);
        expect(listeners.size).toBe(0);
        resolve();
      }),
    );
  });

  it("keeps the stream of a client that reads", async () => {
    const { index, emit } = fakeIndex();
    const streams = { open: 0, max: 10 };
    const body = eventsResult(index, "GET", streams).body as Readable;
    let received = 0;
    body.on("data", (chunk: Buffer) => {
      received += chunk.length;
    });
    for (let i = 0; i < 5000; i++) {
      emit({ type: "added", runId: `run-${i}` } as RunIndexChange);
      if (i % 100 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await new Promise((resolve) => setImmediate(resolve));
    expect(body.destroyed).toBe(false);
    expect(received).toBeGreaterThan(5000 * 40);
    body.destroy();
  });

  it("answers 503 TOO_MANY_STREAMS with Retry-After past the cap, and again 200 once one closes", async () => {
    const { runsDir } = makeRunsDir();
    const index = createRunIndex({ runsDir });
    indexes.push(index);
    await index.ready;
    const app = createGuideBoardApp({ runsDir, index, maxEventStreams: 2 });
    const port = await listen(createServer(toNodeHandler(app)));
    const get = "GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    const first = await open(port, get);
    const second = await open(port, get);
    expect(await firstStatus(first)).toBe(200);
    expect(await firstStatus(second)).toBe(200);
    const third = await app.request("/events");
    expect(third.status).toBe(503);
    expect(third.headers.get("retry-after")).toBe("10");
    expect(((await third.json()) as { error: { code: string } }).error.code).toBe("TOO_MANY_STREAMS");
    expect((await app.request("/healthz")).status).toBe(200);
    first.destroy();
    await expect.poll(async () => (await open(port, get).then(firstStatus)) ?? 0, { timeout: 5000 }).toBe(200);
  });
});

describe("serve's server limits", () => {
  const LIMITS: ServerLimits = { maxConnections: 4, headersTimeoutMs: 300, sendTimeoutMs: 400, maxEventStreams: 1 };

  async function limitedServer(
    handler: Parameters<typeof createServer>[1] = (_req, res) => res.end("ok"),
    limits: ServerLimits = LIMITS,
  ) {
    const server = createServer(handler);
    applyServerLimits(server, limits);
    return listen(server);
  }

  it("drops a connection whose headers never complete (slowloris) after the header deadline", async () => {
    const port = await limitedServer();
    const socket = await open(port, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    const drip = setInterval(() => socket.writable && socket.write("X-Drip: 1\r\n"), 50);
    try {
      const took = await closedWithin(socket, 5000);
      expect(took).toBeGreaterThanOrEqual(200);
    } finally {
      clearInterval(drip);
    }
  });

  it("applies the header deadline again to the next request on a kept-alive connection", async () => {
    const port = await limitedServer();
    const socket = await open(port, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    expect(await firstStatus(socket)).toBe(200);
    const drip = setInterval(() => socket.writable && socket.write("X"), 50);
    socket.write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ");
    try {
      await closedWithin(socket, 5000);
    } finally {
      clearInterval(drip);
    }
  });

  it("answers a request whose headers come in time", async () => {
    const port = await limitedServer();
    const socket = await open(port, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    expect(await firstStatus(socket)).toBe(200);
  });

  it("closes connections past the cap as they arrive, and serves again once some leave", async () => {
    const port = await limitedServer(undefined, { ...LIMITS, headersTimeoutMs: 60_000 });
    const held = await Promise.all(
      Array.from({ length: LIMITS.maxConnections }, () => open(port, "GET / HTTP/1.1\r\n")),
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    const extra = await open(port, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    expect(await firstStatus(extra)).toBeNull();
    for (const socket of held) socket.destroy();
    await expect
      .poll(async () => open(port, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").then(firstStatus), {
        timeout: 5000,
      })
      .toBe(200);
  });

  it("closes a download the client stopped reading after the send timeout", async () => {
    const chunk = Buffer.alloc(64 * 1024, 120);
    let written = 0;
    let closedAt = 0;
    const port = await limitedServer((req, res) => {
      req.socket.once("close", () => {
        closedAt = performance.now();
      });
      const pump = () => {
        while (written < 512 * 1024 * 1024) {
          written += chunk.length;
          if (!res.write(chunk)) return;
        }
        res.end();
      };
      res.on("drain", pump);
      pump();
    });
    // A paused socket sees no 'close' until it reads everything: the server's side tells.
    const socket = await open(port, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    socket.once("data", () => socket.pause());
    const start = performance.now();
    await expect.poll(() => closedAt, { timeout: 10_000, interval: 50 }).toBeGreaterThan(0);
    expect(closedAt - start).toBeGreaterThanOrEqual(LIMITS.sendTimeoutMs - 50);
    expect(written).toBeLessThan(512 * 1024 * 1024);
  });
});

describe("guide-board serve with limits", () => {
  it("puts the header deadline and the event-stream cap on the server it starts", async () => {
    const { runsDir } = makeRunsDir();
    const server = await startServer({
      runsDir: [runsDir],
      port: 0,
      limits: { headersTimeoutMs: 300, maxEventStreams: 1 },
    });
    try {
      const port = Number(new URL(server.url).port);
      const slow = await open(port, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n");
      await closedWithin(slow, 5000);
      const get = "GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
      expect(await firstStatus(await open(port, get))).toBe(200);
      expect(await firstStatus(await open(port, get))).toBe(503);
      const health = await open(port, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
      expect(await firstStatus(health)).toBe(200);
    } finally {
      for (const socket of sockets.splice(0)) socket.destroy();
      await server.close();
    }
  });
});

describe("limits: defaults and the config file", () => {
  it("keeps half of the descriptors left after a reserve for connections, at most 10,000", () => {
    expect(defaultServerLimits(1024)).toEqual({
      maxConnections: 384,
      headersTimeoutMs: 15_000,
      sendTimeoutMs: 30_000,
      maxEventStreams: 320,
    });
    expect(defaultServerLimits(20_000).maxConnections).toBe(9872);
    expect(defaultServerLimits(1_048_576)).toMatchObject({ maxConnections: 10_000, maxEventStreams: 1000 });
    expect(defaultServerLimits(null).maxConnections).toBe(384);
    expect(defaultServerLimits(100).maxConnections).toBe(32);
  });

  it("reads service limits from guide-board.config.json", () => {
    const dir = tempDir();
    writeFile(
      `${dir}/guide-board.config.json`,
      JSON.stringify({
        service: { maxConnections: 500, headersTimeout: "10s", sendTimeout: "1m", maxEventStreams: 50 },
      }),
    );
    expect(loadConfig(dir).serverLimits).toEqual({
      maxConnections: 500,
      headersTimeoutMs: 10_000,
      sendTimeoutMs: 60_000,
      maxEventStreams: 50,
    });
  });

  it.each([
    [{ maxConnections: 0 }, /service\.maxConnections/],
    [{ headersTimeout: "10ms" }, /service\.headersTimeout: expected at least 1s/],
    [{ sendTimeout: "5s" }, /service\.sendTimeout: expected at least 20s/],
    [{ maxEventStreams: -1 }, /service\.maxEventStreams/],
  ])("refuses service %j", (service, message) => {
    const dir = tempDir();
    writeFile(`${dir}/guide-board.config.json`, JSON.stringify({ service }));
    expect(() => loadConfig(dir)).toThrow(message);
  });
});
