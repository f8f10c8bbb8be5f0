// Test history across runs (library): failing since, last passed, flake rates and rankings over
// the fixture of test/helpers/history.ts, windows and label groups, caches, and bad input.
import { cpSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { setTestHistoryKeyBound } from "../src/_internal.ts";
import {
  compareRuns,
  createRunIndex,
  isGuideBoardError,
  runComparisonSchema,
  testHistory,
  testHistorySchema,
  testResults,
  testResultsSchema,
  toJSONText,
  topTests,
  topTestsSchema,
  type TestHistory,
} from "../src/index.ts";
import { DEV_RUN, mainRunId, writeHistory } from "./helpers/history.ts";
import { junitReport, type CaseSpec } from "./helpers/junit.ts";
import { makeRunsDir, writeCurrentRun } from "./helpers/runs.ts";

const MAIN = { label: "branch=main" };
/** Statuses newest first, one letter each (p passed, f failed, e errored, s skipped, ~ flaky, . absent). */
const strip = (history: TestHistory) =>
  history.runs
    .map((run) => ({ passed: "p", failed: "f", errored: "e", skipped: "s", flaky: "~", absent: "." })[run.status])
    .join("");
const at = (n: number) => ({ runId: mainRunId(n), startedAt: new Date(Date.UTC(2026, 0, 1, 0, n)).toISOString() });

async function code(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return isGuideBoardError(error) ? error.code : String(error);
  }
  return "resolved";
}

describe("testHistory", () => {
  const { runsDir } = writeHistory();

  it("a test failing from run 7 of 20: failing since run 7 (14 runs), last passed in run 6, not flaky", async () => {
    const history = await testHistory({ runsDir }, "suite.Breaks::breaks", { filters: MAIN });
    expect(testHistorySchema.parse(history)).toEqual(history);
    expect(strip(history)).toBe("ffffffffffffffpppppp");
    expect(history).toMatchObject({
      key: "suite.Breaks::breaks",
      classname: "suite.Breaks",
      name: "breaks",
      window: { runs: 20, limit: 50 },
      failingSince: { ...at(7), runs: 14 },
      lastPassed: at(6),
      flakeRate: 0,
    });
    expect(history.runs[0]).toEqual({
      ...at(20),
      runStatus: "failed",
      labels: { branch: "main" },
      status: "failed",
      durationMs: 100,
      message: "broken in 20",
    });
    expect(history.runs[19]).toMatchObject({ ...at(1), status: "passed", message: null });
  });

  it("flaky in 3 of 20 runs is a flake rate of 0.15; a flaky run counts as passed", async () => {
    const history = await testHistory({ runsDir }, "suite.Flaky::wobbles", { filters: MAIN });
    expect(strip(history)).toBe("ppppp~ppppp~ppppp~pp");
    expect(history).toMatchObject({ failingSince: null, lastPassed: at(20), flakeRate: 0.15 });
    expect(history.runs[5]).toMatchObject({ ...at(15), status: "flaky", durationMs: 2000, message: "timeout" });
    const flakyFirst = await testHistory({ runsDir }, "suite.Flaky::wobbles", {
      filters: { ...MAIN, until: at(16).startedAt },
    });
    expect(flakyFirst.lastPassed).toEqual(at(15));
  });

  it("isolated failures are unstable runs, a lasting break is not", async () => {
    const history = await testHistory({ runsDir }, "suite.Flip::flips", { filters: MAIN });
    expect(strip(history)).toBe("ppppppppfppppppfpppp");
    expect(history.flakeRate).toBe(0.1);
    // The newest run has no newer neighbour: a failure there is not (yet) isolated.
    const edge = await testHistory({ runsDir }, "suite.Flip::flips", { filters: { ...MAIN, until: at(13).startedAt } });
    expect(strip(edge)).toBe("fppppppfpppp");
    expect(edge.flakeRate).toBe(0.0833);
    expect(edge.failingSince).toEqual({ ...at(12), runs: 1 });
  });

  it("a test that disappears is absent in the runs without it; its last pass stays", async () => {
    const history = await testHistory({ runsDir }, "suite.Gone::vanishes", { filters: MAIN });
    expect(strip(history)).toBe("..........pppppppppp");
    expect(history.runs[0]).toMatchObject({ status: "absent", durationMs: null, message: null });
    expect(history).toMatchObject({ classname: "suite.Gone", lastPassed: at(10), failingSince: null, flakeRate: 0 });
  });

  it("a key never seen in the window: every run absent, classname and name null", async () => {
    const history = await testHistory({ runsDir }, "suite.Nope::never", { filters: MAIN, limit: 3 });
    expect(history).toEqual({
      key: "suite.Nope::never",
      classname: null,
      name: null,
      window: { runs: 3, limit: 3 },
      runs: history.runs,
      failingSince: null,
      lastPassed: null,
      flakeRate: 0,
    });
    expect(strip(history)).toBe("...");
    // Seen in other runs only: still null within this window.
    const gone = await testHistory({ runsDir }, "suite.Gone::vanishes", { filters: MAIN, limit: 5 });
    expect([gone.classname, gone.name]).toEqual([null, null]);
  });

  it("the window is the newest runs matching the filters; other labels end a streak", async () => {
    const short = await testHistory({ runsDir }, "suite.Breaks::breaks", { filters: MAIN, limit: 5 });
    expect(short.runs.map((run) => run.runId)).toEqual([20, 19, 18, 17, 16].map(mainRunId));
    expect(short).toMatchObject({
      window: { runs: 5, limit: 5 },
      failingSince: { ...at(16), runs: 5 },
      lastPassed: null,
    });
    const all = await testHistory({ runsDir }, "suite.Breaks::breaks");
    expect(all.window.runs).toBe(21);
    expect(all.runs[10]).toMatchObject({ runId: DEV_RUN, status: "passed", labels: { branch: "dev" } });
    expect(all.failingSince).toEqual({ ...at(11), runs: 10 });
    expect(all.lastPassed?.runId).toBe(DEV_RUN);
    const failedRuns = await testHistory({ runsDir }, "suite.Stable::works", { filters: { status: "passed" } });
    expect(failedRuns.runs.map((run) => run.runId)).toEqual([DEV_RUN, ...[6, 5, 4, 3, 2, 1].map(mainRunId)]);
  });

  it("bad input is INVALID_OPTIONS; an aborted signal stops the call", async () => {
    expect(await code(testHistory({ runsDir }, ""))).toBe("INVALID_OPTIONS");
    expect(await code(testHistory({ runsDir }, 7 as unknown as string))).toBe("INVALID_OPTIONS");
    expect(await code(testHistory({ runsDir }, "a::b", { limit: 501 }))).toBe("INVALID_OPTIONS");
    expect(await code(testHistory({ runsDir }, "a::b", { limit: 0 }))).toBe("INVALID_OPTIONS");
    expect(await code(testHistory({ runsDir }, "a::b", { filters: { label: "nolabel" } }))).toBe("INVALID_OPTIONS");
    expect(await code(testHistory({ runsDir }, "a::b", { filters: { since: "yesterday" } }))).toBe("INVALID_OPTIONS");
    expect(await code(testHistory({ runsDir: "" }, "a::b"))).toBe("INVALID_OPTIONS");
    const controller = new AbortController();
    controller.abort();
    await expect(testHistory({ runsDir }, "a::b", { signal: controller.signal })).rejects.toMatchObject({
      name: "AbortError",
    });
  });
});

describe("topTests", () => {
  const { runsDir } = writeHistory();

  it("ranks by failures, flake rate and mean duration over the window", async () => {
    const failures = await topTests({ runsDir }, { by: "failures", filters: MAIN });
    expect(topTestsSchema.parse(failures)).toEqual(failures);
    expect(failures.window).toEqual({ runs: 20 });
    expect(failures.tests).toEqual([
      {
        key: "suite.Breaks::breaks",
        classname: "suite.Breaks",
        name: "breaks",
        runs: 20,
        failures: 14,
        flaky: 0,
        flakeRate: 0,
        meanDurationMs: 100,
        maxDurationMs: 100,
        lastStatus: "failed",
        lastRunId: mainRunId(20),
      },
      expect.objectContaining({ key: "suite.Flip::flips", failures: 2, flakeRate: 0.1 }),
    ]);
    const flaky = await topTests({ runsDir }, { by: "flaky", filters: MAIN });
    expect(flaky.tests.map((t) => [t.key, t.flaky, t.flakeRate])).toEqual([
      ["suite.Flaky::wobbles", 3, 0.15],
      ["suite.Flip::flips", 0, 0.1],
    ]);
    const slow = await topTests({ runsDir }, { by: "slow", filters: MAIN, limit: 3 });
    expect(slow.tests.map((t) => [t.key, t.meanDurationMs])).toEqual([
      ["suite.Slow::crawls", 5000],
      ["suite.Flaky::wobbles", 1150],
      ["suite.Gone::vanishes", 300],
    ]);
    expect(slow.tests[2]).toMatchObject({ runs: 10, lastRunId: mainRunId(10) });
  });

  it("a smaller window sees only its runs; runs of other labels are compared only with their own", async () => {
    const recent = await topTests({ runsDir }, { by: "failures", filters: MAIN, window: 5 });
    expect(recent.tests.map((t) => [t.key, t.failures])).toEqual([["suite.Breaks::breaks", 5]]);
    // All 21 runs: the dev run's pass sits between main failures but is no flip within main.
    const all = await topTests({ runsDir }, { by: "flaky" });
    expect(all.tests.map((t) => t.key)).toEqual(["suite.Flaky::wobbles", "suite.Flip::flips"]);
    expect(all.tests[0]!.flakeRate).toBe(0.1429); // 3 flaky of 21 runs
  });

  it("bad input is INVALID_OPTIONS", async () => {
    expect(await code(topTests({ runsDir }, { by: "odd" as "slow" }))).toBe("INVALID_OPTIONS");
    expect(await code(topTests({ runsDir }, { by: "slow", window: 501 }))).toBe("INVALID_OPTIONS");
    expect(await code(topTests({ runsDir }, { by: "slow", limit: 1001 }))).toBe("INVALID_OPTIONS");
    expect(await code(topTests({ runsDir }, undefined as never))).toBe("INVALID_OPTIONS");
  });
});

describe("history on testResults and compareRuns", () => {
  const { runsDir } = writeHistory();

  it("failing tests gain failingSince and their last 10 runs with the same labels; the plain call is unchanged", async () => {
    const plain = await testResults({ runsDir }, mainRunId(20));
    expect(toJSONText(plain)).not.toMatch(/failingSince|recent/);
    const withHistory = await testResults({ runsDir }, mainRunId(20), { history: true });
    expect(testResultsSchema.parse(withHistory)).toEqual(withHistory);
    const breaks = withHistory.tests.find((t) => t.key === "suite.Breaks::breaks")!;
    expect(breaks.failingSince).toEqual({ ...at(7), runs: 14 });
    expect(breaks.recent).toEqual(
      [20, 19, 18, 17, 16, 15, 14, 13, 12, 11].map((n) => ({ runId: mainRunId(n), status: "failed" })),
    );
    // Passing tests are exactly as without history.
    const { tests: _a, ...rest } = withHistory;
    const { tests: _b, ...plainRest } = plain;
    expect(rest).toEqual(plainRest);
    expect(withHistory.tests.filter((t) => t.status !== "failed")).toEqual(
      plain.tests.filter((t) => t.status !== "failed"),
    );
    expect(await testResults({ runsDir }, mainRunId(20), { history: false })).toEqual(plain);
  });

  it("an older run's history ends at that run", async () => {
    const { tests } = await testResults({ runsDir }, mainRunId(12), { status: "failed", history: true });
    expect(tests.map((t) => [t.key, t.failingSince, t.recent?.map((r) => r.status).join(",")])).toEqual([
      [
        "suite.Breaks::breaks",
        { ...at(7), runs: 6 },
        "failed,failed,failed,failed,failed,failed,passed,passed,passed,passed",
      ],
      [
        "suite.Flip::flips",
        { ...at(12), runs: 1 },
        "failed,passed,passed,passed,passed,passed,passed,failed,passed,passed",
      ],
    ]);
    expect(tests[0]!.recent![0]!.runId).toBe(mainRunId(12));
  });

  it("compareRuns: failing tests of head against head's runs, removed ones against base's", async () => {
    const plain = await compareRuns({ runsDir }, mainRunId(6), mainRunId(11));
    expect(toJSONText(plain)).not.toMatch(/failingSince|recent/);
    const diff = await compareRuns({ runsDir }, mainRunId(6), mainRunId(11), { history: true });
    expect(runComparisonSchema.parse(diff)).toEqual(diff);
    expect(diff.newFailures.map((t) => [t.key, t.failingSince])).toEqual([
      ["suite.Breaks::breaks", { ...at(7), runs: 5 }],
    ]);
    expect(diff.newFailures[0]!.recent!.map((r) => r.runId)).toEqual([11, 10, 9, 8, 7, 6, 5, 4, 3, 2].map(mainRunId));
    expect(diff.removed.map((t) => [t.key, t.failingSince])).toEqual([["suite.Gone::vanishes", undefined]]);
    expect({ ...diff, newFailures: plain.newFailures }).toEqual(plain);
  });
});

describe("flakeRate, the worked example of docs/library.md", () => {
  it("P P F P P ~ P F F (oldest first) is 2 unstable runs of 9", async () => {
    const { runsDir } = makeRunsDir();
    const outcomes = ["P", "P", "F", "P", "P", "~", "P", "F", "F"];
    outcomes.forEach((outcome, n) => {
      const cases: CaseSpec[] = [{ classname: "w", name: "t", status: outcome === "F" ? "failed" : "passed" }];
      if (outcome === "~") cases.unshift({ classname: "w", name: "t", status: "failed" });
      writeCurrentRun(runsDir, `run-${n}`, {
        startedAt: new Date(Date.UTC(2026, 0, 1, 0, n)).toISOString(),
        reports: [{ id: "junit", path: "reports/junit.xml", format: "junit", content: junitReport(cases) }],
        artifacts: {},
      });
    });
    const history = await testHistory({ runsDir }, "w::t");
    expect(strip(history)).toBe("ffp~ppfpp");
    expect(history.flakeRate).toBe(0.2222);
    expect(history.failingSince).toMatchObject({ runId: "run-7", runs: 2 });
    expect(history.lastPassed?.runId).toBe("run-6");
  });
});

describe("history cache", () => {
  it("a report rewritten since the last call is read again", async () => {
    const { runsDir } = writeHistory();
    const before = await testHistory({ runsDir }, "suite.Breaks::breaks", { filters: MAIN, limit: 2 });
    expect(strip(before)).toBe("ff");
    const report = junitReport([{ classname: "suite.Breaks", name: "breaks", time: 0.25 }]);
    writeFileSync(join(runsDir, mainRunId(20), "reports", "junit.xml"), report);
    const after = await testHistory({ runsDir }, "suite.Breaks::breaks", { filters: MAIN, limit: 2 });
    expect(strip(after)).toBe("pf");
    expect(after.runs[0]!.durationMs).toBe(250);
    expect(after).toMatchObject({ failingSince: null, lastPassed: at(20) });
  });

  it("without an index, the last window is reused only while the runs directory's entries and summaries are unchanged", async () => {
    const { runsDir } = writeHistory();
    const key = "suite.Breaks::breaks";
    const windowOf = async () => (await testHistory({ runsDir }, key, { filters: MAIN })).runs.map((run) => run.runId);
    const first = await windowOf();
    expect(first).toHaveLength(20);
    expect(await windowOf()).toEqual(first);
    // A run in progress is not in the window; once its summary lands (the runs directory's own
    // modification time does not change), it is.
    const newId = "run-21";
    const newDir = join(runsDir, newId);
    cpSync(join(runsDir, mainRunId(20)), newDir, { recursive: true });
    const summaryPath = join(newDir, "retention-summary.json");
    const summary = JSON.parse(readFileSync(summaryPath, "utf8")) as Record<string, unknown>;
    rmSync(summaryPath);
    expect(await windowOf()).toEqual(first);
    writeFileSync(summaryPath, JSON.stringify({ ...summary, runId: newId, startedAt: "2026-01-01T01:00:00.000Z" }));
    expect(await windowOf()).toEqual([newId, ...first]);
    // A summary rewritten in place, to labels outside the filters: out of the window again.
    writeFileSync(
      summaryPath,
      JSON.stringify({ ...summary, runId: newId, startedAt: "2026-01-01T01:00:00.000Z", labels: { branch: "dev" } }),
    );
    expect(await windowOf()).toEqual(first);
    // A run folder removed.
    rmSync(join(runsDir, mainRunId(20)), { recursive: true });
    expect(await windowOf()).toEqual(first.slice(1));
  });

  it("with a live index too: the summary is the index's to watch, reports are still checked", async () => {
    const { runsDir } = writeHistory();
    const index = createRunIndex({ runsDir, watch: false });
    await index.ready();
    try {
      const options = { runsDir, index };
      expect(strip(await testHistory(options, "suite.Breaks::breaks", { filters: MAIN, limit: 2 }))).toBe("ff");
      expect(strip(await testHistory(options, "suite.Breaks::breaks", { filters: MAIN, limit: 2 }))).toBe("ff");
      const report = junitReport([{ classname: "suite.Breaks", name: "breaks", status: "errored", time: 0.5 }]);
      writeFileSync(join(runsDir, mainRunId(19), "reports", "junit.xml"), report);
      const after = await testHistory(options, "suite.Breaks::breaks", { filters: MAIN, limit: 2 });
      expect(strip(after)).toBe("fe");
    } finally {
      index.close();
    }
  });

  it("the key table emptied mid-window (past its bound): the runs read before are read again, never mixed", async () => {
    const { runsDir } = writeHistory();
    const full = await testHistory({ runsDir }, "suite.Gone::vanishes", { filters: MAIN, limit: 20 });
    const top = await topTests({ runsDir }, { by: "failures", filters: MAIN, window: 20 });
    // Runs 20–11 hold 5 distinct tests, run 10 brings the sixth: the table empties after the newer runs.
    const before = setTestHistoryKeyBound(5);
    try {
      expect(toJSONText(await testHistory({ runsDir }, "suite.Gone::vanishes", { filters: MAIN, limit: 20 }))).toBe(
        toJSONText(full),
      );
      setTestHistoryKeyBound(5);
      expect(toJSONText(await topTests({ runsDir }, { by: "failures", filters: MAIN, window: 20 }))).toBe(
        toJSONText(top),
      );
    } finally {
      setTestHistoryKeyBound(before);
    }
  });

  it("a window with more distinct tests than the bound is INVALID_OPTIONS, not a partial answer", async () => {
    const { runsDir } = makeRunsDir();
    for (let n = 1; n <= 3; n++) {
      const cases: CaseSpec[] = [1, 2, 3].map((i) => ({ classname: `run${n}`, name: `t${i}`, time: 0.01 }));
      writeCurrentRun(runsDir, `r-${n}`, {
        startedAt: new Date(Date.UTC(2026, 0, 1, 0, n)).toISOString(),
        status: "passed",
        labels: {},
        reports: [{ id: "junit", path: "reports/junit.xml", format: "junit", content: junitReport(cases) }],
        artifacts: {},
      });
    }
    const before = setTestHistoryKeyBound(5);
    try {
      expect(await code(topTests({ runsDir }, { by: "slow" }))).toBe("INVALID_OPTIONS");
    } finally {
      setTestHistoryKeyBound(before);
    }
    expect((await topTests({ runsDir }, { by: "slow" })).tests).toHaveLength(9);
  });
});
