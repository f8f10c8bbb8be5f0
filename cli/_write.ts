import { randomBytes } from "node:crypto";
import { createReadStream, closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { hashStream, walkFiles, type Walk } from "../src/_internal.ts";

/** A short random suffix of lowercase letters and digits. */
export function randomSuffix(length = 6): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  return Array.from(randomBytes(length), (byte) => alphabet[byte % alphabet.length]).join("");
}

/**
 * A new run id: the UTC start time (sortable) plus a random suffix, e.g.
 * `2026-11-24T09-53-47-123Z-k3x9q2`; always valid under the run-id rule.
 */
export function newRunId(now: Date = new Date()): string {
  return `${now.toISOString().replace(/[:.]/g, "-")}-${randomSuffix()}`;
}

/**
 * Writes `name` in `dir` so that a reader sees either no file or the whole file: a temporary file
 * in the same folder, `fsync`, `rename`, then `fsync` of the folder.
 */
export function writeFileAtomic(dir: string, name: string, content: string): void {
  const temporary = join(dir, `.${name}.tmp-${randomSuffix()}`);
  const fd = openSync(temporary, "wx", 0o644);
  try {
    try {
      const bytes = Buffer.from(content, "utf8");
      let written = 0;
      while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, join(dir, name));
  } catch (error) {
    rmSync(temporary, { force: true }); // a full disk keeps no half-written temp file
    throw error;
  }
  fsyncDir(dir);
}

/** Flushes a folder's entries (a rename) to disk; a no-op where folders cannot be opened. */
export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, "r");
    fsyncSync(fd);
  } catch {
    // Some platforms and file systems refuse fsync on folders; the rename itself is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Size and sha256 of a file, streamed: large files are never read into memory at once. */
export async function hashFile(path: string): Promise<{ size: number; sha256: string }> {
  return hashStream(createReadStream(path));
}

export { walkFiles, type Walk };
