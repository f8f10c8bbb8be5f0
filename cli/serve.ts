import type { Socket } from "node:net";
import { toNodeHandler } from "h3";
import { listen } from "listhen";
import { createGuideBoardApp } from "../adapters/h3.ts";
import { createRunIndex, toJSONText, type RunIndex } from "../src/_internal.ts";
import { COMMON_OPTIONS, EXIT, fail, parse, runsDirsOf, UsageError, type CliContext } from "./context.ts";
import type { JobsProvider } from "../adapters/jobs.ts";
import { loadConfig, parseDuration } from "./config.ts";
import { createJobManager } from "./jobs.ts";
import { printable } from "./format.ts";
import { isLoopbackAddress } from "../adapters/_host.ts";
import { applyServerLimits, defaultServerLimits, type ServerLimits } from "./server-limits.ts";

/** The port `serve` tries first; a free one is taken when it is busy and `--port` was not given. */
export const DEFAULT_PORT = 4417;

/** Tokens shorter than this are refused: they are guessable. */
const MIN_TOKEN_LENGTH = 16;

const SERVE_OPTIONS = {
  "runs-dir": COMMON_OPTIONS["runs-dir"],
  help: COMMON_OPTIONS.help,
  port: { type: "string" },
  host: { type: "string" },
  token: { type: "string" },
  config: { type: "string" },
  "cors-origin": { type: "string", multiple: true },
  "no-ui": { type: "boolean", default: false },
  "storage-timeout": { type: "string" },
} as const;

const HELP = `Usage: guide-board serve [options]

Serve retained runs over HTTP (see docs/http-api.md) until SIGINT or SIGTERM.

Options:
  --runs-dir DIR   runs directory (repeatable; default $GUIDE_BOARD_RUNS_DIR or ./runs)
  --port N         port (default ${DEFAULT_PORT}, or a free port when it is busy; 0 for any free port)
  --host H         address to listen on (default 127.0.0.1)
  --token T        require "Authorization: Bearer T" on every route but /healthz
                   (default $GUIDE_BOARD_TOKEN; required when --host is not loopback;
                   at least ${MIN_TOKEN_LENGTH} characters; prefer the variable: arguments show in ps)
  --config FILE    config file (default ./guide-board.config.json); with guides in it,
                   POST /runs may start them (never anything else)
  --cors-origin O  let pages from origin O (e.g. https://dash.example.com) call the API
                   from a browser (repeatable; CORS is off by default)
  --no-ui          do not serve the run browser page at /
  --storage-timeout D  deadline of one file call on a runs directory, e.g. 10s (default; also
                   service.storageTimeout in the config): past it, requests that need the
                   storage get 503 STORAGE_UNAVAILABLE while answers from memory go on
  -h, --help       show this help`;

/** A running server. */
export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

/** Options of {@link startServer}. */
export interface ServeOptions {
  runsDir: string[];
  /** Offers `/runs` to start these jobs; absent: starting runs is off. */
  jobs?: JobsProvider;
  /** The index to answer from (closed with the server); one is created when absent. */
  index?: RunIndex;
  /** Origins allowed to call the API from a browser. */
  corsOrigins?: string[];
  /** Serve the run browser at `/` (default `true`). */
  ui?: boolean;
  port?: number;
  host?: string;
  token?: string;
  /** Connection limits; each one not given keeps its default ({@link defaultServerLimits}). */
  limits?: Partial<ServerLimits>;
  /** Deadline of one file call on a runs directory, in ms (default 10 000). */
  storageTimeoutMs?: number;
}

/**
 * Starts the HTTP service. Refuses (with a `UsageError`) to listen beyond loopback without a
 * token; on loopback it refuses requests for other host names (DNS rebinding).
 */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const host = options.host ?? "127.0.0.1";
  const loopback = isLoopbackAddress(host);
  if (options.token !== undefined && options.token.length < MIN_TOKEN_LENGTH) {
    throw new UsageError(`the token must be at least ${MIN_TOKEN_LENGTH} characters long`);
  }
  if (!loopback && options.token === undefined) {
    throw new UsageError(
      `refusing to listen on ${printable(host)} without a token: pass --token or set GUIDE_BOARD_TOKEN`,
    );
  }
  const limits = { ...defaultServerLimits(), ...options.limits };
  const storageTimeoutMs = options.storageTimeoutMs;
  const index = options.index ?? createRunIndex({ runsDir: options.runsDir, storageTimeoutMs });
  const app = createGuideBoardApp({
    runsDir: options.runsDir,
    storageTimeoutMs,
    index,
    token: options.token,
    allowedHosts: loopback ? "loopback" : undefined,
    jobs: options.jobs,
    corsOrigins: options.corsOrigins,
    ui: options.ui ?? true,
    maxEventStreams: limits.maxEventStreams,
  });
  const port = options.port ?? DEFAULT_PORT;
  const listener = await listen(toNodeHandler(app), {
    hostname: host,
    public: !loopback,
    // An explicit --port must be had exactly; the default falls back to any free port.
    port: { port, alternativePortRange: [port, port], random: options.port === undefined || port === 0 },
    showURL: false,
    open: false,
    clipboard: false,
    qr: false,
    isTest: true,
    autoClose: false,
  }).catch((error: Error) => {
    index.close();
    throw new UsageError(`cannot listen on ${printable(host)}:${port} (${printable(error.message)})`);
  });
  listener.server.on("clientError", _answerClientError);
  applyServerLimits(listener.server, limits);
  const shownHost = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${listener.address.port}/`,
    close: async () => {
      index.close();
      // Live-update streams never end by themselves: give requests a moment, then close them all.
      setTimeout(() => listener.server.closeAllConnections?.(), 1000).unref();
      await listener.close();
    },
  };
}

/** `guide-board serve`. Resolves when `ctx.signal` aborts (SIGINT/SIGTERM from the bin). */
export async function serveCommand(args: string[], ctx: CliContext & { signal?: AbortSignal }): Promise<number> {
  try {
    const { values, positionals } = parse(args, SERVE_OPTIONS);
    if (values.help) {
      ctx.stdout.write(`${HELP}\n`);
      return EXIT.ok;
    }
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${printable(positionals[0]!)}'`);
    const port = values.port === undefined ? undefined : _port(values.port);
    const config = loadConfig(ctx.cwd, values.config);
    const runsDir = runsDirsOf(values, ctx, () => config.runsDir);
    const token = values.token ?? ctx.env.GUIDE_BOARD_TOKEN;
    const guides = Object.keys(config.guides);
    const storageTimeoutMs =
      values["storage-timeout"] === undefined ? config.storageTimeoutMs : _storageTimeout(values["storage-timeout"]);
    const index = createRunIndex({ runsDir, storageTimeoutMs });
    const jobs =
      guides.length > 0 && config.path !== null
        ? createJobManager({
            guides,
            runsDir: runsDir[0]!,
            configPath: config.path,
            cwd: ctx.cwd,
            maxConcurrentJobs: config.maxConcurrentJobs,
            ...config.jobLimits,
            settle: () => index.refresh(), // a finished job's run is listed before the job says so
          })
        : undefined;
    const corsOrigins = values["cors-origin"] ?? [];
    for (const origin of corsOrigins) {
      if (!/^https?:\/\/[^/\s]+$/.test(origin))
        throw new UsageError(
          `--cors-origin takes an origin such as https://dash.example.com, got '${printable(origin)}'`,
        );
    }
    const server = await startServer({
      runsDir,
      port,
      host: values.host,
      token: token === "" ? undefined : token,
      jobs,
      index,
      corsOrigins,
      ui: !values["no-ui"],
      limits: config.serverLimits,
      storageTimeoutMs,
    });
    ctx.stdout.write(`guide-board: serving ${printable(runsDir.join(", "))}\n`);
    if (jobs) ctx.stdout.write(`guide-board: POST /runs may start: ${printable(guides.join(", "))}\n`);
    ctx.stdout.write(`Open ${server.url}\n`);
    await new Promise<void>((resolve) => {
      if (ctx.signal?.aborted) resolve();
      ctx.signal?.addEventListener("abort", () => resolve(), { once: true });
    });
    await server.close();
    ctx.stdout.write("guide-board: stopped\n");
    return EXIT.ok;
  } catch (error) {
    return fail(error, ctx, false, "guide-board serve");
  }
}

function _storageTimeout(value: string): number {
  const ms = parseDuration(/^\d+(?:\.\d+)?$/.test(value) ? Number(value) : value);
  if (ms === null || ms < 100 || ms > 600_000)
    throw new UsageError("--storage-timeout takes a duration from 100ms to 10m, such as 10s");
  return ms;
}

function _port(value: string): number {
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65_535) throw new UsageError("--port takes a number from 0 to 65535");
  return Number(value);
}

/** Malformed requests that never reach the app still get the JSON error shape, never a 5xx. */
function _answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const tooLarge = error.code === "HPE_HEADER_OVERFLOW";
  const status = tooLarge ? "431 Request Header Fields Too Large" : "400 Bad Request";
  const body = toJSONText({
    error: { code: "BAD_REQUEST", message: tooLarge ? "Request headers are too large." : "Malformed request." },
  });
  socket.end(
    `HTTP/1.1 ${status}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
