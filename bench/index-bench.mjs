// The live index: warm first page, heap, event-loop stalls during the cold scan, and how fast a
// new run shows (with 1,000 and with 100,000 runs, to show the cost does not grow with them).
import { spawnSync } from "node:child_process";
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { createRunIndex } from "../dist/index.js";
import { median, percentile, QUICK, report, runsDirOf } from "./_util.mjs";

const BIG = QUICK ? 2_000 : 100_000;
const SMALL = QUICK ? 200 : 1_000;

// Heap: in a child with --expose-gc, so nothing else this process holds is counted.
if (process.argv.includes("--heap-child")) {
  const dir = process.argv[process.argv.indexOf("--heap-child") + 1];
  globalThis.gc();
  const before = process.memoryUsage().heapUsed;
  const index = createRunIndex({ runsDir: dir, watch: false, revalidateMs: 0 });
  await index.ready();
  globalThis.gc();
  const after = process.memoryUsage().heapUsed;
  process.stdout.write(JSON.stringify({ before, after, size: index.size }));
  index.close();
  process.exit(0);
}

const rows = [];
const bigDir = runsDirOf(BIG);

{
  // Cold scan of the big folder while the loop's delay is recorded.
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const started = performance.now();
  const index = createRunIndex({ runsDir: bigDir, revalidateMs: 0 });
  await index.ready();
  const scanMs = performance.now() - started;
  delay.disable();
  const stallMs = delay.max / 1e6;
  rows.push({
    name: `longest event-loop stall, cold index scan of ${BIG.toLocaleString("en")} runs (${scanMs.toFixed(0)} ms)`,
    value: `${stallMs.toFixed(1)} ms`,
    target: "< 50 ms",
    pass: stallMs < 50,
  });

  // Warm first page.
  const times = [];
  for (let i = 0; i < (QUICK ? 200 : 2000); i++) {
    const t = performance.now();
    const page = await index.listRetainedRuns({ limit: 50 });
    times.push(performance.now() - t);
    if (page.runs.length !== 50) throw new Error("bad page");
  }
  const p50 = percentile(times, 50);
  const p99 = percentile(times, 99);
  rows.push({
    name: `warm first page (limit 50) from an index of ${BIG.toLocaleString("en")}`,
    value: `p50 ${p50.toFixed(3)} ms, p99 ${p99.toFixed(3)} ms`,
    target: "p50 ≤ 1 ms, p99 ≤ 5 ms",
    pass: p50 <= 1 && p99 <= 5,
  });
  index.close();
}

{
  const child = spawnSync(process.execPath, ["--expose-gc", fileURLToPath(import.meta.url), "--heap-child", bigDir], {
    encoding: "utf8",
  });
  const { after, size } = JSON.parse(child.stdout);
  const mb = after / 1024 / 1024;
  rows.push({
    name: `heap after indexing ${size.toLocaleString("en")} runs`,
    value: `${mb.toFixed(1)} MB`,
    target: "≤ 150 MB",
    pass: mb <= 150 && size === BIG,
  });
}

// A new run: its summary renamed into place, until the index lists it.
async function visibility(dir) {
  const index = createRunIndex({ runsDir: dir, revalidateMs: 0 });
  await index.ready();
  const times = [];
  for (let i = 0; i < 5; i++) {
    const runId = `zz-visibility-${process.pid}-${i}`;
    const runDir = join(dir, runId);
    mkdirSync(runDir);
    await new Promise((resolve) => setTimeout(resolve, 50)); // the writer creates the folder first
    const shown = new Promise((resolve) => {
      const off = index.onChange((change) => {
        if (change.runId !== runId || change.type !== "added") return;
        off();
        resolve();
      });
    });
    const t = performance.now();
    writeFileSync(
      join(runDir, ".tmp"),
      JSON.stringify({ runId, status: "passed", startedAt: new Date().toISOString(), reports: [] }),
    );
    renameSync(join(runDir, ".tmp"), join(runDir, "retention-summary.json"));
    await Promise.race([
      shown,
      new Promise((_, reject) => setTimeout(() => reject(new Error("not seen in 5 s")), 5000)),
    ]);
    times.push(performance.now() - t);
    rmSync(runDir, { recursive: true });
  }
  index.close();
  return median(times);
}
const smallMs = await visibility(runsDirOf(SMALL));
const bigMs = await visibility(bigDir);
rows.push({
  name: `a new run visible after its summary is renamed in (${SMALL.toLocaleString("en")} → ${BIG.toLocaleString("en")} runs)`,
  value: `${smallMs.toFixed(1)} ms → ${bigMs.toFixed(1)} ms`,
  baseline: `${smallMs.toFixed(1)} ms with ${SMALL.toLocaleString("en")} runs`,
  ratio: `${(bigMs / smallMs).toFixed(2)}×`,
  target: "≤ 1 s, independent of run count",
  pass: bigMs <= 1000 && smallMs <= 1000,
});

report("Live index", rows);
