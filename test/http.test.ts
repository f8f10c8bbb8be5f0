import { readFileSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { H3 } from "h3";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import type { GuideBoardAppOptions } from "../adapters/h3.ts";
import { createOpenAPIDocument } from "../adapters/openapi.ts";
import {
  artifactManifest,
  artifactManifestSchema,
  compatibilityMarkerSchema,
  diagnosticSchema,
  getRetainedRun,
  latestRun,
  listRetainedRuns,
  reportListSchema,
  reportPaths,
  retainedRunSchema,
  toJSONText,
} from "../src/index.ts";
import { version } from "../package.json";
import {
  makeRunsDir,
  sha256,
  writeCurrentRun,
  writeFile,
  writeIncompleteRun,
  writeLegacyRun,
  writeManyRuns,
  writeSummaryText,
  writeUnsafeReportsRun,
} from "./helpers/runs.ts";
import { describeAppMatrix } from "./helpers/app-matrix.ts";
import { libraryErrorText } from "./helpers/cli.ts";
import { EXAMPLES, FAILED, INCOMPLETE, LEGACY, PASSED } from "./helpers/examples.ts";

const examples = { runsDir: EXAMPLES };

/** Every route of the contract, as a concrete path on the example runs. */
const ROUTES = [
  "/healthz",
  "/openapi.json",
  "/retained-runs",
  "/retained-runs/latest",
  `/retained-runs/${PASSED}`,
  `/retained-runs/${PASSED}/reports`,
  `/retained-runs/${PASSED}/reports/html`,
  `/retained-runs/${PASSED}/artifact-manifest`,
  `/retained-runs/${PASSED}/artifacts/coverage/coverage-summary.json`,
] as const;

interface Answer {
  status: number;
  headers: Headers;
  body: Buffer;
  text: string;
}

/** One in-process request; the body is always read, so no file handle stays open. */
async function request(app: H3, path: string, init: RequestInit = {}): Promise<Answer> {
  const response = await app.request(path, init);
  const body = Buffer.from(await response.arrayBuffer());
  return { status: response.status, headers: response.headers, body, text: body.toString("utf8") };
}

/** Asserts the JSON error shape, status and code; returns the message. */
function expectError(answer: Answer, status: number, code: string): string {
  expect(answer.status).toBe(status);
  expect(answer.headers.get("content-type")).toBe("application/json; charset=utf-8");
  const body = JSON.parse(answer.text) as { error: { code: string; message: string } };
  expect(body).toEqual({ error: { code, message: expect.any(String) } });
  expect(answer.text).toBe(toJSONText(body));
  return body.error.message;
}

const query = (params: Record<string, string | string[]>) => {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) for (const one of [value].flat()) search.append(key, one);
  return search.toString();
};

const document = createOpenAPIDocument() as {
  openapi: string;
  info: { version: string };
  paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
  components: { schemas: Record<string, Record<string, unknown>> };
};
const schemas = document.components.schemas;
const jsonSchemaOf = (schema: z.ZodType) => {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema) as Record<string, unknown>;
  return rest;
};
/** A zod validator converted back from a component of the served document. */
const validator = (name: string) => z.fromJSONSchema(schemas[name] as Parameters<typeof z.fromJSONSchema>[0]);

describe("OpenAPI document", () => {
  it("documents every route, with GET on the read routes and POST/DELETE only on jobs", () => {
    expect(Object.keys(document.paths).sort()).toEqual(
      [
        "/healthz",
        "/runs",
        "/runs/{jobId}",
        "/retained-runs",
        "/retained-runs/latest",
        "/retained-runs/{runId}",
        "/retained-runs/{runId}/reports",
        "/retained-runs/{runId}/reports/{reportId}",
        "/retained-runs/{runId}/artifact-manifest",
        "/retained-runs/{runId}/artifacts/{path}",
        "/retained-runs/{runId}/logs",
        "/retained-runs/{runId}/logs/{logId}",
        "/runs/{jobId}/log",
        "/retained-runs/{runId}/tests",
        "/retained-runs/compare",
        "/tests/history",
        "/tests/top",
      ].sort(),
    );
    for (const [path, operations] of Object.entries(document.paths)) {
      const expected = path === "/runs" ? ["get", "post"] : path === "/runs/{jobId}" ? ["get", "delete"] : ["get"];
      expect(Object.keys(operations), path).toEqual(expected);
    }
  });

  it("points each JSON route at its component, and every $ref resolves", () => {
    const ok = (path: string) => JSON.stringify(document.paths[path]?.get?.responses["200"]);
    expect(ok("/retained-runs")).toContain("#/components/schemas/RetainedRunList");
    expect(ok("/retained-runs/latest")).toContain('#/components/schemas/RetainedRun"');
    expect(ok("/retained-runs/{runId}")).toContain('#/components/schemas/RetainedRun"');
    expect(ok("/retained-runs/{runId}/reports")).toContain("#/components/schemas/ReportList");
    expect(ok("/retained-runs/{runId}/artifact-manifest")).toContain("#/components/schemas/ArtifactManifest");
    expect(ok("/retained-runs/{runId}/artifact-manifest")).toContain("#/components/schemas/CompatibilityMarker");
    const refs = [...JSON.stringify(document).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map(
      (match) => match[1]!,
    );
    expect(refs.length).toBeGreaterThan(10);
    for (const name of refs) expect(schemas).toHaveProperty(name);
  });

  it("generates the component schemas from the library's zod schemas", () => {
    expect(schemas.RetainedRun).toEqual(jsonSchemaOf(retainedRunSchema));
    expect(schemas.ReportList).toEqual(jsonSchemaOf(reportListSchema));
    expect(schemas.ArtifactManifest).toEqual(jsonSchemaOf(artifactManifestSchema));
    expect(schemas.CompatibilityMarker).toEqual(jsonSchemaOf(compatibilityMarkerSchema));
    expect(schemas.Diagnostic).toEqual(jsonSchemaOf(diagnosticSchema));
    const list = schemas.RetainedRunList as { properties: Record<string, { items?: unknown }>; required: string[] };
    expect(list.properties.runs?.items).toEqual(schemas.RetainedRun);
    expect(list.properties.diagnostics?.items).toEqual(schemas.Diagnostic);
    expect([...list.required].sort()).toEqual(["diagnostics", "runs"]);
  });
});

// Every route, against the stateless app and against the app answering from a run index.
describeAppMatrix("HTTP API", ({ createApp, indexed, caughtUp }) => {
  const examplesApp = createApp({ runsDir: EXAMPLES });
  const get = (path: string, init: RequestInit = {}) => request(examplesApp, path, init);

  describe("JSON routes answer with the library's bytes", () => {
    const cases: [string, () => Promise<unknown>][] = [
      ["/healthz", async () => ({ status: "ok" })],
      ["/openapi.json", async () => createOpenAPIDocument()],
      ["/retained-runs", () => listRetainedRuns({ ...examples, limit: 100 })],
      ["/retained-runs/latest", () => latestRun(examples)],
      [`/retained-runs/${PASSED}`, () => getRetainedRun(examples, PASSED)],
      [`/retained-runs/${LEGACY}`, () => getRetainedRun(examples, LEGACY)],
      [`/retained-runs/${PASSED}/reports`, () => reportPaths(examples, PASSED)],
      [`/retained-runs/${LEGACY}/reports`, () => reportPaths(examples, LEGACY)],
      [`/retained-runs/${PASSED}/artifact-manifest`, () => artifactManifest(examples, PASSED)],
      [`/retained-runs/${FAILED}/artifact-manifest`, () => artifactManifest(examples, FAILED)],
      [`/retained-runs/${LEGACY}/artifact-manifest`, () => artifactManifest(examples, LEGACY)],
    ];

    it.each(cases)("GET %s is toJSONText of the library result", async (path, library) => {
      const answer = await get(path);
      expect(answer.status).toBe(200);
      expect(answer.text).toBe(toJSONText(await library()));
      expect(answer.headers.get("content-type")).toBe("application/json; charset=utf-8");
      expect(answer.headers.get("x-content-type-options")).toBe("nosniff");
    });

    it.each(cases)("HEAD %s answers 200 with the JSON headers and no body", async (path) => {
      const answer = await get(path, { method: "HEAD" });
      expect(answer.status).toBe(200);
      expect(answer.headers.get("content-type")).toBe("application/json; charset=utf-8");
      expect(answer.body.length).toBe(0);
    });

    it("answers the legacy run's artifact manifest with the compatibility marker, not an error", async () => {
      const marker = JSON.parse((await get(`/retained-runs/${LEGACY}/artifact-manifest`)).text);
      expect(marker).toMatchObject({ runId: LEGACY, available: false, reason: "legacy-run" });
    });

    it("answers the newest run for /retained-runs/latest, skipping the incomplete folder", async () => {
      expect(JSON.parse((await get("/retained-runs/latest")).text).runId).toBe(FAILED);
    });
  });

  describe("filters and pagination", () => {
    const listCases: [Record<string, string | string[]>, string[]][] = [
      [{}, [FAILED, PASSED, LEGACY]],
      [{ status: "failed" }, [FAILED]],
      [{ status: ["passed", "failed"] }, [FAILED, PASSED, LEGACY]],
      [{ status: "errored" }, []],
      [{ label: "branch=main" }, [PASSED]],
      [{ label: ["suite=unit", "branch=feature/login"] }, [FAILED]],
      [{ label: "branch=nope" }, []],
      [{ since: "2026-01-01T00:00:00Z" }, [FAILED, PASSED]],
      [{ until: "2026-01-01T00:00:00Z" }, [LEGACY]],
      [{ since: "2026-11-20T09:00:00Z", until: "2026-11-21T14:15:00Z" }, [PASSED]],
      [{ status: "passed", label: "suite=unit", since: "2026-01-01T00:00:00Z" }, [PASSED]],
    ];

    it.each(listCases)("GET /retained-runs?%o lists the library's page", async (params, ids) => {
      const answer = await get(`/retained-runs?${query(params)}`);
      expect(answer.status).toBe(200);
      expect(answer.text).toBe(toJSONText(await listRetainedRuns({ ...examples, ...params, limit: 100 })));
      expect((JSON.parse(answer.text) as { runs: { runId: string }[] }).runs.map((run) => run.runId)).toEqual(ids);
    });

    const latestCases: [Record<string, string | string[]>, string][] = [
      [{ status: "passed" }, PASSED],
      [{ status: ["passed", "cancelled"] }, PASSED],
      [{ label: "branch=main" }, PASSED],
      [{ until: "2026-01-01T00:00:00Z" }, LEGACY],
    ];

    it.each(latestCases)("GET /retained-runs/latest?%o is the library's latest run", async (params, runId) => {
      const answer = await get(`/retained-runs/latest?${query(params)}`);
      expect(answer.status).toBe(200);
      expect(answer.text).toBe(toJSONText(await latestRun({ ...examples, ...params })));
      expect(JSON.parse(answer.text).runId).toBe(runId);
    });

    it("answers 404 RUN_NOT_FOUND when no run matches latest's filters", async () => {
      expectError(await get("/retained-runs/latest?status=errored"), 404, "RUN_NOT_FOUND");
      expectError(await get("/retained-runs/latest?until=2000-01-01T00:00:00Z"), 404, "RUN_NOT_FOUND");
      const { runsDir } = makeRunsDir();
      expectError(await request(createApp({ runsDir }), "/retained-runs/latest"), 404, "RUN_NOT_FOUND");
    });

    it("walks every page by following nextCursor, each page the library's own", async () => {
      const { runsDir } = makeRunsDir();
      writeManyRuns(runsDir, 23, (i) => ({ shard: String(i % 2) }));
      const app = createApp({ runsDir });
      const params = { status: "passed", label: "shard=1", limit: "3" };
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const path = `/retained-runs?${query(cursor === undefined ? params : { ...params, cursor })}`;
        const answer = await request(app, path);
        expect(answer.status).toBe(200);
        const library = await listRetainedRuns({ runsDir, status: "passed", label: "shard=1", limit: 3, cursor });
        expect(answer.text).toBe(toJSONText(library));
        seen.push(...library.runs.map((run) => run.runId));
        cursor = library.nextCursor;
        pages++;
      } while (cursor !== undefined && pages < 20);
      const all = await listRetainedRuns({ runsDir, status: "passed", label: "shard=1" });
      expect(seen).toEqual(all.runs.map((run) => run.runId));
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen.length).toBe(7);
      expect(pages).toBe(3);
    });

    it("pages 100 runs by default, honours defaultLimit, and accepts limit 1 and 1000", async () => {
      const { runsDir } = makeRunsDir();
      const ids = writeManyRuns(runsDir, 105);
      const first = JSON.parse((await request(createApp({ runsDir }), "/retained-runs")).text);
      expect(first.runs).toHaveLength(100);
      expect(first.runs[0].runId).toBe(ids[104]);
      expect(first.nextCursor).toEqual(expect.any(String));
      const rest = JSON.parse(
        (await request(createApp({ runsDir }), `/retained-runs?cursor=${first.nextCursor}`)).text,
      );
      expect(rest.runs.map((run: { runId: string }) => run.runId)).toEqual(ids.slice(0, 5).reverse());
      expect(rest.nextCursor).toBeUndefined();

      const small = await request(createApp({ runsDir, defaultLimit: 4 }), "/retained-runs");
      expect(small.text).toBe(toJSONText(await listRetainedRuns({ runsDir, limit: 4 })));
      const one = await request(createApp({ runsDir }), "/retained-runs?limit=1");
      expect(JSON.parse(one.text).runs).toHaveLength(1);
      const max = await request(createApp({ runsDir }), "/retained-runs?limit=1000");
      expect(max.text).toBe(toJSONText(await listRetainedRuns({ runsDir, limit: 1000 })));
      expect(JSON.parse(max.text).runs).toHaveLength(105);
    });

    it("reports skipped folders as diagnostics in the list body", async () => {
      const { runsDir } = makeRunsDir();
      writeCurrentRun(runsDir, "good");
      writeIncompleteRun(runsDir, "half");
      writeSummaryText(runsDir, "broken", "{nope");
      const answer = await request(createApp({ runsDir }), "/retained-runs");
      expect(answer.text).toBe(toJSONText(await listRetainedRuns({ runsDir, limit: 100 })));
      const body = JSON.parse(answer.text);
      expect(body.runs.map((run: { runId: string }) => run.runId)).toEqual(["good"]);
      expect(body.diagnostics.map((d: { kind: string }) => d.kind).sort()).toEqual(["corrupt-summary", "incomplete"]);
    });
  });

  describe("query validation", () => {
    const badList: [string, string][] = [
      ["limit=0", "limit"],
      ["limit=1001", "limit"],
      ["limit=-1", "limit"],
      ["limit=1.5", "limit"],
      ["limit=abc", "limit"],
      ["limit=", "limit"],
      ["limit=01", "limit"],
      ["limit=1&limit=2", "limit"],
      ["since=2026-01-01T00:00:00Z&since=2026-02-01T00:00:00Z", "since"],
      ["until=2026-01-01T00:00:00Z&until=2026-02-01T00:00:00Z", "until"],
      ["cursor=a&cursor=b", "cursor"],
      ["foo=bar", "foo"],
      ["Limit=5", "Limit"],
      ["status=nope", "status"],
      ["status=passed&status=nope", "status"],
      ["label=novalue", "label"],
      ["label==value", "label"],
      ["since=not-a-time", "since"],
    ];

    it.each(badList)("GET /retained-runs?%s → 400 INVALID_OPTIONS naming %s", async (search, field) => {
      const message = expectError(await get(`/retained-runs?${search}`), 400, "INVALID_OPTIONS");
      expect(message).toContain(field);
    });

    it("says whether a parameter is unknown or given more than once", async () => {
      expect(expectError(await get("/retained-runs?foo=1"), 400, "INVALID_OPTIONS")).toBe(
        "Invalid query parameter foo: unknown parameter.",
      );
      expect(expectError(await get("/retained-runs?limit=1&limit=2"), 400, "INVALID_OPTIONS")).toBe(
        "Invalid query parameter limit: given more than once.",
      );
    });

    const badLatest = ["limit=1", "cursor=abc", "status=nope", "since=a&since=b", "label=x", "foo=1"];

    it.each(badLatest)("GET /retained-runs/latest?%s → 400 INVALID_OPTIONS", async (search) => {
      expectError(await get(`/retained-runs/latest?${search}`), 400, "INVALID_OPTIONS");
    });

    it("answers 400 INVALID_CURSOR for a cursor no page produced, with the library's body", async () => {
      for (const cursor of ["not-a-cursor!", "bm9wZQ", Buffer.from("1:0:../x").toString("base64url"), ""]) {
        const answer = await get(`/retained-runs?${query({ cursor })}`);
        expectError(answer, 400, "INVALID_CURSOR");
        expect(answer.text).toBe(await libraryErrorText(() => listRetainedRuns({ ...examples, cursor })));
      }
    });
  });

  describe("errors", () => {
    const perRun = (runId: string) => [
      `/retained-runs/${runId}`,
      `/retained-runs/${runId}/reports`,
      `/retained-runs/${runId}/reports/html`,
      `/retained-runs/${runId}/artifact-manifest`,
      `/retained-runs/${runId}/artifacts/coverage/coverage-summary.json`,
    ];

    it.each(perRun(".hidden"))("GET %s → 400 INVALID_RUN_ID", async (path) => {
      const answer = await get(path);
      expectError(answer, 400, "INVALID_RUN_ID");
      expect(answer.text).toBe(await libraryErrorText(() => getRetainedRun(examples, ".hidden")));
    });

    it("answers 400 INVALID_RUN_ID for an over-long id", async () => {
      expectError(await get(`/retained-runs/${"a".repeat(129)}`), 400, "INVALID_RUN_ID");
      expect((await get(`/retained-runs/${"a".repeat(128)}`)).status).toBe(404);
    });

    it.each(perRun("no-such-run"))("GET %s → 404 RUN_NOT_FOUND with the library's body", async (path) => {
      const answer = await get(path);
      expectError(answer, 404, "RUN_NOT_FOUND");
      expect(answer.text).toBe(await libraryErrorText(() => getRetainedRun(examples, "no-such-run")));
    });

    it("answers 404 RUN_NOT_FOUND for an incomplete run, saying why", async () => {
      const answer = await get(`/retained-runs/${INCOMPLETE}`);
      expect(expectError(answer, 404, "RUN_NOT_FOUND")).toContain("(incomplete)");
      expect(answer.text).toBe(await libraryErrorText(() => getRetainedRun(examples, INCOMPLETE)));
    });

    it("answers 404 REPORT_NOT_FOUND for an unknown report id and for a listed report whose file is missing", async () => {
      expectError(await get(`/retained-runs/${PASSED}/reports/nope`), 404, "REPORT_NOT_FOUND");
      const { runsDir } = makeRunsDir();
      writeCurrentRun(runsDir, "r", { reports: [{ id: "gone", path: "reports/gone.txt", content: null }] });
      expectError(await request(createApp({ runsDir }), "/retained-runs/r/reports/gone"), 404, "REPORT_NOT_FOUND");
    });

    it("answers 404 ARTIFACT_NOT_FOUND for files the manifest does not list, even when they exist", async () => {
      const base = `/retained-runs/${PASSED}/artifacts`;
      expectError(await get(`${base}/nope.txt`), 404, "ARTIFACT_NOT_FOUND");
      expectError(await get(`${base}/artifact-manifest.json`), 404, "ARTIFACT_NOT_FOUND");
      expectError(await get(`${base}/coverage`), 404, "ARTIFACT_NOT_FOUND");
      expectError(
        await get(`/retained-runs/${FAILED}/artifacts/coverage/coverage-summary.json`),
        404,
        "ARTIFACT_NOT_FOUND",
      );
      expectError(await get(`/retained-runs/${LEGACY}/artifacts/reports/junit.xml`), 404, "ARTIFACT_NOT_FOUND");

      const { runsDir } = makeRunsDir();
      const runDir = writeCurrentRun(runsDir, "r", { artifacts: { "out/listed.txt": null } });
      writeFile(join(runDir, "assessment-package", "out", "unlisted.txt"), "not in the manifest");
      const app = createApp({ runsDir });
      expectError(await request(app, "/retained-runs/r/artifacts/out/listed.txt"), 404, "ARTIFACT_NOT_FOUND");
      expectError(await request(app, "/retained-runs/r/artifacts/out/unlisted.txt"), 404, "ARTIFACT_NOT_FOUND");
    });

    it.each(["/", "/nope", "/retained-runs/x/nope", `/retained-runs/${PASSED}/reports/html/extra`, "/healthz/x"])(
      "GET %s → 404 NOT_FOUND JSON",
      async (path) => {
        const answer = await get(path);
        expect(answer.text).toBe(toJSONText({ error: { code: "NOT_FOUND", message: "No such route." } }));
        expectError(answer, 404, "NOT_FOUND");
      },
    );

    it("answers a malformed percent-encoding with 400 BAD_REQUEST JSON", async () => {
      expectError(await get("/%"), 400, "BAD_REQUEST");
    });
  });

  describe("methods", () => {
    const cases = ROUTES.flatMap((path) =>
      ["POST", "PUT", "DELETE", "OPTIONS", "PATCH"].map((method) => [method, path] as const),
    );

    it.each(cases)("%s %s → 405 with Allow: GET, HEAD", async (method, path) => {
      const answer = await get(path, { method });
      expectError(answer, 405, "METHOD_NOT_ALLOWED");
      expect(answer.headers.get("allow")).toBe("GET, HEAD");
    });

    it("answers 405 on unknown routes too, and 405 before 401 (the method is wrong whatever the token)", async () => {
      expectError(await get("/nope", { method: "POST" }), 405, "METHOD_NOT_ALLOWED");
      const app = createApp({ runsDir: EXAMPLES, token: "a-long-enough-token-1234" });
      expectError(await request(app, "/retained-runs", { method: "DELETE" }), 405, "METHOD_NOT_ALLOWED");
    });
  });

  describe("bearer token", () => {
    const token = "s3cret-token-0123456789";
    const app = createApp({ runsDir: EXAMPLES, token });
    const withAuth = (authorization: string) => ({ headers: { authorization } });

    it.each(ROUTES.filter((path) => path !== "/healthz"))(
      "GET %s without a token → 401 with WWW-Authenticate: Bearer",
      async (path) => {
        const answer = await request(app, path);
        expectError(answer, 401, "UNAUTHORIZED");
        expect(answer.headers.get("www-authenticate")).toMatch(/^Bearer\b/);
      },
    );

    it("refuses wrong tokens and other schemes", async () => {
      for (const authorization of [
        `Bearer ${token}x`,
        `Bearer ${token.slice(0, -1)}`,
        "Bearer ",
        "Bearer",
        `Basic ${Buffer.from(`user:${token}`).toString("base64")}`,
        token,
        `Bearer ${token} extra`,
      ]) {
        const answer = await request(app, "/retained-runs", withAuth(authorization));
        expectError(answer, 401, "UNAUTHORIZED");
        expect(answer.headers.get("www-authenticate")).toMatch(/^Bearer\b/);
      }
    });

    it("accepts the right token, with the scheme in any case", async () => {
      const expected = toJSONText(await listRetainedRuns({ ...examples, limit: 100 }));
      for (const authorization of [`Bearer ${token}`, `bearer ${token}`, `BEARER ${token}`, `Bearer   ${token}`]) {
        const answer = await request(app, "/retained-runs", withAuth(authorization));
        expect(answer.status).toBe(200);
        expect(answer.text).toBe(expected);
      }
      const file = await request(app, `/retained-runs/${PASSED}/reports/html`, withAuth(`Bearer ${token}`));
      expect(file.status).toBe(200);
    });

    it("leaves /healthz open, and hides unknown routes behind the token", async () => {
      const health = await request(app, "/healthz");
      expect(health.status).toBe(200);
      expect(health.text).toBe(toJSONText({ status: "ok" }));
      expectError(await request(app, "/nope"), 401, "UNAUTHORIZED");
    });

    it("requires no token when none is configured", async () => {
      expect((await get("/retained-runs")).status).toBe(200);
    });
  });

  describe("Host check", () => {
    const loopback = createApp({ runsDir: EXAMPLES, allowedHosts: "loopback" });
    const hosted = (app: H3, host: string | undefined, path = "/retained-runs") =>
      request(app, path, host === undefined ? {} : { headers: { host } });

    it.each([
      "localhost",
      "localhost:4417",
      "LOCALHOST:4417",
      "app.localhost",
      "app.localhost:3000",
      "127.0.0.1",
      "127.0.0.1:4417",
      "127.1.2.3:80",
      "[::1]",
      "[::1]:4417",
    ])("allows loopback Host %s", async (host) => {
      const answer = await hosted(loopback, host);
      expect(answer.status).toBe(200);
      expect(answer.text).toBe(toJSONText(await listRetainedRuns({ ...examples, limit: 100 })));
    });

    it.each([
      "example.com",
      "example.com:4417",
      "localhost.example.com",
      "127.0.0.1.nip.io",
      "10.0.0.1:4417",
      "0.0.0.0:4417",
      "[::2]:4417",
      "",
    ])("refuses Host %j with 421 HOST_NOT_ALLOWED", async (host) => {
      expectError(await hosted(loopback, host), 421, "HOST_NOT_ALLOWED");
    });

    it("refuses a request with no Host header, on every route including /healthz", async () => {
      expectError(await hosted(loopback, undefined), 421, "HOST_NOT_ALLOWED");
      expectError(await hosted(loopback, "evil.example", "/healthz"), 421, "HOST_NOT_ALLOWED");
      expectError(await hosted(loopback, "evil.example", "/nope"), 421, "HOST_NOT_ALLOWED");
      expectError(
        await request(loopback, "/retained-runs", { method: "POST", headers: { host: "evil.example" } }),
        421,
        "HOST_NOT_ALLOWED",
      );
    });

    it("allows exactly the listed names, with any port", async () => {
      const app = createApp({ runsDir: EXAMPLES, allowedHosts: ["runs.example.com", "::1"] });
      for (const host of ["runs.example.com", "runs.example.com:8443", "RUNS.example.COM", "[::1]:4417"]) {
        expect((await hosted(app, host)).status).toBe(200);
      }
      for (const host of ["localhost", "127.0.0.1", "example.com", "evil.runs.example.com", "runs.example.com.evil"]) {
        expectError(await hosted(app, host), 421, "HOST_NOT_ALLOWED");
      }
      expectError(await hosted(app, undefined), 421, "HOST_NOT_ALLOWED");
    });

    it("compares configured host names case-insensitively (DNS names are), like the Host header", async () => {
      const app = createApp({ runsDir: EXAMPLES, allowedHosts: ["Runs.Example.com"] });
      expect((await hosted(app, "runs.example.com")).status).toBe(200);
      expect((await hosted(app, "Runs.Example.com")).status).toBe(200);
    });

    it("answers any Host when allowedHosts is not set", async () => {
      expect((await hosted(examplesApp, "anything.example")).status).toBe(200);
    });
  });

  describe("report files", () => {
    const path = `/retained-runs/${PASSED}/reports/html`;
    const file = join(EXAMPLES, PASSED, "reports", "index.html");
    const content = readFileSync(file);
    const stat = statSync(file);

    it("serves the report's bytes inline, with the file headers", async () => {
      const answer = await get(path);
      expect(answer.status).toBe(200);
      expect(answer.body.equals(content)).toBe(true);
      expect(answer.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(answer.headers.get("content-length")).toBe(String(content.length));
      expect(answer.headers.get("content-security-policy")).toBe("sandbox");
      expect(answer.headers.get("x-content-type-options")).toBe("nosniff");
      expect(answer.headers.get("content-disposition")).toBe(
        `inline; filename="index.html"; filename*=UTF-8''index.html`,
      );
      expect(answer.headers.get("accept-ranges")).toBe("bytes");
      expect(answer.headers.get("etag")).toMatch(/^W\/"[0-9a-f]+-[0-9a-f]+"$/);
      expect(answer.headers.get("last-modified")).toBe(stat.mtime.toUTCString());
    });

    it("uses the report ref's media type over the extension", async () => {
      const answer = await get(`/retained-runs/${PASSED}/reports/junit`);
      const { reports } = await reportPaths(examples, PASSED);
      expect(answer.headers.get("content-type")).toBe(reports.find((report) => report.id === "junit")?.mediaType);
      expect(answer.headers.get("content-type")).toBe("application/xml");
      expect(answer.body.equals(readFileSync(join(EXAMPLES, PASSED, "reports", "junit.xml")))).toBe(true);
    });

    it("serves legacy reports by their derived ids", async () => {
      const answer = await get(`/retained-runs/${LEGACY}/reports/summary.html`);
      expect(answer.status).toBe(200);
      expect(answer.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(answer.headers.get("content-security-policy")).toBe("sandbox");
      expect(answer.body.equals(readFileSync(join(EXAMPLES, LEGACY, "reports", "summary.html")))).toBe(true);
    });

    it("gives a weak ETag that holds while the file does and changes with it", async () => {
      const { runsDir } = makeRunsDir();
      const runDir = writeCurrentRun(runsDir, "r", {
        reports: [{ id: "log", path: "reports/log.txt", content: "first" }],
      });
      const app = createApp({ runsDir });
      const first = await request(app, "/retained-runs/r/reports/log");
      expect((await request(app, "/retained-runs/r/reports/log")).headers.get("etag")).toBe(first.headers.get("etag"));
      writeFileSync(join(runDir, "reports", "log.txt"), "second, longer");
      utimesSync(
        join(runDir, "reports", "log.txt"),
        new Date("2030-01-01T00:00:00Z"),
        new Date("2030-01-01T00:00:00Z"),
      );
      const second = await request(app, "/retained-runs/r/reports/log");
      expect(second.text).toBe("second, longer");
      expect(second.headers.get("etag")).toMatch(/^W\//);
      expect(second.headers.get("etag")).not.toBe(first.headers.get("etag"));
      expect(second.headers.get("last-modified")).toBe("Tue, 01 Jan 2030 00:00:00 GMT");
    });

    it("answers HEAD with the headers and no body", async () => {
      const answer = await get(path, { method: "HEAD" });
      expect(answer.status).toBe(200);
      expect(answer.body.length).toBe(0);
      expect(answer.headers.get("content-length")).toBe(String(content.length));
      expect(answer.headers.get("etag")).toBe((await get(path)).headers.get("etag"));
    });

    it("answers 304 to If-None-Match with its ETag, to *, and to If-Modified-Since at or after Last-Modified", async () => {
      const etag = (await get(path)).headers.get("etag")!;
      for (const headers of [
        { "if-none-match": etag },
        { "if-none-match": etag.slice(2) },
        { "if-none-match": `"other", ${etag}` },
        { "if-none-match": "*" },
        { "if-modified-since": stat.mtime.toUTCString() },
        { "if-modified-since": new Date(Date.now() + 86_400_000).toUTCString() },
      ] as Record<string, string>[]) {
        const answer = await get(path, { headers });
        expect(answer.status).toBe(304);
        expect(answer.body.length).toBe(0);
        expect(answer.headers.get("etag")).toBe(etag);
      }
    });

    it("answers 200 to a stale validator, and lets If-None-Match win over If-Modified-Since", async () => {
      for (const headers of [
        { "if-none-match": 'W/"0-0"' },
        { "if-modified-since": new Date(stat.mtime.getTime() - 60_000).toUTCString() },
        { "if-modified-since": "not a date" },
        { "if-none-match": '"other"', "if-modified-since": new Date(Date.now() + 86_400_000).toUTCString() },
      ] as Record<string, string>[]) {
        const answer = await get(path, { headers });
        expect(answer.status).toBe(200);
        expect(answer.body.equals(content)).toBe(true);
      }
    });

    it("serves a range, but ignores If-Range with its weak ETag (weak validators cannot guard ranges)", async () => {
      const etag = (await get(path)).headers.get("etag")!;
      const ranged = await get(path, { headers: { range: "bytes=0-4" } });
      expect(ranged.status).toBe(206);
      expect(ranged.body.equals(content.subarray(0, 5))).toBe(true);
      const weak = await get(path, { headers: { range: "bytes=0-4", "if-range": etag } });
      expect(weak.status).toBe(200);
      expect(weak.body.equals(content)).toBe(true);
      const dated = await get(path, { headers: { range: "bytes=0-4", "if-range": stat.mtime.toUTCString() } });
      expect(dated.status).toBe(206);
      expect(dated.text).toBe(content.subarray(0, 5).toString());
    });

    it("sandboxes every report whose media type is HTML, whatever its extension", async () => {
      const { runsDir } = makeRunsDir();
      writeCurrentRun(runsDir, "r", {
        reports: [
          { id: "page", path: "reports/page.data", content: "<script>alert(1)</script>", mediaType: "text/html" },
        ],
      });
      const answer = await request(createApp({ runsDir }), "/retained-runs/r/reports/page");
      expect(answer.status).toBe(200);
      expect(answer.headers.get("content-type")).toBe("text/html");
      expect(answer.headers.get("content-security-policy")).toBe("sandbox");
      expect(answer.headers.get("x-content-type-options")).toBe("nosniff");
    });

    // Text from a run folder never reaches a response header unchecked.
    it.each([
      ["a CR/LF in the media type", "text/html\r\nx-evil: 1"],
      ["non-Latin-1 text in the media type", 'text/html; name="тест"'],
      ["a NUL in the media type", "text/html\u0000"],
    ])("serves a report whose ref has %s with the type of its extension, not a 500", async (_name, mediaType) => {
      const { runsDir } = makeRunsDir();
      writeCurrentRun(runsDir, "r", {
        reports: [{ id: "page", path: "reports/\ud800page.html", content: "<p>hi</p>", mediaType }],
      });
      const response = await createApp({ runsDir }).request("/retained-runs/r/reports/page");
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(response.headers.get("x-evil")).toBeNull();
      expect(response.headers.get("content-disposition")).toMatch(/^inline; filename=/);
      expect(await response.text()).toBe("<p>hi</p>");
    });

    it("answers 403 UNSAFE_PATH for an unsafe ref and for a link out of the run folder, never the file", async () => {
      const { root, runsDir } = makeRunsDir();
      const unsafe = writeUnsafeReportsRun(root, runsDir);
      const app = createApp({ runsDir });
      for (const [id] of unsafe) {
        const answer = await request(app, `/retained-runs/r/reports/${id}`);
        expectError(answer, 403, "UNSAFE_PATH");
        expect(answer.text).not.toContain("CANARY");
      }
    });
  });

  describe("artifact files", () => {
    const base = `/retained-runs/${PASSED}/artifacts`;
    const path = `${base}/coverage/coverage-summary.json`;
    const content = readFileSync(join(EXAMPLES, PASSED, "assessment-package", "coverage", "coverage-summary.json"));
    const size = content.length;
    const etag = `"sha256-${sha256(content)}"`;

    it("serves the artifact as an attachment with a strong sha256 ETag", async () => {
      const answer = await get(path);
      expect(answer.status).toBe(200);
      expect(answer.body.equals(content)).toBe(true);
      expect(size).toBe(33);
      expect(answer.headers.get("etag")).toBe(etag);
      expect(answer.headers.get("content-type")).toBe("application/json");
      expect(answer.headers.get("content-length")).toBe(String(size));
      expect(answer.headers.get("content-disposition")).toBe(
        `attachment; filename="coverage-summary.json"; filename*=UTF-8''coverage-summary.json`,
      );
      expect(answer.headers.get("content-security-policy")).toBe("sandbox");
      expect(answer.headers.get("x-content-type-options")).toBe("nosniff");
      expect(answer.headers.get("last-modified")).toBe(
        statSync(join(EXAMPLES, PASSED, "assessment-package", "coverage", "coverage-summary.json")).mtime.toUTCString(),
      );
    });

    it("uses the manifest's media type, and serves binary bytes unchanged", async () => {
      const bytes = readFileSync(join(EXAMPLES, PASSED, "assessment-package", "build", "app.tar.gz"));
      const answer = await get(`${base}/build/app.tar.gz`);
      expect(answer.status).toBe(200);
      expect(answer.headers.get("content-type")).toBe("application/gzip");
      expect(answer.body.equals(bytes)).toBe(true);
      expect(answer.headers.get("etag")).toBe(`"sha256-${sha256(bytes)}"`);
    });

    it("serves a listed artifact asked for with dot segments, which the URL resolves first", async () => {
      const answer = await get(`${base}/coverage/../coverage/./coverage-summary.json`);
      expect(answer.status).toBe(200);
      expect(answer.body.equals(content)).toBe(true);
    });

    it("answers HEAD with the headers and no body", async () => {
      const answer = await get(path, { method: "HEAD" });
      expect(answer.status).toBe(200);
      expect(answer.body.length).toBe(0);
      expect(answer.headers.get("content-length")).toBe(String(size));
      expect(answer.headers.get("etag")).toBe(etag);
    });

    const ranges: [string, number, number][] = [
      ["bytes=0-0", 0, 0],
      ["bytes=-5", size - 5, size - 1],
      ["bytes=5-", 5, size - 1],
      ["bytes=3-7", 3, 7],
      ["bytes=10-999999", 10, size - 1],
      ["bytes=-999", 0, size - 1],
    ];

    it.each(ranges)("answers Range %s with 206 and exactly those bytes", async (range, start, end) => {
      const answer = await get(path, { headers: { range } });
      expect(answer.status).toBe(206);
      expect(answer.body.equals(content.subarray(start, end + 1))).toBe(true);
      expect(answer.headers.get("content-range")).toBe(`bytes ${start}-${end}/${size}`);
      expect(answer.headers.get("content-length")).toBe(String(end - start + 1));
      expect(answer.headers.get("etag")).toBe(etag);
    });

    it("answers HEAD with a Range as 206 without a body", async () => {
      const answer = await get(path, { method: "HEAD", headers: { range: "bytes=0-0" } });
      expect(answer.status).toBe(206);
      expect(answer.body.length).toBe(0);
      expect(answer.headers.get("content-length")).toBe("1");
      expect(answer.headers.get("content-range")).toBe(`bytes 0-0/${size}`);
    });

    it.each(["bytes=999999-", `bytes=${size}-`, "bytes=-0"])(
      "answers Range %s with 416 and Content-Range: bytes */size",
      async (range) => {
        const answer = await get(path, { headers: { range } });
        expectError(answer, 416, "RANGE_NOT_SATISFIABLE");
        expect(answer.headers.get("content-range")).toBe(`bytes */${size}`);
      },
    );

    it.each(["bytes=0-1,3-4", "bytes=abc", "items=0-1", "bytes=5-2", "bytes=-"])(
      "ignores Range %s and sends the full 200",
      async (range) => {
        const answer = await get(path, { headers: { range } });
        expect(answer.status).toBe(200);
        expect(answer.body.equals(content)).toBe(true);
        expect(answer.headers.get("content-range")).toBeNull();
        expect(answer.headers.get("content-length")).toBe(String(size));
      },
    );

    it("honours If-Range: the matching ETag or date gives 206, anything else the full 200", async () => {
      const lastModified = (await get(path)).headers.get("last-modified")!;
      for (const ifRange of [etag, lastModified]) {
        const answer = await get(path, { headers: { range: "bytes=0-1", "if-range": ifRange } });
        expect(answer.status).toBe(206);
        expect(answer.body.equals(content.subarray(0, 2))).toBe(true);
      }
      for (const ifRange of ['"sha256-0000"', `W/${etag}`, "Mon, 01 Jan 2001 00:00:00 GMT"]) {
        const answer = await get(path, { headers: { range: "bytes=0-1", "if-range": ifRange } });
        expect(answer.status).toBe(200);
        expect(answer.body.equals(content)).toBe(true);
      }
    });

    it("answers 304 to If-None-Match with the ETag (also weakly compared) or *, and to a future If-Modified-Since", async () => {
      for (const headers of [
        { "if-none-match": etag },
        { "if-none-match": `W/${etag}` },
        { "if-none-match": "*" },
        { "if-none-match": `"a", ${etag}, "b"` },
        { "if-modified-since": new Date(Date.now() + 86_400_000).toUTCString() },
        { "if-none-match": etag, range: "bytes=0-0" },
      ] as Record<string, string>[]) {
        const answer = await get(path, { headers });
        expect(answer.status).toBe(304);
        expect(answer.body.length).toBe(0);
        expect(answer.headers.get("etag")).toBe(etag);
      }
      const head = await get(path, { method: "HEAD", headers: { "if-none-match": etag } });
      expect(head.status).toBe(304);
      const other = await get(path, { headers: { "if-none-match": '"sha256-other"' } });
      expect(other.status).toBe(200);
      expect(other.body.equals(content)).toBe(true);
    });

    it("falls back to a weak ETag when the file's size differs from the manifest's", async () => {
      const { runsDir } = makeRunsDir();
      const runDir = writeCurrentRun(runsDir, "r", { artifacts: { "out/result.json": '{"ok":true}' } });
      writeFileSync(join(runDir, "assessment-package", "out", "result.json"), '{"ok":false,"changed":true}');
      const answer = await request(createApp({ runsDir }), "/retained-runs/r/artifacts/out/result.json");
      expect(answer.status).toBe(200);
      expect(answer.text).toBe('{"ok":false,"changed":true}');
      expect(answer.headers.get("etag")).toMatch(/^W\/"[0-9a-f]+-[0-9a-f]+"$/);
    });

    it("serves an empty artifact as an empty 200, and refuses any range of it with 416", async () => {
      const { runsDir } = makeRunsDir();
      writeCurrentRun(runsDir, "r", { artifacts: { "out/empty.txt": "" } });
      const app = createApp({ runsDir });
      const answer = await request(app, "/retained-runs/r/artifacts/out/empty.txt");
      expect(answer.status).toBe(200);
      expect(answer.body.length).toBe(0);
      expect(answer.headers.get("content-length")).toBe("0");
      expect(answer.headers.get("etag")).toBe(`"sha256-${sha256("")}"`);
      const ranged = await request(app, "/retained-runs/r/artifacts/out/empty.txt", {
        headers: { range: "bytes=0-0" },
      });
      expectError(ranged, 416, "RANGE_NOT_SATISFIABLE");
      expect(ranged.headers.get("content-range")).toBe("bytes */0");
    });

    it("answers 403 UNSAFE_PATH for a listed artifact that links out of the run folder", async () => {
      const { root, runsDir } = makeRunsDir();
      writeFileSync(join(root, "canary.txt"), "CANARY-outside");
      const runDir = writeCurrentRun(runsDir, "r", { artifacts: { "out/link.txt": null, "out/ok.txt": "ok" } });
      symlinkSync(join(root, "canary.txt"), join(runDir, "assessment-package", "out", "link.txt"));
      const app = createApp({ runsDir });
      const answer = await request(app, "/retained-runs/r/artifacts/out/link.txt");
      expectError(answer, 403, "UNSAFE_PATH");
      expect(answer.text).not.toContain("CANARY");
      expect((await request(app, "/retained-runs/r/artifacts/out/ok.txt")).text).toBe("ok");
    });

    it.each([
      "/retained-runs/r/artifacts/..%2f..%2fcanary.txt",
      "/retained-runs/r/artifacts/%2e%2e/%2e%2e/canary.txt",
      "/retained-runs/r/artifacts/..%5c..%5ccanary.txt",
      "/retained-runs/r/artifacts/%252e%252e%252f%252e%252e%252fcanary.txt",
      "/retained-runs/r/artifacts/out/..%2f..%2f..%2fcanary.txt",
    ])("never serves a file outside the manifest through an encoded path: %s", async (path) => {
      const { root, runsDir } = makeRunsDir();
      writeFileSync(join(root, "canary.txt"), "CANARY-outside");
      writeFileSync(join(runsDir, "canary.txt"), "CANARY-runs-dir");
      writeCurrentRun(runsDir, "r", { artifacts: { "out/ok.txt": "ok" } });
      const answer = await request(createApp({ runsDir }), path);
      expect(answer.status).toBeGreaterThanOrEqual(400);
      expect(answer.status).toBeLessThan(500);
      expect(answer.text).not.toContain("CANARY");
    });
  });

  describe("manifests", () => {
    it("answers 200 with a marker for runs without a manifest: legacy, not declared, file missing", async () => {
      const { runsDir } = makeRunsDir();
      writeLegacyRun(runsDir, "old");
      writeCurrentRun(runsDir, "undeclared", { manifest: "undeclared" });
      writeCurrentRun(runsDir, "missing", { manifest: "omit-file" });
      const app = createApp({ runsDir });
      for (const [runId, reason] of [
        ["old", "legacy-run"],
        ["undeclared", "not-declared"],
        ["missing", "file-missing"],
      ] as const) {
        const answer = await request(app, `/retained-runs/${runId}/artifact-manifest`);
        expect(answer.status).toBe(200);
        expect(answer.text).toBe(toJSONText(await artifactManifest({ runsDir }, runId)));
        expect(compatibilityMarkerSchema.parse(JSON.parse(answer.text))).toMatchObject({ available: false, reason });
        expectError(await request(app, `/retained-runs/${runId}/artifacts/out/result.json`), 404, "ARTIFACT_NOT_FOUND");
      }
    });

    it("answers 422 MANIFEST_INVALID for a corrupt or schema-invalid manifest, on both manifest routes", async () => {
      const { runsDir } = makeRunsDir();
      const corrupt = writeCurrentRun(runsDir, "corrupt");
      writeFileSync(join(corrupt, "assessment-package", "artifact-manifest.json"), "{not json");
      const wrong = writeCurrentRun(runsDir, "wrong");
      writeFileSync(
        join(wrong, "assessment-package", "artifact-manifest.json"),
        JSON.stringify({ schemaVersion: 9, artifacts: [] }),
      );
      const app = createApp({ runsDir });
      for (const runId of ["corrupt", "wrong"]) {
        const answer = await request(app, `/retained-runs/${runId}/artifact-manifest`);
        expectError(answer, 422, "MANIFEST_INVALID");
        expect(answer.text).toBe(await libraryErrorText(() => artifactManifest({ runsDir }, runId)));
        expectError(await request(app, `/retained-runs/${runId}/artifacts/out/result.json`), 422, "MANIFEST_INVALID");
      }
    });

    it("answers 403 UNSAFE_PATH when the summary names a manifest outside the run folder", async () => {
      const { runsDir } = makeRunsDir();
      writeCurrentRun(runsDir, "r", { extra: { artifactManifest: "../elsewhere/artifact-manifest.json" } });
      const answer = await request(createApp({ runsDir }), "/retained-runs/r/artifact-manifest");
      expectError(answer, 403, "UNSAFE_PATH");
      expect(answer.text).toBe(await libraryErrorText(() => artifactManifest({ runsDir }, "r")));
    });
  });

  describe("path parameters are percent-decoded once, separators kept encoded", () => {
    // h3 v2 keeps route params percent-encoded (`event.context.params`); the adapter passes them to
    // openReport/openArtifact as they are, so any id or path that a URL must escape is unreachable.
    const { runsDir } = makeRunsDir();
    writeCurrentRun(runsDir, "r", {
      reports: [
        { id: "my report", path: "reports/my report.txt", content: "spaced" },
        { id: "résumé", path: "reports/resume.txt", content: "accented" },
      ],
      artifacts: { "out/my file.txt": "spaced artifact", "out/é.txt": "accented artifact", "out/100%.txt": "percent" },
    });
    const app = createApp({ runsDir });

    it.each([
      ["/retained-runs/r/reports/my%20report", "spaced"],
      [`/retained-runs/r/reports/${encodeURIComponent("résumé")}`, "accented"],
      ["/retained-runs/r/artifacts/out/my%20file.txt", "spaced artifact"],
      [`/retained-runs/r/artifacts/out/${encodeURIComponent("é.txt")}`, "accented artifact"],
      ["/retained-runs/r/artifacts/out/100%25.txt", "percent"],
    ])("GET %s serves the file", async (path, text) => {
      const answer = await request(app, path);
      expect(answer.status).toBe(200);
      expect(answer.text).toBe(text);
    });
  });

  describe("GET /events", () => {
    // Only an app with a run index has something to stream; without one the route is a 404 and the
    // run browser polls. So each setup runs the half of this contract that applies to it.
    if (indexed) {
      it("streams one change event per run added, from the index", async () => {
        const { runsDir } = makeRunsDir();
        const app = createApp({ runsDir });
        await caughtUp(app);
        const head = await request(app, "/events", { method: "HEAD" });
        expect([head.status, head.headers.get("content-type"), head.text]).toEqual([
          200,
          "text/event-stream; charset=utf-8",
          "",
        ]);

        const response = await app.request("/events");
        expect(response.status).toBe(200);
        expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
        expect(response.headers.get("cache-control")).toBe("no-cache");
        const reader = response.body!.getReader();
        const decoder = new TextDecoder();
        let text = "";
        const until = async (wanted: string) => {
          while (!text.includes(wanted)) {
            const { value, done } = await reader.read();
            if (done) throw new Error(`stream ended before ${JSON.stringify(wanted)}; got ${JSON.stringify(text)}`);
            text += decoder.decode(value, { stream: true });
          }
        };
        await until("retry: 3000\n\n");
        // No caughtUp here: the event must come from the index's own watcher.
        writeCurrentRun(runsDir, "r-live");
        await until('data: {"type":"added","runId":"r-live"}\n\n');
        expect(text).toContain('event: change\ndata: {"type":"added","runId":"r-live"}\n\n');
        await reader.cancel();
      });
    } else {
      it("is 404 for GET and HEAD without an index (the run browser then polls)", async () => {
        const app = createApp({ runsDir: EXAMPLES });
        expectError(await request(app, "/events"), 404, "NOT_FOUND");
        const head = await request(app, "/events", { method: "HEAD" });
        expect([head.status, head.text]).toEqual([404, ""]);
      });
    }
  });

  describe("embedding", () => {
    const user = new H3();
    user.get("/", () => ({ hello: "world" }));
    user.get("/about", () => "about page");
    user.mount("/runs-api", createApp({ runsDir: EXAMPLES }));
    user.get("/after", () => "registered after the mount");

    it("keeps the user's own routes working next to the mounted app", async () => {
      expect(JSON.parse((await request(user, "/")).text)).toEqual({ hello: "world" });
      expect((await request(user, "/about")).text).toBe("about page");
      expect((await request(user, "/after")).text).toBe("registered after the mount");
    });

    it("serves every mounted route under the prefix with the library's bytes", async () => {
      expect((await request(user, "/runs-api/healthz")).text).toBe(toJSONText({ status: "ok" }));
      expect((await request(user, "/runs-api/retained-runs?limit=2")).text).toBe(
        toJSONText(await listRetainedRuns({ ...examples, limit: 2 })),
      );
      expect((await request(user, "/runs-api/retained-runs/latest?status=passed")).text).toBe(
        toJSONText(await latestRun({ ...examples, status: "passed" })),
      );
      expect((await request(user, `/runs-api/retained-runs/${PASSED}`)).text).toBe(
        toJSONText(await getRetainedRun(examples, PASSED)),
      );
      expect((await request(user, `/runs-api/retained-runs/${PASSED}/reports`)).text).toBe(
        toJSONText(await reportPaths(examples, PASSED)),
      );
      expect((await request(user, `/runs-api/retained-runs/${LEGACY}/artifact-manifest`)).text).toBe(
        toJSONText(await artifactManifest(examples, LEGACY)),
      );
      const report = await request(user, `/runs-api/retained-runs/${PASSED}/reports/html`);
      expect(report.body.equals(readFileSync(join(EXAMPLES, PASSED, "reports", "index.html")))).toBe(true);
      const artifact = await request(
        user,
        `/runs-api/retained-runs/${PASSED}/artifacts/coverage/coverage-summary.json`,
        {
          headers: { range: "bytes=0-0" },
        },
      );
      expect(artifact.status).toBe(206);
      expect(artifact.text).toBe("{");
    });

    it("keeps the mounted app's errors and method checks, and leaves paths outside the prefix to the user", async () => {
      expectError(await request(user, "/runs-api/nope"), 404, "NOT_FOUND");
      expectError(await request(user, "/runs-api/retained-runs/no-such-run"), 404, "RUN_NOT_FOUND");
      const post = await request(user, "/runs-api/retained-runs", { method: "POST" });
      expectError(post, 405, "METHOD_NOT_ALLOWED");
      expect(post.headers.get("allow")).toBe("GET, HEAD");
      const outside = await request(user, "/retained-runs");
      expect(outside.status).toBe(404);
      expect(outside.text).not.toContain('"code":"NOT_FOUND"');
    });

    it("keeps the token and Host checks of a mounted app", async () => {
      const options: GuideBoardAppOptions = {
        runsDir: EXAMPLES,
        token: "s3cret-token-0123456789",
        allowedHosts: "loopback",
      };
      const host = new H3().mount("/runs", createApp(options));
      const headers = { host: "localhost:3000" };
      expect((await request(host, "/runs/healthz", { headers })).status).toBe(200);
      expectError(await request(host, "/runs/retained-runs", { headers }), 401, "UNAUTHORIZED");
      expect(
        (
          await request(host, "/runs/retained-runs", {
            headers: { ...headers, authorization: `Bearer ${options.token}` },
          })
        ).status,
      ).toBe(200);
      expectError(await request(host, "/runs/healthz", { headers: { host: "evil.example" } }), 421, "HOST_NOT_ALLOWED");
    });
  });

  describe("OpenAPI document: served, and true to the real bodies", () => {
    const body = async (path: string) => JSON.parse((await get(path)).text) as unknown;

    it("is served at /openapi.json as OpenAPI 3.1.0 with the package version", async () => {
      const served = JSON.parse((await get("/openapi.json")).text);
      expect(served).toEqual(document);
      expect(served.openapi).toBe("3.1.0");
      expect(served.info.version).toBe(version);
    });

    it("has component schemas that accept the real response bodies", async () => {
      const { runsDir } = makeRunsDir();
      writeManyRuns(runsDir, 3);
      writeIncompleteRun(runsDir, "half");
      const paged = JSON.parse((await request(createApp({ runsDir }), "/retained-runs?limit=1")).text);
      expect(paged.nextCursor).toEqual(expect.any(String));
      expect(paged.diagnostics).toHaveLength(1);

      const cases: [string, unknown][] = [
        ["RetainedRunList", await body("/retained-runs")],
        ["RetainedRunList", paged],
        ["RetainedRun", await body("/retained-runs/latest")],
        ["RetainedRun", await body(`/retained-runs/${LEGACY}`)],
        ["ReportList", await body(`/retained-runs/${PASSED}/reports`)],
        ["ReportList", await body(`/retained-runs/${LEGACY}/reports`)],
        ["ArtifactManifest", await body(`/retained-runs/${PASSED}/artifact-manifest`)],
        ["CompatibilityMarker", await body(`/retained-runs/${LEGACY}/artifact-manifest`)],
        ["Error", await body("/retained-runs/no-such-run")],
        ["Error", await body("/retained-runs?limit=0")],
        ["Error", await body("/nope")],
      ];
      for (const [name, value] of cases) expect(validator(name).safeParse(value).success, name).toBe(true);
    });

    it("has component schemas strict enough to reject a wrong body", async () => {
      const run = (await body(`/retained-runs/${PASSED}`)) as Record<string, unknown>;
      expect(validator("RetainedRun").safeParse({ ...run, status: "bogus" }).success).toBe(false);
      expect(validator("RetainedRun").safeParse({ ...run, surprise: 1 }).success).toBe(false);
      const { runId: _runId, ...withoutId } = run;
      expect(validator("RetainedRun").safeParse(withoutId).success).toBe(false);
      expect(
        validator("ArtifactManifest").safeParse(await body(`/retained-runs/${LEGACY}/artifact-manifest`)).success,
      ).toBe(false);
      expect(
        validator("CompatibilityMarker").safeParse(await body(`/retained-runs/${PASSED}/artifact-manifest`)).success,
      ).toBe(false);
      expect(validator("Error").safeParse({ error: { code: 404 } }).success).toBe(false);
    });

    it("has real bodies that the library's zod schemas parse without dropping anything", async () => {
      const cases: [z.ZodType, string][] = [
        [retainedRunSchema, "/retained-runs/latest"],
        [retainedRunSchema, `/retained-runs/${LEGACY}`],
        [reportListSchema, `/retained-runs/${PASSED}/reports`],
        [reportListSchema, `/retained-runs/${LEGACY}/reports`],
        [artifactManifestSchema, `/retained-runs/${PASSED}/artifact-manifest`],
        [artifactManifestSchema, `/retained-runs/${FAILED}/artifact-manifest`],
        [compatibilityMarkerSchema, `/retained-runs/${LEGACY}/artifact-manifest`],
      ];
      for (const [schema, path] of cases) {
        const value = await body(path);
        expect(schema.parse(value), path).toEqual(value);
      }
    });
  });
});
