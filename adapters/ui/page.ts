import type { HttpResult } from "../_http.ts";
import { APP_CSS } from "./app-css.ts";
import { APP_JS } from "./app-js.ts";

// The run browser: one HTML page, one script, one stylesheet, all served by the adapter itself
// (no request to any other host). The page runs no inline script, and reports are only ever
// shown in sandboxed `srcdoc` frames (no scripts, opaque origin, no URL of this origin that holds
// their content) or from the API's own URLs, which carry `Content-Security-Policy: sandbox`.

export const PAGE_CSP: string = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data: blob:",
  "frame-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>guide-board</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="ui/app.css">
<script src="ui/app.js" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header>
  <h1><a href="#/">guide-board</a></h1>
  <nav aria-label="Shortcuts">
    <a href="#/latest">Latest run</a>
    <a href="#/latest/failed">Latest failed run</a>
    <a href="#/">All runs</a>
    <a href="#/tests/top?by=flaky">Flaky tests</a>
    <a href="#/tests/top?by=slow">Slowest tests</a>
  </nav>
  <p id="live" class="live" role="status" aria-live="polite"></p>
</header>
<main id="main" tabindex="-1">
  <p>Loading…</p>
</main>
<noscript><p>The run browser needs JavaScript. The API is at <a href="retained-runs">retained-runs</a>.</p></noscript>
</body>
</html>
`;

const FILES: Record<string, { type: string; body: string }> = {
  "": { type: "text/html; charset=utf-8", body: PAGE_HTML },
  "ui/app.js": { type: "text/javascript; charset=utf-8", body: APP_JS },
  "ui/app.css": { type: "text/css; charset=utf-8", body: APP_CSS },
};

/** The run browser's files: `""` (the page), `ui/app.js`, `ui/app.css`; `null` for anything else. */
export function uiResult(path: string): HttpResult | null {
  const file = FILES[path];
  if (!file) return null;
  return {
    status: 200,
    headers: {
      "content-type": file.type,
      "cache-control": "no-cache",
      "x-content-type-options": "nosniff",
      "content-security-policy": PAGE_CSP,
      "referrer-policy": "no-referrer",
    },
    body: file.body,
  };
}
