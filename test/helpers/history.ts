// A test history of 20 runs on main (one minute apart, run 1 oldest) plus one run on dev:
// - `suite.Breaks::breaks` passes in runs 1–6 and fails from run 7 on (passes on dev);
// - `suite.Flaky::wobbles` is flaky (a failed then a passed attempt) in runs 3, 9 and 15;
// - `suite.Flip::flips` fails alone in runs 5 and 12 (an isolated failure each time);
// - `suite.Gone::vanishes` passes in runs 1–10 and is absent after;
// - `suite.Slow::crawls` passes in 5 s, `suite.Stable::works` passes in 10 ms every run.
import { junitReport, type CaseSpec } from "./junit.ts";
import { makeRunsDir, writeCurrentRun } from "./runs.ts";

export const HISTORY_RUNS = 20;
export const mainRunId = (n: number) => `main-${String(n).padStart(2, "0")}`;
export const DEV_RUN = "dev-01";

function casesOf(n: number, dev = false): CaseSpec[] {
  const cases: CaseSpec[] = [
    { classname: "suite.Stable", name: "works", time: 0.01 },
    { classname: "suite.Slow", name: "crawls", time: 5 },
    {
      classname: "suite.Breaks",
      name: "breaks",
      status: n >= 7 && !dev ? "failed" : "passed",
      message: `broken in ${n}`,
      time: 0.1,
    },
    {
      classname: "suite.Flip",
      name: "flips",
      status: n === 5 || n === 12 ? "failed" : "passed",
      message: "flipped",
      time: 0.2,
    },
  ];
  if ([3, 9, 15].includes(n)) {
    cases.push({ classname: "suite.Flaky", name: "wobbles", status: "failed", message: "timeout", time: 1 });
  }
  cases.push({ classname: "suite.Flaky", name: "wobbles", time: 1 });
  if (n <= 10) cases.push({ classname: "suite.Gone", name: "vanishes", time: 0.3 });
  return cases;
}

/** Writes the history into a fresh runs directory. */
export function writeHistory(): { root: string; runsDir: string } {
  const dirs = makeRunsDir();
  for (let n = 1; n <= HISTORY_RUNS; n++) {
    writeCurrentRun(dirs.runsDir, mainRunId(n), {
      startedAt: new Date(Date.UTC(2026, 0, 1, 0, n)).toISOString(),
      status: n >= 7 ? "failed" : "passed",
      labels: { branch: "main" },
      reports: [{ id: "junit", path: "reports/junit.xml", format: "junit", content: junitReport(casesOf(n)) }],
      artifacts: {},
    });
  }
  writeCurrentRun(dirs.runsDir, DEV_RUN, {
    startedAt: new Date(Date.UTC(2026, 0, 1, 0, 10, 30)).toISOString(),
    status: "passed",
    labels: { branch: "dev" },
    reports: [{ id: "junit", path: "reports/junit.xml", format: "junit", content: junitReport(casesOf(10, true)) }],
    artifacts: {},
  });
  return dirs;
}
