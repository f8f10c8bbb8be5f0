import { XMLParser } from "fast-xml-parser";
import { junitParserOptions } from "./parser-options.ts";
import { cap, MAX_DETAIL_CHARS, MAX_MESSAGE_CHARS, type RawTest } from "./model.ts";
import { scanXml, type ScanProblem } from "./xml-scan.ts";

type Node = Record<string, unknown>;
type Outcome = RawTest["outcomes"][number];

/** Limits on one JUnit document. */
export interface JUnitLimits {
  maxDepth: number;
  maxTestCases: number;
}

/** Whether an XML root element makes a document JUnit. */
export const isJUnitRoot = (root: string): boolean => root === "testsuites" || root === "testsuite";

/**
 * The test cases of a JUnit XML document, one per `<testcase>` element, in document order; or a
 * problem. Covers Ant/Jenkins, Surefire (flaky and rerun elements as attempts), pytest xunit1
 * and xunit2, jest-junit, Playwright (projects as suite `hostname`), gotestsum and nested suites.
 */
export function parseJUnit(text: string, limits: JUnitLimits): RawTest[] | ScanProblem {
  const scan = scanXml(text, limits.maxDepth, limits.maxTestCases);
  if ("kind" in scan) return scan;
  if (!isJUnitRoot(scan.root)) {
    return { kind: "not-a-test-report", message: "The XML root is neither <testsuites> nor <testsuite>." };
  }
  let document: Node;
  try {
    document = new XMLParser(junitParserOptions(limits.maxDepth)).parse(text) as Node;
  } catch {
    return { kind: "malformed", message: "The report is not well-formed XML." };
  }
  const walk: Walk = { tests: [], spans: [] };
  for (const root of _children(document, scan.root)) {
    if (scan.root === "testsuite") _suite(root, null, "", walk);
    else _suite(root, null, "", walk, true);
  }
  if (walk.tests.length === 0) return { kind: "empty", message: "The report holds no test cases." };
  _qualifyProjects(walk);
  return walk.tests;
}

/** The tests built so far, and which of them each suite with cases holds (its cases come in a row). */
interface Walk {
  tests: RawTest[];
  spans: { project: string | null; from: number; to: number }[];
}

function _suite(node: Node, parent: Node | null, place: string, walk: Walk, isRoot = false): void {
  const raw = _rawAttrs(node);
  const name = isRoot ? null : _attr(raw, "name");
  const here = isRoot ? place : `${place}/${name ?? ""}`;
  const context: SuiteContext = {
    suite: name,
    file: _attr(raw, "file") ?? _attr(raw, "filepath"),
    project: _attr(raw, "hostname"),
    classname: name ?? (parent ? _attr(_rawAttrs(parent), "name") : null) ?? "",
    place: here,
  };
  const cases = _children(node, "testcase");
  const from = walk.tests.length;
  for (let i = 0; i < cases.length; i++) {
    _case(cases[i]!, context, walk.tests);
    cases[i] = RELEASED; // the parser's tree goes as the tests are built: later collections skip it
  }
  if (cases.length > 0) walk.spans.push({ project: context.project, from, to: walk.tests.length });
  const suites = _children(node, "testsuite");
  for (let i = 0; i < suites.length; i++) {
    _suite(suites[i]!, node, here, walk);
    suites[i] = RELEASED;
  }
}

/** What the cases of one suite share. */
interface SuiteContext {
  suite: string | null;
  file: string | null;
  project: string | null;
  /** The classname of a case that gives none: its suite's name, else the enclosing suite's. */
  classname: string;
  place: string;
}

/** Takes the place of a walked element in the parser's tree, so the element can be collected. */
const RELEASED: Node = Object.freeze({});

/** Surefire's attempt elements: flaky ones come before the main outcome, reruns after it. */
const FLAKY = ["flakyFailure", "flakyError"] as const;
const RERUN = ["rerunFailure", "rerunError"] as const;

function _case(node: Node, suite: SuiteContext, out: RawTest[]): void {
  // Each attribute by its own name (not through _attr): one shape of element, monomorphic reads.
  const raw = _rawAttrs(node);
  const time = _decoded(raw?.time) ?? "0";
  const seconds = Number.parseFloat(time.includes(",") ? time.replace(/,/g, "") : time);
  const durationMs = Number.isFinite(seconds) && seconds > 0 ? Math.round(seconds * 1e6) / 1e3 : 0;
  const test: RawTest = {
    classname: _decoded(raw?.classname) ?? suite.classname,
    name: _decoded(raw?.name) ?? "",
    suite: suite.suite,
    file: _decoded(raw?.file) ?? suite.file,
    project: null, // set by _qualifyProjects when it qualifies the identity
    place: suite.place,
    outcomes: ONE_PASS,
    durationMs,
    message: null,
    detail: null,
  };
  out.push(test);
  // Most cases passed in one attempt and have no child element: no arrays, no message to find.
  if (node.error === undefined && node.failure === undefined && node.skipped === undefined && _noAttempts(node)) return;
  const outcomes: Outcome[] = [];
  const note = (element: Node) => {
    if (test.message !== null || test.detail !== null) return;
    const stack = _children(element, "stackTrace")[0];
    const body = stack ? _text(stack) : _text(element);
    test.message = cap(_attr(_rawAttrs(element), "message") ?? _firstLine(body), MAX_MESSAGE_CHARS);
    test.detail = cap(body, MAX_DETAIL_CHARS);
  };
  const attempts = (kinds: typeof FLAKY | typeof RERUN) => {
    for (const kind of kinds) {
      for (const element of _children(node, kind)) {
        outcomes.push(kind === kinds[0] ? "failed" : "errored");
        note(element);
      }
    }
  };
  attempts(FLAKY);
  const error = _children(node, "error")[0];
  const failure = _children(node, "failure")[0];
  const skipped = _children(node, "skipped")[0];
  const main = error ?? failure ?? skipped;
  if (main) {
    // The main outcome's message wins over the flaky attempts' before it.
    test.message = null;
    test.detail = null;
    note(main);
  }
  outcomes.push(error ? "errored" : failure ? "failed" : skipped ? "skipped" : "passed");
  attempts(RERUN);
  test.outcomes = outcomes;
}

/** One passed attempt: shared by every case that has nothing else to say (never mutated). */
const ONE_PASS: Outcome[] = Object.freeze(["passed"]) as unknown as Outcome[];

const _noAttempts = (node: Node): boolean =>
  node.flakyFailure === undefined &&
  node.flakyError === undefined &&
  node.rerunFailure === undefined &&
  node.rerunError === undefined;

/**
 * Playwright runs one test in several projects and names each project in its suite's `hostname`;
 * elsewhere `hostname` is the machine, the same for every suite. A project qualifies a test's
 * identity only when one identity really shows up under several of them. Tests are built without
 * one; with one machine (or project) for the whole report, which suites tell, none is set.
 */
function _qualifyProjects({ tests, spans }: Walk): void {
  if (new Set(spans.map((span) => span.project)).size < 2) return;
  for (const { project, from, to } of spans) for (let i = from; i < to; i++) tests[i]!.project = project;
  const first = new Map<string, string | null>();
  const several = new Set<string>();
  for (const test of tests) {
    const id = `${test.classname}\u0000${test.name}`;
    if (!first.has(id)) first.set(id, test.project);
    else if (first.get(id) !== test.project) several.add(id);
  }
  if (several.size === 0) for (const test of tests) test.project = null;
  else for (const test of tests) if (!several.has(`${test.classname}\u0000${test.name}`)) test.project = null;
}

const NONE: Node[] = [];

function _children(node: Node, name: string): Node[] {
  const value = node[name];
  if (!Array.isArray(value)) return NONE;
  for (const item of value) {
    if (typeof item !== "object" || item === null) {
      return value.filter((kept) => typeof kept === "object" && kept !== null) as Node[];
    }
  }
  return value as Node[];
}

/** The element's attributes as the parser gives them (undecoded), or `null`. */
function _rawAttrs(node: Node): Record<string, unknown> | null {
  const raw = node["@"];
  return typeof raw === "object" && raw !== null ? (raw as Record<string, unknown>) : null;
}

/** One attribute guide-board reads, decoded; `null` when absent. */
function _attr(raw: Record<string, unknown> | null, name: string): string | null {
  return _decoded(raw?.[name]);
}

const _decoded = (value: unknown): string | null => (typeof value === "string" ? decodeXml(value) : null);

function _text(node: Node): string {
  const text = node["#text"];
  let out = typeof text === "string" ? decodeXml(text) : Array.isArray(text) ? text.map(String).join("") : "";
  for (const cdata of _children(node, "#cdata")) out += typeof cdata["#text"] === "string" ? cdata["#text"] : "";
  return out;
}

function _firstLine(text: string): string {
  const line = text.trimStart();
  const end = line.indexOf("\n");
  return end === -1 ? line : line.slice(0, end).trimEnd();
}

const XML_ENTITY = /&(?:(lt|gt|amp|quot|apos)|#(\d{1,7})|#x([0-9a-fA-F]{1,6}));/g;
const PREDEFINED: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };

/**
 * Decodes XML's five predefined entities and character references, nothing else: a reference to
 * any other entity stays as text. One pass, no expansion.
 */
export function decodeXml(text: string): string {
  if (!text.includes("&")) return text;
  return text.replace(XML_ENTITY, (whole, name: string | undefined, dec: string | undefined, hex?: string) => {
    if (name) return PREDEFINED[name]!;
    const code = Number.parseInt(dec ?? hex!, dec ? 10 : 16);
    return code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff) ? String.fromCodePoint(code) : whole;
  });
}
