// Logs: the tail of a 1 GiB log (sparse, real lines at its end) vs reading its last chunk raw;
// and one job's output streamed to many followers while it writes fast, measuring the service's
// RSS (its own process) and how far behind the slowest follower falls, vs a single follower.
import { fork } from "node:child_process";
import { closeSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { open } from "node:fs/promises";
import { get } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readLogTail } from "../dist/index.js";
import { median, QUICK, report } from "./_util.mjs";

const root = mkdtempSync(join(tmpdir(), "guide-board-logs-bench-"));
const rows = [];
try {
  rows.push(await tailBench());
  rows.push(...(await followersBench()));
} finally {
  rmSync(root, { recursive: true, force: true });
}
if (!report("Logs", rows) && !QUICK) process.exitCode = 1;

async function tailBench() {
  const size = 1024 ** 3;
  const path = join(root, "big.log");
  const text = Array.from(
    { length: 2000 },
    (_, i) => `${new Date(0).toISOString()} line ${i} ${"x".repeat(i % 60)}\n`,
  ).join("");
  const fd = openSync(path, "w");
  ftruncateSync(fd, size);
  writeSync(fd, `\n${text}`, size - Buffer.byteLength(text) - 1);
  closeSync(fd);
  const handle = await open(path);
  const raw = Buffer.alloc(64 * 1024);
  const ours = [];
  const floor = [];
  try {
    for (let rep = 0; rep < (QUICK ? 5 : 31); rep++) {
      let t = performance.now();
      await handle.read(raw, 0, raw.length, size - raw.length);
      floor.push(performance.now() - t);
      t = performance.now();
      const tail = await readLogTail(handle, { lines: 1000 });
      ours.push(performance.now() - t);
      if (tail.bytes.toString().split("\n").length !== 1001) throw new Error("tail is wrong");
    }
  } finally {
    await handle.close();
  }
  return {
    name: "tail of 1,000 lines, 1 GiB log (median)",
    value: `${median(ours).toFixed(2)} ms`,
    baseline: `last 64 KiB read raw: ${median(floor).toFixed(2)} ms`,
    ratio: `${(median(ours) / median(floor)).toFixed(1)}×`,
    target: "< 50 ms",
    pass: median(ours) < 50,
  };
}

async function followersBench() {
  // The figure (50 followers of 50 MB/s: 2.5 GB/s out of the service), then one a small
  // machine can carry (5 MB/s), to tell the fan-out's cost from the machine's bandwidth.
  const rows = [];
  for (const mbs of QUICK ? [5] : [50, 5]) rows.push(...(await followersRows(mbs * 1024 * 1024, QUICK ? 5 : 50)));
  return rows;
}

async function followersRows(rate, followers) {
  const seconds = QUICK ? 2 : 10;
  const single = await stream(1, rate, seconds);
  const many = await stream(followers, rate, seconds);
  const floor = await stream(followers, rate, seconds, "_fanout-floor.mjs");
  const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  return [
    {
      name: `service RSS above idle, ${many.followers} followers of a job writing ${mb(rate)}/s for ${seconds} s`,
      value: mb(many.rssGrowth),
      baseline: `1 follower: ${mb(single.rssGrowth)}`,
      ratio: `${(many.rssGrowth / Math.max(single.rssGrowth, 1)).toFixed(1)}×`,
      target: "≤ 64 MB",
      pass: many.rssGrowth <= 64 * 1024 * 1024,
    },
    {
      name: `slowest follower behind the writer, ${many.followers} followers of ${mb(rate)}/s`,
      value: `${many.maxLag.toFixed(2)} s`,
      baseline: `naive fan-out (same machine, no bound): ${floor.maxLag.toFixed(2)} s; 1 follower: ${single.maxLag.toFixed(2)} s`,
      ratio: `${(many.maxLag / Math.max(floor.maxLag, 0.05)).toFixed(2)}× the naive fan-out`,
      target: "≤ 1 s",
      pass: many.maxLag <= 1 && many.complete,
    },
  ];
}

/** One job writing `rate` bytes/s for `seconds`, followed by `followers` clients over HTTP. */
async function stream(followers, rate, seconds, serverModule = "_log-server.mjs") {
  const runsDir = join(root, `runs-${followers}-${serverModule}`);
  const runId = "bench-job";
  mkdirSync(join(runsDir, runId, "logs"), { recursive: true });
  const logPath = join(runsDir, runId, "logs", "stdout.log");
  const log = await open(logPath, "w");
  const server = fork(new URL(serverModule, import.meta.url), [runsDir, runId], { stdio: "inherit" });
  const { port } = await new Promise((resolve) => server.once("message", resolve));
  const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${server.pid}/status`, "utf8"))[1]) * 1024;
  await new Promise((resolve) => setTimeout(resolve, 500));
  const idle = median([rss(), rss(), rss()]);
  const history = [[performance.now(), 0]]; // (time, bytes written by then)
  let written = 0;
  const clients = Array.from({ length: followers }, () => {
    const client = { received: 0, done: null };
    client.done = new Promise((resolve, reject) => {
      get({ host: "127.0.0.1", port, path: "/runs/j/log" }, (res) => {
        res.on("data", (chunk) => (client.received += chunk.length));
        res.on("end", resolve);
        res.on("error", reject);
      }).on("error", reject);
    });
    return client;
  });
  const lagOf = (received, now) => {
    if (received >= written) return 0;
    const first = history.find(([, bytes]) => bytes > received);
    return (now - first[0]) / 1000;
  };
  let maxLag = 0;
  let peak = idle;
  const sampler = setInterval(() => {
    const now = performance.now();
    for (const client of clients) maxLag = Math.max(maxLag, lagOf(client.received, now));
    peak = Math.max(peak, rss());
  }, 100);
  const block = Buffer.alloc(rate / 50, "y");
  block[block.length - 1] = 10;
  const started = performance.now();
  while (performance.now() - started < seconds * 1000) {
    const due = started + ((written + block.length) / rate) * 1000;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
    await log.write(block);
    written += block.length;
    history.push([performance.now(), written]);
  }
  await log.close();
  const ended = performance.now();
  server.send("end");
  await Promise.race([Promise.all(clients.map((c) => c.done)), new Promise((r) => setTimeout(r, 60_000))]);
  clearInterval(sampler);
  const complete = clients.every((c) => c.received === written);
  maxLag = Math.max(maxLag, complete ? 0 : (performance.now() - ended) / 1000);
  server.send("exit");
  await new Promise((resolve) => server.once("exit", resolve));
  return { followers, rssGrowth: Math.max(0, peak - idle), maxLag, complete };
}
