import { utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { createGuideBoardApp } from "../adapters/h3.ts";
import { jsonParses, WORKER_PARSE_BYTES } from "../src/_json-worker.ts";
import { artifactManifest, manifestReads } from "../src/manifest.ts";
import { reportPaths, reportRefLists } from "../src/reports.ts";
import { storageCalls } from "../src/storage.ts";
import { makeRunsDir, sha256, writeCurrentRun, writeFile, writeLegacyRun, writeSummaryText } from "./helpers/runs.ts";

// Issue 15, part 2: manifests and report lists cached by file identity, report lists paged,
// large JSON parsed off the event loop, and work that stops when its client goes.

const MANIFEST = "assessment-package/artifact-manifest.json";

/** A run whose artifact manifest is about 16 MiB (just under the limit): one real artifact and many listed ones. */
function writeBigManifestRun(runsDir: string, runId: string): string {
  const runDir = writeCurrentRun(runsDir, runId, { artifacts: { "one.bin": "x" } });
  const artifacts: unknown[] = [{ path: "one.bin", size: 1, sha256: sha256("x") }];
  const filler = { size: 0, sha256: "a".repeat(64), mediaType: "application/octet-stream" };
  for (let i = 0; artifacts.length < 90_000; i++)
    artifacts.push({ path: `files/${"d".repeat(20)}/${i}.bin`, ...filler });
  const text = JSON.stringify({ schemaVersion: 1, artifacts });
  expect(text.length).toBeGreaterThan(14 * 1024 * 1024);
  expect(text.length).toBeLessThanOrEqual(16 * 1024 * 1024);
  writeFile(join(runDir, MANIFEST), text);
  return runDir;
}

/** A 1 MiB legacy summary naming 262,089 one-letter report refs (26 files). */
function writeManyRefsRun(runsDir: string, runId: string): void {
  const refs = Array.from({ length: 262_089 }, (_, i) => String.fromCharCode(97 + (i % 26)));
  const runDir = writeSummaryText(
    runsDir,
    runId,
    JSON.stringify({ runId, status: "passed", startedAt: "2026-01-01T00:00:00Z", reports: refs }),
  );
  for (let c = 0; c < 26; c++) writeFile(join(runDir, String.fromCharCode(97 + c)), "report");
}

describe("artifact manifests cached by file identity", () => {
  test("downloads from a run with a 16 MiB manifest parse it once, in a worker, until the file changes", async () => {
    const { runsDir } = makeRunsDir();
    const runDir = writeBigManifestRun(runsDir, "big");
    const app = createGuideBoardApp({ runsDir });
    const parsed = manifestReads.parsed;
    const inWorker = jsonParses.worker;
    for (let i = 0; i < 5; i++) {
      const response = await app.request("/retained-runs/big/artifacts/one.bin");
      expect(response.status).toBe(200);
      expect(await response.text()).toBe("x");
    }
    expect(manifestReads.parsed - parsed).toBe(1);
    expect(jsonParses.worker - inWorker).toBe(1);
    // The last listed entry is found without a scan, and an unlisted path stays unknown.
    expect((await app.request("/retained-runs/big/artifacts/files/x.bin")).status).toBe(404);
    // A rewritten manifest (new identity) is read again: it now lists nothing.
    writeFileSync(join(runDir, MANIFEST), JSON.stringify({ schemaVersion: 1, artifacts: [] }));
    utimesSync(join(runDir, MANIFEST), new Date(), new Date(Date.now() + 5000));
    expect((await app.request("/retained-runs/big/artifacts/one.bin")).status).toBe(404);
    expect(manifestReads.parsed - parsed).toBe(2);
  }, 60_000);

  test("a large manifest that is not valid is MANIFEST_INVALID, naming the bad entry", async () => {
    const { runsDir } = makeRunsDir();
    const runDir = writeCurrentRun(runsDir, "bad");
    const artifacts = Array.from({ length: 20_000 }, (_, i) => ({ path: `f/${i}`, size: 1, sha256: "b".repeat(64) }));
    (artifacts[17_000] as { sha256: string }).sha256 = "nope";
    const text = JSON.stringify({ schemaVersion: 1, artifacts, padding: "p".repeat(WORKER_PARSE_BYTES) });
    writeFile(join(runDir, MANIFEST), text);
    const inWorker = jsonParses.worker;
    await expect(artifactManifest({ runsDir }, "bad")).rejects.toMatchObject({
      code: "MANIFEST_INVALID",
      message: expect.stringContaining("artifacts.17000.sha256"),
    });
    writeFile(join(runDir, MANIFEST), `${text.slice(0, -2)}`);
    await expect(artifactManifest({ runsDir }, "bad")).rejects.toMatchObject({
      code: "MANIFEST_INVALID",
      message: expect.stringContaining("not valid JSON"),
    });
    writeFile(join(runDir, MANIFEST), JSON.stringify({ schemaVersion: 1, artifacts: { big: "q".repeat(2 << 20) } }));
    await expect(artifactManifest({ runsDir }, "bad")).rejects.toMatchObject({
      message: expect.stringContaining("artifacts: "),
    });
    expect(jsonParses.worker - inWorker).toBe(3);
  }, 60_000);
});

describe("report lists paged", () => {
  test("the first page of a 262,089-ref summary resolves only its own refs", async () => {
    const { runsDir } = makeRunsDir();
    writeManyRefsRun(runsDir, "many");
    const app = createGuideBoardApp({ runsDir });
    const built = reportRefLists.built;
    const calls = storageCalls.total;
    const first = await app.request("/retained-runs/many/reports");
    expect(first.status).toBe(200);
    const body = (await first.json()) as { reports: { id: string; exists: boolean }[]; nextCursor?: string };
    expect(body.reports).toHaveLength(100);
    expect(body.reports.slice(0, 2).map((r) => r.id)).toEqual(["a", "b"]);
    expect(body.reports[26]!.id).toBe("a-2");
    expect(body.reports.every((r) => r.exists)).toBe(true);
    // A summary read and 26 distinct files resolved: far from one call per ref.
    expect(storageCalls.total - calls).toBeLessThan(400);
    const second = await app.request(
      `/retained-runs/many/reports?limit=1000&cursor=${encodeURIComponent(body.nextCursor!)}`,
    );
    const page2 = (await second.json()) as { reports: { id: string }[]; nextCursor?: string };
    expect(page2.reports).toHaveLength(1000);
    expect(page2.reports[0]!.id).toBe("w-4");
    expect(reportRefLists.built - built).toBe(1); // the ids were worked out once, for both pages
    // The report download looks its id up in the same list.
    const download = await app.request("/retained-runs/many/reports/z-10000");
    expect(download.status).toBe(200);
    expect(reportRefLists.built - built).toBe(1);
  }, 60_000);

  test("pages follow each other to the end; bad limits and cursors are 400", async () => {
    const { runsDir } = makeRunsDir();
    writeCurrentRun(runsDir, "r", {
      reports: Array.from({ length: 5 }, (_, i) => ({ id: `r${i}`, path: `reports/${i}.txt` })),
    });
    const app = createGuideBoardApp({ runsDir });
    const ids: string[] = [];
    let cursor: string | undefined;
    do {
      const response = await app.request(`/retained-runs/r/reports?limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      const body = (await response.json()) as { reports: { id: string }[]; nextCursor?: string };
      ids.push(...body.reports.map((r) => r.id));
      cursor = body.nextCursor;
    } while (cursor);
    expect(ids).toEqual(["r0", "r1", "r2", "r3", "r4"]);
    for (const [query, code] of [
      ["limit=0", "INVALID_OPTIONS"],
      ["limit=1001", "INVALID_OPTIONS"],
      ["cursor=abc", "INVALID_CURSOR"],
      [`cursor=${Buffer.from("r1:6").toString("base64url")}`, "INVALID_CURSOR"],
      [`cursor=${Buffer.from("r1:01").toString("base64url")}`, "INVALID_CURSOR"],
      ["status=passed", "INVALID_OPTIONS"],
    ]) {
      const response = await app.request(`/retained-runs/r/reports?${query}`);
      expect(response.status, query).toBe(400);
      expect(((await response.json()) as { error: { code: string } }).error.code, query).toBe(code);
    }
  });

  test("the library without a page still lists every report; with one it pages", async () => {
    const { runsDir } = makeRunsDir();
    const reports = Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`reports/${i}.html`, "<p>"]));
    writeLegacyRun(runsDir, "old", { reports });
    const all = await reportPaths({ runsDir }, "old");
    expect(all.reports).toHaveLength(150);
    expect(all.nextCursor).toBeUndefined();
    const page = await reportPaths({ runsDir }, "old", { limit: 100 });
    expect(page.reports).toHaveLength(100);
    const rest = await reportPaths({ runsDir }, "old", { limit: 100, cursor: page.nextCursor });
    expect(rest.reports.map((r) => r.path)).toEqual(all.reports.slice(100).map((r) => r.path));
    expect(rest.nextCursor).toBeUndefined();
    await expect(reportPaths({ runsDir }, "old", { limit: 1.5 })).rejects.toMatchObject({ code: "INVALID_OPTIONS" });
  });
});

describe("work stops with its client", () => {
  test("an aborted report listing makes no further file call", async () => {
    const { runsDir } = makeRunsDir();
    // 3,000 distinct refs, none of them present: each costs file calls to resolve.
    const refs = Array.from({ length: 3000 }, (_, i) => `reports/${i}/missing.html`);
    writeSummaryText(
      runsDir,
      "slow",
      JSON.stringify({ runId: "slow", status: "passed", startedAt: "2026-01-01T00:00:00Z", reports: refs }),
    );
    const controller = new AbortController();
    const start = storageCalls.total;
    const work = reportPaths({ runsDir, readMode: "async", signal: controller.signal }, "slow");
    const settled = work.then(
      () => "done",
      (error: unknown) => error,
    );
    while (storageCalls.total - start < 200) await new Promise((resolve) => setImmediate(resolve));
    controller.abort();
    const atAbort = storageCalls.total;
    const outcome = await settled;
    expect(outcome).toMatchObject({ name: "AbortError" });
    const after = storageCalls.total;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(storageCalls.total).toBe(after); // nothing more once settled
    expect(after - atAbort).toBeLessThan(20); // at most the calls already under way
    // Without the abort the same listing costs far more calls.
    const full = storageCalls.total;
    expect((await reportPaths({ runsDir, readMode: "async" }, "slow")).reports).toHaveLength(3000);
    expect(storageCalls.total - full).toBeGreaterThan(3000);
  }, 60_000);

  test("an HTTP request aborted by its client stops its listing", async () => {
    const { runsDir } = makeRunsDir();
    const refs = Array.from({ length: 3000 }, (_, i) => `reports/${i}/missing.html`);
    writeSummaryText(
      runsDir,
      "slow",
      JSON.stringify({ runId: "slow", status: "passed", startedAt: "2026-01-01T00:00:00Z", reports: refs }),
    );
    const app = createGuideBoardApp({ runsDir });
    const controller = new AbortController();
    const start = storageCalls.total;
    const response = Promise.resolve(
      app.request("/retained-runs/slow/reports?limit=1000", { signal: controller.signal }),
    ).catch(() => null);
    while (storageCalls.total - start < 100) await new Promise((resolve) => setImmediate(resolve));
    controller.abort();
    await response;
    const after = storageCalls.total;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(storageCalls.total - after).toBeLessThan(20);
    expect(storageCalls.total - start).toBeLessThan(1000); // a whole page costs over 2,000
  }, 60_000);

  test("an aborted signal stops a manifest parse in its worker", async () => {
    const { runsDir } = makeRunsDir();
    writeBigManifestRun(runsDir, "big");
    const controller = new AbortController();
    const work = artifactManifest({ runsDir, signal: controller.signal }, "big");
    const inWorker = jsonParses.worker;
    while (jsonParses.worker === inWorker) await new Promise((resolve) => setImmediate(resolve));
    controller.abort();
    await expect(work).rejects.toMatchObject({ name: "AbortError" });
    await expect(artifactManifest({ runsDir, signal: AbortSignal.abort() }, "big")).rejects.toMatchObject({
      name: "AbortError",
    });
  }, 60_000);
});
