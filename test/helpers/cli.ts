import { main } from "../../cli/index.ts";
import { isGuideBoardError, toJSONText } from "../../src/index.ts";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process (`main`) with captured streams; no environment unless given. */
export async function runCli(
  args: string[],
  options: { cwd: string; env?: Record<string, string> },
): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const code = await main({
    args,
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env: options.env ?? {},
    cwd: options.cwd,
  });
  return { code, stdout, stderr };
}

/**
 * The JSON error body for whatever `fn` throws, as the library serializes it: what the CLI's
 * `--json` and the HTTP adapter print for the same question.
 */
export async function libraryErrorText(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
  } catch (error) {
    if (isGuideBoardError(error)) return toJSONText(error.toJSON());
    throw error;
  }
  throw new Error("expected the library call to throw");
}
