import { statSync } from "node:fs";
import { z } from "zod";
import { mediaTypeOf } from "./media-type.ts";
import { resolveInRun, UNSAFE_REASONS } from "./paths.ts";
import { compatibilitySchema } from "./run.ts";
import { _loadRun, type RunsOptions } from "./runs.ts";
import type { ParsedSummary } from "./summary.ts";

/** One report of a run. Unsafe refs carry `unsafe: true` and a reason, and never an `absolutePath`. */
export const reportSchema = z.object({
  id: z.string(),
  path: z.string(),
  title: z.string().nullable(),
  mediaType: z.string(),
  size: z.number().int().nullable(),
  exists: z.boolean(),
  absolutePath: z.string().optional(),
  unsafe: z.literal(true).optional(),
  reason: z.enum(UNSAFE_REASONS).optional(),
});
export type Report = z.infer<typeof reportSchema>;

/** The reports of one run. */
export const reportListSchema = z.object({
  runId: z.string(),
  reports: z.array(reportSchema),
  compatibility: compatibilitySchema,
});
export type ReportList = z.infer<typeof reportListSchema>;

/**
 * The reports a run's summary names, each resolved inside the run folder: its id, media type,
 * size and whether it exists. Refs that fail the path rules, or whose real path leaves the run
 * folder through a link, come back with `unsafe: true` and are never read. Legacy string refs get
 * ids derived from their file names (`reports/junit.xml` → `junit.xml`; repeats get `-2`, `-3`).
 *
 * @example
 * const { reports } = await reportPaths({ runsDir: "./runs" }, runId);
 * const html = reports.find((r) => r.mediaType.startsWith("text/html") && r.exists);
 */
export async function reportPaths(options: RunsOptions, runId: string): Promise<ReportList> {
  return _reportsOf(_loadRun(options, runId));
}

/** The report list of a loaded run. */
export function _reportsOf({ entry, parsed, runDir }: ReturnType<typeof _loadRun>): ReportList {
  const runId = entry.run.runId;
  const taken = new Set<string>();
  const reports = _refsOf(parsed).map((ref): Report => {
    const id = _uniqueId(ref.id ?? _idFromPath(ref.path), taken);
    const resolved = resolveInRun(runDir, ref.path);
    const title = ref.title ?? null;
    if (!resolved.safe) {
      const mediaType = ref.mediaType ?? mediaTypeOf(resolved.path);
      return { id, path: resolved.path, title, mediaType, size: null, exists: false, unsafe: true, reason: resolved.reason };
    }
    const stat = resolved.realPath === null ? null : _stat(resolved.realPath);
    const exists = stat?.isFile() ?? false;
    return {
      id,
      path: resolved.path,
      title,
      mediaType: ref.mediaType ?? mediaTypeOf(resolved.path),
      size: exists ? stat!.size : null,
      exists,
      absolutePath: resolved.absolutePath,
    };
  });
  return { runId, reports, compatibility: entry.run.compatibility };
}

/** Report refs of any generation in one shape. */
function _refsOf(parsed: ParsedSummary): { id?: string; path: string; mediaType?: string; title?: string }[] {
  return parsed.summary.reports.map((ref) => (typeof ref === "string" ? { path: ref } : ref));
}

/** A report id from a file name, within the id rule: `reports/JUnit Results.xml` → `JUnit-Results.xml`. */
export function _idFromPath(path: string): string {
  const name = path.slice(Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\")) + 1);
  const cleaned = name.replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^[^A-Za-z0-9]+/, "").slice(0, 120);
  return cleaned === "" ? "report" : cleaned;
}

function _uniqueId(id: string, taken: Set<string>): string {
  let candidate = id;
  for (let n = 2; taken.has(candidate); n++) candidate = `${id}-${n}`;
  taken.add(candidate);
  return candidate;
}

function _stat(path: string) {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}
