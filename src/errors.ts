/**
 * Stable error codes. The HTTP adapter and the CLI map each code one way; the codes never change
 * meaning between releases.
 */
export type GuideBoardErrorCode =
  | "INVALID_RUN_ID"
  | "INVALID_OPTIONS"
  | "INVALID_CURSOR"
  | "RUN_NOT_FOUND"
  | "REPORT_NOT_FOUND"
  | "ARTIFACT_NOT_FOUND"
  | "LOG_NOT_FOUND"
  | "UNSAFE_PATH"
  | "MANIFEST_INVALID"
  | "STORAGE_UNAVAILABLE";

/**
 * The one error class of guide-board. `code` is stable and meant for programs; `message` is for
 * people and never contains a stack trace or raw validator output.
 *
 * @example
 * try {
 *   await getRetainedRun({ runsDir: "./runs" }, "nope");
 * } catch (error) {
 *   if (isGuideBoardError(error) && error.code === "RUN_NOT_FOUND") console.log("no such run");
 * }
 */
export class GuideBoardError extends Error {
  override readonly name = "GuideBoardError";
  readonly code: GuideBoardErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: GuideBoardErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.code = code;
    this.details = details;
  }

  /** The wire shape used by the CLI's `--json` output and the HTTP adapter. */
  toJSON(): { error: { code: GuideBoardErrorCode; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}

/**
 * Whether `value` is a {@link GuideBoardError}, optionally with a given code. Checks by name so it
 * works across duplicated copies of the package (ESM and CJS side by side).
 *
 * @example
 * if (isGuideBoardError(error, "UNSAFE_PATH")) respondForbidden();
 */
export function isGuideBoardError(value: unknown, code?: GuideBoardErrorCode): value is GuideBoardError {
  if (!(value instanceof Error) || value.name !== "GuideBoardError") return false;
  return code === undefined || (value as GuideBoardError).code === code;
}
