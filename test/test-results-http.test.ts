// Test results over HTTP and the CLI: routes in-process, byte-identical --json, and the CI gate.
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { createGuideBoardApp } from "../adapters/h3.ts";
import { createRunIndex, runComparisonSchema, testResultsSchema } from "../src/index.ts";
import { runCli } from "./helpers/cli.ts";
import { junitReport, type CaseSpec } from "./helpers/junit.ts";
import { makeRunsDir, writeCurrentRun } from "./helpers/runs.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

function writeRun(runsDir: string, runId: string, day: number, cases: CaseSpec[], branch = "main") {
  const failed = cases.some((spec) => spec.status === "failed" || spec.status === "errored");
  writeCurrentRun(runsDir, runId, {
    startedAt: `2026-01-${String(day).padStart(2, "0")}T00:00:00Z`,
    status: failed ? "failed" : "passed",
    labels: { branch },
    artifacts: {},
    reports: [{ id: "junit", path: "reports/junit.xml", content: junitReport(cases), format: "junit" }],
  });
}

function fixture() {
  const { runsDir } = makeRunsDir();
  writeRun(runsDir, "main-1", 1, [
    { classname: "A", name: "one" },
    { classname: "A", name: "two" },
  ]);
  writeRun(runsDir, "main-2", 2, [
    { classname: "A", name: "one", status: "failed", message: "one broke\u001b[31m red" },
    { classname: "A", name: "two" },
  ]);
  writeRun(
    runsDir,
    "topic-1",
    3,
    [
      { classname: "A", name: "one", status: "failed", message: "one broke" },
      { classname: "A", name: "two", status: "errored", message: "two broke" },
    ],
    "topic",
  );
  return runsDir;
}

const cli = (runsDir: string, args: string[]) => runCli([...args, "--runs-dir", runsDir], { cwd: ROOT });

describe("GET /retained-runs/{runId}/tests and /retained-runs/compare", () => {
  it("answer the library's JSON, and the CLI's --json prints the same bytes", async () => {
    const runsDir = fixture();
    const app = createGuideBoardApp({ runsDir });
    const twins: [string[], string, number][] = [
      [["runs", "tests", "main-2"], "/retained-runs/main-2/tests", 200],
      [["runs", "tests", "main-2", "--status", "failed"], "/retained-runs/main-2/tests?status=failed", 200],
      [["runs", "tests", "main-2", "--limit", "1"], "/retained-runs/main-2/tests?limit=1", 200],
      [["runs", "tests", "nope"], "/retained-runs/nope/tests", 404],
      [["runs", "tests", "main-2", "--status", "odd"], "/retained-runs/main-2/tests?status=odd", 400],
      [
        ["runs", "compare", "main-1", "topic-1", "--fail-on", "never"],
        "/retained-runs/compare?base=main-1&head=topic-1",
        200,
      ],
      [
        [
          "runs",
          "compare",
          "latest",
          "topic-1",
          "--base-status",
          "passed",
          "--base-label",
          "branch=main",
          "--fail-on",
          "never",
        ],
        "/retained-runs/compare?base=latest&baseStatus=passed&baseLabel=branch%3Dmain&head=topic-1",
        200,
      ],
      [
        ["runs", "compare", "main-1", "latest", "--head-label", "branch=main", "--fail-on", "never"],
        "/retained-runs/compare?base=main-1&head=latest&headLabel=branch=main",
        200,
      ],
      [["runs", "compare", "main-1", "gone"], "/retained-runs/compare?base=main-1&head=gone", 404],
      [
        ["runs", "compare", "main-1", "topic-1", "--base-status", "passed"],
        "/retained-runs/compare?base=main-1&baseStatus=passed&head=topic-1",
        400,
      ],
    ];
    for (const [args, path, status] of twins) {
      const response = await app.request(path);
      const text = await response.text();
      const { code, stdout } = await cli(runsDir, [...args, "--json"]);
      expect(response.status, path).toBe(status);
      expect(text, `${args.join(" ")} ↔ ${path}`).toBe(stdout);
      expect(code).toBe(({ 200: 0, 400: 2, 404: 1 } as Record<number, number>)[status]);
    }
    const tests = testResultsSchema.parse(await (await app.request("/retained-runs/main-2/tests?limit=1")).json());
    expect(tests.nextCursor).toBeDefined();
    const next = await app.request(`/retained-runs/main-2/tests?limit=1&cursor=${tests.nextCursor}`);
    expect(testResultsSchema.parse(await next.json()).tests.map((t) => t.name)).toEqual(["two"]);
    const diff = runComparisonSchema.parse(
      await (await app.request("/retained-runs/compare?base=latest&baseStatus=passed&head=topic-1")).json(),
    );
    expect(diff.base.runId).toBe("main-1");
    expect(diff.newFailures.map((t) => t.key)).toEqual(["A::one", "A::two"]);
  });

  it("bad queries are INVALID_OPTIONS naming the parameter; a live index resolves latest the same way", async () => {
    const runsDir = fixture();
    const app = createGuideBoardApp({ runsDir });
    for (const [path, field] of [
      ["/retained-runs/compare?head=main-1", "base"],
      ["/retained-runs/compare?base=main-1&head=main-2&base=x", "base"],
      ["/retained-runs/compare?base=main-1&head=main-2&extra=1", "extra"],
      ["/retained-runs/main-1/tests?limit=0", "limit"],
      ["/retained-runs/main-1/tests?limit=10001", "limit"],
    ]) {
      const response = await app.request(path!);
      expect(response.status, path).toBe(400);
      expect(((await response.json()) as { error: unknown }).error).toMatchObject({
        code: "INVALID_OPTIONS",
        message: expect.stringContaining(field!),
      });
    }
    const index = createRunIndex({ runsDir, watch: false });
    await index.ready();
    try {
      const indexed = createGuideBoardApp({ runsDir, index });
      const path = "/retained-runs/compare?base=latest&baseLabel=branch=main&head=topic-1";
      expect(await (await indexed.request(path)).text()).toBe(await (await app.request(path)).text());
      const none = await indexed.request("/retained-runs/compare?base=latest&baseStatus=cancelled&head=topic-1");
      expect(none.status).toBe(404);
    } finally {
      index.close();
    }
  });

  it("tables for people list failing tests with printable messages", async () => {
    const runsDir = fixture();
    const tests = await cli(runsDir, ["runs", "tests", "main-2"]);
    expect(tests.code).toBe(0);
    expect(tests.stdout).toContain("2 tests: 1 passed, 1 failed, 0 errored, 0 skipped, 0 flaky");
    expect(tests.stdout).toMatch(/failed\s+A::one\s+1\s+one broke\\u001b\[31m red/);
    expect(tests.stdout).not.toContain("\u001b");
    const diff = await cli(runsDir, ["runs", "compare", "main-1", "topic-1"]);
    expect(diff.stdout).toMatch(/New failures \(2\)\nSTATUS\s+TEST/);
    expect(diff.stdout).toContain("two broke");
  });
});

describe("the CI gate: runs compare --fail-on", () => {
  it("a new failure exits 1; a failure that was already failing exits 0 under new-failures", async () => {
    const { runsDir } = makeRunsDir();
    const gate = (head: string, ...extra: string[]) =>
      cli(runsDir, [
        "runs",
        "compare",
        "latest",
        head,
        "--base-status",
        "passed",
        "--base-label",
        "branch=main",
        ...extra,
      ]);
    // main is green, then a known failure lands on main (a red run; the base stays the green one).
    writeRun(runsDir, "main-green", 1, [
      { classname: "A", name: "stable" },
      { classname: "A", name: "known" },
    ]);
    writeRun(runsDir, "main-red", 2, [
      { classname: "A", name: "stable" },
      { classname: "A", name: "known", status: "failed" },
    ]);
    // The latest passed run on main now also has the known failure as flaky-free baseline:
    writeRun(runsDir, "main-green-2", 3, [
      { classname: "A", name: "stable" },
      { classname: "A", name: "known", status: "skipped" },
    ]);
    // A branch that only carries the already-failing test against a base where it failed too:
    writeRun(
      runsDir,
      "base-known",
      4,
      [
        { classname: "A", name: "stable" },
        { classname: "A", name: "known", status: "failed" },
      ],
      "release",
    );
    writeRun(
      runsDir,
      "pr-old-failure",
      5,
      [
        { classname: "A", name: "stable" },
        { classname: "A", name: "known", status: "failed" },
      ],
      "pr",
    );
    const already = await cli(runsDir, ["runs", "compare", "base-known", "pr-old-failure"]);
    expect(already.code).toBe(0);
    expect(already.stdout).toContain("Still failing (1)");
    expect(
      (await cli(runsDir, ["runs", "compare", "base-known", "pr-old-failure", "--fail-on", "failures"])).code,
    ).toBe(1);
    // A branch that breaks `stable`: new failure against the latest passed run on main.
    writeRun(
      runsDir,
      "pr-new-failure",
      6,
      [
        { classname: "A", name: "stable", status: "failed" },
        { classname: "A", name: "known" },
      ],
      "pr",
    );
    const broken = await gate("pr-new-failure");
    expect(broken.code).toBe(1);
    expect(broken.stdout).toContain("Base main-green-2 (passed)");
    expect(broken.stdout).toMatch(/New failures \(1\)\nSTATUS\s+TEST\s+ATTEMPTS\s+MESSAGE\nfailed\s+A::stable/);
    expect((await gate("pr-new-failure", "--fail-on", "never")).code).toBe(0);
    const fine = await gate("main-green-2");
    expect(fine.code).toBe(0);
    expect((await gate("pr-new-failure", "--fail-on", "sometimes")).code).toBe(2);
    expect((await cli(runsDir, ["runs", "compare", "latest", "x", "--base-status", "cancelled"])).code).toBe(1);
  });
});
