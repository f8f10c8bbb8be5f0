import { promises as fsp, mkdirSync, realpathSync, renameSync, rmSync, type Stats, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  artifactManifest,
  createRunIndex,
  getRetainedRun,
  isGuideBoardError,
  latestRun,
  listRetainedRuns,
  reportPaths,
  type RunIndex,
} from "../src/index.ts";
import { makeRunsDir, writeCurrentRun, writeIncompleteRun, writeLegacyRun, writeSummaryText } from "./helpers/runs.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const indexes: RunIndex[] = [];
afterEach(() => {
  for (const index of indexes.splice(0)) index.close();
});
const open = (runsDir: string | string[], extra: object = {}) => {
  const index = createRunIndex({ runsDir, ...extra });
  indexes.push(index);
  return index;
};
const sortDiagnostics = <T extends { list: { diagnostics: { runsDir: string; entry: string | null }[] } }>(
  value: T,
) => {
  value.list.diagnostics.sort((a, b) => `${a.runsDir}/${a.entry}`.localeCompare(`${b.runsDir}/${b.entry}`));
  return value;
};

/** Everything the index answers, next to what the stateless functions answer. */
async function both(index: RunIndex, runsDir: string | string[], runIds: string[]) {
  const answer = async (
    list: typeof listRetainedRuns,
    latest: typeof latestRun,
    get: (id: string) => Promise<unknown>,
  ) => ({
    list: await list({ runsDir, limit: 3 }),
    all: (await list({ runsDir })).runs,
    failed: (await list({ runsDir, status: "failed" })).runs,
    latest: await latest({ runsDir }),
    latestFailed: await latest({ runsDir, status: "failed" }),
    runs: await Promise.all(
      runIds.map((id) =>
        get(id).then(
          (run) => run,
          (error: unknown) => (isGuideBoardError(error) ? error.code : error),
        ),
      ),
    ),
  });
  const settle = (promise: Promise<unknown>) =>
    promise.then(
      (value) => value,
      (error: unknown) => (isGuideBoardError(error) ? error.code : error),
    );
  const files = async (reports: (id: string) => Promise<unknown>, manifest: (id: string) => Promise<unknown>) =>
    Promise.all(runIds.map(async (id) => [await settle(reports(id)), await settle(manifest(id))]));
  const stateless = await answer(listRetainedRuns, latestRun, (id) => getRetainedRun({ runsDir }, id));
  const indexed = await answer(
    ((options: object) => index.listRetainedRuns(options)) as typeof listRetainedRuns,
    ((options: object) => index.latestRun(options)) as typeof latestRun,
    (id) => index.getRetainedRun(id),
  );
  const statelessFiles = await files(
    (id) => reportPaths({ runsDir }, id),
    (id) => artifactManifest({ runsDir }, id),
  );
  const indexedFiles = await files(
    (id) => index.reportPaths(id),
    (id) => index.artifactManifest(id),
  );
  return {
    stateless: { ...sortDiagnostics(stateless), files: statelessFiles },
    indexed: { ...sortDiagnostics(indexed), files: indexedFiles },
  };
}

/** The diagnostics' kinds, and the runs' ids, an index lists now (for `expect.poll`). */
const kindsIn = (index: RunIndex) => () => index.listRetainedRuns().then((list) => list.diagnostics.map((d) => d.kind));
const runIdsIn = (index: RunIndex) => () => index.listRetainedRuns().then((list) => list.runs.map((run) => run.runId));
/** A complete summary of run "r1". */
const SUMMARY_R1 = JSON.stringify({ runId: "r1", status: "passed", startedAt: "2026-01-01T00:00:00Z", reports: [] });

describe("createRunIndex", () => {
  it("answers like the stateless functions after a first scan", async () => {
    const { runsDir } = makeRunsDir();
    writeLegacyRun(runsDir, "old", { startedAt: "2025-01-01T00:00:00Z" });
    writeCurrentRun(runsDir, "a", { startedAt: "2026-01-01T00:00:00Z", status: "failed" });
    writeCurrentRun(runsDir, "b", { startedAt: "2026-01-02T00:00:00Z" });
    writeIncompleteRun(runsDir, "half");
    writeSummaryText(runsDir, "bad", "{");
    const index = open(runsDir);
    await index.ready();
    const { stateless, indexed } = await both(index, runsDir, ["old", "a", "b", "half", "bad", "nope"]);
    expect(indexed).toEqual(stateless);
    expect(index.size).toBe(3);
  });

  it("sees a run whose summary is renamed into place, promptly, through watching", async () => {
    const { runsDir } = makeRunsDir();
    const index = open(runsDir, { revalidateMs: 0 });
    await index.ready();
    const changes: string[] = [];
    index.onChange((change) => changes.push(`${change.type}:${change.runId}`));
    const runDir = writeIncompleteRun(runsDir, "r1");
    await expect.poll(kindsIn(index), { timeout: 3000 }).toEqual(["incomplete"]);
    writeFileSync(join(runDir, ".tmp"), SUMMARY_R1);
    renameSync(join(runDir, ".tmp"), join(runDir, "retention-summary.json"));
    await expect.poll(runIdsIn(index), { timeout: 3000 }).toEqual(["r1"]);
    expect(changes).toEqual(["added:r1"]);
    rmSync(runDir, { recursive: true });
    await expect.poll(() => index.size, { timeout: 3000 }).toBe(0);
    expect(changes).toEqual(["added:r1", "removed:r1"]);
  });

  it("sees a run whose summary was read half-written, once the writer finishes it in place", async () => {
    const { runsDir } = makeRunsDir();
    const index = open(runsDir, { revalidateMs: 0 });
    await index.ready();
    const runDir = writeIncompleteRun(runsDir, "r1");
    writeFileSync(join(runDir, "retention-summary.json"), '{"runId":"r1","sta'); // a writer half-way (cp, rsync)
    await expect.poll(kindsIn(index), { timeout: 3000 }).toEqual(["corrupt-summary"]);
    writeFileSync(join(runDir, "retention-summary.json"), SUMMARY_R1);
    await expect.poll(runIdsIn(index), { timeout: 3000 }).toEqual(["r1"]);
  });

  /** A runs directory holding run r1, and a ready index of it. */
  const indexedOneRun = async (options: object) => {
    const { root, runsDir } = makeRunsDir();
    writeCurrentRun(runsDir, "r1", { startedAt: "2026-01-01T00:00:00Z" });
    const index = open(runsDir, { revalidateMs: 0, ...options });
    await index.ready();
    return { root, runsDir, index };
  };

  it("sees its runs directory moved away through watching alone (no poll)", async () => {
    const { root, runsDir, index } = await indexedOneRun({ pollMs: 0 });
    renameSync(runsDir, join(root, "away"));
    await expect.poll(kindsIn(index), { timeout: 3000 }).toEqual(["runs-dir-missing"]);
  });

  it("watches the new folder when its runs directory is replaced at the same path (no poll)", async () => {
    const { root, runsDir } = makeRunsDir();
    const index = open(runsDir, { revalidateMs: 0, pollMs: 0 });
    await index.ready();
    const replacement = join(root, "restored");
    mkdirSync(replacement);
    writeCurrentRun(replacement, "r1", { startedAt: "2026-01-01T00:00:00Z" });
    renameSync(runsDir, join(root, "away"));
    renameSync(replacement, runsDir);
    await expect.poll(runIdsIn(index), { timeout: 3000 }).toEqual(["r1"]);
    // Only events can show this one: the index watches the folder now at the path.
    writeCurrentRun(runsDir, "r2", { startedAt: "2026-01-02T00:00:00Z" });
    await expect.poll(runIdsIn(index), { timeout: 3000 }).toEqual(["r2", "r1"]);
  });

  it("lists its runs directory again when it is moved back, right after it was seen gone", async () => {
    const { root, runsDir, index } = await indexedOneRun({ pollMs: 100 });
    renameSync(runsDir, join(root, "away"));
    await expect.poll(kindsIn(index), { timeout: 3000, interval: 5 }).toEqual(["runs-dir-missing"]);
    renameSync(join(root, "away"), runsDir);
    await expect.poll(runIdsIn(index), { timeout: 3000 }).toEqual(["r1"]);
    expect(await kindsIn(index)()).toEqual([]);
  });

  it("keeps reading the listing of a runs directory while runs keep coming, where the client caches attributes and listings", async () => {
    const { runsDir } = makeRunsDir();
    const index = open(runsDir, { watch: false, revalidateMs: 0, pollMs: 100 });
    await index.ready();
    writeCurrentRun(runsDir, "run-1", { startedAt: "2026-01-01T00:00:00Z" });
    // A network client's caches, as on a busy sshfs or NFS mount: the directory's attributes are
    // fetched once (this change shows) and never again; its listing is kept for 300 ms.
    const paths = new Set([runsDir, realpathSync(runsDir)]);
    const { stat, readdir } = fsp;
    let attributes: Promise<Stats> | undefined;
    let listing: { at: number; names: Promise<string[]> } | undefined;
    vi.spyOn(fsp, "stat").mockImplementation(((path: string) => {
      if (!paths.has(path)) return stat(path);
      attributes ??= stat(path);
      return attributes;
    }) as typeof fsp.stat);
    vi.spyOn(fsp, "readdir").mockImplementation(((path: string, ...rest: []) => {
      if (!paths.has(path) || rest.length > 0) return readdir(path, ...rest);
      if (!listing || Date.now() - listing.at > 300) listing = { at: Date.now(), names: readdir(path) };
      return listing.names.then((names) => [...names]);
    }) as typeof fsp.readdir);
    try {
      await expect.poll(() => index.size, { timeout: 3000 }).toBe(1);
      // Only the listing, read again after the change, shows these: each one found keeps it being
      // read (they come for longer than one series of re-reads lasts).
      for (let i = 2; i <= 8; i++) {
        await sleep(500);
        writeCurrentRun(runsDir, `run-${i}`, { startedAt: `2026-01-0${i}T00:00:00Z` });
        await expect.poll(() => index.size, { timeout: 3000 }).toBe(i);
      }
    } finally {
      vi.restoreAllMocks();
    }
  });

  it("pages with the same cursors as the stateless listing", async () => {
    const { runsDir } = makeRunsDir();
    for (let i = 0; i < 12; i++)
      writeCurrentRun(runsDir, `r${i}`, { startedAt: `2026-01-01T00:00:${String(i % 4).padStart(2, "0")}Z` });
    const index = open(runsDir);
    let cursor: string | undefined;
    do {
      const stateless = await listRetainedRuns({ runsDir, limit: 5, cursor });
      const indexed = await index.listRetainedRuns({ limit: 5, cursor });
      expect(indexed).toEqual(stateless);
      cursor = stateless.nextCursor;
    } while (cursor);
  });

  it("stays equal to the stateless functions through random adds, removes, rewrites, corruptions and renames", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            op: fc.constantFrom("add", "remove", "rewrite", "corrupt", "rename-away", "incomplete", "add-second-dir"),
            id: fc.integer({ min: 0, max: 7 }),
            minute: fc.integer({ min: 0, max: 5 }),
            status: fc.constantFrom("passed", "failed"),
          }),
          { minLength: 1, maxLength: 12 },
        ),
        async (ops) => {
          const one = makeRunsDir().runsDir;
          const two = makeRunsDir().runsDir;
          const runsDir = [one, two];
          const index = open(runsDir, { revalidateMs: 0 });
          await index.ready();
          const ids = Array.from({ length: 8 }, (_, i) => `run-${i}`);
          for (const { op, id, minute, status } of ops) {
            const runId = ids[id]!;
            const startedAt = `2026-01-01T00:0${minute}:00Z`;
            if (op === "add" || op === "rewrite")
              writeCurrentRun(one, runId, { startedAt, status, labels: { n: String(minute) } });
            if (op === "add-second-dir") writeCurrentRun(two, runId, { startedAt, status });
            if (op === "remove") rmSync(join(one, runId), { recursive: true, force: true });
            if (op === "corrupt") writeSummaryText(one, runId, '{"runId":');
            if (op === "incomplete") {
              rmSync(join(one, runId), { recursive: true, force: true });
              mkdirSync(join(one, runId));
            }
            if (op === "rename-away") {
              try {
                renameSync(join(one, runId), join(one, `.guide-board-trash-${runId}`));
                rmSync(join(one, `.guide-board-trash-${runId}`), { recursive: true });
              } catch {
                // nothing to rename
              }
            }
            await index.refresh(); // settle: what the watcher or the revalidation would do
            const { stateless, indexed } = await both(index, runsDir, ids);
            expect(indexed).toEqual(stateless);
          }
          index.close();
        },
      ),
      { numRuns: 25 },
    );
  });
});
