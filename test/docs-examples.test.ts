import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import * as library from "../src/index.ts";

const root = join(import.meta.dirname, "..");
const runsDir = join(root, "examples", "runs");

describe("docs", () => {
  it("docs/library.md names every export of the library", () => {
    const doc = readFileSync(join(root, "docs", "library.md"), "utf8");
    const undocumented = Object.keys(library).filter((name) => !doc.includes(`\`${name}`));
    expect(undocumented).toEqual([]);
  });

  it("docs/run-layout.md names every diagnostic kind and unsafe reason", () => {
    const doc = readFileSync(join(root, "docs", "run-layout.md"), "utf8");
    const missing = [...library.DIAGNOSTIC_KINDS, ...library.UNSAFE_REASONS].filter(
      (name) => !doc.includes(`\`${name}\``),
    );
    expect(missing).toEqual([]);
  });
});

describe("examples/runs", () => {
  it("holds a legacy run, a current run, a failed run and an incomplete folder", async () => {
    const { runs, diagnostics } = await library.listRetainedRuns({ runsDir });
    expect(runs.map((run) => [run.status, run.compatibility.generation])).toEqual([
      ["failed", "current"],
      ["passed", "current"],
      ["passed", "legacy"],
    ]);
    expect(diagnostics.map((d) => d.kind)).toEqual(["incomplete"]);
  });

  it("has manifests whose sizes and hashes match the files", async () => {
    const { runs } = await library.listRetainedRuns({ runsDir });
    let checked = 0;
    for (const run of runs) {
      const manifest = await library.artifactManifest({ runsDir }, run.runId);
      if (!manifest.available) continue;
      for (const artifact of manifest.artifacts) {
        const bytes = readFileSync(artifact.absolutePath!);
        expect(bytes.length).toBe(artifact.size);
        expect(createHash("sha256").update(bytes).digest("hex")).toBe(artifact.sha256);
        checked++;
      }
      const { reports } = await library.reportPaths({ runsDir }, run.runId);
      expect(reports.every((report) => report.exists)).toBe(true);
    }
    expect(checked).toBe(3);
  });
});

describe("links", () => {
  it("every relative link in README, docs/ and examples/README points at a file that exists", () => {
    const files = [
      "README.md",
      "CONTRIBUTING.md",
      "examples/README.md",
      ...readdirSync(join(root, "docs")).map((name) => `docs/${name}`),
    ];
    const broken: string[] = [];
    for (const file of files) {
      const text = readFileSync(join(root, file), "utf8");
      for (const [, target] of text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
        if (/^[a-z]+:/.test(target!)) continue;
        if (!existsSync(join(root, dirname(file), target!))) broken.push(`${file} → ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });
});
