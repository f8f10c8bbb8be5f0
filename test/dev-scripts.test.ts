// The scripts a newcomer meets first: `npm start` builds through scripts/quiet.mjs, which prints
// nothing when the build succeeds and everything when it fails.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { ROOT } from "./helpers/bin.ts";

const QUIET = join(ROOT, "scripts", "quiet.mjs");
const run = (...args: string[]) =>
  promisify(execFile)(process.execPath, [QUIET, ...args], { cwd: ROOT }).then(
    (done) => ({ code: 0, ...done }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );

describe("scripts/quiet.mjs (npm start's build step)", () => {
  it("prints nothing when the command succeeds", async () => {
    const result = await run(process.execPath, "-e", "console.log('build output'); console.error('warning')");
    expect(result).toMatchObject({ code: 0, stdout: "", stderr: "" });
  });

  it("prints all the output and exits with the command's code when it fails", async () => {
    const script = "console.log('line 1'); console.error('error: line 2'); process.exit(3)";
    const result = await run(process.execPath, "-e", script);
    expect(result.code).toBe(3);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("line 1\n");
    expect(result.stderr).toContain("error: line 2\n");
    expect(result.stderr).toMatch(/failed \(exit 3\)\n$/);
  });

  it("says so when the command cannot be started", async () => {
    const result = await run("/no/such/command");
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^\/no\/such\/command: .*ENOENT/);
  });
});
