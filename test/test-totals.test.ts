// Test totals in summaries and listings: `run` writes them, listings show them and never parse reports.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { getRetainedRun, listRetainedRuns, parseSummary } from "../src/index.ts";
import { runCli } from "./helpers/cli.ts";
import { ctrfReport, junitReport } from "./helpers/junit.ts";
import { makeRunsDir, writeCurrentRun, writeLegacyRun } from "./helpers/runs.ts";

const TOTALS = { tests: 3, passed: 1, failed: 1, errored: 0, skipped: 1, flaky: 0, durationMs: 30 };

describe("test totals", () => {
  it("`run` computes totals from the reports it collects and declares their format", async () => {
    const { root, runsDir } = makeRunsDir();
    const junit = junitReport([
      { classname: "A", name: "ok" },
      { classname: "A", name: "bad", status: "failed" },
      { classname: "A", name: "later", status: "skipped" },
    ]);
    const ctrf = ctrfReport([{ name: "c", status: "passed", duration: 5 }]);
    const script = `const fs=require("node:fs"),d=process.env.GUIDE_BOARD_REPORTS_DIR;
fs.writeFileSync(d+"/junit.xml",${JSON.stringify(junit)});fs.writeFileSync(d+"/ctrf.json",${JSON.stringify(ctrf)});
fs.writeFileSync(d+"/index.html","<p>hi</p>");process.exit(1)`;
    const result = await runCli(
      ["run", "--runs-dir", runsDir, "--run-id", "t1", "--", process.execPath, "-e", script],
      {
        cwd: root,
      },
    );
    expect(result.code).toBe(1);
    const summary = JSON.parse(readFileSync(join(runsDir, "t1", "retention-summary.json"), "utf8"));
    expect(summary.tests).toEqual({ ...TOTALS, tests: 4, passed: 2, durationMs: 35 });
    const formats = Object.fromEntries(
      summary.reports.map((ref: { id: string; format?: string }) => [ref.id, ref.format]),
    );
    expect(formats).toEqual({ "ctrf.json": "ctrf", "index.html": undefined, "junit.xml": "junit" });
    expect((await getRetainedRun({ runsDir }, "t1")).tests).toEqual(summary.tests);
  });

  it("a run without test reports gets no `tests` field", async () => {
    const { root, runsDir } = makeRunsDir();
    await runCli(["run", "--runs-dir", runsDir, "--run-id", "t2", "--", "true"], { cwd: root });
    const summary = JSON.parse(readFileSync(join(runsDir, "t2", "retention-summary.json"), "utf8"));
    expect(summary).not.toHaveProperty("tests");
    expect((await getRetainedRun({ runsDir }, "t2")).tests).toBeNull();
  });

  it("listings show the summary's totals or null, and never read reports", async () => {
    const { runsDir } = makeRunsDir();
    // The report on disk disagrees with the totals: listings take the summary's word.
    const broken = [{ id: "j", path: "j.xml", content: "<testsuite><oops" }];
    writeCurrentRun(runsDir, "with", { startedAt: "2026-01-03T00:00:00Z", reports: broken, extra: { tests: TOTALS } });
    writeCurrentRun(runsDir, "without", { startedAt: "2026-01-02T00:00:00Z" });
    writeCurrentRun(runsDir, "bad-totals", { startedAt: "2026-01-01T00:00:00Z", extra: { tests: { tests: "3" } } });
    writeLegacyRun(runsDir, "legacy", { extra: { tests: TOTALS } });
    const { runs, diagnostics } = await listRetainedRuns({ runsDir });
    expect(diagnostics).toEqual([]);
    expect(Object.fromEntries(runs.map((run) => [run.runId, run.tests]))).toEqual({
      with: TOTALS,
      without: null,
      "bad-totals": null,
      legacy: null,
    });
  });

  it("the summary contract: a bad report `format` or `tests` is dropped, never fatal", () => {
    const base = { schemaVersion: 2, runId: "r", status: "passed", startedAt: "2026-01-01T00:00:00Z", exitCode: 0 };
    const parsed = parseSummary(
      JSON.stringify({
        ...base,
        command: [],
        labels: {},
        reports: [{ id: "a", path: "a.xml", format: "xunit" }],
        tests: { ...TOTALS, failed: -1 },
      }),
    );
    expect(parsed).toMatchObject({ generation: "current", summary: { reports: [{ id: "a" }] } });
    if (!("summary" in parsed)) throw new Error("expected a summary");
    expect(parsed.summary.reports[0]).not.toHaveProperty("format", "xunit");
    expect((parsed.summary as { tests?: unknown }).tests).toBeUndefined();
  });
});
