// Test history over HTTP and the CLI: GET /tests/history and /tests/top, ?history=1 on a run's
// tests and on a comparison, byte-identical --json, bad queries, and a live index.
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { createGuideBoardApp } from "../adapters/h3.ts";
import { createRunIndex, testHistorySchema, testResults, toJSONText, topTestsSchema } from "../src/index.ts";
import { runCli } from "./helpers/cli.ts";
import { mainRunId, writeHistory } from "./helpers/history.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const cli = (runsDir: string, args: string[]) => runCli([...args, "--runs-dir", runsDir], { cwd: ROOT });
const KEY = "suite.Breaks::breaks";
const key = encodeURIComponent(KEY);

describe("GET /tests/history and /tests/top", () => {
  const { runsDir } = writeHistory();

  it("answer the library's JSON, and the CLI's --json prints the same bytes", async () => {
    const app = createGuideBoardApp({ runsDir });
    const twins: [string[], string, number][] = [
      [["runs", "history", KEY], `/tests/history?key=${key}`, 200],
      [["runs", "history", KEY, "--label", "branch=main"], `/tests/history?key=${key}&label=branch%3Dmain`, 200],
      [
        ["runs", "history", KEY, "--limit", "5", "--status", "failed"],
        `/tests/history?key=${key}&limit=5&status=failed`,
        200,
      ],
      [["runs", "history", "no::such"], "/tests/history?key=no%3A%3Asuch", 200],
      [["runs", "history", KEY, "--since", "soon"], `/tests/history?key=${key}&since=soon`, 400],
      [["runs", "top", "--by", "failures"], "/tests/top?by=failures", 200],
      [["runs", "top", "--by", "flaky", "--label", "branch=main"], "/tests/top?by=flaky&label=branch=main", 200],
      [["runs", "top", "--by", "slow", "--window", "3", "--limit", "2"], "/tests/top?by=slow&window=3&limit=2", 200],
      [["runs", "tests", mainRunId(20), "--history"], `/retained-runs/${mainRunId(20)}/tests?history=1`, 200],
      [
        ["runs", "compare", mainRunId(6), mainRunId(11), "--history", "--fail-on", "never"],
        `/retained-runs/compare?base=${mainRunId(6)}&head=${mainRunId(11)}&history=1`,
        200,
      ],
    ];
    for (const [args, path, status] of twins) {
      const response = await app.request(path);
      const text = await response.text();
      const { code, stdout } = await cli(runsDir, [...args, "--json"]);
      expect(response.status, path).toBe(status);
      expect(text, `${args.join(" ")} ↔ ${path}`).toBe(stdout);
      expect(code).toBe(({ 200: 0, 400: 2 } as Record<number, number>)[status]);
    }
    const history = testHistorySchema.parse(
      await (await app.request(`/tests/history?key=${key}&label=branch=main`)).json(),
    );
    expect(history).toMatchObject({
      failingSince: { runId: mainRunId(7), runs: 14 },
      lastPassed: { runId: mainRunId(6) },
    });
    const top = topTestsSchema.parse(await (await app.request("/tests/top?by=flaky&label=branch=main")).json());
    expect(top.tests.map((t) => [t.key, t.flakeRate])).toEqual([
      ["suite.Flaky::wobbles", 0.15],
      ["suite.Flip::flips", 0.1],
    ]);
  });

  it("without history=1 a run's tests are the same bytes as before", async () => {
    const app = createGuideBoardApp({ runsDir });
    const plain = await (await app.request(`/retained-runs/${mainRunId(20)}/tests`)).text();
    expect(plain).toBe(toJSONText(await testResults({ runsDir }, mainRunId(20), { limit: 1000 })));
    expect(plain).not.toMatch(/failingSince|"recent"/);
    expect(await (await app.request(`/retained-runs/${mainRunId(20)}/tests?history=0`)).text()).toBe(plain);
    const compare = `/retained-runs/compare?base=${mainRunId(6)}&head=${mainRunId(11)}`;
    expect(await (await app.request(compare)).text()).not.toMatch(/failingSince|"recent"/);
    expect(await (await app.request(`${compare}&history=1`)).text()).toMatch(/"failingSince"/);
  });

  it("bad queries are 400 INVALID_OPTIONS naming the parameter", async () => {
    const app = createGuideBoardApp({ runsDir });
    for (const [path, field] of [
      ["/tests/history", "key"],
      ["/tests/history?key=", "key"],
      [`/tests/history?key=${key}&key=x`, "key"],
      [`/tests/history?key=${key}&limit=501`, "limit"],
      [`/tests/history?key=${key}&limit=0`, "limit"],
      [`/tests/history?key=${key}&window=5`, "window"],
      ["/tests/top", "by"],
      ["/tests/top?by=fastest", "by"],
      ["/tests/top?by=slow&window=501", "window"],
      ["/tests/top?by=slow&limit=1001", "limit"],
      ["/tests/top?by=slow&label=nolabel", "label"],
      [`/retained-runs/${mainRunId(20)}/tests?history=yes`, "history"],
    ]) {
      const response = await app.request(path!);
      expect(response.status, path).toBe(400);
      expect(((await response.json()) as { error: unknown }).error).toMatchObject({
        code: "INVALID_OPTIONS",
        message: expect.stringContaining(field!),
      });
    }
    for (const args of [
      ["history"],
      ["history", "a", "b"],
      ["top"],
      ["top", "--by", "fastest"],
      ["top", "--by", "slow", "--window", "0"],
    ]) {
      const { code, stderr } = await cli(runsDir, ["runs", ...args]);
      expect(code, args.join(" ")).toBe(2);
      expect(stderr).toContain("guide-board");
    }
  });

  it("a live index answers the same bytes", async () => {
    const index = createRunIndex({ runsDir, watch: false });
    await index.ready();
    try {
      const app = createGuideBoardApp({ runsDir });
      const indexed = createGuideBoardApp({ runsDir, index });
      for (const path of [
        `/tests/history?key=${key}&label=branch=main`,
        "/tests/top?by=failures&window=10",
        `/retained-runs/${mainRunId(12)}/tests?history=1`,
      ]) {
        expect(await (await indexed.request(path)).text(), path).toBe(await (await app.request(path)).text());
      }
    } finally {
      index.close();
    }
  });

  it("tables for people: the history, the ranking, and strips on failing tests", async () => {
    const history = await cli(runsDir, ["runs", "history", KEY, "--label", "branch=main", "--limit", "8"]);
    expect(history.code).toBe(0);
    expect(history.stdout).toContain(
      `Failing since ${mainRunId(13)} (8 runs, from the window's oldest run: maybe earlier)`,
    );
    expect(history.stdout).toContain("Flake rate: 0.0%");
    expect(history.stdout).toMatch(new RegExp(`${mainRunId(20)}\\s+\\S+\\s+failed\\s+100ms\\s+broken in 20`));
    const top = await cli(runsDir, ["runs", "top", "--by", "flaky", "--label", "branch=main"]);
    expect(top.stdout).toMatch(/suite\.Flaky::wobbles\s+20\s+0\s+3\s+15\.0%/);
    const tests = await cli(runsDir, ["runs", "tests", mainRunId(12), "--history"]);
    expect(tests.stdout).toMatch(/failed\s+suite\.Breaks::breaks\s+FFFFFFPPPP\s+failing since main-07 \(6 runs\)/);
    expect(tests.stdout).toMatch(/failed\s+suite\.Flip::flips\s+FPPPPPPFPP\s+failing since main-12 \(1 run\)/);
    const help = await cli(runsDir, ["runs", "--help"]);
    expect(help.stdout).toMatch(/history KEY[\s\S]*top --by WHAT/);
  });
});
