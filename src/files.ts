import { GuideBoardError } from "./errors.ts";
import {
  artifactRef,
  findArtifactEntry,
  readArtifactManifest,
  resolveArtifactAsync,
  type Artifact,
} from "./manifest.ts";
import { checkRef, openInRun, unsafePathError, type ContainedFile } from "./paths.ts";
import { cachedReportRefs, findReportRef, resolveReportAsync, type Report } from "./reports.ts";
import { loadRun, runsOptionsOf, type RunsOptions } from "./runs.ts";
import { runsDirOf, storageOf } from "./storage.ts";

/** An opened report or artifact: its entry, and the open file. Close `file.handle` when done. */
export interface OpenedFile<T> {
  entry: T;
  file: ContainedFile;
}

/**
 * Opens one report of a run for reading, by report id. Throws `REPORT_NOT_FOUND` when the run
 * lists no such report or its file is missing (or is not a regular file), `UNSAFE_PATH` when the
 * ref is unsafe or leads out of the run folder. The caller must close `file.handle` (a stream
 * made from it with `autoClose` does that).
 *
 * @example
 * const { entry, file } = await openReport({ runsDir: "./runs" }, runId, "junit");
 * file.handle.createReadStream().pipe(process.stdout);
 */
export async function openReport(options: RunsOptions, runId: string, reportId: string): Promise<OpenedFile<Report>> {
  const loaded = await loadRun(options, runId);
  const settings = runsOptionsOf(options);
  const notFound = () => new GuideBoardError("REPORT_NOT_FOUND", `Run ${runId} has no report with that id.`, { runId });
  const ref = await findReportRef(await cachedReportRefs(loaded, settings.signal), reportId);
  if (!ref) throw notFound();
  const entry = await resolveReportAsync(loaded.runDir, ref, storageOf(runsDirOf(loaded.runDir), settings));
  if (entry.unsafe) throw unsafePathError(entry.path, entry.reason!);
  return { entry, file: await openInRun(loaded.runDir, entry.path, notFound, settings) };
}

/**
 * Opens one artifact of a run for reading, by its path in the artifact manifest. Only files the
 * manifest lists are ever opened. Throws `ARTIFACT_NOT_FOUND` when the run has no manifest, the
 * manifest does not list the path, or the file is missing; `UNSAFE_PATH` when the path breaks the
 * path rules or the listed file leads out of the run folder.
 *
 * @example
 * const { entry, file } = await openArtifact({ runsDir: "./runs" }, runId, "coverage/summary.json");
 * console.log(entry.sha256, file.stat.size);
 */
export async function openArtifact(options: RunsOptions, runId: string, path: string): Promise<OpenedFile<Artifact>> {
  const check = checkRef(path);
  if (!check.safe) throw unsafePathError(typeof path === "string" ? path : "", check.reason);
  const notFound = () => new GuideBoardError("ARTIFACT_NOT_FOUND", `Run ${runId} lists no such artifact.`, { runId });
  const manifest = await readArtifactManifest(options, runId);
  if ("marker" in manifest) throw notFound();
  const listed = await findArtifactEntry(manifest.entries, check.path);
  if (!listed) throw notFound();
  const settings = runsOptionsOf(options);
  const storage = storageOf(runsDirOf(manifest.runDir), settings);
  const entry = await resolveArtifactAsync(manifest.runDir, manifest.ref, listed, storage);
  if (entry.unsafe) throw unsafePathError(entry.path, entry.reason!);
  const file = await openInRun(manifest.runDir, artifactRef(manifest.ref, entry.path), notFound, settings);
  return { entry, file };
}
