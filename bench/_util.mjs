// Shared helpers for the benchmarks: medians, percentiles, a results table, and run folders.
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
