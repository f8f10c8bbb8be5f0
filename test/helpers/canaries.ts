// A runs directory with canaries where a hostile path might reach: for the socket suites that
// check no request ever surfaces them (test/http-socket.test.ts, test/hostile-requests.test.ts).
import { randomUUID } from "node:crypto";
import { symlinkSync } from "node:fs";
import { join } from "node:path";
import { makeRunsDir, type ReportSpec, writeCurrentRun, writeFile } from "./runs.ts";

/** The run whose reports and manifest name links to the canaries. */
export const TARGET = "2026-02-01T00-00-00Z-target";
/** A run whose own report (`canary`) and artifact (`canary.txt`) are a canary. */
export const SIBLING = "2026-01-01T00-00-00Z-sibling";
/** A link in the runs directory, named like a run, to the sibling run: never a run itself. */
export const LINKED = "2026-03-01T00-00-00Z-linked";
/** The body of `out/result.json`, the target's own artifact. */
export const RESULT_JSON = '{"ok":true}';

export interface CanaryWorld {
  root: string;
  runsDir: string;
  /** The text of the sibling run's report and artifact. */
  siblingCanary: string;
  /** The text of `root/outside-canary.txt`, outside the runs directory. */
  outsideCanary: string;
  /** `root/outside-canary.txt`. */
  outsidePath: string;
}

/**
 * Writes the world in a new runs directory: a sibling run whose own report and artifact are a
 * canary; a canary outside the runs directory; a target run whose reports and manifest also name
 * links to both (`reports/sibling-canary`, `reports/outside-canary`, `links/…-canary.txt`, and
 * `sibling-dir/`, a link to the whole sibling run); and a link in the runs directory, named like a
 * run, to the sibling run. `extra` adds reports and artifacts of the target's own.
 */
export function writeCanaryWorld(
  extra: { reports?: ReportSpec[]; artifacts?: Record<string, string | null> } = {},
): CanaryWorld {
  const { root, runsDir } = makeRunsDir();
  const siblingCanary = `CANARY-SIBLING-${randomUUID()}`;
  const outsideCanary = `CANARY-OUTSIDE-${randomUUID()}`;
  const outsidePath = join(root, "outside-canary.txt");
  writeFile(outsidePath, outsideCanary);
  writeCurrentRun(runsDir, SIBLING, {
    startedAt: "2026-01-01T00:00:00Z",
    reports: [{ id: "canary", path: "reports/canary.txt", content: siblingCanary }],
    artifacts: { "canary.txt": siblingCanary },
  });
  const target = writeCurrentRun(runsDir, TARGET, {
    startedAt: "2026-02-01T00:00:00Z",
    reports: [
      { id: "junit", path: "reports/junit.xml", content: "<testsuite/>" },
      { id: "sibling-canary", path: "reports/sibling-canary.txt", content: null },
      { id: "outside-canary", path: "reports/outside-canary.txt", content: null },
      ...(extra.reports ?? []),
    ],
    artifacts: {
      "out/result.json": RESULT_JSON,
      ...extra.artifacts,
      "links/sibling-canary.txt": null,
      "links/outside-canary.txt": null,
      "sibling-dir/reports/canary.txt": null,
      "sibling-dir/assessment-package/canary.txt": null,
    },
  });
  symlinkSync(join("..", "..", SIBLING, "reports", "canary.txt"), join(target, "reports", "sibling-canary.txt"));
  symlinkSync(outsidePath, join(target, "reports", "outside-canary.txt"));
  writeFile(join(target, "assessment-package", "links", ".keep"), "");
  symlinkSync(
    join("..", "..", "..", SIBLING, "assessment-package", "canary.txt"),
    join(target, "assessment-package", "links", "sibling-canary.txt"),
  );
  symlinkSync(outsidePath, join(target, "assessment-package", "links", "outside-canary.txt"));
  symlinkSync(join("..", "..", SIBLING), join(target, "assessment-package", "sibling-dir"));
  symlinkSync(SIBLING, join(runsDir, LINKED));
  return { root, runsDir, siblingCanary, outsideCanary, outsidePath };
}
