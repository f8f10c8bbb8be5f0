// A run's logs through the library: which logs a summary offers, their states, opening one, and
// the tail helper on awkward content (CR-only progress, NUL bytes, invalid UTF-8, a 1 GiB sparse file).
import { mkdirSync, openSync, closeSync, ftruncateSync, writeSync, symlinkSync, unlinkSync } from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isGuideBoardError, listRunLogs, openRunLog, parseSummary, readLogTail } from "../src/index.ts";
import { findRunFolder, openConventionalLog } from "../src/_internal.ts";
import { runCli } from "./helpers/cli.ts";
import { makeFifo } from "./helpers/fifo.ts";
import {
  makeRunsDir,
  tempDir,
  writeCurrentRun,
  writeFile,
  writeIncompleteRun,
  writeLegacyRun,
} from "./helpers/runs.ts";

const LOGS = [
  { id: "stdout", path: "logs/stdout.log" },
  { id: "stderr", path: "logs/stderr.log" },
];

/** A current run declaring `logs` (or not, when `logs` is undefined), with log files written. */
function runWithLogs(runsDir: string, runId: string, files: Record<string, string | Buffer>, logs?: unknown): string {
  const runDir = writeCurrentRun(runsDir, runId, { reports: [], extra: logs === undefined ? {} : { logs } });
  for (const [path, content] of Object.entries(files)) writeFile(join(runDir, path), content);
  return runDir;
}

async function tailOf(content: string | Buffer, lines: number, maxBytes?: number) {
  const dir = tempDir();
  writeFile(join(dir, "log"), content);
  const handle = await open(join(dir, "log"));
  try {
    return await readLogTail(handle, { lines, maxBytes });
  } finally {
    await handle.close();
  }
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (isGuideBoardError(error)) return error.code;
    throw error;
  }
  return "resolved";
}

describe("which logs a run offers", () => {
  it("lists declared logs with size and state, in summary order", async () => {
    const { runsDir } = makeRunsDir();
    const runDir = runWithLogs(runsDir, "r", { "logs/stdout.log": "hello\n" }, LOGS);
    const list = await listRunLogs({ runsDir }, "r");
    expect(list).toEqual({
      runId: "r",
      logs: [
        {
          id: "stdout",
          path: "logs/stdout.log",
          size: 6,
          exists: true,
          declared: true,
          absolutePath: join(runDir, "logs/stdout.log"),
        },
        {
          id: "stderr",
          path: "logs/stderr.log",
          size: null,
          exists: false,
          declared: true,
          absolutePath: join(runDir, "logs/stderr.log"),
        },
      ],
    });
  });

  it("offers stdout and stderr of a guide-board summary that predates the field, marked undeclared", async () => {
    const { runsDir } = makeRunsDir();
    runWithLogs(runsDir, "old", { "logs/stdout.log": "a\n", "logs/stderr.log": "b\n" });
    const { logs } = await listRunLogs({ runsDir }, "old");
    expect(logs.map((log) => [log.id, log.size, log.declared])).toEqual([
      ["stdout", 2, false],
      ["stderr", 2, false],
    ]);
  });

  it("offers nothing undeclared for legacy runs, other writers, an empty list or a malformed field", async () => {
    const { runsDir } = makeRunsDir();
    writeLegacyRun(runsDir, "legacy");
    writeFile(join(runsDir, "legacy", "logs", "stdout.log"), "x");
    const other = writeCurrentRun(runsDir, "other", { manifest: "undeclared" });
    writeFile(join(other, "logs", "stdout.log"), "x");
    runWithLogs(runsDir, "empty", { "logs/stdout.log": "x" }, []);
    runWithLogs(runsDir, "bad", { "logs/stdout.log": "x" }, "logs/stdout.log");
    for (const runId of ["legacy", "other", "empty", "bad"]) {
      expect((await listRunLogs({ runsDir }, runId)).logs, runId).toEqual([]);
    }
  });

  it("keeps a run whose logs field is malformed, and skips malformed entries and repeated ids", async () => {
    const { runsDir } = makeRunsDir();
    runWithLogs(runsDir, "r", {}, [{ id: "a", path: "a.log" }, { id: 5 }, "x", { id: "a", path: "b.log" }]);
    const parsed = parseSummary(JSON.stringify({ schemaVersion: 2, runId: "r", logs: { no: 1 } }));
    expect("problem" in parsed).toBe(true); // other fields are missing: the logs field is not the problem
    expect((await listRunLogs({ runsDir }, "r")).logs.map((log) => log.path)).toEqual(["a.log"]);
  });

  it("marks a log that is a symlink out of the run unsafe, and never opens it", async () => {
    const { root, runsDir } = makeRunsDir();
    writeFile(join(root, "secret.txt"), "CANARY");
    const runDir = runWithLogs(runsDir, "r", {}, [...LOGS, { id: "up", path: "../secret.txt" }]);
    mkdirSync(join(runDir, "logs"), { recursive: true });
    symlinkSync(join(root, "secret.txt"), join(runDir, "logs", "stdout.log"));
    const { logs } = await listRunLogs({ runsDir }, "r");
    expect(logs[0]).toMatchObject({ id: "stdout", unsafe: true, reason: "escapes-run", exists: false, size: null });
    expect(logs[0]).not.toHaveProperty("absolutePath");
    expect(logs[2]).toMatchObject({ id: "up", unsafe: true, reason: "parent-segment" });
    expect(await codeOf(openRunLog({ runsDir }, "r", "stdout"))).toBe("UNSAFE_PATH");
    expect(await codeOf(openRunLog({ runsDir }, "r", "up"))).toBe("UNSAFE_PATH");
  });

  it("refuses a FIFO log without hanging, and names unknown or missing logs LOG_NOT_FOUND", async () => {
    const { runsDir } = makeRunsDir();
    const runDir = runWithLogs(runsDir, "r", {}, LOGS);
    mkdirSync(join(runDir, "logs"));
    makeFifo(join(runDir, "logs", "stdout.log"));
    expect((await listRunLogs({ runsDir }, "r")).logs[0]).toMatchObject({ exists: false, size: null });
    expect(await codeOf(openRunLog({ runsDir }, "r", "stdout"))).toBe("LOG_NOT_FOUND");
    expect(await codeOf(openRunLog({ runsDir }, "r", "stderr"))).toBe("LOG_NOT_FOUND");
    expect(await codeOf(openRunLog({ runsDir }, "r", "nope"))).toBe("LOG_NOT_FOUND");
    expect(await codeOf(openRunLog({ runsDir }, "nope", "stdout"))).toBe("RUN_NOT_FOUND");
    expect(await codeOf(openRunLog({ runsDir }, "../x", "stdout"))).toBe("INVALID_RUN_ID");
  });

  it("opens a log for byte ranges, and a handle still reads a log deleted after opening", async () => {
    const { runsDir } = makeRunsDir();
    const runDir = runWithLogs(runsDir, "r", { "logs/stdout.log": "0123456789" }, LOGS);
    const { entry, file } = await openRunLog({ runsDir }, "r", "stdout");
    try {
      expect(entry.size).toBe(10);
      unlinkSync(join(runDir, "logs", "stdout.log"));
      const buffer = Buffer.alloc(4);
      await file.handle.read(buffer, 0, 4, 3);
      expect(buffer.toString()).toBe("3456");
    } finally {
      await file.handle.close();
    }
    expect(await codeOf(openRunLog({ runsDir }, "r", "stdout"))).toBe("LOG_NOT_FOUND");
  });

  it("finds an incomplete run folder and opens its conventional logs only", async () => {
    const { runsDir } = makeRunsDir();
    const runDir = writeIncompleteRun(runsDir, "busy");
    expect(findRunFolder({ runsDir }, "busy")).toEqual({ runDir, retained: false });
    const { file } = await openConventionalLog(runDir, "stdout");
    await file.handle.close();
    expect(await codeOf(openConventionalLog(runDir, "stderr"))).toBe("LOG_NOT_FOUND");
    expect(await codeOf(openConventionalLog(runDir, "__proto__"))).toBe("LOG_NOT_FOUND");
    expect(() => findRunFolder({ runsDir }, "gone")).toThrow(/No run folder/);
  });
});

describe("readLogTail", () => {
  it("returns the last N lines; a final newline does not start an empty line", async () => {
    expect((await tailOf("a\nb\nc\n", 2)).bytes.toString()).toBe("b\nc\n");
    expect((await tailOf("a\nb\nc", 2)).bytes.toString()).toBe("b\nc");
    expect((await tailOf("a\nb\n", 5)).bytes.toString()).toBe("a\nb\n");
    expect((await tailOf("a\n\n\n", 2)).bytes.toString()).toBe("\n\n");
    expect(await tailOf("a\nb\n", 0)).toMatchObject({ start: 4, end: 4, truncated: false });
    expect(await tailOf("", 3)).toMatchObject({ start: 0, end: 0, truncated: false });
  });

  it("finds lines across many 64 KiB chunks", async () => {
    const lines = Array.from({ length: 20_000 }, (_, i) => `line ${i} ${"x".repeat(i % 50)}\n`);
    const tail = await tailOf(lines.join(""), 5000);
    expect(tail.bytes.toString()).toBe(lines.slice(-5000).join(""));
  });

  it("returns bytes as they are: NUL, invalid UTF-8, CR-only progress bars", async () => {
    const content = Buffer.concat([
      Buffer.from("start\n"),
      Buffer.from([0x00, 0xff, 0xfe, 0xc3, 0x0a]),
      Buffer.from("10%\r20%\r30%\r"),
    ]);
    expect((await tailOf(content, 2)).bytes).toEqual(content.subarray(6));
  });

  it("stops at maxBytes: a progress bar with no newline is one endless line", async () => {
    const tail = await tailOf(`${"progress\r".repeat(100_000)}`, 3, 1000);
    expect(tail).toMatchObject({ start: 900_000 - 1000, end: 900_000, truncated: true });
    expect(tail.bytes.length).toBe(1000);
  });

  it("tails a 1 GiB sparse file with real lines at the end, reading only its end", async () => {
    const dir = tempDir();
    const path = join(dir, "big.log");
    const fd = openSync(path, "w");
    const size = 1024 ** 3;
    ftruncateSync(fd, size);
    const last = Array.from({ length: 1000 }, (_, i) => `line ${i}\n`).join("");
    writeSync(fd, `\n${last}`, size - Buffer.byteLength(last) - 1);
    closeSync(fd);
    const handle = await open(path);
    try {
      const tail = await readLogTail(handle, { lines: 1000 });
      expect(tail.bytes.toString()).toBe(last);
      expect(tail.start).toBe(size - Buffer.byteLength(last));
    } finally {
      await handle.close();
    }
  });

  it("refuses bad options with INVALID_OPTIONS", async () => {
    for (const lines of [-1, 1.5, Number.NaN, 1e9]) expect(await codeOf(tailOf("a\n", lines))).toBe("INVALID_OPTIONS");
    expect(await codeOf(tailOf("a\n", 1, 0))).toBe("INVALID_OPTIONS");
  });
});

describe("guide-board run declares its logs", () => {
  it("writes logs: stdout and stderr into the summary, and the library reads them back", async () => {
    const root = tempDir();
    const runsDir = join(root, "runs");
    const script = "process.stdout.write('out\\n'); process.stderr.write('err\\n')";
    const result = await runCli(
      ["run", "--runs-dir", runsDir, "--run-id", "r1", "--", process.execPath, "-e", script],
      {
        cwd: root,
      },
    );
    expect(result.code).toBe(0);
    const { logs } = await listRunLogs({ runsDir }, "r1");
    expect(logs.map((log) => [log.id, log.path, log.size, log.declared])).toEqual([
      ["stdout", "logs/stdout.log", 4, true],
      ["stderr", "logs/stderr.log", 4, true],
    ]);
  });
});
