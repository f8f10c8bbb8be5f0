// Tests against the BUILT package (`npm run build` first; `npm test` does that), as users get it.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import ts from "typescript";
import { beforeAll, describe, expect, it } from "vitest";
import * as source from "../src/index.ts";
import { tempDir } from "./helpers/runs.ts";

type Library = typeof source;

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SRC = join(ROOT, "src");
const EXAMPLES = join(ROOT, "examples", "runs");
const LEGACY = "2025-03-14T08-30-00Z-legacy1";
const PASSED = "2026-11-20T09-00-00Z-k3x9";
const FAILED = "2026-11-21T14-15-00Z-p7q2";
const INCOMPLETE = "2026-11-22T07-45-00Z-m1n4";
const RETAINED = [FAILED, PASSED, LEGACY];
const BUILT = ["dist/index.js", "dist/index.cjs", "dist/index.d.ts", "dist/index.d.cts", "dist/cli.js"];

const DIST_ESM: string = "../dist/index.js";
const DIST_CJS: string = "../dist/index.cjs";
const DIST_H3: string = "../dist/h3.js";

let esm: Library;
let cjs: Library;
let h3Entry: Record<string, unknown>;

beforeAll(async () => {
  const missing = BUILT.filter((file) => !existsSync(join(ROOT, file)));
  if (missing.length > 0) {
    throw new Error(
      `The built package is missing ${missing.join(", ")}: run \`npm run build\` before vitest (\`npm test\` does).`,
    );
  }
  // Specifiers in variables so `tsc --noEmit` (which `npm test` runs before the build) never needs dist/.
  esm = (await import(/* @vite-ignore */ DIST_ESM)) as Library;
  cjs = createRequire(import.meta.url)(DIST_CJS) as Library;
  h3Entry = (await import(/* @vite-ignore */ DIST_H3)) as Record<string, unknown>;
});

describe("exports", () => {
  it("exports exactly these names from the ESM build", () => {
    expect(Object.keys(esm).sort()).toMatchInlineSnapshot(`
      [
        "ARTIFACT_MANIFEST_FILE",
        "DIAGNOSTIC_KINDS",
        "GuideBoardError",
        "HISTORY_WINDOW",
        "MAX_TAIL_LINES",
        "RECENT_RUNS",
        "RUN_ID_PATTERN",
        "RUN_STATUSES",
        "SUMMARY_FILE",
        "TEST_STATUSES",
        "TOOL_PREFIX",
        "TOP_TESTS",
        "TOP_TESTS_BY",
        "UNSAFE_REASONS",
        "artifactManifest",
        "artifactManifestFileSchema",
        "artifactManifestSchema",
        "artifactSchema",
        "assertRunId",
        "checkRef",
        "compareRuns",
        "compatibilityMarkerSchema",
        "compatibilitySchema",
        "createRunIndex",
        "currentSummarySchema",
        "diagnosticSchema",
        "failingSinceSchema",
        "getRetainedRun",
        "historyStatusSchema",
        "isGuideBoardError",
        "isRunId",
        "iterateRetainedRuns",
        "labelSelectorSchema",
        "latestRun",
        "legacySummarySchema",
        "listQuerySchema",
        "listRetainedRuns",
        "listRunLogs",
        "logListSchema",
        "logRefSchema",
        "logSchema",
        "mediaTypeOf",
        "newerSummarySchema",
        "openArtifact",
        "openInRun",
        "openReport",
        "openRunLog",
        "parseSummary",
        "readLogTail",
        "reportListSchema",
        "reportPaths",
        "reportRefSchema",
        "reportSchema",
        "resolveInRun",
        "retainedRunSchema",
        "runComparisonSchema",
        "runFiltersSchema",
        "runStatusSchema",
        "submissionManifest",
        "submissionManifestSchema",
        "testDiagnosticSchema",
        "testHistory",
        "testHistoryRunSchema",
        "testHistorySchema",
        "testResultSchema",
        "testResults",
        "testResultsSchema",
        "testStatusSchema",
        "testTotalsSchema",
        "timestampSchema",
        "toJSONText",
        "topTestSchema",
        "topTests",
        "topTestsSchema",
        "verifyArtifacts",
        "verifyProblemSchema",
        "verifyResultSchema",
      ]
    `);
  });

  it("exports exactly these names from guide-board/h3", () => {
    expect(Object.keys(h3Entry).sort()).toMatchInlineSnapshot(`
      [
        "createGuideBoardApp",
        "createOpenAPIDocument",
      ]
    `);
  });

  it("exports no name that starts with an underscore, from either entry", () => {
    const names = [...Object.keys(esm), ...Object.keys(cjs), ...Object.keys(h3Entry)];
    expect(names.length).toBeGreaterThan(40);
    expect(names.filter((name) => name.startsWith("_"))).toEqual([]);
  });

  it("exports the same names, of the same kinds, from the CJS build and from src/index.ts", () => {
    const kinds = (mod: object) => Object.fromEntries(Object.entries(mod).map(([name, value]) => [name, typeof value]));
    expect(Object.keys(cjs).sort()).toEqual(Object.keys(esm).sort());
    expect(kinds(cjs)).toEqual(kinds(esm));
    expect(Object.keys(source).sort()).toEqual(Object.keys(esm).sort());
  });
});

describe.each([
  ["ESM", () => esm],
  ["CJS", () => cjs],
])("the four named functions from the %s build, on examples/runs", (_format, lib) => {
  it("listRetainedRuns lists the three retained runs newest first and skips the incomplete folder", async () => {
    const page = await lib().listRetainedRuns({ runsDir: EXAMPLES });
    expect(page.runs.map((r) => r.runId)).toEqual(RETAINED);
    expect(page.nextCursor).toBeUndefined();
    expect(page.diagnostics).toEqual([expect.objectContaining({ entry: INCOMPLETE, kind: "incomplete" })]);
    expect(page).toEqual(await source.listRetainedRuns({ runsDir: EXAMPLES }));
    const first = await lib().listRetainedRuns({ runsDir: EXAMPLES, limit: 1 });
    expect(first.runs.map((r) => r.runId)).toEqual([FAILED]);
    const rest = await lib().listRetainedRuns({ runsDir: EXAMPLES, cursor: first.nextCursor! });
    expect(rest.runs.map((r) => r.runId)).toEqual([PASSED, LEGACY]);
  });

  it("latestRun picks the newest run, or the newest matching run, or null", async () => {
    expect((await lib().latestRun({ runsDir: EXAMPLES }))?.runId).toBe(FAILED);
    expect((await lib().latestRun({ runsDir: EXAMPLES, status: "passed" }))?.runId).toBe(PASSED);
    expect(await lib().latestRun({ runsDir: EXAMPLES, label: "suite=e2e" })).toBeNull();
  });

  it("reportPaths resolves the passed run's reports and names the legacy run's by file", async () => {
    const list = await lib().reportPaths({ runsDir: EXAMPLES }, PASSED);
    expect(list.reports).toMatchObject([
      {
        id: "html",
        path: "reports/index.html",
        title: "Test report",
        mediaType: "text/html; charset=utf-8",
        exists: true,
      },
      { id: "junit", path: "reports/junit.xml", mediaType: "application/xml", exists: true },
    ]);
    for (const report of list.reports) {
      expect(report.absolutePath).toBe(join(EXAMPLES, PASSED, report.path));
      expect(report.size).toBe(readFileSync(report.absolutePath!).length);
    }
    const legacy = await lib().reportPaths({ runsDir: EXAMPLES }, LEGACY);
    expect(legacy.reports.map((r) => r.id)).toEqual(["summary.html", "junit.xml"]);
  });

  it("artifactManifest resolves artifacts whose sizes and hashes match the files, and marks the legacy run", async () => {
    const manifest = await lib().artifactManifest({ runsDir: EXAMPLES }, PASSED);
    if (!manifest.available) throw new Error(`expected a manifest, got ${manifest.reason}`);
    expect(manifest.artifacts.map((a) => a.path)).toEqual(["coverage/coverage-summary.json", "build/app.tar.gz"]);
    for (const artifact of manifest.artifacts) {
      expect(artifact.exists).toBe(true);
      const content = readFileSync(artifact.absolutePath!);
      expect(content.length).toBe(artifact.size);
      expect(createHash("sha256").update(content).digest("hex")).toBe(artifact.sha256);
    }
    expect(await lib().artifactManifest({ runsDir: EXAMPLES }, LEGACY)).toMatchObject({
      runId: LEGACY,
      available: false,
      reason: "legacy-run",
    });
  });

  it("throws the package's own error for an unknown run", async () => {
    const error = await lib()
      .reportPaths({ runsDir: EXAMPLES }, "no-such-run")
      .catch((e: unknown) => e);
    expect(lib().isGuideBoardError(error, "RUN_NOT_FOUND")).toBe(true);
    expect(error).toBeInstanceOf(lib().GuideBoardError);
  });
});

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? tsFiles(join(dir, entry.name)) : entry.name.endsWith(".ts") ? [join(dir, entry.name)] : [],
  );
}

/** Every import, export-from, dynamic import and require specifier in a file, as TypeScript sees them. */
const specifiersOf = (file: string) =>
  ts.preProcessFile(readFileSync(file, "utf8"), true, true).importedFiles.map((ref) => ref.fileName);

describe("import graph of src/", () => {
  const FORBIDDEN = [/^h3(\/|$)/, /^listhen(\/|$)/, /(^|\/)adapters(\/|$)/, /(^|\/)cli(\/|$)/];

  it("finds the specifiers it checks (the parser is not blind)", () => {
    expect(
      ts
        .preProcessFile(
          'import type { A } from "h3"; export * from "../cli/x.ts"; await import("listhen");',
          true,
          true,
        )
        .importedFiles.map((f) => f.fileName),
    ).toEqual(["h3", "../cli/x.ts", "listhen"]);
    expect(specifiersOf(join(SRC, "index.ts"))).toContain("./runs.ts");
    expect(specifiersOf(join(SRC, "manifest.ts"))).toEqual(expect.arrayContaining(["zod", "./paths.ts"]));
  });

  it("imports only src/ files, node: builtins, zod and fast-xml-parser — never h3, listhen, adapters or the CLI", () => {
    const files = tsFiles(SRC);
    expect(files.length).toBeGreaterThan(5);
    const offending: string[] = [];
    for (const file of files) {
      for (const specifier of specifiersOf(file)) {
        const where = `${relative(ROOT, file)} imports ${specifier}`;
        if (FORBIDDEN.some((pattern) => pattern.test(specifier))) offending.push(where);
        else if (specifier.startsWith("node:") || /^(zod|zod\/.*|fast-xml-parser)$/.test(specifier)) continue;
        else if (specifier.startsWith("./") || specifier.startsWith("../")) {
          const target = resolve(dirname(file), specifier);
          if (!target.startsWith(SRC + sep) || !existsSync(target))
            offending.push(`${where} (outside src/ or missing)`);
        } else offending.push(where);
      }
    }
    expect(offending).toEqual([]);
  });
});

describe("how cli/ and adapters/ reach the core", () => {
  it("import src/ only through the internal module src/_internal.ts", () => {
    const offending: string[] = [];
    for (const dir of ["cli", "adapters"]) {
      for (const file of tsFiles(join(ROOT, dir))) {
        for (const specifier of specifiersOf(file)) {
          const target = resolve(dirname(file), specifier);
          if (specifier.startsWith(".") && target.startsWith(SRC + sep) && target !== join(SRC, "_internal.ts"))
            offending.push(`${relative(ROOT, file)} imports ${specifier}`);
        }
      }
    }
    expect(offending).toEqual([]);
  });

  it("src/_internal.ts is never re-exported by the public barrel", () => {
    expect(specifiersOf(join(SRC, "index.ts"))).not.toContain("./_internal.ts");
  });
});

describe("the built bin, spawned as a user would", () => {
  const bin = (...args: string[]) =>
    run(process.execPath, ["bin/guide-board.mjs", ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: "1" } });

  it("runs list --runs-dir examples/runs exits 0 and lists the three retained runs", async () => {
    const { stdout, stderr } = await bin("runs", "list", "--runs-dir", "examples/runs");
    for (const runId of RETAINED) expect(stdout).toMatch(new RegExp(`^${runId}\\s`, "m"));
    expect(stdout).not.toContain(INCOMPLETE);
    expect(stderr).toBe("Skipped 1 folder(s): incomplete 1 (details with --json).\n");
  });

  it("runs list --json prints JSON that parses, equal to the library's output", async () => {
    const { stdout } = await bin("runs", "list", "--runs-dir", "examples/runs", "--json");
    const page = JSON.parse(stdout) as source.RetainedRunList;
    expect(page.runs.map((r) => r.runId)).toEqual(RETAINED);
    expect(stdout).toBe(source.toJSONText(await source.listRetainedRuns({ runsDir: [EXAMPLES] })));
  });

  it("sets the process exit code: 1 for an unknown run, 2 for an unsafe run id", async () => {
    await expect(bin("runs", "show", "no-such-run", "--runs-dir", "examples/runs")).rejects.toMatchObject({ code: 1 });
    await expect(bin("runs", "show", "../x", "--runs-dir", "examples/runs", "--json")).rejects.toMatchObject({
      code: 2,
      stdout: expect.stringContaining('"code":"INVALID_RUN_ID"'),
    });
  });
});

describe("the packed tarball, installed into a scratch project", () => {
  let files: string[];
  let tarball: string;

  beforeAll(async () => {
    const packDir = tempDir("gb-pack-");
    const { stdout } = await run("npm", ["pack", "--json", "--pack-destination", packDir], { cwd: ROOT });
    const [packed] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
    files = packed!.files.map((file) => file.path).sort();
    tarball = join(packDir, packed!.filename);
  }, 60_000);

  it("holds dist/ and bin/ files and no test/, examples/ or src/ files", () => {
    expect(files).toEqual(expect.arrayContaining([...BUILT, "bin/guide-board.mjs", "package.json"]));
    expect(files.filter((file) => /^(test|examples|src|cli|adapters)\//.test(file))).toEqual([]);
    expect(
      files.every(
        (file) =>
          /^(dist|bin)\//.test(file) || /^(package\.json|README(\.md)?|LICENSE(\.md)?|CHANGELOG\.md)$/i.test(file),
      ),
    ).toBe(true);
  });

  it("installs, type-checks against its declarations and runs from a plain .mjs, .cjs and its bin", {
    timeout: 120_000,
  }, async () => {
    const project = tempDir("gb-scratch-");
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "scratch", private: true, type: "module" }));
    await run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", tarball], { cwd: project });
    expect(existsSync(join(project, "node_modules", "guide-board", "dist", "index.js"))).toBe(true);
    expect(existsSync(join(project, "node_modules", "zod", "package.json"))).toBe(true);

    writeFileSync(
      join(project, "check.mts"),
      `import { artifactManifest, latestRun, listRetainedRuns, reportPaths } from "guide-board";
import type { ArtifactManifest, CompatibilityMarker, ReportList, RetainedRun, RetainedRunList } from "guide-board";

const runsDir: string = ${JSON.stringify(EXAMPLES)};
const r: RetainedRunList = await listRetainedRuns({ runsDir, status: ["passed", "failed"], limit: 10 });
const latest: RetainedRun | null = await latestRun({ runsDir, label: "suite=unit" });
const reports: ReportList = await reportPaths({ runsDir }, r.runs[0]!.runId);
const manifest: ArtifactManifest | CompatibilityMarker = await artifactManifest({ runsDir }, r.runs[0]!.runId);
if (manifest.available) {
  const sha: string = manifest.artifacts[0]!.sha256;
  console.log(sha);
} else {
  const reason: "legacy-run" | "not-declared" | "file-missing" = manifest.reason;
  console.log(reason);
}
// The declarations are real types, not any: each line below must be a type error.
// @ts-expect-error runs is an array of runs, not a number
const wrong: number = r.runs;
// @ts-expect-error status takes run statuses only
await listRetainedRuns({ runsDir, status: "exploded" });
export { latest, reports, wrong };
`,
    );
    const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
    const flags = [
      "--noEmit",
      "--module",
      "nodenext",
      "--moduleResolution",
      "nodenext",
      "--target",
      "es2022",
      "--strict",
      "--skipLibCheck",
    ];
    // Not `run(...)` alone: tsc prints its errors on stdout, which we want in the failure message.
    const typecheck = await run(process.execPath, [tsc, ...flags, "check.mts"], { cwd: project }).catch(
      (error: { stdout?: string }) => ({
        stdout: `tsc failed:\n${error.stdout ?? String(error)}`,
      }),
    );
    expect(typecheck.stdout).toBe("");

    const script = `const { artifactManifest, latestRun, listRetainedRuns, reportPaths } = LIB;
const runsDir = ${JSON.stringify(EXAMPLES)};
const list = await listRetainedRuns({ runsDir });
const latest = await latestRun({ runsDir, status: "passed" });
const reports = await reportPaths({ runsDir }, latest.runId);
const manifest = await artifactManifest({ runsDir }, latest.runId);
console.log(JSON.stringify({
  runs: list.runs.map((r) => r.runId),
  latest: latest.runId,
  reports: reports.reports.map((r) => r.id),
  artifacts: manifest.artifacts.map((a) => a.exists),
}));
`;
    const expected = { runs: RETAINED, latest: PASSED, reports: ["html", "junit"], artifacts: [true, true] };
    writeFileSync(join(project, "check.mjs"), script.replace("LIB", 'await import("guide-board")'));
    writeFileSync(
      join(project, "check.cjs"),
      `(async () => {\n${script.replace("LIB", 'require("guide-board")')}})();\n`,
    );
    for (const file of ["check.mjs", "check.cjs"]) {
      const { stdout } = await run(process.execPath, [file], { cwd: project });
      expect(JSON.parse(stdout), file).toEqual(expected);
    }

    const installedBin = join(project, "node_modules", ".bin", "guide-board");
    const { stdout } = await run(installedBin, ["runs", "latest", "--runs-dir", EXAMPLES, "--json"], { cwd: project });
    expect(JSON.parse(stdout).runId).toBe(FAILED);
  });
});
