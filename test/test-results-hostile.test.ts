import { mkdirSync, renameSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { XMLParser } from "fast-xml-parser";
import { describe, expect, it, vi } from "vitest";
import { testResults, toJSONText } from "../src/index.ts";
import { junitParserOptions } from "../src/test-results/parser-options.ts";
import { ctrfReport, junitReport } from "./helpers/junit.ts";
import { makeFifo } from "./helpers/fifo.ts";
import { makeRunsDir, writeCurrentRun, writeFile, type ReportSpec } from "./helpers/runs.ts";

// A report replaced while the parser works on it: the mocked parser swaps the file under the
// run (by rename, as writers do) the first time it runs, then parses what it was given.
const swap = vi.hoisted(() => ({ next: null as null | (() => void), always: false }));
vi.mock("fast-xml-parser", async (importOriginal) => {
  const real = await importOriginal<typeof import("fast-xml-parser")>();
  class SwappingParser extends real.XMLParser {
    override parse(xml: string | Uint8Array) {
      const hook = swap.next;
      if (!swap.always) swap.next = null;
      hook?.();
      return super.parse(xml);
    }
  }
  return { ...real, XMLParser: SwappingParser };
});

function run(reports: ReportSpec[]) {
  const { root, runsDir } = makeRunsDir();
  const runDir = writeCurrentRun(runsDir, "r", { reports, artifacts: {} });
  return { root, runsDir, runDir };
}

async function diagnosticsOf(content: string | Buffer, format: "junit" | "ctrf" = "junit") {
  const { runsDir, runDir } = run([{ id: "rep", path: "rep.xml", content: null, format }]);
  writeFile(join(runDir, "rep.xml"), content);
  return testResults({ runsDir }, "r");
}

const BILLION_LAUGHS = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
]>
<testsuite name="s"><testcase classname="c" name="&lol9;"><failure message="&lol9;"/></testcase></testsuite>`;

describe("hostile test reports", () => {
  it("billion laughs: a diagnostic, and the parser itself leaves entities as inert text", async () => {
    const results = await diagnosticsOf(BILLION_LAUGHS);
    expect(results.tests).toEqual([]);
    expect(results.diagnostics).toEqual([{ reportId: "rep", kind: "dtd-refused", message: expect.any(String) }]);
    // Defence in depth: even without the pre-scan, the parser's settings expand nothing.
    const parsed = JSON.stringify(new XMLParser(junitParserOptions(64)).parse(BILLION_LAUGHS));
    expect(parsed).toContain("&lol9;");
    expect(parsed).not.toContain("lollol");
  });

  it("an external entity pointing at a canary file: never read", async () => {
    const { root, runsDir, runDir } = run([{ id: "rep", path: "rep.xml", content: null, format: "junit" }]);
    const canary = join(root, "canary.txt");
    writeFileSync(canary, "CANARY-outside");
    const xxe = `<?xml version="1.0"?><!DOCTYPE t [<!ENTITY xxe SYSTEM "file://${canary}">]>
<testsuite><testcase classname="c" name="&xxe;"><failure message="&xxe;">&xxe;</failure></testcase></testsuite>`;
    writeFile(join(runDir, "rep.xml"), xxe);
    const results = await testResults({ runsDir }, "r");
    expect(results.diagnostics.map((d) => d.kind)).toEqual(["dtd-refused"]);
    expect(toJSONText(results)).not.toContain("CANARY");
    // Defence in depth: the parser on its own refuses external entities outright.
    expect(() => new XMLParser(junitParserOptions(64)).parse(xxe)).toThrow(/external entit/i);
  });

  it("10,000 levels of nesting: a diagnostic, no stack overflow (pre-scan and parser both cap)", async () => {
    const deep = `<testsuites>${"<testsuite>".repeat(10_000)}<testcase name="x"/>${"</testsuite>".repeat(10_000)}</testsuites>`;
    const results = await diagnosticsOf(deep);
    expect(results.diagnostics).toEqual([{ reportId: "rep", kind: "too-deep", message: expect.any(String) }]);
    expect(() => new XMLParser(junitParserOptions(64)).parse(deep)).toThrow(/nested/i);
  });

  it("a 100 MB attribute is over the default 64 MiB cap; a long message under it is capped", async () => {
    const huge = Buffer.alloc(100 * 1024 * 1024 + 200, "a");
    const head = Buffer.from('<testsuite><testcase classname="c" name="t"><failure message="');
    head.copy(huge);
    Buffer.from('"/></testcase></testsuite>').copy(huge, huge.length - 30);
    const results = await diagnosticsOf(huge);
    expect(results.diagnostics).toEqual([{ reportId: "rep", kind: "too-large", message: expect.any(String) }]);
    const long = await diagnosticsOf(
      junitReport([
        { classname: "c", name: "t", status: "failed", message: "m".repeat(2_000_000), detail: "d".repeat(100_000) },
      ]),
    );
    expect(long.tests[0]!.message).toHaveLength(1024);
    expect(long.tests[0]!.message!.endsWith("…")).toBe(true);
    expect(long.tests[0]!.detail).toHaveLength(4096);
  });

  it("invalid UTF-8 and mismatched tags", async () => {
    const bad = Buffer.concat([
      Buffer.from('<testsuite><testcase name="'),
      Buffer.from([0xff, 0xfe, 0xc3]),
      Buffer.from('"/></testsuite>'),
    ]);
    expect((await diagnosticsOf(bad)).diagnostics[0]!.kind).toBe("invalid-utf8");
    const mismatched = "<testsuites><testsuite><testcase name='a'></testsuite></testcase></testsuites>";
    expect((await diagnosticsOf(mismatched)).diagnostics[0]).toMatchObject({
      kind: "malformed",
      message: expect.stringMatching(/mismatched/),
    });
    expect((await diagnosticsOf("<testsuite><testcase name='a'/>")).diagnostics[0]!.kind).toBe("malformed");
  });

  it("a JUnit root with no tests, an XML file that is not JUnit (declared, then undeclared)", async () => {
    expect((await diagnosticsOf('<testsuites><testsuite name="x" tests="0"/></testsuites>')).diagnostics[0]!.kind).toBe(
      "empty",
    );
    expect((await diagnosticsOf("<html><body>hi</body></html>")).diagnostics[0]!.kind).toBe("not-a-test-report");
    const { runsDir } = run([{ id: "svg", path: "pic.xml", content: "<svg><g/></svg>" }]);
    expect(await testResults({ runsDir }, "r")).toMatchObject({ tests: [], reports: [], diagnostics: [] });
  });

  it("CTRF with wrong types names the field", async () => {
    const wrong = ctrfReport([{ name: "a", status: "passed", duration: "fast" }]);
    const results = await diagnosticsOf(wrong, "ctrf");
    expect(results.diagnostics).toEqual([
      { reportId: "rep", kind: "invalid-ctrf", message: expect.stringContaining("results.tests.0.duration") },
    ]);
    expect((await diagnosticsOf('{"results": {"tests": "no"}}', "ctrf")).diagnostics[0]!.kind).toBe("invalid-ctrf");
    expect((await diagnosticsOf("{nope", "ctrf")).diagnostics[0]!.kind).toBe("malformed");
  });

  it("a report replaced while it is parsed is read again, so the result is the new file's", async () => {
    const { runsDir, runDir } = run([
      { id: "rep", path: "rep.xml", content: junitReport([{ classname: "c", name: "old" }]), format: "junit" },
    ]);
    swap.next = () => {
      writeFileSync(join(runDir, "next.xml"), junitReport([{ classname: "c", name: "new", status: "failed" }]));
      renameSync(join(runDir, "next.xml"), join(runDir, "rep.xml"));
    };
    const results = await testResults({ runsDir }, "r");
    expect(results.tests.map((test) => test.name)).toEqual(["new"]);
    expect(results.diagnostics).toEqual([]);
  });

  it("a report that keeps changing gives changed-while-reading, never a mix", async () => {
    const { runsDir, runDir } = run([
      { id: "rep", path: "rep.xml", content: junitReport([{ classname: "c", name: "v0" }]), format: "junit" },
    ]);
    let n = 0;
    swap.always = true;
    swap.next = () => {
      writeFileSync(join(runDir, "next.xml"), junitReport([{ classname: "c", name: `v${++n}` }]));
      renameSync(join(runDir, "next.xml"), join(runDir, "rep.xml"));
    };
    try {
      const results = await testResults({ runsDir }, "r");
      expect(results.tests).toEqual([]);
      expect(results.diagnostics.map((d) => d.kind)).toEqual(["changed-while-reading"]);
    } finally {
      swap.always = false;
      swap.next = null;
    }
  });

  it("unsafe refs, links out of the run and FIFOs: diagnostics, nothing read outside, no hang", async () => {
    const { root, runsDir, runDir } = run([
      { id: "up", path: "../../canary.xml", content: null, format: "junit" },
      { id: "link", path: "reports/link.xml", content: null, format: "junit" },
      { id: "fifo", path: "reports/fifo.xml", content: null, format: "junit" },
      { id: "gone", path: "reports/gone.xml", content: null, format: "ctrf" },
    ]);
    writeFileSync(join(root, "canary.xml"), junitReport([{ classname: "CANARY", name: "outside" }]));
    mkdirSync(join(runDir, "reports"));
    symlinkSync(join(root, "canary.xml"), join(runDir, "reports", "link.xml"));
    makeFifo(join(runDir, "reports", "fifo.xml"));
    const started = Date.now();
    const results = await testResults({ runsDir }, "r");
    expect(Date.now() - started).toBeLessThan(2500);
    expect(results.diagnostics.map((d) => `${d.reportId}:${d.kind}`)).toEqual([
      "up:unsafe-path",
      "link:unsafe-path",
      "fifo:unreadable",
      "gone:unreadable",
    ]);
    expect(toJSONText(results)).not.toContain("CANARY");
  });
});
