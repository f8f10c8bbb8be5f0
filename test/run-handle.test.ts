// Issue 15, part 3: a run folder is opened once, without following links, and read through that
// handle; sizes and summaries come from opened descriptors. These tests replay, one step at a
// time, the swaps the stress test (test/stress/run-swap.test.ts) makes in a tight loop.
import { readdirSync, renameSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { getRetainedRun, openReport, reportPaths } from "../src/index.ts";
import { regularFileSize, regularFileSizeAsync } from "../src/paths.ts";
import { openRunHandle, openUnder } from "../src/run-handle.ts";
import { readRun } from "../src/scan.ts";
import { storageOf } from "../src/storage.ts";
import { makeRunsDir, tempDir, writeCurrentRun } from "./helpers/runs.ts";

const linux = process.platform === "linux";
const RUN = "2026-01-01T00-00-00Z-handle";

function world() {
  const { root, runsDir } = makeRunsDir();
  const reports = (text: string) => [{ id: "page", path: "reports/page.html", content: text }];
  const runDir = writeCurrentRun(runsDir, RUN, { reports: reports("inside") });
  const outside = writeCurrentRun(join(root, "outside-runs"), RUN, {
    status: "failed",
    reports: reports(`CANARY ${"x".repeat(1000)}`),
  });
  return { root, runsDir, runDir, outside, stash: tempDir() };
}

/** Replaces `path` (a folder) by a link to `target`; returns where the folder went. */
function swapForLink(path: string, target: string, stash: string): string {
  const away = join(stash, `away-${Math.random().toString(36).slice(2)}`);
  renameSync(path, away);
  symlinkSync(target, path);
  return away;
}

const fdCount = () => readdirSync("/proc/self/fd").length;

describe.runIf(linux)("run handle", () => {
  it("reads through the opened folder after the folder is swapped for a link", async () => {
    const { runsDir, runDir, outside, stash } = world();
    const storage = storageOf(runsDir);
    const opened = await openRunHandle(storage, runDir);
    if (!("handle" in opened)) throw new Error(`not opened: ${opened.failure}`);
    try {
      expect(opened.handle.pinned).toBe(true);
      swapForLink(runDir, outside, stash);
      const file = await openUnder(storage, opened.handle, "reports/page.html");
      if (!file.ok) throw new Error(file.why);
      // The run folder was renamed away: the file is the run's own, never the outside copy.
      const buffer = Buffer.alloc(64);
      const { bytesRead } = await file.file.read(buffer, 0, 64, 0);
      await file.file.close();
      expect(buffer.toString("utf8", 0, bytesRead)).toBe("inside");
    } finally {
      opened.handle.close();
    }
  });

  it("refuses to open a run folder that is a link, and a file whose folder became a link", async () => {
    const { runsDir, runDir, outside, stash } = world();
    const storage = storageOf(runsDir);
    const opened = await openRunHandle(storage, runDir);
    if (!("handle" in opened)) throw new Error(opened.failure);
    try {
      swapForLink(join(runDir, "reports"), join(outside, "reports"), stash);
      expect(await openUnder(storage, opened.handle, "reports/page.html")).toEqual({ ok: false, why: "escapes" });
    } finally {
      opened.handle.close();
    }
    swapForLink(runDir, outside, stash);
    expect(await openRunHandle(storage, runDir)).toEqual({ failure: "link" });
  });

  it("gives no size for a checked path whose folder was swapped for a link since", async () => {
    const { runsDir, runDir, outside, stash } = world();
    const path = join(runDir, "reports", "page.html");
    expect(regularFileSize(path)).toBe(6);
    expect(await regularFileSizeAsync(path, storageOf(runsDir))).toBe(6);
    swapForLink(join(runDir, "reports"), join(outside, "reports"), stash);
    // Before: the size of the outside file (1007 bytes) through the link.
    expect(regularFileSize(path)).toBeNull();
    expect(await regularFileSizeAsync(path, storageOf(runsDir))).toBeNull();
  });

  it("never reads a listed summary through a run folder swapped for a link", async () => {
    const { runsDir, runDir, outside, stash } = world();
    swapForLink(runDir, outside, stash);
    // A listing saw a folder by that name a moment ago and reads its summary by path now.
    const read = await readRun(runsDir, RUN, 1 << 20);
    expect(read).toMatchObject({ ok: false, kind: "vanished" });
    await expect(getRetainedRun({ runsDir, readMode: "async" }, RUN)).rejects.toMatchObject({
      code: "RUN_NOT_FOUND",
    });
  });

  it("leaves no descriptor open, whatever the outcome", async () => {
    const { runsDir, runDir, outside, stash } = world();
    const options = { runsDir, readMode: "async" as const };
    const before = fdCount();
    for (let i = 0; i < 20; i++) {
      await getRetainedRun(options, RUN);
      await reportPaths(options, RUN);
      const { file } = await openReport(options, RUN, "page");
      expect((await file.handle.readFile("utf8")).toString()).toBe("inside");
      await file.handle.close();
      await expect(openReport(options, RUN, "nope")).rejects.toMatchObject({ code: "REPORT_NOT_FOUND" });
    }
    swapForLink(join(runDir, "reports"), join(outside, "reports"), stash);
    for (let i = 0; i < 20; i++) {
      await expect(openReport(options, RUN, "page")).rejects.toMatchObject({ code: "UNSAFE_PATH" });
      expect((await reportPaths(options, RUN)).reports[0]).toMatchObject({ unsafe: true });
    }
    swapForLink(runDir, outside, stash);
    for (let i = 0; i < 20; i++) {
      await expect(getRetainedRun(options, RUN)).rejects.toMatchObject({ code: "RUN_NOT_FOUND" });
    }
    // Closes are not awaited by the library: give them a moment.
    for (let i = 0; i < 50 && fdCount() > before; i++) await new Promise((r) => setTimeout(r, 20));
    expect(fdCount()).toBe(before);
  });
});
