import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createGuideBoardApp } from "../adapters/h3.ts";
import { listRetainedRuns } from "../src/index.ts";
import { assertBuilt, isAlive, runBin } from "./helpers/bin.ts";
import { makeRunsDir, tempDir, writeCurrentRun } from "./helpers/runs.ts";

describe("text from a run folder never reaches a response header unchecked", () => {
  it.each([
    ["a CR/LF in the media type", "text/html\r\nx-evil: 1"],
    ["non-Latin-1 text in the media type", 'text/html; name="тест"'],
    ["a NUL in the media type", "text/html\u0000"],
  ])("%s: the report is served with the type of its extension, not a 500", async (_name, mediaType) => {
    const { runsDir } = makeRunsDir();
    writeCurrentRun(runsDir, "r", {
      reports: [{ id: "page", path: "reports/\ud800page.html", content: "<p>hi</p>", mediaType }],
    });
    const response = await createGuideBoardApp({ runsDir }).request("/retained-runs/r/reports/page");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(response.headers.get("x-evil")).toBeNull();
    expect(response.headers.get("content-disposition")).toMatch(/^inline; filename=/);
    expect(await response.text()).toBe("<p>hi</p>");
  });
});

describe("guide-board run with a command that leaves a process behind", () => {
  it("ends when the command exits, not when its background process does", async () => {
    assertBuilt();
    const cwd = tempDir();
    const { runsDir } = makeRunsDir();
    const started = performance.now();
    const result = await runBin(
      ["run", "--runs-dir", runsDir, "--", "sh", "-c", "sleep 30 & echo $! > bg.pid; echo started"],
      { cwd },
    ).finished();
    const took = performance.now() - started;
    const pid = Number(readFileSync(join(cwd, "bg.pid"), "utf8"));
    try {
      expect(result.code).toBe(0);
      expect(took).toBeLessThan(10_000); // the background sleep lasts 30 s
      const { runs } = await listRetainedRuns({ runsDir });
      expect(runs.map((run) => run.status)).toEqual(["passed"]);
    } finally {
      if (isAlive(pid)) process.kill(pid, "SIGKILL");
    }
  });
});
