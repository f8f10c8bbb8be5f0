// Logs in the run browser, in Chromium against the built bin's `serve`: a run's stdout and stderr
// with colours, earlier output loaded by Range, a hostile log (HTML, OSC/CSI attacks, NUL, invalid
// UTF-8), and a live job followed from its first line to its end.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../helpers/chromium.ts";
import { assertBuilt, ROOT, startServe, type Served } from "../helpers/bin.ts";
import { tempDir, writeCurrentRun, writeFile } from "../helpers/runs.ts";

const SHOTS = join(ROOT, "test-results", "screenshots");
const PATIENCE_MS = 20_000;
const LOGS = [
  { id: "stdout", path: "logs/stdout.log" },
  { id: "stderr", path: "logs/stderr.log" },
];
const LONG_LINES = 3000;
const HOSTILE = Buffer.concat([
  Buffer.from('<img src="/hostile-beacon" onerror="window.top.HOSTILE = 1"><script>window.HOSTILE = 2</script>\n'),
  Buffer.from("\x1b]0;HOSTILE TITLE\x07\x1b]8;;https://hostile.invalid/steal\x07click me\x1b]8;;\x07\n"),
  Buffer.from("\x1b[2J\x1b[H\x1b[10A\x1b[?1049h\x1bP+q\x1b\\\x1b[31mred & <b>bold?</b>\x1b[0m\n"),
  Buffer.from([0x6e, 0x75, 0x6c, 0x3a, 0x00, 0x20, 0xff, 0xfe, 0x0a]),
  Buffer.from("10%\r50%\r100%\n"),
]);
const LONG_JOB = {
  command: ["sh", "-c", 'i=0; while [ $i -lt 60 ]; do i=$((i+1)); printf "row %s\\n" $i $i $i $i $i; sleep 0.1; done'],
};
const CHATTY = {
  command: ["sh", "-c", 'for i in 1 2 3 4 5 6; do echo "line $i"; sleep 0.3; done; printf "\\033[32mdone\\033[0m\\n"'],
};

let browser: Browser;
let server: Served;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  assertBuilt();
  mkdirSync(SHOTS, { recursive: true });
  const cwd = tempDir("gb-logs-browser-");
  const runsDir = join(cwd, "runs");
  const plain = writeCurrentRun(runsDir, "colours", { reports: [], extra: { logs: LOGS } });
  writeFile(join(plain, "logs", "stdout.log"), "plain line\n\x1b[31mred line\x1b[0m\n\x1b[1;32mbold green\x1b[0m\n");
  writeFile(join(plain, "logs", "stderr.log"), "a warning on stderr\n");
  const long = writeCurrentRun(runsDir, "long", { reports: [], extra: { logs: LOGS } });
  writeFile(join(long, "logs", "stdout.log"), Array.from({ length: LONG_LINES }, (_, i) => `line ${i}\n`).join(""));
  const hostile = writeCurrentRun(runsDir, "hostile", { reports: [], extra: { logs: LOGS } });
  writeFile(join(hostile, "logs", "stdout.log"), HOSTILE);
  writeFileSync(
    join(cwd, "guide-board.config.json"),
    JSON.stringify({ runsDir: "runs", guides: { chatty: CHATTY, long: LONG_JOB } }),
  );
  const started = await Promise.allSettled([
    launchChromium().then((launched) => (browser = launched)),
    startServe([], { cwd, timeoutMs: PATIENCE_MS }).then((served) => (server = served)),
  ]);
  for (const result of started) if (result.status === "rejected") throw result.reason;
}, 30_000);

afterEach(async () => {
  for (const context of contexts.splice(0)) await context.close();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop("SIGTERM");
});

async function openTab(hash: string) {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  contexts.push(context);
  const requests: string[] = [];
  context.on("request", (request) => requests.push(request.url()));
  const page = await context.newPage();
  await page.goto(server.url + hash);
  return { page, requests };
}

const inPage = <T>(page: Page, expression: string) => page.evaluate<T>(expression);
const eventually = <T>(read: () => T, timeout = 8000) => expect.poll(read, { timeout, interval: 50 });
const logText = (page: Page) => inPage<string | null>(page, `document.querySelector("pre.log")?.textContent ?? null`);

describe("logs on the run page", () => {
  it("shows stdout with its colours, and stderr on its tab", async () => {
    const { page } = await openTab("#/runs/colours");
    await eventually(() => logText(page)).toBe("plain line\nred line\nbold green\n");
    expect(await inPage(page, `document.querySelector("pre.log .ansi-red-fg")?.textContent`)).toBe("red line");
    expect(await inPage(page, `document.querySelector("pre.log .ansi-green-fg.ansi-bold")?.textContent`)).toBe(
      "bold green",
    );
    expect(await inPage(page, `document.querySelector("pre.log [style]")`)).toBeNull();
    await page.click("text=stderr");
    await eventually(() => logText(page)).toBe("a warning on stderr\n");
    await page.screenshot({ path: join(SHOTS, "logs-colours.png"), fullPage: true });
  });

  it("shows the tail of a long log, and loads earlier output on demand by Range", async () => {
    const { page } = await openTab("#/runs/long");
    await eventually(async () => (await logText(page))?.split("\n")[0]).toBe(`line ${LONG_LINES - 500}`);
    while (!(await inPage<boolean>(page, `document.querySelector("button.earlier").hidden`))) {
      await page.click("button.earlier");
      await eventually(() => inPage(page, `document.querySelector("button.earlier").disabled`)).toBe(false);
    }
    const text = (await logText(page))!;
    expect(text).toBe(Array.from({ length: LONG_LINES }, (_, i) => `line ${i}\n`).join(""));
  });

  it("renders a hostile log as inert text: no markup, no title change, no link, no request", async () => {
    const { page, requests } = await openTab("#/runs/hostile");
    await eventually(async () => (await logText(page)) ?? "").toContain("100%");
    const text = (await logText(page))!;
    expect(text).toContain('<img src="/hostile-beacon" onerror="window.top.HOSTILE = 1"><script>');
    expect(text).toContain("red & <b>bold?</b>");
    expect(text).toContain("nul:\u2400 \ufffd\ufffd");
    expect(text).not.toContain("10%");
    expect(text).not.toContain("HOSTILE TITLE");
    expect(await inPage(page, `document.querySelector("pre.log").querySelectorAll("img, script, a, b").length`)).toBe(
      0,
    );
    expect(await inPage(page, `document.querySelector("pre.log .ansi-red-fg")?.textContent`)).toBe(
      "red & <b>bold?</b>",
    );
    expect(await inPage(page, "window.HOSTILE")).toBeUndefined();
    expect(await page.title()).toBe("hostile · guide-board");
    expect(requests.filter((url) => /hostile/.test(url) && !/retained-runs\/hostile/.test(url))).toEqual([]);
    await page.screenshot({ path: join(SHOTS, "logs-hostile.png"), fullPage: true });
  });
});

describe("a live job", () => {
  it("is followed from its first line to its end", async () => {
    const response = await fetch(`${server.url}runs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ guide: "chatty" }),
    });
    const job = (await response.json()) as { jobId: string; runId: string };
    const { page } = await openTab(`#/jobs/${job.jobId}`);
    await eventually(async () => (await logText(page)) ?? "").toContain("line 2");
    expect(await inPage(page, `document.querySelector("pre.log").hasAttribute("data-ended")`)).toBe(false);
    await eventually(() => inPage(page, `document.querySelector("pre.log").hasAttribute("data-ended")`), 15_000).toBe(
      true,
    );
    expect(await logText(page)).toBe("line 1\nline 2\nline 3\nline 4\nline 5\nline 6\ndone\n");
    expect(await inPage(page, `document.querySelector("pre.log .ansi-green-fg")?.textContent`)).toBe("done");
    await page.click("text=Open its run");
    await eventually(() => logText(page)).toBe("line 1\nline 2\nline 3\nline 4\nline 5\nline 6\ndone\n");
    await page.screenshot({ path: join(SHOTS, "logs-live-job.png"), fullPage: true });
  });

  it("stops following when the user scrolls up, and follows again at the bottom", async () => {
    const response = await fetch(`${server.url}runs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ guide: "long" }),
    });
    const job = (await response.json()) as { jobId: string };
    const { page } = await openTab(`#/jobs/${job.jobId}`);
    const overflowing = `(() => { const pre = document.querySelector("pre.log"); return pre.scrollHeight > pre.clientHeight + 50; })()`;
    await eventually(() => inPage(page, overflowing), 15_000).toBe(true);
    await inPage(page, `document.querySelector("pre.log").scrollTop = 0`);
    const rows = async () => ((await logText(page)) ?? "").split("\n").length;
    const before = await rows();
    await eventually(rows, 10_000).toBeGreaterThan(before + 10);
    expect(await inPage(page, `document.querySelector("pre.log").scrollTop`)).toBe(0);
    await inPage(
      page,
      `(() => { const pre = document.querySelector("pre.log"); pre.scrollTop = pre.scrollHeight; })()`,
    );
    const atBottom = `(() => { const pre = document.querySelector("pre.log"); return pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 8; })()`;
    const seen = await rows();
    await eventually(rows, 10_000).toBeGreaterThan(seen + 5);
    expect(await inPage(page, atBottom)).toBe(true);
    await eventually(() => inPage(page, `document.querySelector("pre.log").hasAttribute("data-ended")`), 20_000).toBe(
      true,
    );
    expect((await logText(page))!.split("\n").filter(Boolean)).toHaveLength(300);
  });
});
