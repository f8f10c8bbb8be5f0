import { z } from "zod";
import { checkRef } from "./paths.ts";
import { runStatusSchema, testTotalsSchema, toEpochMs, type ParsedSummary } from "./summary.ts";

/** A manifest a run may lack: every legacy run lacks both. */
export const MANIFEST_KINDS = ["artifactManifest", "submissionManifest"] as const;
export type ManifestKind = (typeof MANIFEST_KINDS)[number];

/** Which schema generation a run's summary is, and what it lacks compared with the current one. */
export const compatibilitySchema = z.object({
  generation: z.enum(["legacy", "current", "newer"]),
  schemaVersion: z.number().int().nullable(),
  missing: z.array(z.enum(MANIFEST_KINDS)),
});
export type Compatibility = z.infer<typeof compatibilitySchema>;

/** A retained run as the library, the CLI's `--json` and the HTTP API return it. */
export const retainedRunSchema = z.object({
  runId: z.string(),
  status: runStatusSchema,
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  durationMs: z.number().nullable(),
  exitCode: z.number().int().nullable(),
  command: z.array(z.string()).nullable(),
  labels: z.record(z.string(), z.string()),
  reportCount: z.number().int(),
  /** Test totals from the summary (`guide-board run` writes them); `null` when it has none. */
  tests: testTotalsSchema.nullable(),
  runDir: z.string(),
  compatibility: compatibilitySchema,
});
export type RetainedRun = z.infer<typeof retainedRunSchema>;

/** What sorting and filtering need of a run: its sort key, status and labels. */
export interface RunKey {
  startedAtMs: number;
  run: Pick<RetainedRun, "runId" | "status" | "labels">;
}

/** A run plus its sort key, as the index keeps it. */
export interface RunEntry extends RunKey {
  run: RetainedRun;
}

const NO_LABELS: Record<string, string> = Object.freeze({}) as Record<string, string>;

/** Only the key of a parsed summary: what a stateless listing keeps of every run (little, so it stays near the I/O floor). */
export function toRunKey(parsed: ParsedSummary): RunKey {
  const { summary } = parsed;
  const labels = parsed.generation === "legacy" ? NO_LABELS : (parsed.summary.labels ?? NO_LABELS);
  return { startedAtMs: toEpochMs(summary.startedAt), run: { runId: summary.runId, status: summary.status, labels } };
}

/**
 * Builds the run object from a parsed summary. `runDir` is the run folder's real path; the only
 * file system access: `compatibility.missing` says which manifests the summary does not declare
 * (or declares with an unsafe path), so listing costs what reading the summaries costs. A declared
 * manifest whose file is absent shows when it is asked for (a `file-missing` marker).
 */
export function toRunEntry(runDir: string, parsed: ParsedSummary): RunEntry {
  const { summary } = parsed;
  const startedAtMs = toEpochMs(summary.startedAt);
  const finishedAt = summary.finishedAt ?? null;
  const finishedAtMs = finishedAt === null ? Number.NaN : toEpochMs(finishedAt);
  const legacy = parsed.generation === "legacy";
  const compatibility = legacy
    ? _compat("legacy", null, true, true)
    : _compat(
        parsed.generation,
        parsed.summary.schemaVersion,
        !_declared(parsed.summary.artifactManifest),
        !_declared(parsed.summary.submissionManifest),
      );
  return {
    startedAtMs,
    run: {
      runId: summary.runId,
      status: summary.status,
      startedAt: summary.startedAt,
      finishedAt,
      durationMs: Number.isNaN(finishedAtMs) ? null : Math.max(0, finishedAtMs - startedAtMs),
      exitCode: legacy ? null : (parsed.summary.exitCode ?? null),
      command: legacy ? null : (parsed.summary.command ?? null),
      labels: legacy ? {} : (parsed.summary.labels ?? {}),
      reportCount: summary.reports.length,
      tests: legacy ? null : (parsed.summary.tests ?? null),
      runDir,
      compatibility,
    },
  };
}

const DEFAULT_REFS = new Set(["assessment-package/artifact-manifest.json", "submission-manifest.json"]);

function _declared(ref: string | undefined): boolean {
  return ref !== undefined && (DEFAULT_REFS.has(ref) || checkRef(ref).safe);
}

// Compatibility objects are shared (frozen): there are only a handful of distinct ones, and a
// large index should not hold one per run (nor build a key per run to find its object).
const COMPAT_CACHE = new Map<string, Map<number | null, Compatibility[]>>();

function _compat(
  generation: Compatibility["generation"],
  schemaVersion: number | null,
  noArtifacts: boolean,
  noSubmission: boolean,
): Compatibility {
  let versions = COMPAT_CACHE.get(generation);
  if (!versions) {
    versions = new Map();
    COMPAT_CACHE.set(generation, versions);
  }
  let shapes = versions.get(schemaVersion);
  if (!shapes) {
    shapes = [];
    if (versions.size < 64) versions.set(schemaVersion, shapes);
  }
  const bits = (noArtifacts ? 1 : 0) + (noSubmission ? 2 : 0);
  const cached = shapes[bits];
  if (cached) return cached;
  const missing = MANIFEST_KINDS.filter((kind) => (kind === "artifactManifest" ? noArtifacts : noSubmission));
  const compatibility = Object.freeze({ generation, schemaVersion, missing: Object.freeze(missing) as ManifestKind[] });
  shapes[bits] = compatibility;
  return compatibility;
}
