// `guide-board runs list --all`: every run, streamed. Runs come from iterateRetainedRuns (one scan,
// summaries loaded in small batches) and go out in chunks that wait for the stream to drain, so
// neither the runs nor the output are ever held whole.
import { iterateRetainedRuns, toJSONText, type Diagnostic, type RunFilters } from "../src/_internal.ts";
import type { CliContext } from "./context.ts";
import { printable, RUN_COLUMNS, runRow } from "./format.ts";

/** Output is written in chunks of about this many characters. */
const CHUNK = 64 * 1024;

/** Rows whose widths set the table's columns before its first line is printed. */
const FIRST_ROWS = 128;

/**
 * Prints every run matching `filters`. With `json`, the bytes are those `toJSONText` gives for
 * `{ runs, diagnostics }` with every run (the shape of a `GET /retained-runs` page, no
 * `nextCursor`), built piece by piece; otherwise a table whose rows are printed as they come.
 * Returns the diagnostics for the caller's summary line.
 */
export async function listAll(
  ctx: CliContext,
  options: RunFilters & { runsDir: string[]; json: boolean },
): Promise<Diagnostic[]> {
  const { json, ...query } = options;
  const diagnostics: Diagnostic[] = [];
  const runs = iterateRetainedRuns({ ...query, onDiagnostic: (diagnostic) => diagnostics.push(diagnostic) });
  const out = _chunkedWriter(ctx.stdout);
  try {
    if (json) {
      let first = true;
      for await (const run of runs) {
        await out.write(`${first ? '{"runs":[' : ","}${toJSONText(run).slice(0, -1)}`);
        first = false;
        if (out.closed) return diagnostics;
      }
      await out.write(`${first ? '{"runs":[' : ""}],"diagnostics":${toJSONText(diagnostics).slice(0, -1)}}\n`);
    } else {
      const table = _streamedTable();
      let count = 0;
      for await (const run of runs) {
        count++;
        await out.write(table.row(runRow(run)));
        if (out.closed) return diagnostics;
      }
      if (count === 0) await out.write(`No retained runs in ${printable(options.runsDir.join(", "))}.\n`);
      else await out.write(table.end());
    }
    await out.flush();
    return diagnostics;
  } finally {
    out.dispose();
  }
}

/**
 * A table printed as its rows come: the first rows (up to {@link FIRST_ROWS}) set the column
 * widths, like `table` in format.ts (same output for a short table); a longer cell later widens
 * its column from there on. Every cell is made printable.
 */
function _streamedTable(): { row(cells: string[]): string; end(): string } {
  let widths: number[] | null = null;
  const pending: string[][] = [];
  const line = (row: string[]) =>
    `${row
      .map((cell, i) => {
        if (i === row.length - 1) return cell;
        widths![i] = Math.max(widths![i]!, cell.length);
        return cell.padEnd(widths![i]!);
      })
      .join("  ")
      .trimEnd()}\n`;
  const start = () => {
    const rows = [RUN_COLUMNS, ...pending.splice(0)];
    widths = RUN_COLUMNS.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    return rows.map(line).join("");
  };
  return {
    row(cells) {
      const row = cells.map(printable);
      if (widths !== null) return line(row);
      pending.push(row);
      return pending.length === FIRST_ROWS ? start() : "";
    },
    end: () => (widths === null ? start() : ""),
  };
}

/**
 * Collects text and writes it in chunks; when the stream says its buffer is full (`write`
 * returns false), waits for `drain` before going on. A stream that errors or closes (a reader
 * such as `head` that has seen enough) sets `closed`, and nothing more is written.
 */
function _chunkedWriter(stream: CliContext["stdout"]) {
  const emitter = stream as Partial<NodeJS.EventEmitter>;
  const events = typeof emitter.on === "function" && typeof emitter.off === "function";
  let buffer = "";
  let wake: (() => void) | null = null;
  const state = { closed: false };
  const onEnd = () => {
    state.closed = true;
    wake?.();
  };
  const onDrain = () => wake?.();
  if (events) {
    emitter.on!("error", onEnd);
    emitter.on!("close", onEnd);
  }
  const flush = async () => {
    if (buffer === "" || state.closed) return;
    const text = buffer;
    buffer = "";
    if (stream.write(text) !== false || !events || state.closed) return;
    await new Promise<void>((resolve) => {
      wake = resolve;
      emitter.once!("drain", onDrain);
    });
    wake = null;
    emitter.off!("drain", onDrain);
  };
  return {
    get closed() {
      return state.closed;
    },
    flush,
    async write(text: string) {
      buffer += text;
      if (buffer.length >= CHUNK) await flush();
    },
    dispose() {
      if (!events) return;
      emitter.off!("error", onEnd);
      emitter.off!("close", onEnd);
    },
  };
}
