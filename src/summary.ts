import { z } from "zod";
import { fastCurrent, fastLegacy } from "./_fast-summary.ts";
import { RUN_STATUSES, timestampRule } from "./format.ts";

// The format's constants live in src/format.ts; re-exported from their old home.
export { RUN_STATUSES, SUMMARY_FILE, toEpochMs } from "./format.ts";

/** A run's terminal state. */
export const runStatusSchema = z.enum(RUN_STATUSES);
export type RunStatus = z.infer<typeof runStatusSchema>;

/** ISO 8601 date-time; without a zone it is read as UTC. */
export const timestampSchema: typeof timestampRule = timestampRule;

/** Test totals of a run: how many tests in all, per status, and their summed duration. */
export const testTotalsSchema = z.object({
  tests: z.number().int().min(0),
  passed: z.number().int().min(0),
  failed: z.number().int().min(0),
  errored: z.number().int().min(0),
  skipped: z.number().int().min(0),
  flaky: z.number().int().min(0),
  durationMs: z.number().min(0),
});
export type TestTotals = z.infer<typeof testTotalsSchema>;

/** A report ref in a current (schema version 2) summary. */
export const reportRefSchema = z.looseObject({
  id: z.string().min(1).max(256),
  path: z.string(),
  mediaType: z.string().max(256).optional(),
  title: z.string().max(1024).optional(),
  /** What the report holds, when it is a test report: JUnit XML or CTRF JSON (sniffed when absent). */
  format: z.enum(["junit", "ctrf"]).optional().catch(undefined),
});
export type ReportRef = z.infer<typeof reportRefSchema>;

/** A log ref in a summary (`logs: [{ id: "stdout", path: "logs/stdout.log" }]`); see docs/run-layout.md. */
export const logRefSchema = z.looseObject({ id: z.string().min(1).max(256), path: z.string() });
export type LogRef = z.infer<typeof logRefSchema>;

// Optional and lenient: a malformed entry reads as `null`, a malformed field as absent; never the run.
const logsField = z.array(logRefSchema.nullable().catch(null)).optional().catch(undefined);

const commonFields = {
  runId: z.string(),
  status: runStatusSchema,
  startedAt: timestampSchema,
  finishedAt: timestampSchema.nullish(),
};

/** Legacy summary: no `schemaVersion`, reports are plain relative paths. */
export const legacySummarySchema = z.looseObject({
  ...commonFields,
  reports: z.array(z.string()).default([]),
});
export type LegacySummary = z.infer<typeof legacySummarySchema>;

/** Current summary, written by `guide-board run`. */
export const currentSummarySchema = z.looseObject({
  schemaVersion: z.literal(2),
  ...commonFields,
  exitCode: z.number().int().nullable(),
  command: z.array(z.string()),
  labels: z.record(z.string(), z.string()),
  reports: z.array(reportRefSchema),
  artifactManifest: z.string().optional(),
  submissionManifest: z.string().optional(),
  logs: logsField,
  /** Test totals `guide-board run` computed from the run's test reports; absent when it had none. */
  tests: testTotalsSchema.optional().catch(undefined),
});
export type CurrentSummary = z.infer<typeof currentSummarySchema>;

/**
 * A summary from a newer writer: the common fields must parse, everything else is taken when it
 * has the current shape and dropped otherwise.
 */
export const newerSummarySchema = z.looseObject({
  schemaVersion: z.number().int().min(3),
  ...commonFields,
  exitCode: z.number().int().nullable().optional().catch(undefined),
  command: z.array(z.string()).optional().catch(undefined),
  labels: z.record(z.string(), z.string()).optional().catch(undefined),
  reports: z
    .union([z.array(reportRefSchema), z.array(z.string())])
    .catch([])
    .default([]),
  artifactManifest: z.string().optional().catch(undefined),
  submissionManifest: z.string().optional().catch(undefined),
  logs: logsField,
  tests: testTotalsSchema.optional().catch(undefined),
});
export type NewerSummary = z.infer<typeof newerSummarySchema>;

/** The schema generation a summary belongs to. */
export type SummaryGeneration = "legacy" | "current" | "newer";

/** A parsed summary of any generation, tagged with its generation. */
export type ParsedSummary =
  | { generation: "legacy"; summary: LegacySummary }
  | { generation: "current"; summary: CurrentSummary }
  | { generation: "newer"; summary: NewerSummary };

/** Why a summary could not be read; the message is short and safe to show. */
export type SummaryProblem = { kind: "corrupt-summary" | "schema-invalid"; message: string };

/**
 * Parses the text of a `retention-summary.json` of any generation. Never throws: a problem comes
 * back as `{ problem }`.
 */
export function parseSummary(text: string): ParsedSummary | { problem: SummaryProblem } {
  let data: unknown;
  try {
    data = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch {
    return { problem: { kind: "corrupt-summary", message: "Summary is not valid JSON." } };
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    return { problem: { kind: "schema-invalid", message: "Summary is not a JSON object." } };
  }
  const record = data as Record<string, unknown>;
  const version = record.schemaVersion;
  if (version === undefined) {
    const fast = fastLegacy(record);
    return fast ? { generation: "legacy", summary: fast } : _tag("legacy", legacySummarySchema.safeParse(data));
  }
  if (version === 2) {
    const fast = fastCurrent(record);
    return fast ? { generation: "current", summary: fast } : _tag("current", currentSummarySchema.safeParse(data));
  }
  if (typeof version === "number" && Number.isInteger(version) && version > 2) {
    return _tag("newer", newerSummarySchema.safeParse(data));
  }
  return {
    problem: { kind: "schema-invalid", message: "Unsupported schemaVersion (expected none, 2 or higher)." },
  };
}

/** One short line naming the first field that failed, never a raw validator dump. */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "Invalid value.";
  // Keys can come from hostile files: show only plain names and indexes.
  const where =
    issue.path.length > 0
      ? issue.path.map((key) => (/^[\w-]{1,64}$/.test(String(key)) ? String(key) : "*")).join(".")
      : "value";
  return `${where}: ${issue.message}`;
}

function _tag<G extends SummaryGeneration, T>(
  generation: G,
  result: z.ZodSafeParseResult<T>,
): { generation: G; summary: T } | { problem: SummaryProblem } {
  if (result.success) return { generation, summary: result.data };
  return { problem: { kind: "schema-invalid", message: `Summary field ${describeIssue(result.error)}` } };
}
