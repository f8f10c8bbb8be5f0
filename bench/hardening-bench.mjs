import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { median, percentile, QUICK, report, serveBin } from "./_util.mjs";

const MANIFEST_ENTRIES = QUICK ? 10_000 : 90_000;
const REFS = QUICK ? 26_000 : 262_089;
const PARALLEL = 16;
const LOAD_MS = QUICK ? 1000 : 4000;
const ABORTED = 10;

function call(port, path, { abortAfterMs } = {}) {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const req = request({ host: "127.0.0.1", port, path }, (res) => {
      let size = 0;
      res.on("data", (chunk) => {
        size += chunk.length;
      });
      res.on("end", () => resolve({ status: res.statusCode, size, ms: performance.now() - start }));
      res.on("error", () => resolve({ status: 0, size, ms: performance.now() - start }));
    });
    req.on("error", (error) => (abortAfterMs ? resolve({ status: 0, aborted: true }) : reject(error)));
    if (abortAfterMs) setTimeout(() => req.destroy(), abortAfterMs);
    req.end();
  });
}

/** CPU time (user + system) the process has used, in ms (Linux /proc). */
function cpuMs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // clock ticks of 10 ms
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** ms from now until the process uses under 10% of a core over a 200 ms window (at most 30 s). */
async function msUntilIdle(pid) {
  const start = performance.now();
  for (;;) {
    const before = cpuMs(pid);
    const at = performance.now();
    await sleep(200);
    const used = cpuMs(pid) - before;
    if (used <= 0.1 * (performance.now() - at)) return at - start;
    if (performance.now() - start > 30_000) return Infinity;
  }
}

const dir = join(tmpdir(), `guide-board-bench-hardening-${process.pid}`);
rmSync(dir, { recursive: true, force: true });
const runs = join(dir, "runs");
// A current run with a large manifest: one real 1-byte artifact, the rest listed only.
const big = join(runs, "2026-01-01T00-00-00Z-big1");
mkdirSync(join(big, "assessment-package"), { recursive: true });
writeFileSync(join(big, "assessment-package", "one.bin"), "x");
const artifacts = [{ path: "one.bin", size: 1, sha256: createHash("sha256").update("x").digest("hex") }];
for (let i = 1; i < MANIFEST_ENTRIES; i++) {
  artifacts.push({
    path: `files/${"d".repeat(20)}/${i}.bin`,
    size: 0,
    sha256: "a".repeat(64),
    mediaType: "text/plain",
  });
}
const manifestText = JSON.stringify({ schemaVersion: 1, artifacts });
writeFileSync(join(big, "assessment-package", "artifact-manifest.json"), manifestText);
writeFileSync(
  join(big, "retention-summary.json"),
  JSON.stringify({
    schemaVersion: 2,
    runId: "2026-01-01T00-00-00Z-big1",
    status: "passed",
    startedAt: "2026-01-01T00:00:00Z",
    finishedAt: "2026-01-01T00:01:00Z",
    exitCode: 0,
    command: ["npm", "test"],
    labels: {},
    reports: [],
    artifactManifest: "assessment-package/artifact-manifest.json",
  }),
);
// A legacy run whose 1 MiB summary names 262,089 one-letter reports (26 files).
const many = join(runs, "2026-01-01T00-00-00Z-many");
mkdirSync(many, { recursive: true });
const letters = Array.from({ length: 26 }, (_, c) => String.fromCharCode(97 + c));
for (const letter of letters) writeFileSync(join(many, letter), "report");
const summary = JSON.stringify({
  runId: "2026-01-01T00-00-00Z-many",
  status: "passed",
  startedAt: "2026-01-01T00:00:00Z",
  reports: Array.from({ length: REFS }, (_, i) => letters[i % 26]),
});
writeFileSync(join(many, "retention-summary.json"), summary);
writeFileSync(join(dir, "guide-board.config.json"), JSON.stringify({ runsDir: "runs" }));

const { child, port } = await serveBin([], { cwd: dir });
try {
  const health = async (until) => {
    const times = [];
    while (performance.now() < until) {
      times.push((await call(port, "/healthz")).ms);
      await sleep(5);
    }
    return times;
  };

  // 1. /healthz alone, then beside 16 download loops (the first downloads parse the manifest).
  const idle = await health(performance.now() + LOAD_MS / 2);
  let downloads = 0;
  let stop = false;
  const loops = Array.from({ length: PARALLEL }, async () => {
    while (!stop) {
      const answer = await call(port, "/retained-runs/2026-01-01T00-00-00Z-big1/artifacts/one.bin");
      if (answer.status !== 200) throw new Error(`download: ${answer.status}`);
      downloads++;
    }
  });
  const loaded = await health(performance.now() + LOAD_MS);
  stop = true;
  await Promise.all(loops);

  // 2. The first page of a 262,089-ref summary: cold (refs not known yet), then warm.
  const page = "/retained-runs/2026-01-01T00-00-00Z-many/reports";
  const cold = await call(port, page);
  if (cold.status !== 200) throw new Error(`reports: ${cold.status}`);
  const warm = [];
  for (let i = 0; i < (QUICK ? 5 : 20); i++) warm.push((await call(port, page)).ms);
  const healthMedian = median(await health(performance.now() + 300));

  // 3. Ten heavy requests aborted after 0.5 s: the manifest listing resolves every entry.
  const idleBefore = await msUntilIdle(child.pid);
  const cpuBefore = cpuMs(child.pid);
  await Promise.all(
    Array.from({ length: ABORTED }, () =>
      call(port, "/retained-runs/2026-01-01T00-00-00Z-big1/artifact-manifest", { abortAfterMs: 500 }),
    ),
  );
  const cpuDuring = cpuMs(child.pid) - cpuBefore;
  const settle = await msUntilIdle(child.pid);

  const idleP99 = percentile(idle, 99);
  const loadedP99 = percentile(loaded, 99);
  report("Hardening: costly run folders (issue 15, part 2)", [
    {
      name: `GET /healthz p99 beside ${PARALLEL} parallel downloads, ${(manifestText.length / 2 ** 20).toFixed(1)} MiB manifest (${downloads} downloads)`,
      value: `${loadedP99.toFixed(1)} ms`,
      baseline: `no load: p99 ${idleP99.toFixed(1)} ms`,
      ratio: `${(loadedP99 / idleP99).toFixed(1)}×`,
      target: "< 100 ms",
      pass: loadedP99 < 100,
    },
    {
      name: `first page of reports, ${REFS} refs in a ${(summary.length / 2 ** 20).toFixed(2)} MiB summary`,
      value: `cold ${cold.ms.toFixed(1)} ms, warm median ${median(warm).toFixed(1)} ms`,
      baseline: `GET /healthz median ${healthMedian.toFixed(2)} ms`,
      ratio: `${(cold.ms / healthMedian).toFixed(0)}× (cold)`,
      target: "< 200 ms",
      pass: cold.ms < 200,
    },
    {
      name: `${ABORTED} manifest listings aborted after 0.5 s: until the server is idle`,
      value: `${settle.toFixed(0)} ms (${cpuDuring.toFixed(0)} ms CPU while they ran)`,
      baseline: `idle server: ${idleBefore.toFixed(0)} ms`,
      ratio: "—",
      target: "< 1000 ms",
      pass: settle < 1000,
    },
  ]);
} finally {
  child.kill("SIGTERM");
  await new Promise((resolve) => child.once("exit", resolve));
  rmSync(dir, { recursive: true, force: true });
}
