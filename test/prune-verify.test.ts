// Retention and integrity: `planPrune` policy by policy, `guide-board prune` and `guide-board
// verify` through `main` on runs directories built by the helpers (verify also on runs recorded
// by the real bin), with removals checked through the library.
import { spawn, spawnSync } from "node:child_process";
import {
  existsSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { planPrune, type PruneDecision } from "../cli/prune.ts";
import {
  getRetainedRun,
  isGuideBoardError,
  listRetainedRuns,
  toJSONText,
  verifyArtifacts,
  type RetainedRun,
  type RunStatus,
} from "../src/index.ts";
import { assertBuilt, BIN, cleanEnv } from "./helpers/bin.ts";
import { runCli } from "./helpers/cli.ts";
import {
  makeRunsDir,
  sha256,
  tempDir,
  writeCurrentRun,
  writeFile,
  writeIncompleteRun,
  writeLegacyRun,
} from "./helpers/runs.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Runs the CLI in-process with no environment, in a fresh folder unless given. */
const cli = (args: string[], cwd: string = tempDir()) => runCli(args, { cwd });

/** Whether `runId` is (still) a retained run; anything but RUN_NOT_FOUND fails the test. */
async function isRetained(runsDir: string, runId: string): Promise<boolean> {
  try {
    await getRetainedRun({ runsDir }, runId);
    return true;
  } catch (error) {
    if (isGuideBoardError(error, "RUN_NOT_FOUND")) return false;
    throw error;
  }
}

const iso = (msAgo: number) => new Date(Date.now() - msAgo).toISOString();

/** Sets a folder's (and its logs') modification times `msAgo` in the past. */
function age(runDir: string, msAgo: number): void {
  const when = new Date(Date.now() - msAgo);
  for (const path of [join(runDir, "logs", "stdout.log"), join(runDir, "logs", "stderr.log"), runDir]) {
    if (existsSync(path)) utimesSync(path, when, when);
  }
}

// ---------------------------------------------------------------------------------------------
// planPrune, policy by policy

describe("planPrune", () => {
  const NOW = Date.parse("2026-06-01T00:00:00Z");

  /** A retained run that finished `daysAgo` before NOW (newest first is the caller's job). */
  function run(
    runId: string,
    daysAgo: number,
    status: RunStatus = "passed",
    labels: Record<string, string> = {},
  ): RetainedRun {
    const finishedAt = new Date(NOW - daysAgo * DAY).toISOString();
    return {
      runId,
      status,
      startedAt: new Date(NOW - daysAgo * DAY - 60_000).toISOString(),
      finishedAt,
      durationMs: 60_000,
      exitCode: status === "passed" ? 0 : 1,
      command: ["npm", "test"],
      labels,
      reportCount: 0,
      tests: null,
      runDir: `/srv/runs/${runId}`,
      compatibility: { generation: "current", schemaVersion: 2, missing: [] },
    };
  }
  const never = () => false;
  const ids = (decisions: PruneDecision[]) => decisions.map((d) => d.runId);
  /** Ten passed runs, one a day, newest first: p0 (today) … p9 (9 days ago). */
  const passed = Array.from({ length: 10 }, (_, i) => run(`p${i}`, i));

  it("removes nothing when neither keepLast nor maxAge is set, whatever else is", () => {
    expect(planPrune(passed, {}, NOW, never)).toEqual([]);
    expect(planPrune(passed, { keepStatuses: { passed: 1 }, incompleteGrace: HOUR }, NOW, never)).toEqual([]);
    expect(planPrune([], { keepLast: 1, maxAge: DAY }, NOW, never)).toEqual([]);
  });

  it("keepLast: removes every run beyond the newest N, with its runs directory and the reason", () => {
    const decisions = planPrune(passed, { keepLast: 3 }, NOW, never);
    expect(ids(decisions)).toEqual(["p3", "p4", "p5", "p6", "p7", "p8", "p9"]);
    expect(decisions[0]).toEqual({ runId: "p3", runsDir: "/srv/runs", reason: "beyond the newest 3" });
    expect(planPrune(passed, { keepLast: 10 }, NOW, never)).toEqual([]);
  });

  it("maxAge: removes runs that finished more than maxAge ago (startedAt when finishedAt is null)", () => {
    const decisions = planPrune(passed, { maxAge: 7 * DAY }, NOW, never);
    expect(ids(decisions)).toEqual(["p8", "p9"]);
    expect(decisions[0]!.reason).toBe("older than 7d");
    const unfinished = [
      run("new", 0),
      { ...run("old", 0), startedAt: new Date(NOW - 3 * DAY).toISOString(), finishedAt: null },
    ];
    expect(ids(planPrune(unfinished, { maxAge: 2 * DAY }, NOW, never))).toEqual(["old"]);
    // Exactly maxAge old is not older than maxAge.
    expect(planPrune([run("new", 0), run("edge", 7)], { maxAge: 7 * DAY }, NOW, never)).toEqual([]);
  });

  it("keepLast and maxAge together: either one lets a run go, and the reason names both when both apply", () => {
    const decisions = planPrune(passed, { keepLast: 8, maxAge: 4.5 * DAY }, NOW, never);
    expect(decisions.map((d) => [d.runId, d.reason])).toEqual([
      ["p5", "older than 108h"],
      ["p6", "older than 108h"],
      ["p7", "older than 108h"],
      ["p8", "beyond the newest 8, older than 108h"],
      ["p9", "beyond the newest 8, older than 108h"],
    ]);
  });

  it("protects the newest run of each status, even far beyond keepLast and maxAge", () => {
    const runs = [
      run("p-new", 0),
      run("f-new", 1, "failed"),
      run("p-old", 50),
      run("e-only", 60, "errored"),
      run("f-old", 70, "failed"),
      run("c-only", 80, "cancelled"),
    ];
    expect(ids(planPrune(runs, { keepLast: 1, maxAge: DAY }, NOW, never))).toEqual(["p-old", "f-old"]);
  });

  it("keepStatuses: keeps the newest N of a status (the newest one counted among them)", () => {
    const runs = [
      run("p0", 0),
      run("f1", 1, "failed"),
      run("f2", 2, "failed"),
      run("f3", 3, "failed"),
      run("f4", 4, "failed"),
      run("p5", 5),
    ];
    expect(ids(planPrune(runs, { keepLast: 1, keepStatuses: { failed: 3 } }, NOW, never))).toEqual(["f4", "p5"]);
    expect(ids(planPrune(runs, { keepLast: 1, keepStatuses: { failed: 0 } }, NOW, never))).toEqual([
      "f2",
      "f3",
      "f4",
      "p5",
    ]);
    expect(ids(planPrune(runs, { keepLast: 1, keepStatuses: { passed: 2 } }, NOW, never))).toEqual(["f2", "f3", "f4"]);
  });

  it("never removes a run the pin check says is pinned", () => {
    const pinned = new Set(["p4", "p8"]);
    const decisions = planPrune(passed, { keepLast: 2, maxAge: DAY }, NOW, (r) => pinned.has(r.runId));
    expect(ids(decisions)).toEqual(["p2", "p3", "p5", "p6", "p7", "p9"]);
    const byLabel = passed.map((r, i) => (i % 2 === 1 ? { ...r, labels: { pinned: "true" } } : r));
    expect(ids(planPrune(byLabel, { keepLast: 1 }, NOW, (r) => r.labels.pinned === "true"))).toEqual([
      "p2",
      "p4",
      "p6",
      "p8",
    ]);
  });

  it("reads a finishedAt without a time zone as UTC whatever the machine's zone", () => {
    const saved = process.env.TZ;
    process.env.TZ = "America/New_York";
    try {
      // 12 hours before NOW when read as UTC, as docs/run-layout.md says; 7 hours when read in New York.
      const runs = [
        run("new", 0),
        { ...run("zoneless", 0), startedAt: "2026-05-31T11:59:00", finishedAt: "2026-05-31T12:00:00" },
      ];
      expect(ids(planPrune(runs, { maxAge: 10 * HOUR }, NOW, never))).toEqual(["zoneless"]);
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });
});

// ---------------------------------------------------------------------------------------------
// guide-board prune

/**
 * Ten retained runs and a legacy one, newest first:
 *   r10 passed ½d · r09 failed 1d · r08 passed 2d · r07 passed 3d (label pinned=true)
 *   r06 failed 5d · r05 passed 10d (.pinned file) · r04 errored 20d · r03 passed 40d
 *   r02 failed 50d · r01 cancelled 60d · legacy passed 100d
 */
function writeWorld(runsDir: string): void {
  const runs: [string, number, RunStatus, Record<string, string>?][] = [
    ["r10", 0.5, "passed"],
    ["r09", 1, "failed"],
    ["r08", 2, "passed"],
    ["r07", 3, "passed", { pinned: "true", suite: "unit" }],
    ["r06", 5, "failed"],
    ["r05", 10, "passed"],
    ["r04", 20, "errored"],
    ["r03", 40, "passed"],
    ["r02", 50, "failed"],
    ["r01", 60, "cancelled"],
  ];
  for (const [runId, days, status, labels] of runs) {
    writeCurrentRun(runsDir, runId, {
      status,
      startedAt: iso(days * DAY + 60_000),
      finishedAt: iso(days * DAY),
      labels: labels ?? {},
    });
  }
  writeFileSync(join(runsDir, "r05", ".pinned"), "");
  writeLegacyRun(runsDir, "legacy", { startedAt: iso(100 * DAY), finishedAt: iso(100 * DAY - 60_000) });
}

/** What `--keep-last 3 --max-age 30d --keep-status failed=2` lets go from the world. */
const WORLD_REMOVED = [
  ["r03", "beyond the newest 3, older than 30d"],
  ["r02", "beyond the newest 3, older than 30d"],
  ["legacy", "beyond the newest 3, older than 30d"],
];
const WORLD_FLAGS = ["--keep-last", "3", "--max-age", "30d", "--keep-status", "failed=2"];

/** The table rows (run, reason) of a prune's stdout. */
const rowsOf = (stdout: string) =>
  stdout
    .split("\n")
    .slice(1, -2)
    .map((line) => {
      const match = /^(\S+)\s+(.*\S)\s*$/.exec(line);
      return match ? [match[1], match[2]] : [line];
    });

describe("guide-board prune", () => {
  it("--dry-run lists what would go, with reasons, and removes nothing", async () => {
    const { runsDir } = makeRunsDir();
    writeWorld(runsDir);
    const before = readdirSync(runsDir).sort();
    const { code, stdout, stderr } = await cli(["prune", "--runs-dir", runsDir, "--dry-run", ...WORLD_FLAGS]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    expect(stdout.split("\n")[0]).toMatch(/^RUN\s+WHY$/);
    expect(rowsOf(stdout)).toEqual(WORLD_REMOVED);
    expect(stdout).toMatch(/^Would remove 3 folder\(s\); 8 retained run\(s\) kept\.$/m);
    expect(readdirSync(runsDir).sort()).toEqual(before);
    for (const [runId] of WORLD_REMOVED) expect(await isRetained(runsDir, runId!)).toBe(true);
  });

  it("removes exactly the planned runs (they answer RUN_NOT_FOUND), keeps the rest, leaves no trash", async () => {
    const { runsDir } = makeRunsDir();
    writeWorld(runsDir);
    const planned = JSON.parse(
      (await cli(["prune", "--runs-dir", runsDir, "--dry-run", "--json", ...WORLD_FLAGS])).stdout,
    ) as { removed: PruneDecision[] };
    const { code, stdout } = await cli(["prune", "--runs-dir", runsDir, ...WORLD_FLAGS]);
    expect(code).toBe(0);
    expect(rowsOf(stdout)).toEqual(WORLD_REMOVED);
    expect(stdout).toMatch(/^Removed 3 folder\(s\); 8 retained run\(s\) kept\.$/m);
    for (const { runId } of planned.removed) {
      expect(await isRetained(runsDir, runId)).toBe(false);
      const error = await getRetainedRun({ runsDir }, runId).catch((e: unknown) => e);
      expect(isGuideBoardError(error, "RUN_NOT_FOUND")).toBe(true);
    }
    const { runs, diagnostics } = await listRetainedRuns({ runsDir });
    expect(runs.map((r) => r.runId)).toEqual(["r10", "r09", "r08", "r07", "r06", "r05", "r04", "r01"]);
    expect(diagnostics).toEqual([]);
    expect(readdirSync(runsDir).sort()).toEqual(["r01", "r04", "r05", "r06", "r07", "r08", "r09", "r10"]);
    // A second prune with the same policy finds nothing more.
    expect((await cli(["prune", "--runs-dir", runsDir, ...WORLD_FLAGS])).stdout).toBe(
      "Nothing to remove; 8 retained run(s) kept.\n",
    );
  });

  it("--json prints { dryRun, removed: [{ runId, runsDir, reason }], failed, kept }", async () => {
    const { runsDir } = makeRunsDir();
    writeWorld(runsDir);
    const dry = await cli(["prune", "--runs-dir", runsDir, "--json", "--dry-run", ...WORLD_FLAGS]);
    const removed = WORLD_REMOVED.map(([runId, reason]) => ({ runId, runsDir, reason }));
    expect(dry).toEqual({ code: 0, stdout: toJSONText({ dryRun: true, removed, failed: [], kept: 8 }), stderr: "" });
    const real = await cli(["prune", "--runs-dir", runsDir, "--json", ...WORLD_FLAGS]);
    expect(real).toEqual({ code: 0, stdout: toJSONText({ dryRun: false, removed, failed: [], kept: 8 }), stderr: "" });
  });

  it("pins by label pinned=true and by a .pinned file; removing the file lets the run go", async () => {
    const { runsDir } = makeRunsDir();
    writeCurrentRun(runsDir, "a-new", { startedAt: iso(3 * HOUR), finishedAt: iso(2 * HOUR) });
    writeCurrentRun(runsDir, "b-label", {
      startedAt: iso(3 * DAY),
      finishedAt: iso(3 * DAY),
      labels: { pinned: "true" },
    });
    writeCurrentRun(runsDir, "c-file", { startedAt: iso(4 * DAY), finishedAt: iso(4 * DAY) });
    writeCurrentRun(runsDir, "d-pinned-false", {
      startedAt: iso(5 * DAY),
      finishedAt: iso(5 * DAY),
      labels: { pinned: "yes" },
    });
    writeFileSync(join(runsDir, "c-file", ".pinned"), "keep: release candidate\n");
    const first = JSON.parse((await cli(["prune", "--runs-dir", runsDir, "--keep-last", "1", "--json"])).stdout) as {
      removed: PruneDecision[];
    };
    expect(first.removed.map((d) => d.runId)).toEqual(["d-pinned-false"]);
    rmSync(join(runsDir, "c-file", ".pinned"));
    const second = JSON.parse((await cli(["prune", "--runs-dir", runsDir, "--keep-last", "1", "--json"])).stdout) as {
      removed: PruneDecision[];
    };
    expect(second.removed.map((d) => d.runId)).toEqual(["c-file"]);
    expect((await listRetainedRuns({ runsDir })).runs.map((r) => r.runId)).toEqual(["a-new", "b-label"]);
  });

  it("uses the config's retention when no flags are given, and flags override it", async () => {
    const { root, runsDir } = makeRunsDir();
    writeWorld(runsDir);
    writeFileSync(
      join(root, "guide-board.config.json"),
      JSON.stringify({ runsDir: "runs", retention: { keepLast: 3, maxAge: "30d", keepStatuses: { failed: 2 } } }),
    );
    const fromConfig = await cli(["prune", "--dry-run"], root);
    expect(fromConfig.code).toBe(0);
    expect(rowsOf(fromConfig.stdout)).toEqual(WORLD_REMOVED);
    const overridden = await cli(["prune", "--dry-run", "--json", "--keep-status", "failed=1"], root);
    expect((JSON.parse(overridden.stdout) as { removed: PruneDecision[] }).removed.map((d) => d.runId)).toEqual([
      "r06",
      "r03",
      "r02",
      "legacy",
    ]);
    expect(await cli(["prune"], root)).toMatchObject({ code: 0 });
    expect((await listRetainedRuns({ runsDir })).runs).toHaveLength(8);
  });

  it("with neither keepLast nor maxAge removes no retained run and says so", async () => {
    const { runsDir } = makeRunsDir();
    writeWorld(runsDir);
    const result = await cli(["prune", "--runs-dir", runsDir, "--keep-status", "failed=1"]);
    expect(result).toEqual({
      code: 0,
      stdout: "Nothing to remove; 11 retained run(s) kept.\n",
      stderr: "guide-board: no keepLast or maxAge set: only incomplete folders are pruned.\n",
    });
    expect((await listRetainedRuns({ runsDir })).runs).toHaveLength(11);
  });

  it("refuses bad flags with exit 2", async () => {
    for (const flags of [
      ["--keep-last", "0"],
      ["--max-age", "soon"],
      ["--keep-status", "broken=1"],
      ["--keep-status", "failed"],
      ["extra"],
    ]) {
      const result = await cli(["prune", "--runs-dir", tempDir(), ...flags]);
      expect(result.code, flags.join(" ")).toBe(2);
      expect(result.stderr, flags.join(" ")).toMatch(/^guide-board: .*\nRun 'guide-board prune --help' for usage\.\n$/);
    }
  });
});

describe("guide-board prune: incomplete folders and leftovers", () => {
  /** A pid that certainly belonged to a process that has exited. */
  async function deadPid(): Promise<number> {
    const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
    await new Promise((resolve) => child.on("exit", resolve));
    return child.pid!;
  }

  it("removes incomplete folders idle past the grace; keeps fresh ones and those with a live writer on this host", async () => {
    const { runsDir } = makeRunsDir();
    writeCurrentRun(runsDir, "done", { startedAt: iso(HOUR), finishedAt: iso(HOUR) });
    const stale = writeIncompleteRun(runsDir, "stale");
    const fresh = writeIncompleteRun(runsDir, "fresh");
    const live = writeIncompleteRun(runsDir, "live-writer");
    const dead = writeIncompleteRun(runsDir, "dead-writer");
    const elsewhere = writeIncompleteRun(runsDir, "other-host");
    writeFileSync(join(live, ".guide-board-writer.json"), JSON.stringify({ pid: process.pid, host: hostname() }));
    writeFileSync(join(dead, ".guide-board-writer.json"), JSON.stringify({ pid: await deadPid(), host: hostname() }));
    writeFileSync(
      join(elsewhere, ".guide-board-writer.json"),
      JSON.stringify({ pid: process.pid, host: `not-${hostname()}` }),
    );
    for (const dir of [stale, live, dead, elsewhere]) age(dir, 48 * HOUR);
    age(fresh, 30 * 60_000);

    const dry = JSON.parse((await cli(["prune", "--runs-dir", runsDir, "--dry-run", "--json"])).stdout) as {
      removed: PruneDecision[];
    };
    expect(dry.removed.map((d) => d.runId).sort()).toEqual(["dead-writer", "other-host", "stale"]);
    expect(dry.removed.map((d) => [d.reason, d.runsDir])).toEqual(
      Array(3).fill(["incomplete, untouched for more than 1d", runsDir]),
    );
    expect(readdirSync(runsDir)).toHaveLength(6);

    const real = await cli(["prune", "--runs-dir", runsDir]);
    expect(real.code).toBe(0);
    expect(
      rowsOf(real.stdout)
        .map((row) => row[0])
        .sort(),
    ).toEqual(["dead-writer", "other-host", "stale"]);
    expect(readdirSync(runsDir).sort()).toEqual(["done", "fresh", "live-writer"]);

    // A shorter grace takes the fresh one too, never the live one.
    const shorter = await cli(["prune", "--runs-dir", runsDir, "--incomplete-grace", "10m", "--json"]);
    expect((JSON.parse(shorter.stdout) as { removed: PruneDecision[] }).removed).toEqual([
      { runId: "fresh", runsDir, reason: "incomplete, untouched for more than 600s" },
    ]);
    expect(readdirSync(runsDir).sort()).toEqual(["done", "live-writer"]);
  });

  it("takes the config's incompleteGrace", async () => {
    const { root, runsDir } = makeRunsDir();
    writeCurrentRun(runsDir, "done");
    age(writeIncompleteRun(runsDir, "two-hours"), 2 * HOUR);
    writeFileSync(join(root, "guide-board.config.json"), JSON.stringify({ retention: { incompleteGrace: "1h" } }));
    await cli(["prune"], root);
    expect(readdirSync(runsDir)).toEqual(["done"]);
  });

  it("never lists .guide-board-trash-* folders and deletes them on the next prune", async () => {
    const { runsDir } = makeRunsDir();
    writeCurrentRun(runsDir, "kept");
    // What an interrupted prune leaves: a whole run renamed out of the way, summary included.
    renameSync(writeCurrentRun(runsDir, "gone"), join(runsDir, ".guide-board-trash-gone-abc123"));
    writeFile(
      join(runsDir, ".guide-board-trash-other-x1", "retention-summary.json"),
      JSON.stringify({ runId: ".guide-board-trash-other-x1" }),
    );
    const { runs, diagnostics } = await listRetainedRuns({ runsDir });
    expect(runs.map((r) => r.runId)).toEqual(["kept"]);
    expect(diagnostics).toEqual([]);
    const listed = await cli(["runs", "list", "--runs-dir", runsDir, "--json"]);
    expect(listed.stdout).not.toContain("guide-board-trash");

    expect((await cli(["prune", "--runs-dir", runsDir, "--dry-run"])).code).toBe(0);
    expect(readdirSync(runsDir).filter((name) => name.startsWith(".guide-board-trash-"))).toHaveLength(2);
    expect((await cli(["prune", "--runs-dir", runsDir])).code).toBe(0);
    expect(readdirSync(runsDir)).toEqual(["kept"]);
  });

  it("deletes leftover trash even in a runs directory that holds no retained run", async () => {
    const { runsDir } = makeRunsDir();
    writeFile(join(runsDir, ".guide-board-trash-old-run-k2j4h1", "logs", "stdout.log"), "left by an interrupted prune");
    writeIncompleteRun(runsDir, "in-progress");
    expect((await cli(["prune", "--runs-dir", runsDir])).code).toBe(0);
    expect(readdirSync(runsDir)).toEqual(["in-progress"]);
  });
});

// ---------------------------------------------------------------------------------------------
// guide-board verify

describe("guide-board verify", () => {
  const { runsDir } = makeRunsDir();
  const recorded: string[] = [];

  /** Records a run with three artifacts through the real bin; returns its id. */
  function record(): string {
    const script = `
      const fs = require("node:fs"), path = require("node:path");
      const dir = process.env.GUIDE_BOARD_ARTIFACTS_DIR;
      fs.mkdirSync(path.join(dir, "nested", "deeper"), { recursive: true });
      fs.writeFileSync(path.join(dir, "a.txt"), "hello");
      fs.writeFileSync(path.join(dir, "nested", "deeper", "b.bin"), Buffer.alloc(4096, 7));
      fs.writeFileSync(path.join(dir, "c.txt"), "see");
    `;
    const child = spawnSync(
      process.execPath,
      [BIN, "run", "--runs-dir", runsDir, "--json", "--", process.execPath, "-e", script],
      {
        cwd: tempDir(),
        env: cleanEnv(),
        encoding: "utf8",
        timeout: 20_000,
      },
    );
    expect(child.status, child.stderr).toBe(0);
    return (JSON.parse(child.stdout) as { runId: string }).runId;
  }

  beforeAll(() => {
    assertBuilt();
    recorded.push(record(), record());
  });

  it("answers OK, exit 0, for a run just recorded by guide-board run", async () => {
    const [runId] = recorded as [string];
    expect(await cli(["verify", runId, "--runs-dir", runsDir])).toEqual({
      code: 0,
      stdout: "OK: 3 artifact(s) match the manifest.\n",
      stderr: "",
    });
    const json = await cli(["verify", runId, "--runs-dir", runsDir, "--json"]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({ runId, ok: true, checked: 3, problems: [] });
    expect(json.stdout).toBe(toJSONText(await verifyArtifacts({ runsDir }, runId)));
  });

  it("lists every tampering: hash-mismatch, size-mismatch, missing and extra files (links are not counted, as run skips them); exit 1", async () => {
    const [, runId] = recorded as [string, string];
    const dir = join(runsDir, runId, "assessment-package");
    writeFileSync(join(dir, "a.txt"), "HELLO"); // same size, other bytes
    writeFileSync(join(dir, "nested", "deeper", "b.bin"), Buffer.alloc(4097, 7)); // one byte more
    rmSync(join(dir, "c.txt"));
    writeFileSync(join(dir, "nested", "extra.txt"), "not in the manifest");
    symlinkSync("a.txt", join(dir, "link.txt"));

    const problems = [
      { path: "a.txt", kind: "hash-mismatch", expected: sha256("hello"), actual: sha256("HELLO") },
      { path: "nested/deeper/b.bin", kind: "size-mismatch", expected: "4096", actual: "4097" },
      { path: "c.txt", kind: "missing" },
      { path: "nested/extra.txt", kind: "extra" },
    ];
    const json = await cli(["verify", runId, "--runs-dir", runsDir, "--json"]);
    expect(json.code).toBe(1);
    const result = JSON.parse(json.stdout) as {
      runId: string;
      ok: boolean;
      checked: number;
      problems: { path: string }[];
    };
    expect({ ...result, problems: [...result.problems].sort((a, b) => (a.path < b.path ? -1 : 1)) }).toEqual({
      runId,
      ok: false,
      checked: 3,
      problems: [...problems].sort((a, b) => (a.path < b.path ? -1 : 1)),
    });

    const table = await cli(["verify", runId, "--runs-dir", runsDir]);
    expect(table.code).toBe(1);
    const lines = table.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^PROBLEM\s+PATH\s+EXPECTED\s+ACTUAL$/);
    for (const p of problems) {
      expect(
        lines.some(
          (line) =>
            line.startsWith(p.kind) &&
            line.includes(` ${p.path}`) &&
            (p.expected === undefined || line.includes(p.expected)),
        ),
        p.path,
      ).toBe(true);
    }
    expect(lines.at(-1)).toBe("4 problem(s) in 3 listed artifact(s).");
    // verify only reads: the tampered files are as the test left them.
    expect(readFileSync(join(dir, "a.txt"), "utf8")).toBe("HELLO");
  });

  it("answers exit 1 with ARTIFACT_NOT_FOUND for a legacy run, which has no manifest", async () => {
    writeLegacyRun(runsDir, "legacy-run");
    const text = await cli(["verify", "legacy-run", "--runs-dir", runsDir]);
    expect(text.code).toBe(1);
    expect(text.stderr).toMatch(/^guide-board: Run legacy-run has no artifact manifest to verify: /);
    const json = await cli(["verify", "legacy-run", "--runs-dir", runsDir, "--json"]);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual({ error: { code: "ARTIFACT_NOT_FOUND", message: expect.any(String) } });
  });

  it("answers exit 1 RUN_NOT_FOUND for an unknown run and exit 2 for a bad run id or no argument", async () => {
    const missing = await cli(["verify", "no-such-run", "--runs-dir", runsDir, "--json"]);
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stdout)).toMatchObject({ error: { code: "RUN_NOT_FOUND" } });
    const bad = await cli(["verify", "../etc", "--runs-dir", runsDir, "--json"]);
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.stdout)).toMatchObject({ error: { code: "INVALID_RUN_ID" } });
    expect((await cli(["verify", "--runs-dir", runsDir])).code).toBe(2);
  });
});
