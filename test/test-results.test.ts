import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isGuideBoardError, testResults, testResultsSchema, type TestResult } from "../src/index.ts";
import {
  antReport,
  ctrfReport,
  gotestsumReport,
  jestJunit,
  junitReport,
  nestedReport,
  playwrightReport,
  pytestXunit1,
  pytestXunit2,
  surefireReport,
} from "./helpers/junit.ts";
import { makeRunsDir, writeCurrentRun, writeLegacyRun, type ReportSpec } from "./helpers/runs.ts";

function runWith(reports: ReportSpec[], runId = "r1", extra: Parameters<typeof writeCurrentRun>[2] = {}) {
  const { root, runsDir } = makeRunsDir();
  writeCurrentRun(runsDir, runId, { reports, artifacts: {}, ...extra });
  return { root, runsDir, runDir: join(runsDir, runId) };
}

async function resultsOf(content: string, format?: "junit" | "ctrf", path = "reports/junit.xml") {
  const { runsDir } = runWith([{ id: "junit", path, content, ...(format ? { format } : {}) }]);
  const results = await testResults({ runsDir }, "r1");
  expect(testResultsSchema.parse(results)).toEqual(results);
  return results;
}

const byName = (tests: TestResult[]) => Object.fromEntries(tests.map((test) => [test.name, test]));

describe("testResults: report variants", () => {
  it("Ant/Jenkins: one suite per class, entities decoded, statuses and totals", async () => {
    const { totals, tests, diagnostics } = await resultsOf(antReport(), "junit");
    expect(diagnostics).toEqual([]);
    expect(totals).toEqual({ tests: 4, passed: 1, failed: 1, errored: 1, skipped: 1, flaky: 0, durationMs: 1750 });
    const divides = byName(tests).divides!;
    expect(divides).toMatchObject({
      key: "com.acme.MathTest::divides",
      classname: "com.acme.MathTest",
      suite: "com.acme.MathTest",
      reportId: "junit",
      status: "failed",
      attempts: 1,
      durationMs: 400,
      message: "expected:<2> but was:<3>",
    });
    expect(divides.detail).toContain("at com.acme.MathTest.divides(MathTest.java:20)");
    expect(byName(tests).reads).toMatchObject({ status: "errored", message: "disk gone" });
  });

  it("Surefire: flakyFailure/flakyError are flaky attempts, rerunFailure/rerunError failed attempts", async () => {
    const { totals, tests } = await resultsOf(surefireReport(), "junit");
    const t = byName(tests);
    expect(t.connects).toMatchObject({ status: "flaky", attempts: 2, message: "timeout" });
    expect(t.connects!.detail).toContain("SocketTimeoutException");
    expect(t.resolves).toMatchObject({ status: "flaky", attempts: 3, message: "dns again" }); // failures before errors
    expect(t.sends).toMatchObject({ status: "errored", attempts: 3, message: "refused" });
    expect(t.closes).toMatchObject({ status: "passed", attempts: 1 });
    expect(totals).toMatchObject({ tests: 4, passed: 1, flaky: 2, errored: 1, failed: 0 });
  });

  it("pytest xunit1 (testsuite root, file attributes) and xunit2 (testsuites root, setup error)", async () => {
    const one = await resultsOf(pytestXunit1(), undefined);
    expect(one.reports).toEqual([{ id: "junit", format: "junit", tests: 3 }]);
    expect(byName(one.tests).test_sub).toMatchObject({
      status: "failed",
      file: "tests/test_math.py",
      classname: "tests.test_math",
      message: "assert 1 == 2",
    });
    expect(byName(one.tests).test_sub!.detail).toContain(">       assert 1 == 2");
    expect(byName(one.tests).test_win).toMatchObject({ status: "skipped", message: "windows only" });
    const two = await resultsOf(pytestXunit2(), undefined);
    expect(two.totals).toMatchObject({ tests: 2, passed: 1, errored: 1 });
    expect(byName(two.tests).test_connect).toMatchObject({
      file: null,
      message: 'failed on setup with "ConnectionRefusedError"',
    });
  });

  it("jest-junit: classname equal to name, message from the first line of the text", async () => {
    const { tests, totals } = await resultsOf(jestJunit());
    expect(totals).toMatchObject({ tests: 3, passed: 1, failed: 1, skipped: 1 });
    expect(byName(tests)["math divides"]).toMatchObject({
      key: "math divides::math divides",
      suite: "math",
      message: "Error: expect(received).toBe(expected)",
    });
  });

  it("Playwright: the same test in two projects is two tests, told apart by the project", async () => {
    const { tests, totals, collisions } = await resultsOf(playwrightReport(), "junit");
    expect(collisions).toEqual([]);
    expect(totals).toMatchObject({ tests: 4, passed: 3, failed: 1 });
    expect(tests.map((test) => `${test.key}=${test.status}`)).toEqual([
      "login.spec.ts::logs in [chromium]=passed",
      "login.spec.ts::logs out [chromium]=passed",
      "login.spec.ts::logs in [firefox]=passed",
      "login.spec.ts::logs out [firefox]=failed",
    ]);
  });

  it("gotestsum: reruns are attempts; flaky when one passed, else the last outcome", async () => {
    const { tests, totals } = await resultsOf(gotestsumReport(), "junit");
    const t = byName(tests);
    expect(t.TestPut).toMatchObject({ status: "flaky", attempts: 2, durationMs: 300, message: "Failed" });
    expect(t.TestGet).toMatchObject({ status: "failed", attempts: 2 });
    expect(t.TestGet!.detail).toBe("store_test.go:30: still wrong");
    expect(totals).toMatchObject({ tests: 3, passed: 1, failed: 1, flaky: 1 });
  });

  it("nested suites, a missing classname (the suite's name), and a collision kept and reported", async () => {
    const { tests, collisions } = await resultsOf(nestedReport(), "junit");
    expect(tests.map((test) => [test.key, test.status, test.suite])).toEqual([
      ["api.users::lists", "passed", "users"],
      ["users::no classname here", "passed", "users"],
      ["api.users::lists #2", "failed", "admin"],
    ]);
    expect(collisions).toEqual([{ reportId: "junit", classname: "api.users", name: "lists", count: 2 }]);
  });

  it("CTRF: statuses, flaky, retries, suites as paths; sniffed when undeclared", async () => {
    const ctrf = ctrfReport([
      { name: "adds", status: "passed", duration: 3, suite: ["math"], filePath: "math.test.ts" },
      { name: "divides", status: "failed", duration: 4, message: "expected 2", trace: "at math.test.ts:7" },
      { name: "later", status: "pending", duration: 0 },
      { name: "network", status: "passed", duration: 9, flaky: true, retries: 2 },
    ]);
    const { tests, totals, reports } = await resultsOf(ctrf, undefined, "reports/ctrf.json");
    expect(reports).toEqual([{ id: "junit", format: "ctrf", tests: 4 }]);
    expect(totals).toEqual({ tests: 4, passed: 1, failed: 1, errored: 0, skipped: 1, flaky: 1, durationMs: 16 });
    const t = byName(tests);
    expect(t.adds).toMatchObject({ classname: "math", suite: "math", file: "math.test.ts", key: "math::adds" });
    expect(t.divides).toMatchObject({ status: "failed", message: "expected 2", detail: "at math.test.ts:7" });
    expect(t.network).toMatchObject({ status: "flaky", attempts: 3 });
  });

  it("an identity in two reports is told apart by the report id", async () => {
    const report = junitReport([{ classname: "A", name: "t", status: "failed" }]);
    const { runsDir } = runWith([
      { id: "unit", path: "reports/unit.xml", content: report },
      { id: "e2e", path: "reports/e2e.xml", content: report },
      { id: "html", path: "reports/index.html", content: "<testsuite/>" },
    ]);
    const { tests, reports } = await testResults({ runsDir }, "r1");
    expect(tests.map((test) => test.key)).toEqual(["unit:A::t", "e2e:A::t"]);
    expect(reports.map((report) => report.id)).toEqual(["unit", "e2e"]);
  });

  it("filters by status and pages with a cursor; a bad cursor is INVALID_CURSOR", async () => {
    const cases = Array.from({ length: 7 }, (_, i) => ({
      classname: "C",
      name: `t${i}`,
      status: i % 2 ? ("failed" as const) : ("passed" as const),
    }));
    const { runsDir } = runWith([{ id: "j", path: "j.xml", content: junitReport(cases) }]);
    const first = await testResults({ runsDir }, "r1", { status: "failed", limit: 2 });
    expect(first.tests.map((test) => test.name)).toEqual(["t1", "t3"]);
    const second = await testResults({ runsDir }, "r1", { status: "failed", limit: 2, cursor: first.nextCursor });
    expect(second.tests.map((test) => test.name)).toEqual(["t5"]);
    expect(second.nextCursor).toBeUndefined();
    expect(second.totals.tests).toBe(7);
    await expect(testResults({ runsDir }, "r1", { cursor: "bm9wZQ" })).rejects.toSatisfy((error) =>
      isGuideBoardError(error, "INVALID_CURSOR"),
    );
    await expect(testResults({ runsDir }, "r1", { status: "weird" as never })).rejects.toSatisfy((error) =>
      isGuideBoardError(error, "INVALID_OPTIONS"),
    );
  });

  it("selectors: the latest run matching status and labels", async () => {
    const { runsDir } = makeRunsDir();
    const report = (status: "passed" | "failed") => [
      { id: "j", path: "j.xml", content: junitReport([{ classname: "C", name: "t", status }]) },
    ];
    writeCurrentRun(runsDir, "main-old", {
      startedAt: "2026-01-01T00:00:00Z",
      labels: { branch: "main" },
      reports: report("passed"),
    });
    writeCurrentRun(runsDir, "main-new", {
      startedAt: "2026-01-02T00:00:00Z",
      status: "failed",
      labels: { branch: "main" },
      reports: report("failed"),
    });
    writeCurrentRun(runsDir, "topic", {
      startedAt: "2026-01-03T00:00:00Z",
      labels: { branch: "x" },
      reports: report("passed"),
    });
    const latestPassedMain = await testResults({ runsDir }, { latest: true, status: "passed", label: "branch=main" });
    expect(latestPassedMain.runId).toBe("main-old");
    expect((await testResults({ runsDir }, { latest: true })).runId).toBe("topic");
    await expect(testResults({ runsDir }, { latest: true, label: "branch=none" })).rejects.toSatisfy((error) =>
      isGuideBoardError(error, "RUN_NOT_FOUND"),
    );
  });

  it("a run without test reports (or a legacy run) has zero totals and no diagnostics", async () => {
    const { runsDir } = makeRunsDir();
    writeLegacyRun(runsDir, "old", { reports: { "reports/summary.html": "<h1>hi</h1>", "notes.json": '{"a":1}' } });
    const results = await testResults({ runsDir }, "old");
    expect(results).toMatchObject({ totals: { tests: 0 }, tests: [], reports: [], diagnostics: [] });
  });

  it("the second call on an unchanged run comes from the cache; a rewritten report is read again", async () => {
    const { runsDir, runDir } = runWith([
      { id: "j", path: "j.xml", content: junitReport([{ classname: "C", name: "t", status: "failed" }]) },
    ]);
    const first = await testResults({ runsDir }, "r1");
    const second = await testResults({ runsDir }, "r1");
    expect(second.tests[0]).toBe(first.tests[0]); // the very same object: nothing was parsed again
    writeFileSync(
      join(runDir, "j.xml"),
      junitReport([
        { classname: "C", name: "t" },
        { classname: "C", name: "u" },
      ]),
    );
    const third = await testResults({ runsDir }, "r1");
    expect(third.totals).toMatchObject({ tests: 2, passed: 2 });
  });

  it("caps come from options and are checked", async () => {
    const { runsDir } = runWith([{ id: "j", path: "j.xml", content: junitReport([{ name: "a" }, { name: "b" }]) }]);
    const capped = await testResults({ runsDir, maxTestCases: 1 }, "r1");
    expect(capped.diagnostics).toEqual([{ reportId: "j", kind: "too-many-tests", message: expect.any(String) }]);
    const small = await testResults({ runsDir, maxReportBytes: 10 }, "r1");
    expect(small.diagnostics[0]!.kind).toBe("too-large");
    await expect(testResults({ runsDir, maxDepth: 0 }, "r1")).rejects.toSatisfy((error) =>
      isGuideBoardError(error, "INVALID_OPTIONS"),
    );
  });
});
