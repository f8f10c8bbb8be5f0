import { z } from "zod";

// The run-folder format in one place: what a runs directory and a run folder contain, by name,
// and the rules every writer and reader shares. Imports nothing else from src/.

/** File name of the summary that marks a run folder as retained. */
export const SUMMARY_FILE = "retention-summary.json";

/**
 * Entries of a runs directory whose names start with this belong to guide-board's own tooling
 * (a prune's folder on its way out, say): skipped without a diagnostic.
 */
export const TOOL_PREFIX = ".guide-board-";

/** The four terminal states of a run. */
export const RUN_STATUSES = ["passed", "failed", "errored", "cancelled"] as const;

/** The timestamp rule: ISO 8601 date-time; without a zone it is read as UTC. */
export const timestampRule = z.iso.datetime({ offset: true, local: true });

// The same rule as a bare pattern (zod's own): a scan tests two timestamps per summary, and a
// schema's safeParse per test was a tenth of the parsing.
const TIMESTAMP_PATTERN = z.regexes.datetime({ offset: true, local: true });

/** Whether `value` passes {@link timestampRule}. */
export function isTimestamp(value: unknown): value is string {
  return typeof value === "string" && TIMESTAMP_PATTERN.test(value);
}

/**
 * Milliseconds since the epoch for a timestamp that passed {@link timestampRule}; a timestamp
 * without a zone is read as UTC. Digits finer than a millisecond are kept as a fraction (to about
 * a microsecond), so `…00.0009Z` sorts after `…00Z`.
 */
export function toEpochMs(timestamp: string): number {
  // The common shapes, `2026-01-02T03:04:05Z` and `…05.678Z`, are read digit by digit: Date.parse
  // was a tenth of a cold listing.
  if ((timestamp.length === 20 || timestamp.length === 24) && timestamp.charCodeAt(timestamp.length - 1) === 90) {
    const fast = _utcMs(timestamp);
    if (!Number.isNaN(fast) && timestamp.charCodeAt(10) === 84) return fast;
  }
  const ms = Date.parse(/(?:Z|[+-]\d{2}:?\d{2})$/i.test(timestamp) ? timestamp : `${timestamp}Z`);
  const fine = /\.\d{3}(\d+)/.exec(timestamp)?.[1];
  return fine === undefined ? ms : ms + Number(`0.${fine}`);
}

function _utcMs(t: string): number {
  const ms = t.length === 24 ? _digits(t, 20, 3) : 0;
  // The layout is fixed here (the text passed the timestamp rule). Date.UTC reads years 0-99 as
  // 19xx, so early years take the general path.
  const year = _digits(t, 0, 4);
  return year < 100
    ? Number.NaN
    : Date.UTC(
        year,
        _digits(t, 5, 2) - 1,
        _digits(t, 8, 2),
        _digits(t, 11, 2),
        _digits(t, 14, 2),
        _digits(t, 17, 2),
        ms,
      );
}

/** The number written by `count` decimal digits of `t` from `at` (no closure, no allocation: called for every summary). */
function _digits(t: string, at: number, count: number): number {
  let value = 0;
  for (let i = at; i < at + count; i++) value = value * 10 + t.charCodeAt(i) - 48;
  return value;
}
