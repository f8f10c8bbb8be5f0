// `guide-board run` as users run it: the built bin in a child process, in temp folders. Every
// outcome (passed, failed, timed out, could not start, cancelled, killed) is checked on disk and
// through the library; manifests are checked against hashes computed here, independently.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  artifactManifest,
  getRetainedRun,
  isGuideBoardError,
  isRunId,
  listRetainedRuns,
  reportPaths,
  submissionManifest,
  toJSONText,
} from "../src/index.ts";
import { assertBuilt, isAlive, runBin as spawnBin } from "./helpers/bin.ts";
import { sha256, tempDir } from "./helpers/runs.ts";

/** How long a child may take to start or stop on a busy machine. */
const PATIENCE_MS = 45_000;
/** A run id as `run` makes them: the UTC start time, then a random suffix. */
const GENERATED_ID = /^\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z-[a-z0-9]{6}$/;

beforeAll(assertBuilt);

// ---------------------------------------------------------------------------------------------
// Processes: every child (test/helpers/bin.ts) and every command's pid file is cleaned up,
// whatever a test did

const pidFiles = new Set<string>();
afterAll(() => {
  for (const file of pidFiles) {
    const pid = readPid(file);
    if (pid !== undefined && isAlive(pid)) process.kill(pid, "SIGKILL");
  }
});

/** Spawns `node bin/guide-board.mjs ...args` in `cwd`. */
const bin = (args: string[], cwd: string, env: Record<string, string> = {}) =>
  spawnBin(args, { cwd, env, timeoutMs: PATIENCE_MS });

/** Runs the bin to the end. */
const runBin = (args: string[], cwd: string, env?: Record<string, string>) => bin(args, cwd, env).finished();

/** A node one-liner as a command. */
const nodeCommand = (code: string) => [process.execPath, "-e", code];

/** A command that writes its pid to `pidFile`, then sleeps 30 s as that same process. */
function sleeper(pidFile: string): string[] {
  pidFiles.add(pidFile);
  return ["sh", "-c", 'echo $$ > "$1"; exec sleep 30', "sh", pidFile];
}

/** Polls `check` until it returns something other than `undefined`/`false`. */
async function until<T>(what: string, check: () => T | undefined | false, timeoutMs = PATIENCE_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const readPid = (file: string) => {
  const text = existsSync(file) ? readFileSync(file, "utf8").trim() : "";
  return /^\d+$/.test(text) ? Number(text) : undefined;
};

/** The only run folder in `runsDir`. */
function onlyRunId(runsDir: string): string {
  const names = readdirSync(runsDir);
  expect(names).toHaveLength(1);
  return names[0]!;
}

const readJson = (path: string) => JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
const summaryOf = (runsDir: string, runId: string) => readJson(join(runsDir, runId, "retention-summary.json"));

/** What a finished run folder must always look like, whatever its status. */
function expectWellFormedFolder(runsDir: string, runId: string): void {
  const names = readdirSync(join(runsDir, runId));
  expect(names).toEqual(expect.arrayContaining(["retention-summary.json", "logs", "reports", "assessment-package"]));
  expect(names.filter((name) => name.startsWith("."))).toEqual([]); // no writer file, no temp files
  expect(readJson(join(runsDir, runId, "assessment-package", "artifact-manifest.json"))).toMatchObject({
    schemaVersion: 1,
  });
}

/** A fresh folder to run in (no config file) and a runs directory inside it. */
function workspace(): { cwd: string; runsDir: string } {
  const cwd = tempDir("gb-run-");
  return { cwd, runsDir: join(cwd, "runs") };
}

// ---------------------------------------------------------------------------------------------

describe("guide-board run: statuses and exit codes", () => {
  it("records a passing command: exit 0, status passed, a generated id, retained and listed", async () => {
    const { cwd, runsDir } = workspace();
    const before = Date.now();
    const result = await runBin(["run", "--runs-dir", runsDir, "--label", "suite=unit", "--", "true"], cwd);
    expect(result.code).toBe(0);
    const runId = onlyRunId(runsDir);
    expect(runId).toMatch(GENERATED_ID);
    expect(isRunId(runId)).toBe(true);
    const startedAt = Date.parse(runId.replace(/T(\d{2})-(\d{2})-(\d{2})-(\d{3})Z-.*$/, "T$1:$2:$3.$4Z"));
    expect(startedAt).toBeGreaterThanOrEqual(before - 1000);
    expect(startedAt).toBeLessThanOrEqual(Date.now());
    expect(result.stderr).toMatch(
      new RegExp(`^guide-board: run ${runId} passed \\(exit 0\\), retained in .*${runId}\\n$`, "m"),
    );

    const summary = summaryOf(runsDir, runId);
    expect(summary).toMatchObject({
      schemaVersion: 2,
      runId,
      status: "passed",
      exitCode: 0,
      command: ["true"],
      labels: { suite: "unit" },
      reports: [],
      artifactManifest: "assessment-package/artifact-manifest.json",
    });
    expect(summary).not.toHaveProperty("submissionManifest");
    expectWellFormedFolder(runsDir, runId);
    const run = await getRetainedRun({ runsDir }, runId);
    expect(run).toMatchObject({
      status: "passed",
      exitCode: 0,
      compatibility: { generation: "current", missing: ["submissionManifest"] },
    });
    const { runs, diagnostics } = await listRetainedRuns({ runsDir });
    expect(runs.map((r) => r.runId)).toEqual([runId]);
    expect(diagnostics).toEqual([]);
  });

  it("records a failing command: the CLI exits with its code (3), status failed, exitCode 3", async () => {
    const { cwd, runsDir } = workspace();
    const result = await runBin(["run", "--runs-dir", runsDir, "--", "sh", "-c", "exit 3"], cwd);
    expect(result.code).toBe(3);
    const runId = onlyRunId(runsDir);
    expect(summaryOf(runsDir, runId)).toMatchObject({ status: "failed", exitCode: 3 });
    expect(result.stderr).toContain(`run ${runId} failed (exit 3)`);
    expectWellFormedFolder(runsDir, runId);
  });

  it("stops a command past --timeout promptly: status errored, exit 124, the command gone", async () => {
    const { cwd, runsDir } = workspace();
    const pidFile = join(cwd, "sleep.pid");
    const started = Date.now();
    const result = await runBin(["run", "--runs-dir", runsDir, "--timeout", "1s", "--", ...sleeper(pidFile)], cwd);
    const elapsed = Date.now() - started;
    expect(result.code).toBe(124);
    expect(elapsed).toBeLessThan(12_000); // far below the command's 30 s
    const runId = onlyRunId(runsDir);
    expect(summaryOf(runsDir, runId)).toMatchObject({ status: "errored", exitCode: null });
    expect(isAlive(readPid(pidFile)!)).toBe(false);
    expectWellFormedFolder(runsDir, runId);
  });

  it("records a command that does not exist: status errored, exit 127, a message on stderr and in the log", async () => {
    const { cwd, runsDir } = workspace();
    const result = await runBin(["run", "--runs-dir", runsDir, "--", "guide-board-no-such-command-xyz", "--flag"], cwd);
    expect(result.code).toBe(127);
    const runId = onlyRunId(runsDir);
    expect(summaryOf(runsDir, runId)).toMatchObject({
      status: "errored",
      exitCode: null,
      command: ["guide-board-no-such-command-xyz", "--flag"],
    });
    expect(result.stderr).toContain("could not start guide-board-no-such-command-xyz: ENOENT");
    expect(readFileSync(join(runsDir, runId, "logs", "stderr.log"), "utf8")).toContain("ENOENT");
    expectWellFormedFolder(runsDir, runId);
    expect((await getRetainedRun({ runsDir }, runId)).status).toBe("errored");
  });

  it("records a command that is not executable: status errored, exit 126", async () => {
    const { cwd, runsDir } = workspace();
    writeFileSync(join(cwd, "script.sh"), "#!/bin/sh\necho never\n", { mode: 0o644 });
    const result = await runBin(["run", "--runs-dir", runsDir, "--", "./script.sh"], cwd);
    expect(result.code).toBe(126);
    const runId = onlyRunId(runsDir);
    expect(summaryOf(runsDir, runId)).toMatchObject({ status: "errored", exitCode: null });
    expect(result.stdout).not.toContain("never");
  });

  it.each(["SIGINT", "SIGTERM"] as const)(
    "on %s stops the command, retains the run as cancelled and exits 130",
    async (signal) => {
      const { cwd, runsDir } = workspace();
      const pidFile = join(cwd, "sleep.pid");
      const spawned = bin(["run", "--runs-dir", runsDir, "--", ...sleeper(pidFile)], cwd);
      const sleepPid = await until("the command to start", () => readPid(pidFile));
      const runId = onlyRunId(runsDir);
      expect(existsSync(join(runsDir, runId, "retention-summary.json"))).toBe(false);
      spawned.child.kill(signal);
      const result = await spawned.finished();
      expect({ code: result.code, signal: result.signal }).toEqual({ code: 130, signal: null });
      expect(isAlive(sleepPid)).toBe(false);
      expect(summaryOf(runsDir, runId)).toMatchObject({ runId, status: "cancelled", exitCode: null });
      expect(result.stderr).toContain(`run ${runId} cancelled`);
      expectWellFormedFolder(runsDir, runId);
      expect((await getRetainedRun({ runsDir }, runId)).status).toBe("cancelled");
    },
  );

  it("ends when the command exits, not when a background process it left behind does", async () => {
    const { cwd, runsDir } = workspace();
    const pidFile = join(cwd, "bg.pid");
    pidFiles.add(pidFile);
    const started = performance.now();
    const result = await runBin(
      ["run", "--runs-dir", runsDir, "--", "sh", "-c", "sleep 30 & echo $! > bg.pid; echo started"],
      cwd,
    );
    const took = performance.now() - started;
    const pid = Number(readFileSync(pidFile, "utf8"));
    try {
      expect(result.code).toBe(0);
      expect(took).toBeLessThan(10_000); // the background sleep lasts 30 s
      const { runs } = await listRetainedRuns({ runsDir });
      expect(runs.map((run) => run.status)).toEqual(["passed"]);
    } finally {
      if (isAlive(pid)) process.kill(pid, "SIGKILL");
    }
  });
});

describe("guide-board run: what a run leaves behind", () => {
  it("lists reports with media types, hashes nested artifacts, and turns the submission record into a manifest", async () => {
    const { cwd, runsDir } = workspace();
    const binary = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7919) % 256));
    writeFileSync(join(cwd, "app.bin"), binary);
    const script = `
      const fs = require("node:fs"), path = require("node:path");
      const put = (dir, rel, content) => { const file = path.join(dir, rel); fs.mkdirSync(path.dirname(file), { recursive: true }); fs.writeFileSync(file, content); };
      const reports = process.env.GUIDE_BOARD_REPORTS_DIR, artifacts = process.env.GUIDE_BOARD_ARTIFACTS_DIR;
      put(reports, "index.html", "<h1>2 passed</h1>");
      put(reports, "junit.xml", "<testsuite tests='2'/>");
      put(reports, "results.json", '{"passed":2}');
      put(reports, "coverage/lcov.info", "TN:");
      put(reports, "NOTES", "no extension");
      put(artifacts, "build/app.bin", fs.readFileSync("app.bin"));
      put(artifacts, "coverage/deep/er/summary.json", '{"lines":91.4}');
      put(artifacts, "empty.txt", "");
      fs.writeFileSync(process.env.GUIDE_BOARD_SUBMISSION_FILE, JSON.stringify({ submittedTo: "board", submissionId: "sub-7", items: [1, { a: null }] }));
    `;
    const result = await runBin(["run", "--runs-dir", runsDir, "--", ...nodeCommand(script)], cwd);
    expect(result.code).toBe(0);
    const runId = onlyRunId(runsDir);
    const runDir = join(runsDir, runId);

    expect(summaryOf(runsDir, runId).reports).toEqual([
      { id: "NOTES", path: "reports/NOTES", mediaType: "application/octet-stream" },
      { id: "lcov.info", path: "reports/coverage/lcov.info", mediaType: "application/octet-stream" },
      { id: "index.html", path: "reports/index.html", mediaType: "text/html; charset=utf-8" },
      { id: "junit.xml", path: "reports/junit.xml", mediaType: "application/xml" },
      { id: "results.json", path: "reports/results.json", mediaType: "application/json" },
    ]);
    const { reports } = await reportPaths({ runsDir }, runId);
    expect(reports.every((report) => report.exists)).toBe(true);

    const manifest = readJson(join(runDir, "assessment-package", "artifact-manifest.json"));
    const expected = ["build/app.bin", "coverage/deep/er/summary.json", "empty.txt"].map((path) => {
      const bytes = readFileSync(join(runDir, "assessment-package", path));
      return { path, size: bytes.length, sha256: sha256(bytes) };
    });
    expect(manifest).toEqual({ schemaVersion: 1, artifacts: expected });
    expect(expected[0]).toEqual({ path: "build/app.bin", size: 70_000, sha256: sha256(binary) });
    expect(expected[2]!.sha256).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    const library = await artifactManifest({ runsDir }, runId);
    expect(library.available && library.artifacts.map((a) => [a.path, a.sha256, a.exists])).toEqual(
      expected.map((e) => [e.path, e.sha256, true]),
    );

    expect(readJson(join(runDir, "submission-manifest.json"))).toEqual({
      schemaVersion: 1,
      submittedTo: "board",
      submissionId: "sub-7",
      items: [1, { a: null }],
    });
    expect(summaryOf(runsDir, runId).submissionManifest).toBe("submission-manifest.json");
    const submission = await submissionManifest({ runsDir }, runId);
    expect(submission).toMatchObject({ available: true, manifest: { submissionId: "sub-7" } });
    expect((await getRetainedRun({ runsDir }, runId)).compatibility.missing).toEqual([]);
  });

  it("skips links in assessment-package: never hashed, never followed, warned about", async () => {
    const { cwd, runsDir } = workspace();
    writeFileSync(join(cwd, "secret.txt"), "outside the run");
    mkdirSync(join(cwd, "outside-dir"));
    writeFileSync(join(cwd, "outside-dir", "inner.txt"), "also outside");
    const script = `
      const fs = require("node:fs"), path = require("node:path");
      const dir = process.env.GUIDE_BOARD_ARTIFACTS_DIR;
      fs.writeFileSync(path.join(dir, "real.txt"), "real");
      fs.symlinkSync(path.resolve("secret.txt"), path.join(dir, "secret-link.txt"));
      fs.symlinkSync(path.resolve("outside-dir"), path.join(dir, "linked-dir"));
      fs.symlinkSync("real.txt", path.join(dir, "inner-link.txt"));
    `;
    const result = await runBin(["run", "--runs-dir", runsDir, "--", ...nodeCommand(script)], cwd);
    expect(result.code).toBe(0);
    const runId = onlyRunId(runsDir);
    const manifest = readJson(join(runsDir, runId, "assessment-package", "artifact-manifest.json"));
    expect(manifest).toEqual({ schemaVersion: 1, artifacts: [{ path: "real.txt", size: 4, sha256: sha256("real") }] });
    expect(JSON.stringify(manifest)).not.toContain(sha256("outside the run"));
    for (const name of ["secret-link.txt", "linked-dir", "inner-link.txt"]) {
      expect(result.stderr).toContain(`skipped artifacts entry ${name} (a symbolic link)`);
    }
  });

  it("skips a link in reports/ as well: no report ref for it", async () => {
    const { cwd, runsDir } = workspace();
    writeFileSync(join(cwd, "outside.xml"), "<secret/>");
    const script = `require("node:fs").symlinkSync(${JSON.stringify(join(cwd, "outside.xml"))}, process.env.GUIDE_BOARD_REPORTS_DIR + "/leak.xml")`;
    const result = await runBin(["run", "--runs-dir", runsDir, "--", ...nodeCommand(script)], cwd);
    expect(result.code).toBe(0);
    expect(summaryOf(runsDir, onlyRunId(runsDir)).reports).toEqual([]);
    expect(result.stderr).toContain("skipped reports entry leak.xml (a symbolic link)");
  });

  it("tees stdout and stderr to the terminal and to logs/, byte for byte, without losing large output", async () => {
    const { cwd, runsDir } = workspace();
    const script = `
      process.stdout.write("out-1\\n"); process.stderr.write("err-1\\n");
      process.stdout.write("x".repeat(200000) + "\\n");
      process.stdout.write("out-2 é\\n"); process.stderr.write("err-2\\n");
    `;
    const result = await runBin(["run", "--runs-dir", runsDir, "--", ...nodeCommand(script)], cwd);
    expect(result.code).toBe(0);
    const runId = onlyRunId(runsDir);
    const expectedOut = `out-1\n${"x".repeat(200_000)}\nout-2 é\n`;
    expect(readFileSync(join(runsDir, runId, "logs", "stdout.log"), "utf8")).toBe(expectedOut);
    expect(readFileSync(join(runsDir, runId, "logs", "stderr.log"), "utf8")).toBe("err-1\nerr-2\n");
    expect(result.stdout).toBe(expectedOut);
    expect(result.stderr.startsWith("err-1\nerr-2\n")).toBe(true);
    expect(result.stderr).toContain(`run ${runId} passed`);
  });

  it("gives every report in a summary a distinct id", async () => {
    const { cwd, runsDir } = workspace();
    const script = `
      const fs = require("node:fs"), path = require("node:path");
      const dir = process.env.GUIDE_BOARD_REPORTS_DIR;
      fs.mkdirSync(path.join(dir, "x"));
      for (const name of ["junit.xml", "junit.xml-2", "x/junit.xml"]) fs.writeFileSync(path.join(dir, name), name);
    `;
    expect((await runBin(["run", "--runs-dir", runsDir, "--", ...nodeCommand(script)], cwd)).code).toBe(0);
    const reports = summaryOf(runsDir, onlyRunId(runsDir)).reports as { id: string }[];
    expect(reports).toHaveLength(3);
    expect(new Set(reports.map((report) => report.id)).size).toBe(3);
  });
});

describe("guide-board run NAME: guides from guide-board.config.json", () => {
  function project(guides: Record<string, unknown>): { cwd: string; runsDir: string } {
    const cwd = tempDir("gb-project-");
    mkdirSync(join(cwd, "work"));
    writeFileSync(join(cwd, "guide-board.config.json"), JSON.stringify({ runsDir: "out/runs", guides }));
    return { cwd, runsDir: join(cwd, "out", "runs") };
  }

  it("runs the guide with its cwd, env and labels (plus guide=NAME and --label) into the config's runsDir", async () => {
    const script = `
      const fs = require("node:fs"), path = require("node:path");
      fs.writeFileSync(path.join(process.env.GUIDE_BOARD_REPORTS_DIR, "seen.json"),
        JSON.stringify({ cwd: process.cwd(), greeting: process.env.GREETING, runId: process.env.GUIDE_BOARD_RUN_ID }));
    `;
    const { cwd, runsDir } = project({
      check: {
        command: nodeCommand(script),
        cwd: "work",
        env: { GREETING: "hello" },
        labels: { suite: "unit" },
        timeout: "30s",
      },
    });
    const result = await runBin(["run", "check", "--label", "branch=main"], cwd);
    expect(result.code).toBe(0);
    const runId = onlyRunId(runsDir);
    expect(readJson(join(runsDir, runId, "reports", "seen.json"))).toEqual({
      cwd: join(cwd, "work"),
      greeting: "hello",
      runId,
    });
    expect(summaryOf(runsDir, runId)).toMatchObject({
      status: "passed",
      labels: { suite: "unit", guide: "check", branch: "main" },
    });
  });

  it("applies the guide's timeout: errored, exit 124", async () => {
    const { cwd, runsDir } = project({ hang: { command: sleeper(join(tempDir(), "sleep.pid")), timeout: "1s" } });
    const result = await runBin(["run", "hang"], cwd);
    expect(result.code).toBe(124);
    expect(summaryOf(runsDir, onlyRunId(runsDir))).toMatchObject({ status: "errored", labels: { guide: "hang" } });
  });

  it.each([
    ["a bad duration", { guides: { x: { command: ["true"], timeout: "soon" } } }, "guides.x.timeout"],
    ["a string command", { guides: { x: { command: "npm test" } } }, "guides.x.command"],
    [
      "an unknown guide field",
      { guides: { x: { command: ["true"], shell: true } } },
      'guides.x: unknown field "shell"',
    ],
    ["a non-string env value", { guides: { x: { command: ["true"], env: { A: 1 } } } }, "guides.x.env.A"],
    [
      "a bad retention value",
      { guides: { x: { command: ["true"] } }, retention: { keepLast: 0 } },
      "retention.keepLast",
    ],
    ["an unknown top-level field", { guides: { x: { command: ["true"] } }, runDir: "typo" }, 'unknown field "runDir"'],
  ])(
    "refuses a config with %s: exit 2, one line naming the field, no stack, nothing run",
    async (_what, config, field) => {
      const cwd = tempDir("gb-badconfig-");
      writeFileSync(join(cwd, "guide-board.config.json"), JSON.stringify(config));
      const result = await runBin(["run", "x", "--runs-dir", "runs"], cwd);
      expect(result.code).toBe(2);
      expect(result.stdout).toBe("");
      const [first, ...rest] = result.stderr.trimEnd().split("\n");
      expect(first).toMatch(/^guide-board: .*guide-board\.config\.json: /);
      expect(first).toContain(field);
      expect(rest).toEqual(["Run 'guide-board run --help' for usage."]);
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(existsSync(join(cwd, "runs"))).toBe(false);
    },
  );
});

describe("guide-board run: --json, concurrency, and a writer that dies", () => {
  it("--json prints exactly the library's getRetainedRun serialized with toJSONText", async () => {
    const { cwd, runsDir } = workspace();
    const result = await runBin(
      ["run", "--runs-dir", runsDir, "--json", "--label", "k=v", "--", "sh", "-c", "echo to-stderr >&2; exit 5"],
      cwd,
    );
    expect(result.code).toBe(5);
    const runId = onlyRunId(runsDir);
    expect(result.stdout).toBe(toJSONText(await getRetainedRun({ runsDir }, runId)));
    expect(JSON.parse(result.stdout)).toMatchObject({ runId, status: "failed", exitCode: 5, labels: { k: "v" } });
  });

  it("8 runs at once into one runs directory: 8 distinct ids, every summary parses and lists", async () => {
    const { cwd, runsDir } = workspace();
    const script = `require("node:fs").writeFileSync(process.env.GUIDE_BOARD_REPORTS_DIR + "/id.txt", process.env.GUIDE_BOARD_RUN_ID)`;
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        runBin(["run", "--runs-dir", runsDir, "--json", "--label", `n=${i}`, "--", ...nodeCommand(script)], cwd),
      ),
    );
    expect(results.map((r) => r.code)).toEqual(Array(8).fill(0));
    const ids = results.map((r) => (JSON.parse(r.stdout) as { runId: string }).runId);
    expect(new Set(ids).size).toBe(8);
    expect(readdirSync(runsDir).sort()).toEqual([...ids].sort());
    for (const runId of ids) {
      expect(runId).toMatch(GENERATED_ID);
      expect(summaryOf(runsDir, runId)).toMatchObject({ runId, status: "passed" });
      expect(readFileSync(join(runsDir, runId, "reports", "id.txt"), "utf8")).toBe(runId);
    }
    const { runs, diagnostics } = await listRetainedRuns({ runsDir });
    expect(runs.map((r) => r.runId).sort()).toEqual([...ids].sort());
    expect(runs.map((r) => r.labels.n).sort()).toEqual(["0", "1", "2", "3", "4", "5", "6", "7"]);
    expect(diagnostics).toEqual([]);
  }, 60_000); // eight Node children at once on two busy cores

  it("a CLI killed with SIGKILL mid-run leaves a folder that is only ever an incomplete diagnostic", async () => {
    const { cwd, runsDir } = workspace();
    const pidFile = join(cwd, "sleep.pid");
    const spawned = bin(["run", "--runs-dir", runsDir, "--", ...sleeper(pidFile)], cwd);
    await until("the command to start", () => readPid(pidFile));
    const runId = onlyRunId(runsDir);
    spawned.child.kill("SIGKILL");
    expect((await spawned.finished()).signal).toBe("SIGKILL");
    process.kill(readPid(pidFile)!, "SIGKILL"); // the orphaned command, in its own process group

    expect(existsSync(join(runsDir, runId, "retention-summary.json"))).toBe(false);
    const { runs, diagnostics } = await listRetainedRuns({ runsDir });
    expect(runs).toEqual([]);
    expect(diagnostics).toEqual([{ runsDir, entry: runId, kind: "incomplete", message: expect.any(String) }]);
    const error = await getRetainedRun({ runsDir }, runId).catch((e: unknown) => e);
    expect(isGuideBoardError(error, "RUN_NOT_FOUND")).toBe(true);
    const writer = readJson(join(runsDir, runId, ".guide-board-writer.json"));
    expect(writer).toMatchObject({ pid: spawned.child.pid });
  });
});
