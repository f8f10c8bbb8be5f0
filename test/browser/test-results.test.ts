// Test results in the run browser: pass/fail counts in the list, a run's failing tests with
// message and detail (hostile text shown as text), a link to their report, and the compare view
// (base: the latest passed run before this one with the same labels; new failures first).
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../helpers/chromium.ts";
import { assertBuilt, ROOT, startServe, type Served } from "../helpers/bin.ts";
import { junitReport, type CaseSpec } from "../helpers/junit.ts";
import { tempDir, writeCurrentRun } from "../helpers/runs.ts";

const SHOTS = join(ROOT, "test-results", "screenshots");
const HOSTILE = `<img src="/hostile-beacon" onerror="document.body.dataset.hostile = 1">`;
const TOTALS = (passed: number, failed: number) => ({
  tests: passed + failed,
  passed,
  failed,
  errored: 0,
  skipped: 0,
  flaky: 0,
  durationMs: 10 * (passed + failed),
});

let browser: Browser | undefined;
let server: Served | undefined;

function writeRun(runsDir: string, runId: string, day: number, cases: CaseSpec[], labels: Record<string, string>) {
  const failed = cases.filter((spec) => spec.status === "failed").length;
  writeCurrentRun(runsDir, runId, {
    startedAt: `2026-01-0${day}T09:00:00Z`,
    finishedAt: `2026-01-0${day}T09:01:00Z`,
    status: failed ? "failed" : "passed",
    labels,
    reports: [{ id: "junit", path: "reports/junit.xml", content: junitReport(cases), format: "junit" }],
    extra: { tests: TOTALS(cases.length - failed, failed) },
  });
}

beforeAll(async () => {
  assertBuilt();
  mkdirSync(SHOTS, { recursive: true });
  const cwd = tempDir("gb-browser-tests-");
  const runsDir = join(cwd, "runs");
  mkdirSync(runsDir);
  const main = { branch: "main" };
  writeRun(
    runsDir,
    "r1-green",
    1,
    [
      { classname: "A", name: "old" },
      { classname: "A", name: "steady" },
    ],
    main,
  );
  writeRun(runsDir, "r2-other-labels", 2, [{ classname: "A", name: "steady" }], { branch: "topic" });
  writeRun(
    runsDir,
    "r3-red",
    3,
    [
      {
        classname: "A",
        name: "old",
        status: "failed",
        message: `expected 1 ${HOSTILE}`,
        detail: `at A.old (a.js:1)\n${HOSTILE}`,
      },
      { classname: "A", name: "steady" },
      { classname: "A", name: "fresh", status: "failed", message: "fresh broke" },
    ],
    main,
  );
  const started = await Promise.allSettled([
    launchChromium().then((launched) => (browser = launched)),
    startServe(["--runs-dir", runsDir], { cwd, timeoutMs: 20_000 }).then((served) => (server = served)),
  ]);
  for (const result of started) if (result.status === "rejected") throw result.reason;
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop("SIGTERM");
});

async function open(hash: string): Promise<Page> {
  const context = await browser!.newContext();
  const page = await context.newPage();
  await page.goto(server!.url + hash);
  return page;
}

const texts = (page: Page, selector: string) =>
  page.evaluate<string[]>(`[...document.querySelectorAll(${JSON.stringify(selector)})].map((n) => n.textContent)`);

describe("test results in the run browser", () => {
  it("lists pass/fail counts per run", async () => {
    const page = await open("#/");
    await expect
      .poll(() => texts(page, "#runs td.tests"), { timeout: 10_000 })
      .toEqual(["1 passed, 2 failed", "1 passed", "2 passed"]);
    await page.screenshot({ path: join(SHOTS, "tests-list.png"), fullPage: true });
    await page.context().close();
  });

  it("shows a run's totals and failing tests, messages and details as text, with a report link", async () => {
    const page = await open("#/runs/r3-red");
    await expect
      .poll(() => texts(page, "#tests .test-totals"), { timeout: 10_000 })
      .toEqual(["3 tests: 1 passed, 2 failed, 0 errored, 0 skipped, 0 flaky (30 ms)"]);
    await expect.poll(() => texts(page, "#tests tr.test td.mono")).toEqual(["A::old", "A::fresh"]);
    expect((await texts(page, "#tests tr.test td.test-message span"))[0]).toBe(`expected 1 ${HOSTILE}`);
    expect(await texts(page, "#tests pre.detail")).toEqual([`at A.old (a.js:1)\n${HOSTILE}`, "at test.js:1"]);
    expect(
      await page.evaluate<string>(
        "document.querySelectorAll('#tests img').length + ':' + (document.body.dataset.hostile || '')",
      ),
    ).toBe("0:");
    const href = await page.evaluate<string>("document.querySelector('#tests tr.test a').getAttribute('href')");
    expect(href).toBe("retained-runs/r3-red/reports/junit");
    await page.evaluate("document.querySelector('#tests details').open = true");
    await page.screenshot({ path: join(SHOTS, "tests-run.png"), fullPage: true });
    await page.context().close();
  });

  it("compares with the latest passed run with the same labels, new failures first; any base can be chosen", async () => {
    const page = await open("#/runs/r3-red");
    await page.waitForSelector("a[href='#/compare/r3-red']", { timeout: 10_000 });
    await page.click("a[href='#/compare/r3-red']");
    await expect
      .poll(() => texts(page, "#comparison h3"), { timeout: 10_000 })
      .toEqual(["New failures (2)", "Still failing (0)", "Fixed (0)", "Flaky (0)", "Added (1)", "Removed (0)"]);
    expect(await page.evaluate<string>("document.getElementById('compare-base').value")).toBe("r1-green");
    expect(await texts(page, "#comparison section:first-of-type tr.test td.mono")).toEqual(["A::old", "A::fresh"]);
    await page.screenshot({ path: join(SHOTS, "tests-compare.png"), fullPage: true });
    await page.selectOption("#compare-base", "r2-other-labels");
    await page.click("#main form button[type=submit]");
    await expect.poll(() => texts(page, "#comparison h3"), { timeout: 10_000 }).toContain("Added (2)");
    expect(new URL(page.url()).hash).toBe("#/compare/r3-red?base=r2-other-labels");
    await page.context().close();
  });
});
