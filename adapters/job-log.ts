import { promises as fsp } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { openConventionalLog, runsOptionsOf, type RunsOptions } from "../src/_internal.ts";

/** How often the one reader of a job's log looks for new bytes. */
export const POLL_MS = 50;
/** Largest read of the shared reader; each chunk goes to every follower without a copy. */
const READ_BYTES = 256 * 1024;
/** What a follower's stream buffers before it counts as slow and reads from the file instead. */
export const FOLLOWER_BUFFER_BYTES = 256 * 1024;

/** What the hub needs to know of a job: its run id, and whether it has ended. */
export interface FollowedJob {
  runId: string;
  /** Whether the job has finished (its log is complete), or is no longer known. */
  ended(): boolean;
}

/** One follower: a stream that pulls what it has not had from the file, or waits for the live feed. */
class Follower extends Readable {
  /** Bytes of the log this follower has been given. */
  offset = 0;
  /** Caught up and asking for more: the next chunk the shared reader reads goes straight to it. */
  waiting = false;
  reading = false;
  done = false;
  constructor(private readonly pull: (follower: Follower) => void) {
    super({ highWaterMark: FOLLOWER_BUFFER_BYTES });
  }
  override _read(): void {
    this.pull(this);
  }
  /** Ends the stream once (a second `push(null)` would be an error). */
  finish(): void {
    if (this.done || this.destroyed) return;
    this.done = true;
    this.push(null);
  }
}

interface Feed {
  key: string;
  logId: string;
  job: FollowedJob;
  followers: Set<Follower>;
  handle: FileHandle | null;
  /** Bytes of the log the shared reader has seen (read and fanned out, or left to followers to pull). */
  size: number;
  ended: boolean;
  timer: NodeJS.Timeout;
  busy: boolean;
  stopped: boolean;
}

/**
 * The live output of jobs: one reader per job and log polls the file `guide-board run` writes in
 * the run folder, and hands each new chunk to every follower that is caught up and asking for
 * more, without a copy. A follower that joins late, or whose client reads slowly, pulls the
 * bytes it is missing from the file itself, paced by its client (Node's stream backpressure), then
 * rejoins the live feed: a slow follower holds at most about {@link FOLLOWER_BUFFER_BYTES} plus
 * one chunk, and never slows the others.
 */
export function createJobLogHub(runs: RunsOptions) {
  const feeds = new Map<string, Feed>();

  // The folder `guide-board run` writes (its log appears before the summary), found without blocking.
  const locate = async (feed: Feed): Promise<FileHandle | null> => {
    for (const runsDir of runsOptionsOf(runs).runsDirs) {
      const path = join(runsDir, feed.job.runId);
      const stat = await fsp.lstat(path).catch(() => null);
      if (!stat?.isDirectory()) continue;
      const runDir = await fsp.realpath(path).catch(() => null);
      return runDir === null ? null : (await openConventionalLog(runDir, feed.logId)).file.handle;
    }
    return null;
  };

  const stop = (feed: Feed) => {
    if (feed.stopped) return;
    feed.stopped = true;
    clearInterval(feed.timer);
    if (feeds.get(feed.key) === feed) feeds.delete(feed.key);
    void feed.handle?.close().catch(() => {});
  };

  const pull = async (feed: Feed, follower: Follower) => {
    if (follower.reading || follower.done || follower.destroyed) return;
    if (feed.handle !== null && follower.offset < feed.size) {
      follower.reading = true;
      const chunk = Buffer.allocUnsafe(Math.min(READ_BYTES, feed.size - follower.offset));
      try {
        const { bytesRead } = await feed.handle.read(chunk, 0, chunk.length, follower.offset);
        follower.reading = false;
        follower.offset += bytesRead;
        if (bytesRead === 0)
          follower.finish(); // shrank under us: end with what it has
        else follower.push(chunk.subarray(0, bytesRead));
      } catch {
        follower.destroy(); // the feed closed under it: nobody is listening any more
      }
    } else if (feed.ended) follower.finish();
    else follower.waiting = true;
  };

  const tick = async (feed: Feed) => {
    if (feed.busy || feed.stopped) return;
    feed.busy = true;
    try {
      const ended = feed.job.ended(); // asked first: once it has ended, the file holds everything
      feed.handle ??= await locate(feed).catch(() => null);
      if (feed.handle !== null) {
        const { size } = await feed.handle.stat();
        while (feed.size < size) {
          // Nobody is waiting (all are pulling at their own pace): nothing to read on their behalf.
          if (![...feed.followers].some((follower) => follower.waiting)) {
            feed.size = size;
            break;
          }
          const chunk = Buffer.allocUnsafe(Math.min(READ_BYTES, size - feed.size));
          const { bytesRead } = await feed.handle.read(chunk, 0, chunk.length, feed.size);
          if (bytesRead === 0) break;
          const from = feed.size;
          feed.size += bytesRead;
          _fanOut(feed, chunk.subarray(0, bytesRead), from);
        }
        // Followers still waiting are owed what arrived while they were reading: they pull it.
        for (const follower of feed.followers) if (follower.waiting && follower.offset < feed.size) _wake(follower);
      }
      if (ended) {
        feed.ended = true;
        for (const follower of feed.followers) if (follower.waiting) _wake(follower);
      }
    } catch {
      feed.ended = true; // unreadable now: end every follower with what it has
      for (const follower of feed.followers) follower.finish();
    } finally {
      feed.busy = false;
    }
    if (feed.followers.size === 0) stop(feed);
  };

  return {
    /** A stream of the job's log (`stdout` or `stderr`) from its first byte; it ends when the job has. */
    follow(jobId: string, logId: string, job: FollowedJob): Readable {
      const key = `${jobId}\n${logId}`;
      let feed = feeds.get(key);
      if (!feed) {
        const created = { key, logId, job, followers: new Set(), handle: null, size: 0, ended: false } as Feed;
        Object.assign(created, { busy: false, stopped: false });
        created.timer = setInterval(() => void tick(created), POLL_MS);
        created.timer.unref();
        feeds.set(key, created);
        feed = created;
      }
      const current = feed;
      const follower = new Follower((self) => void pull(current, self));
      follower.on("error", () => {}); // a client gone mid-read is just a closed follower
      current.followers.add(follower);
      follower.once("close", () => {
        current.followers.delete(follower);
        if (current.followers.size === 0) stop(current);
      });
      void tick(current);
      return follower;
    },
    /** How many feeds (shared readers) are open: one per followed job and log. */
    feedCount: () => feeds.size,
  };
}

function _fanOut(feed: Feed, chunk: Buffer, from: number): void {
  for (const follower of feed.followers) {
    if (!follower.waiting || follower.offset !== from || follower.done || follower.destroyed) continue;
    follower.waiting = false;
    follower.offset += chunk.length;
    follower.push(chunk);
  }
}

/** Asks a waiting follower to pull again (it reads what it is owed, or ends). */
function _wake(follower: Follower): void {
  follower.waiting = false;
  follower._read();
}
