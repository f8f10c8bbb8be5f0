/**
 * The run browser's test-result parts, spliced into the page script's scope (it uses `el`,
 * `getJSON`, `table`, `note`, `show`, `token`, `viewInFrame`, `urlPart`, `duration`, `when`,
 * `labels`): pass/fail counts, a run's failing tests, and a comparison of two runs. Text from
 * reports is only ever set with `textContent`.
 */
export const TESTS_JS = `
  function testCounts(run) {
    if (!run.tests) return "–";
    var t = run.tests;
    var bad = t.failed + t.errored;
    return t.passed + " passed" + (bad ? ", " + bad + " failed" : "") + (t.flaky ? ", " + t.flaky + " flaky" : "");
  }
  function testsTotalsText(t) {
    return t.tests + " tests: " + t.passed + " passed, " + t.failed + " failed, " + t.errored + " errored, " + t.skipped + " skipped, " + t.flaky + " flaky (" + duration(Math.round(t.durationMs)) + ")";
  }
  function testRows(tests, base, viewer, labelPairs) {
    var withHistory = tests.some(function (test) { return "recent" in test; });
    return tests.map(function (test) {
      var id = urlPart(test.reportId);
      var reportCell = el("td");
      if (id !== null) {
        var url = base + "/reports/" + id;
        reportCell.append(el("a", { href: url, target: "_blank", rel: "noopener noreferrer", text: test.reportId, onclick: function (event) {
          if (token() || viewer) { event.preventDefault(); viewInFrame(url, viewer, "Report " + test.reportId); }
        } }));
      } else reportCell.textContent = test.reportId;
      var message = el("td", { class: "test-message" }, [el("span", { text: test.message || "" })]);
      if (test.detail) message.append(el("details", {}, [el("summary", { text: "Detail" }), el("pre", { class: "detail", text: test.detail })]));
      return el("tr", { class: "test" }, [el("td", { class: "mono", text: test.key }), statusCell(test.status), el("td", { text: String(test.attempts) }), message, reportCell,
        withHistory ? recentCell(test, labelPairs) : null]);
    });
  }
  function testsTable(caption, tests, base, viewer, labelPairs) {
    var withHistory = tests.some(function (test) { return "recent" in test; });
    var head = ["Test", "Status", "Attempts", "Message", "Report"].concat(withHistory ? ["Recent runs"] : []);
    return table(caption, head, testRows(tests, base, viewer, labelPairs));
  }
  function runLabelPairs(run) { return Object.keys(run.labels).map(function (k) { return k + "=" + run.labels[k]; }); }
  function testsSection(base, run, viewer) {
    var section = el("section", { "aria-labelledby": "tests-title", id: "tests" }, [el("h3", { id: "tests-title", text: "Tests" })]);
    getJSON(base + "/tests?status=failed&status=errored&limit=500&history=1").then(function (res) {
      if (res.status !== 200) { section.append(note(errorText(res.body), "error")); return; }
      var r = res.body;
      if (!r.totals.tests && !r.diagnostics.length) { section.append(el("p", { text: "This run has no test reports (JUnit XML or CTRF)." })); return; }
      section.append(el("p", { class: "test-totals", text: testsTotalsText(r.totals) }));
      var id = urlPart(run.runId);
      if (id !== null) section.append(el("p", {}, [el("a", { href: "#/compare/" + id, text: "Compare with an earlier run" })]));
      if (r.tests.length) section.append(testsTable("Failing tests of " + run.runId, r.tests, base, viewer, runLabelPairs(run)));
      else if (r.totals.tests) section.append(el("p", { text: "No failing tests." }));
      r.diagnostics.forEach(function (d) { section.append(note("Report " + d.reportId + ": " + d.message + " (" + d.kind + ")", "error")); });
    });
    return section;
  }
  function compareView(headId, params) {
    var view = current.view;
    var head = "retained-runs/" + encodeURIComponent(headId);
    return getJSON(head).then(function (res) {
      if (res.status !== 200) { show([el("h2", { text: "Compare " + headId }), note(errorText(res.body), "error")], "Compare"); return; }
      var run = res.body;
      var wanted = params.get("base");
      var sameLabels = Object.keys(run.labels).map(function (k) { return "&label=" + encodeURIComponent(k + "=" + run.labels[k]); }).join("");
      var defaultBase = wanted ? Promise.resolve(wanted) : getJSON("retained-runs/latest?status=passed&until=" + encodeURIComponent(run.startedAt) + sameLabels)
        .then(function (latest) { return latest.status === 200 ? latest.body.runId : null; });
      return Promise.all([defaultBase, getJSON("retained-runs?limit=100")]).then(function (both) {
        if (current.view !== view) return;
        var baseId = both[0];
        var choices = (both[1].body.runs || []).filter(function (r) { return r.runId !== run.runId; });
        var select = el("select", { id: "compare-base", name: "base" }, [el("option", { value: "", text: "choose a run" })].concat(choices.map(function (r) {
          return el("option", { value: r.runId, text: r.runId + " (" + r.status + ", " + testCounts(r) + ")", selected: r.runId === baseId });
        })));
        var form = el("form", { class: "filters", onsubmit: function (event) {
          event.preventDefault();
          if (select.value) location.hash = "#/compare/" + encodeURIComponent(run.runId) + "?base=" + encodeURIComponent(select.value);
        } }, [el("label", { for: "compare-base" }, [document.createTextNode("Base run"), select]), el("button", { type: "submit", text: "Compare" })]);
        var results = el("div", { id: "comparison" });
        var viewer = el("div", { id: "viewer" });
        show([el("h2", {}, [document.createTextNode("Compare "), el("code", { text: run.runId })]),
          el("p", {}, [el("a", { href: "#/runs/" + encodeURIComponent(run.runId), text: "Back to the run" })]), form, results, viewer], "Compare " + run.runId);
        if (!baseId) { results.append(note("No earlier passed run with the same labels; choose a base run.")); return; }
        return getJSON("retained-runs/compare?base=" + encodeURIComponent(baseId) + "&head=" + encodeURIComponent(run.runId) + "&history=1").then(function (c) {
          if (c.status !== 200) { results.append(note(errorText(c.body), "error")); return; }
          var d = c.body;
          results.append(el("p", { class: "muted", text: "Base " + d.base.runId + ": " + testsTotalsText(d.base.totals) }),
            el("p", { class: "muted", text: "Head " + d.head.runId + ": " + testsTotalsText(d.head.totals) }));
          [["New failures", d.newFailures], ["Still failing", d.stillFailing], ["Fixed", d.fixed], ["Flaky", d.flaky], ["Added", d.added], ["Removed", d.removed]].forEach(function (part) {
            var tests = part[1];
            var id = part[0].toLowerCase().replace(/ /g, "-");
            var section = el("section", { "aria-labelledby": id, class: "compare-part" }, [el("h3", { id: id, text: part[0] + " (" + tests.length + ")" })]);
            var from = part[0] === "Removed" ? "retained-runs/" + encodeURIComponent(d.base.runId) : head;
            if (tests.length) section.append(testsTable(part[0] + ": " + d.base.runId + " → " + d.head.runId, tests, from, viewer, runLabelPairs(run)));
            results.append(section);
          });
        });
      });
    });
  }
`;
