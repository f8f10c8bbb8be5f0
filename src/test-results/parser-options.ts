// The one place the XML parser's settings are written. The library parses JUnit reports with
// them, and the benchmark's baseline (the parser alone) imports them from the build's
// dist/parser-options.js, so the two can never drift apart.
import type { XMLParser } from "fast-xml-parser";

/**
 * The parser's settings: DTDs and entities off (the pre-scan refuses a DOCTYPE before the parser
 * runs, and `processEntities: false` leaves any `&name;` as inert text), attributes kept in `@`,
 * every element an array so the walk has one shape, and the nesting cap enforced a second time.
 */
export function junitParserOptions(maxDepth: number): ConstructorParameters<typeof XMLParser>[0] {
  return {
    ignoreAttributes: false,
    attributeNamePrefix: "",
    attributesGroupName: "@",
    textNodeName: "#text",
    cdataPropName: "#cdata",
    alwaysCreateTextNode: true,
    parseTagValue: false,
    parseAttributeValue: false,
    processEntities: false,
    htmlEntities: false,
    ignoreDeclaration: true,
    ignorePiTags: true,
    isArray: (_name: string, _path: unknown, _leaf: boolean, isAttribute: boolean) => !isAttribute,
    maxNestedTags: maxDepth + 1,
    jPath: false,
  };
}
