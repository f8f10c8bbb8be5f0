// Test history in the run browser: the trend chart over the last N runs (stacked passed / failed /
// flaky bars and a duration line, each bar a link to its run), a failing test's strip of recent
// outcomes with "failing since", the flaky and slowest test views, and one test's history.
// Fixtures: 20 runs on main (A::breaks fails from run 7 on, A::flaky is flaky every fourth run,
// A::gone disappears after run 10, A::slow gets slower), and a newer run on a topic branch
// without test reports. Screenshots go to test-results/screenshots/.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../helpers/chromium.ts";
import { assertBuilt, ROOT, startServe, type Served } from "../helpers/bin.ts";
import { testcase, type CaseSpec } from "../helpers/junit.ts";
import { tempDir, writeCurrentRun } from "../helpers/runs.ts";

const SHOTS = join(ROOT, "test-results", "screenshots");
const RUNS = 20;
const BREAKS_AT = 7;
const GONE_AFTER = 10;
const MAIN = { branch: "main" };

const id = (i: number) => `h${String(i).padStart(2, "0")}`;
const isFlaky = (i: number) => i % 4 === 2;
const slowSeconds = (i: number) => 2 + i / 10;

interface Case extends Omit<CaseSpec, "status"> {
  status: "passed" | "failed" | "flaky";
}

/** The cases of run `i` (1-based, oldest first). */
function casesOf(i: number): Case[] {
  const cases: Case[] = [
    { classname: "A", name: "steady", status: "passed", time: 0.01 },
    { classname: "A", name: "breaks", status: i >= BREAKS_AT ? "failed" : "passed", message: `broke in ${id(i)}` },
    { classname: "A", name: "flaky", status: isFlaky(i) ? "flaky" : "passed", time: 0.02 },
    { classname: "A", name: "slow", status: "passed", time: slowSeconds(i) },
  ];
  if (i <= GONE_AFTER) cases.push({ classname: "A", name: "gone", status: "passed", time: 0.01 });
  return cases;
}

/** Surefire's shape for a test that failed, then passed on a rerun. */
function junitOf(cases: Case[]): string {
  const body = cases.map((spec) =>
    spec.status === "flaky"
      ? `<testcase classname="${spec.classname}" name="${spec.name}" time="${spec.time}"><flakyFailure message="timeout" type="T"><stackTrace>t</stackTrace></flakyFailure></testcase>`
      : testcase({ ...spec, status: spec.status }),
  );
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuite name="A" tests="${cases.length}">${body.join("")}</testsuite>\n`;
}

interface Expected {
  runId: string;
  passed: number;
  failed: number;
  flaky: number;
}
/** Every main run's expected bar, oldest first. */
const EXPECTED: Expected[] = [];

function writeFixtures(runsDir: string): void {
  for (let i = 1; i <= RUNS; i++) {
    const cases = casesOf(i);
    const count = (status: Case["status"]) => cases.filter((spec) => spec.status === status).length;
    const totals = {
      tests: cases.length,
      passed: count("passed"),
      failed: count("failed"),
      errored: 0,
      skipped: 0,
      flaky: count("flaky"),
      durationMs: Math.round(cases.reduce((sum, spec) => sum + (spec.time ?? 0.01) * 1000, 0)),
    };
    const day = String(i).padStart(2, "0");
    writeCurrentRun(runsDir, id(i), {
      startedAt: `2026-02-${day}T09:00:00Z`,
      finishedAt: `2026-02-${day}T09:05:00Z`,
      status: totals.failed ? "failed" : "passed",
      labels: MAIN,
      reports: [{ id: "junit", path: "reports/junit.xml", content: junitOf(cases), format: "junit" }],
      extra: { tests: totals },
    });
    EXPECTED.push({ runId: id(i), passed: totals.passed, failed: totals.failed, flaky: totals.flaky });
  }
  writeCurrentRun(runsDir, "x21-topic", {
    startedAt: "2026-02-21T09:00:00Z",
    finishedAt: "2026-02-21T09:01:00Z",
    labels: { branch: "topic" },
    reports: [],
  });
}

let browser: Browser | undefined;
let server: Served | undefined;
const requested: string[] = [];
const problems: string[] = [];
const pages: Page[] = [];

beforeAll(async () => {
  assertBuilt();
  mkdirSync(SHOTS, { recursive: true });
  const cwd = tempDir("gb-browser-history-");
  const runsDir = join(cwd, "runs");
  mkdirSync(runsDir);
  writeFixtures(runsDir);
  const started = await Promise.allSettled([
    launchChromium().then((launched) => (browser = launched)),
    startServe(["--runs-dir", runsDir], { cwd, timeoutMs: 20_000 }).then((served) => (server = served)),
  ]);
  for (const result of started) if (result.status === "rejected") throw result.reason;
}, 60_000);

afterEach(async () => {
  for (const page of pages.splice(0)) await page.context().close();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop("SIGTERM");
});

async function open(hash: string, width = 1200): Promise<Page> {
  const context = await browser!.newContext({ viewport: { width, height: 900 } });
  context.on("request", (request) => requested.push(request.url()));
  context.on("console", (message) => {
    if (message.type() === "error" || message.type() === "warning") problems.push(message.text());
  });
  const page = await context.newPage();
  pages.push(page);
  page.on("pageerror", (error) => problems.push(error.message));
  await page.goto(server!.url + hash);
  return page;
}

const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
const inPage = <T>(page: Page, expression: string) => page.evaluate<T>(expression);
const eventually = <T>(read: () => T, timeout = 10_000) => expect.poll(read, { timeout, interval: 50 });
const texts = (page: Page, selector: string) =>
  inPage<string[]>(page, `[...document.querySelectorAll(${JSON.stringify(selector)})].map((n) => n.textContent)`);
const hashOf = (page: Page) => new URL(page.url()).hash;

interface Bar {
  runId: string;
  label: string;
  focusable: string | null;
  segs: { kind: string; count: number; y: number; height: number }[];
}
/** The chart's bars, left to right, with their segments' counts and geometry. */
const bars = (page: Page) =>
  inPage<Bar[]>(
    page,
    `[...document.querySelectorAll("#trend svg a.bar")].map((a) => ({
      runId: a.dataset.runId, label: a.getAttribute("aria-label"), focusable: a.getAttribute("tabindex"),
      segs: [...a.querySelectorAll("rect.seg")].map((r) => ({ kind: r.getAttribute("class").replace("seg seg-", ""),
        count: Number(r.dataset.count), y: Number(r.getAttribute("y")), height: Number(r.getAttribute("height")) })) }))`,
  );

/** Checks that each bar stacks passed, failed, flaky bottom up, at one scale for every bar. */
function expectStacked(drawn: Bar[], expected: Expected[]): void {
  expect(drawn.map((bar) => [bar.runId, ...bar.segs.map((seg) => seg.count)])).toEqual(
    expected.map((run) => [run.runId, run.passed, run.failed, run.flaky]),
  );
  const scales = new Set<string>();
  for (const bar of drawn) {
    expect(bar.segs.map((seg) => seg.kind)).toEqual(["passed", "failed", "flaky"]);
    const [passed, failed, flaky] = bar.segs as [Bar["segs"][0], Bar["segs"][0], Bar["segs"][0]];
    expect(failed.y + failed.height).toBeCloseTo(passed.y, 1); // failed sits on passed
    expect(flaky.y + flaky.height).toBeCloseTo(failed.y, 1); // flaky sits on failed
    for (const seg of bar.segs) if (seg.count) scales.add((seg.height / seg.count).toFixed(1));
  }
  expect(scales.size).toBe(1); // one count per pixel height for every segment of every bar
}

describe("the test trend chart", () => {
  it("draws one bar per run of the list's filters, stacked passed / failed / flaky, with a duration line", async () => {
    const page = await open("#/?label=branch%3Dmain");
    await eventually(async () => (await bars(page)).length).toBe(RUNS);
    const drawn = await bars(page);
    expectStacked(drawn, EXPECTED);
    expect(drawn[BREAKS_AT - 1]!.label).toBe(
      `${id(BREAKS_AT)} (${await inPage(page, "new Date('2026-02-07T09:00:00Z').toLocaleString()")}, run failed): ` +
        "4 passed, 1 failed, 0 flaky, 0 skipped; tests took 2 s",
    );
    // One tab stop (the newest bar); every bar has a title for pointer users.
    expect(drawn.map((bar) => bar.focusable)).toEqual([...Array(RUNS - 1).fill("-1"), "0"]);
    expect(await inPage(page, `document.querySelectorAll("#trend a.bar > title").length`)).toBe(RUNS);
    const line = await inPage<string>(page, `document.querySelector("#trend path.duration-line").getAttribute("d")`);
    expect(line.match(/[ML]/g)).toEqual(["M", ...Array(RUNS - 1).fill("L")]);
    expect(await texts(page, "#trend ul.legend li")).toEqual(["passed", "failed + errored", "flaky", "test duration"]);
    await shot(page, "history-trend");

    // Without the label filter the topic run (no test reports) is the newest bar, a thin mark.
    await page.goto(`${server!.url}#/`);
    await eventually(async () => (await bars(page)).length).toBe(RUNS + 1);
    const all = await bars(page);
    expect(all.at(-1)).toMatchObject({ runId: "x21-topic", segs: [{ kind: "none" }] });
    expect(all.at(-1)!.label).toMatch(/^x21-topic .*: no test totals$/);
    expect(await texts(page, "#trend .trend-info")).toEqual([
      "The last 21 run(s) matching the filters, oldest on the left; 1 without test totals (a thin mark). Each bar opens its run.",
    ]);
  });

  it("shows the number of runs chosen (default 50), and keeps it when the filters change", async () => {
    const page = await open("#/?label=branch%3Dmain");
    await eventually(async () => (await bars(page)).length).toBe(RUNS);
    expect(await inPage(page, `document.getElementById("trend-runs").value`)).toBe("50");
    await page.selectOption("#trend-runs", "10");
    await eventually(async () => (await bars(page)).length).toBe(10);
    expect(hashOf(page)).toBe("#/?label=branch%3Dmain&n=10");
    expectStacked(await bars(page), EXPECTED.slice(-10));
    await page.fill("#filter-label", "");
    await page.click("#main form.filters button[type=submit]");
    await eventually(async () => (await bars(page)).map((bar) => bar.runId).at(-1)).toBe("x21-topic");
    expect(hashOf(page)).toBe("#/?n=10");
    expect((await bars(page)).length).toBe(10);
  });

  it("opens a run by clicking its bar, or from the keyboard (arrow keys between bars, Enter)", async () => {
    const page = await open("#/?label=branch%3Dmain");
    await eventually(async () => (await bars(page)).length).toBe(RUNS);
    await page.click(`#trend a.bar[data-run-id="${id(BREAKS_AT)}"]`);
    await eventually(() => hashOf(page)).toBe(`#/runs/${id(BREAKS_AT)}`);
    await eventually(() => page.locator("main h2").first().textContent()).toBe(`Run ${id(BREAKS_AT)}`);

    await page.goBack();
    await eventually(async () => (await bars(page)).length).toBe(RUNS);
    await page.focus("#trend-runs");
    await page.keyboard.press("Tab");
    expect(await inPage(page, "document.activeElement.dataset.runId")).toBe(id(RUNS)); // the newest bar
    await page.keyboard.press("ArrowLeft");
    await page.keyboard.press("ArrowLeft");
    expect(await inPage(page, "document.activeElement.dataset.runId")).toBe(id(RUNS - 2));
    await page.keyboard.press("Home");
    expect(await inPage(page, "document.activeElement.dataset.runId")).toBe(id(1));
    await page.keyboard.press("ArrowRight");
    expect(await inPage(page, "document.activeElement.getAttribute('tabindex')")).toBe("0");
    // A redraw (here a resize) keeps the focused bar and its tab stop.
    await inPage(page, `document.querySelector("#trend svg").dataset.drawn = "before"`);
    await page.setViewportSize({ width: 1000, height: 900 });
    await eventually(() => inPage(page, `document.querySelector("#trend svg").dataset.drawn ?? "again"`)).toBe("again");
    expect(await inPage(page, "document.activeElement.dataset.runId")).toBe(id(2));
    expect(await inPage(page, "document.activeElement.getAttribute('tabindex')")).toBe("0");
    await shot(page, "history-trend-focus");
    await page.keyboard.press("Enter");
    await eventually(() => hashOf(page)).toBe(`#/runs/${id(2)}`);
  });

  it("stays readable in a 400 px wide window", async () => {
    const page = await open("#/?label=branch%3Dmain", 400);
    await eventually(async () => (await bars(page)).length).toBe(RUNS);
    const box = await inPage<{ left: number; right: number; height: number }>(
      page,
      `(() => { const r = document.querySelector("#trend svg").getBoundingClientRect(); return { left: r.left, right: r.right, height: r.height }; })()`,
    );
    expect(box.left).toBeGreaterThanOrEqual(0);
    expect(box.right).toBeLessThanOrEqual(400);
    expect(box.height).toBeGreaterThanOrEqual(150);
    expectStacked(await bars(page), EXPECTED);
    // Bars stay apart: each at least 3 px wide.
    const widths = await inPage<number[]>(
      page,
      `[...document.querySelectorAll("#trend rect.seg-passed")].map((r) => r.getBoundingClientRect().width)`,
    );
    expect(Math.min(...widths)).toBeGreaterThanOrEqual(3);
    await shot(page, "history-trend-400px");
  });
});

interface Strip {
  titles: string[];
  classes: string[];
  hrefs: (string | null)[];
}
/** The outcome strip(s) matched by `selector` (one `ol.strip`): titles, cell classes and links. */
const strip = (page: Page, selector: string) =>
  inPage<Strip>(
    page,
    `(() => { const cells = [...document.querySelectorAll(${JSON.stringify(`${selector} ol.strip .cell`)})];
      return { titles: cells.map((c) => c.title), classes: cells.map((c) => c.getAttribute("class")),
        hrefs: cells.map((c) => c.getAttribute("href")) }; })()`,
  );
const ids = (from: number, to: number) => Array.from({ length: from - to + 1 }, (_, k) => id(from - k)); // from..to, newest first
const historyHref = (key: string, label?: string) =>
  `#/tests/history?key=${encodeURIComponent(key)}${label ? `&label=${encodeURIComponent(label)}` : ""}`;

describe("a failing test's recent outcomes", () => {
  it("shows a strip of its last runs with the same labels and 'failing since', on the run page", async () => {
    const page = await open(`#/runs/${id(9)}`);
    await eventually(() => texts(page, "#tests tr.test td.mono")).toEqual(["A::breaks"]);
    expect(await texts(page, "#tests thead th")).toEqual([
      "Test",
      "Status",
      "Attempts",
      "Message",
      "Report",
      "Recent runs",
    ]);
    const cells = await strip(page, "#tests tr.test td.recent");
    const statuses = ["failed", "failed", "failed", ...Array(6).fill("passed")];
    expect(cells.titles).toEqual(ids(9, 1).map((runId, k) => `${runId}: ${statuses[k]}`));
    expect(cells.classes).toEqual(statuses.map((status) => `cell cell-${status}`));
    expect(cells.hrefs).toEqual(ids(9, 1).map((runId) => `#/runs/${runId}`));
    expect(await texts(page, "#tests td.recent .failing-since")).toEqual(["failing since h07 (3 runs)"]);
    expect(await inPage(page, `document.querySelector("#tests td.recent a.history-link").getAttribute("href")`)).toBe(
      historyHref("A::breaks", "branch=main"),
    );
    await shot(page, "history-run-strip");
    await page.click("#tests a.history-link");
    await eventually(() => texts(page, "#test-history tr.history-run td:first-child")).toEqual(ids(RUNS, 1));
    await page.goBack();
    await page.waitForSelector("#tests td.recent a.cell");
    await page.click(`#tests td.recent a.cell[href="#/runs/${id(6)}"]`);
    await eventually(() => page.locator("main h2").first().textContent()).toBe(`Run ${id(6)}`);
    await eventually(() => texts(page, "#tests .test-totals")).toHaveLength(1);
    expect(await inPage(page, `document.querySelectorAll("#tests td.recent").length`)).toBe(0); // nothing failing

    await page.goto(`${server!.url}#/runs/${id(RUNS)}`);
    await eventually(() => texts(page, "#tests td.recent .failing-since")).toEqual([
      `failing since h07 (${RUNS - BREAKS_AT + 1} runs)`,
    ]);
    expect((await strip(page, "#tests td.recent")).titles).toEqual(ids(RUNS, RUNS - 9).map((r) => `${r}: failed`));
  });

  it("shows the strip on failing tests in the compare view too", async () => {
    const page = await open(`#/compare/${id(9)}`);
    await eventually(() => texts(page, "#comparison h3")).toContain("New failures (1)");
    expect(await inPage(page, `document.getElementById("compare-base").value`)).toBe(id(BREAKS_AT - 1));
    expect(await texts(page, "#comparison section:first-of-type thead th")).toContain("Recent runs");
    expect((await strip(page, "#comparison section:first-of-type")).titles.slice(0, 4)).toEqual([
      "h09: failed",
      "h08: failed",
      "h07: failed",
      "h06: passed",
    ]);
    expect(await texts(page, "#comparison .failing-since")).toEqual(["failing since h07 (3 runs)"]);
    await shot(page, "history-compare-strip");
  });
});

describe("flaky and slowest tests, and one test's history", () => {
  it("ranks flaky tests, each linking to its history", async () => {
    const page = await open("#/");
    await page.click("header nav a:text-is('Flaky tests')");
    await eventually(() => texts(page, "#top-tests tr.top-test td:first-child")).toContain("A::flaky");
    expect(await page.locator("main h2").textContent()).toBe("Flaky tests");
    expect(await texts(page, "nav.tabs a[aria-current=page]")).toEqual(["Flaky"]);
    const rows = await inPage<string[][]>(
      page,
      `[...document.querySelectorAll("#top-tests tbody tr")].map((row) => [...row.cells].map((cell) => cell.textContent))`,
    );
    expect(rows[0]!.slice(0, 4)).toEqual(["A::flaky", String(RUNS), "0", "5"]); // key, runs, failures, flaky
    expect(rows[0]![4]).toMatch(/^\d+(\.\d)? %$/);
    expect(rows[0]!.slice(7)).toEqual(["passed", id(RUNS)]);
    expect(rows.map((row) => row[0])).not.toContain("A::steady");
    expect(await texts(page, "#top-tests caption")).toEqual([`Flaky tests of the last ${RUNS + 1} run(s)`]);
    await shot(page, "history-flaky");

    await page.click("#top-tests a:text-is('A::flaky')");
    await eventually(() => hashOf(page)).toBe(historyHref("A::flaky"));
    await eventually(() => texts(page, "#test-history tr.history-run td:first-child")).toHaveLength(RUNS + 1);
    const cells = await strip(page, "#test-history");
    expect(cells.titles[0]).toBe("x21-topic: absent");
    const flakyRuns = ids(RUNS, 1).filter((runId) => isFlaky(Number(runId.slice(1))));
    expect(cells.titles.filter((title) => title.endsWith(": flaky"))).toEqual(flakyRuns.map((r) => `${r}: flaky`));
    expect(await texts(page, "#test-history dt")).toEqual([
      "Class",
      "Name",
      "Runs",
      "Failing since",
      "Last passed",
      "Flake rate",
    ]);
    expect((await texts(page, "#test-history dd")).slice(0, 4)).toEqual([
      "A",
      "flaky",
      `${RUNS + 1} (the last 50 matching)`,
      "not failing in the newest run",
    ]);
    await shot(page, "history-test-flaky");
  });

  it("ranks the slowest tests by mean duration", async () => {
    const page = await open("#/");
    await page.click("header nav a:text-is('Slowest tests')");
    await eventually(() => texts(page, "#top-tests tr.top-test td:first-child")).toHaveLength(5);
    expect(await page.locator("main h2").textContent()).toBe("Slowest tests");
    const first = await texts(page, "#top-tests tbody tr:first-child td");
    // A::slow took 2.1 s … 4 s: 3.05 s on average.
    expect([first[0], first[1], first[5], first[6]]).toEqual(["A::slow", String(RUNS), "3 s", "4 s"]);
    await page.selectOption("#top-window", "10");
    await page.click("#main form.filters button[type=submit]");
    await eventually(() => hashOf(page)).toBe("#/tests/top?by=slow&window=10");
    await eventually(() => texts(page, "#top-tests caption")).toEqual(["Slowest tests of the last 10 run(s)"]);
    await shot(page, "history-slowest");
  });

  it("shows a test's history with labels: failing since, last passed, absent runs", async () => {
    const page = await open(historyHref("A::breaks", "branch=main"));
    await eventually(() => texts(page, "#test-history tr.history-run td:first-child")).toEqual(ids(RUNS, 1));
    const facts = await texts(page, "#test-history dd");
    expect(facts[3]).toBe(`failing since h07 (${RUNS - BREAKS_AT + 1} runs)`);
    expect(facts[4]).toMatch(/^h06 \(/);
    expect(await texts(page, "#test-history tr.history-run:first-child td.test-message")).toEqual([
      `broke in ${id(RUNS)}`,
    ]);

    await page.goto(server!.url + historyHref("A::gone", "branch=main"));
    await eventually(async () => (await strip(page, "#test-history")).titles).toEqual(
      ids(RUNS, 1).map((runId, k) => `${runId}: ${k < RUNS - GONE_AFTER ? "absent" : "passed"}`),
    );
    expect((await texts(page, "#test-history dd"))[4]).toMatch(/^h10 \(/);
    await shot(page, "history-test-gone");
  });
});

it("no page sent a request to another host, and none logged an error (CSP violations included)", () => {
  expect(requested.length).toBeGreaterThan(10);
  const origin = new URL(server!.url).origin;
  const elsewhere = requested.filter((url) => !/^(data|blob):/.test(url) && new URL(url).origin !== origin);
  expect(elsewhere).toEqual([]);
  expect(problems).toEqual([]);
});
