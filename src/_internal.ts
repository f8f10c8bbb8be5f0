// What cli/ and adapters/ reach in the core: the public barrel plus the few helpers they share
// with it that are not part of the package's API. Never re-exported from index.ts.
export * from "./index.ts";
export { toEpochMs } from "./summary.ts";
export { idFromPath } from "./reports.ts";
export { DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT } from "./query.ts";
export { runsOptionsOf } from "./runs.ts";
export { findRunFolder, openConventionalLog, logRefsOf, CONVENTIONAL_LOGS } from "./logs.ts";
export { findTailStart, DEFAULT_TAIL_MAX_BYTES } from "./log-tail.ts";
export { resolveRunSelector, loadRunTests, totalsOfReports, selectorOf } from "./test-results/results.ts";
export { compareLoaded, withComparisonHistory } from "./test-results/compare.ts";
export { clearTestHistoryCache, setTestHistoryKeyBound, withTestHistory } from "./test-results/history.ts";
export { totalsOf } from "./test-results/merge.ts";
export { TESTS_PAGE } from "./test-results/model.ts";
export { hashStream, walkFiles, type Walk } from "./_hash.ts";
