// The service never makes a synchronous file call on a runs directory: on a hung mount one such
// call would freeze every request. Each `fs.*Sync` is wrapped (and the ESM bindings synced), then
// every route that reads a runs directory is answered by the stateless app and the indexed app;
// no synchronous call may name a path under the runs directory.
import fs from "node:fs";
import { syncBuiltinESMExports } from "node:module";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeAppMatrix } from "./helpers/app-matrix.ts";
import { junitReport } from "./helpers/junit.ts";
import { makeRunsDir, writeCurrentRun, writeFile } from "./helpers/runs.ts";

const SYNC_CALLS = Object.keys(fs).filter(
  (name) => name.endsWith("Sync") && typeof (fs as unknown as Record<string, unknown>)[name] === "function",
);
const seen: string[] = [];
const originals = new Map<string, unknown>();
let watching = "";

beforeAll(() => {
  const target = fs as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const name of SYNC_CALLS) {
    const original = target[name]!;
    originals.set(name, original);
    target[name] = Object.assign(
      function (this: unknown, ...args: unknown[]) {
        const path = args[0];
        if (watching !== "" && (typeof path === "string" || typeof path === "number")) {
          // A number is a descriptor: any descriptor call while a request runs counts.
          if (typeof path === "number" || path.startsWith(watching) || path.startsWith("/proc/self/fd/")) {
            seen.push(`${name}(${String(path)})`);
          }
        }
        return original.apply(this, args);
      },
      original, // keeps properties such as realpathSync.native
    );
    if (name === "realpathSync") {
      const native = (original as unknown as { native: (...args: unknown[]) => unknown }).native;
      (target[name] as unknown as { native: unknown }).native = (...args: unknown[]) => {
        const path = args[0];
        if (watching !== "" && typeof path === "string" && path.startsWith(watching))
          seen.push(`realpathSync.native(${path})`);
        return native(...args);
      };
    }
  }
  syncBuiltinESMExports();
});

afterAll(() => {
  const target = fs as unknown as Record<string, unknown>;
  for (const [name, original] of originals) target[name] = original;
  syncBuiltinESMExports();
});

describeAppMatrix("service file calls", (setup) => {
  it("every route that reads a runs directory makes no synchronous file call on it", async () => {
    const { runsDir } = makeRunsDir();
    const junit = junitReport([
      { classname: "a.B", name: "passes" },
      { classname: "a.B", name: "fails", status: "failed", message: "boom" },
    ]);
    for (const [runId, startedAt] of [
      ["r-1", "2026-01-01T00:00:00Z"],
      ["r-2", "2026-01-02T00:00:00Z"],
    ] as const) {
      const runDir = writeCurrentRun(runsDir, runId, {
        startedAt,
        reports: [{ id: "junit", path: "reports/junit.xml", content: junit, format: "junit" }],
        extra: { logs: [{ id: "out", path: "logs/out.log" }] },
      });
      writeFile(join(runDir, "logs", "out.log"), "line 1\nline 2\n");
    }
    const app = setup.createApp({ runsDir });
    await setup.caughtUp(app);
    const routes = [
      "/retained-runs",
      "/retained-runs/latest",
      "/retained-runs/r-2",
      "/retained-runs/r-2/reports",
      "/retained-runs/r-2/reports/junit",
      "/retained-runs/r-2/artifact-manifest",
      "/retained-runs/r-2/artifacts/out/result.json",
      "/retained-runs/r-2/logs",
      "/retained-runs/r-2/logs/out",
      "/retained-runs/r-2/tests?history=1",
      "/retained-runs/compare?base=r-1&head=r-2&history=1",
      "/tests/history?key=a.B%3A%3Afails",
      "/tests/top?by=failures",
    ];
    const statuses: number[] = [];
    seen.length = 0;
    watching = fs.realpathSync(runsDir);
    try {
      for (const route of routes) {
        const response = await app.request(route);
        await response.arrayBuffer();
        statuses.push(response.status);
      }
    } finally {
      watching = "";
    }
    expect(statuses).toEqual(routes.map(() => 200));
    expect(seen).toEqual([]);
  });
});

it("the wrapper sees a synchronous call on a runs directory (the check above can fail)", () => {
  const { runsDir } = makeRunsDir();
  seen.length = 0;
  watching = fs.realpathSync(runsDir);
  try {
    fs.readdirSync(watching);
  } finally {
    watching = "";
  }
  expect(seen).toEqual([`readdirSync(${fs.realpathSync(runsDir)})`]);
});
