// Hostile requests over a real socket, generated as a table: every route that takes a run id, a
// report id, an artifact path or a job id, crossed with every hostile segment (encoded `..`,
// absolute paths, NUL, invalid UTF-8, 64 KiB segments, trailing dots and slashes), plus hostile
// query strings, methods and headers. Paths go out byte for byte through `http.request`; only a
// socket shows what Node's parser, srvx and h3 make of them. Every row must be refused with the
// JSON error shape and leak nothing, and the server must answer /healthz after each one.
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Job, JobsProvider } from "../adapters/jobs.ts";
import { startServer, type RunningServer } from "../cli/serve.ts";
import { rawRequest, type RawAnswer } from "./helpers/http.ts";
import { LINKED, RESULT_JSON, SIBLING, TARGET, writeCanaryWorld } from "./helpers/canaries.ts";

const JOB_ID = "job-0001";

/**
 * The world (test/helpers/canaries.ts): a sibling run whose own report and artifact are a canary;
 * a canary outside the runs directory; a target run whose reports and manifest name links to both;
 * and a link in the runs directory, named like a run, to the sibling run.
 */
const { root, runsDir, siblingCanary: SIBLING_CANARY, outsideCanary: OUTSIDE_CANARY } = writeCanaryWorld();
let server: RunningServer;
let port: number;

/** A jobs provider with one finished job; it records calls, and must never be asked to start. */
const JOB: Job = {
  jobId: JOB_ID,
  guide: "unit",
  state: "succeeded",
  runId: TARGET,
  createdAt: "2026-02-01T00:00:00.000Z",
  startedAt: "2026-02-01T00:00:00.000Z",
  finishedAt: "2026-02-01T00:01:00.000Z",
  exitCode: 0,
  retainedRun: `/retained-runs/${TARGET}`,
};
const started: string[] = [];
const cancelled: string[] = [];
const jobs: JobsProvider = {
  guides: () => ["unit"],
  start: (guide) => {
    started.push(guide);
    return undefined;
  },
  list: () => ({ jobs: [JOB] }),
  get: (jobId) => (jobId === JOB_ID ? JOB : undefined),
  cancel: (jobId) => {
    cancelled.push(jobId);
    return undefined;
  },
};

beforeAll(async () => {
  server = await startServer({ runsDir: [runsDir], port: 0, jobs });
  port = Number(new URL(server.url).port);
}, 30_000);

afterAll(async () => {
  await server?.close();
});

// ---------------------------------------------------------------------------------------------
// The table

type Slot = "run" | "report" | "artifact" | "job";
type HeaderMap = Record<string, string>;

interface Row {
  method: string;
  path: string;
  headers?: HeaderMap;
  /** What the row is, for the test title (a 64 KiB path is not a readable title). */
  label: string;
  /** The exact status, where one is owed; otherwise any 4xx. */
  status?: number;
}

const T = `/retained-runs/${TARGET}`;
const S = `/retained-runs/${SIBLING}`;
const LONG = "a".repeat(64 * 1024);

/** Every route that takes a run id, report id, artifact path or job id, with `{}` for it. */
const TEMPLATES: [slot: Slot, template: string][] = [
  ["run", "/retained-runs/{}"],
  ["run", "/retained-runs/{}/reports"],
  ["run", "/retained-runs/{}/reports/canary"],
  ["run", "/retained-runs/{}/artifact-manifest"],
  ["run", "/retained-runs/{}/artifacts/canary.txt"],
  ["report", `${T}/reports/{}`],
  ["artifact", `${T}/artifacts/{}`],
  ["job", "/runs/{}"],
];

/** Per slot, a value that names a way to a canary: a linked run, a linked report or artifact. */
const CANARY_NAME: Record<Slot, string> = {
  run: LINKED,
  report: "sibling-canary",
  artifact: "links/outside-canary.txt",
  job: "outside-canary.txt",
};

/** `..` in every spelling: dot segments to a URL parser, and look-alikes that are not. */
const DOTS = [
  "..",
  "%2e%2e",
  "%2E%2e",
  ".%2e",
  "%252e%252e",
  "%c0%ae%c0%ae",
  "%e0%80%ae%e0%80%ae",
  "%uff0e%uff0e",
  "%ef%bc%8e%ef%bc%8e",
];
/** The spellings a URL parser takes as a dot segment (resolved before routing). */
const DOT_SEGMENTS = new Set(["..", "%2e%2e", "%2E%2e", ".%2e"]);

type Segment = [label: string, segment: (name: string) => string];

/**
 * Hostile segments, as functions of the slot's canary name. Slash-separated climbs always lead,
 * so a dot segment never climbs from a real route onto another real one; `%2f`-joined climbs
 * stay one segment and name the canaries' real places relative to the run folder.
 */
const SEGMENTS: Segment[] = [
  ...DOTS.flatMap((dots): Segment[] => [
    [`${dots} ×4 to the outside canary`, () => `${dots}/${dots}/${dots}/${dots}/outside-canary.txt`],
    [`${dots} ×3 to the sibling's artifact`, () => `${dots}/${dots}/${dots}/${SIBLING}/assessment-package/canary.txt`],
    [`${dots}%2f to the sibling's report`, () => `${dots}%2f${SIBLING}%2freports%2fcanary.txt`],
    [`${dots}%2f ×3 to the outside canary`, () => `${dots}%2f${dots}%2f${dots}%2foutside-canary.txt`],
    ...(DOT_SEGMENTS.has(dots) ? [] : [[`${dots} alone`, () => dots] as Segment]),
  ]),
  ["..%2F (upper case) to the sibling's artifact", () => `..%2F..%2F..%2F${SIBLING}%2Fassessment-package%2Fcanary.txt`],
  ["..%5c to the sibling's report", () => `..%5c..%5c${SIBLING}%5creports%5ccanary.txt`],
  ["raw backslashes", () => "\\..\\..\\..\\..\\outside-canary.txt"],
  ["%2f.. to the outside canary", () => "%2f..%2f..%2f..%2f..%2foutside-canary.txt"],
  ["..%00", () => "..%00/..%00/..%00/..%00/outside-canary.txt"],
  ["..%00%2f", () => "..%00%2f..%00%2foutside-canary.txt"],
  ["%00", () => "%00"],
  ["the name and %00", (name) => `${name}%00`],
  ["the name, %00 and an extension", (name) => `${name}%00.json`],
  ["/etc/passwd", () => "/etc/passwd"],
  ["%2fetc%2fpasswd", () => "%2fetc%2fpasswd"],
  ["the canary's absolute path, encoded", () => encodeURIComponent(join(root, "outside-canary.txt"))],
  ["// and the name", (name) => `/${name}`],
  ["the name itself", (name) => name],
  ["the name and a trailing dot", (name) => `${name}.`],
  ["the name and two trailing dots", (name) => `${name}..`],
  ["the name and a trailing slash", (name) => `${name}/`],
  ["the name and two trailing slashes", (name) => `${name}//`],
  ["the name and /.", (name) => `${name}/.`],
  ["the name and an encoded trailing slash", (name) => `${name}%2f`],
  ["the name and an encoded trailing dot", (name) => `${name}%2e`],
  ["a 64 KiB segment", () => LONG],
  ["invalid UTF-8 %ff%fe", () => "%ff%fe"],
  ["invalid UTF-8 %c3", () => "%c3"],
  ["a UTF-16 surrogate in UTF-8", (name) => `${name}%ed%a0%80`],
];

const PATH_ROWS: Row[] = TEMPLATES.flatMap(([slot, template]) =>
  SEGMENTS.map(
    ([label, segment]): Row => ({
      method: "GET",
      path: template.replace("{}", segment(CANARY_NAME[slot])),
      label: `${template.replace("{}", `{${slot}}`)} ← ${label}`,
    }),
  ),
);

/** HEAD must be refused just the same, with no body. */
const HEAD_ROWS: Row[] = TEMPLATES.flatMap(([slot, template]) =>
  (
    ["the name itself", "%2e%2e ×4 to the outside canary", "..%2f to the sibling's report", "%252e%252e alone"] as const
  ).map((wanted): Row => {
    const segment = SEGMENTS.find(([label]) => label === wanted)![1];
    return {
      method: "HEAD",
      path: template.replace("{}", segment(CANARY_NAME[slot])),
      label: `${template.replace("{}", `{${slot}}`)} ← ${wanted}`,
    };
  }),
);

const QUERIES = [
  "limit[]=1",
  "limit=1&limit=2",
  "limit=-1",
  "limit=1e3",
  "limit=0x10",
  "status[]=x",
  "status=passed&status=nope",
  "since=yesterday",
  "until=2026-13-45T99:99:99Z",
  "since=2026-01-01T00:00:00Z&since=2026-01-02T00:00:00Z",
  "cursor=%ff",
  "label=noequals",
  "label=%00",
  "__proto__=1",
  "__proto__[limit]=1",
  "toString=1",
  "constructor=1",
  "hasOwnProperty=1",
];
const QUERY_ROWS: Row[] = ["/retained-runs", "/retained-runs/latest"].flatMap((route) =>
  QUERIES.map((query): Row => ({ method: "GET", path: `${route}?${query}`, label: `${route}?${query}`, status: 400 })),
);

/** Routes that only read, by their real paths (so the method is the only thing wrong). */
const READ_ROUTES = [
  "/healthz",
  "/openapi.json",
  "/retained-runs",
  "/retained-runs/latest",
  T,
  `${T}/reports`,
  `${T}/reports/junit`,
  `${T}/artifact-manifest`,
  `${T}/artifacts/out/result.json`,
];
/** PROPFIND is a method llhttp knows; FOO is one it refuses before the app (clientError). */
const METHODS = ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "PROPFIND", "FOO"];
const METHOD_ROWS: Row[] = [
  ...READ_ROUTES.flatMap((path) =>
    METHODS.map((method): Row => ({ method, path, label: `${method} ${path}`, status: method === "FOO" ? 400 : 405 })),
  ),
  ...["POST", "PUT", "PATCH", "OPTIONS", "TRACE"].map(
    (method): Row => ({ method, path: `/runs/${JOB_ID}`, label: `${method} /runs/{job}`, status: 405 }),
  ),
  {
    method: "OPTIONS",
    path: `${T}/artifacts/out/result.json`,
    headers: { origin: "https://evil.example", "access-control-request-method": "GET" },
    label: "a CORS preflight while CORS is off",
    status: 405,
  },
];

/** 2,000 headers of 13 bytes each: past Node's 16 KiB header limit without any one being large. */
const MANY_HEADERS: HeaderMap = Object.fromEntries(
  Array.from({ length: 2000 }, (_, i) => [`x-h-${String(i).padStart(4, "0")}`, "1"]),
);
const HEADER_ROWS: Row[] = [
  "/retained-runs",
  T,
  `${T}/reports/junit`,
  `${T}/artifact-manifest`,
  `${T}/artifacts/out/result.json`,
  `/runs/${JOB_ID}`,
].flatMap((path): Row[] => [
  { method: "GET", path, headers: { "x-pad": LONG }, label: `${path} with a 64 KiB x-pad header`, status: 431 },
  { method: "GET", path, headers: MANY_HEADERS, label: `${path} with 2,000 headers`, status: 431 },
]);

const ROWS: Row[] = [...PATH_ROWS, ...HEAD_ROWS, ...QUERY_ROWS, ...METHOD_ROWS, ...HEADER_ROWS];

/** The only rows that may answer 2xx: a run's own listed files, the sibling's canary through its own URL. */
const CONTROLS: [path: string, body: string][] = [
  [`${T}/artifacts/out/result.json`, RESULT_JSON],
  [`${T}/reports/junit`, "<testsuite/>"],
  [`${S}/reports/canary`, SIBLING_CANARY],
  [`${S}/artifacts/canary.txt`, SIBLING_CANARY],
  [`/runs/${JOB_ID}`, `${JSON.stringify(JOB)}\n`],
];

// ---------------------------------------------------------------------------------------------
// Requests and checks

/** Sends `path` exactly as written, on a new connection, and reads the whole answer. */
const send = (method: string, path: string, headers: HeaderMap = {}) => rawRequest(port, path, { method, headers });

/** Exactly `{ "error": { "code", "message" } }` as JSON, and nothing a client should not see. */
function expectErrorShape(answer: RawAnswer): void {
  expect(answer.headers["content-type"]).toMatch(/^application\/json\b/);
  expect(JSON.parse(answer.body)).toStrictEqual({
    error: { code: expect.stringMatching(/^[A-Z_]+$/), message: expect.any(String) },
  });
}

function expectNothingLeaked(answer: RawAnswer, path: string): void {
  expect(answer.body).not.toContain(SIBLING_CANARY);
  expect(answer.body).not.toContain(OUTSIDE_CANARY);
  expect(answer.body).not.toContain("CANARY-");
  expect(answer.body).not.toMatch(/\bat .*\(.*:\d+:\d+\)|node:internal|\.[cm]?[jt]s:\d+|\bError:/);
  // A message may echo what the client sent; it must not add a folder of this machine.
  if (!_decoded(path).includes(root)) {
    expect(answer.body).not.toContain(root);
    expect(answer.body).not.toMatch(/\/gb-[A-Za-z0-9]{6}\b/);
  }
}

function _decoded(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

async function expectHealthy(): Promise<void> {
  const health = await send("GET", "/healthz");
  expect(health.status).toBe(200);
  expect(JSON.parse(health.body)).toEqual({ status: "ok" });
}

// ---------------------------------------------------------------------------------------------

describe("the fixture", () => {
  it("has live canaries, a table of at least 150 rows, and paths Node sends as they are", async () => {
    expect(readFileSync(join(root, "outside-canary.txt"), "utf8")).toBe(OUTSIDE_CANARY);
    expect(ROWS.length).toBeGreaterThanOrEqual(150);
    expect(PATH_ROWS.length).toBe(TEMPLATES.length * SEGMENTS.length);
    expect(new Set(ROWS.map((row) => `${row.method} ${row.path} ${Object.keys(row.headers ?? {}).length}`)).size).toBe(
      ROWS.length,
    );
  });

  it.each(CONTROLS)("control: GET %s answers 200 with exactly that file (the only 2xx rows)", async (path, body) => {
    const answer = await send("GET", path);
    expect(answer.status).toBe(200);
    expect(answer.body).toBe(body);
  });
});

describe(`hostile requests (${ROWS.length} rows)`, () => {
  it.each(ROWS.map((row) => [row.method, row.label, row] as const))(
    "%s %s → 4xx JSON error, no canary, still healthy",
    async (method, _label, row) => {
      const answer = await send(method, row.path, row.headers);
      expect(answer.status, answer.body).toBeGreaterThanOrEqual(400);
      expect(answer.status, answer.body).toBeLessThan(500);
      if (row.status !== undefined) expect(answer.status, answer.body).toBe(row.status);
      if (answer.status === 405) expect(answer.headers.allow).toMatch(/^GET, HEAD\b/);
      if (method === "HEAD") expect(answer.body).toBe("");
      else expectErrorShape(answer);
      expectNothingLeaked(answer, row.path);
      await expectHealthy();
    },
  );

  it("answers CONNECT with a 4xx or by closing the connection, and stays healthy", async () => {
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect({ host: "127.0.0.1", port });
      let text = "";
      socket.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
      socket.on("close", () => resolve(text));
      socket.on("error", (error: NodeJS.ErrnoException) =>
        error.code === "ECONNRESET" ? resolve(text) : reject(error),
      );
      socket.setTimeout(5000, () => socket.destroy(new Error("CONNECT: no answer and no close within 5 s")));
      socket.write(`CONNECT ${TARGET}.example:443 HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
    });
    if (raw !== "") expect(raw).toMatch(/^HTTP\/1\.1 4\d\d /);
    expect(raw).not.toContain("CANARY-");
    await expectHealthy();
  });

  it("never asked the jobs provider to start or cancel anything", () => {
    expect(started).toEqual([]);
    expect(cancelled).toEqual([]);
  });
});
