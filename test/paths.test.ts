import { mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  checkRef,
  GuideBoardError,
  isGuideBoardError,
  openInRun,
  resolveInRun,
  type UnsafeReason,
} from "../src/index.ts";
import { makeRunsDir, writeFile } from "./helpers/runs.ts";
import { makeFifo } from "./helpers/fifo.ts";

const CANARY = `CANARY-${process.pid}-paths`;

describe("checkRef", () => {
  it.each([
    ["a plain ref", "reports/junit.xml", "reports/junit.xml"],
    ["`./a//b`, normalized", "./a//b", "a/b"],
    ["`.` segments and a trailing slash, dropped", "a/./b/", "a/b"],
    ["`%2e%2e`, a literal name (nothing is decoded)", "%2e%2e/x", "%2e%2e/x"],
    ["fullwidth dots, literal", "．．/x", "．．/x"],
    ["three dots, a literal name", ".../x", ".../x"],
    ["dots inside a name", "..a/b..", "..a/b.."],
    ["unicode names", "报告/résumé ✓.html", "报告/résumé ✓.html"],
    ["a colon after the first character", "ab:c/C:/x", "ab:c/C:/x"],
    ["exactly 4096 characters", "a".repeat(4096), "a".repeat(4096)],
  ])("accepts %s", (_name, ref, path) => {
    expect(checkRef(ref)).toEqual({ safe: true, path });
  });

  it.each<[string, unknown, UnsafeReason]>([
    ["`..`", "..", "parent-segment"],
    ["`a/../b`", "a/../b", "parent-segment"],
    ["`../`", "../", "parent-segment"],
    ["a trailing `..`", "a/b/..", "parent-segment"],
    ["`./..`", "./..", "parent-segment"],
    ["`/etc/passwd`", "/etc/passwd", "absolute"],
    ["`/`", "/", "absolute"],
    ["`//server/share`", "//server/share", "absolute"],
    ["a lone backslash", "\\", "backslash"],
    ["`..\\x`", "..\\x", "backslash"],
    ["`a\\b`", "a\\b", "backslash"],
    ["`C:/x`", "C:/x", "drive-letter"],
    ["`c:x`", "c:x", "drive-letter"],
    ["`Z:`", "Z:", "drive-letter"],
    ["NUL", "a\0b", "nul"],
    ["NUL after `..`", "../\0", "nul"],
    ["a newline", "a\nb", "control-character"],
    ["a tab", "\t", "control-character"],
    ["an escape sequence", "\u001b[2Jx", "control-character"],
    ["DEL", "\x7f", "control-character"],
    ["the empty string", "", "empty"],
    ["`.`", ".", "empty"],
    ["`./`", "./", "empty"],
    ["only dots and slashes", ".//./", "empty"],
    ["4097 characters", "a".repeat(4097), "too-long"],
    ["undefined", undefined, "not-a-string"],
    ["null", null, "not-a-string"],
    ["a number", 42, "not-a-string"],
    ["an object", { path: "a" }, "not-a-string"],
    ["an array", ["a"], "not-a-string"],
    ["a boxed string", new String("a"), "not-a-string"],
  ])("refuses %s", (_name, ref, reason) => {
    expect(checkRef(ref)).toEqual({ safe: false, reason });
  });

  it("refuses a drive letter that only shows after normalizing (`./C:/x`)", () => {
    // The normalized path (`C:/x`) is one checkRef itself refuses, so it must not be returned.
    for (const ref of ["./C:/x", ".//c:x", "./Z:"])
      expect(checkRef(ref), ref).toEqual({ safe: false, reason: "drive-letter" });
  });
});

/**
 * One run folder `r1` next to a sibling `r1-twin` (whose name starts with `r1`, to catch prefix
 * checks) under `runs/`, with `outside.txt` beside `runs/`. Every link below is planted in `r1`.
 */
const { root, runsDir } = makeRunsDir();
const runDir = join(runsDir, "r1");
const REPORT = "<testsuite/>";

const links: Record<string, string> = {
  "to-passwd": "/etc/passwd",
  "to-dev-null": "/dev/null",
  "to-sibling": join(runsDir, "r1-twin", "secret.txt"),
  "to-twin-dir": "../r1-twin",
  "to-runs-root": runsDir,
  up: "..",
  climb: "../../outside.txt",
  shared: "../r1-twin/reports",
  "inside-link": "reports/a.xml",
  "inside-dir": "reports",
  "inside-abs": join(runsDir, "r1", "reports", "a.xml"),
  dangling: "missing.xml",
  "dangling-out": join(root, "not-there-yet.txt"),
  "loop-a": "loop-b",
  "loop-b": "loop-a",
};

beforeAll(() => {
  writeFile(join(root, "outside.txt"), CANARY);
  writeFile(join(runsDir, "r1-twin", "secret.txt"), CANARY);
  writeFile(join(runsDir, "r1-twin", "reports", "secret.txt"), CANARY);
  writeFile(join(runDir, "reports", "a.xml"), REPORT);
  writeFile(join(runDir, "%2e%2e", "x"), REPORT);
  mkdirSync(join(runDir, "empty-dir"));
  for (const [name, target] of Object.entries(links)) symlinkSync(target, join(runDir, name));
  makeFifo(join(runDir, "fifo"));
});

describe("resolveInRun", () => {
  it.each([
    ["a plain file", "reports/a.xml", "reports/a.xml"],
    ["a link inside the run", "inside-link", "reports/a.xml"],
    ["an absolute link inside the run", "inside-abs", "reports/a.xml"],
    ["a file under a folder link inside the run", "inside-dir/a.xml", "reports/a.xml"],
    ["a literal `%2e%2e` folder", "%2e%2e/x", "%2e%2e/x"],
    ["a FIFO (resolved, never opened)", "fifo", "fifo"],
    ["a folder", "reports", "reports"],
  ])("resolves %s inside the run", (_name, ref, real) => {
    expect(resolveInRun(runDir, ref)).toEqual({
      safe: true,
      path: ref,
      absolutePath: join(runDir, ref),
      realPath: join(runDir, real),
    });
  });

  it.each([
    ["a link to /etc/passwd", "to-passwd"],
    ["a link to a device (/dev/null)", "to-dev-null"],
    ["a link to a sibling run's file", "to-sibling"],
    ["a file under a link to a sibling whose name extends this run's", "to-twin-dir/secret.txt"],
    ["a link to the runs root", "to-runs-root"],
    ["a relative link to the runs root (`up -> ..`)", "up"],
    ["a relative link climbing out of the runs root", "climb"],
    ["a file under a folder link to another run (`shared -> ../r1-twin/reports`)", "shared/secret.txt"],
    ["a file reached through the runs root", "up/r1-twin/secret.txt"],
  ])("refuses %s as escapes-run", (_name, ref) => {
    expect(resolveInRun(runDir, ref)).toEqual({ safe: false, path: ref, reason: "escapes-run" });
  });

  it.each([
    ["a dangling link", "dangling"],
    ["a loop of links (loop-a -> loop-b -> loop-a)", "loop-a"],
    ["a path under a file", "reports/a.xml/x"],
    ["a missing file", "reports/none.xml"],
  ])("resolves %s to no real path", (_name, ref) => {
    expect(resolveInRun(runDir, ref)).toEqual({
      safe: true,
      path: ref,
      absolutePath: join(runDir, ref),
      realPath: null,
    });
  });

  it("refuses a dangling link whose target lies outside the run", () => {
    // A link out is refused whether or not its target exists yet: `absolutePath` would follow it
    // the moment someone creates the file.
    expect(resolveInRun(runDir, "dangling-out")).toEqual({ safe: false, path: "dangling-out", reason: "escapes-run" });
  });

  it.each<[string, unknown, UnsafeReason]>([
    ["a parent segment", "../r1-twin/secret.txt", "parent-segment"],
    ["an absolute path", join(runsDir, "r1-twin", "secret.txt"), "absolute"],
    ["a backslash", "..\\r1-twin\\secret.txt", "backslash"],
    ["a number", 7, "not-a-string"],
  ])("refuses %s by its text, before touching the disk", (_name, ref, reason) => {
    expect(resolveInRun(runDir, ref)).toEqual({ safe: false, path: String(ref), reason });
  });

  it("refuses a null-prototype object instead of throwing", () => {
    expect(() => resolveInRun(runDir, Object.create(null))).not.toThrow();
    expect(resolveInRun(runDir, Object.create(null))).toMatchObject({ safe: false, reason: "not-a-string" });
  });
});

describe("openInRun", () => {
  const notFound = () => new GuideBoardError("REPORT_NOT_FOUND", "No such report.");

  it.each([
    ["a plain file", "reports/a.xml"],
    ["a link inside the run", "inside-link"],
    ["a file under a folder link inside the run", "inside-dir/a.xml"],
    ["a literal `%2e%2e` folder's file", "%2e%2e/x"],
  ])("opens %s", async (_name, ref) => {
    const file = await within(2000, openInRun(runDir, ref, notFound));
    try {
      expect(file.realPath.startsWith(`${runDir}/`)).toBe(true);
      expect(file.stat.isFile()).toBe(true);
      expect(await file.handle.readFile("utf8")).toBe(REPORT);
    } finally {
      await file.handle.close();
    }
  });

  it.each([
    ["a link to /etc/passwd", "to-passwd", "UNSAFE_PATH"],
    ["a link to a device", "to-dev-null", "UNSAFE_PATH"],
    ["a link to a sibling run's file", "to-sibling", "UNSAFE_PATH"],
    ["a file through the runs root", "to-runs-root/r1-twin/secret.txt", "UNSAFE_PATH"],
    ["a relative link climbing out", "climb", "UNSAFE_PATH"],
    ["a file under a folder link to another run", "shared/secret.txt", "UNSAFE_PATH"],
    ["a parent segment", "../outside.txt", "UNSAFE_PATH"],
    ["a FIFO", "fifo", "REPORT_NOT_FOUND"],
    ["a folder named as a file", "reports", "REPORT_NOT_FOUND"],
    ["an empty folder", "empty-dir", "REPORT_NOT_FOUND"],
    ["a dangling link", "dangling", "REPORT_NOT_FOUND"],
    ["a loop of links", "loop-a", "REPORT_NOT_FOUND"],
    ["a missing file", "reports/none.xml", "REPORT_NOT_FOUND"],
  ])("rejects %s (`%s`) promptly with %s", async (_name, ref, code) => {
    const error = await within(2000, openInRun(runDir, ref, notFound)).then(
      () => null,
      (caught: unknown) => caught,
    );
    expect(isGuideBoardError(error), String(error)).toBe(true);
    expect(error).toMatchObject({ code });
    expect(
      JSON.stringify({ error, message: (error as Error).message, details: (error as GuideBoardError).details }),
    ).not.toContain(CANARY);
  });

  it("names the reason of an unsafe path in the error details", async () => {
    await expect(openInRun(runDir, "to-sibling", notFound)).rejects.toMatchObject({
      code: "UNSAFE_PATH",
      details: { path: "to-sibling", reason: "escapes-run" },
    });
  });
});

/** Resolves like `work`, or fails when it is still pending (or took) longer than `ms`. */
async function within<T>(ms: number, work: Promise<T>): Promise<T> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still pending after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
    expect(performance.now() - started, "took too long").toBeLessThan(ms);
  }
}
