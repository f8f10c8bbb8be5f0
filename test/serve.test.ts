// `guide-board serve` as users run it: the built bin in a child process, spoken to over a socket.
// Restarts rebuild every answer from the run folders alone; the service never writes into them;
// the command line refuses unsafe setups; signals stop it cleanly.
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { listRetainedRuns, toJSONText } from "../src/index.ts";
import { assertBuilt, ROOT, runBin, startServe, type Served, type Spawned } from "./helpers/bin.ts";
import {
  expectedAnswers,
  FAILED,
  fileDigest,
  LEGACY,
  PASSED,
  servedAnswers,
  writeServiceWorld,
} from "./helpers/endpoint-answers.ts";
import { rawRequest } from "./helpers/http.ts";
import { makeRunsDir, tempDir, writeCurrentRun, writeLegacyRun } from "./helpers/runs.ts";
import { treeState } from "./helpers/tree.ts";

const TOKEN = "s3cret-token-0123456789abcdef";
/** How long a child may take to start or stop on a busy machine. */
const PATIENCE_MS = 20_000;

beforeAll(assertBuilt);

// ---------------------------------------------------------------------------------------------
// The child process (test/helpers/bin.ts), spoken to on a new connection to 127.0.0.1

/** Spawns `node bin/guide-board.mjs serve ...args` in the repo. */
const spawnServe = (args: string[], env: Record<string, string> = {}) =>
  runBin(["serve", ...args], { cwd: ROOT, env, timeoutMs: PATIENCE_MS });

/** Starts the service and waits for its "Open <url>" line. */
const serve = (args: string[], env: Record<string, string> = {}) =>
  startServe(args, { cwd: ROOT, env, timeoutMs: PATIENCE_MS });

/** Waits for a child to exit and its output to drain, failing (and killing it) after `PATIENCE_MS`. */
async function exitOf(spawned: Spawned) {
  const { code, signal } = await spawned.finished();
  return { code, signal };
}

const kill = (served: Served) => served.stop("SIGKILL");

function send(port: number, path: string, headers: Record<string, string> = {}, method = "GET") {
  return rawRequest(port, path, { method, headers, timeoutMs: PATIENCE_MS });
}

// ---------------------------------------------------------------------------------------------
// The runs tree, made read-only

/** `source` made read-only: a read-only bind mount at `target` when root can mount, else chmod. */
function readOnly(source: string, target: string): { dir: string; how: string; restore: () => void } {
  if (process.getuid?.() === 0) {
    mkdirSync(target);
    let mounted = false;
    try {
      execFileSync("mount", ["--bind", source, target], { stdio: "ignore" });
      mounted = true;
      execFileSync("mount", ["-o", "remount,ro,bind", target], { stdio: "ignore" });
      return { dir: target, how: "read-only bind mount", restore: () => _umount(target) };
    } catch {
      if (mounted) _umount(target);
    }
  }
  execFileSync("chmod", ["-R", "a-w", source]);
  return { dir: source, how: "chmod -R a-w", restore: () => execFileSync("chmod", ["-R", "u+w", source]) };
}

function _umount(target: string): void {
  try {
    execFileSync("umount", [target], { stdio: "ignore" });
  } catch {
    execFileSync("umount", ["-l", target], { stdio: "ignore" }); // busy: detach now, free later
  }
}

// ---------------------------------------------------------------------------------------------
// Fixtures

// Runs added while the service is down (the rest of the world: test/helpers/endpoint-answers.ts)
const ADDED_FAILED = "2026-03-04T09-00-00Z-new-fail";
const ADDED_LEGACY = "2025-07-01T08-00-00Z-new-legacy";

// ---------------------------------------------------------------------------------------------

describe("restart recovery: every answer is rebuilt from the folders", () => {
  it("matches the library before a SIGKILL and again after runs were added and removed while down", async () => {
    const { runsDir } = makeRunsDir();
    writeServiceWorld(runsDir);

    const first = await serve(["--runs-dir", runsDir]);
    try {
      const expected = await expectedAnswers(runsDir);
      expect(Object.keys(expected).length).toBeGreaterThan(20);
      expect(await servedAnswers(first.port, expected, PATIENCE_MS)).toEqual(expected);
      expect(expected[`/retained-runs/${PASSED}/artifacts/out/result.json`]).toEqual({
        status: 200,
        body: fileDigest('{"ok":true}'),
      });
    } finally {
      await kill(first);
    }
    expect((await first.exited).signal).toBe("SIGKILL");

    writeCurrentRun(runsDir, ADDED_FAILED, { startedAt: "2026-03-04T09:00:00Z", status: "failed", exitCode: 2 });
    writeLegacyRun(runsDir, ADDED_LEGACY, { startedAt: "2025-07-01T08:00:00Z" });
    rmSync(join(runsDir, FAILED), { recursive: true });

    const second = await serve(["--runs-dir", runsDir]);
    try {
      const expected = await expectedAnswers(runsDir, [FAILED]);
      expect(await servedAnswers(second.port, expected, PATIENCE_MS)).toEqual(expected);
      const list = JSON.parse((await send(second.port, "/retained-runs")).body) as { runs: { runId: string }[] };
      expect(list.runs.map((run) => run.runId)).toEqual([ADDED_FAILED, PASSED, ADDED_LEGACY, LEGACY]);
      expect(JSON.parse((await send(second.port, "/retained-runs/latest?status=failed")).body)).toMatchObject({
        runId: ADDED_FAILED,
      });
      for (const path of ["", "/reports", "/artifact-manifest", "/reports/junit", "/artifacts/out/result.json"]) {
        const gone = await send(second.port, `/retained-runs/${FAILED}${path}`);
        expect(gone.status, path).toBe(404);
        expect(JSON.parse(gone.body)).toEqual({ error: { code: "RUN_NOT_FOUND", message: expect.any(String) } });
      }
    } finally {
      await kill(second);
    }
  });
});

describe("the service never writes", () => {
  /** A session: every endpoint, HEAD, ranges, conditionals, errors and hostile paths. */
  async function session(port: number, runsDir: string): Promise<void> {
    const expected = await expectedAnswers(runsDir, ["no-such-run"]);
    expect(await servedAnswers(port, expected, PATIENCE_MS)).toEqual(expected);
    const file = `/retained-runs/${PASSED}/artifacts/out/result.json`;
    expect((await send(port, file, {}, "HEAD")).status).toBe(200);
    expect((await send(port, file, { range: "bytes=0-3" })).status).toBe(206);
    expect((await send(port, file, { "if-none-match": "*" })).status).toBe(304);
    for (const [method, path] of [
      ["POST", file],
      ["PUT", `/retained-runs/${PASSED}/artifacts/new.txt`],
      ["DELETE", `/retained-runs/${PASSED}`],
      ["GET", `/retained-runs/${PASSED}/artifacts/..%2f..%2fretention-summary.json`],
      ["GET", "/retained-runs?cursor=%ff"],
    ] as const) {
      const answer = await send(port, path, {}, method);
      expect(answer.status, `${method} ${path}`).toBeGreaterThanOrEqual(400);
      expect(answer.status, `${method} ${path}`).toBeLessThan(500);
    }
  }

  it("leaves the runs tree byte for byte unchanged (paths, types, sizes, modes, mtimes, contents)", async () => {
    const { runsDir } = makeRunsDir();
    writeServiceWorld(runsDir);
    const before = treeState(runsDir);
    const served = await serve(["--runs-dir", runsDir]);
    try {
      await session(served.port, runsDir);
      await session(served.port, runsDir);
    } finally {
      await kill(served);
    }
    expect(treeState(runsDir)).toEqual(before);
    // The state is sensitive: a changed mtime alone changes it.
    utimesSync(join(runsDir, PASSED, "reports", "junit.xml"), new Date(0), new Date(0));
    expect(treeState(runsDir)).not.toEqual(before);
  });

  it("answers normally from a read-only runs directory (read-only bind mount as root, else chmod -R a-w)", async () => {
    const { root, runsDir: source } = makeRunsDir();
    writeServiceWorld(source);
    const { dir, how, restore } = readOnly(source, join(root, "read-only"));
    try {
      if (how === "read-only bind mount") expect(() => writeFileSync(join(dir, "probe"), "")).toThrow(/EROFS/);
      const before = treeState(dir);
      const served = await serve(["--runs-dir", dir]);
      try {
        await session(served.port, dir);
      } finally {
        await kill(served);
      }
      expect(treeState(dir), how).toEqual(before);
    } finally {
      restore();
    }
  });
});

describe("the command line refuses unsafe setups", () => {
  it("refuses --host 0.0.0.0 without a token: exit 2, naming --token and GUIDE_BOARD_TOKEN", async () => {
    const spawned = spawnServe(["--runs-dir", tempDir(), "--host", "0.0.0.0", "--port", "0"]);
    expect(await exitOf(spawned)).toEqual({ code: 2, signal: null });
    const { stdout, stderr } = spawned.output();
    expect(stdout).not.toContain("Open ");
    expect(stderr).toContain("--token");
    expect(stderr).toContain("GUIDE_BOARD_TOKEN");
  });

  it.each([
    ["--token", ["--token", "short"], {}],
    ["GUIDE_BOARD_TOKEN", [], { GUIDE_BOARD_TOKEN: "short" }],
  ] as const)("refuses a token shorter than 16 characters given by %s: exit 2", async (_how, args, env) => {
    const spawned = spawnServe(["--runs-dir", tempDir(), "--host", "0.0.0.0", "--port", "0", ...args], env);
    expect(await exitOf(spawned)).toEqual({ code: 2, signal: null });
    expect(spawned.output().stdout).not.toContain("Open ");
    expect(spawned.output().stderr).toMatch(/token must be at least 16 characters/);
  });

  it("with GUIDE_BOARD_TOKEN on 0.0.0.0: 401 without the token, /healthz open, 200 with it", async () => {
    const { runsDir } = makeRunsDir();
    writeServiceWorld(runsDir);
    const served = await serve(["--runs-dir", runsDir, "--host", "0.0.0.0"], { GUIDE_BOARD_TOKEN: TOKEN });
    try {
      expect(served.output().stdout).not.toContain(TOKEN);
      const wrong: Record<string, string>[] = [
        {},
        { authorization: "Bearer wrong-token-0123456789" },
        { authorization: TOKEN },
        { authorization: `Basic ${TOKEN}` },
      ];
      for (const headers of wrong) {
        const refused = await send(served.port, "/retained-runs", headers);
        expect(refused.status).toBe(401);
        expect(refused.headers["www-authenticate"]).toMatch(/^Bearer /);
        expect(JSON.parse(refused.body)).toEqual({ error: { code: "UNAUTHORIZED", message: expect.any(String) } });
      }
      const artifact = await send(served.port, `/retained-runs/${PASSED}/artifacts/out/result.json`);
      expect(artifact.status).toBe(401);
      expect(artifact.body).not.toContain('"ok"');
      expect((await send(served.port, "/healthz")).status).toBe(200);
      const allowed = await send(served.port, "/retained-runs", { authorization: `Bearer ${TOKEN}` });
      expect(allowed.status).toBe(200);
      expect(allowed.body).toBe(toJSONText(await listRetainedRuns({ runsDir: [runsDir], limit: 100 })));
    } finally {
      await kill(served);
    }
  });

  it("on loopback refuses other Host names with 421 (DNS rebinding) and answers localhost", async () => {
    const { runsDir } = makeRunsDir();
    writeServiceWorld(runsDir);
    const served = await serve(["--runs-dir", runsDir]);
    try {
      for (const host of [
        "evil.example",
        `evil.example:${served.port}`,
        "localhost.evil.example",
        "127.0.0.1.nip.io",
      ]) {
        const refused = await send(served.port, "/retained-runs", { host });
        expect(refused.status, host).toBe(421);
        expect(JSON.parse(refused.body)).toEqual({ error: { code: "HOST_NOT_ALLOWED", message: expect.any(String) } });
      }
      for (const host of [`localhost:${served.port}`, `127.0.0.1:${served.port}`, "localhost"]) {
        const answer = await send(served.port, "/retained-runs", { host });
        expect(answer.status, host).toBe(200);
      }
    } finally {
      await kill(served);
    }
  });
});

describe("graceful shutdown", () => {
  it.each(["SIGTERM", "SIGINT"] as const)("%s makes serve print 'stopped' and exit 0", async (signal) => {
    const served = await serve(["--runs-dir", tempDir()]);
    expect((await send(served.port, "/healthz")).status).toBe(200);
    served.child.kill(signal);
    expect(await exitOf(served)).toEqual({ code: 0, signal: null });
    expect(served.output().stdout).toMatch(/^guide-board: stopped$/m);
    expect(served.output().stderr).toBe("");
  });
});
