// A runs directory on a network file system (told by its type, as statfs gives it; simulated here
// by answering FUSE's magic number): its listing is read names only, never with Node's synchronous
// `lstat` fallback for entries without a type, and each entry's type is found through the storage
// layer, so symlinked and odd folders are judged as on a local disk.
import { execFileSync } from "node:child_process";
import { promises as fsp, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";

vi.mock("node:fs/promises", async (original) => ({
  ...(await original<typeof import("node:fs/promises")>()),
  statfs: async () => ({ type: 0x65735546 }), // FUSE
}));

const { createRunIndex, listRetainedRuns } = await import("../src/index.ts");
const { storageOf } = await import("../src/storage.ts");
const { makeRunsDir, writeCurrentRun, writeIncompleteRun, writeManyRuns } = await import("./helpers/runs.ts");

describe("a runs directory on a network file system", () => {
  it("is listed by name, with each entry's type looked up through the storage layer", async () => {
    const { root, runsDir } = makeRunsDir();
    writeManyRuns(runsDir, 300);
    writeCurrentRun(runsDir, "2026-11-24T09-00-00Z-good");
    mkdirSync(join(root, "elsewhere"));
    writeCurrentRun(join(root, "elsewhere"), "2026-11-24T09-00-01Z-linked");
    symlinkSync(join(root, "elsewhere", "2026-11-24T09-00-01Z-linked"), join(runsDir, "2026-11-24T09-00-01Z-linked"));
    writeFileSync(join(runsDir, "notes.txt"), "not a run");
    writeIncompleteRun(runsDir, "2026-11-24T09-00-02Z-running");
    mkdirSync(join(runsDir, "2026-11-24T09-00-03Z-dir", "retention-summary.json"), { recursive: true });
    mkdirSync(join(runsDir, "2026-11-24T09-00-04Z-fifo"));
    execFileSync("mkfifo", [join(runsDir, "2026-11-24T09-00-04Z-fifo", "retention-summary.json")]);
    mkdirSync(join(runsDir, "not a run id"));

    const names = await storageOf(runsDir).readdir(runsDir, false);
    expect(names.every((entry) => entry.type === "unknown")).toBe(true);
    expect(names).toHaveLength(307);

    const opendir = vi.spyOn(fsp, "opendir");
    const readdir = vi.spyOn(fsp, "readdir");
    const list = await listRetainedRuns({ runsDir, limit: 1000 });
    expect(opendir).not.toHaveBeenCalled(); // (Node's Dir would lstat untyped entries synchronously)
    expect(readdir).toHaveBeenCalledWith(runsDir);
    expect(list.runs).toHaveLength(301);
    expect(list.diagnostics.map(({ entry, kind }) => [entry, kind])).toEqual([
      ["2026-11-24T09-00-01Z-linked", "symlinked-run-folder"],
      ["2026-11-24T09-00-02Z-running", "incomplete"],
      ["2026-11-24T09-00-03Z-dir", "unsafe-summary"],
      ["2026-11-24T09-00-04Z-fifo", "unsafe-summary"],
      ["not a run id", "invalid-run-id"],
    ]);
    const index = createRunIndex({ runsDir, watch: false, revalidateMs: 0, pollMs: 0 });
    try {
      await index.ready();
      const live = await index.listRetainedRuns({ limit: 1000 });
      expect(live.runs).toEqual(list.runs);
      expect(live.diagnostics).toEqual(list.diagnostics);
    } finally {
      index.close();
    }
  });
});
