import { mkdirSync } from "node:fs";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  artifactManifest,
  getRetainedRun,
  latestRun,
  listRetainedRuns,
  reportPaths,
  toJSONText,
} from "../src/index.ts";
import {
  makeRunsDir,
  tempDir,
  writeCurrentRun,
  writeLegacyRun,
  writeManyRuns,
  writeSummaryText,
} from "./helpers/runs.ts";
import { libraryErrorText, runCli } from "./helpers/cli.ts";
import { EXAMPLES, FAILED, INCOMPLETE, LEGACY, PASSED } from "./helpers/examples.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const COMMANDS = ["list", "latest", "show", "reports", "manifest"] as const;

// Same set of characters the CLI's `printable` escapes: C0/C1 controls and bidi overrides.
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

/** Runs the CLI in-process; no environment unless given, cwd is the repo. */
const cli = (args: string[], options: { env?: Record<string, string>; cwd?: string } = {}) =>
  runCli(args, { env: options.env, cwd: options.cwd ?? ROOT });

/** `cli` with `--runs-dir` pointing at the bundled example runs. */
const examples = (...args: string[]) => cli([...args, "--runs-dir", EXAMPLES]);

/** The run ids in the first column of a `runs list` table (header dropped). */
const idsOf = (table: string) =>
  table
    .split("\n")
    .slice(1)
    .filter((line) => line !== "" && !line.startsWith("next page:"))
    .map((line) => line.split(/\s+/, 1)[0] ?? "");

const cursorOf = (stdout: string) => /^next page: --cursor (\S+)$/m.exec(stdout)?.[1];

describe("help", () => {
  it("prints the top-level help with --help, -h and help, exit 0", async () => {
    for (const flag of ["--help", "-h", "help"]) {
      const { code, stdout, stderr } = await cli([flag]);
      expect(code).toBe(0);
      expect(stdout).toMatch(/^guide-board: find retained runs again/);
      for (const command of COMMANDS) expect(stdout).toContain(`runs ${command}`);
      expect(stderr).toBe("");
    }
  });

  it("prints the help but exits 2 when no command is given", async () => {
    const { code, stdout } = await cli([]);
    expect(code).toBe(2);
    expect(stdout).toContain("Usage: guide-board <command> [options]");
  });

  it("prints the runs help with runs --help (exit 0) and with bare runs (exit 2)", async () => {
    const help = await cli(["runs", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: guide-board runs <command> [options]");
    const bare = await cli(["runs"]);
    expect(bare.code).toBe(2);
    expect(bare.stdout).toBe(help.stdout);
  });

  it.each(COMMANDS)(
    "prints help for runs %s with --help and -h, exit 0, touching no runs directory",
    async (command) => {
      const long = await cli(["runs", command, "--help"], { cwd: tempDir() });
      expect(long.code).toBe(0);
      expect(long.stderr).toBe("");
      expect(long.stdout).toMatch(new RegExp(`^Usage: guide-board runs ${command}\\b`));
      expect(long.stdout).toContain("--runs-dir DIR");
      expect(long.stdout).toContain("--json");
      expect(await cli(["runs", command, "-h"])).toEqual(long);
    },
  );

  it("documents the filters on list and latest, and paging on list only", async () => {
    const list = (await cli(["runs", "list", "--help"])).stdout;
    const latest = (await cli(["runs", "latest", "--help"])).stdout;
    for (const option of ["--status", "--since", "--until", "--label"]) {
      expect(list).toContain(option);
      expect(latest).toContain(option);
    }
    expect(list).toContain("--limit N");
    expect(list).toContain("--cursor C");
    expect(latest).not.toContain("--limit");
  });

  it("rejects unknown commands with exit 2 and a hint to --help", async () => {
    expect(await cli(["nope"])).toEqual({
      code: 2,
      stdout: "",
      stderr: "guide-board: unknown command 'nope'\nRun 'guide-board --help' for usage.\n",
    });
    expect(await cli(["runs", "nope"])).toEqual({
      code: 2,
      stdout: "",
      stderr: "guide-board: unknown command 'runs nope'\nRun 'guide-board runs --help' for usage.\n",
    });
  });
});

describe("runs list", () => {
  it("lists the example runs newest first as a table and reports the incomplete folder on stderr", async () => {
    const { code, stdout, stderr } = await examples("runs", "list");
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^RUN\s+STATUS\s+STARTED\s+DURATION\s+REPORTS\s+SCHEMA\s+LABELS$/);
    expect(idsOf(stdout)).toEqual([FAILED, PASSED, LEGACY]);
    expect(lines[1]).toMatch(
      new RegExp(
        `^${FAILED}\\s+failed\\s+2026-11-21T14:15:00Z\\s+1m 05s\\s+2\\s+v2, no submission\\s+suite=unit branch=feature/login$`,
      ),
    );
    expect(lines[2]).toMatch(new RegExp(`^${PASSED}\\s+passed\\s+.*\\s+3m 12s\\s+2\\s+v2\\s+suite=unit branch=main$`));
    expect(lines[3]).toMatch(new RegExp(`^${LEGACY}\\s+passed\\s+.*\\s+11m 27s\\s+2\\s+legacy$`));
    expect(stdout).not.toContain(INCOMPLETE);
    expect(stdout).not.toContain("next page");
    expect(stderr).toBe("Skipped 1 folder(s): incomplete 1 (details with --json).\n");
  });

  it("--json prints exactly the library's list, diagnostics included", async () => {
    const { code, stdout, stderr } = await examples("runs", "list", "--json");
    expect(code).toBe(0);
    expect(stdout).toBe(toJSONText(await listRetainedRuns({ runsDir: [EXAMPLES] })));
    expect(JSON.parse(stdout).diagnostics).toMatchObject([{ entry: INCOMPLETE, kind: "incomplete" }]);
    expect(stderr).toBe("");
  });

  it("--json with filters prints exactly the library's filtered list", async () => {
    const { stdout } = await examples("runs", "list", "--json", "--status", "passed", "--label", "suite=unit");
    expect(stdout).toBe(
      toJSONText(await listRetainedRuns({ runsDir: [EXAMPLES], status: ["passed"], label: ["suite=unit"] })),
    );
    expect(JSON.parse(stdout).runs.map((run: { runId: string }) => run.runId)).toEqual([PASSED]);
  });

  it("--status filters, and repeated --status matches any of them", async () => {
    const { runsDir } = makeRunsDir();
    writeCurrentRun(runsDir, "r-passed", { status: "passed", startedAt: "2026-01-01T00:00:00Z" });
    writeCurrentRun(runsDir, "r-failed", { status: "failed", startedAt: "2026-01-02T00:00:00Z" });
    writeCurrentRun(runsDir, "r-errored", { status: "errored", startedAt: "2026-01-03T00:00:00Z" });
    writeCurrentRun(runsDir, "r-cancelled", { status: "cancelled", startedAt: "2026-01-04T00:00:00Z" });
    expect(idsOf((await cli(["runs", "list", "--runs-dir", runsDir, "--status", "failed"])).stdout)).toEqual([
      "r-failed",
    ]);
    const two = await cli(["runs", "list", "--runs-dir", runsDir, "--status", "errored", "--status", "passed"]);
    expect(two.code).toBe(0);
    expect(idsOf(two.stdout)).toEqual(["r-errored", "r-passed"]);
    const bad = await cli(["runs", "list", "--runs-dir", runsDir, "--status", "exploded", "--json"]);
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.stdout)).toMatchObject({ error: { code: "INVALID_OPTIONS" } });
  });

  it("--label must match, and repeated --label must all match", async () => {
    const { runsDir } = makeRunsDir();
    writeCurrentRun(runsDir, "main-unit", {
      labels: { branch: "main", suite: "unit" },
      startedAt: "2026-01-01T00:00:00Z",
    });
    writeCurrentRun(runsDir, "main-e2e", {
      labels: { branch: "main", suite: "e2e" },
      startedAt: "2026-01-02T00:00:00Z",
    });
    writeCurrentRun(runsDir, "dev-unit", {
      labels: { branch: "dev", suite: "unit" },
      startedAt: "2026-01-03T00:00:00Z",
    });
    writeLegacyRun(runsDir, "legacy", { startedAt: "2026-01-04T00:00:00Z" });
    const list = (...labels: string[]) =>
      cli(["runs", "list", "--runs-dir", runsDir, ...labels.flatMap((l) => ["--label", l])]);
    expect(idsOf((await list("branch=main")).stdout)).toEqual(["main-e2e", "main-unit"]);
    expect(idsOf((await list("branch=main", "suite=unit")).stdout)).toEqual(["main-unit"]);
    expect(idsOf((await list("suite=unit")).stdout)).toEqual(["dev-unit", "main-unit"]);
    const none = await list("branch=gone");
    expect(none.code).toBe(0);
    expect(none.stdout).toBe(`No retained runs in ${runsDir}.\n`);
    expect((await list("no-equals-sign")).code).toBe(2);
  });

  it("--since is inclusive and --until exclusive, on the start time", async () => {
    const { runsDir } = makeRunsDir();
    writeCurrentRun(runsDir, "jan", { startedAt: "2026-01-15T00:00:00Z" });
    writeCurrentRun(runsDir, "feb", { startedAt: "2026-02-01T00:00:00Z" });
    writeCurrentRun(runsDir, "mar", { startedAt: "2026-03-15T00:00:00Z" });
    const list = (...args: string[]) => cli(["runs", "list", "--runs-dir", runsDir, ...args]);
    expect(idsOf((await list("--since", "2026-02-01T00:00:00Z")).stdout)).toEqual(["mar", "feb"]);
    expect(idsOf((await list("--until", "2026-02-01T00:00:00Z")).stdout)).toEqual(["jan"]);
    expect(
      idsOf((await list("--since", "2026-01-20T00:00:00Z", "--until", "2026-03-01T00:00:00+01:00")).stdout),
    ).toEqual(["feb"]);
    const json = await list("--since", "2026-02-01T00:00:00Z", "--json");
    expect(json.stdout).toBe(toJSONText(await listRetainedRuns({ runsDir: [runsDir], since: "2026-02-01T00:00:00Z" })));
    const bad = await list("--since", "last tuesday", "--json");
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.stdout)).toMatchObject({ error: { code: "INVALID_OPTIONS" } });
  });

  it("--limit prints a cursor line, and following the cursor walks every run exactly once", async () => {
    const { runsDir } = makeRunsDir();
    const ids = writeManyRuns(runsDir, 5);
    const seen: string[] = [];
    const cursors: string[] = [];
    let cursor: string | undefined;
    do {
      const { code, stdout, stderr } = await cli([
        "runs",
        "list",
        "--runs-dir",
        runsDir,
        "--limit",
        "2",
        ...(cursor ? ["--cursor", cursor] : []),
      ]);
      expect(code).toBe(0);
      expect(stderr).toBe("");
      seen.push(...idsOf(stdout));
      cursor = cursorOf(stdout);
      if (cursor) {
        expect(stdout.endsWith(`\nnext page: --cursor ${cursor}\n`)).toBe(true);
        cursors.push(cursor);
      }
    } while (cursor && seen.length < 10);
    expect(seen).toEqual([...ids].reverse());
    expect(cursors).toHaveLength(2);
  });

  it("--limit with --json prints the library's page, whose nextCursor is the one the table prints", async () => {
    const { runsDir } = makeRunsDir();
    writeManyRuns(runsDir, 3);
    const json = await cli(["runs", "list", "--runs-dir", runsDir, "--limit", "2", "--json"]);
    const page = await listRetainedRuns({ runsDir: [runsDir], limit: 2 });
    expect(json.stdout).toBe(toJSONText(page));
    expect(page.nextCursor).toBeTypeOf("string");
    expect(cursorOf((await cli(["runs", "list", "--runs-dir", runsDir, "--limit", "2"])).stdout)).toBe(page.nextCursor);
    const next = await cli([
      "runs",
      "list",
      "--runs-dir",
      runsDir,
      "--limit",
      "2",
      "--cursor",
      page.nextCursor!,
      "--json",
    ]);
    expect(next.stdout).toBe(
      toJSONText(await listRetainedRuns({ runsDir: [runsDir], limit: 2, cursor: page.nextCursor! })),
    );
    expect(JSON.parse(next.stdout).nextCursor).toBeUndefined();
  });

  it.each(["0", "-1", "two", "1.5", "1e3", "1001", "99999999999999999"])(
    "rejects --limit=%s as bad usage (exit 2)",
    async (limit) => {
      const { code, stdout, stderr } = await examples("runs", "list", `--limit=${limit}`);
      expect(code).toBe(2);
      expect(stdout).toBe("");
      expect(stderr).toBe(
        "guide-board: --limit takes a whole number from 1 to 1000\nRun 'guide-board runs list --help' for usage.\n",
      );
    },
  );

  it("rejects a forged cursor with exit 2 and INVALID_CURSOR", async () => {
    const { code, stdout } = await examples("runs", "list", "--cursor", "not-a-cursor", "--json");
    expect(code).toBe(2);
    expect(stdout).toBe(
      await libraryErrorText(() => listRetainedRuns({ runsDir: [EXAMPLES], cursor: "not-a-cursor" })),
    );
    expect(JSON.parse(stdout).error.code).toBe("INVALID_CURSOR");
  });

  it("rejects a positional argument (exit 2)", async () => {
    const { code, stderr } = await examples("runs", "list", PASSED);
    expect(code).toBe(2);
    expect(stderr).toBe(
      `guide-board: unexpected argument '${PASSED}'\nRun 'guide-board runs list --help' for usage.\n`,
    );
  });

  it("says so when a runs directory is empty or missing (exit 0)", async () => {
    const { root, runsDir } = makeRunsDir();
    expect(await cli(["runs", "list", "--runs-dir", runsDir])).toEqual({
      code: 0,
      stdout: `No retained runs in ${runsDir}.\n`,
      stderr: "",
    });
    const missing = join(root, "nowhere");
    const { code, stdout, stderr } = await cli(["runs", "list", "--runs-dir", missing]);
    expect(code).toBe(0);
    expect(stdout).toBe(`No retained runs in ${missing}.\n`);
    expect(stderr).toBe("Skipped 1 folder(s): runs-dir-missing 1 (details with --json).\n");
  });

  it("counts each kind of skipped folder in the diagnostics line", async () => {
    const { runsDir } = makeRunsDir();
    writeCurrentRun(runsDir, "good");
    writeSummaryText(runsDir, "broken-1", "{");
    writeSummaryText(runsDir, "broken-2", "not json");
    mkdirSync(join(runsDir, "in-progress"));
    const { code, stdout, stderr } = await cli(["runs", "list", "--runs-dir", runsDir]);
    expect(code).toBe(0);
    expect(idsOf(stdout)).toEqual(["good"]);
    expect(stderr).toMatch(/^Skipped 3 folder\(s\): .* \(details with --json\)\.\n$/);
    expect(stderr).toContain("corrupt-summary 2");
    expect(stderr).toContain("incomplete 1");
  });
});

describe("runs latest", () => {
  it("shows the newest example run (the failed one) as details", async () => {
    const { code, stdout, stderr } = await examples("runs", "latest");
    expect(code).toBe(0);
    expect(stderr).toBe("");
    expect(stdout).toContain(`Run:       ${FAILED}\n`);
    expect(stdout).toContain("Status:    failed\n");
    expect(stdout).toContain("Exit code: 1\n");
    expect(stdout).toContain("Command:   npm test -- --reporter=junit\n");
    expect(stdout).toContain("Labels:    suite=unit branch=feature/login\n");
    expect(stdout).toContain(`Folder:    ${join(EXAMPLES, FAILED)}\n`);
  });

  it("--json prints exactly the library's run, with and without filters", async () => {
    const all = await examples("runs", "latest", "--json");
    expect(all.code).toBe(0);
    expect(all.stdout).toBe(toJSONText(await latestRun({ runsDir: [EXAMPLES] })));
    const passed = await examples("runs", "latest", "--status", "passed", "--json");
    expect(passed.stdout).toBe(toJSONText(await latestRun({ runsDir: [EXAMPLES], status: ["passed"] })));
    expect(JSON.parse(passed.stdout).runId).toBe(PASSED);
    const legacy = await examples("runs", "latest", "--until", "2026-01-01T00:00:00Z", "--json");
    expect(JSON.parse(legacy.stdout).runId).toBe(LEGACY);
  });

  it("exits 1 when nothing matches: a message on stderr, or null with --json", async () => {
    expect(await examples("runs", "latest", "--status", "cancelled")).toEqual({
      code: 1,
      stdout: "",
      stderr: "guide-board: no retained run matches.\n",
    });
    const json = await examples("runs", "latest", "--label", "suite=e2e", "--json");
    expect(json.code).toBe(1);
    expect(json.stdout).toBe("null\n");
    expect(json.stdout).toBe(toJSONText(await latestRun({ runsDir: [EXAMPLES], label: ["suite=e2e"] })));
  });

  it("exits 1 with null in an empty runs directory", async () => {
    const { runsDir } = makeRunsDir();
    expect((await cli(["runs", "latest", "--runs-dir", runsDir, "--json"])).stdout).toBe("null\n");
    expect((await cli(["runs", "latest", "--runs-dir", runsDir])).code).toBe(1);
  });

  it("takes no --limit (exit 2)", async () => {
    expect((await examples("runs", "latest", "--limit", "1")).code).toBe(2);
  });
});

describe("runs show", () => {
  it("shows one run, legacy or current", async () => {
    const current = await examples("runs", "show", PASSED);
    expect(current.code).toBe(0);
    expect(current.stdout).toContain("Duration:  3m 12s\n");
    expect(current.stdout).toContain("Reports:   2\n");
    expect(current.stdout).toContain("Schema:    v2\n");
    const legacy = await examples("runs", "show", LEGACY);
    expect(legacy.code).toBe(0);
    expect(legacy.stdout).toContain("Exit code: -\nCommand:   -\nLabels:    -\n");
    expect(legacy.stdout).toContain("Schema:    legacy\n");
  });

  it.each([LEGACY, PASSED, FAILED])("--json prints exactly the library's run %s", async (runId) => {
    const { code, stdout } = await examples("runs", "show", runId, "--json");
    expect(code).toBe(0);
    expect(stdout).toBe(toJSONText(await getRetainedRun({ runsDir: [EXAMPLES] }, runId)));
  });

  it("exits 1 for an unknown run, with the library's error body under --json", async () => {
    const text = await examples("runs", "show", "2026-01-01T00-00-00Z-none");
    expect(text).toEqual({ code: 1, stdout: "", stderr: "guide-board: No retained run 2026-01-01T00-00-00Z-none.\n" });
    const json = await examples("runs", "show", "2026-01-01T00-00-00Z-none", "--json");
    expect(json.code).toBe(1);
    expect(json.stdout).toBe(
      await libraryErrorText(() => getRetainedRun({ runsDir: [EXAMPLES] }, "2026-01-01T00-00-00Z-none")),
    );
    expect(JSON.parse(json.stdout)).toEqual({
      error: { code: "RUN_NOT_FOUND", message: "No retained run 2026-01-01T00-00-00Z-none." },
    });
  });

  it("exits 1 for the incomplete example folder and says why", async () => {
    const { code, stderr } = await examples("runs", "show", INCOMPLETE);
    expect(code).toBe(1);
    expect(stderr).toBe(`guide-board: No retained run ${INCOMPLETE} (incomplete).\n`);
  });

  it("needs exactly one RUN (exit 2)", async () => {
    expect(await examples("runs", "show")).toEqual({
      code: 2,
      stdout: "",
      stderr: "guide-board: expected exactly one RUN argument\nRun 'guide-board runs show --help' for usage.\n",
    });
    expect((await examples("runs", "show", PASSED, FAILED)).code).toBe(2);
  });
});

describe("invalid run ids", () => {
  it.each(["show", "reports", "manifest"])("runs %s ../x exits 2 with INVALID_RUN_ID", async (command) => {
    const text = await examples("runs", command, "../x");
    expect(text.code).toBe(2);
    expect(text.stdout).toBe("");
    expect(text.stderr).toMatch(/^guide-board: Invalid run id: .*\n$/);
    const json = await examples("runs", command, "../x", "--json");
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { code: "INVALID_RUN_ID" } });
    expect(json.stdout).toBe(await libraryErrorText(() => getRetainedRun({ runsDir: [EXAMPLES] }, "../x")));
  });

  it.each([".", "..", "-rf", "a/b", "a\u001b[31m"])("refuses %j as a run id (exit 2)", async (runId) => {
    const { code, stdout } = await cli(["runs", "show", "--runs-dir", EXAMPLES, "--json", "--", runId]);
    expect(code).toBe(2);
    expect(JSON.parse(stdout).error.code).toBe("INVALID_RUN_ID");
  });
});

describe("runs reports", () => {
  it("lists the passed example run's reports as a table", async () => {
    const { code, stdout, stderr } = await examples("runs", "reports", PASSED);
    expect(code).toBe(0);
    expect(stderr).toBe("");
    const lines = stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^ID\s+TYPE\s+SIZE\s+PATH\s+STATE$/);
    expect(lines[1]).toMatch(/^html\s+text\/html\s+\d+ B\s+reports\/index\.html\s+ok$/);
    expect(lines[2]).toMatch(/^junit\s+application\/xml\s+\d+ B\s+reports\/junit\.xml\s+ok$/);
    expect(lines).toHaveLength(3);
  });

  it.each([LEGACY, PASSED, FAILED])("--json prints exactly the library's report list of %s", async (runId) => {
    const { code, stdout } = await examples("runs", "reports", runId, "--json");
    expect(code).toBe(0);
    expect(stdout).toBe(toJSONText(await reportPaths({ runsDir: [EXAMPLES] }, runId)));
  });

  it("gives legacy reports ids from their file names", async () => {
    const { stdout } = await examples("runs", "reports", LEGACY);
    expect(stdout).toMatch(/^summary\.html\s+text\/html\s+.*reports\/summary\.html\s+ok$/m);
    expect(stdout).toMatch(/^junit\.xml\s+application\/xml\s+.*reports\/junit\.xml\s+ok$/m);
  });

  it("marks missing and unsafe reports and never shows an absolute path for them", async () => {
    const { runsDir } = makeRunsDir();
    writeCurrentRun(runsDir, "r1", {
      reports: [
        { id: "ok", path: "reports/ok.txt", content: "fine" },
        { id: "gone", path: "reports/gone.txt", content: null },
        { id: "escape", path: "../r2/secret.txt", content: null },
      ],
    });
    const { code, stdout } = await cli(["runs", "reports", "r1", "--runs-dir", runsDir]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^ok\s+text\/plain\s+4 B\s+reports\/ok\.txt\s+ok$/m);
    expect(stdout).toMatch(/^gone\s+text\/plain\s+-\s+reports\/gone\.txt\s+missing$/m);
    expect(stdout).toMatch(/^escape\s+text\/plain\s+-\s+\.\.\/r2\/secret\.txt\s+unsafe \(parent-segment\)$/m);
  });

  it("says so when a run lists no reports", async () => {
    const { runsDir } = makeRunsDir();
    writeCurrentRun(runsDir, "r1", { reports: [] });
    expect(await cli(["runs", "reports", "r1", "--runs-dir", runsDir])).toEqual({
      code: 0,
      stdout: "This run lists no reports.\n",
      stderr: "",
    });
  });

  it("exits 1 with RUN_NOT_FOUND for an unknown run", async () => {
    const { code, stdout } = await examples("runs", "reports", "nope", "--json");
    expect(code).toBe(1);
    expect(stdout).toBe(await libraryErrorText(() => reportPaths({ runsDir: [EXAMPLES] }, "nope")));
  });
});

describe("runs manifest", () => {
  it("lists the passed example run's artifacts as a table", async () => {
    const { code, stdout } = await examples("runs", "manifest", PASSED);
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^PATH\s+SIZE\s+SHA256\s+STATE$/);
    expect(lines[1]).toMatch(
      /^coverage\/coverage-summary\.json\s+33 B\s+49f64fc492c806786b329ae513266c54d104046e33c0cca167fe0c16596764d7\s+ok$/,
    );
    expect(lines[2]).toMatch(
      /^build\/app\.tar\.gz\s+42 B\s+f149ac65f0eb6d954769b317116c2abd1c63169268d2b7f9a9ac2b7e63bce211\s+ok$/,
    );
    expect(lines).toHaveLength(3);
  });

  it.each([LEGACY, PASSED, FAILED])("--json prints exactly the library's manifest of %s", async (runId) => {
    const { code, stdout } = await examples("runs", "manifest", runId, "--json");
    expect(code).toBe(0);
    expect(stdout).toBe(toJSONText(await artifactManifest({ runsDir: [EXAMPLES] }, runId)));
  });

  it("prints the compatibility marker for the legacy example run, exit 0", async () => {
    expect(await examples("runs", "manifest", LEGACY)).toEqual({
      code: 0,
      stdout:
        "No artifact manifest (legacy-run): This run was recorded by an older writer " +
        "(legacy summary without schemaVersion), which kept no artifact manifest.\n",
      stderr: "",
    });
    const json = JSON.parse((await examples("runs", "manifest", LEGACY, "--json")).stdout);
    expect(json).toMatchObject({ runId: LEGACY, available: false, reason: "legacy-run" });
  });

  it("prints markers for an undeclared and a missing manifest, exit 0", async () => {
    const { runsDir } = makeRunsDir();
    writeCurrentRun(runsDir, "undeclared", { manifest: "undeclared" });
    writeCurrentRun(runsDir, "omitted", { manifest: "omit-file" });
    const undeclared = await cli(["runs", "manifest", "undeclared", "--runs-dir", runsDir]);
    expect(undeclared).toEqual({
      code: 0,
      stdout: "No artifact manifest (not-declared): This run's summary names no artifact manifest.\n",
      stderr: "",
    });
    const omitted = await cli(["runs", "manifest", "omitted", "--runs-dir", runsDir]);
    expect(omitted.code).toBe(0);
    expect(omitted.stdout).toMatch(
      /^No artifact manifest \(file-missing\): The summary names assessment-package\/artifact-manifest\.json/,
    );
  });

  it("marks missing and unsafe artifacts", async () => {
    const { runsDir } = makeRunsDir();
    writeCurrentRun(runsDir, "r1", {
      artifacts: { "out/here.txt": "here", "out/gone.txt": null },
      rawArtifacts: [{ path: "../../elsewhere", size: 1, sha256: "a".repeat(64) }],
    });
    const { code, stdout } = await cli(["runs", "manifest", "r1", "--runs-dir", runsDir]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^out\/here\.txt\s+4 B\s+[a-f0-9]{64}\s+ok$/m);
    expect(stdout).toMatch(/^out\/gone\.txt\s+\d+ B\s+[a-f0-9]{64}\s+missing$/m);
    expect(stdout).toMatch(/^\.\.\/\.\.\/elsewhere\s+1 B\s+a{64}\s+unsafe \(parent-segment\)$/m);
  });

  it("exits 1 with MANIFEST_INVALID for a manifest that does not parse", async () => {
    const { runsDir } = makeRunsDir();
    writeCurrentRun(runsDir, "r1", { rawArtifacts: [{ path: "x", size: -1, sha256: "nope" }] });
    const { code, stdout, stderr } = await cli(["runs", "manifest", "r1", "--runs-dir", runsDir, "--json"]);
    expect(code).toBe(1);
    expect(stdout).toBe(await libraryErrorText(() => artifactManifest({ runsDir: [runsDir] }, "r1")));
    expect(JSON.parse(stdout).error.code).toBe("MANIFEST_INVALID");
    expect(stderr).toMatch(/^guide-board: The run's artifact manifest is invalid: .*\n$/);
  });

  it("exits 2 with UNSAFE_PATH when the summary points the manifest outside the run", async () => {
    const { runsDir } = makeRunsDir();
    writeCurrentRun(runsDir, "r1", {
      manifest: "undeclared",
      extra: { artifactManifest: "../r2/artifact-manifest.json" },
    });
    const { code, stdout } = await cli(["runs", "manifest", "r1", "--runs-dir", runsDir, "--json"]);
    expect(code).toBe(2);
    expect(JSON.parse(stdout)).toEqual({
      error: { code: "UNSAFE_PATH", message: "Refused an unsafe path (parent-segment)." },
    });
  });
});

describe("options", () => {
  it("rejects an unknown option with exit 2, one error line and a hint to --help", async () => {
    for (const command of COMMANDS) {
      const { code, stdout, stderr } = await examples("runs", command, "--bogus");
      expect(code).toBe(2);
      expect(stdout).toBe("");
      const lines = stderr.split("\n");
      expect(lines).toHaveLength(3);
      expect(lines[0]).toMatch(/^guide-board: .*'--bogus'/);
      expect(lines[1]).toBe(`Run 'guide-board runs ${command} --help' for usage.`);
      expect(lines[2]).toBe("");
    }
  });

  it("rejects options a command does not take (exit 2)", async () => {
    expect((await examples("runs", "show", PASSED, "--status", "passed")).code).toBe(2);
    expect((await examples("runs", "reports", PASSED, "--cursor", "x")).code).toBe(2);
  });

  it("prints parse errors on one line with control characters escaped", async () => {
    // Node's own message for `--limit -1` is three lines long.
    const ambiguous = await examples("runs", "list", "--limit", "-1");
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr.split("\n")).toHaveLength(3);
    // An unknown option is echoed as typed: an ESC sequence reaches the terminal and a newline forges a line.
    const evil = await examples("runs", "list", "--evil\u001b[2J\nforged: line");
    expect(evil.code).toBe(2);
    expect(evil.stderr).not.toContain("\u001b");
    expect(evil.stderr.split("\n")).toHaveLength(3);
  });

  it("prints a JSON error body on stdout for bad usage with --json", async () => {
    // `--since nope --json` prints {"error":{"code":"INVALID_OPTIONS",...}}; `--limit 0 --json` prints nothing.
    const since = await examples("runs", "list", "--since", "nope", "--json");
    expect(JSON.parse(since.stdout)).toMatchObject({ error: { code: "INVALID_OPTIONS" } });
    const limit = await examples("runs", "list", "--limit", "0", "--json");
    expect(limit.code).toBe(2);
    expect(JSON.parse(limit.stdout || "{}")).toMatchObject({
      error: { code: "INVALID_OPTIONS", message: expect.any(String) },
    });
  });
});

describe("runs directory", () => {
  it("uses GUIDE_BOARD_RUNS_DIR when no --runs-dir is given", async () => {
    const { stdout, code } = await cli(["runs", "list", "--json"], {
      env: { GUIDE_BOARD_RUNS_DIR: EXAMPLES },
      cwd: tempDir(),
    });
    expect(code).toBe(0);
    expect(stdout).toBe(toJSONText(await listRetainedRuns({ runsDir: [EXAMPLES] })));
  });

  it("reads several directories from GUIDE_BOARD_RUNS_DIR, path-delimited", async () => {
    const a = makeRunsDir().runsDir;
    const b = makeRunsDir().runsDir;
    writeCurrentRun(a, "from-a", { startedAt: "2026-01-01T00:00:00Z" });
    writeCurrentRun(b, "from-b", { startedAt: "2026-01-02T00:00:00Z" });
    const { stdout } = await cli(["runs", "list"], { env: { GUIDE_BOARD_RUNS_DIR: [a, b].join(delimiter) } });
    expect(idsOf(stdout)).toEqual(["from-b", "from-a"]);
  });

  it("prefers --runs-dir over GUIDE_BOARD_RUNS_DIR", async () => {
    const { runsDir } = makeRunsDir();
    writeCurrentRun(runsDir, "mine");
    const { stdout } = await cli(["runs", "list", "--runs-dir", runsDir], { env: { GUIDE_BOARD_RUNS_DIR: EXAMPLES } });
    expect(idsOf(stdout)).toEqual(["mine"]);
  });

  it("defaults to ./runs relative to the given cwd", async () => {
    const { root, runsDir } = makeRunsDir();
    writeCurrentRun(runsDir, "local-run");
    const { code, stdout } = await cli(["runs", "latest", "--json"], { cwd: root });
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ runId: "local-run", runDir: join(runsDir, "local-run") });
    const elsewhere = tempDir();
    expect(await cli(["runs", "list"], { cwd: elsewhere })).toEqual({
      code: 0,
      stdout: `No retained runs in ${join(elsewhere, "runs")}.\n`,
      stderr: "Skipped 1 folder(s): runs-dir-missing 1 (details with --json).\n",
    });
  });

  it("resolves a relative --runs-dir against the given cwd", async () => {
    const { stdout } = await cli(["runs", "show", PASSED, "--runs-dir", "examples/runs"], { cwd: ROOT });
    expect(stdout).toContain(`Run:       ${PASSED}\n`);
  });

  it("takes --runs-dir repeatedly; the first directory wins on a duplicate run id", async () => {
    const a = makeRunsDir().runsDir;
    const b = makeRunsDir().runsDir;
    writeCurrentRun(a, "shared", { labels: { from: "a" } });
    writeCurrentRun(b, "shared", { labels: { from: "b" } });
    writeCurrentRun(b, "only-b", { startedAt: "2026-02-01T00:00:00Z" });
    const { stdout, stderr } = await cli(["runs", "list", "--runs-dir", a, "--runs-dir", b]);
    expect(idsOf(stdout)).toEqual(["only-b", "shared"]);
    expect(stdout).toMatch(/^shared\s.*from=a$/m);
    expect(stderr).toBe("Skipped 1 folder(s): duplicate-run-id 1 (details with --json).\n");
    const json = await cli(["runs", "list", "--runs-dir", a, "--runs-dir", b, "--json"]);
    expect(json.stdout).toBe(toJSONText(await listRetainedRuns({ runsDir: [a, b] })));
  });
});

describe("terminal safety", () => {
  const hostile = "\u001b[31mred\nsecond line\u009b2J\u202etxt.exe";

  it("escapes control characters from labels in the list table", async () => {
    const { runsDir } = makeRunsDir();
    writeCurrentRun(runsDir, "r1", { labels: { note: hostile, "k\u0007ey": "v" } });
    const { code, stdout } = await cli(["runs", "list", "--runs-dir", runsDir]);
    expect(code).toBe(0);
    expect(stdout).not.toContain("\u001b");
    expect(stdout).not.toMatch(UNPRINTABLE);
    expect(stdout).toContain("note=\\u001b[31mred\\u000asecond line\\u009b2J\\u202etxt.exe");
    expect(stdout).toContain("k\\u0007ey=v");
    expect(stdout.trimEnd().split("\n")).toHaveLength(2);
  });

  it("escapes control characters in the details of show and latest", async () => {
    const { runsDir } = makeRunsDir();
    writeCurrentRun(runsDir, "r1", { labels: { note: hostile }, command: ["echo", "\u001b]0;pwned\u0007"] });
    for (const args of [["show", "r1"], ["latest"]]) {
      const { code, stdout } = await cli(["runs", ...args, "--runs-dir", runsDir]);
      expect(code).toBe(0);
      expect(stdout).not.toMatch(UNPRINTABLE);
      expect(stdout).toContain("Labels:    note=\\u001b[31mred\\u000asecond line");
      expect(stdout).toContain("Command:   echo \\u001b]0;pwned\\u0007\n");
    }
  });

  it("escapes report and artifact fields from the run folder in their tables", async () => {
    const { runsDir } = makeRunsDir();
    writeCurrentRun(runsDir, "r1", {
      reports: [{ id: "r\u001b[1m", path: "reports/\u202eevil.txt", mediaType: "text/\u009bplain", content: "x" }],
      artifacts: { "out/\u2066x.txt": "x" },
    });
    for (const command of ["reports", "manifest"]) {
      const { code, stdout } = await cli(["runs", command, "r1", "--runs-dir", runsDir]);
      expect(code).toBe(0);
      expect(stdout).not.toMatch(UNPRINTABLE);
    }
  });

  it("escapes the manifest path echoed in a file-missing marker message", async () => {
    const { runsDir } = makeRunsDir();
    writeCurrentRun(runsDir, "r1", {
      manifest: "undeclared",
      extra: { artifactManifest: "assessment-package/\u202enosj.json" },
    });
    const { code, stdout } = await cli(["runs", "manifest", "r1", "--runs-dir", runsDir]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^No artifact manifest \(file-missing\)/);
    expect(stdout).not.toMatch(UNPRINTABLE);
  });

  it("--json text (toJSONText) escapes characters that act on terminals and still parses to the same value", () => {
    const value = { label: "a\u009b31m\u202eb\u2028c\u0000" };
    const text = toJSONText(value);
    expect(text.slice(0, -1)).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202e\u2028]/);
    expect(text.endsWith("\n")).toBe(true);
    expect(JSON.parse(text)).toEqual(value);
  });
});
