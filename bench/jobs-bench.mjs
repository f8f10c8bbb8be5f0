import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { percentile, QUICK, report, serveBin } from "./_util.mjs";

const POSTS = QUICK ? 150 : 500;
const QUEUE = QUICK ? 30 : 100;
const GETS = QUICK ? 50 : 300;

function call(port, method, path, body) {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, method, path, headers: body ? { "content-type": "application/json" } : {} },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString() }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

async function timed(port, path) {
  const times = [];
  for (let i = 0; i < GETS; i++) {
    const start = performance.now();
    const answer = await call(port, "GET", path);
    times.push(performance.now() - start);
    if (answer.status !== 200) throw new Error(`${path}: ${answer.status}`);
  }
  return times;
}

const dir = join(tmpdir(), `guide-board-bench-jobs-${process.pid}`);
rmSync(dir, { recursive: true, force: true });
mkdirSync(join(dir, "runs"), { recursive: true });
writeFileSync(
  join(dir, "guide-board.config.json"),
  JSON.stringify({
    runsDir: "runs",
    guides: { wait: { command: [process.execPath, "-e", "setTimeout(() => {}, 600000)"] } },
    service: { maxConcurrentJobs: 1, maxQueuedJobs: QUEUE },
  }),
);
const { child, port } = await serveBin([], { cwd: dir });
try {
  const statuses = { 202: 0, 429: 0, other: 0 };
  const postStart = performance.now();
  for (let i = 0; i < POSTS; i++) {
    const answer = await call(port, "POST", "/runs", JSON.stringify({ guide: "wait" }));
    if (answer.status === 202 || answer.status === 429) statuses[answer.status]++;
    else statuses.other++;
  }
  const postMs = performance.now() - postStart;
  const health = await timed(port, "/healthz");
  const list = await timed(port, "/runs");
  const p99List = percentile(list, 99);
  const p99Health = percentile(health, 99);
  const p50List = percentile(list, 50);
  const p50Health = percentile(health, 50);
  // The running job waits for ten minutes: cancel it (queued jobs die with the server).
  const page = JSON.parse((await call(port, "GET", "/runs?limit=1000")).body);
  for (const job of page.jobs) if (job.state === "running") await call(port, "DELETE", `/runs/${job.jobId}`);
  const expectedRefused = POSTS - QUEUE - 1;
  report("Jobs: a flood of POST /runs against a bounded queue", [
    {
      name: `${POSTS} POST /runs, queue of ${QUEUE}, 1 running`,
      value: `${statuses[202]} accepted, ${statuses[429]} refused (429), ${statuses.other} other; ${(postMs / POSTS).toFixed(2)} ms each`,
      target: `${expectedRefused} refused`,
      pass: statuses[429] === expectedRefused && statuses.other === 0,
    },
    {
      name: `GET /runs median (${statuses[202]} jobs in memory)`,
      value: `${p50List.toFixed(2)} ms (p99 ${p99List.toFixed(2)} ms)`,
      baseline: `GET /healthz ${p50Health.toFixed(2)} ms (p99 ${p99Health.toFixed(2)} ms)`,
      ratio: `${(p50List / p50Health).toFixed(2)}×`,
      target: "< 20 ms",
      pass: p50List < 20,
    },
  ]);
} finally {
  child.kill("SIGTERM");
  await new Promise((resolve) => child.once("exit", resolve));
  // A run the service started may still be finishing its folder for a moment: retry the removal.
  rmSync(dir, { recursive: true, force: true, maxRetries: 20, retryDelay: 100 });
}
