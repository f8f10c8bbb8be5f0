// `guide-board runs list --all --json` over 100,000 runs: peak memory against one page
// (`runs list --json`, which scans the same folders and keeps the same sort keys) measured in the
// same run, each in its own process writing into a pipe this process drains. Memory bounded means
// printing every run costs about what printing one page costs, far below the size of the output.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { QUICK, report, runsDirOf } from "./_util.mjs";

// The child: runs the CLI in-process, sampling the heap, and reports its peaks on stderr.
if (process.argv.includes("--child")) {
  const { main } = await import("../dist/cli.js");
  const args = process.argv.slice(process.argv.indexOf("--child") + 1);
  let peakHeap = 0;
  const sample = () => {
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  };
  const timer = setInterval(sample, 2);
  const started = performance.now();
  const code = await main({ args, env: {}, cwd: process.cwd() });
  const ms = performance.now() - started;
  clearInterval(timer);
  sample();
  process.stderr.write(`\n${JSON.stringify({ code, ms, peakHeap, maxRss: process.resourceUsage().maxRSS * 1024 })}\n`);
  process.exit(code);
}

/** Runs one listing in a child; returns its peaks, time and the bytes it printed. */
function measure(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), "--child", ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let bytes = 0;
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      bytes += chunk.length;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.on("error", reject);
    child.on("close", (status) => {
      const last = stderr.trimEnd().split("\n").at(-1) ?? "";
      if (status !== 0) return reject(new Error(`child exited with ${status}: ${stderr.slice(0, 500)}`));
      resolve({ ...JSON.parse(last), bytes });
    });
  });
}

const MiB = 2 ** 20;
const mib = (n) => `${(n / MiB).toFixed(1)} MiB`;
const count = QUICK ? 2_000 : 100_000;
const dir = runsDirOf(count);
const page = await measure(["runs", "list", "--json", "--runs-dir", dir]);
const all = await measure(["runs", "list", "--all", "--json", "--runs-dir", dir]);
const table = await measure(["runs", "list", "--all", "--runs-dir", dir]);
const n = count.toLocaleString("en");
const rssRatio = all.maxRss / page.maxRss;
const heapRatio = all.peakHeap / page.peakHeap;
const tableRatio = table.maxRss / page.maxRss;
const outputRatio = Math.max(0, all.maxRss - page.maxRss) / all.bytes;
report(`runs list --all, ${n} runs (output ${mib(all.bytes)} of JSON)`, [
  {
    name: "--all --json, peak RSS",
    value: mib(all.maxRss),
    baseline: `${mib(page.maxRss)} (one page)`,
    ratio: `${rssRatio.toFixed(2)}×`,
    target: "≤ 1.5× one page",
    pass: rssRatio <= 1.5,
  },
  {
    name: "--all --json, peak heap (sampled)",
    value: mib(all.peakHeap),
    baseline: `${mib(page.peakHeap)} (one page)`,
    ratio: `${heapRatio.toFixed(2)}×`,
    target: "≤ 1.5× one page",
    pass: heapRatio <= 1.5,
  },
  {
    name: "--all --json, RSS above one page per byte printed",
    value: mib(Math.max(0, all.maxRss - page.maxRss)),
    baseline: `${mib(all.bytes)} printed`,
    ratio: `${outputRatio.toFixed(3)}×`,
    target: "≤ 0.1× the output",
    pass: outputRatio <= 0.1,
  },
  {
    name: "--all (table), peak RSS",
    value: mib(table.maxRss),
    baseline: `${mib(page.maxRss)} (one page)`,
    ratio: `${tableRatio.toFixed(2)}×`,
    target: "≤ 1.5× one page",
    pass: tableRatio <= 1.5,
  },
  {
    name: "--all --json, time",
    value: `${(all.ms / 1000).toFixed(2)} s`,
    baseline: `${(page.ms / 1000).toFixed(2)} s (one page)`,
    ratio: `${(all.ms / page.ms).toFixed(2)}×`,
    target: "≤ 4× one page (reads every summary twice)",
    pass: all.ms / page.ms <= 4,
  },
]);
