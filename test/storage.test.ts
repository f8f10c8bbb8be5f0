// The storage layer: a deadline per file call, calls in flight bounded per runs directory, stuck
// calls counted, and what the service does while a runs directory does not answer. A hang is
// simulated in-process by a call that does not return until the test lets it (the network-mount
// version of this is test/stress/netfs.test.ts).
import { renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createGuideBoardApp } from "../adapters/h3.ts";
import { createRunIndex, isGuideBoardError, listRetainedRuns, reportPaths } from "../src/index.ts";
import { createRunTable } from "../src/run-table.ts";
import { classifyEntry } from "../src/folder.ts";
import { fileIdentity } from "../src/_stat-worker.ts";
import { storageCall, storageHealth, storageOf } from "../src/storage.ts";
import { makeRunsDir, writeCurrentRun, writeIncompleteRun } from "./helpers/runs.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A call that does not return until `release()`: what a hung mount does to a file call. */
function hang(runsDir: string, timeoutMs: number) {
  let release!: () => void;
  const stuck = new Promise<void>((resolve) => {
    release = resolve;
  });
  const call = storageCall(runsDir, "test-hang", () => stuck, { storageTimeoutMs: timeoutMs });
  return { call, release };
}

describe("storageCall", () => {
  it("rejects with STORAGE_UNAVAILABLE at the deadline, counts the stuck call, and recovers when it returns", async () => {
    const { runsDir } = makeRunsDir();
    const started = Date.now();
    const { call, release } = hang(runsDir, 100);
    const error = await call.catch((e: unknown) => e);
    expect(isGuideBoardError(error, "STORAGE_UNAVAILABLE")).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    expect((error as { details: { retryAfter: number } }).details.retryAfter).toBe(1);
    expect(storageHealth(runsDir)).toMatchObject({ stuck: 1, inFlight: 1 });
    expect(storageHealth(runsDir).unresponsiveSince).not.toBeNull();
    // While a call is stuck, the next ones are answered at once, not after another deadline.
    const quick = Date.now();
    await expect(storageOf(runsDir, { storageTimeoutMs: 5000 }).stat(runsDir)).rejects.toMatchObject({
      code: "STORAGE_UNAVAILABLE",
    });
    expect(Date.now() - quick).toBeLessThan(1000);
    release();
    await sleep(10);
    expect(storageHealth(runsDir)).toMatchObject({ stuck: 0, inFlight: 0, unresponsiveSince: null });
    expect((await storageOf(runsDir).stat(runsDir)).isDirectory()).toBe(true);
  });

  it("closes a handle refused while its runs directory is not answering as soon as it answers again", async () => {
    const { runsDir } = makeRunsDir();
    writeFileSync(join(runsDir, "file.txt"), "x");
    const storage = storageOf(runsDir, { storageTimeoutMs: 100 });
    const handle = await storage.open(join(runsDir, "file.txt"), 0);
    const { call, release } = hang(runsDir, 100);
    await call.catch(() => {});
    expect(storageHealth(runsDir).unresponsiveSince).not.toBeNull(); // every new call is refused now
    storage.close(handle);
    await sleep(20);
    // (a close on a hung mount would hold a pool thread outside the directory's slots)
    expect(handle.fd).toBeGreaterThanOrEqual(0);
    release();
    await sleep(20);
    expect(storageHealth(runsDir).unresponsiveSince).toBeNull();
    expect(handle.fd).toBe(-1); // never left to the garbage collector
  });

  it("never lets one hung runs directory hold the slots of another", async () => {
    const one = makeRunsDir().runsDir;
    const two = makeRunsDir().runsDir;
    const hung = Array.from({ length: 40 }, () => hang(one, 200));
    const answered = await storageOf(two, { storageTimeoutMs: 1000 }).readdir(two, true);
    expect(answered).toEqual([]);
    expect(storageHealth(one).inFlight).toBeLessThanOrEqual(16);
    expect(storageHealth(one).queued + storageHealth(one).inFlight).toBe(40);
    const results = await Promise.allSettled(hung.map((h) => h.call));
    expect(results.every((r) => r.status === "rejected")).toBe(true);
    for (const h of hung) h.release();
    await sleep(10);
    expect(storageHealth(one)).toMatchObject({ inFlight: 0, queued: 0, stuck: 0 });
  });

  it("closes a file opened after its deadline", async () => {
    const { runsDir } = makeRunsDir();
    let closed = false;
    const late = {
      close: async () => {
        closed = true;
      },
    };
    const call = storageCall(
      runsDir,
      "open",
      () => new Promise<typeof late>((resolve) => setTimeout(() => resolve(late), 80)),
      { storageTimeoutMs: 20 },
      (handle) => void handle.close(),
    );
    await expect(call).rejects.toMatchObject({ code: "STORAGE_UNAVAILABLE" });
    await sleep(120);
    expect(closed).toBe(true);
  });
});

describe("file identities", () => {
  it("gives the same identity from the worker batch as from one stat, and null for what is not a regular file", async () => {
    const { runsDir } = makeRunsDir();
    const files = Array.from({ length: 20 }, (_, i) => {
      const path = join(runsDir, `file-${i}.txt`);
      writeFileSync(path, "x".repeat(i));
      return path;
    });
    const paths = [...files, join(runsDir, "missing.txt"), runsDir];
    const storage = storageOf(runsDir);
    const batch = await storage.identities(paths); // ≥ 16 paths: the worker thread
    const expected = files.map((path) => fileIdentity(statSync(path)));
    expect(batch).toEqual([...expected, null, null]);
    expect(batch[3]).toMatch(/^\d+:\d+:3:[\d.]+$/);
    const many = Array.from({ length: 600 }, (_, i) => paths[i % paths.length]!); // split between two workers
    expect(await storage.identities(many)).toEqual(many.map((_, i) => batch[i % paths.length]));
    const few = await storage.identities([files[3]!, join(runsDir, "missing.txt")]); // one by one
    expect(few).toEqual([expected[3], null]);
    // A file replaced by another (a new inode) has a new identity.
    writeFileSync(`${files[3]}.new`, "abc");
    renameSync(`${files[3]}.new`, files[3]!);
    expect((await storage.identities(paths))[3]).not.toBe(expected[3]);
    expect(storageHealth(runsDir)).toMatchObject({ inFlight: 0, stuck: 0 });
  });
});

describe("a runs directory that stops answering", () => {
  it("keeps answering from memory, answers 503 with Retry-After for what needs the storage, says so, and recovers", async () => {
    const { runsDir } = makeRunsDir();
    writeCurrentRun(runsDir, "r1", { startedAt: "2026-01-01T00:00:00Z" });
    const index = createRunIndex({ runsDir, storageTimeoutMs: 150, pollMs: 50, watch: false, revalidateMs: 0 });
    const events: string[] = [];
    index.onStorage?.((event) => events.push(event.state));
    const app = createGuideBoardApp({ runsDir, index, storageTimeoutMs: 150 });
    try {
      await index.ready();
      const { call, release } = hang(runsDir, 150);
      await call.catch(() => {});
      const list = await app.request("/retained-runs?limit=50");
      expect(list.status).toBe(200);
      expect(
        ((await list.json()) as { runs: { runId: string }[] }).runs.map((run: { runId: string }) => run.runId),
      ).toEqual(["r1"]);
      expect((await app.request("/retained-runs/r1")).status).toBe(200);
      expect((await app.request("/openapi.json")).status).toBe(200);
      for (const path of [
        "/retained-runs/r1/reports",
        "/retained-runs/r1/artifact-manifest",
        "/retained-runs/r1/reports/x",
      ]) {
        const answer = await app.request(path);
        expect(answer.status).toBe(503);
        expect(answer.headers.get("retry-after")).toBe("1");
        expect(((await answer.json()) as { error: { code: string } }).error.code).toBe("STORAGE_UNAVAILABLE");
      }
      // The stateless listing needs the storage too.
      const stateless = createGuideBoardApp({ runsDir, storageTimeoutMs: 150 });
      expect((await stateless.request("/retained-runs")).status).toBe(503);
      await expect
        .poll(async () => (await index.listRetainedRuns()).diagnostics.map((d) => d.kind), { timeout: 3000 })
        .toEqual(["runs-dir-unresponsive"]);
      expect(events).toEqual(["unresponsive"]);

      release();
      writeCurrentRun(runsDir, "r2", { startedAt: "2026-01-02T00:00:00Z" });
      await expect
        .poll(async () => (await index.listRetainedRuns()).runs.map((run) => run.runId), { timeout: 3000 })
        .toEqual(["r2", "r1"]);
      expect((await index.listRetainedRuns()).diagnostics).toEqual([]);
      expect(events).toEqual(["unresponsive", "answering"]);
      expect((await app.request("/retained-runs/r1/reports")).status).toBe(200);
      expect((await stateless.request("/retained-runs")).status).toBe(200);
    } finally {
      index.close();
    }
  });

  it("says a runs directory is unresponsive as soon as any call on it misses its deadline, without waiting for a poll", async () => {
    const { runsDir } = makeRunsDir();
    const index = createRunIndex({ runsDir, storageTimeoutMs: 150, pollMs: 0, watch: false, revalidateMs: 0 });
    const events: string[] = [];
    index.onStorage?.((event) => events.push(event.state));
    const { call, release } = hang(runsDir, 150);
    try {
      await index.ready();
      await call.catch(() => {}); // (a request's call, not the index's)
      expect((await index.listRetainedRuns()).diagnostics.map((d) => d.kind)).toEqual(["runs-dir-unresponsive"]);
      expect(events).toEqual(["unresponsive"]);
    } finally {
      release();
      index.close();
    }
  });

  it("sees runs another host adds or removes by polling, with no file events", async () => {
    const { runsDir } = makeRunsDir();
    const index = createRunIndex({ runsDir, watch: false, revalidateMs: 0, pollMs: 100 });
    try {
      await index.ready();
      writeCurrentRun(runsDir, "a", { startedAt: "2026-01-01T00:00:00Z" });
      await expect.poll(() => index.size, { timeout: 3000 }).toBe(1);
      writeIncompleteRun(runsDir, "b");
      await expect
        .poll(async () => (await index.listRetainedRuns()).diagnostics.map((d) => d.kind), { timeout: 3000 })
        .toEqual(["incomplete"]);
      writeCurrentRun(runsDir, "b", { startedAt: "2026-01-02T00:00:00Z" });
      await expect.poll(() => index.size, { timeout: 3000 }).toBe(2);
    } finally {
      index.close();
    }
  });

  it("sees a runs directory replaced at the same path (a remount, a restore) by polling, even before its first poll", async () => {
    const { root, runsDir } = makeRunsDir();
    writeCurrentRun(runsDir, "a", { startedAt: "2026-01-01T00:00:00Z" });
    const index = createRunIndex({ runsDir, watch: false, revalidateMs: 0, pollMs: 100 });
    try {
      await index.ready();
      // The same names in the new folder, so its listing alone tells nothing; its identity does.
      renameSync(runsDir, join(root, "runs.old"));
      writeCurrentRun(runsDir, "a", { startedAt: "2026-01-01T00:00:00Z", status: "failed", exitCode: 1 });
      await expect
        .poll(async () => (await index.listRetainedRuns()).runs.map((run) => run.status), { timeout: 3000 })
        .toEqual(["failed"]);
    } finally {
      index.close();
    }
  });

  it("lets a library caller set the deadline, and refuses a bad one", async () => {
    const { runsDir } = makeRunsDir();
    await expect(listRetainedRuns({ runsDir, storageTimeoutMs: 0 })).rejects.toMatchObject({ code: "INVALID_OPTIONS" });
    await expect(reportPaths({ runsDir, storageTimeoutMs: 5000 }, "nope")).rejects.toMatchObject({
      code: "RUN_NOT_FOUND",
    });
  });
});

describe("the run table (no watcher, no files)", () => {
  const run = (runId: string, startedAt: string) => ({
    entry: {
      startedAtMs: Date.parse(startedAt),
      run: { runId, startedAt, status: "passed", labels: {} },
    } as never,
    problem: null,
    stamp: null,
  });

  it("keeps runs newest first, lets the earlier runs directory win, and lists the later one as a duplicate", () => {
    const table = createRunTable();
    table.setDirs(["/one", "/two"]);
    expect(table.set("/two", "x", run("x", "2026-01-01T00:00:00Z"))).toEqual({ type: "added", runId: "x" });
    expect(table.set("/one", "y", run("y", "2026-01-03T00:00:00Z"))).toEqual({ type: "added", runId: "y" });
    expect(table.set("/one", "x", run("x", "2026-01-02T00:00:00Z"))).toEqual({ type: "updated", runId: "x" });
    expect(table.list().runs.map((r) => `${r.runId}@${r.startedAt.slice(8, 10)}`)).toEqual(["y@03", "x@02"]);
    expect(table.held("x").runsDir).toBe("/one");
    expect(table.diagnostics()).toEqual([
      { runsDir: "/two", entry: "x", kind: "duplicate-run-id", message: expect.any(String) },
    ]);
    expect(table.set("/one", "x", null)).toEqual({ type: "updated", runId: "x" });
    expect(table.held("x").runsDir).toBe("/two");
    expect(table.setDirs(["/one"])).toEqual([{ type: "removed", runId: "x" }]);
    expect(() => table.held("x")).toThrow(/No retained run x/);
    expect(table.size).toBe(1);
  });

  it("classifies entries by name and type before any read", () => {
    expect(classifyEntry(".guide-board-trash-x", "directory")).toEqual({ is: "skip" });
    expect(classifyEntry("notes.txt", "other")).toEqual({ is: "skip" });
    expect(classifyEntry("linked", "symlink")).toMatchObject({ is: "problem", kind: "symlinked-run-folder" });
    expect(classifyEntry("bad id!", "directory")).toMatchObject({ is: "problem", kind: "invalid-run-id" });
    expect(classifyEntry("r1", "directory")).toBe("read");
  });
});
