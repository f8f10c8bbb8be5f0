// The service's `/runs` end to end: the built bin's `serve` in a child process, in a temp project
// whose guide-board.config.json holds guides. Jobs are real `guide-board run NAME` processes; what
// they retain is read back over HTTP. Requests that try to smuggle anything but a guide name
// must be refused and start nothing.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import type { IncomingHttpHeaders } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, isAlive, startServe, type Served } from "./helpers/bin.ts";
import { rawRequest } from "./helpers/http.ts";
import { tempDir } from "./helpers/runs.ts";

const TOKEN = "jobs-token-0123456789abcdef";
/** How long a process may take to start, stop or finish a short job on a busy machine. */
const PATIENCE_MS = 20_000;

beforeAll(assertBuilt);

// ---------------------------------------------------------------------------------------------
// Projects and processes (servers: test/helpers/bin.ts). Job processes are detached from the
// server (that is the point), so cleanup finds them through the run folders: the writer file
// names `guide-board run`'s pid, and every guide here writes its command's pid to command.pid.

const runsDirs: string[] = [];
afterAll(() => {
  for (const runsDir of runsDirs) {
    for (const name of existsSync(runsDir) ? readdirSync(runsDir) : []) {
      for (const file of [".guide-board-writer.json", "command.pid"]) {
        const pid = pidIn(join(runsDir, name, file));
        if (pid !== undefined && isAlive(pid)) process.kill(pid, "SIGKILL");
      }
    }
  }
});

function pidIn(file: string): number | undefined {
  if (!existsSync(file)) return undefined;
  const text = readFileSync(file, "utf8").trim();
  const pid = text.startsWith("{") ? (JSON.parse(text) as { pid?: unknown }).pid : Number(text);
  return typeof pid === "number" && pid > 0 ? pid : undefined;
}

const writesPid = 'echo $$ > "$GUIDE_BOARD_RUN_DIR/command.pid"';
const GUIDES = {
  quick: {
    command: ["sh", "-c", `${writesPid}; echo '<testsuite tests="1"/>' > "$GUIDE_BOARD_REPORTS_DIR/junit.xml"`],
    labels: { suite: "smoke" },
  },
  slow: { command: ["sh", "-c", `${writesPid}; exec sleep 30`] },
  steady: { command: ["sh", "-c", `${writesPid}; sleep 2; echo done > "$GUIDE_BOARD_REPORTS_DIR/steady.txt"`] },
};

const CONFIG = { runsDir: "runs", guides: GUIDES, service: { maxConcurrentJobs: 1 } };

/** A temp project: guide-board.config.json (unless `config` is null) and its runs directory, created unless told not to. */
function project(config: Record<string, unknown> | null = CONFIG, options: { createRunsDir?: boolean } = {}) {
  const cwd = tempDir("gb-jobs-");
  if (config !== null) writeFileSync(join(cwd, "guide-board.config.json"), JSON.stringify(config));
  const runsDir = join(cwd, "runs");
  if (options.createRunsDir !== false) mkdirSync(runsDir);
  runsDirs.push(runsDir);
  return { cwd, runsDir };
}

/** Starts `guide-board serve --port 0 ...args` in `cwd` and waits for its "Open <url>" line. */
const serve = (cwd: string, args: string[] = [], env: Record<string, string> = {}) =>
  startServe(args, { cwd, env, timeoutMs: PATIENCE_MS });

const kill = (server: Served) => server.stop("SIGKILL");

// ---------------------------------------------------------------------------------------------
// Requests, always to 127.0.0.1 on a new connection

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  body: Record<string, unknown>;
}

async function send(
  port: number,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: string | Buffer[] } = {},
): Promise<Answer> {
  const { status, headers, body: text } = await rawRequest(port, path, { method, ...options, timeoutMs: PATIENCE_MS });
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // Not JSON: the test looks at `text`.
  }
  return { status, headers, text, body };
}

const JSON_TYPE = { "content-type": "application/json" };
const startJob = (port: number, guide: string, headers: Record<string, string> = {}) =>
  send(port, "POST", "/runs", { headers: { ...JSON_TYPE, ...headers }, body: JSON.stringify({ guide }) });

interface Job {
  jobId: string;
  guide: string;
  state: string;
  runId: string;
  exitCode: number | null;
  retainedRun: string | null;
}

/** Polls `check` every `everyMs` until it returns something other than `undefined`/`false`. */
async function until<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = PATIENCE_MS,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** Polls `GET /runs/{jobId}` until the job reaches one of `states`. */
function jobIn(port: number, jobId: string, states: string[], everyMs = 100): Promise<Job> {
  return until(
    `job ${jobId} to be ${states.join(" or ")}`,
    async () => {
      const job = (await send(port, "GET", `/runs/${jobId}`)).body as unknown as Job;
      return states.includes(job.state) ? job : undefined;
    },
    PATIENCE_MS,
    everyMs,
  );
}

const ENDED = ["succeeded", "failed", "cancelled"];

/** `GET path` until it answers 200: the service's run index may see a new run a moment after the job ends. */
const once200 = (port: number, path: string) =>
  until(`${path} to answer 200`, async () => {
    const answer = await send(port, "GET", path);
    return answer.status === 200 ? answer : undefined;
  });

/** Waits until a job's `guide-board run` has started its command (its signal handling is in place). */
const commandStarted = (runsDir: string, runId: string) =>
  until(`run ${runId} to start its command`, () => pidIn(join(runsDir, runId, "command.pid")));

// ---------------------------------------------------------------------------------------------

describe("POST /runs starts a configured guide", () => {
  it("answers 202 with the job, runs it to succeeded, and the retained run appears under /retained-runs", async () => {
    const { cwd, runsDir } = project();
    const server = await serve(cwd);
    try {
      const started = await startJob(server.port, "quick");
      expect(started.status).toBe(202);
      const job = started.body as unknown as Job;
      expect(job).toMatchObject({ guide: "quick", state: "running", exitCode: null, retainedRun: null });
      expect(started.headers.location).toBe(`runs/${job.jobId}`);

      const done = await jobIn(server.port, job.jobId, ENDED);
      expect(done).toMatchObject({
        state: "succeeded",
        exitCode: 0,
        runId: job.runId,
        retainedRun: `/retained-runs/${job.runId}`,
      });
      expect(existsSync(join(runsDir, job.runId, "retention-summary.json"))).toBe(true);
      const run = await once200(server.port, done.retainedRun!); // (that it answers at once: see the index race test below)
      expect(run.body).toMatchObject({
        runId: job.runId,
        status: "passed",
        labels: { suite: "smoke", guide: "quick" },
        reportCount: 1,
      });
      const listed = await send(server.port, "GET", "/retained-runs?label=guide=quick");
      expect((listed.body.runs as { runId: string }[]).map((r) => r.runId)).toEqual([job.runId]);
      const report = await send(server.port, "GET", `/retained-runs/${job.runId}/reports/junit.xml`);
      expect(report.text).toBe('<testsuite tests="1"/>\n');

      const list = await send(server.port, "GET", "/runs");
      expect(list.body).toEqual({ enabled: true, guides: ["quick", "slow", "steady"], jobs: [done] });
      expect(readdirSync(runsDir)).toEqual([job.runId]);
    } finally {
      await kill(server);
    }
  });

  it("queues beyond maxConcurrentJobs; DELETE cancels the queued job and the running one, whose run is retained as cancelled", async () => {
    const { cwd, runsDir } = project();
    const server = await serve(cwd);
    try {
      const slow = (await startJob(server.port, "slow")).body as unknown as Job;
      expect(slow.state).toBe("running");
      const sleepPid = await commandStarted(runsDir, slow.runId);
      const queued = await startJob(server.port, "quick");
      expect(queued.status).toBe(202);
      const quick = queued.body as unknown as Job;
      expect(quick.state).toBe("queued");
      expect((await send(server.port, "GET", `/runs/${quick.jobId}`)).body).toMatchObject({ state: "queued" });

      const cancelQueued = await send(server.port, "DELETE", `/runs/${quick.jobId}`);
      expect(cancelQueued.status).toBe(200);
      expect(cancelQueued.body).toMatchObject({
        jobId: quick.jobId,
        state: "cancelled",
        exitCode: null,
        retainedRun: null,
      });

      const cancelRunning = await send(server.port, "DELETE", `/runs/${slow.jobId}`);
      expect(cancelRunning.status).toBe(200);
      const cancelled = await jobIn(server.port, slow.jobId, ENDED);
      expect(cancelled).toMatchObject({
        state: "cancelled",
        exitCode: 130,
        retainedRun: `/retained-runs/${slow.runId}`,
      });
      expect(isAlive(sleepPid)).toBe(false);
      const run = await once200(server.port, `/retained-runs/${slow.runId}`);
      expect(run.body).toMatchObject({ runId: slow.runId, status: "cancelled", labels: { guide: "slow" } });

      // The queued job never ran: it never got a run folder, and nothing started after the cancel.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(readdirSync(runsDir)).toEqual([slow.runId]);
      expect((await send(server.port, "GET", `/runs/${quick.jobId}`)).body).toMatchObject({
        state: "cancelled",
        startedAt: null,
      });
    } finally {
      await kill(server);
    }
  });

  it("answers 409 JOB_FINISHED to DELETE on a finished job and 404 JOB_NOT_FOUND for unknown jobs", async () => {
    const { cwd } = project();
    const server = await serve(cwd);
    try {
      const job = (await startJob(server.port, "quick")).body as unknown as Job;
      await jobIn(server.port, job.jobId, ["succeeded"]);
      const again = await send(server.port, "DELETE", `/runs/${job.jobId}`);
      expect(again.status).toBe(409);
      expect(again.body).toEqual({ error: { code: "JOB_FINISHED", message: expect.any(String) } });
      expect((await send(server.port, "GET", `/runs/${job.jobId}`)).body).toMatchObject({ state: "succeeded" });
      for (const method of ["GET", "DELETE"]) {
        const unknown = await send(server.port, method, "/runs/no-such-job");
        expect(unknown.status, method).toBe(404);
        expect(unknown.body, method).toEqual({ error: { code: "JOB_NOT_FOUND", message: expect.any(String) } });
      }
    } finally {
      await kill(server);
    }
  });

  it("serves a job's retainedRun link as soon as the job reports it ended", async () => {
    const { cwd } = project();
    const server = await serve(cwd);
    try {
      const answers: number[] = [];
      for (let i = 0; i < 5; i++) {
        const job = (await startJob(server.port, "quick")).body as unknown as Job;
        const done = await jobIn(server.port, job.jobId, ENDED, 2); // a client polling closely
        answers.push((await send(server.port, "GET", done.retainedRun!)).status);
      }
      expect(answers).toEqual([200, 200, 200, 200, 200]);
    } finally {
      await kill(server);
    }
  }, 60_000); // five jobs, each a Node child, one after another

  it("serves a job's retainedRun link when the runs directory did not exist at start", async () => {
    const { cwd, runsDir } = project(CONFIG, { createRunsDir: false });
    const server = await serve(cwd);
    try {
      const job = (await startJob(server.port, "quick")).body as unknown as Job;
      const done = await jobIn(server.port, job.jobId, ENDED);
      expect(done.retainedRun).toBe(`/retained-runs/${job.runId}`);
      expect(existsSync(join(runsDir, job.runId, "retention-summary.json"))).toBe(true);
      // A client that follows the link a moment later (well under the revalidation interval).
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const run = await send(server.port, "GET", done.retainedRun!);
      expect(run.status).toBe(200);
      const listed = await send(server.port, "GET", "/retained-runs");
      expect((listed.body.runs as { runId: string }[]).map((r) => r.runId)).toEqual([job.runId]);
    } finally {
      await kill(server);
    }
  });

  it("retains a running job cancelled right after it was started as cancelled", async () => {
    const { cwd, runsDir } = project();
    const server = await serve(cwd);
    try {
      const slow = (await startJob(server.port, "slow")).body as unknown as Job;
      expect((await send(server.port, "DELETE", `/runs/${slow.jobId}`)).status).toBe(200);
      const cancelled = await jobIn(server.port, slow.jobId, ENDED);
      expect(cancelled.state).toBe("cancelled");
      expect(existsSync(join(runsDir, slow.runId, "retention-summary.json"))).toBe(true);
      expect(cancelled.retainedRun).toBe(`/retained-runs/${slow.runId}`);
      expect((await once200(server.port, `/retained-runs/${slow.runId}`)).body).toMatchObject({ status: "cancelled" });
    } finally {
      await kill(server);
    }
  });
});

describe("POST /runs refuses anything but a guide name, and starts nothing", () => {
  it.each([
    {
      what: "a command",
      body: { guide: "quick", command: ["sh", "-c", "touch CANARY"] },
      status: 400,
      code: "INVALID_BODY",
    },
    { what: "args", body: { guide: "quick", args: ["-c", "touch CANARY"] }, status: 400, code: "INVALID_BODY" },
    { what: "env", body: { guide: "quick", env: { GUIDE_BOARD_RUN_DIR: "/tmp" } }, status: 400, code: "INVALID_BODY" },
    { what: "cwd", body: { guide: "quick", cwd: "/" }, status: 400, code: "INVALID_BODY" },
    { what: "a command without a guide", body: { command: ["touch", "CANARY"] }, status: 400, code: "INVALID_BODY" },
    { what: "a guide that is not a string", body: { guide: ["quick"] }, status: 400, code: "INVALID_BODY" },
    { what: "a body that is an array", body: [{ guide: "quick" }], status: 400, code: "INVALID_BODY" },
    { what: "an unknown guide", body: { guide: "deploy" }, status: 404, code: "GUIDE_NOT_FOUND" },
    { what: "a path as the guide", body: { guide: "../x" }, status: 404, code: "GUIDE_NOT_FOUND" },
    { what: "a prototype key as the guide", body: { guide: "__proto__" }, status: 404, code: "GUIDE_NOT_FOUND" },
    { what: "an absolute path as the guide", body: { guide: "/bin/sh" }, status: 404, code: "GUIDE_NOT_FOUND" },
  ])("with $what: $status $code", async ({ body, status, code }) => {
    const { cwd, runsDir } = project();
    const server = await serve(cwd);
    try {
      const answer = await send(server.port, "POST", "/runs", { headers: JSON_TYPE, body: JSON.stringify(body) });
      expect(answer.status).toBe(status);
      expect(answer.body).toEqual({ error: { code, message: expect.any(String) } });
      expect((await send(server.port, "GET", "/runs")).body.jobs).toEqual([]);
      expect(readdirSync(runsDir)).toEqual([]);
      expect(existsSync(join(cwd, "CANARY"))).toBe(false);
    } finally {
      await kill(server);
    }
  });

  it("refuses other media types (415), a body declared over 4 KiB (413), bad JSON (400) and other origins (403)", async () => {
    const { cwd, runsDir } = project();
    const server = await serve(cwd);
    try {
      const valid = JSON.stringify({ guide: "quick" });
      const padded = JSON.stringify({ guide: "quick", pad: "x".repeat(10 * 1024) });
      const cases: [string, Parameters<typeof send>[3], number, string][] = [
        ["text/plain", { headers: { "content-type": "text/plain" }, body: valid }, 415, "UNSUPPORTED_MEDIA_TYPE"],
        ["no content type", { body: valid }, 415, "UNSUPPORTED_MEDIA_TYPE"],
        [
          "form",
          { headers: { "content-type": "application/x-www-form-urlencoded" }, body: "guide=quick" },
          415,
          "UNSUPPORTED_MEDIA_TYPE",
        ],
        ["10 KB declared", { headers: JSON_TYPE, body: padded }, 413, "BODY_TOO_LARGE"],
        ["bad JSON", { headers: JSON_TYPE, body: "{guide: quick}" }, 400, "INVALID_BODY"],
        [
          "another site's Origin",
          { headers: { ...JSON_TYPE, origin: "https://evil.example" }, body: valid },
          403,
          "FORBIDDEN_ORIGIN",
        ],
        [
          "a look-alike Origin",
          { headers: { ...JSON_TYPE, origin: `http://127.0.0.1.evil.example:${server.port}` }, body: valid },
          403,
          "FORBIDDEN_ORIGIN",
        ],
        ["Origin null", { headers: { ...JSON_TYPE, origin: "null" }, body: valid }, 403, "FORBIDDEN_ORIGIN"],
      ];
      for (const [what, options, status, code] of cases) {
        const answer = await send(server.port, "POST", "/runs", options);
        expect(answer.status, what).toBe(status);
        expect(answer.body, what).toEqual({ error: { code, message: expect.any(String) } });
      }
      const job = (await startJob(server.port, "quick")).body as unknown as Job;
      const foreignDelete = await send(server.port, "DELETE", `/runs/${job.jobId}`, {
        headers: { origin: "https://evil.example" },
      });
      expect(foreignDelete.status).toBe(403);
      await jobIn(server.port, job.jobId, ["succeeded"]);
      // Only the one valid request started anything.
      expect(((await send(server.port, "GET", "/runs")).body.jobs as Job[]).map((j) => j.jobId)).toEqual([job.jobId]);
      expect(readdirSync(runsDir)).toEqual([job.runId]);
    } finally {
      await kill(server);
    }
  });

  it("refuses a chunked body over 4 KiB with 413 and keeps serving", async () => {
    const { cwd, runsDir } = project();
    const server = await serve(cwd);
    try {
      const padded = JSON.stringify({ guide: "quick", pad: "x".repeat(10 * 1024) });
      const chunks = [Buffer.from(padded.slice(0, 3000)), Buffer.from(padded.slice(3000))];
      const answer = await send(server.port, "POST", "/runs", { headers: JSON_TYPE, body: chunks }).catch(
        (error: Error) => error,
      );
      expect(answer).toMatchObject({ status: 413, body: { error: { code: "BODY_TOO_LARGE" } } });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(server.child.exitCode).toBe(null);
      expect((await send(server.port, "GET", "/healthz")).status).toBe(200);
      expect(readdirSync(runsDir)).toEqual([]);
    } finally {
      await kill(server);
    }
  });
});

describe("a server without guides, or with a token", () => {
  it.each([
    ["no config file", null],
    ["a config without guides", { runsDir: "runs", retention: { keepLast: 5 } }],
  ])("with %s: GET /runs says enabled:false, POST /runs is 403 JOBS_DISABLED", async (_what, config) => {
    const { cwd, runsDir } = project(config);
    const server = await serve(cwd, ["--runs-dir", runsDir]);
    try {
      expect((await send(server.port, "GET", "/runs")).body).toEqual({ enabled: false, guides: [], jobs: [] });
      const refused = await startJob(server.port, "quick");
      expect(refused.status).toBe(403);
      expect(refused.body).toEqual({ error: { code: "JOBS_DISABLED", message: expect.any(String) } });
      expect((await send(server.port, "DELETE", "/runs/anything")).status).toBe(404);
      expect(readdirSync(runsDir)).toEqual([]);
    } finally {
      await kill(server);
    }
  });

  it("with GUIDE_BOARD_TOKEN on 127.0.0.1: /runs needs the token (401 without), and starts with it", async () => {
    const { cwd, runsDir } = project();
    const server = await serve(cwd, ["--host", "127.0.0.1"], { GUIDE_BOARD_TOKEN: TOKEN });
    try {
      for (const headers of [{}, { authorization: "Bearer wrong-token-0123456789" }] as Record<string, string>[]) {
        const refused = await startJob(server.port, "quick", headers);
        expect(refused.status).toBe(401);
        expect(refused.body).toEqual({ error: { code: "UNAUTHORIZED", message: expect.any(String) } });
      }
      expect((await send(server.port, "GET", "/runs")).status).toBe(401);
      expect(readdirSync(runsDir)).toEqual([]);
      const auth = { authorization: `Bearer ${TOKEN}` };
      const started = await startJob(server.port, "quick", auth);
      expect(started.status).toBe(202);
      const job = started.body as unknown as Job;
      const done = await until("the job to succeed", async () => {
        const answer = (await send(server.port, "GET", `/runs/${job.jobId}`, { headers: auth })).body as unknown as Job;
        return answer.state === "succeeded" ? answer : undefined;
      });
      expect(done.retainedRun).toBe(`/retained-runs/${job.runId}`);
    } finally {
      await kill(server);
    }
  });
});

describe("durability: a job outlives its server", () => {
  it("finishes and retains its run after the server is SIGKILLed; the restarted server lists it", async () => {
    const { cwd, runsDir } = project();
    const first = await serve(cwd);
    let job: Job;
    try {
      job = (await startJob(first.port, "steady")).body as unknown as Job;
      expect(job.state).toBe("running");
      await commandStarted(runsDir, job.runId);
      expect(existsSync(join(runsDir, job.runId, "retention-summary.json"))).toBe(false);
    } finally {
      await kill(first);
    }

    const summaryFile = join(runsDir, job.runId, "retention-summary.json");
    await until("the orphaned job to retain its run", () => existsSync(summaryFile), 15_000);
    const summary = JSON.parse(readFileSync(summaryFile, "utf8")) as Record<string, unknown>;
    expect(summary).toMatchObject({ runId: job.runId, status: "passed", exitCode: 0, labels: { guide: "steady" } });
    expect(readFileSync(join(runsDir, job.runId, "reports", "steady.txt"), "utf8")).toBe("done\n");

    const second = await serve(cwd);
    try {
      const listed = await send(second.port, "GET", "/retained-runs?label=guide=steady");
      expect((listed.body.runs as { runId: string; status: string }[]).map((r) => [r.runId, r.status])).toEqual([
        [job.runId, "passed"],
      ]);
      // Jobs live in memory only: the new server knows the run, not the job.
      expect((await send(second.port, "GET", "/runs")).body).toEqual({
        enabled: true,
        guides: ["quick", "slow", "steady"],
        jobs: [],
      });
      expect((await send(second.port, "GET", `/runs/${job.jobId}`)).status).toBe(404);
    } finally {
      await kill(second);
    }
  });
});
