import { createHash } from "node:crypto";
import { lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";

/**
 * Every entry under `dir` (itself included), one line each: path, type, size, mode, mtime in ns,
 * and the content's sha256 (a file) or the target (a link). Equal states mean the tree was left
 * byte for byte as it was.
 */
export function treeState(dir: string): string[] {
  const entries: string[] = [];
  const walk = (path: string, rel: string) => {
    const stat = lstatSync(path, { bigint: true });
    const type = stat.isSymbolicLink() ? "link" : stat.isDirectory() ? "dir" : stat.isFile() ? "file" : "other";
    const content =
      type === "file"
        ? createHash("sha256").update(readFileSync(path)).digest("hex")
        : type === "link"
          ? readlinkSync(path)
          : "";
    entries.push([rel, type, stat.size, stat.mode.toString(8), stat.mtimeNs, content].join("\t"));
    if (type === "dir")
      for (const name of readdirSync(path).sort()) walk(join(path, name), rel === "." ? name : `${rel}/${name}`);
  };
  walk(dir, ".");
  return entries;
}
