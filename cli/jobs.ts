import { spawn, type ChildProcess } from "node:child_process";
import { access } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Job, JobPage, JobsProvider } from "../adapters/jobs.ts";
import { SUMMARY_FILE } from "../src/_internal.ts";
import { newRunId, randomSuffix } from "./_write.ts";

/** Jobs waiting for a free slot unless configured otherwise; more are refused (429). */
export const DEFAULT_MAX_QUEUED_JOBS = 100;
/** Finished jobs kept in memory unless configured otherwise; older ones are forgotten (their runs stay retained). */
export const DEFAULT_MAX_FINISHED_JOBS = 1000;

/** Options of {@link createJobManager}. */
export interface JobManagerOptions {
  guides: string[];
  runsDir: string;
  configPath: string;
  cwd: string;
  maxConcurrentJobs: number;
  /** Jobs that may wait for a slot (default 100); past it `start` answers `"queue-full"`. */
  maxQueuedJobs?: number;
  /** Finished jobs kept in memory (default 1,000), oldest forgotten first. */
  maxFinishedJobs?: number;
  /** The `guide-board` bin to start; defaults to this package's. */
  bin?: string;
  /** Awaited before a job is reported finished, so its run is already listed (the service refreshes its index). */
  settle?: () => Promise<void>;
}

interface Entry {
  job: Job;
  seq: number;
  forgotten: boolean;
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

/**
 * Starts `guide-board run NAME` processes for the service and tracks them in memory. A job's run
 * id is chosen up front, so `/runs/{jobId}` links to `/retained-runs/{runId}` once it is retained.
 * Children run detached from the server: if the server dies, they finish and retain their runs.
 *
 * Bounded and cheap per call: at most `maxQueuedJobs` wait, at most `maxFinishedJobs` finished
 * jobs are remembered; start, get and cancel are O(1), a page of the list O(log n + page), and
 * none of them touches the file system (a job learns whether its run was retained once, when it ends).
 */
export function createJobManager(options: JobManagerOptions): JobsProvider & { runningCount(): number } {
  const bin = options.bin ?? fileURLToPath(new URL("../bin/guide-board.mjs", import.meta.url));
  const maxQueued = options.maxQueuedJobs ?? DEFAULT_MAX_QUEUED_JOBS;
  const maxFinished = options.maxFinishedJobs ?? DEFAULT_MAX_FINISHED_JOBS;
  const entries = new Map<string, Entry>();
  /** Every remembered entry in creation order (ascending `seq`), forgotten ones until compaction. */
  let order: Entry[] = [];
  let forgottenInOrder = 0;
  let nextSeq = 1;
  const queued = new Set<string>();
  const finished = new Set<string>();
  const running = new Map<string, { child: ChildProcess; cancel(): void }>();
  const now = () => new Date().toISOString();

  const forget = (jobId: string) => {
    const entry = entries.get(jobId);
    if (!entry) return;
    entries.delete(jobId);
    finished.delete(jobId);
    entry.forgotten = true;
    if (++forgottenInOrder > order.length / 2) {
      order = order.filter((e) => !e.forgotten);
      forgottenInOrder = 0;
    }
  };
  const finish = (job: Job, state: Job["state"], exitCode: number | null) => {
    Object.assign(job, { state, exitCode, finishedAt: now() });
    finished.add(job.jobId);
    if (finished.size > maxFinished) forget(finished.values().next().value!);
  };
  const finishRetained = async (job: Job, state: Job["state"], exitCode: number | null) => {
    if (await exists(join(options.runsDir, job.runId, SUMMARY_FILE))) job.retainedRun = `/retained-runs/${job.runId}`;
    finish(job, state, exitCode);
  };
  const pump = () => {
    while (running.size < options.maxConcurrentJobs && queued.size > 0) {
      const jobId: string = queued.values().next().value!;
      queued.delete(jobId);
      const job = entries.get(jobId)?.job;
      if (job?.state === "queued") launch(job);
    }
  };
  const launch = (job: Job) => {
    const args = [bin, "run", job.guide, "--runs-dir", options.runsDir, "--run-id", job.runId];
    args.push("--config", options.configPath);
    const child = spawn(process.execPath, args, { cwd: options.cwd, stdio: "ignore", detached: true });
    child.unref();
    let cancelled = false;
    running.set(job.jobId, {
      child,
      cancel: () => {
        cancelled = true;
        // `guide-board run` stops its command and retains the run as cancelled, once it has
        // set up: its run folder exists. A signal before that would just kill it.
        const runDir = join(options.runsDir, job.runId);
        const stopWhenSetUp = async () => {
          while (child.exitCode === null && child.signalCode === null && !(await exists(runDir))) {
            await new Promise((resolve) => setTimeout(resolve, 25).unref());
          }
          if (child.exitCode === null) child.kill("SIGTERM");
        };
        void stopWhenSetUp();
      },
    });
    Object.assign(job, { state: "running", startedAt: now() });
    child.once("error", () => {
      running.delete(job.jobId);
      finish(job, "failed", null);
      pump();
    });
    child.once("exit", (code, signal) => {
      running.delete(job.jobId);
      cancelled ||= code === 130 || signal === "SIGTERM";
      pump();
      void Promise.resolve(options.settle?.())
        .catch(() => {})
        .then(() => finishRetained(job, cancelled ? "cancelled" : code === 0 ? "succeeded" : "failed", code));
    });
  };

  return {
    guides: () => [...options.guides],
    start(guide) {
      if (!options.guides.includes(guide)) return undefined;
      if (running.size >= options.maxConcurrentJobs && queued.size >= maxQueued) return "queue-full";
      const job: Job = {
        jobId: `${Date.now().toString(36)}-${randomSuffix(4)}`,
        guide,
        state: "queued",
        runId: newRunId(),
        createdAt: now(),
        startedAt: null,
        finishedAt: null,
        exitCode: null,
        retainedRun: null,
      };
      const entry = { job, seq: nextSeq++, forgotten: false };
      entries.set(job.jobId, entry);
      order.push(entry);
      queued.add(job.jobId);
      pump();
      return { ...job };
    },
    list({ limit, cursor }): JobPage | undefined {
      let end = order.length; // exclusive: entries before `end` are older than the cursor
      if (cursor !== undefined) {
        if (!/^[1-9]\d{0,15}$/.test(cursor)) return undefined;
        const before = Number(cursor);
        let lo = 0;
        let hi = order.length;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (order[mid]!.seq < before) lo = mid + 1;
          else hi = mid;
        }
        end = lo;
      }
      const jobs: Job[] = [];
      let lastSeq = 0;
      let i = end - 1;
      for (; i >= 0 && jobs.length < limit; i--) {
        const entry = order[i]!;
        if (entry.forgotten) continue;
        jobs.push({ ...entry.job });
        lastSeq = entry.seq;
      }
      while (i >= 0 && order[i]!.forgotten) i--;
      return i >= 0 ? { jobs, nextCursor: String(lastSeq) } : { jobs };
    },
    get: (jobId) => {
      const entry = entries.get(jobId);
      return entry ? { ...entry.job } : undefined;
    },
    cancel(jobId) {
      const job = entries.get(jobId)?.job;
      if (!job) return undefined;
      if (job.finishedAt !== null) return "finished";
      if (job.state === "queued") {
        queued.delete(jobId);
        finish(job, "cancelled", null);
      } else running.get(jobId)?.cancel();
      return { ...job };
    },
    runningCount: () => running.size,
  };
}
