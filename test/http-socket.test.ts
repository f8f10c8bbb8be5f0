// Path safety over a real socket: raw request paths, written byte for byte, at every route that
// takes a run id, a report id or an artifact path. In-process `app.request` would hand the app an
// already-parsed URL; only a socket shows what Node's parser, srvx and h3 make of the raw bytes.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../cli/serve.ts";
import { rawRequest, type RawAnswer } from "./helpers/http.ts";
import { RESULT_JSON, SIBLING, TARGET, writeCanaryWorld } from "./helpers/canaries.ts";

const SPACED_TEXT = "a listed file with a space in its name";
const ACCENTED_TEXT = "a listed file with a non-ASCII name";
const LITERAL_DOTS_TEXT = "a listed file named %2e%2e, literally";

/**
 * The world (test/helpers/canaries.ts): a target run whose reports and manifest also name links to
 * two canaries — one in a sibling run (a report and an artifact of that run's own), one outside
 * the runs directory — plus listed files of its own whose names a URL must escape.
 */
const {
  root,
  runsDir,
  siblingCanary: SIBLING_CANARY,
  outsideCanary: OUTSIDE_CANARY,
} = writeCanaryWorld({
  reports: [{ id: "Test Report", path: "reports/test report.txt", content: SPACED_TEXT }],
  artifacts: {
    "out/my report.txt": SPACED_TEXT,
    "out/résumé.txt": ACCENTED_TEXT,
    "out/%2e%2e": LITERAL_DOTS_TEXT,
  },
});
let server: RunningServer;
let port: number;

beforeAll(async () => {
  server = await startServer({ runsDir: [runsDir], port: 0 });
  port = Number(new URL(server.url).port);
}, 30_000);

afterAll(async () => {
  await server?.close();
});

/** Sends `path` exactly as written, on a new connection, and reads the whole answer. */
const send = (method: string, path: string, headers: Record<string, string> = {}) =>
  rawRequest(port, path, { method, headers });

/** Asserts `body` is exactly `{ "error": { "code", "message" } }` and leaks no stack or file path. */
function expectErrorShape(body: string): void {
  const parsed = JSON.parse(body) as unknown;
  expect(parsed).toEqual({ error: { code: expect.stringMatching(/^[A-Z_]+$/), message: expect.any(String) } });
  expect(body).not.toMatch(/\bat .*\(.*:\d+:\d+\)|node:internal|\.ts:\d+/);
  expect(body).not.toContain(root);
}

function expectNoCanary(answer: RawAnswer): void {
  expect(answer.body).not.toContain(SIBLING_CANARY);
  expect(answer.body).not.toContain(OUTSIDE_CANARY);
  expect(answer.body).not.toContain("CANARY-");
}

async function expectHealthy(): Promise<void> {
  const health = await send("GET", "/healthz");
  expect(health.status).toBe(200);
  expect(JSON.parse(health.body)).toEqual({ status: "ok" });
}

const R = `/retained-runs/${TARGET}`;
const S = `/retained-runs/${SIBLING}`;
const LONG = "a".repeat(64 * 1024);

/** Every row must answer 4xx with the JSON error shape (HEAD: no body) and never a canary. */
const HOSTILE: [method: string, path: string][] = [
  // `..` and `.` in encodings that are not dot segments to a URL parser: taken literally, refused.
  ["GET", "/retained-runs/%252e%252e"],
  ["GET", `${R}/reports/%252e%252e%252f%252e%252e%252f${SIBLING}`],
  ["GET", `${R}/artifacts/%252e%252e/%252e%252e/%252e%252e/${SIBLING}/assessment-package/canary.txt`],
  ["GET", "/retained-runs/%c0%ae%c0%ae/reports"],
  ["GET", `${R}/reports/%c0%ae%c0%ae%c0%af%c0%ae%c0%ae`],
  ["GET", `${R}/artifacts/%c0%ae%c0%ae/%c0%ae%c0%ae/${SIBLING}/assessment-package/canary.txt`],
  ["GET", "/retained-runs/%e0%80%ae%e0%80%ae"],
  ["GET", `${R}/artifacts/%e0%80%ae%e0%80%ae/%e0%80%ae%e0%80%ae/outside-canary.txt`],
  ["GET", "/retained-runs/%uff0e%uff0e/artifact-manifest"],
  ["GET", `${R}/reports/%uff0e%uff0e%u2215etc%u2215passwd`],
  ["GET", `${R}/artifacts/%uff0e%uff0e/%uff0e%uff0e/outside-canary.txt`],
  ["GET", "/retained-runs/%ef%bc%8e%ef%bc%8e/reports"],
  ["GET", `${R}/reports/%ef%bc%8e%ef%bc%8e`],
  ["GET", `${R}/artifacts/%ef%bc%8e%ef%bc%8e/%ef%bc%8e%ef%bc%8e/${SIBLING}/assessment-package/canary.txt`],
  ["GET", "/retained-runs/..%2f..%2fetc%2fpasswd"],
  ["GET", `${R}/reports/..%2f..%2f${SIBLING}%2freports%2fcanary.txt`],
  ["GET", `${R}/artifacts/..%2f..%2f..%2f${SIBLING}%2fassessment-package%2fcanary.txt`],
  ["GET", `${R}/artifacts/..%2F..%2F..%2F..%2Foutside-canary.txt`],
  ["GET", "/retained-runs/..%5c..%5cwindows%5cwin.ini"],
  ["GET", `${R}/reports/..%5c..%5c${SIBLING}%5creports%5ccanary.txt`],
  ["GET", `${R}/artifacts/..%5c..%5c..%5c${SIBLING}%5cassessment-package%5ccanary.txt`],
  ["GET", `/retained-runs/%2f..%2f..%2fetc%2fpasswd`],
  ["GET", `${R}/reports/%2f..%2f..%2f${SIBLING}%2freports%2fcanary.txt`],
  ["GET", `${R}/artifacts/%2f..%2f..%2f..%2foutside-canary.txt`],
  ["GET", `/retained-runs/\\..\\..\\etc\\passwd`],
  ["GET", `${R}/reports/\\..\\..\\${SIBLING}\\reports\\canary.txt`],
  ["GET", `${R}/artifacts/\\..\\..\\..\\outside-canary.txt`],
  // Dot segments that climb above the API root land on no route.
  ["GET", `${R}/artifacts/../../../../../../etc/passwd`],
  ["GET", `${R}/artifacts/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/outside-canary.txt`],
  ["GET", `${R}/reports/%2E%2E/%2E%2E/%2E%2E/%2E%2E/etc/passwd`],
  ["GET", `${R}/artifacts/.%2e/.%2e/.%2e/.%2e/.%2e/etc/passwd`],
  // Encoded and double-encoded slashes.
  ["GET", `/retained-runs/${TARGET}%2freports`],
  ["GET", `${R}/reports/reports%2fjunit.xml`],
  ["GET", `${R}/artifacts/out%2fresult.json`],
  ["GET", `${R}/artifacts/out%252fresult.json`],
  ["GET", `${R}%252fartifacts%252fout%252fresult.json`],
  ["GET", `${R}/artifacts/links%2F..%2F..%2F..%2F${SIBLING}%2Fassessment-package%2Fcanary.txt`],
  // NUL.
  ["GET", `/retained-runs/${TARGET}%00`],
  ["GET", `${R}/reports/junit%00`],
  ["GET", `${R}/artifacts/out/result.json%00`],
  ["GET", `${R}/artifacts/out/result.json%00.png`],
  // Absolute paths.
  ["GET", `${R}/artifacts//etc/passwd`],
  ["GET", `${R}/artifacts/%2fetc%2fpasswd`],
  ["GET", `${R}/artifacts/${root.slice(1)}/outside-canary.txt`],
  ["GET", `${R}/reports/%2fetc%2fpasswd`],
  ["GET", "//etc/passwd"],
  ["GET", `//retained-runs/${TARGET}/artifacts/out/result.json`],
  ["GET", `/retained-runs//etc/passwd`],
  // The canaries by their real names relative to the run, and the links to them.
  ["GET", `${R}/reports/sibling-canary`],
  ["HEAD", `${R}/reports/sibling-canary`],
  ["GET", `${R}/reports/outside-canary`],
  ["GET", `${R}/artifacts/links/sibling-canary.txt`],
  ["HEAD", `${R}/artifacts/links/sibling-canary.txt`],
  ["GET", `${R}/artifacts/links/outside-canary.txt`],
  ["GET", `${R}/artifacts/links//outside-canary.txt`],
  ["GET", `${R}/artifacts/sibling-dir/reports/canary.txt`],
  ["GET", `${R}/artifacts/sibling-dir/assessment-package/canary.txt`],
  ["GET", `${R}/reports/canary`],
  ["GET", `${R}/artifacts/canary.txt`],
  ["GET", `${R}/artifacts/reports/sibling-canary.txt`],
  ["GET", `${R}/artifacts/..%2freports%2fsibling-canary.txt`],
  ["GET", `${R}/artifacts/outside-canary.txt`],
  ["GET", `${R}/artifacts/retention-summary.json`],
  ["GET", `${R}/artifacts/artifact-manifest.json`],
  ["GET", `${R}/reports/retention-summary.json`],
  ["GET", `${R}/reports/reports%2fsibling-canary.txt`],
  // Trailing dots and slashes.
  ["GET", `/retained-runs/${TARGET}./reports`],
  ["GET", `/retained-runs/${TARGET}.../artifact-manifest`],
  ["GET", `${R}/reports/junit.`],
  ["GET", `${R}/reports/sibling-canary/`],
  ["GET", `${R}/artifacts/out/result.json.`],
  ["GET", `${R}/artifacts/links/outside-canary.txt/`],
  ["GET", `${R}/artifacts/links/sibling-canary.txt%2f`],
  // A 64 KiB segment (Node's parser refuses it before the app: 431 from the clientError handler).
  ["GET", `/retained-runs/${LONG}`],
  ["GET", `${R}/reports/${LONG}`],
  ["GET", `${R}/artifacts/${LONG}`],
  // Invalid UTF-8.
  ["GET", "/retained-runs/%ff%fe"],
  ["GET", `${R}/reports/%ff%fe`],
  ["GET", `${R}/artifacts/out/%ff%fe.json`],
  ["GET", `${R}/artifacts/%c3`],
  // Query strings with arrays and wrong types.
  ["GET", "/retained-runs?limit=abc"],
  ["GET", "/retained-runs?limit[]=1"],
  ["GET", "/retained-runs?limit=1&limit=2"],
  ["GET", "/retained-runs?limit=0"],
  ["GET", "/retained-runs?limit=-1"],
  ["GET", "/retained-runs?limit=1e3"],
  ["GET", "/retained-runs?limit=99999999999999999999"],
  ["GET", "/retained-runs?status=passed&status=nope"],
  ["GET", "/retained-runs/latest?status=passed&status=nope"],
  ["GET", "/retained-runs/latest?status[]=passed"],
  ["GET", "/retained-runs/latest?limit=1"],
  ["GET", "/retained-runs?cursor=%ff"],
  ["GET", "/retained-runs?cursor=a&cursor=b"],
  ["GET", "/retained-runs?cursor[]=x"],
  ["GET", "/retained-runs?since=yesterday"],
  ["GET", "/retained-runs?since=a&since=b"],
  ["GET", "/retained-runs?label=%00"],
  ["GET", "/retained-runs?label[suite]=unit"],
  ["GET", "/retained-runs?constructor[prototype][x]=1"],
  ["GET", "/retained-runs?__proto__[x]=1"],
  // Methods other than GET and HEAD, on every kind of route.
  ["POST", `${R}/artifacts/out/result.json`],
  ["PUT", `${R}/artifacts/out/result.json`],
  ["DELETE", R],
  ["PATCH", `${R}/reports/junit`],
  ["OPTIONS", `${R}/reports`],
  ["TRACE", `${R}/artifact-manifest`],
  ["POST", "/retained-runs"],
  ["DELETE", "/retained-runs/latest"],
  ["PUT", `${R}/artifacts/links/outside-canary.txt`],
  ["OPTIONS", "*"],
];

/** Explicitly safe controls: a listed file of the target run by its plain name answers 200 with it. */
const CONTROLS: [path: string, content: string][] = [
  [`${R}/artifacts/out/result.json`, RESULT_JSON],
  [`${R}/reports/junit`, "<testsuite/>"],
];

/**
 * A listed file named with `.` or empty segments (dropped by the path rules) or a trailing slash:
 * either that exact file or a 4xx error is fine — never anything else.
 */
const LENIENT: string[] = [
  `${R}/artifacts/./out/result.json`,
  `${R}/artifacts/out/./result.json`,
  `${R}/artifacts/%2e/out/result.json`,
  `${R}/artifacts/out//result.json`,
  `${R}/artifacts/out/result.json/`,
  `${R}/artifacts/out/result.json/.`,
];

/** `..` and `.` as whole segments, plain or percent-encoded, that resolve to another existing route. */
const DOT_SEGMENTS: string[] = [
  `${R}/reports/..`,
  `${R}/reports/%2e%2e`,
  `${R}/reports/%2E%2E`,
  `${R}/reports/.%2e`,
  `${R}/reports/%2e.`,
  `${R}/reports/.`,
  `${R}/reports/%2e`,
  `${R}/reports/junit/%2e%2e/junit`,
  `${R}/artifacts/%2e%2e/reports`,
  `${R}/artifacts/../artifact-manifest`,
  `${R}/artifacts/out/%2e%2e/%2e%2e/%2e%2e/${SIBLING}/reports/canary`,
  `${R}/reports/%2e%2e/%2e%2e/${SIBLING}/artifacts/canary.txt`,
  `/retained-runs/%2e%2e/retained-runs/${TARGET}`,
  `/retained-runs/./latest`,
  `/retained-runs/nope/%2E%2E`,
];

/** Query keys that name members of `Object.prototype`. */
const PROTOTYPE_KEYS: string[] = [
  "/retained-runs?__proto__=1",
  "/retained-runs?toString=1",
  "/retained-runs?constructor=1",
  "/retained-runs?hasOwnProperty=x",
  "/retained-runs/latest?__proto__=1",
  "/retained-runs/latest?valueOf=1",
];

describe("hostile raw request paths", () => {
  it("has a fixture whose canaries are real and readable (the sibling's own report serves it)", async () => {
    expect(readFileSync(join(root, "outside-canary.txt"), "utf8")).toBe(OUTSIDE_CANARY);
    const own = await send("GET", `${S}/reports/canary`);
    expect(own.status).toBe(200);
    expect(own.body).toBe(SIBLING_CANARY);
    expect(HOSTILE.length).toBeGreaterThanOrEqual(60);
  });

  const shown = (path: string) => (path.length > 200 ? `${path.slice(0, 120)}… (${path.length} characters)` : path);
  it.each(HOSTILE.map(([method, path]) => [method, shown(path), path]))(
    "%s %s answers 4xx with the JSON error shape, no canary",
    async (method, _shown, path) => {
      const answer = await send(method, path);
      expect(answer.status, answer.body).toBeGreaterThanOrEqual(400);
      expect(answer.status, answer.body).toBeLessThan(500);
      if (method === "HEAD") expect(answer.body).toBe("");
      else expectErrorShape(answer.body);
      expectNoCanary(answer);
      await expectHealthy();
    },
  );

  it("answers a 64 KiB URL with 431 and the JSON error shape from the clientError handler", async () => {
    for (const path of [`/retained-runs/${LONG}`, `${R}/artifacts/${LONG}`]) {
      const answer = await send("GET", path);
      expect(answer.status).toBe(431);
      expect(answer.headers["content-type"]).toMatch(/^application\/json/);
      expect(JSON.parse(answer.body)).toEqual({ error: { code: "BAD_REQUEST", message: expect.any(String) } });
    }
    await expectHealthy();
  });

  it.each(CONTROLS)("GET %s (a listed file) answers 200 with exactly that file", async (path, content) => {
    const answer = await send("GET", path);
    expect(answer.status).toBe(200);
    expect(answer.body).toBe(content);
  });

  it.each(LENIENT)("GET %s answers either the listed file or a 4xx error", async (path) => {
    const answer = await send("GET", path);
    if (answer.status === 200) expect(answer.body).toBe(RESULT_JSON);
    else {
      expect(answer.status).toBeGreaterThanOrEqual(400);
      expect(answer.status).toBeLessThan(500);
      expectErrorShape(answer.body);
    }
  });

  // The URL parser resolves `..`, `%2e%2e` and `.` segments before routing (test/http.test.ts relies
  // on it), so these can only ever reach what the resolved URL itself reaches: same answer, or 4xx.
  it.each(DOT_SEGMENTS)("GET %s answers like the URL it resolves to, or 4xx — never more", async (path) => {
    const resolved = new URL(path, "http://127.0.0.1").pathname;
    expect(resolved).not.toMatch(/(^|\/)(\.|%2e){1,2}(\/|$)/i);
    const answer = await send("GET", path);
    expect(answer.status).toBeLessThan(500);
    expect(answer.body).not.toContain(OUTSIDE_CANARY);
    if (answer.status >= 400) expectErrorShape(answer.body);
    else {
      const plain = await send("GET", resolved);
      expect({ status: answer.status, body: answer.body }).toEqual({ status: plain.status, body: plain.body });
    }
  });

  it("decodes a listed file's percent-encoded name exactly once", async () => {
    const answers: Record<string, string> = {};
    const expected: Record<string, string> = {
      [`${R}/artifacts/out/my%20report.txt`]: `200 ${SPACED_TEXT}`,
      [`${R}/artifacts/out/r%C3%A9sum%C3%A9.txt`]: `200 ${ACCENTED_TEXT}`,
      [`${R}/artifacts/out/%252e%252e`]: `200 ${LITERAL_DOTS_TEXT}`,
      [`${R}/reports/Test%20Report`]: `200 ${SPACED_TEXT}`,
    };
    for (const path of Object.keys(expected)) {
      const answer = await send("GET", path);
      answers[path] = `${answer.status} ${answer.body}`;
    }
    expect(answers).toEqual(expected);
  });

  // Query keys are grouped in an object without a prototype, so `toString`, `__proto__` and the
  // like are plain unknown parameters (400 INVALID_OPTIONS), never Object.prototype members.
  it("answers query keys named like Object.prototype members with 400, not 500", async () => {
    const statuses: Record<string, number> = {};
    for (const path of PROTOTYPE_KEYS) {
      const answer = await send("GET", path);
      statuses[path] = answer.status;
      expectErrorShape(answer.body);
    }
    expect(statuses).toEqual(Object.fromEntries(PROTOTYPE_KEYS.map((path) => [path, 400])));
    await expectHealthy();
  });
});

describe("links to the canaries", () => {
  it("lists the report refs and manifest entries that link out as unsafe, never their target", async () => {
    const reports = await send("GET", `${R}/reports`);
    expect(reports.status).toBe(200);
    expectNoCanary(reports);
    const byId = Object.fromEntries(
      (JSON.parse(reports.body) as { reports: { id: string }[] }).reports.map((r) => [r.id, r]),
    );
    expect(byId["sibling-canary"]).toMatchObject({ unsafe: true, reason: "escapes-run", exists: false });
    expect(byId["outside-canary"]).toMatchObject({ unsafe: true, reason: "escapes-run", exists: false });
    const manifest = await send("GET", `${R}/artifact-manifest`);
    expect(manifest.status).toBe(200);
    expectNoCanary(manifest);
    const byPath = Object.fromEntries(
      (JSON.parse(manifest.body) as { artifacts: { path: string }[] }).artifacts.map((a) => [a.path, a]),
    );
    for (const path of [
      "links/sibling-canary.txt",
      "links/outside-canary.txt",
      "sibling-dir/reports/canary.txt",
      "sibling-dir/assessment-package/canary.txt",
    ]) {
      expect(byPath[path]).toMatchObject({ unsafe: true, reason: "escapes-run", exists: false });
    }
  });

  it.each([
    `${R}/reports/sibling-canary`,
    `${R}/reports/outside-canary`,
    `${R}/artifacts/links/sibling-canary.txt`,
    `${R}/artifacts/links/outside-canary.txt`,
    `${R}/artifacts/sibling-dir/reports/canary.txt`,
  ])("GET and HEAD %s answer 403 or 404, never the canary, with or without Range and If-None-Match", async (path) => {
    const variants: Record<string, string>[] = [
      {},
      { range: "bytes=0-" },
      { range: "bytes=-5" },
      { "if-none-match": "*" },
    ];
    for (const headers of variants) {
      const get = await send("GET", path, headers);
      expect([403, 404]).toContain(get.status);
      expectErrorShape(get.body);
      expectNoCanary(get);
      const head = await send("HEAD", path, headers);
      expect(head.status).toBe(get.status);
      expect(head.body).toBe("");
    }
  });
});

describe("after the table", () => {
  it("still answers GET /healthz on a new connection", async () => {
    await expectHealthy();
  });
});
