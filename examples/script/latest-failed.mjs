// Using the library from a script: print the latest failed run, its reports and artifacts.
// Run: node examples/script/latest-failed.mjs [runs-dir]
import { artifactManifest, latestRun, listRetainedRuns, reportPaths } from "guide-board";

const runsDir = process.argv[2] ?? "examples/runs";
const { runs, diagnostics } = await listRetainedRuns({ runsDir, limit: 10 });
console.log(`${runs.length} recent run(s); ${diagnostics.length} folder(s) skipped`);

const failed = await latestRun({ runsDir, status: "failed" });
if (!failed) {
  console.log("No failed run. 🎉");
  process.exit(0);
}
console.log(`Latest failed: ${failed.runId} (exit ${failed.exitCode}), started ${failed.startedAt}`);
for (const report of (await reportPaths({ runsDir }, failed.runId)).reports) {
  console.log(`  report ${report.id}: ${report.exists ? report.absolutePath : "missing"}`);
}
const manifest = await artifactManifest({ runsDir }, failed.runId);
if (manifest.available)
  for (const a of manifest.artifacts) console.log(`  artifact ${a.path} ${a.size} B sha256 ${a.sha256}`);
else console.log(`  no artifact manifest: ${manifest.message}`);
