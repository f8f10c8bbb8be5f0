import { describe, expect, it } from "vitest";
import { compareRuns, isGuideBoardError, runComparisonSchema } from "../src/index.ts";
import { ctrfReport, gotestsumReport, junitReport, playwrightReport, type CaseSpec } from "./helpers/junit.ts";
import { makeRunsDir, writeCurrentRun } from "./helpers/runs.ts";

function writeRun(runsDir: string, runId: string, day: number, cases: CaseSpec[], labels = { branch: "main" }) {
  const failed = cases.some((spec) => spec.status === "failed" || spec.status === "errored");
  writeCurrentRun(runsDir, runId, {
    startedAt: `2026-01-${String(day).padStart(2, "0")}T00:00:00Z`,
    status: failed ? "failed" : "passed",
    labels,
    artifacts: {},
    reports: [{ id: "junit", path: "reports/junit.xml", content: junitReport(cases) }],
  });
}

const keys = (tests: { key: string }[]) => tests.map((test) => test.key);

describe("compareRuns", () => {
  it("sorts every test into its category", async () => {
    const { runsDir } = makeRunsDir();
    writeRun(runsDir, "base", 1, [
      { classname: "A", name: "stays-green" },
      { classname: "A", name: "breaks" },
      { classname: "A", name: "keeps-failing", status: "failed" },
      { classname: "A", name: "gets-fixed", status: "errored" },
      { classname: "A", name: "was-skipped", status: "skipped" },
      { classname: "A", name: "goes-away", status: "failed" },
    ]);
    writeRun(runsDir, "head", 2, [
      { classname: "A", name: "stays-green" },
      { classname: "A", name: "breaks", status: "errored" },
      { classname: "A", name: "keeps-failing", status: "failed" },
      { classname: "A", name: "gets-fixed" },
      { classname: "A", name: "was-skipped", status: "failed" },
      { classname: "A", name: "new-and-failing", status: "failed" },
      { classname: "A", name: "new-and-green" },
    ]);
    const diff = await compareRuns({ runsDir }, "base", "head");
    expect(runComparisonSchema.parse(diff)).toEqual(diff);
    expect(keys(diff.newFailures)).toEqual(["A::breaks", "A::was-skipped", "A::new-and-failing"]);
    expect(keys(diff.stillFailing)).toEqual(["A::keeps-failing"]);
    expect(keys(diff.fixed)).toEqual(["A::gets-fixed"]);
    expect(keys(diff.added)).toEqual(["A::new-and-failing", "A::new-and-green"]);
    expect(keys(diff.removed)).toEqual(["A::goes-away"]);
    expect(diff.flaky).toEqual([]);
    expect(diff.base).toMatchObject({ runId: "base", totals: { tests: 6, failed: 2, errored: 1 } });
    expect(diff.head).toMatchObject({ runId: "head", totals: { tests: 7, failed: 3, errored: 1, passed: 3 } });
  });

  it("flaky in base counts as not failing; flaky in head is listed and counts as fixed", async () => {
    const { runsDir } = makeRunsDir();
    writeCurrentRun(runsDir, "base", {
      startedAt: "2026-01-01T00:00:00Z",
      artifacts: {},
      reports: [{ id: "go", path: "go.xml", content: gotestsumReport() }],
    });
    writeRun(runsDir, "head", 2, [
      { classname: "example.com/app/store", name: "TestPut", status: "failed" },
      { classname: "example.com/app/store", name: "TestGet" },
      { classname: "example.com/app/store", name: "TestList" },
    ]);
    const diff = await compareRuns({ runsDir }, "base", "head");
    expect(keys(diff.newFailures)).toEqual(["example.com/app/store::TestPut"]);
    expect(keys(diff.fixed)).toEqual(["example.com/app/store::TestGet"]);
    const back = await compareRuns({ runsDir }, "head", "base");
    expect(keys(back.flaky)).toEqual(["example.com/app/store::TestPut"]);
    expect(keys(back.fixed)).toEqual(["example.com/app/store::TestPut"]);
    expect(keys(back.newFailures)).toEqual(["example.com/app/store::TestGet"]);
  });

  it("Playwright projects and CTRF reports compare by their stable keys", async () => {
    const { runsDir } = makeRunsDir();
    writeCurrentRun(runsDir, "base", {
      startedAt: "2026-01-01T00:00:00Z",
      artifacts: {},
      reports: [
        { id: "pw", path: "pw.xml", content: playwrightReport(false), format: "junit" },
        { id: "unit", path: "ctrf.json", content: ctrfReport([{ name: "adds", status: "passed", duration: 1 }]) },
      ],
    });
    writeCurrentRun(runsDir, "head", {
      startedAt: "2026-01-02T00:00:00Z",
      artifacts: {},
      reports: [
        { id: "pw", path: "pw.xml", content: playwrightReport(true), format: "junit" },
        { id: "unit", path: "ctrf.json", content: ctrfReport([{ name: "adds", status: "failed", duration: 1 }]) },
      ],
    });
    const diff = await compareRuns({ runsDir }, "base", "head");
    expect(keys(diff.newFailures)).toEqual(["login.spec.ts::logs out [firefox]", "adds"]);
    expect(diff.added).toEqual([]);
    expect(diff.removed).toEqual([]);
  });

  it("takes selectors: the latest passed run on main as the base", async () => {
    const { runsDir } = makeRunsDir();
    writeRun(runsDir, "main-green", 1, [{ classname: "A", name: "t" }]);
    writeRun(runsDir, "main-red", 2, [{ classname: "A", name: "t", status: "failed" }]);
    writeRun(runsDir, "topic-green", 3, [{ classname: "A", name: "t" }], { branch: "topic" });
    writeRun(runsDir, "topic-red", 4, [{ classname: "A", name: "t", status: "failed" }], { branch: "topic" });
    const diff = await compareRuns(
      { runsDir },
      { latest: true, status: "passed", label: "branch=main" },
      { latest: true, label: ["branch=topic"] },
    );
    expect([diff.base.runId, diff.head.runId]).toEqual(["main-green", "topic-red"]);
    expect(keys(diff.newFailures)).toEqual(["A::t"]);
    await expect(compareRuns({ runsDir }, { latest: true, status: "cancelled" }, "topic-red")).rejects.toSatisfy(
      (error) => isGuideBoardError(error, "RUN_NOT_FOUND"),
    );
    await expect(compareRuns({ runsDir }, { latest: true, status: "nope" } as never, "x")).rejects.toSatisfy((error) =>
      isGuideBoardError(error, "INVALID_OPTIONS"),
    );
    await expect(compareRuns({ runsDir }, "../etc", "topic-red")).rejects.toSatisfy((error) =>
      isGuideBoardError(error, "INVALID_RUN_ID"),
    );
  });
});
