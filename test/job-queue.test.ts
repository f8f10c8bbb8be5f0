// The service's job queue: bounded (429 QUEUE_FULL past it), finished jobs forgotten oldest first
// past their bound, and GET /runs paged newest first. Jobs run a stand-in bin (written here) in
// place of `guide-board run`: guide "wait" runs until SIGTERM, guide "quick" retains its run and exits.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Job, JobPage, JobsProvider } from "../adapters/jobs.ts";
import { createGuideBoardApp } from "../adapters/h3.ts";
import { createJobManager, type JobManagerOptions } from "../cli/jobs.ts";
import { makeRunsDir, tempDir } from "./helpers/runs.ts";

const STAND_IN = `
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
const arg = (name) => process.argv[process.argv.indexOf(name) + 1];
const guide = process.argv[3];
const runDir = join(arg("--runs-dir"), arg("--run-id"));
mkdirSync(runDir, { recursive: true });
if (guide === "quick") {
  writeFileSync(join(runDir, "retention-summary.json"), "{}");
  process.exit(0);
}
process.on("SIGTERM", () => process.exit(130));
setInterval(() => {}, 1000);
`;

const managers: JobsProvider[] = [];
afterEach(async () => {
  for (const jobs of managers.splice(0)) {
    for (const job of jobs.list({ limit: 1000 })!.jobs) jobs.cancel(job.jobId);
  }
});

function manager(options: Partial<JobManagerOptions>) {
  const dir = tempDir("gb-jobs-");
  const bin = join(dir, "stand-in.mjs");
  writeFileSync(bin, STAND_IN);
  const { runsDir } = makeRunsDir();
  const jobs = createJobManager({
    guides: ["wait", "quick"],
    runsDir,
    configPath: join(dir, "guide-board.config.json"),
    cwd: dir,
    maxConcurrentJobs: 1,
    bin,
    ...options,
  });
  managers.push(jobs);
  return { jobs, runsDir };
}

const started = (result: Job | "queue-full" | undefined): Job => {
  if (result === undefined || result === "queue-full") throw new Error(`not started: ${result}`);
  return result;
};

describe("the job queue", () => {
  it("refuses a job past maxQueuedJobs with queue-full, and takes one again once the queue shrinks", () => {
    const { jobs } = manager({ maxQueuedJobs: 3 });
    const first = started(jobs.start("wait"));
    const queued = [1, 2, 3].map(() => started(jobs.start("wait")));
    expect(jobs.get(first.jobId)?.state).toBe("running");
    expect(queued.map((job) => jobs.get(job.jobId)?.state)).toEqual(["queued", "queued", "queued"]);
    expect(jobs.start("wait")).toBe("queue-full");
    expect(jobs.start("nope")).toBeUndefined();
    expect(jobs.cancel(queued[1]!.jobId)).toMatchObject({ state: "cancelled" });
    expect(started(jobs.start("wait")).state).toBe("queued");
    expect(jobs.start("wait")).toBe("queue-full");
  });

  it("answers POST /runs past the bound with 429 QUEUE_FULL and Retry-After", async () => {
    const { jobs, runsDir } = manager({ maxQueuedJobs: 1 });
    const app = createGuideBoardApp({ runsDir, jobs });
    const post = () =>
      app.request("/runs", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ guide: "wait" }),
      });
    expect((await post()).status).toBe(202);
    expect((await post()).status).toBe(202);
    const refused = await post();
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("10");
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("QUEUE_FULL");
  });

  it("keeps at most maxFinishedJobs finished jobs, forgetting the oldest first; their runs stay retained", async () => {
    const { jobs } = manager({ maxFinishedJobs: 3, maxConcurrentJobs: 2 });
    const all = [1, 2, 3, 4, 5].map(() => started(jobs.start("quick")));
    await expect
      .poll(() => jobs.list({ limit: 100 })!.jobs.every((job) => job.finishedAt !== null), { timeout: 15_000 })
      .toBe(true);
    await expect.poll(() => jobs.list({ limit: 100 })!.jobs.length, { timeout: 5000 }).toBe(3);
    const kept = jobs.list({ limit: 100 })!.jobs;
    expect(kept.every((job) => job.state === "succeeded" && job.retainedRun === `/retained-runs/${job.runId}`)).toBe(
      true,
    );
    const forgotten = all.filter((job) => !kept.some((k) => k.jobId === job.jobId));
    expect(forgotten).toHaveLength(2);
    for (const job of forgotten) expect(jobs.get(job.jobId)).toBeUndefined();
  });
});

describe("GET /runs pages", () => {
  it("lists jobs newest first, a page at a time, with a cursor that skips forgotten jobs", () => {
    const { jobs } = manager({ maxQueuedJobs: 10 });
    const made = Array.from({ length: 7 }, () => started(jobs.start("wait")));
    const newestFirst = made.map((job) => job.jobId).reverse();
    const pages: JobPage[] = [];
    let page = jobs.list({ limit: 3 })!;
    pages.push(page);
    while (page.nextCursor) {
      page = jobs.list({ limit: 3, cursor: page.nextCursor })!;
      pages.push(page);
    }
    expect(pages.map((p) => p.jobs.length)).toEqual([3, 3, 1]);
    expect(pages.flatMap((p) => p.jobs.map((job) => job.jobId))).toEqual(newestFirst);
    expect(jobs.list({ limit: 7 })).toEqual({ jobs: expect.any(Array) });
    expect(jobs.list({ limit: 3, cursor: "x" })).toBeUndefined();
    expect(jobs.list({ limit: 3, cursor: "0" })).toBeUndefined();
  });

  it("answers limit and cursor over HTTP, and refuses bad ones with stable codes", async () => {
    const { jobs, runsDir } = manager({ maxQueuedJobs: 10 });
    for (let i = 0; i < 5; i++) started(jobs.start("wait"));
    const app = createGuideBoardApp({ runsDir, jobs });
    const first = (await (await app.request("/runs?limit=2")).json()) as JobPage & { enabled: boolean };
    expect(first.enabled).toBe(true);
    expect(first.jobs).toHaveLength(2);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = (await (await app.request(`/runs?limit=2&cursor=${first.nextCursor}`)).json()) as JobPage;
    expect(second.jobs.map((job) => job.jobId)).not.toContain(first.jobs[0]!.jobId);
    const all = (await (await app.request("/runs")).json()) as JobPage;
    expect(all.jobs).toHaveLength(5);
    expect(all.nextCursor).toBeUndefined();
    for (const [query, code] of [
      ["limit=0", "INVALID_OPTIONS"],
      ["limit=1001", "INVALID_OPTIONS"],
      ["limit=1&limit=2", "INVALID_OPTIONS"],
      ["cursor=nope", "INVALID_CURSOR"],
    ] as const) {
      const answer = await app.request(`/runs?${query}`);
      expect(answer.status).toBe(400);
      expect(((await answer.json()) as { error: { code: string } }).error.code).toBe(code);
    }
  });

  it("without jobs, answers an empty list and refuses any cursor", async () => {
    const { runsDir } = makeRunsDir();
    const app = createGuideBoardApp({ runsDir });
    expect(await (await app.request("/runs")).json()).toEqual({ enabled: false, guides: [], jobs: [] });
    expect((await app.request("/runs?cursor=5")).status).toBe(400);
  });
});
