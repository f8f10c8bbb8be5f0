import { join } from "node:path";
import { z } from "zod";
import { artifactRef, readArtifactManifest, resolveArtifact } from "./manifest.ts";
import { openInRun } from "./paths.ts";
import { GuideBoardError } from "./errors.ts";
import { hashStream, walkFiles } from "./_hash.ts";
import type { RunsOptions } from "./runs.ts";

/** One difference between a run's artifacts and its manifest. */
export const verifyProblemSchema = z.object({
  path: z.string(),
  kind: z.enum(["missing", "size-mismatch", "hash-mismatch", "unsafe", "extra"]),
  expected: z.string().optional(),
  actual: z.string().optional(),
});
export type VerifyProblem = z.infer<typeof verifyProblemSchema>;

/** The result of {@link verifyArtifacts}. */
export const verifyResultSchema = z.object({
  runId: z.string(),
  ok: z.boolean(),
  checked: z.number().int(),
  problems: z.array(verifyProblemSchema),
});
export type VerifyResult = z.infer<typeof verifyResultSchema>;

/**
 * Re-hashes a run's artifacts (streamed) against its manifest and reports every missing file,
 * size or sha256 mismatch, unsafe entry, and extra regular file in the manifest's folder that the
 * manifest does not list (links and special files are never followed and, as when the run was
 * recorded, not counted). Reads only.
 * A run without a manifest throws `ARTIFACT_NOT_FOUND`.
 *
 * @example
 * const result = await verifyArtifacts({ runsDir: "./runs" }, runId);
 * if (!result.ok) console.table(result.problems);
 */
export async function verifyArtifacts(options: RunsOptions, runId: string): Promise<VerifyResult> {
  const manifest = await readArtifactManifest(options, runId);
  if ("marker" in manifest) {
    throw new GuideBoardError(
      "ARTIFACT_NOT_FOUND",
      `Run ${runId} has no artifact manifest to verify: ${manifest.marker.message}`,
      { runId },
    );
  }
  const problems: VerifyProblem[] = [];
  const listed = new Set<string>();
  for (const raw of manifest.entries) {
    const entry = resolveArtifact(manifest.runDir, manifest.ref, raw);
    listed.add(entry.path);
    if (entry.unsafe) {
      problems.push({ path: entry.path, kind: "unsafe", expected: entry.reason });
      continue;
    }
    let actual: { size: number; sha256: string };
    try {
      actual = await _hash(manifest.runDir, artifactRef(manifest.ref, entry.path));
    } catch {
      problems.push({ path: entry.path, kind: "missing" });
      continue;
    }
    if (actual.size !== entry.size)
      problems.push({
        path: entry.path,
        kind: "size-mismatch",
        expected: String(entry.size),
        actual: String(actual.size),
      });
    else if (actual.sha256 !== entry.sha256)
      problems.push({ path: entry.path, kind: "hash-mismatch", expected: entry.sha256, actual: actual.sha256 });
  }
  const manifestName = manifest.ref.slice(manifest.ref.lastIndexOf("/") + 1);
  const packageDir = join(manifest.runDir, manifest.ref.slice(0, manifest.ref.lastIndexOf("/") + 1));
  // Links and special files are left out, as `guide-board run` leaves them out of the manifest.
  for (const path of walkFiles(packageDir, { skipUnreadable: true }).files) {
    if (path !== manifestName && !listed.has(path)) problems.push({ path, kind: "extra" });
  }
  return { runId, ok: problems.length === 0, checked: manifest.entries.length, problems };
}

async function _hash(runDir: string, ref: string): Promise<{ size: number; sha256: string }> {
  const file = await openInRun(runDir, ref, () => new GuideBoardError("ARTIFACT_NOT_FOUND", "missing"));
  return hashStream(file.handle.createReadStream({ autoClose: true }) as AsyncIterable<Buffer>);
}
