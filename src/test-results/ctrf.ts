import { z } from "zod";
import { describeIssue } from "../summary.ts";
import { cap, MAX_DETAIL_CHARS, MAX_MESSAGE_CHARS, type RawTest } from "./model.ts";
import type { ScanProblem } from "./xml-scan.ts";

const CTRF_STATUSES = ["passed", "failed", "skipped", "pending", "other"] as const;

/** One test of a CTRF report: the fields guide-board reads are typed, the rest is kept as it is. */
export const ctrfTestSchema = z.looseObject({
  name: z.string(),
  status: z.enum(CTRF_STATUSES),
  duration: z.number().min(0),
  message: z.string().optional(),
  trace: z.string().optional(),
  suite: z.union([z.string(), z.array(z.string())]).optional(),
  filePath: z.string().optional(),
  retries: z.number().int().min(0).optional(),
  flaky: z.boolean().optional(),
});

/** A CTRF (Common Test Report Format) JSON document, as far as guide-board reads it. */
export const ctrfReportSchema = z.looseObject({
  reportFormat: z.literal("CTRF").optional(),
  results: z.looseObject({
    tool: z.looseObject({ name: z.string() }).optional(),
    tests: z.array(ctrfTestSchema),
  }),
});

/** Whether parsed JSON looks like CTRF (before validation): `reportFormat: "CTRF"` or `results.tests`. */
export function looksLikeCtrf(data: unknown): boolean {
  if (typeof data !== "object" || data === null) return false;
  const record = data as Record<string, unknown>;
  const results = record.results as Record<string, unknown> | undefined;
  return record.reportFormat === "CTRF" || (typeof results === "object" && results !== null && "tests" in results);
}

/**
 * The tests of a CTRF document, or a problem: wrong types are an `invalid-ctrf` diagnostic naming
 * the first bad field. `pending` and `other` read as `skipped`; a passed test marked `flaky`, or
 * passed after retries, is `flaky`; `retries` adds to the attempts.
 */
export function parseCtrf(text: string, maxTests: number): RawTest[] | ScanProblem {
  let data: unknown;
  try {
    data = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch {
    return { kind: "malformed", message: "The report is not valid JSON." };
  }
  if (!looksLikeCtrf(data)) return { kind: "not-a-test-report", message: "The JSON is not a CTRF report." };
  const count = (data as { results: { tests?: unknown } }).results.tests;
  if (Array.isArray(count) && count.length > maxTests) {
    return { kind: "too-many-tests", message: `The report has more than ${maxTests} tests.` };
  }
  const parsed = ctrfReportSchema.safeParse(data);
  if (!parsed.success) return { kind: "invalid-ctrf", message: `CTRF field ${describeIssue(parsed.error)}` };
  const tests: RawTest[] = parsed.data.results.tests.map((test) => {
    const suite = Array.isArray(test.suite) ? test.suite.join(" > ") : (test.suite ?? null);
    const retries = test.retries ?? 0;
    const last = test.status === "passed" ? "passed" : test.status === "failed" ? "failed" : "skipped";
    const earlier = test.flaky || (retries > 0 && last === "passed") ? "failed" : last;
    return {
      classname: suite ?? test.filePath ?? "",
      name: test.name,
      suite,
      file: test.filePath ?? null,
      project: null,
      place: "",
      outcomes: [...Array<typeof earlier>(Math.max(retries, test.flaky ? 1 : 0)).fill(earlier), last],
      durationMs: test.duration,
      message: cap(test.message, MAX_MESSAGE_CHARS),
      detail: cap(test.trace, MAX_DETAIL_CHARS),
    };
  });
  if (tests.length === 0) return { kind: "empty", message: "The report holds no tests." };
  return tests;
}
