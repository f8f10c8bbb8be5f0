// The merge of raw tests into a run's tests: attempts, collisions and keys in the one-pass merge.
import { describe, expect, it } from "vitest";
import { mergeTests } from "../src/test-results/merge.ts";
import type { RawTest } from "../src/test-results/model.ts";

const raw = (classname: string, name: string, spec: Partial<RawTest> = {}): RawTest => ({
  classname,
  name,
  suite: null,
  file: null,
  project: null,
  place: "/s",
  outcomes: ["passed"],
  durationMs: 1,
  message: null,
  detail: null,
  ...spec,
});

describe("mergeTests", () => {
  it("merges attempts in one place, keeps other places apart as collisions, and counts every place", () => {
    const merged = mergeTests([
      {
        id: "r",
        tests: [
          raw("a.B", "t", { outcomes: ["failed"], message: "first" }),
          raw("a.B", "t", { place: "/other" }),
          raw("a.B", "t", { outcomes: ["passed"] }),
          raw("a.B", "t", { place: "/third", outcomes: ["skipped"] }),
          raw("a.B", "t", { place: "/other", outcomes: ["errored"], message: "other" }),
          raw("a.B", "u"),
        ],
      },
    ]);
    expect(merged.tests.map((t) => [t.key, t.status, t.attempts, t.message, t.durationMs])).toEqual([
      ["a.B::t", "flaky", 2, "first", 2],
      ["a.B::t #2", "flaky", 2, "other", 2],
      ["a.B::t #3", "skipped", 1, null, 1],
      ["a.B::u", "passed", 1, null, 1],
    ]);
    expect(merged.collisions).toEqual([{ reportId: "r", classname: "a.B", name: "t", count: 3 }]);
    expect([...merged.byKey]).toEqual([
      ["a.B::t", 0],
      ["a.B::t #2", 1],
      ["a.B::t #3", 2],
      ["a.B::u", 3],
    ]);
    expect(merged.totals).toEqual({ tests: 4, passed: 1, failed: 0, errored: 0, skipped: 1, flaky: 2, durationMs: 6 });
  });

  it("never merges different identities whose keys read the same, nor a name that looks like a suffix", () => {
    const merged = mergeTests([
      {
        id: "r",
        tests: [
          raw("a::b", "c", { outcomes: ["failed"] }),
          raw("a", "b::c"),
          raw("", "a::b::c"),
          raw("x", "t"),
          raw("x", "t", { place: "/elsewhere" }),
          raw("x", "t #2"),
          raw("a", "b::c", { outcomes: ["failed"] }),
        ],
      },
    ]);
    expect(merged.tests.map((t) => [t.key, t.classname, t.name, t.status, t.attempts])).toEqual([
      ["a::b::c", "a::b", "c", "failed", 1],
      ["a::b::c #2", "a", "b::c", "flaky", 2],
      ["a::b::c #3", "", "a::b::c", "passed", 1],
      ["x::t", "x", "t", "passed", 1],
      ["x::t #2", "x", "t", "passed", 1],
      ["x::t #2 #2", "x", "t #2", "passed", 1],
    ]);
    expect(merged.collisions).toEqual([{ reportId: "r", classname: "x", name: "t", count: 2 }]);
  });

  it("prefixes the report id only for identities in several reports, and never merges across reports", () => {
    const merged = mergeTests([
      { id: "one", tests: [raw("a", "shared"), raw("a", "only-one")] },
      { id: "two", tests: [raw("a", "shared", { outcomes: ["failed"] }), raw("a", "only-two")] },
    ]);
    expect(merged.tests.map((t) => [t.key, t.reportId, t.status])).toEqual([
      ["one:a::shared", "one", "passed"],
      ["a::only-one", "one", "passed"],
      ["two:a::shared", "two", "failed"],
      ["a::only-two", "two", "passed"],
    ]);
    expect(merged.collisions).toEqual([]);
  });

  it("qualifies keys by project when a test runs in several projects", () => {
    const merged = mergeTests([
      { id: "r", tests: [raw("s", "t", { project: "chromium" }), raw("s", "t", { project: "firefox" })] },
    ]);
    expect(merged.tests.map((t) => t.key)).toEqual(["s::t [chromium]", "s::t [firefox]"]);
  });
});
