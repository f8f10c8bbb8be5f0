// Run folders on a real network mount (sshfs over SFTP on loopback, through a relay that adds
// 0.5 ms each way and can stop answering; bench/_netfs.mjs): `guide-board serve` over the mount,
// the storage server hangs, the service keeps answering from memory, answers 503 for what needs
// the storage, says which runs directory does not answer, then recovers by itself; and runs that
// "another host" (a write to the source folder, which sends no file event to the mount's client)
// adds or removes show up within seconds. Bounded: a few hundred runs, about a minute in all.
import { request } from "node:http";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mountNetfs, netfsMissing, type NetfsMount } from "../../bench/_netfs.mjs";
import { assertBuilt, ROOT, startServe, type Served } from "../helpers/bin.ts";
import { rawRequest } from "../helpers/http.ts";
import { makeRunsDir, writeCurrentRun, writeManyRuns } from "../helpers/runs.ts";

const RUNS = 300;
const DEADLINE_MS = 2000;
const HANG_MS = 8000;
const missing = netfsMissing();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let mount: NetfsMount | undefined;
let served: Served | undefined;
let source = "";

beforeAll(async () => {
  if (missing) return;
  assertBuilt();
  source = makeRunsDir().runsDir;
  writeManyRuns(source, RUNS);
  mount = await mountNetfs({ source, delayMs: 0.5, options: ["dcache_timeout=1"] });
  served = await startServe(
    ["--runs-dir", mount.mount, "--host", "127.0.0.1", "--storage-timeout", `${DEADLINE_MS}ms`, "--no-ui"],
    { cwd: ROOT, timeoutMs: 30_000 },
  );
}, 60_000);

afterAll(async () => {
  await mount?.resume();
  await served?.stop("SIGKILL");
  await mount?.down();
});

const get = (path: string, timeoutMs = 10_000) => {
  const started = performance.now();
  return rawRequest(served!.port, path, { timeoutMs }).then((answer) => ({
    ...answer,
    ms: performance.now() - started,
  }));
};

const list = async () =>
  JSON.parse((await get("/retained-runs?limit=1000")).body) as {
    runs: { runId: string }[];
    diagnostics: { kind: string }[];
  };

/** Opens `GET /events` and collects its text until `stop()`. */
function events() {
  let text = "";
  const req = request({ host: "127.0.0.1", port: served!.port, path: "/events" }, (res) => {
    res.setEncoding("utf8");
    res.on("data", (chunk: string) => {
      text += chunk;
    });
  });
  req.on("error", () => {});
  req.end();
  return { text: () => text, stop: () => req.destroy() };
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
  return Date.now() - started;
}

describe("serve over a network mount", () => {
  it("needs FUSE and sshfs (only CI must have them)", () => {
    if (missing) console.log(`[netfs] skipped: ${missing}`);
    if (process.env.CI === "true") expect(missing, "the network-mount stress test must run in CI").toBeNull();
  });

  it("keeps answering from memory through a hang, answers 503 within the deadline, says so, and recovers", async () => {
    if (missing) return;
    const ids = (await list()).runs.map((run) => run.runId);
    expect(ids).toHaveLength(RUNS);
    const runId = ids[0]!;
    expect((await get(`/retained-runs/${runId}/reports`)).status).toBe(200);
    const stream = events();
    await sleep(200);

    await mount!.hang();
    const hungAt = Date.now();
    // A request that needs the storage: 503 STORAGE_UNAVAILABLE with Retry-After, within deadline + 1 s.
    const needs = await get(`/retained-runs/${runId}/artifact-manifest`);
    expect(needs.status).toBe(503);
    expect(needs.headers["retry-after"]).toBe("2");
    expect(JSON.parse(needs.body).error.code).toBe("STORAGE_UNAVAILABLE");
    expect(needs.ms).toBeLessThan(DEADLINE_MS + 1000);
    // Answers from memory go on at normal speed, the whole time.
    const times: number[] = [];
    let unresponsiveAfter = -1;
    while (Date.now() - hungAt < HANG_MS) {
      const page = await get("/retained-runs?limit=50");
      times.push(page.ms);
      expect(page.status).toBe(200);
      const body = JSON.parse(page.body) as { runs: unknown[]; diagnostics: { kind: string }[] };
      expect(body.runs).toHaveLength(50);
      if (unresponsiveAfter < 0 && body.diagnostics.some((d) => d.kind === "runs-dir-unresponsive"))
        unresponsiveAfter = Date.now() - hungAt;
      expect((await get(`/retained-runs/${runId}`)).status).toBe(200);
      expect((await get("/retained-runs/latest")).status).toBe(200);
      expect((await get("/openapi.json")).status).toBe(200);
      const download = await get(`/retained-runs/${runId}/reports/junit`);
      expect(download.status).toBe(503);
      expect(download.ms).toBeLessThan(DEADLINE_MS + 1000);
      await sleep(100);
    }
    times.sort((a, b) => a - b);
    const p99 = times[Math.floor(times.length * 0.99)]!;
    expect(unresponsiveAfter).toBeGreaterThanOrEqual(0);
    expect(unresponsiveAfter).toBeLessThan(DEADLINE_MS + 2000);
    expect(stream.text()).toContain('"state":"unresponsive"');
    // (bounded generously for a shared machine; the benchmark holds the 50 ms target)
    expect(p99).toBeLessThan(500);

    await mount!.resume();
    const recovered = await until(
      "the reports to be read again",
      async () => (await get(`/retained-runs/${runId}/reports`)).status === 200,
      10_000,
    );
    await until("the diagnostic to clear", async () => (await list()).diagnostics.length === 0, 5000);
    expect(stream.text()).toContain('"state":"answering"');
    stream.stop();
    console.log(
      `[netfs] hang ${HANG_MS} ms: ${times.length} listings, p99 ${p99.toFixed(1)} ms; ` +
        `503 in ${needs.ms.toFixed(0)} ms (deadline ${DEADLINE_MS} ms); unresponsive shown after ${unresponsiveAfter} ms; ` +
        `recovered ${recovered} ms after resume`,
    );
    expect(recovered).toBeLessThan(5000);
  });

  it("shows runs another host adds or removes within seconds, with no file event", async () => {
    if (missing) return;
    const seen: number[] = [];
    for (let i = 0; i < 5; i++) {
      const runId = `2027-01-01T00-00-0${i}Z-other-host`;
      writeCurrentRun(source, runId, { startedAt: `2027-01-01T00:00:0${i}Z` });
      seen.push(await until(`run ${runId} to be listed`, async () => (await list()).runs[0]?.runId === runId, 10_000));
    }
    rmSync(join(source, "2027-01-01T00-00-04Z-other-host"), { recursive: true });
    const removed = await until(
      "the removed run to go",
      async () => (await list()).runs[0]?.runId === "2027-01-01T00-00-03Z-other-host",
      10_000,
    );
    console.log(`[netfs] another host's runs listed after ${seen.join(", ")} ms; a removal after ${removed} ms`);
    // dcache_timeout=1 plus one poll: about 2 s; 4.5 s allows for a loaded machine.
    for (const ms of [...seen, removed]) expect(ms).toBeLessThan(4500);
  });
});
