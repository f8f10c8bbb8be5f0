/**
 * The one serializer for wire JSON: the CLI's `--json` output and the HTTP adapter's bodies are
 * this function's output, byte for byte. Compact, one trailing newline.
 *
 * @example
 * process.stdout.write(toJSONText(await latestRun({ runsDir: "./runs" })));
 */
export function toJSONText(value: unknown): string {
  return `${JSON.stringify(value)}\n`;
}
