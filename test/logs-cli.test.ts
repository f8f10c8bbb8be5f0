// `guide-board runs logs` in-process: which log, --tail, --json, bytes as they are to a pipe,
// escape sequences neutralised on a terminal, and --follow of a run still being written.
import { appendFileSync, mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../cli/index.ts";
import { createTerminalFilter } from "../cli/terminal.ts";
import { listRunLogs, toJSONText } from "../src/index.ts";
import { runCli } from "./helpers/cli.ts";
import { makeFifo } from "./helpers/fifo.ts";
import { makeRunsDir, tempDir, writeCurrentRun, writeFile, writeIncompleteRun } from "./helpers/runs.ts";

const LOGS = [
  { id: "stdout", path: "logs/stdout.log" },
  { id: "stderr", path: "logs/stderr.log" },
];
const HOSTILE =
  "ok \x1b[1;31mred\x1b[0m\n\x1b]0;pwned title\x07\x1b[2J\x1b[H\x1b[10A\x1bP+q\x1b\\\x9b6n\x07\u202eevil\n";

function world() {
  const { root, runsDir } = makeRunsDir();
  const runDir = writeCurrentRun(runsDir, "r", { reports: [], extra: { logs: LOGS } });
  writeFile(join(runDir, "logs", "stdout.log"), "a\nb\nc\n");
  writeFile(join(runDir, "logs", "stderr.log"), "oops\n");
  return { root, runsDir, runDir };
}

/** `main` with a stdout that says it is a terminal, collecting what it is given. */
async function onTerminal(args: string[], cwd: string) {
  const chunks: (string | Uint8Array)[] = [];
  let stderr = "";
  const stdout = { isTTY: true, write: (chunk: string) => chunks.push(chunk) };
  const code = await main({ args, stdout, stderr: { write: (text: string) => (stderr += text) }, env: {}, cwd });
  return { code, chunks, stderr };
}

describe("guide-board runs logs", () => {
  it("prints the first declared log, another with --log, the last lines with --tail", async () => {
    const { root, runsDir } = world();
    const dir = ["--runs-dir", runsDir];
    expect(await runCli(["runs", "logs", "r", ...dir], { cwd: root })).toEqual({
      code: 0,
      stdout: "a\nb\nc\n",
      stderr: "",
    });
    expect((await runCli(["runs", "logs", "r", "--log", "stderr", ...dir], { cwd: root })).stdout).toBe("oops\n");
    expect((await runCli(["runs", "logs", "r", "--tail", "2", ...dir], { cwd: root })).stdout).toBe("b\nc\n");
    expect((await runCli(["runs", "logs", "r", "--tail", "0", ...dir], { cwd: root })).stdout).toBe("");
  });

  it("prints the list with --json, the bytes HTTP returns", async () => {
    const { root, runsDir } = world();
    const result = await runCli(["runs", "logs", "r", "--json", "--runs-dir", runsDir], { cwd: root });
    expect(result.stdout).toBe(toJSONText(await listRunLogs({ runsDir }, "r")));
  });

  it("answers bad input with a clear line and the promised exit code", async () => {
    const { root, runsDir, runDir } = world();
    const cli = (...args: string[]) => runCli(["runs", "logs", ...args, "--runs-dir", runsDir], { cwd: root });
    for (const tail of ["-1", "x", "1.5", "100001", ""]) {
      const bad = await cli("r", `--tail=${tail}`);
      expect([bad.code, bad.stderr]).toEqual([2, expect.stringContaining("--tail takes a whole number")]);
    }
    expect((await cli("r", "--log", "nope")).code).toBe(1);
    expect((await cli("nope")).code).toBe(1);
    expect((await cli("../x")).code).toBe(2);
    expect((await cli()).code).toBe(2);
    writeCurrentRun(runsDir, "none", { reports: [], extra: { logs: [] } });
    expect(await cli("none")).toMatchObject({ code: 1, stderr: "guide-board: Run none declares no logs.\n" });
    writeFile(join(root, "secret"), "CANARY");
    const linked = writeCurrentRun(runsDir, "linked", { reports: [], extra: { logs: LOGS } });
    mkdirSync(join(linked, "logs"));
    symlinkSync(join(root, "secret"), join(linked, "logs", "stdout.log"));
    expect(await cli("linked")).toMatchObject({ code: 2, stdout: "" });
    makeFifo(join(runDir, "logs", "fifo"));
    writeCurrentRun(runsDir, "fifo", { reports: [], extra: { logs: [{ id: "p", path: "logs/fifo" }] } });
    mkdirSync(join(runsDir, "fifo", "logs"));
    makeFifo(join(runsDir, "fifo", "logs", "fifo"));
    const started = Date.now();
    expect((await cli("fifo")).code).toBe(1);
    expect(Date.now() - started).toBeLessThan(2500);
  });

  it("sends bytes as they are to a pipe: NUL, invalid UTF-8, escapes", async () => {
    const { root, runsDir, runDir } = world();
    const bytes = Buffer.concat([Buffer.from(HOSTILE), Buffer.from([0, 0xff, 0xfe, 0x0a])]);
    writeFile(join(runDir, "logs", "stdout.log"), bytes);
    const chunks: Buffer[] = [];
    const stdout = { write: (chunk: string | Buffer) => chunks.push(Buffer.from(chunk)) };
    const code = await main({ args: ["runs", "logs", "r", "--runs-dir", runsDir], stdout, env: {}, cwd: root });
    expect(code).toBe(0);
    expect(Buffer.concat(chunks)).toEqual(bytes);
  });

  it("neutralises everything but colours on a terminal", async () => {
    const { root, runsDir, runDir } = world();
    writeFile(join(runDir, "logs", "stdout.log"), Buffer.concat([Buffer.from(HOSTILE), Buffer.from([0, 0xff, 0x0a])]));
    const { code, chunks } = await onTerminal(["runs", "logs", "r", "--runs-dir", runsDir], root);
    expect(code).toBe(0);
    const text = chunks.join("");
    expect(text).toBe(
      "ok \x1b[1;31mred\x1b[0m\n\\u001b]0;pwned title\\u0007\\u001b[2J\\u001b[H\\u001b[10A\\u001bP+q\\u001b\\\\u009b6n\\u0007\\u202eevil\n\\u0000\ufffd\n",
    );
    expect(text.replace(/\x1b\[[0-9;]*m/g, "")).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
  });

  it("keeps a colour split across chunks, and UTF-8 split across chunks", () => {
    const filter = createTerminalFilter();
    const euro = Buffer.from("€");
    const parts = [Buffer.from("a\x1b["), Buffer.from("31"), Buffer.from("mb"), euro.subarray(0, 1), euro.subarray(1)];
    expect(parts.map((part) => filter.write(part)).join("") + filter.end()).toBe("a\x1b[31mb€");
    const cut = createTerminalFilter();
    expect(cut.write(Buffer.from("x\x1b")) + cut.end()).toBe("x\\u001b");
  });

  it("--follow prints a run still being written as it grows, and exits with its status", async () => {
    const { runsDir } = makeRunsDir();
    const root = tempDir();
    let stdout = "";
    mkdirSync(join(runsDir, "busy"));
    const followed = main({
      args: ["runs", "logs", "busy", "--follow", "--runs-dir", runsDir],
      stdout: { write: (chunk: string) => (stdout += chunk) },
      stderr: { write: () => {} },
      env: {},
      cwd: root,
    });
    await new Promise((resolve) => setTimeout(resolve, 250)); // the folder exists, its log does not yet
    const runDir = writeIncompleteRun(runsDir, "busy");
    for (let i = 0; i < 5; i++) {
      appendFileSync(join(runDir, "logs", "stdout.log"), `\nstep ${i}`);
      await new Promise((resolve) => setTimeout(resolve, 60));
    }
    expect(stdout).toContain("still running\nstep 0");
    appendFileSync(join(runDir, "logs", "stdout.log"), "\nlast\n");
    writeCurrentRun(runsDir, "busy", { status: "failed", exitCode: 3, reports: [], extra: { logs: LOGS } });
    expect(await followed).toBe(3);
    expect(stdout).toBe("still running\nstep 0\nstep 1\nstep 2\nstep 3\nstep 4\nlast\n");
  });

  it("--follow of a retained run prints it and exits with its status; of a missing folder, 1", async () => {
    const { root, runsDir } = world();
    writeCurrentRun(runsDir, "cancelled", { status: "cancelled", reports: [], extra: { logs: LOGS } });
    writeFile(join(runsDir, "cancelled", "logs", "stdout.log"), "bye\n");
    const cli = (...args: string[]) => runCli(["runs", "logs", ...args, "--runs-dir", runsDir], { cwd: root });
    expect(await cli("r", "--follow", "--tail", "1")).toEqual({ code: 0, stdout: "c\n", stderr: "" });
    expect((await cli("cancelled", "-f")).code).toBe(130);
    expect((await cli("gone", "--follow")).code).toBe(1);
    writeIncompleteRun(runsDir, "busy");
    expect((await cli("busy", "--follow", "--log", "junit")).code).toBe(2);
  });
});
