import type { RetainedRun } from "../src/_internal.ts";

// C0/C1 controls and bidi overrides: names and labels come from hostile run folders.
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;

/** Makes text from a run folder safe to print on a terminal: controls become `\uXXXX`. */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** A plain left-aligned table; every cell is made printable. */
export function table(header: string[], rows: string[][]): string {
  const cells = [header, ...rows.map((row) => row.map(printable))];
  const widths = header.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? "").length)));
  return cells
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** `1h 02m`, `3m 07s`, `850ms`; `-` when unknown. */
export function duration(ms: number | null): string {
  if (ms === null) return "-";
  if (ms < 1000) return `${ms}ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, "0")}m`;
}

/** Byte sizes in B, KiB, MiB, GiB. */
export function bytes(size: number | null): string {
  if (size === null) return "-";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = size;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${size} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** The schema generation and anything missing, in a few words. */
export function compat(run: RetainedRun): string {
  const { generation, schemaVersion, missing } = run.compatibility;
  const base =
    generation === "legacy" ? "legacy" : generation === "newer" ? `v${schemaVersion} (newer)` : `v${schemaVersion}`;
  if (generation === "legacy" || missing.length === 0) return base;
  return `${base}, no ${missing.map((kind) => (kind === "artifactManifest" ? "artifacts" : "submission")).join("/")}`;
}

/** Labels as `k=v k=v`. */
export function labels(run: RetainedRun): string {
  return Object.entries(run.labels)
    .map(([key, value]) => `${key}=${value}`)
    .join(" ");
}

/** The columns of a run listing (`runs list`, paged or `--all`). */
export const RUN_COLUMNS = ["RUN", "STATUS", "STARTED", "DURATION", "REPORTS", "SCHEMA", "LABELS"];

/** One run as a row under {@link RUN_COLUMNS}. */
export function runRow(run: RetainedRun): string[] {
  return [
    run.runId,
    run.status,
    run.startedAt,
    duration(run.durationMs),
    String(run.reportCount),
    compat(run),
    labels(run),
  ];
}

/** The detail view of one run. */
export function runDetails(run: RetainedRun): string {
  const lines: [string, string][] = [
    ["Run", run.runId],
    ["Status", run.status],
    ["Started", run.startedAt],
    ["Finished", run.finishedAt ?? "-"],
    ["Duration", duration(run.durationMs)],
    ["Exit code", run.exitCode === null ? "-" : String(run.exitCode)],
    ["Command", run.command === null ? "-" : run.command.join(" ")],
    ["Labels", labels(run) || "-"],
    ["Reports", String(run.reportCount)],
    ["Schema", compat(run)],
    ["Folder", run.runDir],
  ];
  return lines.map(([key, value]) => `${`${key}:`.padEnd(11)}${printable(value)}`).join("\n");
}
