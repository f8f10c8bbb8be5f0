import { isUtf8 } from "node:buffer";
import type { Stats } from "node:fs";
import { GuideBoardError, isGuideBoardError } from "../errors.ts";
import { openInRun, resolveInRunAsync, type ContainedFile } from "../paths.ts";
import type { IdentifiedRef } from "../reports.ts";
import { runsDirOf, type Storage, type StorageOptions, storageOf } from "../storage.ts";
import { LruCache } from "./cache.ts";
import { parseCtrf } from "./ctrf.ts";
import { parseJUnit } from "./junit.ts";
import type { RawTest, TestDiagnostic, TestReportFormat } from "./model.ts";
import type { ScanProblem } from "./xml-scan.ts";

/** Caps on reading one test report. */
export interface TestReportLimits {
  /** Largest report read, in bytes (default 64 MiB). */
  maxReportBytes: number;
  /** Most test cases in one report (default 500,000). */
  maxTestCases: number;
  /** Deepest element nesting in a JUnit report (default 64). */
  maxDepth: number;
}

export const DEFAULT_TEST_REPORT_LIMITS: TestReportLimits = Object.freeze({
  maxReportBytes: 64 * 1024 * 1024,
  maxTestCases: 500_000,
  maxDepth: 64,
});

/** One report read as tests, or why not; `null` when an undeclared report is not a test report. */
export type ReadReport =
  | { id: string; format: TestReportFormat; tests: RawTest[]; cacheKey: string | null }
  | { diagnostic: TestDiagnostic; cacheKey: string | null }
  | null;

const SNIFF_BYTES = 64 * 1024;
const MAX_TRIES = 3;
const reportCache = new LruCache<ReadReport>(64, 2_000_000);

/** Empties the report cache (tests and benchmarks measure cold reads with it). */
export function clearTestReportCache(): void {
  reportCache.clear();
}

/** Whether an undeclared ref may be a test report at all: only XML and JSON files are looked at. */
export function mayBeTestReport(ref: IdentifiedRef): boolean {
  if (ref.format) return true;
  const type = ref.mediaType?.toLowerCase() ?? "";
  return /\.(xml|json)$/i.test(ref.path) || type.includes("xml") || type.includes("json");
}

/** The identity a cached result is keyed by: the file, its size and modification time, and the caps. */
function _identity(stat: Stats, format: string, limits: TestReportLimits): string {
  const { maxReportBytes, maxTestCases, maxDepth } = limits;
  return `${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeMs}:${format}:${maxReportBytes}:${maxTestCases}:${maxDepth}`;
}

/**
 * Reads one report of a run as tests, through the path-safety helpers (no-follow open, real-path
 * containment, regular files only). A report replaced or rewritten while it was read and parsed
 * is read again, up to three times, then given up with `changed-while-reading`. Every file call
 * goes through the storage layer (async, with a deadline): a runs directory that does not answer
 * throws `STORAGE_UNAVAILABLE` rather than passing for a missing report. `store: false` reads
 * through the cache without adding to it (test history keeps its own compact digest instead).
 */
export async function readTestReport(
  runDir: string,
  ref: IdentifiedRef,
  limits: TestReportLimits,
  settings: StorageOptions = {},
  store = true,
): Promise<ReadReport> {
  const diagnostic = (kind: TestDiagnostic["kind"], message: string): ReadReport =>
    ref.format ? { diagnostic: { reportId: ref.id, kind, message }, cacheKey: null } : null;
  const storage = storageOf(runsDirOf(runDir), settings);
  const statOf = (path: string) => storage.stat(path).catch(_unlessUnavailable);
  const resolved = await resolveInRunAsync(runDir, ref.path, storage);
  if (!resolved.safe) return diagnostic("unsafe-path", `The report path is unsafe (${resolved.reason}).`);
  if (resolved.realPath === null) return diagnostic("unreadable", "The report file is missing.");
  for (let attempt = 0; attempt < MAX_TRIES; attempt++) {
    const before = await statOf(resolved.realPath);
    if (!before?.isFile()) return diagnostic("unreadable", "The report file is missing or not a regular file.");
    const cacheKey = `${resolved.realPath}\u0000${_identity(before, ref.format ?? "", limits)}`;
    const cached = reportCache.get(cacheKey);
    if (cached !== undefined) return _withId(cached, ref.id);
    let file: ContainedFile;
    try {
      file = await openInRun(runDir, ref.path, () => new GuideBoardError("REPORT_NOT_FOUND", "missing"), settings);
    } catch (error) {
      if (isGuideBoardError(error, "STORAGE_UNAVAILABLE")) throw error;
      if (isGuideBoardError(error, "UNSAFE_PATH")) return diagnostic("unsafe-path", "The report leads out of its run.");
      return diagnostic("unreadable", "The report file could not be opened.");
    }
    let result: ReadReport;
    try {
      result = await _readOpened(file, ref, limits, storage);
    } catch (error) {
      if (isGuideBoardError(error, "STORAGE_UNAVAILABLE")) throw error;
      result = diagnostic("unreadable", "The report file could not be read.");
    } finally {
      // (never waits on a hung mount: the close is left to finish when it can)
      void file.handle.close().catch(() => {});
    }
    // Parsed from the open descriptor; the result holds only if the path still names that same,
    // unchanged file (a writer may have replaced or rewritten it meanwhile).
    const after = await statOf(resolved.realPath);
    if (after && _same(file.stat, after) && _same(before, after)) {
      if (result && "diagnostic" in result && result.diagnostic.kind === "unreadable") return result;
      const weight = result && "tests" in result ? result.tests.length + 1 : 1;
      if (result) result.cacheKey = cacheKey;
      if (store) reportCache.set(cacheKey, result, weight);
      return result;
    }
  }
  return diagnostic("changed-while-reading", "The report kept changing while it was read; try again.");
}

/** `null` for a file call that failed, but a runs directory that does not answer is thrown. */
function _unlessUnavailable(error: unknown): null {
  if (isGuideBoardError(error, "STORAGE_UNAVAILABLE")) throw error;
  return null;
}

/** A cached result under the id this run gives the file (two refs may name one file). */
function _withId(result: ReadReport, id: string): ReadReport {
  if (result === null) return null;
  if ("id" in result) return result.id === id ? result : { ...result, id };
  return result.diagnostic.reportId === id ? result : { ...result, diagnostic: { ...result.diagnostic, reportId: id } };
}

function _same(a: Stats, b: Stats): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs;
}

async function _readOpened(
  file: ContainedFile,
  ref: IdentifiedRef,
  limits: TestReportLimits,
  storage: Storage,
): Promise<ReadReport> {
  const size = file.stat.size;
  const format = ref.format ?? sniffFormat((await _read(file, Math.min(size, SNIFF_BYTES), storage)).toString("utf8"));
  if (!format) return null;
  const problem = (p: ScanProblem): ReadReport => ({
    diagnostic: { reportId: ref.id, kind: p.kind, message: p.message },
    cacheKey: null,
  });
  if (size > limits.maxReportBytes) {
    return problem({
      kind: "too-large",
      message: `The report is ${size} bytes, over the cap of ${limits.maxReportBytes}.`,
    });
  }
  // The bytes are dropped once decoded: the parser runs without them held as external memory.
  const text = _decode(await _read(file, size, storage));
  if (text === null) return problem({ kind: "invalid-utf8", message: "The report is not valid UTF-8." });
  const tests = format === "junit" ? parseJUnit(text, limits) : parseCtrf(text, limits.maxTestCases);
  if (!Array.isArray(tests)) return problem(tests);
  return { id: ref.id, format, tests, cacheKey: null };
}

/** The text of UTF-8 bytes without a byte-order mark (as TextDecoder drops it), or `null` when invalid. */
function _decode(bytes: Buffer): string | null {
  // Validated first (fast, native), then decoded without replacement characters to look for.
  if (!isUtf8(bytes)) return null;
  const text = bytes.toString("utf8");
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** `junit` for XML with a `<testsuites>` or `<testsuite>` element, `ctrf` for CTRF JSON, else `null`. */
export function sniffFormat(head: string): TestReportFormat | null {
  const start = head.replace(/^\ufeff?\s*/, "");
  if (start.startsWith("<")) return /<testsuites?[\s>/]/.test(start) ? "junit" : null;
  if (start.startsWith("{")) {
    if (/"reportFormat"\s*:\s*"CTRF"/.test(start) || (/"results"\s*:/.test(start) && /"tests"\s*:\s*\[/.test(start)))
      return "ctrf";
    return null;
  }
  return null;
}

/** Reads the first `length` bytes of an open file (a file that shrank gives fewer). */
async function _read(file: ContainedFile, length: number, storage: Storage): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  let offset = 0;
  while (offset < length) {
    const at = offset;
    const { bytesRead } = await storage.call("read", () => file.handle.read(buffer, at, length - at, at));
    if (bytesRead === 0) break;
    offset += bytesRead;
  }
  return offset === length ? buffer : buffer.subarray(0, offset);
}
