import { isTimestamp, RUN_STATUSES } from "./format.ts";
import type { CurrentSummary, LegacySummary } from "./summary.ts";

// A fast path for the two common summary shapes. It accepts only what the zod schemas accept
// (a property test checks that), and never copies: zod builds a new object per summary, which
// doubled the cost of a cold listing. Anything it does not accept goes to zod, which decides.

const STATUSES: ReadonlySet<string> = new Set(RUN_STATUSES);
const isString = (value: unknown): value is string => typeof value === "string";
const isOptionalString = (value: unknown, max: number) =>
  value === undefined || (isString(value) && value.length <= max);

function _common(data: Record<string, unknown>): boolean {
  return (
    isString(data.runId) &&
    isString(data.status) &&
    STATUSES.has(data.status) &&
    isTimestamp(data.startedAt) &&
    (data.finishedAt === undefined || data.finishedAt === null || isTimestamp(data.finishedAt))
  );
}

function _stringRecord(value: unknown): boolean {
  if (
    typeof value !== "object" ||
    value === null ||
    Array.isArray(value) ||
    Object.getPrototypeOf(value) !== Object.prototype
  )
    return false;
  for (const key in value) {
    if (key === "__proto__" || !isString((value as Record<string, unknown>)[key])) return false;
  }
  return true;
}

function _reportRef(value: unknown): boolean {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const ref = value as Record<string, unknown>;
  return (
    isString(ref.id) &&
    ref.id.length >= 1 &&
    ref.id.length <= 256 &&
    isString(ref.path) &&
    isOptionalString(ref.mediaType, 256) &&
    isOptionalString(ref.title, 1024) &&
    (ref.format === undefined || ref.format === "junit" || ref.format === "ctrf")
  );
}

const TOTAL_FIELDS = ["tests", "passed", "failed", "errored", "skipped", "flaky"] as const;

function _totals(value: unknown): boolean {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const totals = value as Record<string, unknown>;
  const { durationMs } = totals;
  return (
    TOTAL_FIELDS.every((field) => Number.isSafeInteger(totals[field]) && (totals[field] as number) >= 0) &&
    typeof durationMs === "number" &&
    Number.isFinite(durationMs) &&
    durationMs >= 0
  );
}

function _logRef(value: unknown): boolean {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const ref = value as Record<string, unknown>;
  return isString(ref.id) && ref.id.length >= 1 && ref.id.length <= 256 && isString(ref.path);
}

/** A legacy summary, when `data` certainly is one; `null` means "ask zod". */
export function fastLegacy(data: Record<string, unknown>): LegacySummary | null {
  if (!_common(data) || !Array.isArray(data.reports) || !data.reports.every(isString)) return null;
  return data as LegacySummary;
}

/** A current summary, when `data` certainly is one; `null` means "ask zod". */
export function fastCurrent(data: Record<string, unknown>): CurrentSummary | null {
  if (!_common(data)) return null;
  if (!(data.exitCode === null || Number.isSafeInteger(data.exitCode))) return null;
  if (!Array.isArray(data.command) || !data.command.every(isString)) return null;
  if (!_stringRecord(data.labels) || !Array.isArray(data.reports) || !data.reports.every(_reportRef)) return null;
  if (!isOptionalString(data.artifactManifest, Infinity) || !isOptionalString(data.submissionManifest, Infinity))
    return null;
  if (data.logs !== undefined && !(Array.isArray(data.logs) && data.logs.every(_logRef))) return null;
  if (data.tests !== undefined && !_totals(data.tests)) return null;
  return data as CurrentSummary;
}
