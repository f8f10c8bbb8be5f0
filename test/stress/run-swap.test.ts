// Issue 15, part 3: nothing from outside a run may appear while the run folder, and its
// `reports/` folder, are swapped with links to an outside copy in a tight loop (a child process
// renames them, so every step is atomic). Requests hit show, the report list, a report download,
// the artifact manifest and an artifact download for a bounded time; the outside copy holds a
// canary summary, canary reports and a canary artifact of other sizes. No canary content, no
// outside size, no outside summary, no 5xx may ever be served.
//
// Prints one line (`[swap] …`) with its figures for docs/reliability.md.
import { type ChildProcess, fork } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { createGuideBoardApp } from "../../adapters/h3.ts";
import { createRunIndex } from "../../src/index.ts";
import { makeRunsDir, writeCurrentRun } from "../helpers/runs.ts";

const SWAP_LOOP = fileURLToPath(new URL("../helpers/swap-loop.mjs", import.meta.url));
const DURATION_MS = Number(process.env.GB_SWAP_MS) || 5_000;
const IN_FLIGHT = 8;
const RUN = "2026-01-01T00-00-00Z-swap";

const INSIDE_REPORT = "inside report";
const INSIDE_ARTIFACT = '{"inside":true}';
const CANARY_REPORT = `CANARY-report ${"x".repeat(4000)}`;
const CANARY_JUNIT = '<testsuite name="CANARY"/>';
const CANARY_ARTIFACT = `CANARY-artifact ${"y".repeat(5000)}`;

const children = new Set<ChildProcess>();
afterAll(() => {
  for (const child of children) child.kill("SIGKILL");
});

function world() {
  const { root, runsDir } = makeRunsDir();
  const spec = (report: string, artifact: string, status: string, labels: Record<string, string>) => ({
    status,
    labels,
    reports: [
      { id: "page", path: "reports/page.html", content: report },
      { id: "junit", path: "reports/junit.xml", content: status === "passed" ? "<testsuite/>" : CANARY_JUNIT },
    ],
    artifacts: { "out/result.json": artifact },
  });
  const runDir = writeCurrentRun(runsDir, RUN, spec(INSIDE_REPORT, INSIDE_ARTIFACT, "passed", { side: "inside" }));
  const outsideRoot = join(root, "outside");
  mkdirSync(outsideRoot);
  const outside = writeCurrentRun(
    outsideRoot,
    RUN,
    spec(CANARY_REPORT, CANARY_ARTIFACT, "failed", { side: "outside", canary: "yes" }),
  );
  const stash = join(root, "stash");
  mkdirSync(stash);
  return { runsDir, runDir, outside, stash };
}

function startSwapping(runDir: string, outside: string, stash: string): Promise<ChildProcess> {
  const child = fork(SWAP_LOOP, [runDir, outside, stash], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  children.add(child);
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("message", () => resolve(child));
  });
}

function stopSwapping(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      resolve(-1);
    }, 10_000);
    child.on("message", (message: { swaps?: number }) => {
      if (typeof message.swaps !== "number") return;
      clearTimeout(timer);
      resolve(message.swaps);
    });
    child.send("stop");
  });
}

interface Tally {
  requests: number;
  ok: number;
  refused: number;
  serverErrors: string[];
  leaks: Record<string, number>;
  samples: string[];
}

type Check = (status: number, body: string) => string | null;

const canary = (text: string) => (text.includes("CANARY") || text.includes('"outside"') ? "content" : null);

/** The requests the loop cycles through, each with what counts as a leak in its answer. */
const PROBES: [path: string, check: Check][] = [
  [
    `/retained-runs/${RUN}`,
    (status, body) => (status === 200 && (body.includes('"failed"') || body.includes("canary")) ? "summary" : null),
  ],
  [
    `/retained-runs/${RUN}/reports`,
    (status, body) => {
      if (status !== 200) return null;
      const sizes = (JSON.parse(body) as { reports: { size: number | null }[] }).reports.map((r) => r.size);
      return sizes.includes(Buffer.byteLength(CANARY_REPORT)) || sizes.includes(Buffer.byteLength(CANARY_JUNIT))
        ? "size"
        : canary(body);
    },
  ],
  [`/retained-runs/${RUN}/reports/page`, (_status, body) => canary(body)],
  [`/retained-runs/${RUN}/reports/junit`, (_status, body) => canary(body)],
  [
    `/retained-runs/${RUN}/artifact-manifest`,
    (_status, body) => (body.includes(String(Buffer.byteLength(CANARY_ARTIFACT))) ? "manifest" : canary(body)),
  ],
  [`/retained-runs/${RUN}/artifacts/out/result.json`, (_status, body) => canary(body)],
];

async function hammer(app: ReturnType<typeof createGuideBoardApp>, until: number): Promise<Tally> {
  const tally: Tally = { requests: 0, ok: 0, refused: 0, serverErrors: [], leaks: {}, samples: [] };
  let next = 0;
  const worker = async () => {
    while (Date.now() < until) {
      const [path, check] = PROBES[next++ % PROBES.length]!;
      const response = await app.request(`http://127.0.0.1${path}`);
      const body = await response.text();
      tally.requests++;
      if (response.status >= 500) tally.serverErrors.push(`${response.status} ${path} ${body.slice(0, 200)}`);
      else if (response.status === 200) tally.ok++;
      else tally.refused++;
      const leak = check(response.status, body);
      if (leak) {
        const key = `${path.split("/").slice(3).join("/") || "show"}:${leak}`;
        tally.leaks[key] = (tally.leaks[key] ?? 0) + 1;
        if (tally.samples.length < 5) tally.samples.push(`${path} → ${body.slice(0, 160)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  return tally;
}

describe("run folder swapped with a link to an outside copy", () => {
  for (const mode of ["stateless", "index"] as const) {
    it(`never serves anything from outside the run (${mode})`, async () => {
      const { runsDir, runDir, outside, stash } = world();
      const index = mode === "index" ? createRunIndex({ runsDir, readMode: "async" }) : undefined;
      const app = createGuideBoardApp({ runsDir, index });
      try {
        await index?.ready();
        // Before the swaps: everything answers from inside.
        const before = await app.request(`http://127.0.0.1/retained-runs/${RUN}/reports/page`);
        expect([before.status, await before.text()]).toEqual([200, INSIDE_REPORT]); // (read: its file is closed)
        const child = await startSwapping(runDir, outside, stash);
        const started = Date.now();
        const tally = await hammer(app, started + DURATION_MS);
        const swaps = await stopSwapping(child);
        const leaks = Object.values(tally.leaks).reduce((a, b) => a + b, 0);
        console.log(
          `[swap] ${mode}: ${tally.requests} requests (${tally.ok} ok, ${tally.refused} refused) during ${swaps} ` +
            `swaps in ${((Date.now() - started) / 1000).toFixed(1)} s: ${leaks} leaks ${JSON.stringify(tally.leaks)}, ` +
            `${tally.serverErrors.length} 5xx`,
        );
        for (const sample of tally.samples) console.log(`[swap]   leak: ${sample}`);
        expect(swaps).toBeGreaterThan(100);
        expect(tally.ok).toBeGreaterThan(0);
        expect(tally.serverErrors.slice(0, 5)).toEqual([]);
        expect(tally.leaks).toEqual({});
        // After the swaps the run answers from inside again.
        const after = await app.request(`http://127.0.0.1/retained-runs/${RUN}/reports/page`);
        expect(await after.text()).toBe(INSIDE_REPORT);
      } finally {
        index?.close();
      }
    });
  }
});
