// Writes N runs in the documented layout (a tenth of them legacy) into a folder, for benchmarks.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Writes `count` runs into `runsDir`; returns their ids, oldest first. */
export function generateRuns(runsDir, count, { start = Date.UTC(2025, 0, 1) } = {}) {
  mkdirSync(runsDir, { recursive: true });
  const statuses = ["passed", "passed", "passed", "failed", "errored", "cancelled"];
  const ids = [];
  for (let i = 0; i < count; i++) {
    const started = new Date(start + i * 60_000);
    const runId = `${started.toISOString().replace(/[:.]/g, "-")}-${String(i).padStart(6, "0")}`;
    const runDir = join(runsDir, runId);
    mkdirSync(join(runDir, "reports"), { recursive: true });
    const status = statuses[i % statuses.length];
    const finishedAt = new Date(started.getTime() + 30_000 + (i % 97) * 1000).toISOString();
    let summary;
    if (i % 10 === 0) {
      summary = {
        runId,
        status,
        startedAt: started.toISOString(),
        finishedAt,
        reports: ["reports/index.html", "reports/junit.xml"],
      };
    } else {
      mkdirSync(join(runDir, "assessment-package"), { recursive: true });
      writeFileSync(
        join(runDir, "assessment-package", "artifact-manifest.json"),
        JSON.stringify({ schemaVersion: 1, artifacts: [] }),
      );
      summary = {
        schemaVersion: 2,
        runId,
        status,
        startedAt: started.toISOString(),
        finishedAt,
        exitCode: status === "passed" ? 0 : 1,
        command: ["npm", "test", "--", "--reporter=junit"],
        labels: { suite: i % 3 === 0 ? "e2e" : "unit", branch: i % 5 === 0 ? "main" : `feature/${i % 17}` },
        reports: [
          { id: "html", path: "reports/index.html", mediaType: "text/html", title: "Report" },
          { id: "junit", path: "reports/junit.xml", mediaType: "application/xml" },
        ],
        artifactManifest: "assessment-package/artifact-manifest.json",
      };
    }
    writeFileSync(join(runDir, "retention-summary.json"), JSON.stringify(summary, null, 2));
    ids.push(runId);
  }
  return ids;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [dir, count] = process.argv.slice(2);
  generateRuns(dir, Number(count));
}
