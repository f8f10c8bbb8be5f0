// Output from a run folder is hostile: on a terminal, an escape sequence could retitle the window,
// move the cursor, rewrite earlier lines or answer back. Only SGR (colours and styles) goes through.

// C0 controls but tab, LF and CR; DEL; C1 controls; bidi overrides and isolates.
// eslint-disable-next-line no-control-regex
const UNSAFE = /\x1b\[[0-9;:]*m|[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
// eslint-disable-next-line no-control-regex
const PARTIAL_SGR = /\x1b(?:\[[0-9;:]{0,32})?$/;

/**
 * A stateful filter for bytes on their way to a terminal: decodes UTF-8 across chunk boundaries
 * (invalid bytes become U+FFFD), keeps SGR sequences (`ESC [ … m`), `\t`, `\n` and `\r`, and shows
 * every other control as `\uXXXX` text, so OSC, CSI cursor moves, DCS and the rest print harmlessly.
 */
export function createTerminalFilter(): { write(chunk: Uint8Array): string; end(): string } {
  const decoder = new TextDecoder("utf-8", { fatal: false });
  let carry = "";
  const clean = (text: string) =>
    text.replace(UNSAFE, (match) =>
      match.length > 1 ? match : `\\u${match.charCodeAt(0).toString(16).padStart(4, "0")}`,
    );
  return {
    write(chunk) {
      const text = carry + decoder.decode(chunk, { stream: true });
      const partial = PARTIAL_SGR.exec(text);
      carry = partial ? partial[0] : "";
      return clean(partial ? text.slice(0, partial.index) : text);
    },
    end() {
      const rest = clean(carry + decoder.decode());
      carry = "";
      return rest;
    },
  };
}
