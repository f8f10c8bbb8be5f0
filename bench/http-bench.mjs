// HTTP: GET /retained-runs?limit=50 against the same bytes served as a static file by sirv, and a
// large artifact download against the same file served by sirv. Servers run in child processes,
// one at a time; the load comes from this process. Medians of several rounds.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { closeSync, mkdirSync, openSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { get } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { median, QUICK, report, runsDirOf } from "./_util.mjs";

const SERVER = fileURLToPath(new URL("./_server.mjs", import.meta.url));
const RUNS = QUICK ? 500 : 10_000;
const ROUNDS = QUICK ? 1 : 3;
const SECONDS = QUICK ? 1 : 5;
const CONNECTIONS = 10;
const BIG = (QUICK ? 16 : 256) * 1024 * 1024;

async function withServer(kind, dir, work) {
  const child = spawn(process.execPath, [SERVER, kind, dir], { stdio: ["ignore", "pipe", "inherit"] });
  try {
    const port = await new Promise((resolve, reject) => {
      child.stdout.once("data", (data) => resolve(Number(String(data).trim())));
      child.once("exit", (code) => reject(new Error(`${kind} server exited with ${code}`)));
    });
    return await work(`http://127.0.0.1:${port}`);
  } finally {
    child.kill("SIGTERM");
    await new Promise((resolve) => child.once("exit", resolve));
  }
}

const load = (url) =>
  new Promise((resolve, reject) =>
    autocannon({ url, connections: CONNECTIONS, duration: SECONDS }, (error, result) =>
      error ? reject(error) : resolve(result),
    ),
  );

const download = (url) =>
  new Promise((resolve, reject) => {
    const started = performance.now();
    get(url, (response) => {
      let bytes = 0;
      response.on("data", (chunk) => (bytes += chunk.length));
      response.on("end", () => resolve({ bytes, ms: performance.now() - started, status: response.statusCode }));
      response.on("error", reject);
    }).on("error", reject);
  });

const rows = [];
const runsDir = runsDirOf(RUNS);

// 1. The listing vs the same bytes as a static file.
const staticDir = join(tmpdir(), "guide-board-bench-static");
mkdirSync(staticDir, { recursive: true });
const ours = [];
const theirs = [];
for (let round = 0; round < ROUNDS; round++) {
  await withServer("guide-board", runsDir, async (base) => {
    const body = await fetch(`${base}/retained-runs?limit=50`).then((r) => r.text());
    writeFileSync(join(staticDir, "list.json"), body);
    const result = await load(`${base}/retained-runs?limit=50`);
    if (result.non2xx > 0 || result.errors > 0) throw new Error("guide-board answered errors under load");
    ours.push(result.requests.average);
  });
  await withServer("sirv", staticDir, async (base) => {
    const result = await load(`${base}/list.json`);
    if (result.non2xx > 0 || result.errors > 0) throw new Error("sirv answered errors under load");
    theirs.push(result.requests.average);
  });
}
const rps = median(ours) / median(theirs);
rows.push({
  name: `GET /retained-runs?limit=50 over ${RUNS.toLocaleString("en")} runs, ${CONNECTIONS} connections, ${SECONDS} s`,
  value: `${median(ours).toFixed(0)} req/s`,
  baseline: `sirv ${median(theirs).toFixed(0)} req/s`,
  ratio: `${rps.toFixed(2)}×`,
  target: "≥ 0.7× sirv",
  pass: rps >= 0.7,
});

// 2. A large artifact, listed in a run's manifest, vs the same file from sirv.
const bigRuns = join(tmpdir(), "guide-board-bench-big");
rmSync(bigRuns, { recursive: true, force: true });
const runDir = join(bigRuns, "big-run");
mkdirSync(join(runDir, "assessment-package"), { recursive: true });
const bigFile = join(runDir, "assessment-package", "big.bin");
const hash = createHash("sha256");
const fd = openSync(bigFile, "w");
const chunk = Buffer.alloc(1024 * 1024);
for (let i = 0; i < BIG / chunk.length; i++) {
  chunk.fill(i % 251);
  writeSync(fd, chunk);
  hash.update(chunk);
}
closeSync(fd);
writeFileSync(
  join(runDir, "assessment-package", "artifact-manifest.json"),
  JSON.stringify({ schemaVersion: 1, artifacts: [{ path: "big.bin", size: BIG, sha256: hash.digest("hex") }] }),
);
writeFileSync(
  join(runDir, "retention-summary.json"),
  JSON.stringify({
    schemaVersion: 2,
    runId: "big-run",
    status: "passed",
    startedAt: "2026-01-01T00:00:00Z",
    exitCode: 0,
    command: [],
    labels: {},
    reports: [],
    artifactManifest: "assessment-package/artifact-manifest.json",
  }),
);
const oursMBs = [];
const theirsMBs = [];
for (let round = 0; round < ROUNDS + 1; round++) {
  await withServer("guide-board", bigRuns, async (base) => {
    const result = await download(`${base}/retained-runs/big-run/artifacts/big.bin`);
    if (result.status !== 200 || result.bytes !== BIG) throw new Error("bad download");
    oursMBs.push(BIG / 1024 / 1024 / (result.ms / 1000));
  });
  await withServer("sirv", join(runDir, "assessment-package"), async (base) => {
    const result = await download(`${base}/big.bin`);
    if (result.status !== 200 || result.bytes !== BIG) throw new Error("bad sirv download");
    theirsMBs.push(BIG / 1024 / 1024 / (result.ms / 1000));
  });
}
const throughput = median(oursMBs) / median(theirsMBs);
rows.push({
  name: `downloading a ${BIG / 1024 / 1024} MiB artifact`,
  value: `${median(oursMBs).toFixed(0)} MiB/s`,
  baseline: `sirv ${median(theirsMBs).toFixed(0)} MiB/s`,
  ratio: `${throughput.toFixed(2)}×`,
  target: "≥ 0.9× sirv",
  pass: throughput >= 0.9,
});
rmSync(bigRuns, { recursive: true, force: true });

report("HTTP", rows);
