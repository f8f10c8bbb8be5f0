/** The run browser's stylesheet: readable without colour (statuses are words, not hues). */
export const APP_CSS = `
:root { color-scheme: light dark; --fg: #1b1f24; --muted: #57606a; --line: #d0d7de; --bg: #fff; --accent: #0969da; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --muted: #9198a1; --line: #3d444d; --bg: #0d1117; --accent: #4493f8; } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 1rem 2rem; padding: .75rem 1.5rem; border-bottom: 1px solid var(--line); }
header h1 { margin: 0; font-size: 1.25rem; }
header h1 a { color: inherit; text-decoration: none; }
nav { display: flex; gap: 1rem; }
a { color: var(--accent); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, summary:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
main { padding: 1rem 1.5rem 3rem; }
main:focus { outline: none; }
.skip { position: absolute; left: -999px; }
.skip:focus { left: 1rem; top: .5rem; background: var(--bg); padding: .25rem .5rem; }
.live { margin: 0 0 0 auto; color: var(--muted); font-size: .875rem; }
form.filters { display: flex; flex-wrap: wrap; gap: .75rem 1.25rem; align-items: end; margin: 0 0 1rem; }
label { display: flex; flex-direction: column; font-size: .875rem; color: var(--muted); gap: .2rem; }
input, select, button { font: inherit; padding: .3rem .5rem; border: 1px solid var(--line); border-radius: 6px; background: var(--bg); color: var(--fg); }
button { cursor: pointer; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1.5rem; }
caption { text-align: left; font-weight: 600; padding: .25rem 0; }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; }
td.mono, code { font-family: ui-monospace, monospace; font-size: .85rem; word-break: break-all; }
.status::before { content: "● "; }
.status-passed::before { content: "✓ "; }
.status-failed::before { content: "✗ "; }
.status-errored::before { content: "! "; }
.status-cancelled::before { content: "■ "; }
.note { border-left: 4px solid var(--line); padding: .5rem .75rem; margin: .75rem 0; }
.error { border-left-color: #cf222e; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }
dt { color: var(--muted); }
dd { margin: 0; }
iframe.report { width: 100%; height: 60vh; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
img.report { max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
.muted { color: var(--muted); }
pre.log { max-height: 70vh; overflow: auto; margin: .5rem 0 1.5rem; padding: .75rem; border-radius: 6px; background: #0d1117; color: #e6edf3; font: .85rem/1.4 ui-monospace, monospace; white-space: pre-wrap; overflow-wrap: anywhere; }
.log-tabs { display: flex; flex-wrap: wrap; gap: .5rem; }
.log-tab[aria-pressed="true"] { border-color: var(--accent); font-weight: 600; }
.ansi-bold { font-weight: bold; } .ansi-faint { opacity: .7; } .ansi-italic { font-style: italic; } .ansi-underline { text-decoration: underline; }
.ansi-black-fg { color: #6e7681; } .ansi-red-fg { color: #ff7b72; } .ansi-green-fg { color: #3fb950; } .ansi-yellow-fg { color: #d29922; }
.ansi-blue-fg { color: #58a6ff; } .ansi-magenta-fg { color: #bc8cff; } .ansi-cyan-fg { color: #39c5cf; } .ansi-white-fg { color: #e6edf3; }
.ansi-bright-black-fg { color: #8b949e; } .ansi-bright-red-fg { color: #ffa198; } .ansi-bright-green-fg { color: #56d364; } .ansi-bright-yellow-fg { color: #e3b341; }
.ansi-bright-blue-fg { color: #79c0ff; } .ansi-bright-magenta-fg { color: #d2a8ff; } .ansi-bright-cyan-fg { color: #56d4dd; } .ansi-bright-white-fg { color: #ffffff; }
.ansi-black-bg { background: #484f58; } .ansi-red-bg { background: #b62324; } .ansi-green-bg { background: #238636; } .ansi-yellow-bg { background: #9e6a03; }
.ansi-blue-bg { background: #1f6feb; } .ansi-magenta-bg { background: #8957e5; } .ansi-cyan-bg { background: #1b7c83; } .ansi-white-bg { background: #b1bac4; color: #0d1117; }
.status-skipped::before { content: "– "; }
.status-flaky::before { content: "~ "; }
td.test-message span { white-space: pre-wrap; }
/* Test history: the trend chart (SVG, coloured here: the CSP allows no inline styles), outcome strips, rankings. */
:root { --passed: #2da44e; --failed: #cf222e; --flaky: #bf8700; --duration: #8250df; --none: #8c959f; }
@media (prefers-color-scheme: dark) { :root { --passed: #3fb950; --failed: #f85149; --flaky: #d29922; --duration: #bc8cff; } }
#trend { margin: 0 0 1rem; }
.trend-head { display: flex; flex-wrap: wrap; align-items: baseline; gap: .5rem 1.5rem; }
.trend-head h3 { margin: 0; }
label.inline { flex-direction: row; align-items: baseline; gap: .5rem; }
.trend-plot { width: 100%; min-height: 180px; }
svg.trend-chart { display: block; max-width: 100%; }
svg.trend-chart .grid { stroke: var(--line); stroke-width: 1; }
svg.trend-chart .axis { fill: var(--muted); font-size: 11px; }
svg.trend-chart .hit { fill: transparent; }
svg.trend-chart a.bar:hover .hit, svg.trend-chart a.bar:focus .hit { fill: var(--line); fill-opacity: .5; }
svg.trend-chart a.bar:focus { outline: none; }
svg.trend-chart a.bar:focus-visible .hit { stroke: var(--accent); stroke-width: 3; }
.seg-passed { fill: var(--passed); background: var(--passed); }
.seg-failed { fill: var(--failed); background: var(--failed); }
.seg-flaky { fill: var(--flaky); background: var(--flaky); }
.seg-none { fill: var(--none); }
svg.trend-chart .duration-line { fill: none; stroke: var(--duration); stroke-width: 2; pointer-events: none; }
.swatch.line-duration { background: var(--duration); height: 3px; }
ul.legend { display: flex; flex-wrap: wrap; gap: .25rem 1rem; list-style: none; margin: .25rem 0; padding: 0; font-size: .85rem; color: var(--muted); }
ul.legend li { display: flex; align-items: center; gap: .35rem; }
.swatch { display: inline-block; width: .8rem; height: .8rem; border-radius: 2px; }
ol.strip { display: flex; flex-wrap: wrap; gap: 2px; list-style: none; margin: 0; padding: 0; }
ol.strip .cell { display: inline-block; min-width: 1.3rem; text-align: center; border-radius: 3px; font: 600 .8rem/1.3rem ui-monospace, monospace; text-decoration: none; color: #fff; background: var(--none); }
ol.strip .cell-passed { background: var(--passed); } ol.strip .cell-failed, ol.strip .cell-errored { background: var(--failed); }
ol.strip .cell-flaky { background: var(--flaky); } ol.strip .cell-absent { background: transparent; color: var(--muted); border: 1px dashed var(--line); }
.recent-text { margin: .2rem 0 0; font-size: .85rem; }
nav { flex-wrap: wrap; }
nav.tabs { display: flex; gap: 1rem; margin: 0 0 1rem; }
nav.tabs a[aria-current="page"] { font-weight: 600; color: var(--fg); text-decoration: none; }
.scroll { overflow-x: auto; }
.status-absent::before { content: "· "; }
pre.detail { white-space: pre-wrap; word-break: break-all; max-height: 20rem; overflow: auto; font-size: .8rem; margin: .25rem 0 0; }
`;
