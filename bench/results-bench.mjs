// Test results: reading a large JUnit report vs the XML parser alone on the same file, heap under a
// hard cap (a child process with --max-old-space-size), compareRuns on two such runs, and a
// second testResults call on an unchanged run (the cache).
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { XMLParser } from "fast-xml-parser";
import { compareRuns, testResults } from "../dist/index.js";
import { junitParserOptions } from "../dist/parser-options.js";
import { median, QUICK, report } from "./_util.mjs";

const CASES = QUICK ? 20_000 : 200_000;
const HEAP_MB = 300;
const dir = join(tmpdir(), `guide-board-bench-results-${CASES}`);

/** A JUnit report of `cases` test cases, about 250 bytes each; every 20th fails (which ones: `seed`). */
function junit(cases, seed) {
  const parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n'];
  const perSuite = 200;
  for (let s = 0; s < cases / perSuite; s++) {
    const cls = `com.example.module${s % 97}.feature.Subsystem${s}Test`;
    parts.push(`<testsuite name="${cls}" tests="${perSuite}" hostname="ci-agent-1" time="12.5">\n`);
    for (let c = 0; c < perSuite; c++) {
      const i = s * perSuite + c;
      const file = `src/test/java/com/example/module${s % 97}/feature/Subsystem${s}Test.java`;
      const head = `<testcase classname="${cls}" name="should handle scenario number ${i} with the default configuration and extended fixtures" file="${file}" time="0.0${i % 90}"`;
      if ((i + seed) % 20 === 0) {
        parts.push(
          `${head}><failure message="expected &lt;${i}&gt; but was &lt;${i + 1}&gt;" type="AssertionError">AssertionError at ${cls}.scenario${i}(Subsystem.java:${i % 500})</failure></testcase>\n`,
        );
      } else parts.push(`${head}/>\n`);
    }
    parts.push("</testsuite>\n");
  }
  parts.push("</testsuites>\n");
  return parts.join("");
}

function writeRun(runId, startedAt, xml) {
  const runDir = join(dir, runId);
  mkdirSync(join(runDir, "reports"), { recursive: true });
  writeFileSync(join(runDir, "reports", "junit.xml"), xml);
  const summary = {
    schemaVersion: 2,
    runId,
    status: "failed",
    startedAt,
    finishedAt: startedAt,
    exitCode: 1,
    command: ["bench"],
    labels: {},
    reports: [{ id: "junit", path: "reports/junit.xml", format: "junit" }],
  };
  writeFileSync(join(runDir, "retention-summary.json"), JSON.stringify(summary));
}

// The settings guide-board gives the parser, from the build itself (one source for both sides),
// at the default nesting cap that testResults uses.
const parserOptions = junitParserOptions(64);

if (process.argv.includes("--cold-child")) {
  // One cold measurement in a fresh process, so neither side pays for the other's garbage (the
  // parser's tree, earlier results held by the cache): the parser alone on the file's text, or
  // testResults on the run (which also reads and decodes the file).
  const which = process.argv[process.argv.indexOf("--cold-child") + 1];
  let ms;
  if (which === "parser") {
    const text = readFileSync(join(dir, "base", "reports", "junit.xml"), "utf8");
    const t = performance.now();
    const doc = new XMLParser(parserOptions).parse(text);
    ms = performance.now() - t;
    if (!doc.testsuites) throw new Error("parser baseline is wrong");
  } else {
    const t = performance.now();
    const ours = await testResults({ runsDir: dir }, "base", { limit: 1 });
    ms = performance.now() - t;
    if (ours.totals.tests !== CASES) throw new Error(`expected ${CASES} tests, got ${ours.totals.tests}`);
  }
  console.log(JSON.stringify({ ms }));
  process.exit(0);
}

if (process.argv.includes("--heap-child")) {
  // Cold read of the head run under a hard old-space cap: finishing at all proves the cap held.
  const result = await testResults({ runsDir: dir, maxReportBytes: 64 * 1024 * 1024 - 1 }, "head");
  const used = process.memoryUsage().heapUsed;
  console.log(JSON.stringify({ tests: result.totals.tests, heapUsedMb: used / 2 ** 20 }));
  process.exit(0);
}

if (!process.env.KEEP) rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const baseXml = junit(CASES, 0);
writeRun("base", "2026-01-01T00:00:00Z", baseXml);
writeRun("head", "2026-01-02T00:00:00Z", junit(CASES, 7));
const mb = Buffer.byteLength(baseXml) / 2 ** 20;

// Cold reads, each in a fresh process, the two sides taking turns.
const reps = QUICK ? 2 : 5;
const parserMs = [];
const oursMs = [];
const coldChild = (which) => {
  const run = spawnSync(
    process.execPath,
    [fileURLToPath(import.meta.url), "--cold-child", which, ...(QUICK ? ["--quick"] : [])],
    { encoding: "utf8" },
  );
  if (run.status !== 0) throw new Error(`cold ${which} child failed: ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split("\n").pop()).ms;
};
for (let r = 0; r < reps; r++) {
  parserMs.push(coldChild("parser"));
  oursMs.push(coldChild("ours"));
}
const cap = 64 * 1024 * 1024;
const parseRatio = median(oursMs) / median(parserMs);

// Heap, in a child with a hard cap.
const child = spawnSync(
  process.execPath,
  [`--max-old-space-size=${HEAP_MB}`, fileURLToPath(import.meta.url), "--heap-child", ...(QUICK ? ["--quick"] : [])],
  { encoding: "utf8" },
);
const heap = child.status === 0 ? JSON.parse(child.stdout.trim().split("\n").pop()) : null;

// compareRuns on the two runs, both read once already (warm), and the second testResults call.
const options = { runsDir: dir, maxReportBytes: cap };
let t = performance.now();
const cold = await compareRuns(options, "base", "head");
const compareColdMs = performance.now() - t;
const compareMs = [];
for (let r = 0; r < 5; r++) {
  t = performance.now();
  const diff = await compareRuns(options, "base", "head");
  compareMs.push(performance.now() - t);
  if (diff.newFailures.length !== cold.newFailures.length || diff.newFailures.length === 0) throw new Error("compare");
}
const secondMs = [];
for (let r = 0; r < 9; r++) {
  t = performance.now();
  await testResults(options, "head", { status: "failed", limit: 100 });
  secondMs.push(performance.now() - t);
}

const rows = [
  {
    name: `testResults, cold, ${mb.toFixed(1)} MB JUnit, ${CASES.toLocaleString("en")} cases`,
    value: `${median(oursMs).toFixed(0)} ms`,
    baseline: `fast-xml-parser alone ${median(parserMs).toFixed(0)} ms`,
    ratio: `${parseRatio.toFixed(2)}×`,
    target: "≤ 2× the parser alone",
    pass: parseRatio <= 2,
  },
  {
    name: `heap reading it, under --max-old-space-size=${HEAP_MB}`,
    value: heap ? `completed; ${heap.heapUsedMb.toFixed(0)} MB used after` : `child failed (${child.status})`,
    target: `≤ ${HEAP_MB} MB (the child dies otherwise)`,
    ratio: heap ? `${(heap.heapUsedMb / HEAP_MB).toFixed(2)}× of the cap` : "—",
    pass: heap !== null && heap.tests === CASES,
  },
  {
    name: "compareRuns on two such runs (read once before)",
    value: `${median(compareMs).toFixed(1)} ms`,
    baseline: `first, cold: ${compareColdMs.toFixed(0)} ms`,
    ratio: `${(median(compareMs) / 1000).toFixed(3)}× the target`,
    target: "< 1 s",
    pass: median(compareMs) < 1000,
  },
  {
    name: "second testResults on an unchanged run",
    value: `${median(secondMs).toFixed(2)} ms`,
    baseline: `cold ${median(oursMs).toFixed(0)} ms`,
    ratio: `${(median(secondMs) / 5).toFixed(2)}× the target`,
    target: "< 5 ms (from the cache)",
    pass: median(secondMs) < 5,
  },
];
report("Test results", rows);
if (!process.env.KEEP) rmSync(dir, { recursive: true, force: true });
