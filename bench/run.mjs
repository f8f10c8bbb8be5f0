// Runs every benchmark, each in its own process; `--quick` runs them on small inputs (CI uses it
// to prove they still execute; its numbers are not for the record).
import { spawnSync } from "node:child_process";
import { cpus, totalmem } from "node:os";
import { fileURLToPath } from "node:url";

const quick = process.argv.includes("--quick");
console.log(`# guide-board benchmarks${quick ? " (quick)" : ""}`);
console.log(
  `\nNode ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ${new Date().toISOString()}`,
);
let failed = false;
for (const bench of [
  "cold-list.mjs",
  "index-bench.mjs",
  "http-bench.mjs",
  "list-all.mjs",
  "jobs-bench.mjs",
  "logs-bench.mjs",
  "results-bench.mjs",
  "history-bench.mjs",
  "storage-bench.mjs",
  "sse-bench.mjs",
  "hardening-bench.mjs",
]) {
  const result = spawnSync(
    process.execPath,
    [fileURLToPath(new URL(bench, import.meta.url)), ...(quick ? ["--quick"] : [])],
    { stdio: "inherit" },
  );
  if (result.status !== 0) {
    console.error(`${bench} exited with ${result.status}`);
    process.exitCode = 1;
  }
  failed ||= result.status !== 0;
}
if (failed) console.error("\nA benchmark crashed.");
