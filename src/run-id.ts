import { GuideBoardError } from "./errors.ts";

/** The run-id rule: a folder whose name does not match is never a run. */
export const RUN_ID_PATTERN: RegExp = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * Whether `value` is a valid run id: 1–128 characters of `A-Z a-z 0-9 . _ -`, starting with a
 * letter or digit (so never `.` or `..`).
 *
 * @example
 * isRunId("2026-11-24T09-00-00Z-a1b2"); // true
 * isRunId("../etc"); // false
 */
export function isRunId(value: unknown): value is string {
  return typeof value === "string" && RUN_ID_PATTERN.test(value);
}

/** Throws `INVALID_RUN_ID` unless `value` is a valid run id. */
export function assertRunId(value: unknown): asserts value is string {
  if (!isRunId(value)) {
    throw new GuideBoardError(
      "INVALID_RUN_ID",
      "Invalid run id: expected 1-128 characters of A-Z a-z 0-9 . _ - starting with a letter or digit.",
    );
  }
}
