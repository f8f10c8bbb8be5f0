/**
 * The run browser's log viewer, spliced into the page script (it uses its helpers: `el`, `api`,
 * `show`, `note`, …). ANSI colours are rendered by ansi_up, served by this app at `ui/ansi_up.js`
 * and loaded with `import()` (same origin, so the page's CSP allows it); ansi_up escapes the text,
 * and its output keeps only `<span class>` (links and inline styles are dropped: the CSP forbids
 * inline styles anyway). Bytes are decoded leniently: invalid UTF-8 shows as U+FFFD, other
 * controls as visible symbols (␀, ␇, …), and a lone `\r` keeps what was written last on the line.
 */
export const LOGS_JS = String.raw`
  // ---- Logs ----
  var TAIL_LINES = 500;
  var EARLIER_BYTES = 256 * 1024;
  var LIVE_MAX_CHARS = 2000000;
  var ansiModule = null;
  function loadAnsi() {
    if (!ansiModule) ansiModule = import("./ansi_up.js").then(function (m) { return m.AnsiUp; }, function () { return null; });
    return ansiModule;
  }
  var STYLE_CLASSES = { b: "ansi-bold", f: "ansi-faint", i: "ansi-italic", u: "ansi-underline" };
  function escapeHTML(text) {
    return text.replace(/[&<>"']/g, function (c) { return "&#" + c.charCodeAt(0) + ";"; });
  }
  function overwrite(text) {
    return text.split("\n").map(function (line) {
      line = line.replace(/\r+$/, "");
      var at = line.lastIndexOf("\r");
      return at >= 0 ? line.slice(at + 1) : line;
    }).join("\n");
  }
  function visibleControls(text) {
    return text.replace(/[\x00-\x08\x0b-\x1a\x1c-\x1f\x7f]/g, function (c) {
      var code = c.charCodeAt(0);
      return String.fromCharCode(code === 127 ? 0x2421 : 0x2400 + code);
    }).replace(/[\x80-\x9f]/g, "\ufffd");
  }
  function stripEscapes(text) {
    return text.replace(/\x1b\[[0-?]*[ -\/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[PX^_][^\x1b]*(?:\x1b\\)?|\x1b./g, "");
  }
  // Every escape sequence but SGR: OSC (titles, links, clipboard), DCS/PM/APC, CSI cursor moves.
  function stripNonSGR(text) {
    return text.replace(/\x1b\[[0-?]*[ -\/]*[@-ln-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[PX^_][^\x1b]*(?:\x1b\\)?/g, "");
  }
  /** A renderer of complete lines to safe HTML; it keeps ansi_up's colour state from call to call. */
  function makeRenderer(AnsiUp) {
    var ansi = AnsiUp ? new AnsiUp() : null;
    if (ansi) {
      ansi.use_classes = true;
      ansi.escape_html = true;
      ansi.url_allowlist = {};
      ansi.boldStyle = "b"; ansi.faintStyle = "f"; ansi.italicStyle = "i"; ansi.underlineStyle = "u";
    }
    return function (text) {
      text = visibleControls(stripNonSGR(overwrite(text)));
      if (!ansi) return escapeHTML(stripEscapes(text));
      return ansi.ansi_to_html(text).replace(/<span style="([^"]*)"(?: class="([^"]*)")?>/g, function (_, style, cls) {
        var classes = cls ? cls.split(" ") : [];
        style.split(";").forEach(function (token) { if (STYLE_CLASSES[token]) classes.push(STYLE_CLASSES[token]); });
        return classes.length ? '<span class="' + classes.join(" ") + '">' : "<span>";
      });
    };
  }
  function decode(bytes) { return new TextDecoder("utf-8", { fatal: false }).decode(bytes); }

  function logsSection(base) {
    var section = el("section", { "aria-labelledby": "logs-title" }, [el("h3", { id: "logs-title", text: "Logs" })]);
    getJSON(base + "/logs").then(function (r) {
      if (r.status !== 200) { section.append(note(errorText(r.body), "error")); return; }
      if (!r.body.logs.length) { section.append(el("p", { text: "This run declares no logs." })); return; }
      var pane = el("div", { class: "log-pane" });
      var tabs = el("p", { class: "log-tabs", role: "group", "aria-label": "Logs of this run" }, r.body.logs.map(function (log) {
        var id = urlPart(log.id);
        var usable = !log.unsafe && log.exists && id !== null;
        var state = log.unsafe ? "refused: unsafe path" : !log.exists ? "missing" : id === null ? "no URL" : bytes(log.size);
        return el("button", { type: "button", class: "log-tab", disabled: !usable, "aria-pressed": "false", text: log.id + " (" + state + ")", onclick: function (event) {
          tabs.querySelectorAll("button").forEach(function (b) { b.setAttribute("aria-pressed", String(b === event.target)); });
          showLog(base + "/logs/" + id, pane, log.id);
        } });
      }));
      section.append(tabs, pane);
      var first = tabs.querySelector("button:not([disabled])");
      if (first) first.click();
    });
    return section;
  }

  function showLog(url, pane, logId) {
    var pre = el("pre", { class: "log", tabindex: "0", "data-log": logId, "aria-label": "Log " + logId });
    var earlier = el("button", { type: "button", class: "earlier", text: "Load earlier output", hidden: true });
    pane.replaceChildren(earlier, pre);
    return Promise.all([loadAnsi(), api(url + "?tail=" + TAIL_LINES)]).then(function (both) {
      var AnsiUp = both[0];
      var res = both[1];
      if (res.status !== 200) return res.json().then(function (body) { pane.replaceChildren(note(errorText(body), "error")); });
      var range = /bytes (\d+)-\d+\/\d+/.exec(res.headers.get("x-log-range") || "");
      var start = range ? Number(range[1]) : 0;
      return res.arrayBuffer().then(function (buffer) {
        pre.innerHTML = makeRenderer(AnsiUp)(decode(new Uint8Array(buffer)));
        if (!pre.textContent) pre.append(el("span", { class: "muted", text: "(empty)" }));
        pre.scrollTop = pre.scrollHeight;
        earlier.hidden = start === 0;
        earlier.onclick = function () {
          var from = Math.max(0, start - EARLIER_BYTES);
          earlier.disabled = true;
          api(url, { headers: { range: "bytes=" + from + "-" + (start - 1) } }).then(function (r) { return r.arrayBuffer(); }).then(function (buf) {
            var chunk = new Uint8Array(buf);
            var cut = from > 0 ? chunk.indexOf(10) : -1;
            if (cut >= 0) { chunk = chunk.subarray(cut + 1); from += cut + 1; }
            var height = pre.scrollHeight;
            pre.insertAdjacentHTML("afterbegin", makeRenderer(AnsiUp)(decode(chunk)));
            pre.scrollTop += pre.scrollHeight - height;
            start = from;
            earlier.hidden = start === 0;
          }).finally(function () { earlier.disabled = false; });
        };
      });
    });
  }

  // A job's output, live: fetch streams GET runs/{jobId}/log; the view follows the end until the
  // user scrolls up, and follows again once they scroll back to the bottom.
  function jobView(jobId) {
    var view = current.view;
    var id = urlPart(jobId);
    var pre = el("pre", { class: "log live", tabindex: "0", "aria-label": "Output of job " + jobId });
    var state = el("p", { class: "muted", role: "status", text: "Following the job's output…" });
    show([el("h2", {}, [document.createTextNode("Job "), el("code", { text: jobId })]), state, pre], "Job " + jobId);
    if (id === null) { state.textContent = "This job id has no URL."; return; }
    var follow = true;
    pre.addEventListener("scroll", function () { follow = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 8; });
    return Promise.all([loadAnsi(), api("runs/" + id + "/log")]).then(function (both) {
      var render = makeRenderer(both[0]);
      var res = both[1];
      if (res.status !== 200 || !res.body) return res.json().then(function (body) { state.replaceChildren(note(errorText(body), "error")); });
      var reader = res.body.getReader();
      var decoder = new TextDecoder("utf-8", { fatal: false });
      var partial = "";
      var pending = el("span", { class: "partial" });
      var chars = 0;
      pre.append(pending);
      function add(text) {
        pending.insertAdjacentHTML("beforebegin", render(text));
        chars += text.length;
        while (chars > LIVE_MAX_CHARS && pre.firstChild !== pending) {
          chars -= (pre.firstChild.textContent || "").length;
          pre.firstChild.remove();
          state.textContent = "Earlier output is trimmed from this view; the run's log keeps all of it.";
        }
      }
      function read() {
        return reader.read().then(function (chunk) {
          if (current.view !== view) { reader.cancel(); return; }
          var text = partial + (chunk.done ? decoder.decode() : decoder.decode(chunk.value, { stream: true }));
          var cut = chunk.done ? text.length - 1 : text.lastIndexOf("\n");
          partial = text.slice(cut + 1);
          if (cut >= 0) add(text.slice(0, cut + 1));
          pending.textContent = visibleControls(stripEscapes(overwrite(partial)));
          if (follow) pre.scrollTop = pre.scrollHeight;
          if (!chunk.done) return read();
          return getJSON("runs/" + id).then(function (j) {
            var job = j.body;
            state.replaceChildren(document.createTextNode("The job has ended" + (job && job.state ? " (" + job.state + ")" : "") + ". "));
            if (job && job.runId) state.append(el("a", { href: "#/runs/" + encodeURIComponent(job.runId), text: "Open its run" }));
            pre.setAttribute("data-ended", "1");
          });
        });
      }
      return read();
    });
  }
`;
