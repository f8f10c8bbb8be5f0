// Live-update streams (issue 15): 1,500 clients hold `GET /events` open against `guide-board
// serve` (its default cap: 1,000 streams); the streams above the cap must be refused 503, and
// `/healthz` must still answer within 100 ms while they are all held. The baseline is /healthz
// on the same server with no stream open, measured first in the same run. Quick mode: 150
// clients against a cap of 100 (a config file), so CI proves the bench runs without 1,500 sockets.
//
// Sockets need descriptors: the server and this process each need about 1,600 here. Where the
// soft limit is lower, the bench re-runs itself under `ulimit -n 8192` (bash), or says it cannot.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { median, QUICK, report, runsDirOf } from "./_util.mjs";

const BIN = fileURLToPath(new URL("../bin/guide-board.mjs", import.meta.url));
const CLIENTS = QUICK ? 150 : 1500;
const CAP = QUICK ? 100 : 1000; // QUICK: set by config; full: serve's own default
const NEEDED_FDS = CLIENTS + 512;

function softFdLimit() {
  const out = spawnSync("bash", ["-c", "ulimit -n"], { encoding: "utf8" }).stdout.trim();
  return out === "unlimited" ? Number.MAX_SAFE_INTEGER : Number(out) || 0;
}

if (!process.env.GB_SSE_RAISED && softFdLimit() < NEEDED_FDS) {
  const script = fileURLToPath(import.meta.url);
  const args = [script, ...process.argv.slice(2)].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
  const child = spawnSync("bash", ["-c", `ulimit -n 8192 && exec '${process.execPath}' ${args}`], {
    stdio: "inherit",
    env: { ...process.env, GB_SSE_RAISED: "1" },
  });
  if (child.status !== 0) {
    console.log(`\n## Live-update streams\n\nskipped: \`ulimit -n\` is ${softFdLimit()} and cannot be raised to 8192`);
  }
  process.exit(0);
}

const work = mkdtempSync(join(tmpdir(), "gb-sse-"));
const configArgs = [];
if (QUICK) {
  const config = join(work, "guide-board.config.json");
  writeFileSync(config, JSON.stringify({ service: { maxEventStreams: CAP } }));
  configArgs.push("--config", config);
}
const server = spawn(process.execPath, [BIN, "serve", "--port", "0", "--runs-dir", runsDirOf(200), ...configArgs], {
  stdio: ["ignore", "pipe", "inherit"],
  cwd: work,
});
const base = await new Promise((resolve, reject) => {
  let out = "";
  server.stdout.on("data", (data) => {
    out += data;
    const match = /^Open (http:\/\/\S+)$/m.exec(out);
    if (match) resolve(match[1].replace(/\/$/, ""));
  });
  server.once("exit", (code) => reject(new Error(`serve exited with ${code}: ${out}`)));
});
const { hostname, port } = new URL(base);

/** Opens one `/events` stream; resolves with its status once headers arrive, keeping it open. */
function openStream(held) {
  return new Promise((resolve) => {
    const req = request({ hostname, port, path: "/events", agent: false }, (res) => {
      if (res.statusCode === 200) held.push(req);
      else res.resume();
      resolve(res.statusCode);
    });
    req.on("error", () => resolve(0));
    req.end();
  });
}

/** One `/healthz` on its own connection: milliseconds until the whole answer is read. */
function healthz() {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = request({ hostname, port, path: "/healthz", agent: false }, (res) => {
      res.resume();
      res.on("end", () => (res.statusCode === 200 ? resolve(performance.now() - started) : reject(res.statusCode)));
    });
    req.on("error", reject);
    req.end();
  });
}

async function healthzTimes(n) {
  const times = [];
  for (let i = 0; i < n; i++) times.push(await healthz());
  return times.sort((a, b) => a - b);
}

const held = [];
try {
  await healthzTimes(20); // warm-up: the first answers pay for compiling the routes
  const quiet = await healthzTimes(QUICK ? 10 : 30);
  const statuses = {};
  // Open them in batches, as a crowd of browsers would.
  for (let opened = 0; opened < CLIENTS; opened += 100) {
    const batch = await Promise.all(Array.from({ length: Math.min(100, CLIENTS - opened) }, () => openStream(held)));
    for (const status of batch) statuses[status] = (statuses[status] ?? 0) + 1;
  }
  const loaded = await healthzTimes(QUICK ? 10 : 30);
  const worst = loaded.at(-1);
  const accepted = statuses[200] ?? 0;
  const refused = statuses[503] ?? 0;
  report("Live-update streams", [
    {
      name: `/healthz with ${CLIENTS.toLocaleString("en")} SSE clients (median; worst of ${loaded.length})`,
      value: `${median(loaded).toFixed(1)} ms (worst ${worst.toFixed(1)} ms)`,
      baseline: `${median(quiet).toFixed(1)} ms with no stream`,
      ratio: `${(median(loaded) / median(quiet)).toFixed(2)}×`,
      target: "< 100 ms",
      pass: worst < 100,
    },
    {
      name: `SSE streams above the cap (${CAP.toLocaleString("en")}) refused`,
      value: `${refused} refused 503, ${accepted} open${Object.keys(statuses).length > 2 ? ` ${JSON.stringify(statuses)}` : ""}`,
      baseline: `${CLIENTS - CAP} above the cap`,
      ratio: `${(refused / (CLIENTS - CAP)).toFixed(2)}×`,
      target: "all above the cap refused, the cap served",
      pass: refused === CLIENTS - CAP && accepted === CAP,
    },
  ]);
} finally {
  for (const req of held) req.destroy();
  server.kill("SIGTERM");
  await new Promise((resolve) => server.once("exit", resolve));
  rmSync(work, { recursive: true, force: true });
}
