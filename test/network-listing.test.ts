// A runs directory on a network file system (told by its type, as statfs gives it; simulated here
// by answering FUSE's magic number): its listing is read names only, never with Node's synchronous
// `lstat` fallback for entries without a type, and each entry's type is found through the storage
// layer, so symlinked and odd folders are judged as on a local disk.
import { promises as fsp, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";

vi.mock("node:fs/promises", async (original) => ({
  ...(await original<typeof import("node:fs/promises")>()),
  statfs: async () => ({ type: 0x65735546 }), // FUSE
}));

const { createRunIndex, listRetainedRuns } = await import("../src/index.ts");
const { storageOf } = await import("../src/storage.ts");
const { makeRunsDir, writeCurrentRun, writeManyRuns } = await import("./helpers/runs.ts");

describe("a runs directory on a network file system", () => {
  it("is listed by name, with each entry's type looked up through the storage layer", async () => {
    const { root, runsDir } = makeRunsDir();
    writeManyRuns(runsDir, 300);
    writeCurrentRun(runsDir, "2026-11-24T09-00-00Z-good");
    mkdirSync(join(root, "elsewhere"));
    writeCurrentRun(join(root, "elsewhere"), "2026-11-24T09-00-01Z-linked");
    symlinkSync(join(root, "elsewhere", "2026-11-24T09-00-01Z-linked"), join(runsDir, "2026-11-24T09-00-01Z-linked"));
    writeFileSync(join(runsDir, "notes.txt"), "not a run");

    const names = await storageOf(runsDir).readdir(runsDir, false);
    expect(names.every((entry) => entry.type === "unknown")).toBe(true);
    expect(names).toHaveLength(303);

    const opendir = vi.spyOn(fsp, "opendir");
    const readdir = vi.spyOn(fsp, "readdir");
    const list = await listRetainedRuns({ runsDir, limit: 1000 });
    expect(opendir).not.toHaveBeenCalled(); // (Node's Dir would lstat untyped entries synchronously)
    expect(readdir).toHaveBeenCalledWith(runsDir);
    expect(list.runs).toHaveLength(301);
    expect(list.diagnostics).toEqual([
      expect.objectContaining({ entry: "2026-11-24T09-00-01Z-linked", kind: "symlinked-run-folder" }),
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
