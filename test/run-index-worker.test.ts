import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { judgeSummary, readSummarySync, type FolderVerdict } from "../src/folder.ts";
import {
  BATCH,
  listOffThread,
  liveReadWorkers,
  type OffThreadReadOptions,
  readSummariesOffThread,
} from "../src/_read-worker.ts";
import { storageOf, type DirEntry } from "../src/storage.ts";
import { createRunIndex } from "../src/run-index.ts";
import { listRetainedRuns } from "../src/runs.ts";
import {
  makeRunsDir,
  writeCurrentRun,
  writeFile,
  writeIncompleteRun,
  writeLegacyRun,
  writeManyRuns,
  writeSummaryText,
} from "./helpers/runs.ts";

const MAX = 4096;

/** A runs directory holding one folder of every kind the worker must judge like the synchronous reader. */
function hostileRunsDir(): { runsDir: string; names: string[] } {
  const { root, runsDir } = makeRunsDir();
  const names: string[] = [];
  const add = (name: string) => names.push(name);
  writeCurrentRun(runsDir, "2026-11-24T09-00-00Z-good");
  add("2026-11-24T09-00-00Z-good");
  writeLegacyRun(runsDir, "2026-11-24T09-00-01Z-legacy");
  add("2026-11-24T09-00-01Z-legacy");
  writeIncompleteRun(runsDir, "2026-11-24T09-00-02Z-incomplete");
  add("2026-11-24T09-00-02Z-incomplete");
  writeSummaryText(runsDir, "2026-11-24T09-00-03Z-corrupt", "{ not json");
  add("2026-11-24T09-00-03Z-corrupt");
  writeSummaryText(runsDir, "2026-11-24T09-00-04Z-empty", "");
  add("2026-11-24T09-00-04Z-empty");
  writeSummaryText(runsDir, "2026-11-24T09-00-05Z-large", `{"pad":"${"x".repeat(MAX)}"}`);
  add("2026-11-24T09-00-05Z-large");
  writeCurrentRun(runsDir, "2026-11-24T09-00-06Z-mismatch");
  const other = join(runsDir, "2026-11-24T09-00-06Z-other");
  execFileSync("mv", [join(runsDir, "2026-11-24T09-00-06Z-mismatch"), other]);
  add("2026-11-24T09-00-06Z-other");
  writeFile(join(root, "outside.json"), "{}");
  mkdirSync(join(runsDir, "2026-11-24T09-00-07Z-link"));
  symlinkSync(join(root, "outside.json"), join(runsDir, "2026-11-24T09-00-07Z-link", "retention-summary.json"));
  add("2026-11-24T09-00-07Z-link");
  mkdirSync(join(runsDir, "2026-11-24T09-00-08Z-dir", "retention-summary.json"), { recursive: true });
  add("2026-11-24T09-00-08Z-dir");
  mkdirSync(join(runsDir, "2026-11-24T09-00-09Z-fifo"));
  execFileSync("mkfifo", [join(runsDir, "2026-11-24T09-00-09Z-fifo", "retention-summary.json")]);
  add("2026-11-24T09-00-09Z-fifo");
  add("2026-11-24T09-00-10Z-vanished"); // listed, but gone by the time it is read
  return { runsDir, names };
}

const comparable = (verdict: FolderVerdict) =>
  verdict.is === "run"
    ? { is: "run", run: verdict.entry.run, stamp: verdict.stamp }
    : verdict.is === "problem"
      ? { is: "problem", kind: verdict.kind, message: verdict.message }
      : { is: "skip" };

/** Every folder's verdict from summaries read in workers, the names they left unread, and how many reads they handed back. */
async function judgedInWorkers(runsDir: string, names: string[], max: number, options?: OffThreadReadOptions) {
  const verdicts: FolderVerdict[] = [];
  let handed = 0;
  const unread = await readSummariesOffThread(
    runsDir,
    names,
    max,
    10_000,
    (first, reads) => {
      handed += reads.length;
      for (const [i, summary] of reads.entries()) {
        const name = names[first + i]!;
        verdicts[first + i] = judgeSummary(join(runsDir, name), name, summary, max);
      }
    },
    options,
  );
  return { verdicts, unread, handed };
}

/** Every read counts as slow: the cache proves cold after the first 64, and the rest is read with reads in flight. */
const COLD = { slowMs: 0, inFlight: 8 };

/** Each verdict equals the synchronous reader's for the same folder. */
function expectSameAsSync(runsDir: string, names: string[], verdicts: FolderVerdict[], max: number) {
  for (const [i, name] of names.entries()) {
    const runDir = join(runsDir, name);
    const sync = judgeSummary(runDir, name, readSummarySync(runDir, max, true), max);
    expect(comparable(verdicts[i]!), name).toEqual(comparable(sync));
  }
}

describe("index start: summaries read in a worker thread", () => {
  it("judges every hostile folder exactly as the synchronous reader does, read synchronously or with reads in flight (a cold cache)", async () => {
    for (const options of [undefined, COLD]) {
      const { runsDir, names: hostile } = hostileRunsDir();
      // 64 plain runs first: when every read counts as slow, the reads after them are in flight.
      const names = [...writeManyRuns(runsDir, 64), ...hostile];
      const { verdicts, unread } = await judgedInWorkers(runsDir, names, MAX, options);
      expect(unread).toEqual([]);
      const kinds = verdicts.slice(64).map((verdict) => (verdict.is === "problem" ? verdict.kind : verdict.is));
      expect(kinds).toEqual([
        "run",
        "run",
        "incomplete",
        "corrupt-summary",
        "corrupt-summary",
        "summary-too-large",
        "run-id-mismatch",
        "unsafe-summary",
        "unsafe-summary",
        "unsafe-summary",
        "vanished",
      ]);
      expectSameAsSync(runsDir, names, verdicts, MAX);
    }
  });

  it("hands back many summaries in batches, in order", async () => {
    const { runsDir } = makeRunsDir();
    const names = writeManyRuns(runsDir, 300).sort();
    const seen: string[] = [];
    const batches: number[] = [];
    const unread = await readSummariesOffThread(runsDir, names, MAX, 10_000, (first, reads) => {
      batches.push(reads.length);
      for (const [i, summary] of reads.entries()) {
        const verdict = judgeSummary(join(runsDir, names[first + i]!), names[first + i]!, summary, MAX);
        if (verdict.is === "run") seen.push(verdict.entry.run.runId);
      }
    });
    expect(unread).toEqual([]);
    expect(seen).toEqual(names);
    expect(batches.length).toBeGreaterThan(1);
  });

  it("hands back summaries larger than a batch's buffer, and multi-byte text, byte for byte", async () => {
    const { runsDir } = makeRunsDir();
    const max = 1024 * 1024;
    // Every seventh summary is larger than a batch's buffer (256 KiB); every fifth is corrupt.
    const names = writeManyRuns(runsDir, 300, (i) =>
      i % 7 === 0 ? { note: `é✓🙂${"x".repeat(300 * 1024)}` } : { note: `é✓🙂${i}` },
    ).sort();
    for (const [i, name] of names.entries()) if (i % 5 === 0) writeSummaryText(runsDir, name, `{"runId":"${name}",`);
    for (const options of [undefined, COLD]) {
      const { verdicts: fromWorker, unread } = await judgedInWorkers(runsDir, names, max, options);
      expect(unread).toEqual([]);
      expectSameAsSync(runsDir, names, fromWorker, max);
      expect(fromWorker.filter((verdict) => verdict.is === "run")).toHaveLength(240);
    }
  });

  it("lists a directory of many folders in a worker, with the same entries and types as readdir", async () => {
    const { root, runsDir } = makeRunsDir();
    writeManyRuns(runsDir, 300);
    writeFile(join(root, "outside.json"), "{}");
    symlinkSync(root, join(runsDir, "2026-11-24T09-00-00Z-link"));
    writeFile(join(runsDir, "notes.txt"), "a file");
    execFileSync("mkfifo", [join(runsDir, "a-fifo")]);
    const expected = readdirSync(runsDir, { withFileTypes: true })
      .map((d) => ({ name: d.name, type: d.isSymbolicLink() ? "symlink" : d.isDirectory() ? "directory" : "other" }))
      .sort((a, b) => a.name.localeCompare(b.name));
    const byName = (entries: DirEntry[] | null) => [...(entries ?? [])].sort((a, b) => a.name.localeCompare(b.name));
    expect(byName(await listOffThread(runsDir, 10_000))).toEqual(expected);
    // The storage layer takes that path for a directory this large, and gives the same answer.
    expect(byName(await storageOf(runsDir).readdir(runsDir, true))).toEqual(expected);
    expect(await listOffThread(join(root, "missing"), 10_000)).toBeNull();
  });

  it("starts at most four read workers however many listings run at once; the rest list through the pool", async () => {
    const { runsDir } = makeRunsDir();
    writeManyRuns(runsDir, 300);
    const expected = readdirSync(runsDir).sort();
    let most = 0;
    const watching = setInterval(() => {
      most = Math.max(most, liveReadWorkers());
    }, 1);
    const listings = await Promise.all(
      Array.from({ length: 12 }, async () => {
        const entries = await storageOf(runsDir).readdir(runsDir, true);
        most = Math.max(most, liveReadWorkers());
        return entries.map((entry) => entry.name).sort();
      }),
    );
    clearInterval(watching);
    for (const names of listings) expect(names).toEqual(expected);
    expect(most).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(4);
  });

  it("reads a large directory in batches that the workers take in turn, each summary exactly once", async () => {
    const { runsDir } = makeRunsDir();
    const names = writeManyRuns(runsDir, 2100).sort();
    const times = new Array<number>(names.length).fill(0);
    const firsts: number[] = [];
    const unread = await readSummariesOffThread(runsDir, names, MAX, 10_000, (first, reads) => {
      firsts.push(first);
      for (const [i, summary] of reads.entries()) {
        const verdict = judgeSummary(join(runsDir, names[first + i]!), names[first + i]!, summary, MAX);
        expect(verdict.is === "run" && verdict.entry.run.runId).toBe(names[first + i]);
        times[first + i]!++;
      }
    });
    expect(unread).toEqual([]);
    expect(times.every((n) => n === 1)).toBe(true);
    // Small summaries: one batch per take, each starting where a take starts.
    expect(firsts.sort((a, b) => a - b)).toEqual(
      Array.from({ length: Math.ceil(names.length / BATCH) }, (_, i) => i * BATCH),
    );
  });

  it("stops every worker once its reads prove slow (a cold cache) with no reads in flight allowed, and gives back exactly the names not read", async () => {
    const { runsDir } = makeRunsDir();
    const names = writeManyRuns(runsDir, 2100).sort();
    const handed: string[] = [];
    // Every read counts as slow: each worker stops after its first 64, at the latest.
    const unread = await readSummariesOffThread(
      runsDir,
      names,
      MAX,
      10_000,
      (first, reads) => {
        for (let i = 0; i < reads.length; i++) handed.push(names[first + i]!);
      },
      { slowMs: 0 },
    );
    expect(handed.length).toBeGreaterThanOrEqual(64);
    expect(handed.length).toBeLessThanOrEqual(2 * 64);
    expect([...handed, ...unread].sort()).toEqual(names);
  });

  it("reads the rest of a cold cache with reads in flight in the workers, each summary exactly once", async () => {
    const { runsDir } = makeRunsDir();
    const names = writeManyRuns(runsDir, 2100).sort();
    const { verdicts, unread, handed } = await judgedInWorkers(runsDir, names, MAX, COLD);
    expect(unread).toEqual([]);
    expect(handed).toBe(names.length);
    expect(verdicts.map((verdict) => verdict.is === "run" && verdict.entry.run.runId)).toEqual(names);
  });

  it("lets the stateless listing of a large local directory read off-thread, with the same answer as the storage layer", async () => {
    const { runsDir } = hostileRunsDir();
    writeManyRuns(runsDir, 300);
    const offThread = await listRetainedRuns({ runsDir, limit: 500, maxSummaryBytes: MAX });
    const throughStorage = await listRetainedRuns({ runsDir, limit: 500, maxSummaryBytes: MAX, readMode: "async" });
    expect(offThread.runs).toHaveLength(302);
    expect(offThread).toEqual(throughStorage);
  });

  it("gives the index the same runs and diagnostics as the stateless listing", async () => {
    const { runsDir } = hostileRunsDir();
    writeManyRuns(runsDir, 300);
    const index = createRunIndex({ runsDir, watch: false, revalidateMs: 0, pollMs: 0, maxSummaryBytes: MAX });
    try {
      const live = await index.listRetainedRuns({ limit: 500 });
      const stateless = await listRetainedRuns({ runsDir, limit: 500, maxSummaryBytes: MAX });
      expect(live.runs).toEqual(stateless.runs);
      expect(live.diagnostics).toEqual(stateless.diagnostics.filter((d) => d.kind !== "vanished"));
    } finally {
      index.close();
    }
  });
});
