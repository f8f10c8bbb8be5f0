import { z } from "zod";
import { mediaTypeOf } from "./media-type.ts";
import { createSlicer } from "./_slices.ts";
import {
  regularFileSize,
  regularFileSizeAsync,
  resolveInRun,
  resolveInRunAsync,
  UNSAFE_REASONS,
  type ResolvedRef,
} from "./paths.ts";
import { compatibilitySchema } from "./run.ts";
import { loadRun, runsOptionsOf, type RunsOptions } from "./runs.ts";
import { mayReadSync } from "./scan.ts";
import { runsDirOf, storageOf, type Storage } from "./storage.ts";
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
  const { entry, parsed, runDir } = await loadRun(options, runId);
  const settings = runsOptionsOf(options);
  const storage = storageOf(runsDirOf(runDir), settings);
  // Synchronously on a local disk for the library and CLI; through the storage layer otherwise,
  // each distinct path resolved once.
  const sync = await mayReadSync(runsDirOf(runDir), settings);
  const seen = new Map<string, Promise<Report>>();
  const slicer = createSlicer();
  const reports: Report[] = [];
  for (const ref of reportRefs(parsed)) {
    if (sync) reports.push(resolveReport(runDir, ref));
    else {
      let resolved = seen.get(ref.path);
      if (!resolved) {
        resolved = resolveReportAsync(runDir, { ...ref, id: "", title: undefined, mediaType: undefined }, storage);
        seen.set(ref.path, resolved);
      }
      const base = await resolved;
      reports.push({
        ...base,
        id: ref.id,
        title: ref.title ?? null,
        mediaType: ref.mediaType ?? base.mediaType,
      });
    }
    if (slicer.due()) await slicer.yield();
  }
  return { runId, reports, compatibility: entry.run.compatibility };
}

/** A report ref of any generation, with its final (unique) id. */
export interface IdentifiedRef {
  id: string;
  path: string;
  mediaType?: string;
  title?: string;
  format?: "junit" | "ctrf";
}

/**
 * Report refs of any generation in one shape, with unique ids: repeats of an id get `-2`, `-3`,
 * … in summary order. Linear in the number of refs, whatever they repeat.
 */
export function reportRefs(parsed: ParsedSummary): IdentifiedRef[] {
  const taken = new Set<string>();
  const next = new Map<string, number>();
  return parsed.summary.reports.map((raw) => {
    const ref: IdentifiedRef | { id?: string; path: string } = typeof raw === "string" ? { path: raw } : raw;
    const base = ref.id ?? idFromPath(ref.path);
    let id = base;
    if (taken.has(id)) {
      let n = next.get(base) ?? 2;
      while (taken.has(`${base}-${n}`)) n++;
      id = `${base}-${n}`;
      next.set(base, n + 1);
    }
    taken.add(id);
    const { mediaType, title, format } = ref as Partial<IdentifiedRef>;
    return { id, path: ref.path, mediaType, title, ...(format ? { format } : {}) };
  });
}

/** Resolves one report ref inside its run folder (real paths checked). */
export function resolveReport(runDir: string, ref: IdentifiedRef): Report {
  const resolved = resolveInRun(runDir, ref.path);
  return _report(
    ref,
    resolved,
    resolved.safe && resolved.realPath !== null ? regularFileSize(resolved.realPath) : null,
  );
}

/** {@link resolveReport} through the storage layer. */
export async function resolveReportAsync(runDir: string, ref: IdentifiedRef, storage: Storage): Promise<Report> {
  const resolved = await resolveInRunAsync(runDir, ref.path, storage);
  const size =
    resolved.safe && resolved.realPath !== null ? await regularFileSizeAsync(resolved.realPath, storage) : null;
  return _report(ref, resolved, size);
}

function _report(ref: IdentifiedRef, resolved: ResolvedRef, size: number | null): Report {
  const title = ref.title ?? null;
  const mediaType = ref.mediaType ?? mediaTypeOf(resolved.path);
  if (!resolved.safe) {
    return {
      id: ref.id,
      path: resolved.path,
      title,
      mediaType,
      size: null,
      exists: false,
      unsafe: true,
      reason: resolved.reason,
    };
  }
  return {
    id: ref.id,
    path: resolved.path,
    title,
    mediaType,
    size,
    exists: size !== null,
    absolutePath: resolved.absolutePath,
  };
}

/** A report id from a file name, within the id rule: `reports/JUnit Results.xml` → `JUnit-Results.xml`. */
export function idFromPath(path: string): string {
  const name = path.slice(Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\")) + 1);
  const cleaned = name
    .replace(/[^A-Za-z0-9._-]+/g, "-")
    .replace(/^[^A-Za-z0-9]+/, "")
    .slice(0, 120);
  return cleaned === "" ? "report" : cleaned;
}
