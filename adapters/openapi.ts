import { z } from "zod";
import { version } from "../package.json";
import {
  artifactManifestSchema,
  DEFAULT_LIST_LIMIT,
  MAX_LIST_LIMIT,
  compatibilityMarkerSchema,
  diagnosticSchema,
  logListSchema,
  reportListSchema,
  retainedRunSchema,
  RUN_STATUSES,
  runComparisonSchema,
  TEST_STATUSES,
  TESTS_PAGE,
  testResultsSchema,
  testHistorySchema,
  topTestsSchema,
  HISTORY_WINDOW,
  TOP_TESTS,
  TOP_TESTS_BY,
} from "../src/_internal.ts";
import { jobSchema } from "./jobs.ts";

const retainedRunListSchema = z.object({
  runs: z.array(retainedRunSchema),
  nextCursor: z.string().optional(),
  diagnostics: z.array(diagnosticSchema),
});

const errorSchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

const COMPONENTS = {
  RetainedRun: retainedRunSchema,
  RetainedRunList: retainedRunListSchema,
  Diagnostic: diagnosticSchema,
  ReportList: reportListSchema,
  ArtifactManifest: artifactManifestSchema,
  CompatibilityMarker: compatibilityMarkerSchema,
  Error: errorSchema,
  TestResults: testResultsSchema,
  RunComparison: runComparisonSchema,
  Job: jobSchema,
  LogList: logListSchema,
  TestHistory: testHistorySchema,
  TopTests: topTestsSchema,
  JobList: z.object({
    enabled: z.boolean(),
    guides: z.array(z.string()),
    jobs: z.array(jobSchema),
    nextCursor: z.string().optional(),
  }),
};

const ref = (name: keyof typeof COMPONENTS) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: object, description: string) => ({ description, content: { "application/json": { schema } } });
const errors = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((status) => [String(status), json(ref("Error"), "Error")]));
const file = (description: string) => ({
  "200": { description, content: { "*/*": { schema: { type: "string", format: "binary" } } } },
  "206": { description: "Partial content (one Range)" },
  "304": { description: "Not modified" },
  ...errors(400, 403, 404, 416),
});

const runIdParam = {
  name: "runId",
  in: "path",
  required: true,
  schema: { type: "string", pattern: "^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$" },
};
const filterParams = [
  {
    name: "status",
    in: "query",
    schema: { type: "array", items: { enum: RUN_STATUSES } },
    explode: true,
    description: "Any of these statuses (repeat the parameter)",
  },
  { name: "since", in: "query", schema: { type: "string", format: "date-time" }, description: "Started at or after" },
  { name: "until", in: "query", schema: { type: "string", format: "date-time" }, description: "Started before" },
  {
    name: "label",
    in: "query",
    schema: { type: "array", items: { type: "string", pattern: "^[^=]+=" } },
    explode: true,
    description: "key=value; all must match (repeat the parameter)",
  },
];

const text = (description: string) => ({ description, content: { "text/plain": { schema: { type: "string" } } } });
const LOG_PATHS = {
  "/retained-runs/{runId}/logs": {
    get: {
      summary: "A run's logs (declared in its summary)",
      parameters: [runIdParam],
      responses: { "200": json(ref("LogList"), "Logs"), ...errors(400, 404) },
    },
  },
  "/retained-runs/{runId}/logs/{logId}": {
    get: {
      summary: "A log's bytes, always text/plain; ?tail=N for the last N lines",
      parameters: [
        runIdParam,
        { name: "logId", in: "path", required: true, schema: { type: "string" } },
        {
          name: "tail",
          in: "query",
          schema: { type: "integer", minimum: 0, maximum: 10000 },
          description: "Only the last N lines (at most 4 MiB); X-Log-Range says where they lie; Range is ignored",
        },
      ],
      responses: { ...file("The log"), "200": text("The log, or its tail") },
    },
  },
  "/runs/{jobId}/log": {
    get: {
      summary: "A job's output, streamed (chunked text/plain) from its first byte until the job ends",
      parameters: [
        { name: "jobId", in: "path", required: true, schema: { type: "string" } },
        { name: "log", in: "query", schema: { enum: ["stdout", "stderr"], default: "stdout" } },
      ],
      responses: { "200": text("The output so far, then live"), ...errors(400, 404) },
    },
  },
};

/**
 * The OpenAPI 3.1 document of the HTTP API, generated from the same zod schemas the library uses,
 * so clients can be generated from it.
 */
export function createOpenAPIDocument(): Record<string, unknown> {
  const schemas = Object.fromEntries(
    Object.entries(COMPONENTS).map(([name, schema]) => {
      const { $schema: _drop, ...jsonSchema } = z.toJSONSchema(schema) as Record<string, unknown>;
      return [name, jsonSchema];
    }),
  );
  return {
    openapi: "3.1.0",
    info: { title: "guide-board", version, description: "Retained runs, their reports and artifacts." },
    components: {
      schemas,
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
    },
    security: [{}, { bearer: [] }],
    paths: {
      "/healthz": { get: { summary: "Liveness", security: [], responses: { "200": { description: "OK" } } } },
      "/retained-runs": {
        get: {
          summary: "List retained runs, newest first",
          parameters: [
            ...filterParams,
            {
              name: "limit",
              in: "query",
              schema: { type: "integer", minimum: 1, maximum: MAX_LIST_LIMIT, default: DEFAULT_LIST_LIMIT },
            },
            { name: "cursor", in: "query", schema: { type: "string" }, description: "nextCursor of the previous page" },
          ],
          responses: { "200": json(ref("RetainedRunList"), "One page of runs"), ...errors(400) },
        },
      },
      "/retained-runs/latest": {
        get: {
          summary: "The newest retained run matching the filters",
          parameters: filterParams,
          responses: { "200": json(ref("RetainedRun"), "The run"), ...errors(400, 404) },
        },
      },
      "/retained-runs/{runId}": {
        get: {
          summary: "One retained run",
          parameters: [runIdParam],
          responses: { "200": json(ref("RetainedRun"), "The run"), ...errors(400, 404) },
        },
      },
      "/retained-runs/{runId}/reports": {
        get: {
          summary: "A run's report refs, one page at a time, in summary order",
          parameters: [
            runIdParam,
            {
              name: "limit",
              in: "query",
              schema: { type: "integer", minimum: 1, maximum: MAX_LIST_LIMIT, default: DEFAULT_LIST_LIMIT },
            },
            { name: "cursor", in: "query", schema: { type: "string" }, description: "nextCursor of the previous page" },
          ],
          responses: { "200": json(ref("ReportList"), "One page of report refs"), ...errors(400, 404) },
        },
      },
      "/retained-runs/{runId}/reports/{reportId}": {
        get: {
          summary: "A report's content",
          parameters: [runIdParam, { name: "reportId", in: "path", required: true, schema: { type: "string" } }],
          responses: file("The report"),
        },
      },
      ...LOG_PATHS,
      "/retained-runs/{runId}/artifact-manifest": {
        get: {
          summary: "A run's artifact manifest, or the compatibility marker",
          parameters: [runIdParam],
          responses: {
            "200": json({ oneOf: [ref("ArtifactManifest"), ref("CompatibilityMarker")] }, "Manifest or marker"),
            ...errors(400, 403, 404, 422),
          },
        },
      },
      ...testPaths(),
      ...historyPaths(),
      "/runs": {
        get: {
          summary: "This process's jobs, newest first, one page at a time, and the guides it may start",
          parameters: [
            { name: "limit", in: "query", schema: { type: "integer", minimum: 1, maximum: 1000, default: 100 } },
            { name: "cursor", in: "query", schema: { type: "string" } },
          ],
          responses: { "200": json(ref("JobList"), "Jobs"), ...errors(400) },
        },
        post: {
          summary: "Start a configured guide (nothing else can be started)",
          requestBody: {
            required: true,
            content: {
              "application/json": {
                schema: {
                  type: "object",
                  properties: { guide: { type: "string" } },
                  required: ["guide"],
                  additionalProperties: false,
                },
              },
            },
          },
          responses: {
            "202": json(ref("Job"), "Queued or running"),
            ...errors(400, 401, 403, 404, 413, 415, 429),
          },
        },
      },
      "/runs/{jobId}": {
        get: {
          summary: "One job",
          parameters: [{ name: "jobId", in: "path", required: true, schema: { type: "string" } }],
          responses: { "200": json(ref("Job"), "The job"), ...errors(404) },
        },
        delete: {
          summary: "Cancel a queued or running job",
          parameters: [{ name: "jobId", in: "path", required: true, schema: { type: "string" } }],
          responses: { "200": json(ref("Job"), "The job, cancelled"), ...errors(403, 404, 409) },
        },
      },
      "/retained-runs/{runId}/artifacts/{path}": {
        get: {
          summary: "One artifact listed in the manifest",
          parameters: [
            runIdParam,
            {
              name: "path",
              in: "path",
              required: true,
              schema: { type: "string" },
              description: "Path as listed in the manifest; may contain /",
            },
          ],
          responses: file("The artifact"),
        },
      },
    },
  };
}

/** The test-result routes: a run's tests, and two runs compared (each side an id or `latest` with filters). */
function testPaths(): Record<string, unknown> {
  const side = (name: "base" | "head") => [
    {
      name,
      in: "query",
      required: true,
      schema: { type: "string" },
      description: "A run id, or `latest`: the newest run matching the filters below",
    },
    ...filterParams.map((param) => ({
      ...param,
      name: `${name}${param.name[0]!.toUpperCase()}${param.name.slice(1)}`,
      description: `With ${name}=latest: ${param.description}`,
    })),
  ];
  return {
    "/retained-runs/{runId}/tests": {
      get: {
        summary: "A run's test results from its JUnit XML and CTRF reports",
        parameters: [
          runIdParam,
          {
            name: "status",
            in: "query",
            schema: { type: "array", items: { enum: TEST_STATUSES } },
            explode: true,
            description: "Only tests with any of these statuses (repeat the parameter)",
          },
          {
            name: "limit",
            in: "query",
            schema: { type: "integer", minimum: 1, maximum: TESTS_PAGE.max, default: TESTS_PAGE.default },
          },
          { name: "cursor", in: "query", schema: { type: "string" }, description: "nextCursor of the previous page" },
          historyParam,
        ],
        responses: { "200": json(ref("TestResults"), "Totals, one page of tests, diagnostics"), ...errors(400, 404) },
      },
    },
    "/retained-runs/compare": {
      get: {
        summary: "Two runs' tests compared: new failures, still failing, fixed, added, removed, flaky",
        parameters: [...side("base"), ...side("head"), historyParam],
        responses: { "200": json(ref("RunComparison"), "The comparison"), ...errors(400, 404) },
      },
    },
  };
}

const historyParam = {
  name: "history",
  in: "query",
  schema: { enum: ["0", "1"] },
  description: "1: failed and errored tests gain failingSince and recent (runs with the same labels)",
};
const windowParam = (name: string, description: string) => ({
  name,
  in: "query",
  schema: { type: "integer", minimum: 1, maximum: HISTORY_WINDOW.max, default: HISTORY_WINDOW.default },
  description,
});

/** The test-history routes: one test over a window of runs, and tests ranked over a window. */
function historyPaths(): Record<string, unknown> {
  return {
    "/tests/history": {
      get: {
        summary: "One test's outcome in each of the last runs matching the filters, newest first",
        parameters: [
          { name: "key", in: "query", required: true, schema: { type: "string", minLength: 1, maxLength: 4096 } },
          windowParam("limit", "Runs in the window"),
          ...filterParams,
        ],
        responses: { "200": json(ref("TestHistory"), "The test's history"), ...errors(400) },
      },
    },
    "/tests/top": {
      get: {
        summary: "Tests ranked over the last runs matching the filters: failures, flaky or slow",
        parameters: [
          { name: "by", in: "query", required: true, schema: { enum: TOP_TESTS_BY } },
          windowParam("window", "Runs in the window"),
          {
            name: "limit",
            in: "query",
            schema: { type: "integer", minimum: 1, maximum: TOP_TESTS.max, default: TOP_TESTS.default },
            description: "Tests returned",
          },
          ...filterParams,
        ],
        responses: { "200": json(ref("TopTests"), "The ranking"), ...errors(400) },
      },
    },
  };
}
