/**
 * The run browser's test-history parts, spliced into the page script's scope (it uses `el`,
 * `getJSON`, `show`, `note`, `errorText`, `duration`, `when`, `labels`, `statusCell`, `table`,
 * `urlPart`, `current`): the trend chart over the last N runs, a failing test's strip of recent
 * outcomes, the most failing / flaky / slowest tests, and one test's history.
 *
 * The chart is plain SVG built with DOM calls (no charting library): one `<a>` per run, so each
 * bar is a link to its run, keyboard focusable, and labelled with its run id and counts; colours
 * come from the stylesheet (the page's CSP forbids inline styles), shapes from attributes.
 */
export const HISTORY_JS = String.raw`
  // ---- Test history ----
  var SVG_NS = "http://www.w3.org/2000/svg";
  var WINDOWS = [10, 20, 50, 100, 200, 500];
  var HISTORY_STATUS_GLYPHS = { passed: "✓", failed: "✗", errored: "!", skipped: "–", flaky: "~", absent: "·" };
  function svgEl(tag, attrs, children) {
    var node = document.createElementNS(SVG_NS, tag);
    Object.keys(attrs || {}).forEach(function (key) {
      var value = attrs[key];
      if (value === null || value === undefined) return;
      if (key === "text") node.textContent = value;
      else node.setAttribute(key, String(value));
    });
    (children || []).forEach(function (child) { if (child) node.append(child); });
    return node;
  }
  /** The window size from a hash parameter: one of WINDOWS, else the default 50. */
  function windowParam(value) { var n = Number(value); return WINDOWS.indexOf(n) >= 0 ? n : 50; }
  function windowSelect(id, selected) {
    return el("select", { id: id, name: id }, WINDOWS.map(function (n) { return el("option", { value: String(n), text: String(n), selected: n === selected }); }));
  }
  /** Up to 1, 2 or 5 times a power of ten: the top of a count axis. */
  function niceMax(value) {
    if (value <= 1) return 1;
    var step = Math.pow(10, Math.floor(Math.log10(value)));
    var factors = [1, 2, 5, 10];
    for (var i = 0; i < factors.length; i++) if (factors[i] * step >= value) return factors[i] * step;
    return 10 * step;
  }
  function percent(rate) { return Math.round(rate * 1000) / 10 + " %"; }
  function ms(value) { return value === null || value === undefined ? "–" : duration(Math.round(value)); }
  function bad(t) { return t.failed + t.errored; }

  function barLabel(run) {
    var t = run.tests;
    var head = run.runId + " (" + when(run.startedAt) + ", run " + run.status + ")";
    if (!t) return head + ": no test totals";
    return head + ": " + t.passed + " passed, " + bad(t) + " failed, " + t.flaky + " flaky, " + t.skipped + " skipped; tests took " + ms(t.durationMs);
  }

  /** Draws the trend of \`runs\` (newest first, as listed) into \`figure\`, oldest bar on the left. */
  function drawTrend(figure, runs) {
    var series = runs.slice().reverse();
    var width = Math.max(280, Math.floor(figure.clientWidth || 640));
    var narrow = width < 480;
    var height = narrow ? 180 : 220;
    var m = { top: 12, right: narrow ? 44 : 56, bottom: 26, left: narrow ? 30 : 40 };
    var plotW = width - m.left - m.right;
    var plotH = height - m.top - m.bottom;
    var maxCount = niceMax(series.reduce(function (max, run) { var t = run.tests; return t ? Math.max(max, t.passed + bad(t) + t.flaky) : max; }, 0));
    var maxDuration = series.reduce(function (max, run) { return run.tests ? Math.max(max, run.tests.durationMs) : max; }, 0);
    var slot = plotW / Math.max(1, series.length);
    var barW = Math.max(1, Math.min(slot * 0.75, 28));
    var y = function (count) { return m.top + plotH - (count / maxCount) * plotH; };
    var yDuration = function (value) { return m.top + plotH - (maxDuration ? value / maxDuration : 0) * plotH; };
    var round = function (v) { return Math.round(v * 100) / 100; };

    var chart = svgEl("svg", { class: "trend-chart", width: width, height: height, viewBox: "0 0 " + width + " " + height, role: "group",
      "aria-label": "Tests per run, oldest on the left: passed, failed and flaky counts as stacked bars, test duration as a line; arrow keys move between runs" });
    [0, maxCount / 2, maxCount].forEach(function (tick) {
      if (tick !== Math.round(tick)) return;
      chart.append(svgEl("line", { class: "grid", x1: m.left, x2: m.left + plotW, y1: round(y(tick)), y2: round(y(tick)) }),
        svgEl("text", { class: "axis", x: m.left - 4, y: round(y(tick)) + 4, "text-anchor": "end", text: String(tick) }));
    });
    if (maxDuration) {
      chart.append(svgEl("text", { class: "axis duration-axis", x: m.left + plotW + 4, y: m.top + 4, text: ms(maxDuration) }),
        svgEl("text", { class: "axis duration-axis", x: m.left + plotW + 4, y: m.top + plotH + 4, text: "0" }));
    }
    var line = [];
    series.forEach(function (run, i) {
      var x = m.left + i * slot + (slot - barW) / 2;
      var t = run.tests;
      var link = svgEl("a", { class: "bar" + (t ? "" : " bar-none"), href: "#/runs/" + encodeURIComponent(run.runId), "aria-label": barLabel(run),
        "data-run-id": run.runId }, [svgEl("title", { text: barLabel(run) })]);
      link.append(svgEl("rect", { class: "hit", x: round(m.left + i * slot), y: m.top, width: round(slot), height: plotH }));
      if (t) {
        var base = 0;
        [["passed", t.passed], ["failed", bad(t)], ["flaky", t.flaky]].forEach(function (part) {
          var top = y(base + part[1]);
          link.append(svgEl("rect", { class: "seg seg-" + part[0], "data-count": part[1], x: round(x), y: round(top), width: round(barW), height: round(y(base) - top) }));
          base += part[1];
        });
        line.push((line.length && series[i - 1].tests ? "L" : "M") + round(x + barW / 2) + " " + round(yDuration(t.durationMs)));
      } else {
        link.append(svgEl("rect", { class: "seg seg-none", x: round(x), y: m.top + plotH - 2, width: round(barW), height: 2 }));
      }
      chart.append(link);
    });
    if (line.length) chart.append(svgEl("path", { class: "duration-line", d: line.join(" ") }));
    if (series.length) {
      var first = new Date(series[0].startedAt).toLocaleDateString();
      var last = new Date(series[series.length - 1].startedAt).toLocaleDateString();
      chart.append(svgEl("text", { class: "axis", x: m.left, y: height - 6, text: first }));
      if (series.length > 1) chart.append(svgEl("text", { class: "axis", x: m.left + plotW, y: height - 6, "text-anchor": "end", text: last }));
    }
    // One tab stop for the whole chart (the newest bar); the arrow keys, Home and End move between bars.
    // A redraw (new runs, a resize) keeps the bar that had the tab stop, and the focus if it was there.
    var bars = Array.prototype.slice.call(chart.querySelectorAll("a.bar"));
    var before = figure.querySelector('a.bar[tabindex="0"]');
    var focused = before !== null && document.activeElement === before;
    var stop = before ? bars.findIndex(function (bar) { return bar.dataset.runId === before.dataset.runId; }) : -1;
    if (stop < 0) stop = bars.length - 1;
    bars.forEach(function (bar, i) { bar.setAttribute("tabindex", i === stop ? "0" : "-1"); });
    chart.addEventListener("keydown", function (event) {
      var at = bars.indexOf(event.target);
      var to = { ArrowLeft: at - 1, ArrowRight: at + 1, Home: 0, End: bars.length - 1 }[event.key];
      if (at < 0 || to === undefined || to < 0 || to >= bars.length) return;
      event.preventDefault();
      bars[at].setAttribute("tabindex", "-1");
      bars[to].setAttribute("tabindex", "0");
      bars[to].focus();
    });
    figure.replaceChildren(chart);
    if (focused && bars[stop]) bars[stop].focus();
  }

  /** The trend section of the runs list: the last N runs matching the list's filters. */
  function trendSection(params, filters) {
    var n = windowParam(params.get("n"));
    var select = windowSelect("trend-runs", n);
    select.addEventListener("change", function () {
      var next = new URLSearchParams(params);
      next.set("n", select.value);
      location.hash = "#/?" + next.toString();
    });
    var figure = el("div", { class: "trend-plot" });
    var legend = el("ul", { class: "legend", "aria-hidden": "true" }, [["seg-passed", "passed"], ["seg-failed", "failed + errored"], ["seg-flaky", "flaky"], ["line-duration", "test duration"]].map(function (item) {
      return el("li", {}, [el("span", { class: "swatch " + item[0] }), document.createTextNode(item[1])]);
    }));
    var info = el("p", { class: "muted trend-info" });
    var section = el("section", { id: "trend", "aria-labelledby": "trend-title" }, [
      el("div", { class: "trend-head" }, [el("h3", { id: "trend-title", text: "Test trend" }), el("label", { for: "trend-runs", class: "inline" }, [document.createTextNode("Runs"), select])]),
      figure, legend, info,
    ]);
    var runs = [];
    var drawnWidth = 0;
    function draw() { drawnWidth = figure.clientWidth; drawTrend(figure, runs); }
    if (typeof ResizeObserver === "function") {
      var observer = new ResizeObserver(function () {
        if (!figure.isConnected) { observer.disconnect(); return; }
        if (runs.length && Math.abs(figure.clientWidth - drawnWidth) > 1) draw();
      });
      observer.observe(figure);
    }
    section.refresh = function () {
      var q = { limit: String(n), status: filters.status, label: filters.label };
      return getJSON("retained-runs" + query(q)).then(function (res) {
        if (res.status !== 200) { figure.replaceChildren(note(errorText(res.body), "error")); return; }
        runs = res.body.runs;
        var withTests = runs.filter(function (run) { return run.tests; }).length;
        if (!runs.length) { figure.replaceChildren(el("p", { text: "No retained runs match." })); info.textContent = ""; return; }
        draw();
        info.textContent = "The last " + runs.length + " run(s) matching the filters, oldest on the left" +
          (withTests < runs.length ? "; " + (runs.length - withTests) + " without test totals (a thin mark)" : "") + ". Each bar opens its run.";
      });
    };
    return section;
  }

  // A test's recent outcomes as a strip of small links, newest first.
  function outcomeStrip(outcomes, caption) {
    return el("ol", { class: "strip", "aria-label": caption }, outcomes.map(function (o) {
      var text = o.runId + ": " + o.status;
      var id = urlPart(o.runId);
      var glyph = HISTORY_STATUS_GLYPHS[o.status] || "?";
      var cell = id === null ? el("span", { class: "cell cell-" + o.status, title: text, "aria-label": text, text: glyph })
        : el("a", { class: "cell cell-" + o.status, href: "#/runs/" + id, title: text, "aria-label": text, text: glyph });
      return el("li", {}, [cell]);
    }));
  }
  function historyHash(key, labelPairs) {
    var q = new URLSearchParams();
    q.set("key", key);
    (labelPairs || []).forEach(function (pair) { q.append("label", pair); });
    return "#/tests/history?" + q.toString();
  }
  function failingSinceNode(since) {
    if (!since) return document.createTextNode("");
    var id = urlPart(since.runId);
    return el("span", { class: "failing-since" }, [document.createTextNode("failing since "),
      id === null ? el("code", { text: since.runId }) : el("a", { href: "#/runs/" + id, text: since.runId }),
      document.createTextNode(" (" + since.runs + " run" + (since.runs === 1 ? "" : "s") + ")")]);
  }
  /** The "Recent runs" cell of a failing test (fields of \`?history=1\`); labelPairs scope its history link. */
  function recentCell(test, labelPairs) {
    var cell = el("td", { class: "recent" });
    if (!test.recent) { cell.textContent = "–"; return cell; }
    cell.append(outcomeStrip(test.recent, "Last " + test.recent.length + " runs of " + test.key + ", newest first"));
    var parts = el("p", { class: "recent-text" }, [failingSinceNode(test.failingSince)]);
    if (urlPart(test.key) !== null) {
      if (test.failingSince) parts.append(document.createTextNode(" · "));
      parts.append(el("a", { class: "history-link", href: historyHash(test.key, labelPairs), text: "history" }));
    }
    cell.append(parts);
    return cell;
  }

  var TOP_VIEWS = {
    failures: { title: "Most failing tests", nav: "Most failing" },
    flaky: { title: "Flaky tests", nav: "Flaky" },
    slow: { title: "Slowest tests", nav: "Slowest" },
  };
  function filterForm(fields, onsubmit) {
    return el("form", { class: "filters", role: "search", onsubmit: function (event) { event.preventDefault(); onsubmit(); } }, fields.concat([el("button", { type: "submit", text: "Show" })]));
  }
  function labelInput(id, params) {
    return el("input", { id: id, name: "label", placeholder: "key=value", value: params.getAll("label").join(" ") });
  }
  function labelPairsOf(input) { return input.value.split(/\s+/).filter(Boolean); }

  // The most failing, flaky or slowest tests of the last N runs.
  function topView(params) {
    var hash = location.hash;
    var by = Object.hasOwn(TOP_VIEWS, params.get("by")) ? params.get("by") : "failures";
    var n = windowParam(params.get("window"));
    var windowInput = windowSelect("top-window", n);
    var labelsInput = labelInput("top-label", params);
    var form = filterForm([
      el("label", { for: "top-window" }, [document.createTextNode("Last runs"), windowInput]),
      el("label", { for: "top-label" }, [document.createTextNode("Labels"), labelsInput]),
    ], function () {
      var q = new URLSearchParams({ by: by, window: windowInput.value });
      labelPairsOf(labelsInput).forEach(function (pair) { q.append("label", pair); });
      location.hash = "#/tests/top?" + q.toString();
    });
    var tabs = el("nav", { class: "tabs", "aria-label": "Test rankings" }, Object.keys(TOP_VIEWS).map(function (key) {
      var q = new URLSearchParams(params);
      q.set("by", key);
      return el("a", { href: "#/tests/top?" + q.toString(), "aria-current": key === by ? "page" : null, text: TOP_VIEWS[key].nav });
    }));
    var results = el("div", { id: "top-tests", class: "scroll" });
    show([el("h2", { text: TOP_VIEWS[by].title }), tabs, form, results], TOP_VIEWS[by].title);
    function render() {
      var q = new URLSearchParams({ by: by, window: String(n), limit: "50" });
      params.getAll("label").forEach(function (pair) { q.append("label", pair); });
      return getJSON("tests/top?" + q.toString()).then(function (res) {
        if (location.hash !== hash) return;
        if (res.status !== 200) { results.replaceChildren(note(errorText(res.body), "error")); return; }
        var r = res.body;
        var caption = TOP_VIEWS[by].title + " of the last " + r.window.runs + " run(s)";
        if (!r.tests.length) { results.replaceChildren(el("p", { text: "No " + (by === "slow" ? "timed" : by === "flaky" ? "flaky" : "failing") + " tests in the last " + r.window.runs + " run(s)." })); return; }
        results.replaceChildren(table(caption, ["Test", "Runs", "Failures", "Flaky", "Flake rate", "Mean duration", "Max duration", "Last status", "Last run"], r.tests.map(function (t) {
          var id = urlPart(t.key);
          var run = urlPart(t.lastRunId);
          return el("tr", { class: "top-test" }, [
            el("td", { class: "mono" }, [id === null ? document.createTextNode(t.key) : el("a", { href: historyHash(t.key, params.getAll("label")), text: t.key })]),
            el("td", { text: String(t.runs) }), el("td", { text: String(t.failures) }), el("td", { text: String(t.flaky) }),
            el("td", { text: percent(t.flakeRate) }), el("td", { text: ms(t.meanDurationMs) }), el("td", { text: ms(t.maxDurationMs) }),
            statusCell(t.lastStatus),
            el("td", { class: "mono" }, [run === null ? document.createTextNode(t.lastRunId) : el("a", { href: "#/runs/" + run, text: t.lastRunId })]),
          ]);
        })));
      });
    }
    current.refresh = render;
    return render();
  }

  // One test across the last N runs: a strip, the facts, and a table of outcomes.
  function historyView(params) {
    var hash = location.hash;
    var key = params.get("key") || "";
    var n = windowParam(params.get("limit"));
    var windowInput = windowSelect("history-runs", n);
    var labelsInput = labelInput("history-label", params);
    var form = filterForm([
      el("label", { for: "history-runs" }, [document.createTextNode("Last runs"), windowInput]),
      el("label", { for: "history-label" }, [document.createTextNode("Labels"), labelsInput]),
    ], function () {
      var q = new URLSearchParams({ key: key, limit: windowInput.value });
      labelPairsOf(labelsInput).forEach(function (pair) { q.append("label", pair); });
      location.hash = "#/tests/history?" + q.toString();
    });
    var results = el("div", { id: "test-history" });
    show([el("h2", {}, [document.createTextNode("Test "), el("code", { text: key })]), form, results], "Test " + key);
    function render() {
      var q = new URLSearchParams({ key: key, limit: String(n) });
      params.getAll("label").forEach(function (pair) { q.append("label", pair); });
      return getJSON("tests/history?" + q.toString()).then(function (res) {
        if (location.hash !== hash) return;
        if (res.status !== 200) { results.replaceChildren(note(errorText(res.body), "error")); return; }
        var h = res.body;
        var lastPassed = h.lastPassed;
        var facts = [
          ["Class", h.classname === null ? "–" : h.classname],
          ["Name", h.name === null ? "–" : h.name],
          ["Runs", h.window.runs + " (the last " + h.window.limit + " matching)"],
          ["Failing since", h.failingSince ? failingSinceNode(h.failingSince) : "not failing in the newest run"],
          ["Last passed", lastPassed ? el("span", {}, [urlPart(lastPassed.runId) === null ? el("code", { text: lastPassed.runId }) : el("a", { href: "#/runs/" + urlPart(lastPassed.runId), text: lastPassed.runId }), document.createTextNode(" (" + when(lastPassed.startedAt) + ")")]) : "not in these runs"],
          ["Flake rate", percent(h.flakeRate)],
        ];
        var children = [el("dl", { class: "history-facts" }, facts.reduce(function (all, pair) {
          var value = typeof pair[1] === "string" ? el("dd", { text: pair[1] }) : el("dd", {}, [pair[1]]);
          return all.concat([el("dt", { text: pair[0] }), value]);
        }, []))];
        if (!h.runs.length) children.push(el("p", { text: "No retained run matches." }));
        else {
          children.push(outcomeStrip(h.runs, "Outcomes of " + h.key + " in the last " + h.runs.length + " runs, newest first"));
          children.push(el("div", { class: "scroll" }, [table("Outcomes of " + h.key + ", newest first", ["Run", "Started", "Run status", "Test status", "Duration", "Message"], h.runs.map(function (r) {
            var id = urlPart(r.runId);
            return el("tr", { class: "history-run" }, [
              el("td", { class: "mono" }, [id === null ? document.createTextNode(r.runId) : el("a", { href: "#/runs/" + id, text: r.runId })]),
              el("td", { text: when(r.startedAt) }), statusCell(r.runStatus), statusCell(r.status), el("td", { text: ms(r.durationMs) }),
              el("td", { class: "test-message" }, [el("span", { text: r.message || "" })]),
            ]);
          }))]));
        }
        results.replaceChildren.apply(results, children);
      });
    }
    current.refresh = render;
    return render();
  }
`;
