import type { Stats } from "node:fs";
import { z } from "zod";
import { GuideBoardError } from "./errors.ts";
import { mediaTypeOf } from "./media-type.ts";
import {
  checkRef,
  openInRun,
  readInRun,
  regularFileSize,
  regularFileSizeAsync,
  resolveInRun,
  resolveInRunAsync,
  runGoneAsync,
  UNSAFE_REASONS,
  unsafePathError,
  type ContainedFile,
  type ResolvedRef,
} from "./paths.ts";
import { mayReadSync } from "./scan.ts";
import { runsDirOf, storageOf, type Storage } from "./storage.ts";
import { createSlicer } from "./_slices.ts";
import { compatibilitySchema, type Compatibility } from "./run.ts";
import { loadRun, runsOptionsOf, type RunsOptions } from "./runs.ts";
import { describeIssue } from "./summary.ts";
import { parseJsonObject } from "./_json-worker.ts";
import { LruCache } from "./test-results/cache.ts";

/** Where `guide-board run` puts the artifact manifest, relative to the run folder. */
export const ARTIFACT_MANIFEST_FILE = "assessment-package/artifact-manifest.json";

/** Largest manifests read, in bytes: about 100,000 artifact entries, and a generous submission record. */
const MAX_MANIFEST_BYTES = { artifact: 16 * 1024 * 1024, submission: 1024 * 1024 } as const;

/** `assessment-package/artifact-manifest.json` as written on disk. */
export const artifactManifestFileSchema = z.looseObject({
  schemaVersion: z.literal(1),
  artifacts: z.array(
    z.looseObject({
      path: z.string(),
      size: z.number().int().min(0),
      sha256: z.string().regex(/^[a-f0-9]{64}$/, "expected 64 lowercase hex digits"),
      mediaType: z.string().max(256).optional(),
    }),
  ),
});

/** One artifact, resolved inside the run folder; unsafe entries have no `absolutePath`. */
export const artifactSchema = z.object({
  path: z.string(),
  size: z.number().int(),
  sha256: z.string(),
  mediaType: z.string(),
  exists: z.boolean(),
  absolutePath: z.string().optional(),
  unsafe: z.literal(true).optional(),
  reason: z.enum(UNSAFE_REASONS).optional(),
});
export type Artifact = z.infer<typeof artifactSchema>;

/** A run's artifact manifest, validated, with each entry resolved. */
export const artifactManifestSchema = z.object({
  runId: z.string(),
  available: z.literal(true),
  schemaVersion: z.literal(1),
  path: z.string(),
  artifacts: z.array(artifactSchema),
  compatibility: compatibilitySchema,
});
export type ArtifactManifest = z.infer<typeof artifactManifestSchema>;

/** Why a run has no manifest of some kind. */
export const MARKER_REASONS = ["legacy-run", "not-declared", "file-missing"] as const;

/** Returned instead of a manifest for runs that have none: says so, and why, in words. */
export const compatibilityMarkerSchema = z.object({
  runId: z.string(),
  available: z.literal(false),
  reason: z.enum(MARKER_REASONS),
  message: z.string(),
  compatibility: compatibilitySchema,
});
export type CompatibilityMarker = z.infer<typeof compatibilityMarkerSchema>;

/** A run's submission manifest, surfaced as it is on disk. */
export const submissionManifestSchema = z.object({
  runId: z.string(),
  available: z.literal(true),
  path: z.string(),
  manifest: z.looseObject({ schemaVersion: z.unknown() }),
  compatibility: compatibilitySchema,
});
export type SubmissionManifest = z.infer<typeof submissionManifestSchema>;

/**
 * A run's artifact manifest with every entry's path resolved inside the run folder (real paths
 * checked; a link out makes the entry `unsafe`). A run without one — every legacy run, or a
 * current run whose manifest file is missing — gets a {@link CompatibilityMarker}, not an error.
 * A manifest that exists but does not parse throws `MANIFEST_INVALID`; an unsafe manifest path
 * throws `UNSAFE_PATH`.
 *
 * @example
 * const manifest = await artifactManifest({ runsDir: "./runs" }, runId);
 * if (manifest.available) for (const a of manifest.artifacts) console.log(a.path, a.size, a.sha256);
 * else console.log(manifest.message);
 */
export async function artifactManifest(
  options: RunsOptions,
  runId: string,
): Promise<ArtifactManifest | CompatibilityMarker> {
  const loaded = await readArtifactManifest(options, runId);
  if ("marker" in loaded) return loaded.marker;
  const { runDir, ref, compatibility, entries } = loaded;
  const settings = runsOptionsOf(options);
  const storage = storageOf(runsDirOf(runDir), settings);
  // Synchronously on a local disk for the library and CLI; through the storage layer otherwise.
  const sync = await mayReadSync(runsDirOf(runDir), settings);
  const slicer = createSlicer();
  const artifacts: Artifact[] = [];
  for (const entry of entries) {
    // (path rulings treat a failed file call as "nothing there": the signal is checked here too)
    settings.signal?.throwIfAborted();
    artifacts.push(
      sync ? resolveArtifact(runDir, ref, entry) : await resolveArtifactAsync(runDir, ref, entry, storage),
    );
    if (slicer.due()) await slicer.yield();
  }
  return { runId, available: true, schemaVersion: 1, path: ref, artifacts, compatibility };
}

/**
 * A run's submission manifest (a free-form JSON object with a `schemaVersion`), as it is; a
 * {@link CompatibilityMarker} when the run has none.
 *
 * @example
 * const submission = await submissionManifest({ runsDir: "./runs" }, runId);
 * if (submission.available) console.log(submission.manifest);
 */
export async function submissionManifest(
  options: RunsOptions,
  runId: string,
): Promise<SubmissionManifest | CompatibilityMarker> {
  const loaded = await _loadManifest(options, runId, "submissionManifest");
  if ("marker" in loaded) return loaded.marker;
  const { runDir, ref, compatibility } = loaded;
  const data = await _readJson(runDir, ref, "submission", options);
  const valid = z.looseObject({ schemaVersion: z.unknown().refine((v) => v !== undefined) }).safeParse(data);
  if (!valid.success) throw _invalid("submission", "expected a JSON object with a schemaVersion");
  try {
    JSON.stringify(valid.data); // it is surfaced as it is: it must serialize (not nested too deeply)
  } catch {
    throw _invalid("submission", "nested too deeply");
  }
  return { runId, available: true, path: ref, manifest: valid.data, compatibility };
}

type ManifestEntry = z.infer<typeof artifactManifestFileSchema>["artifacts"][number];

/** Reads and validates a run's artifact manifest file, without resolving its entries. */
export async function readArtifactManifest(
  options: RunsOptions,
  runId: string,
): Promise<
  | { marker: CompatibilityMarker }
  | { runDir: string; ref: string; compatibility: Compatibility; entries: ManifestEntry[] }
> {
  const loaded = await _loadManifest(options, runId, "artifactManifest");
  if ("marker" in loaded) return loaded;
  return { ...loaded, entries: await _cachedEntries(loaded.runDir, loaded.ref, options, loaded.file) };
}

// ---- Parsed manifests, cached by file identity (issue 15) ----

/** Parsed artifact manifests kept at most: by count, and by the bytes of their files. */
const MANIFEST_CACHE = { entries: 256, bytes: 64 * 1024 * 1024 } as const;
const manifestCache = new LruCache<ManifestEntry[]>(MANIFEST_CACHE.entries, MANIFEST_CACHE.bytes);
const manifestParses = new Map<string, Promise<ManifestEntry[]>>();
const entryIndexes = new WeakMap<ManifestEntry[], Promise<Map<string, ManifestEntry>>>();

/** Counts manifest reads: `parsed` read and validated a file, `cached` was answered from the cache. */
export const manifestReads: { parsed: number; cached: number } = { parsed: 0, cached: 0 };

/** What identifies one version of a file: a rewrite changes at least one of these. */
function _identity(stat: Stats): string {
  return `${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeMs}:${stat.ctimeMs}`;
}

/**
 * The validated entries of an opened manifest: from the cache when the file (device, inode,
 * size, mtime and ctime of the opened handle) is the one parsed before; else read, parsed off
 * the event loop when large, validated in chunks, and cached. Closes the file.
 */
async function _cachedEntries(
  runDir: string,
  ref: string,
  options: RunsOptions,
  file: ContainedFile,
): Promise<ManifestEntry[]> {
  const settings = runsOptionsOf(options);
  const storage = storageOf(runsDirOf(runDir), settings);
  const key = `${runDir}\0${ref}\0${_identity(file.stat)}`;
  let bytes: Buffer;
  try {
    const hit = manifestCache.get(key);
    if (hit) {
      manifestReads.cached++;
      return hit;
    }
    const max = MAX_MANIFEST_BYTES.artifact;
    if (file.stat.size > max) throw _invalid("artifact", `${file.stat.size} bytes is over the ${max}-byte limit`);
    bytes = Buffer.allocUnsafeSlow(file.stat.size); // its own memory: moved to the parser, not copied
    let length = 0;
    while (length < bytes.length) {
      const at = length;
      const { bytesRead } = await storage.call("read", () => file.handle.read(bytes, at, bytes.length - at, at));
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    bytes = bytes.subarray(0, length);
  } finally {
    storage.close(file.handle);
  }
  // Requests for one manifest that miss together share one parse.
  let parse = manifestParses.get(key);
  if (!parse) {
    const weight = Math.max(1, bytes.length); // (the bytes move to the parser: measured first)
    parse = _parseEntries(bytes, settings.signal).finally(() => manifestParses.delete(key));
    manifestParses.set(key, parse);
    const entries = await parse;
    manifestCache.set(key, entries, weight);
    return entries;
  }
  // (a parse stopped by its own client's abort is done again for this one)
  return parse.catch((error: unknown) => {
    if (settings.signal?.aborted || (error as Error | null)?.name !== "AbortError") throw error;
    return _parseEntries(bytes, settings.signal);
  });
}

async function _parseEntries(bytes: Buffer, signal: AbortSignal | undefined): Promise<ManifestEntry[]> {
  manifestReads.parsed++;
  const itemSchema = artifactManifestFileSchema.shape.artifacts.element;
  const parsed = await parseJsonObject(
    bytes,
    { headKeys: ["schemaVersion"], arrayKey: "artifacts", itemKeys: ["path", "size", "sha256", "mediaType"] },
    (items, offset) => {
      for (let i = 0; i < items.length; i++) {
        const valid = itemSchema.safeParse(items[i]);
        if (!valid.success) {
          const issues = valid.error.issues.map((issue) => ({
            ...issue,
            path: ["artifacts", offset + i, ...issue.path],
          }));
          throw _invalid("artifact", describeIssue(new z.ZodError(issues)));
        }
      }
    },
    signal,
  );
  if (parsed === null) throw _invalid("artifact", "not valid JSON");
  if (parsed.head === null) throw _invalid("artifact", "expected a JSON object");
  const head = artifactManifestFileSchema.safeParse({
    ...parsed.head,
    artifacts: parsed.items === null ? parsed.head.artifacts : [],
  });
  if (!head.success) throw _invalid("artifact", describeIssue(head.error));
  return parsed.items as ManifestEntry[];
}

/**
 * The manifest entry listed under `path` (already checked by `checkRef`): looked up in an index
 * built once per parsed manifest, in slices, so a download from a 100,000-entry manifest does not
 * scan it.
 */
export async function findArtifactEntry(entries: ManifestEntry[], path: string): Promise<ManifestEntry | undefined> {
  // One build per manifest, shared by the downloads that wait for it: concurrent builders would
  // each take a slice of every turn of the event loop.
  let index = entryIndexes.get(entries);
  if (!index) {
    index = _indexEntries(entries);
    entryIndexes.set(entries, index);
  }
  return (await index).get(path);
}

async function _indexEntries(entries: ManifestEntry[]): Promise<Map<string, ManifestEntry>> {
  const index = new Map<string, ManifestEntry>();
  const slicer = createSlicer();
  for (const entry of entries) {
    const check = checkRef(entry.path);
    if (check.safe && !index.has(check.path)) index.set(check.path, entry);
    if (slicer.due()) await slicer.yield();
  }
  return index;
}

/** Resolves one manifest entry inside the run folder; `manifestRef` is the manifest's own path. */
export function resolveArtifact(runDir: string, manifestRef: string, entry: ManifestEntry): Artifact {
  const check = checkRef(entry.path);
  if (!check.safe) return _artifact(entry, check, null, false);
  const resolved = resolveInRun(runDir, artifactRef(manifestRef, check.path));
  const exists = resolved.safe && resolved.realPath !== null && regularFileSize(resolved.realPath) !== null;
  return _artifact(entry, check, resolved, exists);
}

/** {@link resolveArtifact} through the storage layer. */
export async function resolveArtifactAsync(
  runDir: string,
  manifestRef: string,
  entry: ManifestEntry,
  storage: Storage,
): Promise<Artifact> {
  const check = checkRef(entry.path);
  if (!check.safe) return _artifact(entry, check, null, false);
  const resolved = await resolveInRunAsync(runDir, artifactRef(manifestRef, check.path), storage);
  const exists =
    resolved.safe && resolved.realPath !== null && (await regularFileSizeAsync(resolved.realPath, storage)) !== null;
  return _artifact(entry, check, resolved, exists);
}

function _artifact(
  entry: ManifestEntry,
  check: ReturnType<typeof checkRef>,
  resolved: ResolvedRef | null,
  exists: boolean,
): Artifact {
  const mediaType = entry.mediaType ?? mediaTypeOf(entry.path);
  const base = { path: check.safe ? check.path : entry.path, size: entry.size, sha256: entry.sha256, mediaType };
  if (!check.safe) return { ...base, exists: false, unsafe: true, reason: check.reason };
  if (!resolved!.safe) return { ...base, exists: false, unsafe: true, reason: resolved!.reason };
  return { ...base, exists, absolutePath: resolved!.absolutePath };
}

/** An artifact's path relative to the run folder: artifact paths are relative to the manifest's folder. */
export function artifactRef(manifestRef: string, artifactPath: string): string {
  return manifestRef.slice(0, manifestRef.lastIndexOf("/") + 1) + artifactPath;
}

type Loaded = { marker: CompatibilityMarker } | { runDir: string; ref: string; compatibility: Compatibility };

async function _loadManifest(
  options: RunsOptions,
  runId: string,
  kind: "artifactManifest",
): Promise<
  { marker: CompatibilityMarker } | { runDir: string; ref: string; compatibility: Compatibility; file: ContainedFile }
>;
async function _loadManifest(options: RunsOptions, runId: string, kind: "submissionManifest"): Promise<Loaded>;
async function _loadManifest(
  options: RunsOptions,
  runId: string,
  kind: "artifactManifest" | "submissionManifest",
): Promise<Loaded | { runDir: string; ref: string; compatibility: Compatibility; file: ContainedFile }> {
  const { entry, parsed, runDir } = await loadRun(options, runId);
  const storage = storageOf(runsDirOf(runDir), runsOptionsOf(options));
  const compatibility = entry.run.compatibility;
  const noun = kind === "artifactManifest" ? "artifact manifest" : "submission manifest";
  const marker = (reason: CompatibilityMarker["reason"], message: string): Loaded => ({
    marker: { runId, available: false, reason, message, compatibility },
  });
  if (parsed.generation === "legacy") {
    return marker(
      "legacy-run",
      `This run was recorded by an older writer (legacy summary without schemaVersion), which kept no ${noun}.`,
    );
  }
  const declared = parsed.summary[kind];
  if (declared === undefined) return marker("not-declared", `This run's summary names no ${noun}.`);
  const check = checkRef(declared);
  if (!check.safe) throw unsafePathError(declared, check.reason);
  const missing = () =>
    marker("file-missing", `The summary names ${check.path}, but that file is missing from the run folder.`);
  if (kind === "artifactManifest") {
    // Opened at once (no separate stat): its identity decides whether the cached parse is used.
    const unreadable = new GuideBoardError("MANIFEST_INVALID", "missing");
    const file = await openInRun(runDir, check.path, () => unreadable, runsOptionsOf(options)).catch(
      async (error: unknown) => {
        if (error !== unreadable) throw error;
        // A run pruned meanwhile has vanished; its manifest is not missing.
        if (await runGoneAsync(runDir, storage)) throw _vanished(runDir);
        return null;
      },
    );
    return file === null ? missing() : { runDir, ref: check.path, compatibility, file };
  }
  const resolved = await resolveInRunAsync(runDir, check.path, storage);
  if (!resolved.safe) throw unsafePathError(check.path, resolved.reason);
  if (resolved.realPath === null || (await regularFileSizeAsync(resolved.realPath, storage)) === null) return missing();
  return { runDir, ref: check.path, compatibility };
}

async function _readJson(
  runDir: string,
  ref: string,
  kind: "artifact" | "submission",
  options: RunsOptions,
): Promise<unknown> {
  const settings = runsOptionsOf(options);
  const storage = storageOf(runsDirOf(runDir), settings);
  const unreadable = _invalid(kind, "not a readable regular file");
  const text = await readInRun(
    runDir,
    ref,
    MAX_MANIFEST_BYTES[kind],
    () => unreadable,
    (size) => _invalid(kind, `${size} bytes is over the ${MAX_MANIFEST_BYTES[kind]}-byte limit`),
    settings,
  ).catch(async (error: unknown) => {
    // A run pruned meanwhile has vanished; its manifest is not invalid.
    throw error === unreadable && (await runGoneAsync(runDir, storage)) ? _vanished(runDir) : error;
  });
  try {
    return JSON.parse(text);
  } catch {
    throw _invalid(kind, "not valid JSON");
  }
}

function _vanished(runDir: string): GuideBoardError {
  const runId = runDir.slice(runDir.lastIndexOf("/") + 1);
  return new GuideBoardError("RUN_NOT_FOUND", `No retained run ${runId} (vanished).`, { runId, reason: "vanished" });
}

function _invalid(kind: "artifact" | "submission", why: string): GuideBoardError {
  return new GuideBoardError("MANIFEST_INVALID", `The run's ${kind} manifest is invalid: ${why}.`);
}
