// The limits `serve` puts on its Node HTTP server, so no client — idle, slow or malicious — can
// exhaust its file descriptors or hold a connection for free.
import { readFileSync } from "node:fs";
import type { Server } from "node:http";
import type { Socket } from "node:net";

/** The connection limits of `guide-board serve`; each has a default and a config field. */
export interface ServerLimits {
  /** Connections open at once; more are closed as they arrive (default: half the file descriptors). */
  maxConnections: number;
  /** A request's headers must be complete this long after the connection (or the previous answer). */
  headersTimeoutMs: number;
  /** A connection on which no byte moves either way for this long is closed (stalled downloads). */
  sendTimeoutMs: number;
  /** `GET /events` streams open at once; more are answered 503. */
  maxEventStreams: number;
}

/** Descriptors kept for the runs directories, the index and logs whatever the clients do. */
const RESERVED_FDS = 256;

/** The soft limit on open files (Linux), or null where it cannot be read. */
export function openFileLimit(): number | null {
  try {
    const match = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync("/proc/self/limits", "utf8"));
    if (!match) return null;
    return match[1] === "unlimited" ? Number.MAX_SAFE_INTEGER : Number(match[1]);
  } catch {
    return null;
  }
}

/**
 * The defaults: every connection may hold a second descriptor (a file being downloaded), so the
 * cap is half of what is left after {@link RESERVED_FDS}, at most 10,000; 1,024 descriptors when
 * the limit cannot be read.
 */
export function defaultServerLimits(fdLimit: number | null = openFileLimit()): ServerLimits {
  const fds = fdLimit ?? 1024;
  const maxConnections = Math.max(32, Math.min(10_000, Math.floor((fds - RESERVED_FDS) / 2)));
  return {
    maxConnections,
    headersTimeoutMs: 15_000,
    sendTimeoutMs: 30_000,
    maxEventStreams: Math.min(1000, Math.max(1, maxConnections - 64)),
  };
}

/**
 * Applies `limits` to a Node HTTP server. Node's own `headersTimeout` is checked only every 30 s
 * (its `connectionsCheckingInterval`, fixed when the server is created, here by listhen), so a
 * timer per connection enforces the header deadline instead: armed on connect and after every
 * answer, cleared when a request's headers are complete.
 */
export function applyServerLimits(server: Server, limits: ServerLimits): void {
  server.maxConnections = limits.maxConnections;
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = Math.max(limits.headersTimeoutMs, 60_000);
  server.timeout = limits.sendTimeoutMs;
  const deadlines = new WeakMap<Socket, NodeJS.Timeout>();
  const arm = (socket: Socket) => {
    clearTimeout(deadlines.get(socket));
    const timer = setTimeout(() => socket.destroy(), limits.headersTimeoutMs);
    timer.unref();
    deadlines.set(socket, timer);
  };
  server.on("connection", (socket: Socket) => {
    arm(socket);
    socket.once("close", () => clearTimeout(deadlines.get(socket)));
  });
  server.on("request", (request, response) => {
    const socket = request.socket;
    clearTimeout(deadlines.get(socket));
    response.once("finish", () => {
      if (!socket.destroyed) arm(socket);
    });
  });
}
