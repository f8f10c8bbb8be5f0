// What cli/ and adapters/ reach in the core: the public barrel plus the few helpers they share
// with it that are not part of the package's API. Never re-exported from index.ts.
export * from "./index.ts";
export { toEpochMs } from "./summary.ts";
export { idFromPath } from "./reports.ts";
export { hashStream, walkFiles, type Walk } from "./_hash.ts";
