import { createHash } from "node:crypto";
import { readdirSync, type Dirent } from "node:fs";
import { join } from "node:path";

// Hashing and walking a run folder's files, shared by the writer (`guide-board run`, which records
// the artifact manifest) and the readers (`verifyArtifacts`), so both agree on what a file is.

/** Size and sha256 of a stream of bytes (a file, streamed: never read into memory at once). */
export async function hashStream(source: AsyncIterable<Buffer>): Promise<{ size: number; sha256: string }> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of source) {
    size += chunk.length;
    hash.update(chunk);
  }
  return { size, sha256: hash.digest("hex") };
}

/** What a folder walk found: regular files (relative POSIX paths, sorted) and what it skipped. */
export interface Walk {
  files: string[];
  skipped: { path: string; why: "link" | "special" }[];
}

/**
 * Lists regular files below `root` without following links; a missing root is empty. Links and
 * special files (FIFOs, devices, sockets) are skipped and named. A folder that cannot be read
 * throws, unless `skipUnreadable` (a reader: what cannot be read is not there).
 */
export function walkFiles(root: string, options: { skipUnreadable?: boolean } = {}): Walk {
  const walk: Walk = { files: [], skipped: [] };
  const visit = (dir: string, prefix: string) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (error) {
      if (options.skipUnreadable || (error as NodeJS.ErrnoException).code === "ENOENT") return;
      throw error;
    }
    for (const entry of entries) {
      const path = prefix + entry.name;
      if (entry.isSymbolicLink()) walk.skipped.push({ path, why: "link" });
      else if (entry.isDirectory()) visit(join(dir, entry.name), `${path}/`);
      else if (entry.isFile()) walk.files.push(path);
      else walk.skipped.push({ path, why: "special" });
    }
  };
  visit(root, "");
  walk.files.sort();
  return walk;
}
