// Fault injection: the built bin in child processes, killed with SIGKILL at many points, writing
// onto a file system that fills up, and serving a runs directory that is taken away and brought
// back. The folders are the only truth: after every fault, what the service and the library say
// must follow from them, and no retained run may lie about its artifacts.
//
// Each scenario prints one summary line (`[faults] …`) with its figures for docs/reliability.md.
import { execFileSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statfsSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getRetainedRun, isGuideBoardError, listRetainedRuns, toJSONText, verifyArtifacts } from "../../src/index.ts";
import { assertBuilt, ROOT, runBin, startServe, type Finished, type Spawned } from "../helpers/bin.ts";
import {
  expectedAnswers,
  FAILED,
  LEGACY,
  PASSED,
  servedAnswers,
  writeServiceWorld,
} from "../helpers/endpoint-answers.ts";
import { rawRequest } from "../helpers/http.ts";
import {
  makeRunsDir,
  tempDir,
  writeCurrentRun,
  writeIncompleteRun,
  writeLegacyRun,
  writeSummaryText,
} from "../helpers/runs.ts";
import { treeState } from "../helpers/tree.ts";

/** How long a child may take to start or stop on a busy machine. */
const PATIENCE_MS = 20_000;
/** The index re-checks every folder this often (createRunIndex's default `revalidateMs`). */
const REVALIDATE_MS = 10_000;
/** "Within a few seconds": what a watched change may take to show in the service. */
const FEW_SECONDS_MS = 3_000;

beforeAll(assertBuilt);

// ---------------------------------------------------------------------------------------------
// Processes and mounts: whatever a test did, every child (test/helpers/bin.ts), every command
// `run` started in its own process group, and every tmpfs is gone after the file.

/** Files holding the pid of a command that `guide-board run` started detached (its process group). */
const pidFiles = new Set<string>();
const mounts = new Set<string>();
afterAll(() => {
  for (const file of pidFiles) killGroup(readPid(file));
  for (const dir of mounts) unmount(dir);
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function readPid(file: string): number | undefined {
  const text = existsSync(file) ? readFileSync(file, "utf8").trim() : "";
  return /^\d+$/.test(text) ? Number(text) : undefined;
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

/** Spawns `node [nodeArgs] bin/guide-board.mjs ...args` (in the repo unless told), as users run it. */
const bin = (
  args: string[],
  options: { cwd?: string; nodeArgs?: string[]; env?: Record<string, string> } = {},
): Spawned => runBin(args, { ...options, cwd: options.cwd ?? ROOT, timeoutMs: PATIENCE_MS });

/** Polls `check` until it returns something other than `undefined`/`false`. */
async function until<T>(
  what: string,
  check: () => T | undefined | false,
  timeoutMs = PATIENCE_MS,
  everyMs = 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Polls an async `check` until it is true. */
async function untilAsync(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

// ---------------------------------------------------------------------------------------------
// The service

interface Served extends Spawned {
  port: number;
  base: string;
}

/** `guide-board serve` on 127.0.0.1, any free port; resolves once it prints its URL. */
async function serve(runsDir: string): Promise<Served> {
  const served = await startServe(["--runs-dir", runsDir, "--host", "127.0.0.1"], {
    cwd: ROOT,
    timeoutMs: PATIENCE_MS,
    urlPattern: /^Open (http:\/\/127\.0\.0\.1:\d+)\/$/m,
  });
  return { ...served, base: served.url };
}

async function sigkill(served: Spawned): Promise<Finished> {
  served.child.kill("SIGKILL");
  const end = await served.finished();
  expect(end.signal).toBe("SIGKILL");
  return end;
}

/** One GET on a new connection, the body byte for byte. */
async function get(port: number, path: string): Promise<{ status: number; body: Buffer }> {
  const { status, bytes } = await rawRequest(port, path, { timeoutMs: PATIENCE_MS });
  return { status, body: bytes };
}

// ---------------------------------------------------------------------------------------------
// Request load: a few concurrent fetch loops (keep-alive connections) over a set of paths

interface LoadStats {
  answered: number;
  serverErrors: string[];
  /** Requests that failed once the service was (being) killed: refused, reset, cut mid-body. */
  failedByKill: number;
  /** Requests that failed while the service was supposed to be up: each is a finding. */
  failedWhileUp: string[];
}

function startLoad(base: string, paths: readonly string[], loops: number, killed: () => boolean) {
  const stats: LoadStats = { answered: 0, serverErrors: [], failedByKill: 0, failedWhileUp: [] };
  let stopping = false;
  let inFlight = 0;
  const loop = async (n: number) => {
    for (let i = 0; !stopping; i++) {
      const path = paths[(i * loops + n * 7) % paths.length]!;
      let failed = false;
      inFlight++;
      try {
        const response = await fetch(base + path);
        await response.arrayBuffer();
        stats.answered++;
        if (response.status >= 500) stats.serverErrors.push(`${response.status} ${path}`);
      } catch (error) {
        failed = true;
        if (killed()) stats.failedByKill++;
        else stats.failedWhileUp.push(`${path}: ${String((error as Error).cause ?? error)}`);
      } finally {
        inFlight--;
      }
      if (failed) await sleep(5);
    }
  };
  const running = Array.from({ length: loops }, (_, n) => loop(n));
  return {
    stats,
    inFlight: () => inFlight,
    stop: async (): Promise<LoadStats> => {
      stopping = true;
      await Promise.all(running);
      return stats;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The runs tree (treeState: test/helpers/tree.ts), and what a reader may find in a runs directory
// after a fault

/** Tree states taken around every service session of scenarios 1 and 4; scenario 5 compares them. */
const serviceSessions: { what: string; before: string[]; after: string[] }[] = [];

/**
 * What no fault may leave in `runsDir`: a `retention-summary.json` that does not parse, or a
 * retained run whose artifacts do not verify against its manifest.
 */
async function audit(runsDir: string): Promise<{ retained: number; violations: string[] }> {
  const violations: string[] = [];
  for (const name of readdirSync(runsDir)) {
    const summary = join(runsDir, name, "retention-summary.json");
    if (!existsSync(summary)) continue;
    try {
      JSON.parse(readFileSync(summary, "utf8"));
    } catch {
      violations.push(`${name}: retention-summary.json does not parse (half-written)`);
    }
  }
  const { runs } = await listRetainedRuns({ runsDir, limit: 1000 });
  for (const run of runs) {
    const result = await verifyArtifacts({ runsDir }, run.runId).catch((error: unknown) => error);
    if (isGuideBoardError(result) || !(result as { ok: boolean }).ok)
      violations.push(`${run.runId}: artifacts do not verify: ${JSON.stringify(result)}`);
  }
  return { retained: runs.length, violations };
}

// ---------------------------------------------------------------------------------------------
// Fixtures (the served world: writeServiceWorld in test/helpers/endpoint-answers.ts)

/** A shell command writing reports and `count` random artifacts of `bytes` each; its pid goes to `$0`. */
const RECORDED_SCRIPT = `echo $$ > "$0"
for i in 1 2 3; do printf '<testsuite name="s%s" tests="1"/>' "$i" > "$GUIDE_BOARD_REPORTS_DIR/junit-$i.xml"; done
printf '<h1>ok</h1>' > "$GUIDE_BOARD_REPORTS_DIR/index.html"
mkdir -p "$GUIDE_BOARD_ARTIFACTS_DIR/blobs"
i=0; while [ "$i" -lt "$1" ]; do i=$((i+1)); head -c "$2" /dev/urandom > "$GUIDE_BOARD_ARTIFACTS_DIR/blobs/blob-$i.bin"; done`;

/** `guide-board run --run-id ID -- sh -c RECORDED_SCRIPT`: the arguments, and the command's pid file. */
function recordArgs(runsDir: string, runId: string, count: number, bytes: number): { args: string[]; pidFile: string } {
  const pidFile = join(tempDir("gb-pid-"), "command.pid");
  pidFiles.add(pidFile);
  return {
    args: [
      "run",
      "--runs-dir",
      runsDir,
      "--run-id",
      runId,
      "--",
      "sh",
      "-c",
      RECORDED_SCRIPT,
      pidFile,
      String(count),
      String(bytes),
    ],
    pidFile,
  };
}

async function record(runsDir: string, runId: string, count = 2, bytes = 256 * 1024): Promise<void> {
  const result = await bin(recordArgs(runsDir, runId, count, bytes).args).finished();
  expect(result.code, result.stderr).toBe(0);
}

// ---------------------------------------------------------------------------------------------

describe("scenario 1: SIGKILL the service under load, restart it", () => {
  it("after each of 3 SIGKILLs under load, with runs added and removed while it was down, the restarted service answers every endpoint exactly as the library reads the folders", async () => {
    const { runsDir } = makeRunsDir();
    writeServiceWorld(runsDir);
    await record(runsDir, "2026-04-01T00-00-00Z-recorded-1");
    const absent: string[] = [];
    const changesWhileDown: (() => Promise<void>)[] = [
      async () => {
        writeCurrentRun(runsDir, "2026-04-02T09-00-00Z-added", {
          startedAt: "2026-04-02T09:00:00Z",
          status: "failed",
          exitCode: 2,
        });
        writeIncompleteRun(runsDir, "2026-04-02T10-00-00Z-busy2");
        rmSync(join(runsDir, FAILED), { recursive: true });
        absent.push(FAILED);
      },
      async () => {
        await record(runsDir, "2026-04-03T00-00-00Z-recorded-2");
        writeSummaryText(runsDir, "2026-04-03T09-00-00Z-torn", '{"schemaVersion":2,"runId":"2026-04-03T09-00-00Z-to');
        rmSync(join(runsDir, LEGACY), { recursive: true });
        absent.push(LEGACY);
      },
      async () => {
        rmSync(join(runsDir, "2026-04-01T00-00-00Z-recorded-1"), { recursive: true });
        absent.push("2026-04-01T00-00-00Z-recorded-1");
        writeLegacyRun(runsDir, "2025-08-01T08-00-00Z-legacy2", { startedAt: "2025-08-01T08:00:00Z" });
      },
    ];

    const totals = { kills: 0, restarts: 0, answered: 0, failedByKill: 0, compared: 0, inFlightAtKill: [] as number[] };
    let before = treeState(runsDir);
    let served = await serve(runsDir);
    for (let round = 0; round <= changesWhileDown.length; round++) {
      const expected = await expectedAnswers(runsDir, absent);
      expect(Object.keys(expected).length).toBeGreaterThan(20);
      expect(await servedAnswers(served.port, expected, PATIENCE_MS), `after ${round} restarts`).toEqual(expected);
      totals.compared += Object.keys(expected).length;
      if (round === changesWhileDown.length) break;

      let killed = false;
      const load = startLoad(served.base, Object.keys(expected), 4, () => killed);
      await until("the load to get going", () => load.stats.answered >= 40);
      await sleep(50 + Math.random() * 350);
      killed = true;
      totals.inFlightAtKill.push(load.inFlight());
      await sigkill(served);
      totals.kills++;
      const stats = await load.stop();
      expect(stats.serverErrors, "5xx under load").toEqual([]);
      expect(stats.failedWhileUp, "requests failed while the service was up").toEqual([]);
      totals.answered += stats.answered;
      totals.failedByKill += stats.failedByKill;
      serviceSessions.push({ what: `scenario 1, session ${round + 1}`, before, after: treeState(runsDir) });

      await changesWhileDown[round]!();
      before = treeState(runsDir);
      served = await serve(runsDir);
      totals.restarts++;
    }
    await sigkill(served);
    serviceSessions.push({ what: "scenario 1, last session", before, after: treeState(runsDir) });
    expect(totals.kills).toBe(3);

    console.log(
      `[faults] scenario 1 (serve SIGKILLed under load): ${totals.kills} kills, ${totals.restarts} restarts, 4 fetch loops; ` +
        `${totals.answered} requests answered under load (0 5xx), ${totals.failedByKill} refused or cut by the kills ` +
        `(in flight at each kill: ${totals.inFlightAtKill.join(", ")}); ${totals.compared} endpoint answers compared over ` +
        `${totals.restarts + 1} sessions, all identical to the library and the file bytes`,
    );
  });
});

// ---------------------------------------------------------------------------------------------

describe("scenario 2: SIGKILL guide-board run while it writes", () => {
  type Outcome = "no folder" | "incomplete" | "incomplete with a summary temp file" | "retained";

  it("leaves, at every kill point, either a retained run whose artifacts verify or an unlisted incomplete folder, never a half-written summary", async () => {
    const cwd = tempDir("gb-kill-run-");
    const runsDir = join(cwd, "runs");
    mkdirSync(runsDir);
    const ARTIFACTS = 20;
    const ARTIFACT_BYTES = 256 * 1024;
    const outcomes: { runId: string; trigger: string; outcome: Outcome }[] = [];
    const violations: string[] = [];

    /** Runs the recording, kills the CLI when `kill` says, then stops its orphaned command. */
    async function killRun(
      runId: string,
      trigger: string,
      kill: (spawned: Spawned) => Promise<void> | void,
    ): Promise<Finished> {
      const { args, pidFile } = recordArgs(runsDir, runId, ARTIFACTS, ARTIFACT_BYTES);
      const spawned = bin(args, { cwd });
      await kill(spawned);
      const end = await spawned.finished();
      // The command runs in its own process group and outlives the CLI: stop it before looking.
      // A CLI killed between spawn and the shell's first line leaves the pid file a moment later.
      if (existsSync(join(runsDir, runId, ".guide-board-writer.json")))
        await until("the pid file", () => readPid(pidFile), 300).catch(() => undefined);
      killGroup(readPid(pidFile));
      outcomes.push({ runId, trigger, outcome: await classify(runId) });
      return end;
    }

    async function classify(runId: string): Promise<Outcome> {
      const runDir = join(runsDir, runId);
      if (!existsSync(runDir)) return "no folder";
      const names = readdirSync(runDir);
      if (names.includes("retention-summary.json")) {
        try {
          JSON.parse(readFileSync(join(runDir, "retention-summary.json"), "utf8"));
        } catch {
          violations.push(`${runId}: half-written retention-summary.json`);
        }
        const run = await getRetainedRun({ runsDir }, runId).catch((error: unknown) => error);
        if (isGuideBoardError(run)) violations.push(`${runId}: has a summary but getRetainedRun fails: ${run.message}`);
        const verified = await verifyArtifacts({ runsDir }, runId).catch((error: unknown) => error);
        if (
          isGuideBoardError(verified) ||
          !(verified as { ok: boolean }).ok ||
          (verified as { checked: number }).checked !== ARTIFACTS
        ) {
          violations.push(`${runId}: retained but its artifacts do not verify: ${JSON.stringify(verified)}`);
        }
        return "retained";
      }
      const error = await getRetainedRun({ runsDir }, runId).then(
        () => null,
        (e: unknown) => e,
      );
      if (!isGuideBoardError(error, "RUN_NOT_FOUND"))
        violations.push(`${runId}: no summary, yet getRetainedRun answers ${JSON.stringify(error)}`);
      return names.some((name) => name.startsWith(".retention-summary.json.tmp-"))
        ? "incomplete with a summary temp file"
        : "incomplete";
    }

    /**
     * Busy-polls a folder of the run (no event-loop turn between a match and the kill); gives up
     * once the summary exists, as the moment has then passed.
     */
    function killWhen(spawned: Spawned, runId: string, sub: string, seen: (names: string[]) => boolean): void {
      const deadline = Date.now() + PATIENCE_MS;
      while (Date.now() < deadline) {
        let names: string[];
        try {
          names = readdirSync(join(runsDir, runId, sub));
        } catch {
          continue;
        }
        if (seen(names) || existsSync(join(runsDir, runId, "retention-summary.json"))) break;
      }
      spawned.child.kill("SIGKILL");
    }

    // The undisturbed run: how long a whole recording takes, when its folder appears, and that it verifies.
    const started = Date.now();
    let folderMs = 0;
    const baseline = await killRun("baseline", "none", async () => {
      folderMs = await until(
        "the run folder",
        () => existsSync(join(runsDir, "baseline")) && Date.now() - started,
        PATIENCE_MS,
        2,
      );
    });
    const fullMs = Date.now() - started;
    expect(baseline.code, baseline.stderr).toBe(0);
    expect(outcomes[0]!.outcome).toBe("retained");

    // 30 delays across the whole run, then 15 more across the part where the folder is written.
    const STEPS = 30;
    const WRITING_STEPS = 15;
    const delays = [
      ...Array.from({ length: STEPS }, (_, step) => (step * fullMs * 1.1) / (STEPS - 1)),
      ...Array.from(
        { length: WRITING_STEPS },
        (_, step) => folderMs + ((step + 0.5) * (fullMs - folderMs)) / WRITING_STEPS,
      ),
    ].map(Math.round);
    for (const [step, delay] of delays.entries()) {
      await killRun(`delay-${String(step).padStart(2, "0")}`, `after ${delay} ms`, async (spawned) => {
        await sleep(delay);
        spawned.child.kill("SIGKILL");
      });
    }
    const triggers: [string, string, (names: string[]) => boolean][] = [
      [
        "manifest temp",
        "assessment-package",
        (names) => names.some((n) => n.startsWith(".artifact-manifest.json.tmp-")),
      ],
      ["summary temp", "", (names) => names.some((n) => n.startsWith(".retention-summary.json.tmp-"))],
      ["summary", "", (names) => names.includes("retention-summary.json")],
    ];
    for (const [what, sub, seen] of triggers) {
      for (let i = 0; i < 5; i++) {
        const runId = `on-${what.replace(" ", "-")}-${i}`;
        await killRun(runId, `when the ${what} appears`, (spawned) => killWhen(spawned, runId, sub, seen));
      }
    }

    // Every folder, as a listing sees it: retained ones listed, the others incomplete diagnostics.
    const { runs, diagnostics } = await listRetainedRuns({ runsDir, limit: 1000 });
    const listed = new Set(runs.map((run) => run.runId));
    const incomplete = new Set(diagnostics.filter((d) => d.kind === "incomplete").map((d) => d.entry));
    expect(diagnostics.filter((d) => d.kind !== "incomplete")).toEqual([]);
    for (const { runId, outcome } of outcomes) {
      if (outcome === "retained" && !listed.has(runId)) violations.push(`${runId}: retained but not listed`);
      if (outcome.startsWith("incomplete") && (listed.has(runId) || !incomplete.has(runId)))
        violations.push(`${runId}: incomplete but not an incomplete diagnostic`);
      if (outcome === "no folder" && (listed.has(runId) || incomplete.has(runId)))
        violations.push(`${runId}: no folder, yet listed`);
    }
    violations.push(...(await audit(runsDir)).violations);
    expect(violations).toEqual([]);

    // Killed at once: nothing written yet. Killed once the summary exists: retained.
    expect(outcomes.find((o) => o.runId === "delay-00")!.outcome).toMatch(/^no folder|^incomplete/);
    expect(outcomes.filter((o) => o.trigger === "when the summary appears").map((o) => o.outcome)).toEqual(
      Array(5).fill("retained"),
    );

    const count = (list: typeof outcomes) =>
      (["no folder", "incomplete", "incomplete with a summary temp file", "retained"] as const)
        .map((o) => [list.filter((x) => x.outcome === o).length, o] as const)
        .filter(([n]) => n > 0)
        .map(([n, o]) => `${n} ${o}`)
        .join(", ");
    const kills = outcomes.length - 1;
    console.log(
      `[faults] scenario 2 (run SIGKILLed while writing ${ARTIFACTS} × ${ARTIFACT_BYTES / 1024} KiB, a whole run ${fullMs} ms): ${kills} kills — ` +
        `${STEPS} at delays 0–${Math.round(fullMs * 1.1)} ms and ${WRITING_STEPS} while the folder is written (${folderMs}–${fullMs} ms): ` +
        `${count(outcomes.filter((o) => o.runId.startsWith("delay-")))}; ` +
        triggers
          .map(
            ([what]) =>
              `5 when the ${what} appeared: ${count(outcomes.filter((o) => o.trigger === `when the ${what} appears`))}`,
          )
          .join("; ") +
        `; 0 half-written summaries, every retained run verified, every other folder an unlisted incomplete diagnostic`,
    );
  });
});

// ---------------------------------------------------------------------------------------------

/** A 2 MiB tmpfs at a fresh mount point, or null when this machine cannot mount one. */
function mountTmpfs(): string | null {
  const dir = mkdtempSync(join(tmpdir(), "gb-tmpfs-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=2m,mode=0755", "tmpfs", dir], { stdio: "ignore" });
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return null;
  }
  mounts.add(dir);
  return dir;
}

function unmount(dir: string): void {
  if (!mounts.delete(dir)) return;
  try {
    execFileSync("umount", [dir], { stdio: "ignore" });
  } catch {
    execFileSync("umount", ["-l", dir], { stdio: "ignore" }); // busy: detach now, free later
  }
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Where no tmpfs can be mounted, `run` gets ENOSPC another way: a preload makes `fs.writeSync` (what
 * the atomic writer of the manifests and the summary uses) fail with ENOSPC on files whose path
 * contains `$GB_ENOSPC_ON`.
 */
function enospcPreload(dir: string): string {
  const file = join(dir, "enospc-preload.cjs");
  writeFileSync(
    file,
    `const fs = require("node:fs");
const real = fs.writeSync;
fs.writeSync = function (fd, ...rest) {
  let path = "";
  try { path = fs.readlinkSync("/proc/self/fd/" + fd); } catch {}
  if (path.includes(process.env.GB_ENOSPC_ON)) {
    throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC", errno: -28, syscall: "write" });
  }
  return real.call(fs, fd, ...rest);
};
require("node:module").syncBuiltinESMExports();
`,
  );
  return file;
}

describe("scenario 3: a runs directory on a file system that fills up", () => {
  it("run exits non-zero with one ENOSPC line and no stack; no retained run lies about its artifacts, no summary is truncated", async () => {
    const work = tempDir("gb-enospc-");
    const marker = join(work, "command-wrote-everything");
    const lines: string[] = [];
    let how = "tmpfs size=2m";

    /** The command of the nearly-full variants: 3 artifacts of `size` bytes, 60 empty reports, then a marker outside. */
    const nearlyFullScript = `const fs = require("node:fs"), a = process.env.GUIDE_BOARD_ARTIFACTS_DIR, r = process.env.GUIDE_BOARD_REPORTS_DIR;
for (let i = 0; i < 3; i++) fs.writeFileSync(a + "/part-" + i + ".bin", Buffer.alloc(Number(process.argv[1]), i + 1));
for (let i = 0; i < 60; i++) fs.writeFileSync(r + "/report-with-a-rather-long-name-" + String(i).padStart(3, "0") + ".xml", "");
fs.writeFileSync(process.argv[2], "yes");`;

    /**
     * Runs a variant on a fresh tmpfs (or the simulation) and checks what it left. `enospcOn`: the
     * write expected to fail (`any`), or null when there is room enough.
     */
    async function variant(
      name: string,
      enospcOn: "any" | "manifest" | "summary" | null,
      prepare: (dir: string) => { command: string[]; simulateOn: string },
    ): Promise<void> {
      const mounted = mountTmpfs();
      const simulated = mounted === null;
      const dir = mounted ?? join(tempDir("gb-enospc-sim-"), "runs");
      if (simulated) {
        how = "simulated (no tmpfs could be mounted): a preload makes fs.writeSync fail with ENOSPC";
        mkdirSync(dir);
      }
      try {
        rmSync(marker, { force: true });
        const { command, simulateOn } = prepare(dir);
        const args = ["run", "--runs-dir", dir, "--run-id", "full-disk", "--", ...command];
        const simulation = simulated
          ? { nodeArgs: ["--require", enospcPreload(work)], env: { GB_ENOSPC_ON: simulateOn } }
          : {};
        const result = await bin(args, { cwd: work, ...simulation }).finished();
        const own = result.stderr.split("\n").filter((line) => line.startsWith("guide-board:"));
        expect(result.stderr, name).not.toMatch(/\n\s+at /);
        const { retained, violations } = await audit(dir);
        expect(violations, name).toEqual([]);
        const runDir = join(dir, "full-disk");
        const names = (sub: string) => (existsSync(join(runDir, sub)) ? readdirSync(join(runDir, sub)) : []);
        // A failed atomic write removes its temp file, so the stage shows in what was written:
        // a manifest but no summary means the summary write failed.
        const temps = [...names(""), ...names("assessment-package")].filter((n) => n.includes(".tmp-"));
        expect(temps, `${name}: temp files left behind`).toEqual([]);
        const stage = names("").includes("retention-summary.json")
          ? "none"
          : names("assessment-package").includes("artifact-manifest.json")
            ? "summary"
            : "manifest-or-log";
        if (enospcOn !== null) {
          if (enospcOn === "summary") expect(stage, `${name}: the write that failed`).toBe("summary");
          if (enospcOn === "manifest") expect(stage, `${name}: the write that failed`).toBe("manifest-or-log");
          expect(result.code, name).not.toBe(0);
          expect(own, `${name}: guide-board's own stderr lines`).toHaveLength(1);
          expect(own[0], name).toMatch(/ENOSPC/);
          expect(own[0], name).toMatch(/no space left on device/i);
          expect(existsSync(join(runDir, "retention-summary.json")), name).toBe(false);
          const listing = await listRetainedRuns({ runsDir: dir });
          expect(listing.runs, name).toEqual([]);
          expect(listing.diagnostics, name).toContainEqual({
            runsDir: dir,
            entry: "full-disk",
            kind: "incomplete",
            message: expect.any(String),
          });
          lines.push(`${name}: exit ${result.code}, ENOSPC on the ${stage} write, folder incomplete`);
        } else {
          expect(result.code, `${name}: ${result.stderr}`).toBe(0);
          expect(retained, name).toBe(1);
          lines.push(`${name}: exit 0, retained, artifacts verified`);
        }
      } finally {
        if (!simulated) unmount(dir);
      }
    }

    await variant("a 3 MB artifact on 2 MiB", "any", () => ({
      command: ["sh", "-c", 'head -c 3145728 /dev/zero > "$GUIDE_BOARD_ARTIFACTS_DIR/big.bin"'],
      simulateOn: ".artifact-manifest.json.tmp-",
    }));
    // Nearly full: the command's own writes (6 blocks) fit exactly and leave `spare` blocks free;
    // one more block is the writer file, freed again just before the summary (3 blocks: 60 report
    // refs) is written. So 0 spare fails on the manifest, 1 on the summary, 8 is room enough.
    for (const [spare, enospcOn] of [
      [0, "manifest"],
      [1, "summary"],
      [8, null],
    ] as const) {
      await variant(`nearly full, ${spare} spare block${spare === 1 ? "" : "s"}`, enospcOn, (dir) => {
        const { bavail, bsize } = statfsSync(dir);
        if (mounts.has(dir)) writeFileSync(join(dir, "filler.bin"), Buffer.alloc((bavail - 7 - spare) * bsize));
        const simulateOn =
          enospcOn === "manifest"
            ? ".artifact-manifest.json.tmp-"
            : enospcOn === "summary"
              ? ".retention-summary.json.tmp-"
              : "(nothing)";
        return { command: [process.execPath, "-e", nearlyFullScript, String(2 * bsize), marker], simulateOn };
      });
      expect(readFileSync(marker, "utf8"), "the command's own writes succeeded").toBe("yes");
    }

    console.log(
      `[faults] scenario 3 (ENOSPC, ${how}): ${lines.length} runs — ${lines.join("; ")}; 0 retained runs that lie, 0 truncated summaries`,
    );
  });
});

// ---------------------------------------------------------------------------------------------

describe("scenario 4: the runs directory disappears and comes back while the service runs", () => {
  /** A watchdog: requests the list, a run, its reports and a report body in a loop; no 5xx, no failure. */
  function watchdog(base: string, runId: string) {
    return startLoad(
      base,
      [
        "/retained-runs",
        `/retained-runs/${runId}`,
        `/retained-runs/${runId}/reports`,
        `/retained-runs/${runId}/reports/junit`,
        "/retained-runs/latest",
      ],
      2,
      () => false,
    );
  }

  async function listText(runsDir: string): Promise<string> {
    return toJSONText(await listRetainedRuns({ runsDir: [runsDir], limit: 100 }));
  }

  async function servedList(served: Served): Promise<string> {
    return (await get(served.port, "/retained-runs")).body.toString("utf8");
  }

  it("keeps answering without 5xx, shows the missing directory, and lists everything again after it is moved back, with no restart", async () => {
    const { root, runsDir } = makeRunsDir();
    writeServiceWorld(runsDir);
    const full = await listText(runsDir);
    const before = treeState(runsDir);
    const served = await serve(runsDir);
    const load = watchdog(served.base, PASSED);
    try {
      expect(await servedList(served)).toBe(full);

      renameSync(runsDir, join(root, "runs.away"));
      const away = Date.now();
      const missing = await listText(runsDir);
      expect(JSON.parse(missing)).toEqual({
        runs: [],
        diagnostics: [{ runsDir, entry: null, kind: "runs-dir-missing", message: expect.any(String) }],
      });
      // Watching may miss a runs directory that moves itself; the periodic revalidation does not.
      await untilAsync(
        "the service to list the runs directory as missing",
        async () => (await servedList(served)) === missing,
        REVALIDATE_MS + 5_000,
      );
      const awayMs = Date.now() - away;
      expect((await get(served.port, `/retained-runs/${PASSED}`)).status).toBe(404);
      expect((await get(served.port, `/retained-runs/${PASSED}/reports/junit`)).status).toBe(404);

      renameSync(join(root, "runs.away"), runsDir);
      const back = Date.now();
      await untilAsync(
        "the service to list every run again",
        async () => (await servedList(served)) === full,
        FEW_SECONDS_MS,
      );
      const backMs = Date.now() - back;
      expect((await get(served.port, `/retained-runs/${PASSED}`)).body.toString("utf8")).toBe(
        toJSONText(await getRetainedRun({ runsDir }, PASSED)),
      );
      serviceSessions.push({ what: "scenario 4, away and back", before, after: treeState(runsDir) });

      // Still watched: a run finished after the comeback shows within a few seconds.
      writeCurrentRun(runsDir, "2026-05-01T09-00-00Z-after", { startedAt: "2026-05-01T09:00:00Z" });
      const added = Date.now();
      const withNew = await listText(runsDir);
      await untilAsync(
        "the service to list a run added after the comeback",
        async () => (await servedList(served)) === withNew,
        FEW_SECONDS_MS,
      );
      const addedMs = Date.now() - added;

      const stats = await load.stop();
      expect(stats.serverErrors).toEqual([]);
      expect(stats.failedWhileUp).toEqual([]);
      console.log(
        `[faults] scenario 4 (runs directory moved away and back under serve): ${stats.answered} requests, 0 5xx, 0 failures; ` +
          `missing shown after ${awayMs} ms, complete again ${backMs} ms after the move back, ` +
          `a new run listed after ${addedMs} ms; no restart`,
      );
    } finally {
      await load.stop();
      await sigkill(served);
    }
  });

  it("a runs directory moved away is noticed at once: its runs are no longer listed or served", async () => {
    const { root, runsDir } = makeRunsDir();
    writeServiceWorld(runsDir);
    const served = await serve(runsDir);
    try {
      expect(JSON.parse(await servedList(served)).runs.length).toBe(3);
      renameSync(runsDir, join(root, "runs.away"));
      const missing = await listText(runsDir);
      await untilAsync(
        `the service to notice within ${FEW_SECONDS_MS} ms that its runs directory is gone`,
        async () =>
          (await servedList(served)) === missing && (await get(served.port, `/retained-runs/${PASSED}`)).status === 404,
        FEW_SECONDS_MS,
      );
    } finally {
      await sigkill(served);
    }
  });

  it("a runs directory replaced by a new one at the same path (a remount, a restore) is watched again", async () => {
    const { root, runsDir } = makeRunsDir();
    writeServiceWorld(runsDir);
    const served = await serve(runsDir);
    try {
      const full = await listText(runsDir);
      expect(await servedList(served)).toBe(full);
      renameSync(runsDir, join(root, "runs.old"));
      execFileSync("cp", ["-a", join(root, "runs.old"), runsDir]);
      await untilAsync(
        "the service to list the replaced directory",
        async () => (await servedList(served)) === full,
        FEW_SECONDS_MS,
      );
      writeCurrentRun(runsDir, "2026-05-01T09-00-00Z-after", { startedAt: "2026-05-01T09:00:00Z" });
      const withNew = await listText(runsDir);
      await untilAsync(
        `the service to list a new run within ${FEW_SECONDS_MS} ms`,
        async () => (await servedList(served)) === withNew,
        FEW_SECONDS_MS,
      );
    } finally {
      await sigkill(served);
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe("scenario 5: the service never writes into a runs directory", () => {
  it("leaves the runs tree unchanged (paths, types, sizes, modes, mtimes, contents) across every session of scenarios 1 and 4", () => {
    expect(serviceSessions.map((s) => s.what)).toEqual([
      "scenario 1, session 1",
      "scenario 1, session 2",
      "scenario 1, session 3",
      "scenario 1, last session",
      "scenario 4, away and back",
    ]);
    for (const { what, before, after } of serviceSessions) expect(after, what).toEqual(before);
    const entries = serviceSessions.reduce((sum, s) => sum + s.before.length, 0);
    console.log(
      `[faults] scenario 5 (the service never writes): ${serviceSessions.length} service sessions (3 ended by SIGKILL under load, 1 with the directory moved away and back), ${entries} tree entries hashed before and after, 0 changed`,
    );
  });
});
