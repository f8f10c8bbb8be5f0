/**
 * The one serializer for wire JSON: the CLI's `--json` output and the HTTP adapter's bodies are
 * this function's output, byte for byte. Compact, one trailing newline; characters that could
 * act on a terminal are `\uXXXX`-escaped.
 *
 * @example
 * process.stdout.write(toJSONText(await latestRun({ runsDir: "./runs" })));
 */
export function toJSONText(value: unknown): string {
  return `${JSON.stringify(value).replace(INVISIBLE, _escape)}\n`;
}

// Characters JSON allows raw but terminals and editors act on (C1 controls such as CSI, bidi
// overrides, line separators): escaped, so the text parses to the same value and shows nothing.
const INVISIBLE = /[\u007f-\u009f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;

function _escape(char: string): string {
  return `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`;
}
