import { rmSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  artifactManifest,
  getRetainedRun,
  isGuideBoardError,
  latestRun,
  listRetainedRuns,
  reportPaths,
  type RetainedRun,
} from "../src/index.ts";
import {
  makeRunsDir,
  writeCurrentRun,
  writeIncompleteRun,
  writeLegacyRun,
  writeManyRuns,
  writeSummaryText,
} from "./helpers/runs.ts";

const ids = (runs: RetainedRun[]) => runs.map((run) => run.runId);

async function walk(runsDir: string, limit: number, extra: object = {}): Promise<string[]> {
  const seen: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await listRetainedRuns({ runsDir, limit, cursor, ...extra });
    expect(page.runs.length).toBeLessThanOrEqual(limit);
    seen.push(...ids(page.runs));
    cursor = page.nextCursor;
  } while (cursor);
  return seen;
}

describe("listRetainedRuns", () => {
  it("lists every generation newest first, with compatibility, and counts incomplete folders", async () => {
    const { runsDir } = makeRunsDir();
    writeLegacyRun(runsDir, "legacy", { startedAt: "2025-01-01T00:00:00Z", finishedAt: "2025-01-01T00:00:30Z" });
    writeCurrentRun(runsDir, "current", { startedAt: "2026-01-02T00:00:00Z", submission: { schemaVersion: 1 } });
    writeCurrentRun(runsDir, "newer", { startedAt: "2026-01-03T00:00:00Z", schemaVersion: 5 });
    writeCurrentRun(runsDir, "no-files", { startedAt: "2026-01-01T00:00:00Z", manifest: "omit-file" });
    writeIncompleteRun(runsDir, "in-progress");

    const { runs, nextCursor, diagnostics } = await listRetainedRuns({ runsDir });
    expect(ids(runs)).toEqual(["newer", "current", "no-files", "legacy"]);
    expect(nextCursor).toBeUndefined();
    expect(diagnostics).toEqual([expect.objectContaining({ entry: "in-progress", kind: "incomplete", runsDir })]);
    const byId = Object.fromEntries(runs.map((run) => [run.runId, run]));
    expect(byId.legacy).toMatchObject({
      status: "passed",
      durationMs: 30_000,
      exitCode: null,
      command: null,
      labels: {},
      reportCount: 1,
      runDir: join(runsDir, "legacy"),
      compatibility: { generation: "legacy", schemaVersion: null, missing: ["artifactManifest", "submissionManifest"] },
    });
    expect(byId.current!.compatibility).toEqual({ generation: "current", schemaVersion: 2, missing: [] });
    expect(byId.newer!.compatibility).toEqual({
      generation: "newer",
      schemaVersion: 5,
      missing: ["submissionManifest"],
    });
    // `missing` is what the summary declares; a declared file that is absent shows when asked for.
    expect(byId["no-files"]!.compatibility.missing).toEqual(["submissionManifest"]);
    await expect(artifactManifest({ runsDir }, "no-files")).resolves.toMatchObject({
      available: false,
      reason: "file-missing",
    });
  });

  it("orders by instant, not by text, then by run id descending", async () => {
    const { runsDir } = makeRunsDir();
    writeCurrentRun(runsDir, "b-utc", { startedAt: "2026-01-01T10:00:00Z" });
    writeCurrentRun(runsDir, "a-plus2", { startedAt: "2026-01-01T11:00:00+02:00" }); // 09:00Z
    writeCurrentRun(runsDir, "c-same", { startedAt: "2026-01-01T10:00:00.000Z" });
    const { runs } = await listRetainedRuns({ runsDir });
    expect(ids(runs)).toEqual(["c-same", "b-utc", "a-plus2"]);
  });

  it("orders, filters and pages by digits finer than a millisecond", async () => {
    const { runsDir } = makeRunsDir();
    writeCurrentRun(runsDir, "b", { startedAt: "2026-01-01T00:00:00Z" });
    writeCurrentRun(runsDir, "a", { startedAt: "2026-01-01T00:00:00.0009Z" });
    const all = await listRetainedRuns({ runsDir });
    expect(all.runs.map((run) => run.runId)).toEqual(["a", "b"]);
    const since = await listRetainedRuns({ runsDir, since: "2026-01-01T00:00:00.0005Z" });
    expect(since.runs.map((run) => run.runId)).toEqual(["a"]);
    const first = await listRetainedRuns({ runsDir, limit: 1 });
    const second = await listRetainedRuns({ runsDir, limit: 1, cursor: first.nextCursor });
    expect(second.runs.map((run) => run.runId)).toEqual(["b"]);
  });

  it("filters by status, time window and labels", async () => {
    const { runsDir } = makeRunsDir();
    writeManyRuns(runsDir, 12, (i) => ({ team: i % 2 ? "odd" : "even", n: String(i) }));
    const page = (extra: object) => listRetainedRuns({ runsDir, ...extra }).then((list) => ids(list.runs));

    expect(await page({ status: "failed" })).toEqual(["run-00009", "run-00006", "run-00003", "run-00000"]);
    expect((await page({ status: ["failed", "passed"] })).length).toBe(12);
    expect(await page({ since: "2026-01-01T00:10:00Z" })).toEqual(["run-00011", "run-00010"]);
    expect(await page({ until: "2026-01-01T00:02:00Z" })).toEqual(["run-00001", "run-00000"]);
    expect(await page({ since: new Date("2026-01-01T00:03:00Z"), until: "2026-01-01T00:05:00Z" })).toEqual([
      "run-00004",
      "run-00003",
    ]);
    expect(await page({ label: "team=odd", status: "failed" })).toEqual(["run-00009", "run-00003"]);
    expect(await page({ label: ["team=even", "n=4"] })).toEqual(["run-00004"]);
    expect(await page({ label: "n=" })).toEqual([]);
    expect(await page({ label: "toString=x" })).toEqual([]);
  });

  it.each([
    [{ status: "green" }, "INVALID_OPTIONS"],
    [{ since: "yesterday" }, "INVALID_OPTIONS"],
    [{ label: "no-equals" }, "INVALID_OPTIONS"],
    [{ limit: 0 }, "INVALID_OPTIONS"],
    [{ limit: 1.5 }, "INVALID_OPTIONS"],
    [{ limit: "10" }, "INVALID_OPTIONS"],
    [{ cursor: "not a cursor" }, "INVALID_CURSOR"],
    [{ cursor: Buffer.from("1:10:../etc").toString("base64url") }, "INVALID_CURSOR"],
    [{ runsDir: [] }, "INVALID_OPTIONS"],
    [{ runsDir: 42 }, "INVALID_OPTIONS"],
  ])("rejects %j with %s", async (options, code) => {
    const { runsDir } = makeRunsDir();
    const error = await listRetainedRuns({ runsDir, ...(options as object) }).catch((e: unknown) => e);
    expect(isGuideBoardError(error, code as never)).toBe(true);
    expect((error as Error).message).not.toMatch(/\n/);
  });

  it("pages with a keyset cursor: nothing skipped or repeated, last page has no cursor", async () => {
    const { runsDir } = makeRunsDir();
    const all = writeManyRuns(runsDir, 23).reverse();
    expect(await walk(runsDir, 5)).toEqual(all);
    expect(await walk(runsDir, 23)).toEqual(all);
    expect(await walk(runsDir, 100)).toEqual(all);
    expect(await walk(runsDir, 1, { status: "failed" })).toEqual(all.filter((id) => Number(id.slice(4)) % 3 === 0));
    const last = await listRetainedRuns({ runsDir, limit: 23 });
    expect(last.nextCursor).toBeUndefined();
  });

  it("keeps a page walk correct while runs are added and pruned between pages", async () => {
    const { runsDir } = makeRunsDir();
    writeManyRuns(runsDir, 10);
    const first = await listRetainedRuns({ runsDir, limit: 4 });
    expect(ids(first.runs)).toEqual(["run-00009", "run-00008", "run-00007", "run-00006"]);
    // A newer run appears, a run on the first page and one on a later page are pruned.
    writeCurrentRun(runsDir, "run-new", { startedAt: "2026-02-01T00:00:00Z" });
    rmSync(join(runsDir, "run-00007"), { recursive: true });
    rmSync(join(runsDir, "run-00003"), { recursive: true });
    const rest: string[] = [];
    let cursor = first.nextCursor;
    while (cursor) {
      const page = await listRetainedRuns({ runsDir, limit: 4, cursor });
      rest.push(...ids(page.runs));
      cursor = page.nextCursor;
    }
    expect(rest).toEqual(["run-00005", "run-00004", "run-00002", "run-00001", "run-00000"]);
  });

  it("pages through start times within a microsecond of 1970, whose instants print with an exponent", async () => {
    const { runsDir } = makeRunsDir();
    const starts = {
      before: "1969-12-31T23:59:59.9999999999Z", // -1e-7 ms, printed "-1.0000000005838672e-7"
      epoch: "1970-01-01T00:00:00Z",
      after: "1970-01-01T00:00:00.0000000001Z", // 1e-7 ms, printed "1e-7"
      later: "1970-01-01T00:00:01Z",
    };
    for (const [id, startedAt] of Object.entries(starts)) writeCurrentRun(runsDir, id, { startedAt });
    expect(await walk(runsDir, 1)).toEqual(["later", "after", "epoch", "before"]);
    expect(await walk(runsDir, 1, { status: "passed" })).toEqual(["later", "after", "epoch", "before"]);
  });

  it("pages correctly through runs that share a start time", async () => {
    const { runsDir } = makeRunsDir();
    for (const id of ["a", "b", "c", "d", "e"]) writeCurrentRun(runsDir, id, { startedAt: "2026-01-01T00:00:00Z" });
    expect(await walk(runsDir, 2)).toEqual(["e", "d", "c", "b", "a"]);
  });

  it("merges several runs directories; the first holding an id wins", async () => {
    const one = makeRunsDir().runsDir;
    const two = makeRunsDir().runsDir;
    writeCurrentRun(one, "shared", { startedAt: "2026-01-01T00:00:00Z", labels: { from: "one" } });
    writeCurrentRun(two, "shared", { startedAt: "2026-01-05T00:00:00Z", labels: { from: "two" } });
    writeCurrentRun(two, "only-two", { startedAt: "2026-01-02T00:00:00Z" });
    writeIncompleteRun(one, "half");
    writeCurrentRun(two, "half", { startedAt: "2026-01-03T00:00:00Z" });
    const { runs, diagnostics } = await listRetainedRuns({ runsDir: [one, two, one] });
    expect(ids(runs)).toEqual(["half", "only-two", "shared"]);
    expect(runs.find((run) => run.runId === "shared")!.labels).toEqual({ from: "one" });
    expect(diagnostics.map((d) => [d.kind, d.entry])).toEqual([
      ["incomplete", "half"],
      ["duplicate-run-id", "shared"],
    ]);
    await expect(getRetainedRun({ runsDir: [one, two] }, "half")).resolves.toMatchObject({ runDir: join(two, "half") });
  });

  it("keeps listing when folders are broken, and says why for each", async () => {
    const { runsDir } = makeRunsDir();
    writeCurrentRun(runsDir, "good");
    writeSummaryText(runsDir, "truncated", '{"runId":"truncated","status":"pas');
    writeSummaryText(runsDir, "not-json", "hello");
    writeSummaryText(runsDir, "wrong-schema", JSON.stringify({ runId: "wrong-schema", status: "maybe" }));
    writeSummaryText(runsDir, ".hidden", "{}");
    writeSummaryText(runsDir, "empty", "");
    const { runs, diagnostics } = await listRetainedRuns({ runsDir, maxSummaryBytes: 4096 });
    expect(ids(runs)).toEqual(["good"]);
    const kinds = Object.fromEntries(diagnostics.map((d) => [d.entry, d.kind]));
    expect(kinds).toEqual({
      truncated: "corrupt-summary",
      "not-json": "corrupt-summary",
      "wrong-schema": "schema-invalid",
      ".hidden": "invalid-run-id",
      empty: "corrupt-summary",
    });
  });

  it("reports a missing runs directory as a diagnostic, not an error", async () => {
    const { root } = makeRunsDir();
    const missing = join(root, "nope");
    await expect(listRetainedRuns({ runsDir: missing })).resolves.toEqual({
      runs: [],
      diagnostics: [expect.objectContaining({ runsDir: missing, kind: "runs-dir-missing", entry: null })],
    });
  });
});

describe("latestRun", () => {
  it("picks the newest run, optionally the newest with a status, or null", async () => {
    const { runsDir } = makeRunsDir();
    expect(await latestRun({ runsDir })).toBeNull();
    writeManyRuns(runsDir, 8, (i) => ({ lane: i < 4 ? "slow" : "fast" }));
    expect((await latestRun({ runsDir }))?.runId).toBe("run-00007");
    expect((await latestRun({ runsDir, status: "failed" }))?.runId).toBe("run-00006");
    expect((await latestRun({ runsDir, status: "failed", label: "lane=slow" }))?.runId).toBe("run-00003");
    expect(await latestRun({ runsDir, status: "cancelled" })).toBeNull();
  });
});

describe("getRetainedRun", () => {
  it("returns one run, and RUN_NOT_FOUND with a reason otherwise", async () => {
    const { runsDir } = makeRunsDir();
    writeCurrentRun(runsDir, "there", { labels: { a: "b" } });
    writeIncompleteRun(runsDir, "half");
    const listed = await listRetainedRuns({ runsDir });
    expect(await getRetainedRun({ runsDir }, "there")).toEqual(listed.runs[0]);
    for (const [runId, reason] of [
      ["half", "incomplete"],
      ["absent", "absent"],
    ] as const) {
      const error = await getRetainedRun({ runsDir }, runId).catch((e: unknown) => e);
      expect(isGuideBoardError(error, "RUN_NOT_FOUND")).toBe(true);
      expect((error as { details: unknown }).details).toEqual({ runId, reason });
    }
  });

  it.each(["..", ".", "../etc", "a/b", "", "-x", "a".repeat(129), "a\0b", "%2e%2e"])(
    "rejects the run id %j with INVALID_RUN_ID",
    async (runId) => {
      const { runsDir } = makeRunsDir();
      const error = await getRetainedRun({ runsDir }, runId).catch((e: unknown) => e);
      expect(isGuideBoardError(error, "INVALID_RUN_ID")).toBe(true);
    },
  );
});

describe("runs options", () => {
  /** The error code a library call rejects with, or "resolved". */
  const codeOf = (promise: Promise<unknown>) =>
    promise.then(
      () => "resolved",
      (error: unknown) => (isGuideBoardError(error) ? error.code : String(error)),
    );

  it.each([
    ["latestRun(undefined)", () => latestRun(undefined as never)],
    ["getRetainedRun(null)", () => getRetainedRun(null as never, "x")],
    ["reportPaths(undefined)", () => reportPaths(undefined as never, "x")],
    ["maxSummaryBytes NaN", () => listRetainedRuns({ runsDir: "/tmp", maxSummaryBytes: Number.NaN })],
    ["maxSummaryBytes -1", () => listRetainedRuns({ runsDir: "/tmp", maxSummaryBytes: -1 })],
    ["maxSummaryBytes 1.5", () => latestRun({ runsDir: "/tmp", maxSummaryBytes: 1.5 })],
    [
      "a throwing getter",
      () =>
        listRetainedRuns(
          Object.defineProperty({}, "runsDir", {
            get: () => {
              throw new Error("boom");
            },
          }) as never,
        ),
    ],
  ])("%s is INVALID_OPTIONS", async (_name, call) => {
    expect(await codeOf(call())).toBe("INVALID_OPTIONS");
  });
});
