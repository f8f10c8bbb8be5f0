import { symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { H3 } from "h3";
import { describe, expect, it } from "vitest";
import { createGuideBoardApp } from "../adapters/h3.ts";
import { toJSONText } from "../src/index.ts";
import {
  makeRunsDir,
  writeCurrentRun,
  writeIncompleteRun,
  writeLegacyRun,
  writeManyRuns,
  writeSummaryText,
} from "./helpers/runs.ts";
import { runCli } from "./helpers/cli.ts";
import { EXAMPLES, FAILED, INCOMPLETE, LEGACY, PASSED } from "./helpers/examples.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** The CLI's `--json` stdout and exit code for `args` on `runsDir`. */
async function cliJson(runsDir: string, args: string[]): Promise<{ code: number; stdout: string }> {
  const { code, stdout } = await runCli([...args, "--json", "--runs-dir", runsDir], { cwd: ROOT });
  return { code, stdout };
}

async function http(app: H3, path: string): Promise<{ status: number; text: string }> {
  const response = await app.request(path);
  return { status: response.status, text: await response.text() };
}

/** Exit code the CLI gives where HTTP answers `status`. */
const EXIT_BY_STATUS: Record<number, number> = { 200: 0, 400: 2, 403: 2, 404: 1, 422: 1 };

/** A CLI command line and the HTTP path that must answer the same bytes. */
type Twin = [args: string[], path: string, status: number];

async function expectTwins(runsDir: string, twins: Twin[]): Promise<void> {
  const app = createGuideBoardApp({ runsDir });
  for (const [args, path, status] of twins) {
    const cli = await cliJson(runsDir, args);
    const answer = await http(app, path);
    expect(answer.status, path).toBe(status);
    expect(answer.text, `${args.join(" ")} ↔ ${path}`).toBe(cli.stdout);
    expect(cli.code, args.join(" ")).toBe(EXIT_BY_STATUS[status]);
    expect(answer.text.endsWith("}\n")).toBe(true);
  }
}

/** Follows nextCursor through both surfaces page by page; returns the run ids seen. */
async function walkBoth(runsDir: string, filters: string[], search: string, limit: number): Promise<string[]> {
  const app = createGuideBoardApp({ runsDir });
  const ids: string[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 50; page++) {
    const cli = await cliJson(runsDir, [
      "runs",
      "list",
      ...filters,
      "--limit",
      String(limit),
      ...(cursor ? ["--cursor", cursor] : []),
    ]);
    const path = `/retained-runs?${search}${search ? "&" : ""}limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`;
    const answer = await http(app, path);
    expect(answer.status).toBe(200);
    expect(answer.text).toBe(cli.stdout);
    const body = JSON.parse(answer.text) as { runs: { runId: string }[]; nextCursor?: string };
    ids.push(...body.runs.map((run) => run.runId));
    cursor = body.nextCursor;
    if (cursor === undefined) return ids;
  }
  throw new Error("pagination did not end");
}

describe("HTTP and CLI --json print the same bytes on examples/runs", () => {
  it("list, with filters and an explicit limit", async () => {
    await expectTwins(EXAMPLES, [
      [["runs", "list"], "/retained-runs", 200],
      [["runs", "list", "--limit", "100"], "/retained-runs", 200],
      [["runs", "list", "--limit", "100"], "/retained-runs?limit=100", 200],
      [["runs", "list", "--limit", "1"], "/retained-runs?limit=1", 200],
      [["runs", "list", "--limit", "10", "--status", "failed"], "/retained-runs?limit=10&status=failed", 200],
      [
        ["runs", "list", "--limit", "10", "--status", "passed", "--status", "failed"],
        "/retained-runs?limit=10&status=passed&status=failed",
        200,
      ],
      [["runs", "list", "--limit", "10", "--status", "cancelled"], "/retained-runs?limit=10&status=cancelled", 200],
      [
        ["runs", "list", "--limit", "10", "--label", "suite=unit", "--label", "branch=main"],
        "/retained-runs?limit=10&label=suite%3Dunit&label=branch%3Dmain",
        200,
      ],
      [
        ["runs", "list", "--limit", "10", "--since", "2026-01-01T00:00:00Z", "--until", "2026-11-21T00:00:00Z"],
        "/retained-runs?limit=10&since=2026-01-01T00%3A00%3A00Z&until=2026-11-21T00%3A00%3A00Z",
        200,
      ],
    ]);
  });

  it("list, page by page through nextCursor", async () => {
    expect(await walkBoth(EXAMPLES, [], "", 1)).toEqual([FAILED, PASSED, LEGACY]);
    expect(await walkBoth(EXAMPLES, ["--status", "passed"], "status=passed", 1)).toEqual([PASSED, LEGACY]);
  });

  it("latest, with and without filters", async () => {
    await expectTwins(EXAMPLES, [
      [["runs", "latest"], "/retained-runs/latest", 200],
      [["runs", "latest", "--status", "passed"], "/retained-runs/latest?status=passed", 200],
      [
        ["runs", "latest", "--status", "failed", "--status", "passed"],
        "/retained-runs/latest?status=failed&status=passed",
        200,
      ],
      [
        ["runs", "latest", "--label", "branch=feature/login"],
        "/retained-runs/latest?label=branch%3Dfeature%2Flogin",
        200,
      ],
      [["runs", "latest", "--until", "2026-01-01T00:00:00Z"], "/retained-runs/latest?until=2026-01-01T00:00:00Z", 200],
    ]);
  });

  it("show, reports and manifest for current and legacy runs", async () => {
    const twins: Twin[] = [];
    for (const runId of [PASSED, FAILED, LEGACY]) {
      twins.push(
        [["runs", "show", runId], `/retained-runs/${runId}`, 200],
        [["runs", "reports", runId], `/retained-runs/${runId}/reports`, 200],
        [["runs", "manifest", runId], `/retained-runs/${runId}/artifact-manifest`, 200],
      );
    }
    await expectTwins(EXAMPLES, twins);
  });

  it("the error bodies: not found, incomplete, invalid id, invalid cursor and options", async () => {
    await expectTwins(EXAMPLES, [
      [["runs", "show", "no-such-run"], "/retained-runs/no-such-run", 404],
      [["runs", "reports", "no-such-run"], "/retained-runs/no-such-run/reports", 404],
      [["runs", "manifest", "no-such-run"], "/retained-runs/no-such-run/artifact-manifest", 404],
      [["runs", "show", INCOMPLETE], `/retained-runs/${INCOMPLETE}`, 404],
      [["runs", "reports", INCOMPLETE], `/retained-runs/${INCOMPLETE}/reports`, 404],
      [["runs", "manifest", INCOMPLETE], `/retained-runs/${INCOMPLETE}/artifact-manifest`, 404],
      [["runs", "show", ".hidden"], "/retained-runs/.hidden", 400],
      [["runs", "manifest", ".hidden"], "/retained-runs/.hidden/artifact-manifest", 400],
      [["runs", "list", "--limit", "5", "--cursor", "bm9wZQ"], "/retained-runs?limit=5&cursor=bm9wZQ", 400],
      [["runs", "list", "--limit", "5", "--since", "not-a-time"], "/retained-runs?limit=5&since=not-a-time", 400],
    ]);
  });

  it("latest with no match: the CLI prints null (exit 1) where HTTP answers 404 RUN_NOT_FOUND", async () => {
    const cli = await cliJson(EXAMPLES, ["runs", "latest", "--status", "errored"]);
    expect(cli).toEqual({ code: 1, stdout: toJSONText(null) });
    const answer = await http(createGuideBoardApp({ runsDir: EXAMPLES }), "/retained-runs/latest?status=errored");
    expect(answer.status).toBe(404);
    expect(JSON.parse(answer.text)).toEqual({ error: { code: "RUN_NOT_FOUND", message: expect.any(String) } });
  });
});

describe("HTTP and CLI --json print the same bytes on a helper-built runs dir", () => {
  function buildRunsDir(): string {
    const { root, runsDir } = makeRunsDir();
    writeManyRuns(runsDir, 12, (i) => ({ team: i % 2 === 0 ? "web" : "api" }));
    writeCurrentRun(runsDir, "tagged", {
      status: "errored",
      startedAt: "2026-03-01T00:00:00Z",
      labels: { team: "web", env: "ci" },
      reports: [
        { id: "html", path: "reports/index.html", content: "<p>hi</p>", title: "HTML" },
        { id: "gone", path: "reports/gone.txt", content: null },
        { id: "up", path: "../../canary.txt", content: null },
      ],
      artifacts: { "out/a.json": "{}", "out/missing.bin": null },
    });
    writeLegacyRun(runsDir, "old", { startedAt: "2024-06-01T00:00:00Z", reports: { "reports/junit.xml": "<x/>" } });
    writeCurrentRun(runsDir, "undeclared", { startedAt: "2025-06-01T00:00:00Z", manifest: "undeclared" });
    writeCurrentRun(runsDir, "missing-manifest", { startedAt: "2025-06-02T00:00:00Z", manifest: "omit-file" });
    const corrupt = writeCurrentRun(runsDir, "corrupt-manifest", { startedAt: "2025-06-03T00:00:00Z" });
    writeFileSync(join(corrupt, "assessment-package", "artifact-manifest.json"), "{not json");
    writeCurrentRun(runsDir, "unsafe-manifest", {
      startedAt: "2025-06-04T00:00:00Z",
      extra: { artifactManifest: "../elsewhere/artifact-manifest.json" },
    });
    const linked = writeCurrentRun(runsDir, "linked", {
      startedAt: "2025-06-05T00:00:00Z",
      artifacts: { "out/link.txt": null, "out/real.txt": "real" },
    });
    writeFileSync(join(root, "canary.txt"), "CANARY");
    symlinkSync(join(root, "canary.txt"), join(linked, "assessment-package", "out", "link.txt"));
    writeIncompleteRun(runsDir, "in-progress");
    writeSummaryText(runsDir, "broken", "{nope");
    return runsDir;
  }
  const runsDir = buildRunsDir();

  it("list, with filters, limits and diagnostics", async () => {
    await expectTwins(runsDir, [
      [["runs", "list", "--limit", "1000"], "/retained-runs?limit=1000", 200],
      [["runs", "list"], "/retained-runs", 200],
      [["runs", "list", "--all"], "/retained-runs?limit=1000", 200],
      [["runs", "list", "--limit", "4", "--label", "team=web"], "/retained-runs?limit=4&label=team%3Dweb", 200],
      [
        ["runs", "list", "--limit", "50", "--status", "errored", "--status", "failed"],
        "/retained-runs?limit=50&status=errored&status=failed",
        200,
      ],
      [
        ["runs", "list", "--limit", "50", "--label", "team=web", "--label", "env=ci"],
        "/retained-runs?limit=50&label=team%3Dweb&label=env%3Dci",
        200,
      ],
      [
        ["runs", "list", "--limit", "50", "--since", "2025-01-01T00:00:00Z", "--until", "2026-01-01T00:03:00Z"],
        "/retained-runs?limit=50&since=2025-01-01T00:00:00Z&until=2026-01-01T00:03:00Z",
        200,
      ],
    ]);
    const diagnostics = JSON.parse((await cliJson(runsDir, ["runs", "list", "--limit", "1"])).stdout).diagnostics;
    expect(diagnostics.map((d: { kind: string }) => d.kind).sort()).toEqual(["corrupt-summary", "incomplete"]);
  });

  it("list, page by page through nextCursor with a filter", async () => {
    const ids = await walkBoth(runsDir, ["--label", "team=api"], "label=team%3Dapi", 2);
    expect(ids).toEqual(["run-00011", "run-00009", "run-00007", "run-00005", "run-00003", "run-00001"]);
  });

  it("latest, with filters", async () => {
    await expectTwins(runsDir, [
      [["runs", "latest"], "/retained-runs/latest", 200],
      [["runs", "latest", "--status", "errored"], "/retained-runs/latest?status=errored", 200],
      [
        ["runs", "latest", "--label", "team=api", "--status", "failed"],
        "/retained-runs/latest?label=team%3Dapi&status=failed",
        200,
      ],
    ]);
  });

  it("show, reports and manifest, including markers and unsafe entries", async () => {
    const twins: Twin[] = [];
    for (const runId of ["tagged", "old", "run-00003", "undeclared", "missing-manifest", "linked"]) {
      twins.push(
        [["runs", "show", runId], `/retained-runs/${runId}`, 200],
        [["runs", "reports", runId], `/retained-runs/${runId}/reports`, 200],
        [["runs", "manifest", runId], `/retained-runs/${runId}/artifact-manifest`, 200],
      );
    }
    await expectTwins(runsDir, twins);
  });

  it("the error bodies: missing, incomplete, broken, invalid manifest, unsafe manifest path", async () => {
    await expectTwins(runsDir, [
      [["runs", "show", "nope"], "/retained-runs/nope", 404],
      [["runs", "show", "in-progress"], "/retained-runs/in-progress", 404],
      [["runs", "show", "broken"], "/retained-runs/broken", 404],
      [["runs", "reports", "broken"], "/retained-runs/broken/reports", 404],
      [["runs", "manifest", "corrupt-manifest"], "/retained-runs/corrupt-manifest/artifact-manifest", 422],
      [["runs", "manifest", "unsafe-manifest"], "/retained-runs/unsafe-manifest/artifact-manifest", 403],
      [["runs", "show", "_bad"], "/retained-runs/_bad", 400],
    ]);
  });
});
