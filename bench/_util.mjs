// Shared helpers for the benchmarks: medians, percentiles, a results table, and run folders.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateRuns } from "./generate.mjs";

export const QUICK = process.argv.includes("--quick") || process.env.BENCH_QUICK === "1";

export const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

export const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

/** A generated runs directory of `count` runs, reused across benchmarks of one session. */
export function runsDirOf(count) {
  const dir = join(tmpdir(), `guide-board-bench-${count}`);
  if (!existsSync(dir) || readdirSync(dir).length !== count) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    generateRuns(dir, count);
  }
  return dir;
}

/** Prints one row per result: `{ name, baseline, value, ratio, target, pass }`. */
export function report(title, rows) {
  console.log(`\n## ${title}${QUICK ? " (quick: small N, not for the record)" : ""}\n`);
  console.log("| benchmark | value | baseline, same run | ratio | target | result |");
  console.log("|---|---|---|---|---|---|");
  for (const row of rows) {
    console.log(
      `| ${row.name} | ${row.value} | ${row.baseline ?? "—"} | ${row.ratio ?? "—"} | ${row.target} | ${QUICK ? "(quick: not judged)" : row.pass ? "pass" : "FAIL"} |`,
    );
  }
  return rows.every((row) => row.pass);
}

/**
 * Starts `guide-board serve --port 0 --no-ui` (plus `args`) in a child process and waits for the
 * port it prints; `child` is the process (kill it when done).
 */
export async function serveBin(args = [], options = {}) {
  const bin = new URL("../bin/guide-board.mjs", import.meta.url).pathname;
  const child = spawn(process.execPath, [bin, "serve", "--port", "0", "--no-ui", ...args], {
    stdio: ["ignore", "pipe", "inherit"],
    ...options,
  });
  let out = "";
  const port = await new Promise((resolve, reject) => {
    child.stdout.on("data", (chunk) => {
      out += chunk;
      const match = /Open http:\/\/127\.0\.0\.1:(\d+)\//.exec(out);
      if (match) resolve(Number(match[1]));
    });
    child.once("exit", (code) => reject(new Error(`serve exited with ${code}: ${out}`)));
  });
  return { child, port };
}
