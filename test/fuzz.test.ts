// Fuzzing the three places where untrusted text meets the library: a path a run folder names
// (resolveInRun), a summary a writer left (parseSummary, listRetainedRuns), and a cursor a client
// sends (listRetainedRuns, GET /retained-runs). Each must answer or refuse with a typed error —
// never throw anything else, never escape the run folder, never answer 5xx.
import { realpathSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGuideBoardApp } from "../adapters/h3.ts";
import {
  artifactManifest,
  createRunIndex,
  getRetainedRun,
  isGuideBoardError,
  listRetainedRuns,
  parseSummary,
  reportPaths,
  resolveInRun,
  toJSONText,
  UNSAFE_REASONS,
} from "../src/index.ts";
import { makeRunsDir, writeFile, writeManyRuns, writeSummaryText } from "./helpers/runs.ts";

const inside = (root: string, path: string) => path === root || path.startsWith(`${root}/`);

// ---------------------------------------------------------------------------------------------
// (a) Path safety

describe("resolveInRun (fuzz)", () => {
  const { runsDir } = makeRunsDir();
  const runDir = join(runsDir, "r1");

  /** A run folder with links that stay inside, leave it, dangle inside or out, and loop. */
  beforeAll(() => {
    writeFile(join(runDir, "reports", "a.txt"), "report");
    writeFile(join(runDir, "ünï．code", "b.txt"), "unicode");
    writeFile(join(runsDir, "r1-twin", "secret.txt"), "CANARY-fuzz");
    const links: Record<string, string> = {
      inside: "reports",
      "abs-inside": join(runDir, "reports"),
      self: ".",
      up: "..",
      "up-and-back": "../r1/reports",
      etc: "/etc",
      twin: "../r1-twin",
      "dangling-in": "nowhere.txt",
      "dangling-out": "../r1-twin/nowhere.txt",
      "dangling-abs": "/nonexistent-guide-board/x",
      loop1: "loop2",
      loop2: "loop1",
    };
    for (const [name, target] of Object.entries(links)) symlinkSync(target, join(runDir, name));
  });

  const weighted = (pairs: [string, number][]) =>
    pairs.map(([char, weight]) => ({ weight, arbitrary: fc.constant(char) }));
  /** One unit of a hostile ref: path syntax, link names, and any code point. */
  const unit = fc.oneof(
    ...weighted([
      [".", 10],
      ["/", 10],
      ["\\", 3],
      ["%", 2],
      ["\0", 1],
      [":", 2],
      ["．", 2],
      ["..", 4],
      ["C:", 1],
      ["inside", 2],
      ["abs-inside", 1],
      ["self", 1],
      ["up", 2],
      ["up-and-back", 1],
      ["etc", 1],
      ["twin", 2],
      ["dangling-in", 1],
      ["dangling-out", 2],
      ["dangling-abs", 1],
      ["loop1", 1],
      ["reports", 2],
      ["a.txt", 1],
      ["ünï．code", 1],
      ["secret.txt", 1],
      ["passwd", 1],
    ]),
    { weight: 4, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 1 }) },
  );
  const ref = fc.oneof(
    { weight: 6, arbitrary: fc.string({ unit, maxLength: 16 }) },
    { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 32 }) },
    {
      weight: 1,
      arbitrary: fc.string({ unit: fc.constantFrom("a", "/", ".", "é"), minLength: 4000, maxLength: 4200 }),
    },
  );

  it("never throws; a safe ref's absolute and real paths lie inside the run folder", () => {
    fc.assert(
      fc.property(ref, (text) => {
        const resolved = resolveInRun(runDir, text);
        if (!resolved.safe) {
          expect(UNSAFE_REASONS).toContain(resolved.reason);
          return;
        }
        expect(resolved.absolutePath).toBe(join(runDir, resolved.path));
        expect(resolved.absolutePath.startsWith(`${runDir}/`), resolved.absolutePath).toBe(true);
        if (resolved.realPath !== null) {
          expect(inside(runDir, resolved.realPath), resolved.realPath).toBe(true);
          expect(resolved.realPath).toBe(realpathSync.native(resolved.absolutePath));
        }
      }),
      { numRuns: 3000 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// (b) Summaries

const RUN = "2026-01-01T00-00-00Z-fuzz";
const VALID_CURRENT = {
  schemaVersion: 2,
  runId: RUN,
  status: "passed",
  startedAt: "2026-01-01T00:00:00Z",
  finishedAt: "2026-01-01T00:01:00Z",
  exitCode: 0,
  command: ["npm", "test"],
  labels: { suite: "unit" },
  reports: [{ id: "junit", path: "reports/junit.xml" }],
  artifactManifest: "assessment-package/artifact-manifest.json",
  submissionManifest: "submission-manifest.json",
};
const VALID_LEGACY = { runId: RUN, status: "failed", startedAt: "2025-01-01T00:00:00Z", reports: ["reports/a.html"] };

/** Values that sit on the edges of the schemas. */
const edgeValue = fc.constantFrom<unknown>(
  2,
  3,
  2.5,
  -1,
  0,
  1e308,
  -0,
  Number.MAX_SAFE_INTEGER + 2,
  "2",
  null,
  true,
  [],
  {},
  "2026-01-01T00:00:00",
  "2026-01-01T00:00",
  "0000-01-01T00:00:00Z",
  "0099-12-31T23:59:59Z",
  "9999-12-31T23:59:59.999999999Z",
  "2024-02-29T00:00:00Z",
  "2026-02-29T00:00:00Z",
  "2026-01-01T00:00:00+14:00",
  "2026-01-01T00:00:00-23:59",
  "2026-01-01t00:00:00z",
  "passed",
  "failed",
  "errored",
  "cancelled",
  "PASSED",
  "",
  { __proto__: null, suite: "x" },
  JSON.parse('{"__proto__":"x","constructor":"y","toString":"z"}'),
  [{ id: "x", path: "../../etc/passwd" }],
  [{ id: "", path: "a" }],
  [{ id: "a".repeat(300), path: "a" }],
  [{ id: "x", path: 1 }],
  ["../x", "/etc/passwd", "a\\b", "C:/x", "reports/a.html", "reports/a.html"],
  ["a/junit.xml", "b/junit.xml", "junit.xml"],
  "../artifact-manifest.json",
  "/etc/passwd",
  "a\0b",
);
const hostileValue = fc.oneof(
  { weight: 2, arbitrary: edgeValue },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
);
const fieldName = fc.constantFrom(...Object.keys(VALID_CURRENT), "__proto__", "constructor", "extra");

/** A valid summary of some generation with fields replaced or removed. */
const mutatedSummary = fc
  .tuple(
    fc.constantFrom<Record<string, unknown>>(VALID_CURRENT, VALID_LEGACY, { ...VALID_CURRENT, schemaVersion: 7 }),
    fc.array(fc.tuple(fieldName, fc.option(hostileValue, { nil: undefined })), { maxLength: 3 }),
  )
  .map(([base, changes]) => {
    const copy: Record<string, unknown> = JSON.parse(JSON.stringify(base));
    for (const [field, value] of changes) {
      if (value === undefined) delete copy[field];
      else Object.defineProperty(copy, field, { value, enumerable: true, configurable: true, writable: true });
    }
    return JSON.stringify(copy);
  });

/** `JSON.stringify` of anything that serializes (no BigInt, no cycles), else null. */
const serialized = (value: unknown): string | null => {
  try {
    return JSON.stringify(value) ?? null;
  } catch {
    return null;
  }
};

const summaryText = fc.oneof(
  { weight: 4, arbitrary: mutatedSummary },
  { weight: 2, arbitrary: fc.jsonValue().map((value) => JSON.stringify(value)) },
  {
    weight: 1,
    arbitrary: fc
      .anything({
        withBigInt: true,
        withDate: true,
        withMap: true,
        withSet: true,
        withNullPrototype: true,
        withBoxedValues: true,
        withSparseArray: true,
        withTypedArray: true,
      })
      .map(serialized)
      .filter((text): text is string => text !== null),
  },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 64 }) },
  { weight: 1, arbitrary: mutatedSummary.chain((text) => fc.nat(text.length).map((at) => text.slice(0, at))) },
  { weight: 1, arbitrary: mutatedSummary.map((text) => `\ufeff${text}`) },
);

const isProblem = (value: unknown) =>
  typeof value === "object" &&
  value !== null &&
  "problem" in value &&
  ["corrupt-summary", "schema-invalid"].includes((value as { problem: { kind: string } }).problem.kind);

describe("parseSummary and listRetainedRuns on hostile summaries (fuzz)", () => {
  it("parseSummary returns a parsed summary or a { problem }, and never throws", () => {
    fc.assert(
      fc.property(summaryText, (text) => {
        const parsed = parseSummary(text);
        if (isProblem(parsed)) return;
        expect(parsed).toMatchObject({
          generation: expect.stringMatching(/^(legacy|current|newer)$/),
          summary: expect.any(Object),
        });
      }),
      { numRuns: 2000 },
    );
  });

  const { runsDir } = makeRunsDir();
  const OTHER = "2026-06-01T00-00-00Z-other";
  beforeAll(() => {
    writeSummaryText(
      runsDir,
      OTHER,
      JSON.stringify({ ...VALID_CURRENT, runId: OTHER, startedAt: "2026-06-01T00:00:00Z" }),
    );
  });

  it("listRetainedRuns lists the run or a diagnostic for it, never throws, and pages through it", async () => {
    await fc.assert(
      fc.asyncProperty(summaryText, async (text) => {
        writeSummaryText(runsDir, RUN, text);
        const page = await listRetainedRuns({ runsDir });
        const listed = page.runs.some((run) => run.runId === RUN);
        const diagnosed = page.diagnostics.some((diagnostic) => diagnostic.entry === RUN);
        expect(listed !== diagnosed, `listed ${listed}, diagnosed ${diagnosed}: ${text.slice(0, 200)}`).toBe(true);
        expect(page.runs.map((run) => run.runId)).toContain(OTHER);
        expect(() => toJSONText(page)).not.toThrow();
        // One run a page, following nextCursor: every listed run exactly once.
        const seen: string[] = [];
        let cursor: string | undefined;
        do {
          const next = await listRetainedRuns({ runsDir, limit: 1, cursor });
          seen.push(...next.runs.map((run) => run.runId));
          cursor = next.nextCursor;
        } while (cursor !== undefined && seen.length <= page.runs.length);
        expect(seen).toEqual(page.runs.map((run) => run.runId));
        // The run's own routes answer or refuse with a typed error.
        for (const read of [
          () => getRetainedRun({ runsDir }, RUN),
          () => reportPaths({ runsDir }, RUN),
          () => artifactManifest({ runsDir }, RUN),
        ]) {
          await read().then(
            (value) => expect(() => toJSONText(value)).not.toThrow(),
            (error: unknown) => expect(isGuideBoardError(error), String(error)).toBe(true),
          );
        }
      }),
      { numRuns: 250 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// (c) Cursors

describe("cursors (fuzz)", () => {
  const { runsDir } = makeRunsDir();
  const ids = writeManyRuns(runsDir, 5);
  const realCursors: string[] = [];
  const index = createRunIndex({ runsDir, watch: false, revalidateMs: 0 });
  const plainApp = createGuideBoardApp({ runsDir });
  const indexedApp = createGuideBoardApp({ runsDir, index });

  beforeAll(async () => {
    let cursor: string | undefined;
    do {
      const page = await listRetainedRuns({ runsDir, limit: 1, cursor });
      cursor = page.nextCursor;
      if (cursor !== undefined) realCursors.push(cursor);
    } while (cursor !== undefined);
    expect(realCursors).toHaveLength(ids.length - 1);
  });

  afterAll(() => index.close());

  const base64url = fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");
  const realCursor = fc.nat().map((i) => realCursors[i % realCursors.length]!);
  /** A real cursor, changed: one character replaced, dropped or added, cut, extended, re-padded. */
  const mutatedCursor = fc.oneof(
    fc
      .tuple(realCursor, fc.nat(), fc.string({ unit: "binary", minLength: 1, maxLength: 1 }))
      .map(([c, at, ch]) => c.slice(0, at % c.length) + ch + c.slice((at % c.length) + 1)),
    fc
      .tuple(realCursor, fc.nat(), base64url)
      .map(([c, at, ch]) => c.slice(0, at % c.length) + ch + c.slice((at % c.length) + 1)),
    fc.tuple(realCursor, fc.nat()).map(([c, at]) => c.slice(0, at % c.length) + c.slice((at % c.length) + 1)),
    fc
      .tuple(realCursor, fc.nat(), base64url)
      .map(([c, at, ch]) => c.slice(0, at % (c.length + 1)) + ch + c.slice(at % (c.length + 1))),
    fc.tuple(realCursor, fc.nat()).map(([c, at]) => c.slice(0, at % c.length)),
    fc.tuple(realCursor, fc.string({ unit: base64url, maxLength: 40 })).map(([c, tail]) => c + tail),
    realCursor.map((c) => Buffer.from(c, "base64url").toString("base64")),
    realCursor.map((c) => `${c}==`),
    realCursor.map((c) => c.toUpperCase()),
  );
  /** `1:<ms>:<run id>` with hostile parts, encoded as the library would. */
  const forgedCursor = fc
    .tuple(
      fc.constantFrom("1", "2", "0", "", "01", "1 "),
      fc.oneof(
        fc.integer().map(String),
        fc.double().map(String),
        fc.constantFrom(
          "NaN",
          "Infinity",
          "-0",
          "1e3",
          "9".repeat(16),
          "9".repeat(17),
          "1.00000000000000000001",
          "0.1.2",
          "",
        ),
      ),
      fc.oneof(
        fc.constantFrom(...ids, "..", ".", "a/b", "a\nb", "x".repeat(128), "x".repeat(129)),
        fc.string({ maxLength: 12 }),
      ),
    )
    .map(([version, ms, id]) => Buffer.from(`${version}:${ms}:${id}`, "utf8").toString("base64url"));
  const cursor = fc.oneof(
    { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 64 }) },
    { weight: 1, arbitrary: fc.string({ maxLength: 64 }) },
    { weight: 2, arbitrary: fc.base64String({ maxLength: 64 }) },
    { weight: 1, arbitrary: fc.string({ unit: base64url, maxLength: 64 }) },
    { weight: 3, arbitrary: mutatedCursor },
    { weight: 3, arbitrary: forgedCursor },
    { weight: 1, arbitrary: realCursor },
  );

  it("listRetainedRuns returns a page or rejects with INVALID_CURSOR, nothing else", async () => {
    await fc.assert(
      fc.asyncProperty(cursor, async (text) => {
        const outcome = await listRetainedRuns({ runsDir, limit: 2, cursor: text }).then(
          (page) => ({ page }),
          (error: unknown) => ({ error }),
        );
        if ("error" in outcome) {
          expect(isGuideBoardError(outcome.error, "INVALID_CURSOR"), String(outcome.error)).toBe(true);
          return;
        }
        expect(Array.isArray(outcome.page.runs) && Array.isArray(outcome.page.diagnostics)).toBe(true);
        expect(outcome.page.runs.length).toBeLessThanOrEqual(2);
      }),
      { numRuns: 1500 },
    );
  });

  /** Percent-encodes every UTF-8 byte (a lone surrogate goes out as U+FFFD, as a browser sends it). */
  const encoded = (text: string) =>
    [...Buffer.from(text, "utf8")].map((byte) => `%${byte.toString(16).padStart(2, "0")}`).join("");
  const anyLength = fc.oneof(
    { weight: 9, arbitrary: cursor },
    { weight: 1, arbitrary: fc.string({ unit: base64url, minLength: 1000, maxLength: 1100 }) },
  );

  it("GET /retained-runs?cursor=… answers 200 or 400 only, with or without a run index", async () => {
    await fc.assert(
      fc.asyncProperty(anyLength, fc.boolean(), async (text, indexed) => {
        const response = await (indexed ? indexedApp : plainApp).request(
          `/retained-runs?limit=2&cursor=${encoded(text)}`,
        );
        const body = await response.text();
        expect([200, 400], body).toContain(response.status);
        if (response.status === 400) {
          expect(JSON.parse(body)).toStrictEqual({
            error: { code: expect.stringMatching(/^INVALID_(CURSOR|OPTIONS)$/), message: expect.any(String) },
          });
        }
      }),
      { numRuns: 600 },
    );
  });

  it("a real cursor continues the listing with and without an index alike", async () => {
    for (const real of realCursors) {
      const plain = await (await plainApp.request(`/retained-runs?limit=2&cursor=${real}`)).text();
      const indexed = await (await indexedApp.request(`/retained-runs?limit=2&cursor=${real}`)).text();
      expect(indexed).toBe(plain);
    }
  });

  // Whatever its length, a cursor the library did not make is INVALID_CURSOR, as documented.
  it("a cursor over 1024 characters is refused as INVALID_CURSOR", async () => {
    for (const text of [realCursors[0]! + "A".repeat(1024), "A".repeat(1025)]) {
      const error = await listRetainedRuns({ runsDir, cursor: text }).then(
        () => null,
        (caught: unknown) => caught,
      );
      expect(isGuideBoardError(error) ? error.code : String(error)).toBe("INVALID_CURSOR");
    }
  });
});
