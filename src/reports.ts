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
import { GuideBoardError } from "./errors.ts";
import type { SummaryStamp } from "./folder.ts";
import { LruCache } from "./test-results/cache.ts";

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

/** The reports of one run, or one page of them. */
export const reportListSchema = z.object({
  runId: z.string(),
  reports: z.array(reportSchema),
  /** Present when more reports follow: pass it as `cursor` for the next page. */
  nextCursor: z.string().optional(),
  compatibility: compatibilitySchema,
});
export type ReportList = z.infer<typeof reportListSchema>;

/** A page of a run's reports: at most `limit` of them, after the `cursor` of the previous page. */
export interface ReportPage {
  /** Reports per page (a whole number, at least 1); every report when not given. */
  limit?: number;
  /** The `nextCursor` of the previous page. */
  cursor?: string;
}

/**
 * The reports a run's summary names, each resolved inside the run folder: its id, media type,
 * size and whether it exists. Refs that fail the path rules, or whose real path leaves the run
 * folder through a link, come back with `unsafe: true` and are never read. Legacy string refs get
 * ids derived from their file names (`reports/junit.xml` → `junit.xml`; repeats get `-2`, `-3`).
 *
 * Without a `page` every report comes back (as before paging). With `page.limit`, at most that
 * many, in summary order, and a `nextCursor` when more follow: only the refs of the page are
 * resolved, and the run's list of refs is kept (by the summary's identity) for the next pages.
 * A malformed cursor throws `INVALID_CURSOR`. Pass `signal` in `options` to stop the work.
 *
 * @example
 * const { reports } = await reportPaths({ runsDir: "./runs" }, runId);
 * const html = reports.find((r) => r.mediaType.startsWith("text/html") && r.exists);
 * const first = await reportPaths({ runsDir: "./runs" }, runId, { limit: 100 });
 * if (first.nextCursor) await reportPaths({ runsDir: "./runs" }, runId, { limit: 100, cursor: first.nextCursor });
 */
export async function reportPaths(options: RunsOptions, runId: string, page: ReportPage = {}): Promise<ReportList> {
  const { limit, cursor } = _pageOf(page);
  const loaded = await loadRun(options, runId);
  const { entry, runDir } = loaded;
  const settings = runsOptionsOf(options);
  const signal = settings.signal;
  const storage = storageOf(runsDirOf(runDir), settings);
  const total = loaded.parsed.summary.reports.length;
  const start = cursor === undefined ? 0 : _decodeReportCursor(cursor, total);
  const end = Math.min(total, start + limit);
  const refs = await cachedReportRefs(loaded, signal, end);
  // Synchronously on a local disk for the library and CLI; through the storage layer otherwise,
  // each distinct path resolved once.
  const sync = await mayReadSync(runsDirOf(runDir), settings);
  const seen = new Map<string, Promise<Report>>();
  const slicer = createSlicer();
  const reports: Report[] = [];
  for (let i = start; i < end; i++) {
    signal?.throwIfAborted(); // (path rulings treat a failed file call as "nothing there")
    const ref = refs[i]!;
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
    if (slicer.due()) {
      await slicer.yield();
      signal?.throwIfAborted();
    }
  }
  const nextCursor = end < total ? _encodeReportCursor(end) : undefined;
  return { runId, reports, ...(nextCursor ? { nextCursor } : {}), compatibility: entry.run.compatibility };
}

// ---- Report refs cached by the summary's identity, and paged (issue 15) ----

/** Report refs kept at most: lists by count, and refs in all (a ref holds a few hundred bytes). */
const REF_CACHE = { lists: 256, refs: 600_000 } as const;
const refCache = new LruCache<RefList>(REF_CACHE.lists, REF_CACHE.refs);
const refIndexes = new WeakMap<IdentifiedRef[], Map<string, IdentifiedRef>>();

/** A summary's refs with their ids, worked out as far as pages have asked (an id depends only on earlier refs). */
interface RefList {
  raw: ParsedSummary["summary"]["reports"];
  refs: IdentifiedRef[];
  identify: ReturnType<typeof _identifier>;
}

/** Counts report-ref lists: `built` from a summary, `cached` answered from the cache. */
export const reportRefLists: { built: number; cached: number } = { built: 0, cached: 0 };

/**
 * {@link reportRefs} of a loaded run, the first `upTo` of them (all by default), worked out in
 * slices (a legacy summary can name 262,000 refs) and kept by the summary's identity (its inode,
 * size and mtime, from the fstat of its read), so later pages go on where earlier ones stopped.
 * The returned array may hold more than `upTo` refs (never fewer, unless the summary names fewer).
 */
export async function cachedReportRefs(
  loaded: { parsed: ParsedSummary; runDir: string; stamp: SummaryStamp | null },
  signal?: AbortSignal,
  upTo = Infinity,
): Promise<IdentifiedRef[]> {
  const { stamp } = loaded;
  const key = stamp === null ? null : `${loaded.runDir}\0${stamp.ino}:${stamp.size}:${stamp.mtimeMs}`;
  let list = key === null ? undefined : refCache.get(key);
  if (list) reportRefLists.cached++;
  else {
    reportRefLists.built++;
    list = { raw: loaded.parsed.summary.reports, refs: [], identify: _identifier() };
    if (key !== null) refCache.set(key, list, Math.max(1, list.raw.length));
  }
  const end = Math.min(upTo, list.raw.length);
  const slicer = createSlicer();
  // Each step reads and extends the shared list at once, so pages working on it together agree.
  while (list.refs.length < end) {
    list.refs.push(list.identify(list.raw[list.refs.length]!));
    if (slicer.due()) {
      await slicer.yield();
      signal?.throwIfAborted();
    }
  }
  return list.refs;
}

/** The ref with id `id` among `refs`, from an index built once per list (in slices). */
export async function findReportRef(refs: IdentifiedRef[], id: string): Promise<IdentifiedRef | undefined> {
  let index = refIndexes.get(refs);
  if (!index) {
    index = new Map();
    const slicer = createSlicer();
    for (const ref of refs) {
      index.set(ref.id, ref);
      if (slicer.due()) await slicer.yield();
    }
    refIndexes.set(refs, index);
  }
  return index.get(id);
}

function _pageOf(page: ReportPage): { limit: number; cursor: string | undefined } {
  let limit: unknown;
  let cursor: unknown;
  try {
    ({ limit, cursor } = page ?? {});
  } catch {
    throw new GuideBoardError("INVALID_OPTIONS", "Invalid options: they could not be read.");
  }
  if (limit !== undefined && !(Number.isSafeInteger(limit) && (limit as number) >= 1)) {
    throw new GuideBoardError("INVALID_OPTIONS", "Invalid option limit: expected a whole number of at least 1.");
  }
  if (cursor !== undefined && typeof cursor !== "string") {
    throw new GuideBoardError("INVALID_CURSOR", "Invalid cursor: pass the nextCursor of a previous page.");
  }
  return { limit: (limit as number | undefined) ?? Infinity, cursor: cursor as string | undefined };
}

/** The opaque cursor of a report page: the position of its first report. */
function _encodeReportCursor(offset: number): string {
  return Buffer.from(`r1:${offset}`, "utf8").toString("base64url");
}

function _decodeReportCursor(cursor: string, length: number): number {
  const match =
    cursor.length <= 64 && /^[A-Za-z0-9_-]+$/.test(cursor)
      ? /^r1:(0|[1-9]\d{0,8})$/.exec(Buffer.from(cursor, "base64url").toString("utf8"))
      : null;
  const offset = match ? Number(match[1]) : -1;
  if (offset < 0 || offset > length || _encodeReportCursor(offset) !== cursor) {
    throw new GuideBoardError("INVALID_CURSOR", "Invalid cursor: pass the nextCursor of a previous page.");
  }
  return offset;
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
  return parsed.summary.reports.map(_identifier());
}

/** Gives each ref, in summary order, its unique id. */
function _identifier(): (raw: ParsedSummary["summary"]["reports"][number]) => IdentifiedRef {
  const taken = new Set<string>();
  const next = new Map<string, number>();
  return (raw) => {
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
  };
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
