import type { FileHandle } from "node:fs/promises";
import { GuideBoardError } from "./errors.ts";

/** Most lines a tail may ask for. */
export const MAX_TAIL_LINES = 100_000;

/** Most bytes a tail returns by default: a CR-only progress bar is one endless "line". */
export const DEFAULT_TAIL_MAX_BYTES = 4 * 1024 * 1024;

const CHUNK = 64 * 1024;
const LF = 0x0a;

/** Where a tail starts, and whether `maxBytes` cut it short. */
export interface TailRange {
  /** Byte offset of the first byte of the tail. */
  start: number;
  /** Byte offset just past the tail: the file's size when it was measured. */
  end: number;
  /** Whether the tail stopped at `maxBytes` before finding all the lines asked for. */
  truncated: boolean;
}

/** The last lines of a log, as bytes (never decoded: a log may hold anything). */
export interface LogTail extends TailRange {
  bytes: Buffer;
}

/** Options of {@link readLogTail}. */
export interface TailOptions {
  /** How many lines (ended by `\n`; a final line without one counts too). */
  lines: number;
  /** Never more than this many bytes (default 4 MiB). */
  maxBytes?: number;
  /** The size to tail from (default: the file's size now). */
  size?: number;
}

/**
 * Finds where the last `lines` lines of an open file start, reading backwards from the end in
 * 64 KiB chunks: the cost follows the tail's size, never the file's. Lines end at `\n`; a lone
 * `\r` (progress bars) does not end a line, so the byte bound applies.
 */
export async function findTailStart(handle: FileHandle, options: TailOptions): Promise<TailRange> {
  const { lines, maxBytes, size } = _check(options);
  const end = size ?? (await handle.stat()).size;
  const floor = Math.max(0, end - maxBytes);
  if (lines === 0 || end === 0) return { start: end, end, truncated: false };
  const buffer = Buffer.allocUnsafe(Math.min(CHUNK, end));
  let remaining = lines;
  let position = end;
  let skipFinal = true; // a final `\n` ends the last line; it does not start an empty one
  while (position > floor) {
    const from = Math.max(floor, position - buffer.length);
    const length = position - from;
    const { bytesRead } = await handle.read(buffer, 0, length, from);
    if (bytesRead < length) return { start: from + bytesRead, end, truncated: false }; // shrank meanwhile
    let index = length - 1;
    if (skipFinal) {
      skipFinal = false;
      if (buffer[index] === LF) index--;
    }
    while (index >= 0) {
      const found = buffer.lastIndexOf(LF, index);
      if (found === -1 || found >= length) break;
      if (--remaining === 0) return { start: from + found + 1, end, truncated: false };
      index = found - 1;
    }
    position = from;
  }
  return { start: floor, end, truncated: floor > 0 };
}

/**
 * The last `lines` lines of an open log as bytes, without reading the whole file (a 1 GiB log's
 * tail costs what the tail costs). CR-only progress output, NUL bytes and invalid UTF-8 come back
 * as they are; decoding is the caller's choice.
 *
 * @example
 * const { file } = await openRunLog({ runsDir: "./runs" }, runId, "stdout");
 * try {
 *   const tail = await readLogTail(file.handle, { lines: 100 });
 *   process.stdout.write(tail.bytes);
 * } finally {
 *   await file.handle.close();
 * }
 */
export async function readLogTail(handle: FileHandle, options: TailOptions): Promise<LogTail> {
  const range = await findTailStart(handle, options);
  const bytes = Buffer.alloc(range.end - range.start);
  const { bytesRead } = await handle.read(bytes, 0, bytes.length, range.start);
  return { ...range, bytes: bytes.subarray(0, bytesRead) };
}

function _check(options: TailOptions): { lines: number; maxBytes: number; size: number | undefined } {
  const { lines, maxBytes = DEFAULT_TAIL_MAX_BYTES, size } = options;
  if (!Number.isSafeInteger(lines) || lines < 0 || lines > MAX_TAIL_LINES)
    throw new GuideBoardError(
      "INVALID_OPTIONS",
      `Invalid option lines: expected a whole number from 0 to ${MAX_TAIL_LINES}.`,
    );
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1)
    throw new GuideBoardError("INVALID_OPTIONS", "Invalid option maxBytes: expected a positive whole number.");
  if (size !== undefined && !(Number.isSafeInteger(size) && size >= 0))
    throw new GuideBoardError("INVALID_OPTIONS", "Invalid option size: expected a whole number of bytes.");
  return { lines, maxBytes, size };
}
