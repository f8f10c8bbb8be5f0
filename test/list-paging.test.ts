// `runs list` pages like `GET /retained-runs` (same default and maximum limit, nextCursor, a
// "next page" hint), and `runs list --all` streams every run from iterateRetainedRuns.
import { EventEmitter } from "node:events";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { H3 } from "h3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../cli/index.ts";
import { createGuideBoardApp } from "../adapters/h3.ts";
import { DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT } from "../src/_internal.ts";
import {
  createRunIndex,
  iterateRetainedRuns,
  listRetainedRuns,
  toJSONText,
  type Diagnostic,
  type RetainedRun,
  type RunIndex,
} from "../src/index.ts";
import { runCli } from "./helpers/cli.ts";
import {
  makeRunsDir,
  writeCurrentRun,
  writeIncompleteRun,
  writeLegacyRun,
  writeManyRuns,
  writeSummaryText,
} from "./helpers/runs.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const RUNS = 130;
const STATUSES = ["passed", "failed", "errored", "cancelled"] as const;

/**
 * More runs than one default page: varied statuses and labels, start times spread over two years
 * with ties (the run id breaks them), a tenth of them legacy, plus two folders that are diagnostics.
 */
function writeVariedRuns(runsDir: string): void {
  for (let i = 0; i < RUNS; i++) {
    const runId = `r-${String((i * 37) % RUNS).padStart(3, "0")}`; // ids not in start-time order
    const day = (i * 53) % 700;
    const startedAt = new Date(Date.UTC(2025, 0, 1) + day * 86_400_000 + (i % 4 === 0 ? 0 : i * 1000)).toISOString();
    const status = STATUSES[(i * 7) % 4]!;
    if (i % 10 === 0) writeLegacyRun(runsDir, runId, { status, startedAt });
    else {
      const labels: Record<string, string> = { team: i % 3 === 0 ? "web" : "api" };
      if (i % 2 === 0) labels.env = "ci";
      if (i % 5 === 0) labels.note = "bidi \u202e and \u2028 line";
      writeCurrentRun(runsDir, runId, { status, startedAt, labels, reports: [], artifacts: {} });
    }
  }
  writeIncompleteRun(runsDir, "in-progress");
  writeSummaryText(runsDir, "broken", "{nope");
}

/** One filter set as CLI arguments and as a query string. */
type Filter = [args: string[], search: string];

const FILTERS: Filter[] = [
  [[], ""],
  [["--status", "failed"], "status=failed"],
  [["--status", "passed", "--status", "errored"], "status=passed&status=errored"],
  [["--since", "2025-06-01T00:00:00Z"], "since=2025-06-01T00%3A00%3A00Z"],
  [["--until", "2026-03-01T00:00:00Z"], "until=2026-03-01T00%3A00%3A00Z"],
  [
    ["--since", "2025-03-01T00:00:00Z", "--until", "2026-06-01T00:00:00+02:00"],
    "since=2025-03-01T00%3A00%3A00Z&until=2026-06-01T00%3A00%3A00%2B02%3A00",
  ],
  [["--label", "team=api"], "label=team%3Dapi"],
  [["--label", "team=api", "--label", "env=ci"], "label=team%3Dapi&label=env%3Dci"],
  [
    ["--status", "failed", "--status", "cancelled", "--label", "env=ci", "--since", "2025-02-01T00:00:00Z"],
    "status=failed&status=cancelled&label=env%3Dci&since=2025-02-01T00%3A00%3A00Z",
  ],
  [
    ["--label", "team=web", "--until", "2026-09-01T00:00:00Z", "--status", "passed"],
    "label=team%3Dweb&until=2026-09-01T00%3A00%3A00Z&status=passed",
  ],
  [["--label", "nobody=here"], "label=nobody%3Dhere"],
];

const LIMITS = [undefined, 1, 7, DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT];

const cli = (args: string[]) => runCli(args, { cwd: ROOT });

async function body(app: H3, path: string): Promise<string> {
  const response = await app.request(path);
  expect(response.status, path).toBe(200);
  return response.text();
}

const ids = (text: string) => (JSON.parse(text) as { runs: RetainedRun[] }).runs.map((run) => run.runId);

describe("runs list --json and GET /retained-runs answer the same bytes with more runs than a page", () => {
  const { runsDir } = makeRunsDir();
  writeVariedRuns(runsDir);
  let index: RunIndex;
  const setups: [name: string, app: () => H3][] = [
    ["stateless", () => createGuideBoardApp({ runsDir })],
    ["with a run index", () => createGuideBoardApp({ runsDir, index })],
  ];
  beforeAll(async () => {
    index = createRunIndex({ runsDir, revalidateMs: 0, watch: false });
    await index.ready();
  });
  afterAll(() => index.close());

  it("at their defaults: the first 100 runs and a cursor, then the rest", async () => {
    const cliPage = await cli(["runs", "list", "--runs-dir", runsDir, "--json"]);
    expect(cliPage.code).toBe(0);
    const page = JSON.parse(cliPage.stdout) as { runs: RetainedRun[]; nextCursor?: string; diagnostics: Diagnostic[] };
    expect(page.runs).toHaveLength(DEFAULT_LIST_LIMIT);
    expect(page.nextCursor).toEqual(expect.any(String));
    expect(page.diagnostics.map((d) => d.kind).sort()).toEqual(["corrupt-summary", "incomplete"]);
    expect(cliPage.stdout).toBe(toJSONText(await listRetainedRuns({ runsDir, limit: DEFAULT_LIST_LIMIT })));
    const rest = await cli(["runs", "list", "--runs-dir", runsDir, "--json", "--cursor", page.nextCursor!]);
    expect(ids(rest.stdout)).toHaveLength(RUNS - DEFAULT_LIST_LIMIT);
    expect(JSON.parse(rest.stdout).nextCursor).toBeUndefined();
    for (const [name, app] of setups) {
      expect(await body(app(), "/retained-runs"), name).toBe(cliPage.stdout);
      expect(await body(app(), `/retained-runs?cursor=${page.nextCursor}`), name).toBe(rest.stdout);
    }
  });

  it.each(setups)("for every filter, limit and the cursor of the first page (%s)", async (_name, makeApp) => {
    const app = makeApp();
    let compared = 0;
    let paged = 0;
    for (const [filterArgs, search] of FILTERS) {
      for (const limit of LIMITS) {
        const limitArgs = limit === undefined ? [] : ["--limit", String(limit)];
        const params = [search, limit === undefined ? "" : `limit=${limit}`].filter(Boolean);
        const first = await cli(["runs", "list", "--runs-dir", runsDir, "--json", ...filterArgs, ...limitArgs]);
        const path = `/retained-runs${params.length ? `?${params.join("&")}` : ""}`;
        expect(first.code, path).toBe(0);
        expect(await body(app, path), path).toBe(first.stdout);
        compared++;
        const cursor = (JSON.parse(first.stdout) as { nextCursor?: string }).nextCursor;
        if (cursor === undefined) continue;
        const second = await cli([
          "runs",
          "list",
          "--runs-dir",
          runsDir,
          "--json",
          ...filterArgs,
          ...limitArgs,
          "--cursor",
          cursor,
        ]);
        const nextPath = `/retained-runs?${[...params, `cursor=${cursor}`].join("&")}`;
        expect(await body(app, nextPath), nextPath).toBe(second.stdout);
        expect(ids(second.stdout)[0]).not.toBe(ids(first.stdout).at(-1));
        paged++;
      }
    }
    expect(compared).toBe(FILTERS.length * LIMITS.length);
    expect(paged).toBeGreaterThan(FILTERS.length); // the default page was not the whole answer more than once
  });

  it("both take a limit up to MAX_LIST_LIMIT and refuse one more", async () => {
    const app = createGuideBoardApp({ runsDir });
    const max = await cli(["runs", "list", "--runs-dir", runsDir, "--json", "--limit", String(MAX_LIST_LIMIT)]);
    expect(max.stdout).toBe(await body(app, `/retained-runs?limit=${MAX_LIST_LIMIT}`));
    const over = String(MAX_LIST_LIMIT + 1);
    const refused = await cli(["runs", "list", "--runs-dir", runsDir, "--json", "--limit", over]);
    expect(refused.code).toBe(2);
    expect(JSON.parse(refused.stdout)).toEqual({
      error: { code: "INVALID_OPTIONS", message: `--limit takes a whole number from 1 to ${MAX_LIST_LIMIT}` },
    });
    const response = await app.request(`/retained-runs?limit=${over}`);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: {
        code: "INVALID_OPTIONS",
        message: `Invalid query parameter limit: expected a whole number from 1 to ${MAX_LIST_LIMIT}.`,
      },
    });
  });

  it("--all --json is the page body with every run and no nextCursor, for every filter", async () => {
    const app = createGuideBoardApp({ runsDir });
    for (const [filterArgs, search] of FILTERS) {
      const all = await cli(["runs", "list", "--runs-dir", runsDir, "--all", "--json", ...filterArgs]);
      expect(all.code).toBe(0);
      expect(all.stderr).toBe("");
      expect(all.stdout).toBe(await body(app, `/retained-runs?${search}${search ? "&" : ""}limit=${MAX_LIST_LIMIT}`));
      expect(JSON.parse(all.stdout)).not.toHaveProperty("nextCursor");
    }
    expect(ids((await cli(["runs", "list", "--runs-dir", runsDir, "--all", "--json"])).stdout)).toHaveLength(RUNS);
  });

  it("the table: 100 rows, then a 'next page' line whose cursor continues the listing", async () => {
    const first = await cli(["runs", "list", "--runs-dir", runsDir]);
    expect(first.code).toBe(0);
    const lines = first.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(1 + DEFAULT_LIST_LIMIT + 1);
    const hint = /^next page: --cursor ([A-Za-z0-9_-]+)$/.exec(lines.at(-1)!);
    expect(hint).not.toBeNull();
    expect(first.stderr).toMatch(/^Skipped 2 folder\(s\): .* \(details with --json\)\.\n$/);
    const second = await cli(["runs", "list", "--runs-dir", runsDir, "--cursor", hint![1]!]);
    const rows = (out: string) =>
      out
        .trimEnd()
        .split("\n")
        .slice(1)
        .filter((line) => !line.startsWith("next page:"))
        .map((line) => line.split(" ", 1)[0]);
    expect(second.stdout).not.toContain("next page:");
    const all = await cli(["runs", "list", "--runs-dir", runsDir, "--all"]);
    expect(all.stdout).not.toContain("next page:");
    expect(rows(all.stdout)).toEqual([...rows(first.stdout), ...rows(second.stdout)]);
    expect(rows(all.stdout)).toHaveLength(RUNS);
    expect(all.stderr).toBe(first.stderr);
  });
});

describe("runs list --all", () => {
  it("prints bytes identical to toJSONText of the whole list, terminal-unsafe characters escaped", async () => {
    const { root, runsDir } = makeRunsDir();
    writeCurrentRun(runsDir, "hostile", {
      startedAt: "2026-01-02T00:00:00Z",
      labels: { note: "\u001b[31m\u009b2J\u202etxt\u2028\u2029\u200b\ufeff\u061c\u007f", "k\u0007": "\ud83d\ude00" },
      command: ["echo", '"quoted" \\ back'],
    });
    writeLegacyRun(runsDir, "legacy", { startedAt: "2025-01-01T00:00:00Z", status: "failed" });
    writeManyRuns(runsDir, 3);
    writeSummaryText(runsDir, "broken", "{\u2028");
    const missing = join(root, "missing");
    const { runs, diagnostics } = await listRetainedRuns({ runsDir: [runsDir, missing] });
    const all = await cli(["runs", "list", "--runs-dir", runsDir, "--runs-dir", missing, "--all", "--json"]);
    expect(all.code).toBe(0);
    expect(all.stdout).toBe(toJSONText({ runs, diagnostics }));
    expect(runs).toHaveLength(5);
    expect(diagnostics.map((d) => d.kind)).toEqual(expect.arrayContaining(["runs-dir-missing", "corrupt-summary"]));
    expect(all.stdout).toContain("\\u202e");
    expect(all.stdout).not.toMatch(/[\u2028\u2029\u202e\u009b]/);
    // A short table is the same as a page's table, without the hint.
    const table = await cli(["runs", "list", "--runs-dir", runsDir, "--all"]);
    const page = await cli(["runs", "list", "--runs-dir", runsDir]);
    expect(table.stdout).toBe(page.stdout);
    expect(table.stdout).not.toMatch(/[\u001b\u2028\u202e\u009b]/);
  });

  it("prints an empty list for an empty runs directory, like the HTTP route", async () => {
    const { runsDir } = makeRunsDir();
    const json = await cli(["runs", "list", "--runs-dir", runsDir, "--all", "--json"]);
    expect(json).toEqual({ code: 0, stdout: toJSONText({ runs: [], diagnostics: [] }), stderr: "" });
    expect(json.stdout).toBe(await body(createGuideBoardApp({ runsDir }), "/retained-runs"));
    const table = await cli(["runs", "list", "--runs-dir", runsDir, "--all"]);
    expect(table).toEqual({ code: 0, stdout: `No retained runs in ${runsDir}.\n`, stderr: "" });
  });

  it.each([
    ["--limit", "5"],
    ["--cursor", "abc"],
  ])("refuses --all with %s (exit 2)", async (option, value) => {
    const { runsDir } = makeRunsDir();
    for (const json of [false, true]) {
      const result = await cli([
        "runs",
        "list",
        "--runs-dir",
        runsDir,
        "--all",
        option,
        value,
        ...(json ? ["--json"] : []),
      ]);
      expect(result.code).toBe(2);
      expect(result.stderr).toBe(
        "guide-board: --all prints every run: it takes no --limit or --cursor\n" +
          "Run 'guide-board runs list --help' for usage.\n",
      );
      if (json) expect(JSON.parse(result.stdout)).toMatchObject({ error: { code: "INVALID_OPTIONS" } });
      else expect(result.stdout).toBe("");
    }
  });

  it("prints a bad filter as an error body before any listing (exit 2)", async () => {
    const { runsDir } = makeRunsDir();
    writeManyRuns(runsDir, 2);
    for (const filter of [
      ["--status", "exploded"],
      ["--since", "nope"],
      ["--label", "novalue"],
    ]) {
      const result = await cli(["runs", "list", "--runs-dir", runsDir, "--all", "--json", ...filter]);
      expect(result.code).toBe(2);
      expect(JSON.parse(result.stdout)).toMatchObject({ error: { code: "INVALID_OPTIONS" } });
    }
  });

  it("writes in chunks, waits for a full stream to drain, and stops when the reader goes away", async () => {
    const { runsDir } = makeRunsDir();
    writeManyRuns(runsDir, 400, (i) => ({ padding: "x".repeat(200 + (i % 7)) }));
    const expected = toJSONText(await listRetainedRuns({ runsDir, limit: MAX_LIST_LIMIT }));

    // A stream whose buffer is always full: it drains a moment after each write.
    const stream = Object.assign(new EventEmitter(), {
      chunks: [] as string[],
      waiting: false,
      write(text: string) {
        expect(stream.waiting).toBe(false); // never written to before it drained
        stream.chunks.push(text);
        stream.waiting = true;
        setImmediate(() => {
          stream.waiting = false;
          stream.emit("drain");
        });
        return false;
      },
    });
    let stderr = "";
    const code = await main({
      args: ["runs", "list", "--runs-dir", runsDir, "--all", "--json"],
      stdout: stream,
      stderr: { write: (text: string) => (stderr += text) },
      env: {},
      cwd: ROOT,
    });
    expect([code, stderr]).toEqual([0, ""]);
    expect(stream.chunks.join("")).toBe(expected);
    expect(stream.chunks.length).toBeGreaterThan(1);
    for (const chunk of stream.chunks) expect(chunk.length).toBeLessThan(70 * 1024);
    expect(stream.listenerCount("drain") + stream.listenerCount("error") + stream.listenerCount("close")).toBe(0);

    // A reader that closes after the first chunk (`| head`): nothing more is written, exit 0.
    const closing = Object.assign(new EventEmitter(), {
      chunks: [] as string[],
      write(text: string) {
        closing.chunks.push(text);
        setImmediate(() => closing.emit("close"));
        return false;
      },
    });
    const stopped = await main({
      args: ["runs", "list", "--runs-dir", runsDir, "--all"],
      stdout: closing,
      stderr: { write: () => true },
      env: {},
      cwd: ROOT,
    });
    expect(stopped).toBe(0);
    expect(closing.chunks).toHaveLength(1);
    expect(closing.chunks[0]!.startsWith("RUN ")).toBe(true);
  });
});

describe("iterateRetainedRuns", () => {
  it("yields every matching run in listing order, and reports skipped folders", async () => {
    const { runsDir } = makeRunsDir();
    writeVariedRuns(runsDir);
    const diagnostics: Diagnostic[] = [];
    const seen: RetainedRun[] = [];
    for await (const run of iterateRetainedRuns({ runsDir, onDiagnostic: (d) => diagnostics.push(d) })) seen.push(run);
    const whole = await listRetainedRuns({ runsDir, limit: MAX_LIST_LIMIT });
    expect(seen).toEqual(whole.runs);
    expect(diagnostics).toEqual(whole.diagnostics);
    const filtered: string[] = [];
    for await (const run of iterateRetainedRuns({ runsDir, status: ["failed", "errored"], label: "team=api" }))
      filtered.push(run.runId);
    const page = await listRetainedRuns({ runsDir, status: ["failed", "errored"], label: "team=api", limit: 1000 });
    expect(filtered).toEqual(page.runs.map((run) => run.runId));
    expect(filtered.length).toBeGreaterThan(5);
  });

  it("gives pages of any size, built from the scan's own reads, the very runs it streams", async () => {
    const { runsDir } = makeRunsDir();
    writeVariedRuns(runsDir);
    const seen: RetainedRun[] = [];
    for await (const run of iterateRetainedRuns({ runsDir })) seen.push(run); // each summary read again
    for (const limit of [1, 3, 7, 64]) {
      const paged: RetainedRun[] = [];
      let cursor: string | undefined;
      do {
        const page = await listRetainedRuns({ runsDir, limit, cursor });
        paged.push(...page.runs);
        cursor = page.nextCursor;
      } while (cursor);
      expect(paged, `limit ${limit}`).toEqual(seen);
    }
  });

  it("reports a run that vanished after the scan instead of yielding it", async () => {
    const { runsDir } = makeRunsDir();
    const written = writeManyRuns(runsDir, 300).reverse(); // newest first, the listing order
    const diagnostics: Diagnostic[] = [];
    const seen: string[] = [];
    for await (const run of iterateRetainedRuns({ runsDir, onDiagnostic: (d) => diagnostics.push(d) })) {
      if (seen.length === 0) rmSync(join(runsDir, written[250]!), { recursive: true });
      seen.push(run.runId);
    }
    expect(seen).toEqual(written.filter((_, i) => i !== 250));
    expect(diagnostics).toMatchObject([{ entry: written[250], kind: "vanished" }]);
  });

  it("throws INVALID_OPTIONS at once for bad options, and ignores a limit", async () => {
    expect(() => iterateRetainedRuns({ runsDir: "" })).toThrow(expect.objectContaining({ code: "INVALID_OPTIONS" }));
    expect(() => iterateRetainedRuns({ runsDir: "runs", status: "exploded" as "passed" })).toThrow(
      expect.objectContaining({ code: "INVALID_OPTIONS" }),
    );
    expect(() => iterateRetainedRuns({ runsDir: "runs", onDiagnostic: 3 as never })).toThrow(
      expect.objectContaining({ code: "INVALID_OPTIONS" }),
    );
    const { runsDir } = makeRunsDir();
    writeManyRuns(runsDir, 4);
    const seen: string[] = [];
    for await (const run of iterateRetainedRuns({ runsDir, limit: 1 } as never)) seen.push((run as RetainedRun).runId);
    expect(seen).toHaveLength(4);
  });
});
