import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fastCurrent, fastLegacy } from "../src/_fast-summary.ts";
import { isTimestamp, timestampRule } from "../src/format.ts";
import { currentSummarySchema, legacySummarySchema, toEpochMs } from "../src/summary.ts";

// The fast paths skip zod for the common shapes; they must never accept what zod rejects.

const timestamp = fc
  .date({ min: new Date("1970-01-01T00:00:00Z"), max: new Date("2999-12-31T23:59:59Z"), noInvalidDate: true })
  .chain((date) =>
    fc.constantFrom(
      date.toISOString(),
      date.toISOString().replace(/\.\d{3}Z$/, "Z"),
      "2026-02-30T00:00:00Z",
      "2026-01-01T00:00:00",
      "x",
    ),
  );
const anyValue = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.constant(null),
  fc.boolean(),
  fc.array(fc.string(), { maxLength: 2 }),
  fc.dictionary(fc.string(), fc.string(), { maxKeys: 2 }),
);
const status = fc.oneof(fc.constantFrom("passed", "failed", "errored", "cancelled"), fc.string());
const reportRef = fc.record(
  {
    id: fc.oneof(fc.string({ maxLength: 300 }), anyValue),
    path: fc.oneof(fc.string(), anyValue),
    mediaType: fc.oneof(fc.string({ maxLength: 300 }), anyValue),
    title: fc.string(),
  },
  { requiredKeys: ["id", "path"] },
);
const current = fc.record(
  {
    schemaVersion: fc.constant(2),
    runId: fc.oneof(fc.string(), anyValue),
    status,
    startedAt: fc.oneof(timestamp, anyValue),
    finishedAt: fc.oneof(timestamp, fc.constant(null), anyValue),
    exitCode: fc.oneof(fc.integer(), fc.constant(null), fc.double(), anyValue),
    command: fc.oneof(fc.array(fc.string(), { maxLength: 3 }), anyValue),
    labels: fc.oneof(fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }), anyValue),
    reports: fc.oneof(fc.array(reportRef, { maxLength: 3 }), anyValue),
    artifactManifest: fc.oneof(fc.string(), anyValue),
    submissionManifest: fc.oneof(fc.string(), anyValue),
  },
  { requiredKeys: ["schemaVersion"] },
);
const legacy = fc.record(
  {
    runId: fc.oneof(fc.string(), anyValue),
    status,
    startedAt: fc.oneof(timestamp, anyValue),
    finishedAt: fc.oneof(timestamp, fc.constant(null), anyValue),
    reports: fc.oneof(fc.array(fc.string(), { maxLength: 3 }), anyValue),
  },
  { requiredKeys: [] },
);

describe("fast summary paths", () => {
  it("accept a current summary only when zod accepts it, and mean the same", () => {
    fc.assert(
      fc.property(current, (data) => {
        const fast = fastCurrent(data as Record<string, unknown>);
        if (fast === null) return;
        const zod = currentSummarySchema.safeParse(data);
        expect(zod.success).toBe(true);
        expect(zod.data).toEqual(fast);
      }),
      { numRuns: 2000 },
    );
  });

  it("accept a legacy summary only when zod accepts it, and mean the same", () => {
    fc.assert(
      fc.property(legacy, (data) => {
        const fast = fastLegacy(data as Record<string, unknown>);
        if (fast === null) return;
        const zod = legacySummarySchema.safeParse(data);
        expect(zod.success).toBe(true);
        expect(zod.data).toEqual(fast);
      }),
      { numRuns: 2000 },
    );
  });

  it("read common UTC timestamps exactly as Date.parse does", () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date("0001-01-01T00:00:00Z"), max: new Date("9999-12-31T23:59:59Z"), noInvalidDate: true }),
        (date) => {
          const iso = date.toISOString();
          if (iso.length !== 24) return; // extended years (+/-YYYYYY) take the general path
          expect(toEpochMs(iso)).toBe(Date.parse(iso));
          const seconds = iso.replace(/\.\d{3}Z$/, "Z");
          expect(toEpochMs(seconds)).toBe(Date.parse(seconds));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("test a timestamp exactly as the timestamp rule does", () => {
    const near = fc.oneof(
      timestamp,
      timestamp.map((t) => t.replace("Z", "+02:00")),
      timestamp.map((t) => t.replace("Z", "-0200")),
      timestamp.map((t) => t.slice(0, 16)),
      timestamp.map((t) => `${t}\n`),
      timestamp.map((t) => t.toLowerCase()),
      fc.string(),
    );
    fc.assert(
      fc.property(near, (text) => {
        expect(isTimestamp(text)).toBe(timestampRule.safeParse(text).success);
      }),
      { numRuns: 3000 },
    );
    for (const value of [null, 1, {}, ["2026-01-01T00:00:00Z"]]) expect(isTimestamp(value)).toBe(false);
  });
});
