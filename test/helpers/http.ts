// One request over a real socket with `http.request`, the path sent exactly as written (no URL
// parsing on the way), to 127.0.0.1 on a new connection unless an agent is given.
import { request, type Agent, type IncomingHttpHeaders } from "node:http";

export interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body as UTF-8 text. */
  body: string;
  /** The body byte for byte. */
  bytes: Buffer;
}

export interface RawRequestOptions {
  /** GET unless given. */
  method?: string;
  /** Set one by one on the request, after its own (Host, Connection); a `host` here replaces the default. */
  headers?: Record<string, string>;
  /** A string goes with a Content-Length (unless `headers` name one); chunks go chunked. */
  body?: string | Buffer[];
  /** No answer within this long fails the request; 10 s unless given. */
  timeoutMs?: number;
  /** A keep-alive agent; a new connection (`agent: false`) unless given. */
  agent?: Agent;
}

/** Sends `path` exactly as written to 127.0.0.1:`port` and reads the whole answer. */
export function rawRequest(port: number, path: string, options: RawRequestOptions = {}): Promise<RawAnswer> {
  const method = options.method ?? "GET";
  const timeoutMs = options.timeoutMs ?? 10_000;
  const { body } = options;
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, path, method, agent: options.agent ?? false, timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          const bytes = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: bytes.toString("utf8"), bytes });
        });
        res.on("error", reject);
      },
    );
    for (const [name, value] of Object.entries(options.headers ?? {})) req.setHeader(name, value);
    if (typeof body === "string" && !req.hasHeader("content-length"))
      req.setHeader("content-length", Buffer.byteLength(body));
    req.on("timeout", () =>
      req.destroy(new Error(`no answer to ${method} ${path.slice(0, 80)} within ${timeoutMs} ms`)),
    );
    req.on("error", reject);
    if (Array.isArray(body)) for (const chunk of body) req.write(chunk); // chunked: no Content-Length
    req.end(typeof body === "string" ? body : undefined);
  });
}
