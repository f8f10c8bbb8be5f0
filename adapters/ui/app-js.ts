import { LOGS_JS } from "./logs-js.ts";

/**
 * The run browser's script: plain DOM, no framework, no request to any other host. Text from
 * runs is only ever set with `textContent`; reports are shown in `<iframe sandbox srcdoc>` (no
 * scripts, opaque origin, no address of their own), or opened from the API's own URL, which carries
 * `CSP: sandbox`.
 */
import { HISTORY_JS } from "./history-js.ts";
import { TESTS_JS } from "./tests-js.ts";

export const APP_JS = String.raw`(function () {
  "use strict";
  if (!location.pathname.endsWith("/")) {
    location.replace(location.pathname + "/" + location.search + location.hash);
    return;
  }
  var main = document.getElementById("main");
  var live = document.getElementById("live");
  var TOKEN = "guide-board-token";
  var STATUSES = ["passed", "failed", "errored", "cancelled"];
  var current = { view: "", refresh: null };

  function token() { return sessionStorage.getItem(TOKEN); }

  function api(path, init) {
    init = init || {};
    var headers = new Headers(init.headers || {});
    var t = token();
    if (t) headers.set("authorization", "Bearer " + t);
    init.headers = headers;
    return fetch(path, init).then(function (res) {
      if (res.status === 401) { askToken(); throw new Error("unauthorized"); }
      return res;
    });
  }
  /** A path segment for a URL, or null when the text is not well-formed Unicode (a lone surrogate) and so has no URL. */
  function urlPart(text) {
    try { return encodeURIComponent(text); } catch (e) { return null; }
  }
  function getJSON(path) {
    return api(path).then(function (res) { return res.json().then(function (body) { return { status: res.status, body: body }; }); });
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      var value = attrs[key];
      if (value === null || value === undefined || value === false) return;
      if (key === "text") node.textContent = value;
      else if (key.slice(0, 2) === "on") node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    });
    (children || []).forEach(function (child) { if (child) node.append(child); });
    return node;
  }
  function show(nodes, title) {
    main.replaceChildren.apply(main, nodes);
    document.title = (title ? title + " · " : "") + "guide-board";
    main.focus();
  }
  function note(text, kind) { return el("p", { class: "note" + (kind ? " " + kind : ""), role: kind === "error" ? "alert" : null, text: text }); }
  function errorText(body) { return body && body.error ? body.error.message + " (" + body.error.code + ")" : "Unexpected answer."; }

  function duration(ms) {
    if (ms === null || ms === undefined) return "–";
    if (ms < 1000) return ms + " ms";
    var s = Math.floor(ms / 1000);
    if (s < 60) return s + " s";
    var m = Math.floor(s / 60);
    return m < 60 ? m + " min " + (s % 60) + " s" : Math.floor(m / 60) + " h " + (m % 60) + " min";
  }
  function bytes(n) {
    if (n === null || n === undefined) return "–";
    var units = ["B", "KiB", "MiB", "GiB", "TiB"];
    var i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i === 0 ? n : n.toFixed(1)) + " " + units[i];
  }
  function when(iso) { return iso ? new Date(iso).toLocaleString() : "–"; }
  function labels(run) { return Object.keys(run.labels).map(function (k) { return k + "=" + run.labels[k]; }).join(", "); }
  function schema(c) {
    var base = c.generation === "legacy" ? "legacy (older writer)" : c.generation === "newer" ? "v" + c.schemaVersion + " (newer writer)" : "v" + c.schemaVersion;
    return c.missing.length && c.generation !== "legacy" ? base + "; no " + c.missing.join(", ") : base;
  }
  function statusCell(status) { return el("td", { class: "status status-" + status, text: status }); }
  function table(caption, head, rows) {
    return el("table", {}, [
      el("caption", { text: caption }),
      el("thead", {}, [el("tr", {}, head.map(function (h) { return el("th", { scope: "col", text: h }); }))]),
      el("tbody", {}, rows),
    ]);
  }
  function query(params) {
    var parts = [];
    Object.keys(params).forEach(function (key) { if (params[key]) parts.push(encodeURIComponent(key) + "=" + encodeURIComponent(params[key])); });
    return parts.length ? "?" + parts.join("&") : "";
  }

  // The list of runs, with filters, paging, and this server's jobs.
  function listView(params) {
    var view = current.view;
    var status = STATUSES.indexOf(params.get("status")) >= 0 ? params.get("status") : "";
    var label = params.get("label") || "";
    var statusSelect = el("select", { name: "status", id: "filter-status" }, [el("option", { value: "", text: "any" })].concat(
      STATUSES.map(function (s) { return el("option", { value: s, text: s, selected: s === status }); })));
    var labelInput = el("input", { name: "label", id: "filter-label", placeholder: "key=value", value: label });
    var form = el("form", { class: "filters", role: "search", onsubmit: function (event) {
      event.preventDefault();
      location.hash = "#/" + query({ status: statusSelect.value, label: labelInput.value.trim(), n: params.get("n") });
    } }, [
      el("label", { for: "filter-status" }, [document.createTextNode("Status"), statusSelect]),
      el("label", { for: "filter-label" }, [document.createTextNode("Label"), labelInput]),
      el("button", { type: "submit", text: "Filter" }),
    ]);
    var body = el("tbody");
    var runsTable = el("table", { id: "runs" }, [
      el("caption", { text: "Retained runs, newest first" + (status ? ", status " + status : "") + (label ? ", label " + label : "") }),
      el("thead", {}, [el("tr", {}, ["Run", "Status", "Started", "Duration", "Tests", "Labels", "Schema"].map(function (h) { return el("th", { scope: "col", text: h }); }))]),
      body,
    ]);
    var more = el("p");
    var info = el("p", { class: "muted" });
    var jobs = el("section", { "aria-labelledby": "jobs-title" });
    var trend = trendSection(params, { status: status, label: label });
    show([el("h2", { text: "Runs" }), form, trend, info, runsTable, more, jobs], "Runs");

    function page(cursor) {
      var q = { limit: "50", status: status, label: label, cursor: cursor || "" };
      return getJSON("retained-runs" + query(q)).then(function (res) {
        if (res.status !== 200) { body.replaceChildren(el("tr", {}, [el("td", { colspan: "7" }, [note(errorText(res.body), "error")])])); return; }
        if (!cursor) body.replaceChildren();
        res.body.runs.forEach(function (run) {
          body.append(el("tr", {}, [
            el("td", { class: "mono" }, [el("a", { href: "#/runs/" + encodeURIComponent(run.runId), text: run.runId })]),
            statusCell(run.status),
            el("td", { text: when(run.startedAt) }),
            el("td", { text: duration(run.durationMs) }),
            el("td", { class: "tests", text: testCounts(run) }),
            el("td", { text: labels(run) || "–" }),
            el("td", { text: schema(run.compatibility) }),
          ]));
        });
        if (!body.children.length) body.append(el("tr", {}, [el("td", { colspan: "7", text: "No retained runs match." })]));
        var skipped = res.body.diagnostics.length;
        info.textContent = skipped ? skipped + " folder(s) are not listed (incomplete, corrupt or unsafe); see /retained-runs for details." : "";
        more.replaceChildren(res.body.nextCursor ? el("button", { type: "button", text: "Load more runs", onclick: function () { page(res.body.nextCursor); } }) : "");
      });
    }
    function renderJobs() {
      return getJSON("runs").then(function (res) {
        if (res.status !== 200) return;
        var list = res.body;
        var children = [el("h2", { id: "jobs-title", text: "Jobs started by this server" })];
        if (!list.enabled) children.push(el("p", { class: "muted", text: "This server starts no runs (no guides configured)." }));
        else children.push(el("p", {}, list.guides.map(function (guide) {
          return el("button", { type: "button", text: "Start " + guide, onclick: function (event) {
            event.target.disabled = true;
            api("runs", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ guide: guide }) })
              .then(function () { return renderJobs(); })
              .finally(function () { event.target.disabled = false; });
          } });
        })));
        if (list.jobs.length) children.push(table("Jobs (kept in memory until the server restarts)", ["Job", "Guide", "State", "Started", "Exit code", "Run"], list.jobs.map(function (job) {
          return el("tr", {}, [
            el("td", { class: "mono" }, [el("a", { href: "#/jobs/" + encodeURIComponent(job.jobId), title: "Output", text: job.jobId })]),
            el("td", { text: job.guide }),
            el("td", { class: "status", text: job.state }),
            el("td", { text: when(job.startedAt) }),
            el("td", { text: job.exitCode === null ? "–" : String(job.exitCode) }),
            el("td", { class: "mono" }, [job.retainedRun ? el("a", { href: "#/runs/" + encodeURIComponent(job.runId), text: job.runId }) : document.createTextNode(job.runId)]),
          ]);
        })));
        jobs.replaceChildren.apply(jobs, children);
        // A job's state can change with no run changing (queued → running): look again while one is active.
        var active = list.jobs.some(function (job) { return job.state === "queued" || job.state === "running"; });
        if (active) setTimeout(function () { if (current.view === view) renderJobs(); }, 2000);
      });
    }
    current.refresh = function () { return Promise.all([page(), renderJobs(), trend.refresh()]); };
    return current.refresh();
  }

  // Shows a report. No URL of this app's origin ever holds report content: text (HTML included)
  // goes into <iframe sandbox srcdoc> — an opaque origin, no scripts, and an address (about:srcdoc)
  // that shows nothing when opened on its own; raster images go into <img> from a blob typed as the
  // image (an image opened on its own runs nothing); anything else is offered as a download.
  var IMAGE_TYPES = ["image/png", "image/jpeg", "image/gif", "image/webp", "image/avif"];
  function escapeHTML(text) {
    return text.replace(/[&<>"]/g, function (c) { return { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;" }[c]; });
  }
  function viewInFrame(url, container, title) {
    return api(url).then(function (res) {
      var type = (res.headers.get("content-type") || "").split(";")[0].trim().toLowerCase();
      if (IMAGE_TYPES.indexOf(type) !== -1) {
        return res.arrayBuffer().then(function (bytes) {
          container.replaceChildren(el("img", { class: "report", alt: title, src: URL.createObjectURL(new Blob([bytes], { type: type })) }));
        });
      }
      var textual = /^text\/|[/+](xml|json)$|^image\/svg\+xml$/.test(type);
      if (!textual) {
        container.replaceChildren(el("p", { class: "note", text: title + " (" + (type || "no type") + ") has no preview here: download it instead." }));
        return;
      }
      return res.text().then(function (text) {
        var html = type === "text/html" || type === "application/xhtml+xml" || type === "image/svg+xml";
        var frame = el("iframe", { class: "report", sandbox: "", title: title, referrerpolicy: "no-referrer" });
        frame.srcdoc = html ? text : "<!doctype html><meta charset=utf-8><pre>" + escapeHTML(text) + "</pre>";
        container.replaceChildren(frame);
      });
    });
  }
  // Downloads with the token: the blob is typed as bytes (never rendered) and let go once clicked.
  function download(url, name) {
    return api(url).then(function (res) { return res.arrayBuffer(); }).then(function (bytes) {
      var href = URL.createObjectURL(new Blob([bytes], { type: "application/octet-stream" }));
      var a = el("a", { href: href, download: name });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(function () { URL.revokeObjectURL(href); }, 1000);
    });
  }

  function runView(runId) {
    var base = "retained-runs/" + encodeURIComponent(runId);
    return getJSON(base).then(function (res) {
      if (res.status !== 200) { show([el("h2", { text: "Run " + runId }), note(errorText(res.body), "error")], runId); return; }
      var run = res.body;
      var viewer = el("div", { id: "viewer" });
      var reports = el("section", { "aria-labelledby": "reports-title" }, [el("h3", { id: "reports-title", text: "Reports" })]);
      var manifest = el("section", { "aria-labelledby": "manifest-title" }, [el("h3", { id: "manifest-title", text: "Artifact manifest" })]);
      var facts = [["Status", run.status], ["Started", when(run.startedAt)], ["Finished", when(run.finishedAt)], ["Duration", duration(run.durationMs)],
        ["Exit code", run.exitCode === null ? "–" : String(run.exitCode)], ["Command", run.command ? run.command.join(" ") : "–"],
        ["Labels", labels(run) || "–"], ["Schema", schema(run.compatibility)]];
      show([
        el("h2", {}, [document.createTextNode("Run "), el("code", { text: run.runId })]),
        el("dl", {}, facts.reduce(function (all, pair) { return all.concat([el("dt", { text: pair[0] }), el("dd", { class: pair[0] === "Status" ? "status status-" + run.status : null, text: pair[1] })]); }, [])),
        testsSection(base, run, viewer), reports, viewer, logsSection(base), manifest,
      ], run.runId);
      getJSON(base + "/reports").then(function (r) {
        if (r.status !== 200) { reports.append(note(errorText(r.body), "error")); return; }
        if (!r.body.reports.length) { reports.append(el("p", { text: "This run lists no reports." })); return; }
        reports.append(table("Reports of " + run.runId, ["Report", "Type", "Size", "State", ""], r.body.reports.map(function (report) {
          var id = urlPart(report.id);
          var url = id === null ? null : base + "/reports/" + id;
          var state = report.unsafe ? "refused: unsafe path (" + report.reason + ")" : !report.exists ? "missing" : id === null ? "no URL: its id is not valid Unicode" : "ok";
          var actions = el("td");
          if (!report.unsafe && report.exists && id !== null) {
            actions.append(el("button", { type: "button", text: "View", "aria-label": "View " + report.id, onclick: function () { viewInFrame(url, viewer, "Report " + report.id); } }));
            if (!token()) actions.append(document.createTextNode(" "), el("a", { href: url, target: "_blank", rel: "noopener noreferrer", text: "Open in a new tab" }));
          }
          return el("tr", {}, [el("td", { text: report.title || report.id }), el("td", { text: report.mediaType.split(";")[0] }), el("td", { text: bytes(report.size) }), el("td", { text: state }), actions]);
        })));
        if (r.body.nextCursor) reports.append(note("Showing the first " + r.body.reports.length + " reports; the API lists the rest a page at a time (" + base + "/reports?cursor=…).", "info"));
      });
      getJSON(base + "/artifact-manifest").then(function (m) {
        if (m.status !== 200) { manifest.append(note(errorText(m.body), "error")); return; }
        if (!m.body.available) {
          var why = m.body.reason === "legacy-run"
            ? "This run was recorded by an older writer that kept no artifact manifest, so its artifacts cannot be listed or checked. Its reports are still available."
            : m.body.reason === "not-declared" ? "This run's summary names no artifact manifest." : "The summary names an artifact manifest, but the file is missing from the run folder.";
          manifest.append(note(why), el("p", { class: "muted", text: m.body.message }));
          return;
        }
        if (!m.body.artifacts.length) { manifest.append(el("p", { text: "The manifest lists no artifacts." })); return; }
        manifest.append(table("Artifacts of " + run.runId, ["Path", "Size", "SHA-256", "State"], m.body.artifacts.map(function (a) {
          var parts = a.path.split("/").map(urlPart);
          var addressable = parts.indexOf(null) === -1;
          var url = addressable ? base + "/artifacts/" + parts.join("/") : null;
          var pathCell = el("td", { class: "mono" });
          if (!a.unsafe && a.exists && addressable) pathCell.append(el("a", { href: url, text: a.path, onclick: function (event) { if (token()) { event.preventDefault(); download(url, a.path.split("/").pop()); } } }));
          else pathCell.textContent = a.path;
          return el("tr", {}, [pathCell, el("td", { text: bytes(a.size) }), el("td", { class: "mono", text: a.sha256 }), el("td", { text: a.unsafe ? "refused: unsafe path" : !a.exists ? "missing" : addressable ? "ok" : "no URL: its path is not valid Unicode" })]);
        })));
      });
      current.refresh = null;
    });
  }

${TESTS_JS}
${HISTORY_JS}
  function latestView(status) {
    return getJSON("retained-runs/latest" + query({ status: status })).then(function (res) {
      if (res.status === 200) { location.replace("#/runs/" + encodeURIComponent(res.body.runId)); return; }
      show([el("h2", { text: status ? "Latest " + status + " run" : "Latest run" }), note(res.status === 404 ? "There is no such run yet." : errorText(res.body), res.status === 404 ? "" : "error")], "Latest");
    });
  }

  function askToken() {
    current.refresh = null; // nothing behind the form to refresh
    if (document.getElementById("token")) return; // one form, however many requests were refused
    var input = el("input", { type: "password", id: "token", autocomplete: "off", required: true });
    show([
      el("h2", { text: "This server needs a token" }),
      el("form", { onsubmit: function (event) {
        event.preventDefault();
        sessionStorage.setItem(TOKEN, input.value.trim());
        route();
        listen();
      } }, [el("label", { for: "token" }, [document.createTextNode("Bearer token (kept for this tab only)"), input]), el("p", {}, [el("button", { type: "submit", text: "Continue" })])]),
    ], "Token");
    input.focus();
  }

  function route() {
    var hash = location.hash.replace(/^#/, "") || "/";
    var path = hash.split("?")[0];
    var params = new URLSearchParams(hash.split("?")[1] || "");
    current.refresh = null;
    current.view = path;
    var work = path.indexOf("/runs/") === 0 ? runView(decodeURIComponent(path.slice(6)))
      : path.indexOf("/jobs/") === 0 ? jobView(decodeURIComponent(path.slice(6)))
      : path.indexOf("/compare/") === 0 ? compareView(decodeURIComponent(path.slice(9)), params)
      : path === "/tests/top" ? topView(params)
      : path === "/tests/history" ? historyView(params)
      : path === "/latest" ? latestView("")
      : path === "/latest/failed" ? latestView("failed")
      : listView(params);
    Promise.resolve(work).catch(function (error) { if (error.message !== "unauthorized") show([note("Could not reach the server: " + error.message, "error")]); });
  }

  // New runs appear without a reload: server-sent events (read with fetch, so the token can be
  // sent), falling back to polling.
  var pending = null;
  function changed() {
    if (!current.refresh || pending) return;
    pending = setTimeout(function () {
      pending = null;
      if (current.refresh) current.refresh().then(function () { live.textContent = "Updated " + new Date().toLocaleTimeString(); });
    }, 250);
  }
  var poller = null;
  function poll() {
    if (!poller) poller = setInterval(changed, 5000);
    live.textContent = "Refreshing every 5 s";
  }
  function listen() {
    api("events").then(function (res) {
      if (res.status !== 200 || !res.body) { poll(); return; }
      clearInterval(poller);
      poller = null;
      live.textContent = "Live";
      var reader = res.body.getReader();
      var decoder = new TextDecoder();
      var buffer = "";
      function read() {
        return reader.read().then(function (chunk) {
          if (chunk.done) { setTimeout(listen, 3000); return; }
          buffer += decoder.decode(chunk.value, { stream: true });
          var events = buffer.split("\n\n");
          buffer = events.pop();
          events.forEach(function (event) { if (event.indexOf("event: change") >= 0) changed(); });
          return read();
        });
      }
      return read();
    }).catch(function (error) { if (error.message !== "unauthorized") poll(); });
  }

${LOGS_JS}
  // The skip link moves focus only: its "#main" is not a route, and must not replace the view.
  document.querySelector("a.skip").addEventListener("click", function (event) { event.preventDefault(); main.focus(); });
  addEventListener("hashchange", route);
  route();
  listen();
})();
`;
