// Logs over HTTP: a retained run's logs (list, bytes, Range, ETag, ?tail=N, hostile files), and a
// job's live output from one shared reader per job, to many followers, slow ones included.
import { appendFileSync, closeSync, mkdirSync, openSync, symlinkSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { Readable } from "node:stream";
import type { H3 } from "h3";
import { describe, expect, it } from "vitest";
import { createJobLogHub, FOLLOWER_BUFFER_BYTES } from "../adapters/job-log.ts";
import { createGuideBoardApp, type Job, type JobsProvider } from "../adapters/h3.ts";
import { createJobManager } from "../cli/jobs.ts";
import { startServer } from "../cli/serve.ts";
import { listRunLogs, toJSONText } from "../src/index.ts";
import { assertBuilt } from "./helpers/bin.ts";
import { makeFifo } from "./helpers/fifo.ts";
import { rawRequest } from "./helpers/http.ts";
import { makeRunsDir, sha256, tempDir, writeCurrentRun, writeFile, writeIncompleteRun } from "./helpers/runs.ts";

const LOGS = [
  { id: "stdout", path: "logs/stdout.log" },
  { id: "stderr", path: "logs/stderr.log" },
];
const OUT = Buffer.concat([
  Buffer.from("one\ntwo\n\x1b[31mred\x1b[0m\n"),
  Buffer.from([0, 0xff, 0x0a]),
  Buffer.from("50%\r100%\n"),
]);

function world() {
  const { root, runsDir } = makeRunsDir();
  const runDir = writeCurrentRun(runsDir, "r", {
    reports: [],
    extra: { logs: [...LOGS, { id: "fifo", path: "logs/p" }] },
  });
  writeFile(join(runDir, "logs", "stdout.log"), OUT);
  writeFile(join(runDir, "logs", "stderr.log"), "warn\n");
  writeFile(join(root, "secret"), "CANARY");
  const linked = writeCurrentRun(runsDir, "linked", { reports: [], extra: { logs: LOGS } });
  mkdirSync(join(linked, "logs"));
  symlinkSync(join(root, "secret"), join(linked, "logs", "stdout.log"));
  makeFifo(join(runDir, "logs", "p"));
  return { root, runsDir, runDir, app: createGuideBoardApp({ runsDir }) };
}

async function get(app: H3, path: string, init: RequestInit = {}) {
  const response = await app.request(path, init);
  return { status: response.status, headers: response.headers, bytes: Buffer.from(await response.arrayBuffer()) };
}

async function expectError(answer: Promise<{ status: number; bytes: Buffer }>, status: number, code: string) {
  const { status: got, bytes } = await answer;
  expect([got, bytes.toString()]).toEqual([status, expect.stringContaining(`"code":"${code}"`)]);
}

describe("GET /retained-runs/{runId}/logs", () => {
  it("lists the logs, byte for byte what the library returns", async () => {
    const { runsDir, app } = world();
    const answer = await get(app, "/retained-runs/r/logs");
    expect(answer.status).toBe(200);
    expect(answer.bytes.toString()).toBe(toJSONText(await listRunLogs({ runsDir }, "r")));
    expect((await get(app, "/retained-runs/linked/logs")).bytes.toString()).toContain('"reason":"escapes-run"');
    await expectError(get(app, "/retained-runs/nope/logs"), 404, "RUN_NOT_FOUND");
  });
});

describe("GET /retained-runs/{runId}/logs/{logId}", () => {
  it("serves the log byte for byte, as sandboxed text, with ETag/304 and Range", async () => {
    const { app } = world();
    const full = await get(app, "/retained-runs/r/logs/stdout");
    expect(full.status).toBe(200);
    expect(full.bytes).toEqual(OUT);
    expect(full.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(full.headers.get("content-security-policy")).toBe("sandbox");
    expect(full.headers.get("x-content-type-options")).toBe("nosniff");
    const etag = full.headers.get("etag")!;
    expect((await get(app, "/retained-runs/r/logs/stdout", { headers: { "if-none-match": etag } })).status).toBe(304);
    const part = await get(app, "/retained-runs/r/logs/stdout", { headers: { range: "bytes=4-6" } });
    expect([part.status, part.bytes.toString(), part.headers.get("content-range")]).toEqual([
      206,
      "two",
      `bytes 4-6/${OUT.length}`,
    ]);
    expect((await get(app, "/retained-runs/r/logs/stderr")).bytes.toString()).toBe("warn\n");
  });

  it("answers ?tail=N with the last N lines and where they lie; Range is ignored", async () => {
    const { app } = world();
    const tail = await get(app, "/retained-runs/r/logs/stdout?tail=2", { headers: { range: "bytes=0-1" } });
    const start = OUT.length - Buffer.from([0, 0xff, 0x0a]).length - "50%\r100%\n".length;
    expect(tail.status).toBe(200);
    expect(tail.bytes).toEqual(OUT.subarray(start));
    expect(tail.headers.get("x-log-range")).toBe(`bytes ${start}-${OUT.length - 1}/${OUT.length}`);
    expect(tail.headers.get("content-range")).toBeNull();
    const etag = tail.headers.get("etag")!;
    expect(etag).not.toBe((await get(app, "/retained-runs/r/logs/stdout")).headers.get("etag"));
    expect((await get(app, "/retained-runs/r/logs/stdout?tail=2", { headers: { "if-none-match": etag } })).status).toBe(
      304,
    );
    const none = await get(app, "/retained-runs/r/logs/stdout?tail=0");
    expect([none.status, none.bytes.length, none.headers.get("x-log-range")]).toEqual([
      200,
      0,
      `bytes */${OUT.length}`,
    ]);
    expect((await get(app, "/retained-runs/r/logs/stdout?tail=10000")).bytes).toEqual(OUT);
  });

  it("refuses bad tails, unknown parameters, unsafe and FIFO logs with stable codes", async () => {
    const { app } = world();
    for (const query of ["tail=abc", "tail=-1", "tail=10001", "tail=1&tail=2", "tail=", "tail=01", "other=1"]) {
      await expectError(get(app, `/retained-runs/r/logs/stdout?${query}`), 400, "INVALID_OPTIONS");
    }
    await expectError(get(app, "/retained-runs/linked/logs/stdout"), 403, "UNSAFE_PATH");
    await expectError(get(app, "/retained-runs/linked/logs/stdout?tail=5"), 403, "UNSAFE_PATH");
    const started = Date.now();
    await expectError(get(app, "/retained-runs/r/logs/fifo"), 404, "LOG_NOT_FOUND");
    expect(Date.now() - started).toBeLessThan(2500); // the FIFO's rescuer opens it after 3 s
    await expectError(get(app, "/retained-runs/r/logs/nope"), 404, "LOG_NOT_FOUND");
    await expectError(get(app, "/retained-runs/r/logs/..%2F..%2Fsecret"), 404, "LOG_NOT_FOUND");
  });
});

describe("GET /ui/ansi_up.js", () => {
  it("serves the vendored ANSI renderer from this app, under the page's CSP, without a token", async () => {
    const { runsDir } = makeRunsDir();
    const app = createGuideBoardApp({ runsDir, ui: true, token: "t".repeat(32) });
    const answer = await get(app, "/ui/ansi_up.js");
    expect(answer.status).toBe(200);
    expect(answer.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(answer.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(answer.bytes.toString()).toContain("export class AnsiUp");
    expect((await get(createGuideBoardApp({ runsDir }), "/ui/ansi_up.js")).status).toBe(404);
  });
});

/** A job provider with one job whose run folder the test writes by hand. */
function fakeJobs(runId: string) {
  const job: Job = {
    jobId: "j1",
    guide: "g",
    state: "running",
    runId,
    createdAt: "2026-01-01T00:00:00Z",
    startedAt: "2026-01-01T00:00:00Z",
    finishedAt: null,
    exitCode: null,
    retainedRun: null,
  };
  const provider: JobsProvider = {
    guides: () => ["g"],
    start: () => undefined,
    list: () => ({ jobs: [{ ...job }] }),
    get: (jobId) => (jobId === "j1" ? { ...job } : undefined),
    cancel: () => undefined,
  };
  return { provider, end: () => Object.assign(job, { state: "succeeded", finishedAt: "2026-01-01T00:01:00Z" }) };
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe("GET /runs/{jobId}/log", () => {
  it("streams a job's output from its first byte over a socket, and ends when the job ends", async () => {
    const { runsDir } = makeRunsDir();
    const { provider, end } = fakeJobs("job-run");
    const server = await startServer({ runsDir: [runsDir], jobs: provider, port: 0, ui: false });
    try {
      const port = Number(new URL(server.url).port);
      const early = rawRequest(port, "/runs/j1/log"); // before the run folder even exists
      await new Promise((resolve) => setTimeout(resolve, 150));
      const runDir = writeIncompleteRun(runsDir, "job-run"); // logs/stdout.log: "still running"
      await new Promise((resolve) => setTimeout(resolve, 150));
      appendFileSync(join(runDir, "logs", "stdout.log"), "\nline 2\n");
      const late = rawRequest(port, "/runs/j1/log");
      await new Promise((resolve) => setTimeout(resolve, 150));
      appendFileSync(join(runDir, "logs", "stdout.log"), "done\n");
      end();
      const [a, b] = await Promise.all([early, late]);
      for (const answer of [a, b]) {
        expect(answer.status).toBe(200);
        expect(answer.headers["content-type"]).toBe("text/plain; charset=utf-8");
        expect(answer.headers["transfer-encoding"]).toBe("chunked");
        expect(answer.body).toBe("still running\nline 2\ndone\n");
      }
      expect((await rawRequest(port, "/runs/nope/log")).status).toBe(404);
      expect((await rawRequest(port, "/runs/j1/log?log=other")).status).toBe(400);
      const head = await rawRequest(port, "/runs/j1/log", { method: "HEAD" });
      expect([head.status, head.body]).toEqual([200, ""]);
    } finally {
      await server.close();
    }
  });

  it("serves fifty followers from one shared reader, late joiners from the start", async () => {
    const { runsDir } = makeRunsDir();
    const runDir = writeIncompleteRun(runsDir, "r50");
    let ended = false;
    const hub = createJobLogHub({ runsDir });
    const job = { runId: "r50", ended: () => ended };
    const followers = Array.from({ length: 25 }, () => readAll(hub.follow("j", "stdout", job)));
    const expected = ["still running"];
    for (let i = 0; i < 20; i++) {
      const line = `\nline ${i} ${"x".repeat(i * 100)}`;
      appendFileSync(join(runDir, "logs", "stdout.log"), line);
      expected.push(line);
      if (i === 10) for (let j = 0; j < 25; j++) followers.push(readAll(hub.follow("j", "stdout", job)));
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(hub.feedCount()).toBe(1);
    ended = true;
    const bodies = await Promise.all(followers);
    for (const body of bodies) expect(body.toString()).toBe(expected.join(""));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(hub.feedCount()).toBe(0);
  });

  it("bounds a follower that reads nothing, while a fast one gets everything; the slow one catches up later", async () => {
    const { runsDir } = makeRunsDir();
    const runDir = writeIncompleteRun(runsDir, "slow");
    let ended = false;
    const hub = createJobLogHub({ runsDir });
    const job = { runId: "slow", ended: () => ended };
    const slow = hub.follow("j", "stdout", job);
    const fast = readAll(hub.follow("j", "stdout", job));
    const fd = openSync(join(runDir, "logs", "stdout.log"), "a");
    const block = Buffer.alloc(1024 * 1024, "y");
    let peak = 0;
    for (let i = 0; i < 30; i++) {
      writeSync(fd, block);
      await new Promise((resolve) => setTimeout(resolve, 20));
      peak = Math.max(peak, slow.readableLength);
    }
    closeSync(fd);
    ended = true;
    const total = "still running".length + 30 * block.length;
    expect((await fast).length).toBe(total);
    expect(peak).toBeLessThanOrEqual(FOLLOWER_BUFFER_BYTES + 256 * 1024); // its buffer, plus one shared chunk
    expect((await readAll(slow)).length).toBe(total);
  });

  it("keeps streaming a log deleted while it is streamed, to the job's end", async () => {
    const { runsDir } = makeRunsDir();
    const runDir = writeIncompleteRun(runsDir, "del");
    let ended = false;
    const hub = createJobLogHub({ runsDir });
    const body = readAll(hub.follow("j", "stdout", { runId: "del", ended: () => ended }));
    const fd = openSync(join(runDir, "logs", "stdout.log"), "a");
    await new Promise((resolve) => setTimeout(resolve, 120));
    unlinkSync(join(runDir, "logs", "stdout.log"));
    writeSync(fd, "\nafter delete\n");
    closeSync(fd);
    await new Promise((resolve) => setTimeout(resolve, 120));
    ended = true;
    expect((await body).toString()).toBe("still running\nafter delete\n");
  });
});

describe("a real job that prints 100 MB as fast as it can", () => {
  it("reaches two followers over HTTP byte for byte, equal to the retained log", async () => {
    assertBuilt();
    const cwd = tempDir("gb-big-job-");
    const runsDir = join(cwd, "runs");
    const script =
      "const b = Buffer.alloc(1 << 20, 120); b[b.length - 1] = 10; for (let i = 0; i < 100; i++) process.stdout.write(b);";
    const configPath = join(cwd, "guide-board.config.json");
    writeFile(
      configPath,
      JSON.stringify({ runsDir: "runs", guides: { big: { command: [process.execPath, "-e", script] } } }),
    );
    const jobs = createJobManager({ guides: ["big"], runsDir, configPath, cwd, maxConcurrentJobs: 1 });
    const server = await startServer({ runsDir: [runsDir], jobs, port: 0, ui: false });
    try {
      const port = Number(new URL(server.url).port);
      const job = jobs.start("big") as Job;
      const answers = await Promise.all(
        [0, 300].map(async (delay) => {
          await new Promise((resolve) => setTimeout(resolve, delay));
          return rawRequest(port, `/runs/${job.jobId}/log`, { timeoutMs: 60_000 });
        }),
      );
      const retained = await get(createGuideBoardApp({ runsDir }), `/retained-runs/${job.runId}/logs/stdout`);
      expect(retained.bytes.length).toBe(100 * 1024 * 1024);
      for (const answer of answers) {
        expect(answer.bytes.length).toBe(retained.bytes.length);
        expect(sha256(answer.bytes)).toBe(sha256(retained.bytes));
      }
    } finally {
      await server.close();
    }
  }, 90_000);
});
