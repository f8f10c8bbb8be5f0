// Test history: one test's history over 500 runs with the digests warm (plain library and a live
// index), cold history vs reading those 500 reports once with testResults (each in a fresh
// process), topTests over 50 runs × 10k tests warm, and the heap of a 500-run × 10k-test window
// under a hard cap (a child process with --max-old-space-size).
process.env.UV_THREADPOOL_SIZE ??= "64"; // as the bin does (the service's thread pool); the pool starts on first use

import { spawnSync } from "node:child_process";
import { linkSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createRunIndex, testHistory, testResults, topTests } from "../dist/index.js";
import { median, QUICK, report } from "./_util.mjs";

const HEAP_MB = 300;
const SETS = {
  // Distinct report files (no two runs share one): the cold comparison reads each once.
  history: { runs: QUICK ? 40 : 500, tests: QUICK ? 200 : 1000, variants: 0 },
  top: { runs: QUICK ? 10 : 50, tests: QUICK ? 1000 : 10_000, variants: 10 },
  // Runs hard-linked to 10 report variants (disk stays small); each run is still read on its own.
  heap: { runs: QUICK ? 50 : 500, tests: QUICK ? 1000 : 10_000, variants: 10 },
};
const root = join(tmpdir(), `guide-board-bench-history${QUICK ? "-quick" : ""}`);
const KEY = "com.example.module1.Suite1Test::case 3 handles the default configuration";

/** A JUnit report of `cases` cases, about 150 bytes each; every 50th fails (which ones: `seed`). */
function junit(cases, seed) {
  const parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n'];
  const perSuite = 100;
  for (let s = 0; s < cases / perSuite; s++) {
    const cls = `com.example.module${s % 37}.Suite${s}Test`;
    parts.push(`<testsuite name="${cls}" tests="${perSuite}">\n`);
    for (let c = 0; c < perSuite; c++) {
      const i = s * perSuite + c;
      const head = `<testcase classname="${cls}" name="case ${c} handles the default configuration" time="0.${(i * 7 + seed) % 1000}"`;
      if ((i + seed) % 50 === 0)
        parts.push(`${head}><failure message="expected ${i}">at ${cls}:${c}</failure></testcase>\n`);
      else parts.push(`${head}/>\n`);
    }
    parts.push("</testsuite>\n");
  }
  parts.push("</testsuites>\n");
  return parts.join("");
}

function writeSet(name, { runs, tests, variants }) {
  const dir = join(root, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const sources = [];
  for (let v = 0; v < variants; v++) {
    const path = join(root, `${name}-variant-${v}.xml`);
    writeFileSync(path, junit(tests, v));
    sources.push(path);
  }
  for (let r = 0; r < runs; r++) {
    const runId = `run-${String(r).padStart(4, "0")}`;
    const runDir = join(dir, runId);
    mkdirSync(join(runDir, "reports"), { recursive: true });
    const report = join(runDir, "reports", "junit.xml");
    if (variants > 0) linkSync(sources[r % variants], report);
    else writeFileSync(report, junit(tests, r));
    const startedAt = new Date(Date.UTC(2026, 0, 1) + r * 60_000).toISOString();
    const summary = {
      schemaVersion: 2,
      runId,
      status: "failed",
      startedAt,
      finishedAt: startedAt,
      exitCode: 1,
      command: ["bench"],
      labels: { branch: "main" },
      reports: [{ id: "junit", path: "reports/junit.xml", format: "junit" }],
    };
    writeFileSync(join(runDir, "retention-summary.json"), JSON.stringify(summary));
  }
  return dir;
}

const child = (args, flags = []) => {
  const run = spawnSync(
    process.execPath,
    [...flags, fileURLToPath(import.meta.url), ...args, ...(QUICK ? ["--quick"] : [])],
    {
      encoding: "utf8",
    },
  );
  if (run.status !== 0) return { failed: run.status, stderr: run.stderr.slice(-2000) };
  return JSON.parse(run.stdout.trim().split("\n").pop());
};

if (process.argv.includes("--child")) {
  const which = process.argv[process.argv.indexOf("--child") + 1];
  const runsDir = join(root, which === "heap" ? "heap" : "history");
  const { runs, tests } = SETS[which === "heap" ? "heap" : "history"];
  const t = performance.now();
  if (which === "parse") {
    // The baseline: every run's reports read once, one run after another, through testResults.
    for (let r = 0; r < runs; r++) {
      const result = await testResults({ runsDir }, `run-${String(r).padStart(4, "0")}`, { limit: 1 });
      if (result.totals.tests !== tests) throw new Error("parse baseline is wrong");
    }
  } else if (which === "cold") {
    const history = await testHistory({ runsDir }, KEY, { limit: runs });
    if (history.runs.length !== runs || history.runs.some((run) => run.status === "absent")) throw new Error("cold");
  } else {
    const top = await topTests({ runsDir }, { by: "failures", window: runs, limit: 10 });
    if (top.window.runs !== runs || top.tests.length === 0) throw new Error("heap window");
    globalThis.gc?.();
  }
  const ms = performance.now() - t;
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  console.log(JSON.stringify({ ms, heapUsedMb: heapUsed / 2 ** 20, arrayBuffersMb: arrayBuffers / 2 ** 20 }));
  process.exit(0);
}

rmSync(root, { recursive: true, force: true });
mkdirSync(root, { recursive: true });
const historyDir = writeSet("history", SETS.history);
const topDir = writeSet("top", SETS.top);
writeSet("heap", SETS.heap);

// Cold: fresh processes, the two sides taking turns.
const reps = QUICK ? 1 : 2;
const parseMs = [];
const coldMs = [];
for (let r = 0; r < reps; r++) {
  parseMs.push(child(["--child", "parse"]).ms);
  coldMs.push(child(["--child", "cold"]).ms);
}
const coldRatio = median(coldMs) / median(parseMs);

// Warm: the digests of every run held, each call a scan (or the index) plus a stat per file.
const { runs: H } = SETS.history;
await testHistory({ runsDir: historyDir }, KEY, { limit: H });
const timed = async (fn, n = 9) => {
  const ms = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    ms.push(performance.now() - t);
  }
  return median(ms);
};
const warmMs = await timed(() => testHistory({ runsDir: historyDir }, KEY, { limit: H }));
const index = createRunIndex({ runsDir: historyDir, watch: false });
await index.ready();
const indexedMs = await timed(() => testHistory({ runsDir: historyDir, index }, KEY, { limit: H }));
index.close();

// Top-N warm over 50 runs × 10k tests.
const { runs: T, tests: TT } = SETS.top;
await topTests({ runsDir: topDir }, { by: "failures", window: T });
const topMs = await timed(async () => {
  for (const by of ["failures", "flaky", "slow"]) await topTests({ runsDir: topDir }, { by, window: T, limit: 20 });
}, 5);

const heap = child(["--child", "heap"], [`--max-old-space-size=${HEAP_MB}`, "--expose-gc"]);
const { runs: HR, tests: HT } = SETS.heap;

const rows = [
  {
    name: `testHistory of one test over ${H} runs × ${H === 500 ? "1k" : SETS.history.tests} tests, warm (plain library, no index)`,
    value: `${warmMs.toFixed(1)} ms`,
    baseline: `with a live index ${indexedMs.toFixed(1)} ms`,
    ratio: `${(warmMs / 20).toFixed(2)}× the target`,
    target: "< 20 ms",
    pass: warmMs < 20,
  },
  {
    name: `testHistory over ${H} runs, warm, live index (the HTTP service)`,
    value: `${indexedMs.toFixed(1)} ms`,
    ratio: `${(indexedMs / 20).toFixed(2)}× the target`,
    target: "< 20 ms",
    pass: indexedMs < 20,
  },
  {
    name: `testHistory over ${H} runs, cold (fresh process)`,
    value: `${median(coldMs).toFixed(0)} ms`,
    baseline: `testResults on each run once ${median(parseMs).toFixed(0)} ms`,
    ratio: `${coldRatio.toFixed(2)}×`,
    target: "≤ 1.5× reading those reports once",
    pass: coldRatio <= 1.5,
  },
  {
    name: `topTests by failures, flaky and slow over ${T} runs × ${TT.toLocaleString("en")} tests, warm (each)`,
    value: `${(topMs / 3).toFixed(0)} ms`,
    ratio: `${(topMs / 3 / 1000).toFixed(3)}× the target`,
    target: "< 1 s",
    pass: topMs / 3 < 1000,
  },
  {
    name: `heap of a ${HR}-run × ${HT.toLocaleString("en")}-test window (topTests, cold), --max-old-space-size=${HEAP_MB}`,
    value:
      heap.failed === undefined
        ? `completed in ${(heap.ms / 1000).toFixed(1)} s; ${heap.heapUsedMb.toFixed(0)} MB heap used after (+ ${heap.arrayBuffersMb.toFixed(0)} MB of digest arrays outside the heap)`
        : `child failed (${heap.failed})`,
    ratio: heap.failed === undefined ? `${(heap.heapUsedMb / HEAP_MB).toFixed(2)}× of the cap` : "—",
    target: `≤ ${HEAP_MB} MB (the child dies otherwise)`,
    pass: heap.failed === undefined,
  },
];
report("Test history", rows);
if (heap.failed !== undefined) console.error(heap.stderr);
if (!process.env.KEEP) rmSync(root, { recursive: true, force: true });
