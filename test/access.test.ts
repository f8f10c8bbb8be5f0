// Who may use the service: no token beyond loopback, the bearer token on every route but
// /healthz (and nowhere else: not in the query, not in another scheme), POST /runs starting
// configured guides only whatever the body says, and CORS off unless configured.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGuideBoardApp } from "../adapters/h3.ts";
import type { Job, JobsProvider } from "../adapters/jobs.ts";
import { UsageError } from "../cli/context.ts";
import { startServer, type RunningServer } from "../cli/serve.ts";
import { rawRequest } from "./helpers/http.ts";
import { makeRunsDir, writeCurrentRun } from "./helpers/runs.ts";

const TOKEN = "access-test-token-0123456789abcdef";
const RUN = "2026-02-01T00-00-00Z-access";
const GUIDES = ["unit", "e2e"];

/** A jobs provider that starts nothing real and records every call to `start`. */
function recordingJobs(): JobsProvider & { started: string[] } {
  const jobs: Job[] = [];
  const started: string[] = [];
  return {
    started,
    guides: () => [...GUIDES],
    start(guide) {
      started.push(guide);
      if (!GUIDES.includes(guide)) return undefined;
      const job: Job = {
        jobId: `job-${jobs.length + 1}`,
        guide,
        state: "queued",
        runId: `2026-02-01T00-00-0${jobs.length % 10}Z-job`,
        createdAt: "2026-02-01T00:00:00.000Z",
        startedAt: null,
        finishedAt: null,
        exitCode: null,
        retainedRun: null,
      };
      jobs.unshift(job);
      return job;
    },
    list: () => ({ jobs: [...jobs] }),
    get: (jobId) => jobs.find((job) => job.jobId === jobId),
    cancel: () => undefined,
  };
}

const { runsDir } = makeRunsDir();
writeCurrentRun(runsDir, RUN, { startedAt: "2026-02-01T00:00:00Z" });

/** One request on a new connection to 127.0.0.1, the path sent as written. */
const send = (port: number, method: string, path: string, headers: Record<string, string> = {}, body?: string) =>
  rawRequest(port, path, { method, headers, body });

function expectError(answer: { status: number; body: string }, status: number, code: string): void {
  expect(answer.status, answer.body).toBe(status);
  expect(JSON.parse(answer.body)).toStrictEqual({ error: { code, message: expect.any(String) } });
}

describe("listening beyond loopback", () => {
  /** Fails the test (after closing it) if a server came up after all. */
  const neverListens = (options: Parameters<typeof startServer>[0]) =>
    startServer(options).then(async (server) => {
      await server.close();
      throw new Error(`startServer listened on ${options.host} without a token`);
    });

  it.each(["0.0.0.0", "::", "192.168.1.10", "10.0.0.1", "localhost.example.com", "127.0.0.1.nip.io"])(
    "refuses host %s without a token (UsageError, before listening)",
    async (host) => {
      await expect(neverListens({ runsDir: [runsDir], port: 0, host })).rejects.toBeInstanceOf(UsageError);
      await expect(neverListens({ runsDir: [runsDir], port: 0, host })).rejects.toThrow(/without a token/);
    },
  );

  it("refuses a token shorter than 16 characters, on loopback too", async () => {
    for (const token of ["", "x", "a".repeat(15)]) {
      await expect(neverListens({ runsDir: [runsDir], port: 0, token })).rejects.toBeInstanceOf(UsageError);
      await expect(neverListens({ runsDir: [runsDir], port: 0, host: "0.0.0.0", token })).rejects.toBeInstanceOf(
        UsageError,
      );
    }
  });
});

describe("the bearer token (loopback server started with a token)", () => {
  let server: RunningServer;
  let port: number;
  const jobs = recordingJobs();

  beforeAll(async () => {
    server = await startServer({ runsDir: [runsDir], port: 0, token: TOKEN, jobs });
    port = Number(new URL(server.url).port);
    expect(new URL(server.url).hostname).toBe("127.0.0.1");
    jobs.start("unit"); // a job for GET /runs/{jobId}
  }, 30_000);

  afterAll(async () => {
    await server?.close();
  });

  const R = `/retained-runs/${RUN}`;
  /** Every route but /healthz, by a path that answers 200 with the token. */
  const ROUTES = [
    "/openapi.json",
    "/retained-runs",
    "/retained-runs/latest",
    R,
    `${R}/reports`,
    `${R}/reports/junit`,
    `${R}/artifact-manifest`,
    `${R}/artifacts/out/result.json`,
    "/runs",
    "/runs/job-1",
  ];

  const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
  /** Authorization headers (or none) that must all be refused. */
  const REFUSED: [label: string, headers: Record<string, string>][] = [
    ["no Authorization header", {}],
    ["a wrong token", { authorization: "Bearer wrong-token-0123456789abcdef" }],
    ["Basic with the token as password", { authorization: basic("guide-board", TOKEN) }],
    ["Basic with the token as user", { authorization: basic(TOKEN, "") }],
    ["Basic and the bare token", { authorization: `Basic ${TOKEN}` }],
    ["Token x", { authorization: "Token x" }],
    ["Token and the right token", { authorization: `Token ${TOKEN}` }],
    ["Bearer with no value", { authorization: "Bearer" }],
    ["Bearer and spaces", { authorization: "Bearer    " }],
    ["lowercase bearer and a wrong token", { authorization: "bearer wrong" }],
    ["the bare token", { authorization: TOKEN }],
    ["Bearer the token in upper case", { authorization: `Bearer ${TOKEN.toUpperCase()}` }],
    ["Bearer the token and one more character", { authorization: `Bearer ${TOKEN}x` }],
    ["Bearer a character and the token", { authorization: `Bearer x${TOKEN}` }],
    ["Bearer the token twice", { authorization: `Bearer ${TOKEN} ${TOKEN}` }],
    ["Bearer the token, quoted", { authorization: `Bearer "${TOKEN}"` }],
    ["Bearer the token and a comma", { authorization: `Bearer ${TOKEN},` }],
    ["BearerTOKEN (no space)", { authorization: `Bearer${TOKEN}` }],
    ["the token in X-Api-Key", { "x-api-key": TOKEN }],
    ["the token in X-Token", { "x-token": TOKEN }],
    ["the token in a cookie", { cookie: `token=${TOKEN}; access_token=${TOKEN}` }],
    ["the token in Proxy-Authorization", { "proxy-authorization": `Bearer ${TOKEN}` }],
  ];
  /** The token in the query string instead of the header. */
  const QUERY_TOKENS = [
    `token=${TOKEN}`,
    `access_token=${TOKEN}`,
    `bearer=${TOKEN}`,
    `authorization=Bearer%20${TOKEN}`,
  ];

  const cases = ROUTES.flatMap((path) => [
    ...REFUSED.map(([label, headers]) => [path, label, path, headers] as const),
    ...QUERY_TOKENS.map(
      (query) => [path, `?${query.slice(0, query.indexOf("="))}=<the token>`, `${path}?${query}`, {}] as const,
    ),
  ]);

  it.each(cases)(
    "GET %s with %s → 401 UNAUTHORIZED, WWW-Authenticate: Bearer",
    async (_route, _label, path, headers) => {
      const answer = await send(port, "GET", path, headers);
      expectError(answer, 401, "UNAUTHORIZED");
      expect(answer.headers["www-authenticate"]).toMatch(/^Bearer\b/);
      expect(answer.body).not.toContain(TOKEN);
    },
  );

  it.each(ROUTES)(
    "GET %s with the right token in the header → 200; HEAD without it → 401 and no body",
    async (path) => {
      expect((await send(port, "GET", path, { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
      const head = await send(port, "HEAD", path);
      expect(head.status).toBe(401);
      expect(head.body).toBe("");
    },
  );

  it("refuses every proper prefix of the right token, and tokens of every other length", async () => {
    const candidates = [
      ...Array.from({ length: TOKEN.length }, (_, n) => TOKEN.slice(0, n)),
      ...Array.from({ length: TOKEN.length - 1 }, (_, n) => TOKEN.slice(n + 1)),
      ...[1, 15, 16, 31, 32, 33, 64, 65, 256, 4096].map((n) => TOKEN.repeat(Math.ceil(n / TOKEN.length)).slice(0, n)),
      TOKEN.slice(0, -1) + String.fromCharCode(TOKEN.charCodeAt(TOKEN.length - 1) + 1),
    ].filter((candidate) => candidate !== TOKEN);
    const statuses = new Map<number, number>();
    for (const candidate of candidates) {
      for (const path of ["/retained-runs", `${R}/artifacts/out/result.json`]) {
        const answer = await send(port, "GET", path, { authorization: `Bearer ${candidate}` });
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      }
    }
    expect(Object.fromEntries(statuses)).toEqual({ 401: candidates.length * 2 });
  });

  it("leaves /healthz open, with no token or a wrong one, and hides unknown routes behind the token", async () => {
    const variants: Record<string, string>[] = [
      {},
      { authorization: "Bearer wrong" },
      { authorization: `Bearer ${TOKEN}` },
    ];
    for (const headers of variants) {
      const health = await send(port, "GET", "/healthz", headers);
      expect(health.status).toBe(200);
      expect(JSON.parse(health.body)).toEqual({ status: "ok" });
    }
    expectError(await send(port, "GET", "/no-such-route"), 401, "UNAUTHORIZED");
    expectError(await send(port, "GET", "/no-such-route", { authorization: `Bearer ${TOKEN}` }), 404, "NOT_FOUND");
  });

  it("starts nothing without the token; with it, POST /runs starts the named guide", async () => {
    const before = jobs.started.length;
    const body = JSON.stringify({ guide: "unit" });
    const json = { "content-type": "application/json" };
    for (const headers of [
      json,
      { ...json, authorization: "Bearer wrong" },
      { ...json, authorization: basic("x", TOKEN) },
    ]) {
      expectError(await send(port, "POST", "/runs", headers, body), 401, "UNAUTHORIZED");
      expectError(await send(port, "DELETE", "/runs/job-1", headers), 401, "UNAUTHORIZED");
    }
    expectError(await send(port, "POST", `/runs?token=${TOKEN}`, json, body), 401, "UNAUTHORIZED");
    expect(jobs.started.length).toBe(before);
    const accepted = await send(port, "POST", "/runs", { ...json, authorization: `Bearer ${TOKEN}` }, body);
    expect(accepted.status).toBe(202);
    expect(jobs.started.slice(before)).toEqual(["unit"]);
  });
});

describe("POST /runs starts configured guides only, whatever the body says (property)", () => {
  const jobs = recordingJobs();
  const app = createGuideBoardApp({ runsDir, jobs });

  /** Keys an attacker would try, and any other string. */
  const key = fc.oneof(
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        "guide",
        "command",
        "args",
        "env",
        "cwd",
        "shell",
        "script",
        "config",
        "__proto__",
        "constructor",
        "prototype",
        "toString",
        "Guide",
        "guide ",
        "guides",
      ),
    },
    { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
  );
  const name = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...GUIDES) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        "Unit",
        " unit",
        "unit ",
        "unit\n",
        "unit\u0000",
        "e2e;rm -rf /",
        "../unit",
        "__proto__",
        "constructor",
        "toString",
        "",
        "x".repeat(129),
      ),
    },
    { weight: 2, arbitrary: fc.string({ maxLength: 12 }) },
  );
  const leaf = fc.oneof(name, fc.integer(), fc.double(), fc.boolean(), fc.constant(null));
  const { value } = fc.letrec((tie) => ({
    value: fc.oneof({ depthSize: "small", maxDepth: 4 }, leaf, tie("array"), tie("object")),
    array: fc.array(tie("value"), { maxLength: 4 }),
    object: fc.dictionary(key, tie("value"), { maxKeys: 5 }),
  }));
  const body = fc.oneof(
    { weight: 3, arbitrary: name.map((guide) => JSON.stringify({ guide })) },
    {
      weight: 3,
      arbitrary: fc.tuple(name, key, value).map(([guide, extra, v]) => JSON.stringify({ guide, [extra]: v })),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(name, key, value)
        .map(
          ([guide, extra, v]) =>
            `{${JSON.stringify(extra)}:${JSON.stringify(v) ?? "null"},"guide":${JSON.stringify(guide)}}`,
        ),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(value, name).map(([v, guide]) => JSON.stringify({ guide: v === null ? guide : v })),
    },
    { weight: 4, arbitrary: value.map((v) => JSON.stringify(v) ?? "null") },
    { weight: 1, arbitrary: name.map((guide) => `{"guide":"nope","guide":${JSON.stringify(guide)}}`) },
    { weight: 1, arbitrary: name.map((guide) => ` \n{ "guide" : ${JSON.stringify(guide)} }\t`) },
    { weight: 1, arbitrary: name.map((guide) => `{"guide":${JSON.stringify(guide)}}${" ".repeat(4096)}`) },
    { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
    {
      weight: 2,
      arbitrary: fc.string({
        unit: fc.constantFrom("{", "}", "[", "]", '"', ":", ",", "g", "u", "i", "d", "e", "n", "t", " ", "\\", "0"),
        maxLength: 40,
      }),
    },
  );

  /** The guide of a body that is exactly `{ "guide": <string> }` as JSON, else null. */
  const guideOf = (text: string): string | null => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return null;
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return null;
    const keys = Object.keys(parsed);
    const guide = (parsed as Record<string, unknown>).guide;
    return keys.length === 1 && keys[0] === "guide" && typeof guide === "string" ? guide : null;
  };

  const post = async (text: string) => {
    const before = jobs.started.length;
    const response = await app.request("/runs", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: text,
    });
    return { status: response.status, body: await response.text(), calls: jobs.started.slice(before) };
  };

  it('starts a job only for exactly {"guide": <a configured name>}; every other body is a 4xx JSON error, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(body, async (text) => {
        const answer = await post(text);
        const guide = Buffer.byteLength(text) <= 4096 ? guideOf(text) : null;
        expect(answer.status, answer.body).toBeLessThan(500);
        if (guide !== null && GUIDES.includes(guide)) {
          expect(answer.calls).toEqual([guide]);
          expect(answer.status, answer.body).toBe(202);
          expect(JSON.parse(answer.body)).toMatchObject({ guide, state: "queued" });
          return;
        }
        // No job: start() saw nothing (the next test checks only configured names ever reach it).
        expect(
          answer.calls.filter((called) => called !== guide),
          `start() called for body ${JSON.stringify(text)}`,
        ).toEqual([]);
        expect(answer.calls.length).toBeLessThanOrEqual(1);
        expect(answer.status, answer.body).toBeGreaterThanOrEqual(400);
        expect(JSON.parse(answer.body)).toStrictEqual({
          error: { code: expect.stringMatching(/^[A-Z_]+$/), message: expect.any(String) },
        });
      }),
      { numRuns: 400 },
    );
  });

  // Only configured names ever reach the provider, so one that looks names up in a plain object
  // is never handed prototype keys such as "__proto__" or "constructor".
  it("POST /runs calls JobsProvider.start() only with configured guide names", async () => {
    await fc.assert(
      fc.asyncProperty(body, async (text) => {
        const answer = await post(text);
        for (const called of answer.calls)
          expect(GUIDES, `start(${JSON.stringify(called)}) for body ${JSON.stringify(text)}`).toContain(called);
      }),
      { numRuns: 300 },
    );
  });

  it("refuses a body that is not sent as JSON, whatever it holds, and starts nothing", async () => {
    const before = jobs.started.length;
    for (const type of [
      undefined,
      "text/plain",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
      "application/jsonp",
      "application/json-seq",
    ]) {
      const headers: Record<string, string> = type === undefined ? {} : { "content-type": type };
      const response = await app.request("/runs", { method: "POST", headers, body: '{"guide":"unit"}' });
      expectError({ status: response.status, body: await response.text() }, 415, "UNSUPPORTED_MEDIA_TYPE");
    }
    expect(jobs.started.length).toBe(before);
  });
});

describe("CORS is off unless configured", () => {
  let server: RunningServer;
  let port: number;
  const jobs = recordingJobs();

  beforeAll(async () => {
    server = await startServer({ runsDir: [runsDir], port: 0, jobs });
    port = Number(new URL(server.url).port);
  }, 30_000);

  afterAll(async () => {
    await server?.close();
  });

  const ORIGINS = ["https://evil.example", "null", "http://localhost", "http://127.0.0.1"];

  it("answers reads from any Origin without a single Access-Control-* header", async () => {
    for (const origin of ORIGINS) {
      for (const path of ["/retained-runs", `/retained-runs/${RUN}/reports/junit`, "/runs", "/no-such-route"]) {
        const answer = await send(port, "GET", path, { origin });
        expect(
          Object.keys(answer.headers).filter((name) => name.startsWith("access-control-")),
          `${origin} ${path}`,
        ).toEqual([]);
      }
    }
  });

  it("refuses preflights (405, no Access-Control-* headers) and cross-origin writes (403), starting nothing", async () => {
    for (const origin of ORIGINS) {
      const preflight = await send(port, "OPTIONS", "/runs", {
        origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
      });
      expectError(preflight, 405, "METHOD_NOT_ALLOWED");
      expect(Object.keys(preflight.headers).filter((name) => name.startsWith("access-control-"))).toEqual([]);
      const write = await send(
        port,
        "POST",
        "/runs",
        { origin, "content-type": "application/json" },
        '{"guide":"unit"}',
      );
      expectError(write, 403, "FORBIDDEN_ORIGIN");
      expectError(await send(port, "DELETE", "/runs/job-1", { origin }), 403, "FORBIDDEN_ORIGIN");
    }
    expect(jobs.started).toEqual([]);
    const same = await send(
      port,
      "POST",
      "/runs",
      { origin: `http://127.0.0.1:${port}`, "content-type": "application/json" },
      '{"guide":"unit"}',
    );
    expect(same.status).toBe(202);
    expect(jobs.started).toEqual(["unit"]);
  });

  it("with corsOrigins, allows exactly those origins, never credentials, and still refuses the rest", async () => {
    const app = createGuideBoardApp({ runsDir, corsOrigins: ["https://dash.example.com"] });
    const allowed = await app.request("/retained-runs", { headers: { origin: "https://dash.example.com" } });
    expect(allowed.headers.get("access-control-allow-origin")).toBe("https://dash.example.com");
    expect(allowed.headers.get("access-control-allow-credentials")).toBeNull();
    for (const origin of [
      "https://DASH.example.com",
      "https://dash.example.com/",
      "https://dash.example.com:443",
      "https://dash.example.com.evil.example",
      "*",
    ]) {
      const other = await app.request("/retained-runs", { headers: { origin } });
      expect(other.headers.get("access-control-allow-origin"), origin).toBeNull();
    }
  });
});
