// Builders for test reports as real tools write them (shapes taken from each tool's output).

const esc = (text: string) =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

export type CaseStatus = "passed" | "failed" | "errored" | "skipped";

/** One test case for {@link junitReport}. */
export interface CaseSpec {
  classname?: string;
  name: string;
  status?: CaseStatus;
  message?: string;
  detail?: string;
  time?: number;
}

/** A `<testcase>` element. */
export function testcase(spec: CaseSpec): string {
  const attrs = [
    spec.classname === undefined ? "" : ` classname="${esc(spec.classname)}"`,
    ` name="${esc(spec.name)}"`,
    ` time="${spec.time ?? 0.01}"`,
  ].join("");
  const message = esc(spec.message ?? "boom");
  const detail = esc(spec.detail ?? "at test.js:1");
  switch (spec.status ?? "passed") {
    case "failed":
      return `<testcase${attrs}><failure message="${message}" type="AssertionError">${detail}</failure></testcase>`;
    case "errored":
      return `<testcase${attrs}><error message="${message}" type="Error">${detail}</error></testcase>`;
    case "skipped":
      return `<testcase${attrs}><skipped message="${message}"/></testcase>`;
    default:
      return `<testcase${attrs}/>`;
  }
}

/** A plain JUnit report: one `<testsuite>` per classname under `<testsuites>`. */
export function junitReport(cases: CaseSpec[]): string {
  const byClass = new Map<string, CaseSpec[]>();
  for (const spec of cases) {
    const key = spec.classname ?? "";
    byClass.set(key, [...(byClass.get(key) ?? []), spec]);
  }
  const suites = [...byClass].map(
    ([name, specs]) =>
      `<testsuite name="${esc(name)}" tests="${specs.length}">${specs.map(testcase).join("")}</testsuite>`,
  );
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>${suites.join("\n")}</testsuites>\n`;
}

/** Ant / Jenkins: one suite per class, hostname, properties and output. */
export function antReport(): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<testsuites>
  <testsuite name="com.acme.MathTest" tests="2" failures="1" errors="0" skipped="0" time="0.5" hostname="ci-agent-7" timestamp="2026-01-01T00:00:00">
    <properties><property name="java.version" value="21"/></properties>
    <testcase classname="com.acme.MathTest" name="adds" time="0.1"/>
    <testcase classname="com.acme.MathTest" name="divides" time="0.4">
      <failure message="expected:&lt;2&gt; but was:&lt;3&gt;" type="junit.framework.AssertionFailedError">junit.framework.AssertionFailedError: expected:&lt;2&gt; but was:&lt;3&gt;
	at com.acme.MathTest.divides(MathTest.java:20)</failure>
    </testcase>
    <system-out><![CDATA[hello]]></system-out>
  </testsuite>
  <testsuite name="com.acme.IoTest" tests="2" failures="0" errors="1" skipped="1" time="1.25" hostname="ci-agent-7">
    <testcase classname="com.acme.IoTest" name="reads" time="1.25"><error message="disk gone" type="java.io.IOException">java.io.IOException: disk gone</error></testcase>
    <testcase classname="com.acme.IoTest" name="writes" time="0"><skipped/></testcase>
  </testsuite>
</testsuites>
`;
}

/** Maven Surefire with reruns: flaky (failed then passed) and always failing (rerun elements). */
export function surefireReport(): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<testsuite xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" name="com.acme.NetTest" time="3.1" tests="4" errors="0" skipped="0" failures="1">
  <testcase name="connects" classname="com.acme.NetTest" time="1.0">
    <flakyFailure message="timeout" type="java.net.SocketTimeoutException"><stackTrace>java.net.SocketTimeoutException: timeout
	at com.acme.NetTest.connects</stackTrace><system-out>retrying</system-out></flakyFailure>
  </testcase>
  <testcase name="resolves" classname="com.acme.NetTest" time="0.5">
    <flakyError message="dns" type="java.net.UnknownHostException"><stackTrace>dns</stackTrace></flakyError>
    <flakyFailure message="dns again" type="java.lang.AssertionError"><stackTrace>dns again</stackTrace></flakyFailure>
  </testcase>
  <testcase name="sends" classname="com.acme.NetTest" time="1.5">
    <failure message="refused" type="java.lang.AssertionError">refused first</failure>
    <rerunFailure message="refused again" type="java.lang.AssertionError"><stackTrace>refused again</stackTrace></rerunFailure>
    <rerunError message="reset" type="java.io.IOException"><stackTrace>reset</stackTrace></rerunError>
  </testcase>
  <testcase name="closes" classname="com.acme.NetTest" time="0.1"/>
</testsuite>
`;
}

/** pytest `junit_family=xunit1` (older pytest: `<testsuite>` root, `file` and `line` on cases). */
export function pytestXunit1(): string {
  return `<?xml version="1.0" encoding="utf-8"?><testsuite errors="0" failures="1" hostname="box" name="pytest" skipped="1" tests="3" time="0.05"><testcase classname="tests.test_math" file="tests/test_math.py" line="3" name="test_add" time="0.001"/><testcase classname="tests.test_math" file="tests/test_math.py" line="7" name="test_sub" time="0.002"><failure message="assert 1 == 2">def test_sub():
&gt;       assert 1 == 2
E       assert 1 == 2</failure></testcase><testcase classname="tests.test_math" file="tests/test_math.py" line="11" name="test_win" time="0.000"><skipped message="windows only" type="pytest.skip">tests/test_math.py:11: windows only</skipped></testcase></testsuite>`;
}

/** pytest `junit_family=xunit2` (the default): `<testsuites>` root, no `file`/`line`; a setup error. */
export function pytestXunit2(): string {
  return `<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" errors="1" failures="0" skipped="0" tests="2" time="0.1" timestamp="2026-01-01T00:00:00" hostname="box"><testcase classname="tests.test_db" name="test_query" time="0.05"/><testcase classname="tests.test_db" name="test_connect" time="0.01"><error message="failed on setup with &quot;ConnectionRefusedError&quot;">fixture 'db' failed</error></testcase></testsuite></testsuites>`;
}

/** jest-junit: classname and name equal (its default templates), suite per file. */
export function jestJunit(): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="jest tests" tests="3" failures="1" errors="0" time="1.2">
  <testsuite name="math" errors="0" failures="1" skipped="0" timestamp="2026-01-01T00:00:00" time="1.0" tests="2">
    <testcase classname="math adds" name="math adds" time="0.003"></testcase>
    <testcase classname="math divides" name="math divides" time="0.004">
      <failure>Error: expect(received).toBe(expected)

Expected: 2
Received: 3
    at Object.&lt;anonymous&gt; (math.test.js:7:20)</failure>
    </testcase>
  </testsuite>
  <testsuite name="strings" errors="0" failures="0" skipped="1" time="0.2" tests="1">
    <testcase classname="strings pads" name="strings pads" time="0"><skipped/></testcase>
  </testsuite>
</testsuites>
`;
}

/** Playwright's junit reporter: the same tests in two projects, named in each suite's `hostname`. */
export function playwrightReport(firefoxFails = true): string {
  const suite = (project: string, fail: boolean) =>
    `<testsuite name="login.spec.ts" timestamp="2026-01-01T00:00:00" hostname="${project}" tests="2" failures="${fail ? 1 : 0}" skipped="0" time="2.5" errors="0">
<testcase name="logs in" classname="login.spec.ts" time="1.2">
<properties><property name="annotation" value="slow"/></properties>
</testcase>
<testcase name="logs out" classname="login.spec.ts" time="1.3">${
      fail ? `<failure message="login.spec.ts:12:5 logs out" type="FAILURE">Error: locator not visible</failure>` : ""
    }</testcase>
</testsuite>`;
  return `<testsuites id="" name="" tests="4" failures="${firefoxFails ? 1 : 0}" skipped="0" errors="0" time="5">
${suite("chromium", false)}
${suite("firefox", firefoxFails)}
</testsuites>`;
}

/** gotestsum with `--rerun-fails`: reruns are repeated test cases in the package's suite. */
export function gotestsumReport(): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<testsuites tests="5" failures="3" errors="0" time="0.9">
	<testsuite tests="5" failures="3" time="0.9" name="example.com/app/store" timestamp="2026-01-01T00:00:00Z">
		<properties><property name="go.version" value="go1.22"></property></properties>
		<testcase classname="example.com/app/store" name="TestPut" time="0.1"><failure message="Failed" type="">store_test.go:20: flaky write</failure></testcase>
		<testcase classname="example.com/app/store" name="TestGet" time="0.1"><failure message="Failed" type="">store_test.go:30: wrong value</failure></testcase>
		<testcase classname="example.com/app/store" name="TestPut" time="0.2"></testcase>
		<testcase classname="example.com/app/store" name="TestGet" time="0.3"><failure message="Failed" type="">store_test.go:30: still wrong</failure></testcase>
		<testcase classname="example.com/app/store" name="TestList" time="0.2"></testcase>
	</testsuite>
</testsuites>
`;
}

/** Nested suites (Vitest/Mocha style), a case without `classname`, and a real collision. */
export function nestedReport(): string {
  return `<testsuites>
  <testsuite name="api">
    <testsuite name="users">
      <testcase classname="api.users" name="lists"/>
      <testcase name="no classname here"/>
    </testsuite>
    <testsuite name="admin">
      <testcase classname="api.users" name="lists"><failure message="forbidden"/></testcase>
    </testsuite>
  </testsuite>
</testsuites>`;
}

/** A CTRF JSON report. */
export function ctrfReport(tests: unknown[], extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    reportFormat: "CTRF",
    specVersion: "0.0.0",
    results: {
      tool: { name: "jest" },
      summary: { tests: tests.length, start: 0, stop: 1 },
      tests,
      ...extra,
    },
  });
}
