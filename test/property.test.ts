import { realpathSync, symlinkSync } from "node:fs";
import { join, resolve } from "node:path";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { checkRef, GuideBoardError, isGuideBoardError, openInRun, resolveInRun, UNSAFE_REASONS } from "../src/index.ts";
import { makeRunsDir, writeFile } from "./helpers/runs.ts";

/** Characters weighted toward the ones path attacks are made of. */
const hostileChar = fc.oneof(
  ...(
    [
      [".", 12],
      ["/", 10],
      ["\\", 3],
      ["%", 3],
      ["2", 2],
      ["e", 2],
      ["\0", 1],
      [":", 2],
      ["C", 2],
      ["a", 4],
      ["．", 2],
      ["\n", 1],
      ["\x7f", 1],
      ["\x85", 1],
    ] as const
  ).map(([char, weight]) => ({ arbitrary: fc.constant(char), weight })),
);

const hostileRef = fc.oneof(
  { arbitrary: fc.array(hostileChar, { maxLength: 24 }).map((chars) => chars.join("")), weight: 4 },
  {
    arbitrary: fc
      .array(fc.constantFrom("..", ".", "", "a", "%2e%2e", "．．", "C:", "\\"), { maxLength: 6 })
      .map((s) => s.join("/")),
    weight: 2,
  },
  { arbitrary: fc.string({ unit: "binary", maxLength: 24 }), weight: 1 },
);

describe("checkRef (property)", () => {
  const runDir = "/srv/runs/r1";

  it("accepts only normalized relative paths that stay inside the run folder", () => {
    fc.assert(
      fc.property(hostileRef, (ref) => {
        const check = checkRef(ref);
        if (!check.safe) {
          expect(UNSAFE_REASONS).toContain(check.reason);
          return;
        }
        const segments = check.path.split("/");
        expect(segments).not.toContain("..");
        expect(segments).not.toContain(".");
        expect(segments).not.toContain("");
        expect(check.path).not.toMatch(/^\/|\\|\0/);
        expect(resolve(runDir, check.path).startsWith(`${runDir}/`)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it("accepts its own output unchanged (normalizing never makes a ref it would refuse)", () => {
    fc.assert(
      fc.property(hostileRef, (ref) => {
        const check = checkRef(ref);
        if (check.safe) expect(checkRef(check.path)).toEqual(check);
      }),
      { numRuns: 1000 },
    );
  });

  it("agrees with the rules written out: nothing decoded, nothing else refused", () => {
    const expected = (ref: string): string | null => {
      // eslint-disable-next-line no-control-regex
      if (ref.length > 4096 || /[\0-\x1f\x7f-\x9f\\]/.test(ref) || /^(\/|[A-Za-z]:)/.test(ref)) return null;
      const segments = ref.split("/");
      if (segments.includes("..")) return null;
      const kept = segments.filter((segment) => segment !== "" && segment !== ".");
      return kept.length === 0 ? null : kept.join("/");
    };
    fc.assert(
      fc.property(hostileRef, (ref) => {
        // A drive letter that only shows after normalizing (`./C:/x`) has its own test.
        fc.pre(!/^[A-Za-z]:/.test(expected(ref) ?? ""));
        const check = checkRef(ref);
        expect(check.safe ? check.path : null).toBe(expected(ref));
      }),
      { numRuns: 1000 },
    );
  });
});

/**
 * A real run folder `runs/r1` with links that stay inside and links that leave it: to the runs
 * root, to /etc, to a sibling `r1-twin` whose name extends this run's, and a loop.
 */
const { runsDir } = makeRunsDir();
const runDir = join(runsDir, "r1");
const CANARY = "CANARY-property";

beforeAll(() => {
  writeFile(join(runDir, "reports", "a.txt"), "report");
  writeFile(join(runDir, "sub", "deep.txt"), "deep");
  writeFile(join(runsDir, "r1-twin", "secret.txt"), CANARY);
  const links: Record<string, string> = {
    inside: "reports",
    "inside-file": "reports/a.txt",
    self: ".",
    up: "..",
    etc: "/etc",
    twin: "../r1-twin",
    loop1: "loop2",
    loop2: "loop1",
    dangling: "nowhere.txt",
  };
  for (const [name, target] of Object.entries(links)) symlinkSync(target, join(runDir, name));
});

const segment = fc.constantFrom(
  "inside",
  "inside-file",
  "self",
  "up",
  "etc",
  "twin",
  "loop1",
  "dangling",
  "reports",
  "a.txt",
  "sub",
  "deep.txt",
  "passwd",
  "r1",
  "r1-twin",
  "secret.txt",
  "..",
  ".",
  "",
  "%2e%2e",
  "．．",
  "\\",
);
const runRef = fc
  .tuple(fc.constantFrom("", "", "./", "/"), fc.array(segment, { minLength: 1, maxLength: 6 }))
  .map(([prefix, segments]) => prefix + segments.join("/"));

const inRun = (path: string) => path === runDir || path.startsWith(`${runDir}/`);

describe("resolveInRun and openInRun on a real run folder (property)", () => {
  it("resolveInRun returns unsafe, or a real path inside the run folder", () => {
    fc.assert(
      fc.property(runRef, (ref) => {
        const resolved = resolveInRun(runDir, ref);
        if (!resolved.safe) {
          expect(UNSAFE_REASONS).toContain(resolved.reason);
          expect(resolved).not.toHaveProperty("absolutePath");
          return;
        }
        expect(resolved.absolutePath).toBe(join(runDir, resolved.path));
        if (resolved.realPath !== null) {
          expect(inRun(resolved.realPath), resolved.realPath).toBe(true);
          expect(resolved.realPath).toBe(realpathSync(resolved.absolutePath));
        }
      }),
      { numRuns: 1000 },
    );
  });

  it("resolveInRun refuses every text-safe ref whose real path leaves the run folder", () => {
    fc.assert(
      fc.property(runRef, (ref) => {
        const check = checkRef(ref);
        fc.pre(check.safe);
        let real: string | null = null;
        try {
          real = realpathSync(join(runDir, check.safe ? check.path : ""));
        } catch {
          // nothing there: covered by the property above
        }
        fc.pre(real !== null && !inRun(real));
        expect(resolveInRun(runDir, ref)).toMatchObject({ safe: false, reason: "escapes-run" });
      }),
      { numRuns: 300 },
    );
  });

  it("openInRun opens only regular files inside the run folder, and refuses everything else with a typed error", async () => {
    const notFound = () => new GuideBoardError("REPORT_NOT_FOUND", "No such report.");
    await fc.assert(
      fc.asyncProperty(runRef, async (ref) => {
        let file: Awaited<ReturnType<typeof openInRun>>;
        try {
          file = await openInRun(runDir, ref, notFound);
        } catch (error) {
          expect(
            isGuideBoardError(error, "UNSAFE_PATH") || isGuideBoardError(error, "REPORT_NOT_FOUND"),
            String(error),
          ).toBe(true);
          return;
        }
        try {
          expect(inRun(file.realPath), file.realPath).toBe(true);
          expect(file.stat.isFile()).toBe(true);
          expect(await file.handle.readFile("utf8")).not.toContain(CANARY);
        } finally {
          await file.handle.close();
        }
      }),
      { numRuns: 300 },
    );
  });
});
