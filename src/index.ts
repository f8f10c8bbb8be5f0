// Runs
export {
  listRetainedRuns,
  latestRun,
  getRetainedRun,
  iterateRetainedRuns,
  type RunsOptions,
  type ListRetainedRunsOptions,
  type IterateRetainedRunsOptions,
  type LatestRunOptions,
  type RetainedRunList,
} from "./runs.ts";
export { createRunIndex, type RunIndex, type RunIndexOptions, type RunIndexChange } from "./run-index.ts";
export {
  retainedRunSchema,
  compatibilitySchema,
  type RetainedRun,
  type Compatibility,
  type ManifestKind,
} from "./run.ts";
export { runFiltersSchema, listQuerySchema, labelSelectorSchema, type RunFilters, type ListQuery } from "./query.ts";
export {
  diagnosticSchema,
  DIAGNOSTIC_KINDS,
  TOOL_PREFIX,
  type Diagnostic,
  type DiagnosticKind,
  type ScanOptions,
} from "./scan.ts";

// Reports and manifests
export {
  reportPaths,
  reportSchema,
  reportListSchema,
  type Report,
  type ReportList,
  type ReportPage,
} from "./reports.ts";
export {
  artifactManifest,
  submissionManifest,
  artifactManifestFileSchema,
  artifactManifestSchema,
  artifactSchema,
  compatibilityMarkerSchema,
  submissionManifestSchema,
  ARTIFACT_MANIFEST_FILE,
  type Artifact,
  type ArtifactManifest,
  type CompatibilityMarker,
  type SubmissionManifest,
} from "./manifest.ts";

// Test results (JUnit XML, CTRF JSON) and comparing runs
export {
  testResults,
  type TestResultsOptions,
  type TestQuery,
  type RunSelector,
  type LatestRunSelector,
} from "./test-results/results.ts";
export { compareRuns } from "./test-results/compare.ts";
// Test history across runs (failing since, flake rate, rankings)
export {
  testHistory,
  topTests,
  HISTORY_WINDOW,
  TOP_TESTS,
  TOP_TESTS_BY,
  RECENT_RUNS,
  testHistorySchema,
  testHistoryRunSchema,
  topTestsSchema,
  topTestSchema,
  type TestHistory,
  type TestHistoryOptions,
  type TestHistoryQuery,
  type TopTests,
  type TopTest,
  type TopTestsBy,
  type TopTestsQuery,
} from "./test-results/history.ts";
export {
  TEST_STATUSES,
  testStatusSchema,
  testResultSchema,
  testResultsSchema,
  testDiagnosticSchema,
  runComparisonSchema,
  failingSinceSchema,
  historyStatusSchema,
  type FailingSince,
  type HistoryStatus,
  type TestStatus,
  type TestResult,
  type TestResults,
  type TestDiagnostic,
  type TestCollision,
  type RunComparison,
} from "./test-results/model.ts";

// Verifying artifacts
export {
  verifyArtifacts,
  verifyResultSchema,
  verifyProblemSchema,
  type VerifyResult,
  type VerifyProblem,
} from "./verify.ts";

// Opening files
export { openReport, openArtifact, type OpenedFile } from "./files.ts";

// Logs
export { listRunLogs, openRunLog, logSchema, logListSchema, type Log, type LogList } from "./logs.ts";
export { readLogTail, MAX_TAIL_LINES, type LogTail, type TailOptions, type TailRange } from "./log-tail.ts";

// On-disk contract
export {
  SUMMARY_FILE,
  RUN_STATUSES,
  runStatusSchema,
  timestampSchema,
  reportRefSchema,
  logRefSchema,
  testTotalsSchema,
  legacySummarySchema,
  currentSummarySchema,
  newerSummarySchema,
  parseSummary,
  type RunStatus,
  type ReportRef,
  type LogRef,
  type TestTotals,
  type LegacySummary,
  type CurrentSummary,
  type NewerSummary,
  type ParsedSummary,
  type SummaryGeneration,
} from "./summary.ts";
export { RUN_ID_PATTERN, isRunId, assertRunId } from "./run-id.ts";

// Path safety
export {
  checkRef,
  resolveInRun,
  openInRun,
  UNSAFE_REASONS,
  type UnsafeReason,
  type RefCheck,
  type ResolvedRef,
  type ContainedFile,
} from "./paths.ts";
export { mediaTypeOf } from "./media-type.ts";

// Errors and wire format
export { GuideBoardError, isGuideBoardError, type GuideBoardErrorCode } from "./errors.ts";
export { toJSONText } from "./json.ts";
