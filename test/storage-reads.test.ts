// Test reports and logs are resolved and read through the storage layer (async file calls with a
// deadline), never by synchronous calls on the service's event loop.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { listRunLogs, openRunLog, testResults } from "../src/index.ts";
import { storageCall, storageCalls } from "../src/storage.ts";
import { DEFAULT_TEST_REPORT_LIMITS, readTestReport } from "../src/test-results/read.ts";
import { junitReport } from "./helpers/junit.ts";
import { makeRunsDir, writeCurrentRun, writeFile } from "./helpers/runs.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Storage calls by op made while `body` runs. */
async function callsDuring(body: () => Promise<unknown>): Promise<Record<string, number>> {
  const before = { ...storageCalls.byOp };
  await body();
  const delta: Record<string, number> = {};
  for (const [op, n] of Object.entries(storageCalls.byOp))
    if (n !== (before[op] ?? 0)) delta[op] = n - (before[op] ?? 0);
  return delta;
}

function runWithLogs(logs: number) {
  const { runsDir } = makeRunsDir();
  const extra = { logs: Array.from({ length: logs }, (_, i) => ({ id: `log${i}`, path: `logs/${i}.log` })) };
  const runDir = writeCurrentRun(runsDir, "r", { artifacts: {}, extra });
  for (let i = 0; i < logs; i++) writeFile(join(runDir, "logs", `${i}.log`), `line ${i}\n`);
  return runsDir;
}

describe("reads through the storage layer", () => {
  it("resolves and sizes each log with storage calls", async () => {
    const none = await callsDuring(() => listRunLogs({ runsDir: runWithLogs(0) }, "r"));
    const runsDir = runWithLogs(3);
    let sizes: (number | null)[] = [];
    const three = await callsDuring(async () => {
      sizes = (await listRunLogs({ runsDir }, "r")).logs.map((log) => log.size);
    });
    expect(sizes).toEqual([7, 7, 7]);
    // Per log, on top of what loading the run takes: one realpath (resolve), then the size from the
    // opened file (open, fstat), never a stat by path.
    const more = (op: string) => (three[op] ?? 0) - (none[op] ?? 0);
    expect([more("realpath"), more("open"), more("fstat"), more("stat")]).toEqual([3, 3, 3, 0]);
    const opened = await openRunLog({ runsDir }, "r", "log1");
    await opened.file.handle.close();
    expect(opened.entry.size).toBe(7);
  });

  it("reads a test report with storage calls, and a runs directory that hangs is STORAGE_UNAVAILABLE", async () => {
    const { runsDir } = makeRunsDir();
    const content = junitReport([{ classname: "a.B", name: "t" }]);
    const runDir = writeCurrentRun(runsDir, "r", {
      reports: [{ id: "junit", path: "reports/junit.xml", content, format: "junit" }],
      artifacts: {},
    });
    const calls = await callsDuring(async () => {
      expect((await testResults({ runsDir }, "r")).totals.tests).toBe(1);
    });
    expect(calls.read).toBeGreaterThanOrEqual(1);
    expect(calls.open).toBeGreaterThanOrEqual(1);

    // A call on this runs directory that never returns: later calls are refused at once.
    let release!: () => void;
    const stuck = new Promise<void>((resolve) => {
      release = resolve;
    });
    const hung = storageCall(runsDir, "test-hang", () => stuck, { storageTimeoutMs: 100 });
    await hung.catch(() => {});
    const ref = { id: "other", path: "reports/junit.xml", format: "junit" as const };
    await expect(
      readTestReport(runDir, ref, DEFAULT_TEST_REPORT_LIMITS, { storageTimeoutMs: 100 }),
    ).rejects.toMatchObject({ code: "STORAGE_UNAVAILABLE" });
    release();
    await sleep(10);
    const read = await readTestReport(runDir, ref, DEFAULT_TEST_REPORT_LIMITS);
    expect(read !== null && "tests" in read && read.tests.length).toBe(1);
  });
});
