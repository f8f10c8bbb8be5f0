import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Job, JobsProvider } from "../adapters/jobs.ts";
import { SUMMARY_FILE } from "../src/_internal.ts";
import { newRunId, randomSuffix } from "./_write.ts";

/** Finished jobs kept in memory; older ones are forgotten (their runs stay under /retained-runs). */
const MAX_FINISHED_JOBS = 500;

/** Options of {@link createJobManager}. */
export interface JobManagerOptions {
  guides: string[];
  runsDir: string;
  configPath: string;
  cwd: string;
  maxConcurrentJobs: number;
  /** The `guide-board` bin to start; defaults to this package's. */
  bin?: string;
  /** Awaited before a job is reported finished, so its run is already listed (the service refreshes its index). */
  settle?: () => Promise<void>;
}

/**
 * Starts `guide-board run NAME` processes for the service and tracks them in memory. A job's run
 * id is chosen up front, so `/runs/{jobId}` links to `/retained-runs/{runId}` once it is retained.
 * Children run detached from the server: if the server dies, they finish and retain their runs.
 */
export function createJobManager(options: JobManagerOptions): JobsProvider & { runningCount(): number } {
  const bin = options.bin ?? fileURLToPath(new URL("../bin/guide-board.mjs", import.meta.url));
  const jobs = new Map<string, Job>();
  const running = new Map<string, { child: ChildProcess; cancel(): void }>();
  const queue: string[] = [];
  const now = () => new Date().toISOString();

  const refresh = (job: Job): Job => {
    if (job.retainedRun === null && existsSync(join(options.runsDir, job.runId, SUMMARY_FILE))) {
      job.retainedRun = `/retained-runs/${job.runId}`;
    }
    return { ...job };
  };
  const finish = (job: Job, state: Job["state"], exitCode: number | null) => {
    Object.assign(job, { state, exitCode, finishedAt: now() });
    refresh(job);
    const finished = [...jobs.values()].filter((j) => j.finishedAt !== null);
    for (const old of finished.slice(0, Math.max(0, finished.length - MAX_FINISHED_JOBS))) jobs.delete(old.jobId);
  };
  const pump = () => {
    while (running.size < options.maxConcurrentJobs && queue.length > 0) {
      const job = jobs.get(queue.shift()!);
      if (job?.state !== "queued") continue;
      const args = [
        bin,
        "run",
        job.guide,
        "--runs-dir",
        options.runsDir,
        "--run-id",
        job.runId,
        "--config",
        options.configPath,
      ];
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
          const stop = () => child.exitCode === null && child.kill("SIGTERM");
          if (existsSync(runDir)) return void stop();
          const wait = setInterval(() => {
            if (existsSync(runDir) || child.exitCode !== null) {
              clearInterval(wait);
              stop();
            }
          }, 25);
          wait.unref();
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
          .then(() => finish(job, cancelled ? "cancelled" : code === 0 ? "succeeded" : "failed", code));
      });
    }
  };

  return {
    guides: () => [...options.guides],
    start(guide) {
      if (!options.guides.includes(guide)) return undefined;
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
      jobs.set(job.jobId, job);
      queue.push(job.jobId);
      pump();
      return refresh(job);
    },
    list: () => [...jobs.values()].reverse().map(refresh),
    get: (jobId) => {
      const job = jobs.get(jobId);
      return job ? refresh(job) : undefined;
    },
    cancel(jobId) {
      const job = jobs.get(jobId);
      if (!job) return undefined;
      if (job.finishedAt !== null) return "finished";
      if (job.state === "queued") finish(job, "cancelled", null);
      else running.get(jobId)?.cancel();
      return refresh(job);
    },
    runningCount: () => running.size,
  };
}
