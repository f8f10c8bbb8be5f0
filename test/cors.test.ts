import { describe, expect, it } from "vitest";
import { createGuideBoardApp } from "../adapters/h3.ts";
import type { JobsProvider } from "../adapters/jobs.ts";
import { makeRunsDir, writeCurrentRun } from "./helpers/runs.ts";

const jobs: JobsProvider = {
  guides: () => ["unit"],
  start: (guide) =>
    guide === "unit"
      ? {
          jobId: "j1",
          guide,
          state: "queued",
          runId: "r",
          createdAt: "",
          startedAt: null,
          finishedAt: null,
          exitCode: null,
          retainedRun: null,
        }
      : undefined,
  list: () => ({ jobs: [] }),
  get: () => undefined,
  cancel: () => undefined,
};

function app(corsOrigins?: string[]) {
  const { runsDir } = makeRunsDir();
  writeCurrentRun(runsDir, "r1");
  return createGuideBoardApp({ runsDir, corsOrigins, jobs });
}

describe("CORS", () => {
  it("is off by default: no CORS headers, preflights are refused, cross-origin writes are 403", async () => {
    const api = app();
    const read = await api.request("/retained-runs", { headers: { origin: "https://dash.example.com" } });
    expect(read.status).toBe(200);
    expect(read.headers.get("access-control-allow-origin")).toBeNull();
    const preflight = await api.request("/runs", {
      method: "OPTIONS",
      headers: { origin: "https://dash.example.com", "access-control-request-method": "POST" },
    });
    expect(preflight.status).toBe(405);
    const write = await api.request("/runs", {
      method: "POST",
      headers: { origin: "https://dash.example.com", "content-type": "application/json" },
      body: '{"guide":"unit"}',
    });
    expect(write.status).toBe(403);
  });

  it("answers listed origins only, exactly, and never allows credentials", async () => {
    const api = app(["https://dash.example.com"]);
    const ok = await api.request("/retained-runs/r1", { headers: { origin: "https://dash.example.com" } });
    expect(ok.headers.get("access-control-allow-origin")).toBe("https://dash.example.com");
    expect(ok.headers.get("vary")).toBe("Origin");
    expect(ok.headers.get("access-control-allow-credentials")).toBeNull();
    for (const origin of [
      "https://evil.example.com",
      "https://dash.example.com.evil.com",
      "http://dash.example.com",
      "null",
    ]) {
      const other = await api.request("/retained-runs/r1", { headers: { origin } });
      expect(other.headers.get("access-control-allow-origin"), origin).toBeNull();
    }
    const preflight = await api.request("/runs", {
      method: "OPTIONS",
      headers: { origin: "https://dash.example.com", "access-control-request-method": "POST" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-methods")).toBe("GET, HEAD, POST");
    expect(preflight.headers.get("access-control-allow-headers")).toContain("authorization");
    const write = await api.request("/runs", {
      method: "POST",
      headers: { origin: "https://dash.example.com", "content-type": "application/json" },
      body: '{"guide":"unit"}',
    });
    expect(write.status).toBe(202);
    const denied = await api.request("/runs", {
      method: "POST",
      headers: { origin: "https://evil.example.com", "content-type": "application/json" },
      body: '{"guide":"unit"}',
    });
    expect(denied.status).toBe(403);
  });
});
