import type { TestDiagnostic } from "./model.ts";

/** What the pre-scan learned of a document it accepted. */
export interface XmlScan {
  root: string;
  testCases: number;
}

export type ScanProblem = { kind: TestDiagnostic["kind"]; message: string };

/**
 * One linear pass over an XML document before the parser sees it, with no recursion: refuses a
 * DTD (so no entity can be declared, expanded or fetched), tags nested deeper than `maxDepth`,
 * mismatched or unclosed tags, and more than `maxTestCases` `<testcase>` elements. The parser
 * builds its tree only for documents that pass, so a hostile file costs one scan.
 */
export function scanXml(text: string, maxDepth: number, maxTestCases: number): XmlScan | ScanProblem {
  const stack: string[] = [];
  let root: string | null = null;
  let testCases = 0;
  let i = text.indexOf("<");
  while (i !== -1) {
    const next = text.charCodeAt(i + 1);
    if (next === 33 /* ! */) {
      if (text.startsWith("<!--", i)) i = _after(text, "-->", i + 4);
      else if (text.startsWith("<![CDATA[", i)) i = _after(text, "]]>", i + 9);
      else return { kind: "dtd-refused", message: "The report declares a DTD or entities; they are never read." };
    } else if (next === 63 /* ? */) {
      i = _after(text, "?>", i + 2);
    } else if (next === 47 /* / */) {
      const end = text.indexOf(">", i);
      if (end === -1) return _malformed("a closing tag is not closed");
      const name = text.slice(i + 2, end).trim();
      if (stack.pop() !== name) return _malformed("mismatched closing tag");
      i = end + 1;
    } else {
      const end = _tagEnd(text, i + 1);
      if (end === -1) return _malformed("a tag is not closed");
      const name = _name(text, i + 1, end);
      if (name === "") return _malformed("a tag has no name");
      if (stack.length === 0) {
        if (root !== null) return _malformed("more than one root element");
        root = name;
      }
      if (name === "testcase" && ++testCases > maxTestCases) {
        return { kind: "too-many-tests", message: `The report has more than ${maxTestCases} test cases.` };
      }
      if (text.charCodeAt(end - 1) !== 47 /* / */) {
        if (stack.length >= maxDepth) {
          return { kind: "too-deep", message: `The report nests elements deeper than ${maxDepth} levels.` };
        }
        stack.push(name);
      }
      i = end + 1;
    }
    if (i === 0) return _malformed("a comment, CDATA section or instruction is not closed");
    i = text.indexOf("<", i);
  }
  if (stack.length > 0) return _malformed("an element is not closed");
  if (root === null) return _malformed("no root element");
  return { root, testCases };
}

function _malformed(why: string): ScanProblem {
  return { kind: "malformed", message: `The report is not well-formed XML: ${why}.` };
}

/** The index just past `close` searched from `from`, or 0 when it never comes (caught by the caller). */
function _after(text: string, close: string, from: number): number {
  const at = text.indexOf(close, from);
  return at === -1 ? 0 : at + close.length;
}

/** The index of the `>` that ends a start tag, skipping quoted attribute values; -1 when none. */
function _tagEnd(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 62 /* > */) return i;
    if (c === 34 || c === 39) {
      const close = text.indexOf(c === 34 ? '"' : "'", i + 1);
      if (close === -1) return -1;
      i = close;
    } else if (c === 60 /* < */) return -1;
  }
  return -1;
}

function _name(text: string, from: number, end: number): string {
  let i = from;
  while (i < end) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13 || c === 47) break;
    i++;
  }
  return text.slice(from, i);
}
