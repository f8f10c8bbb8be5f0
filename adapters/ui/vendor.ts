import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import type { HttpResult } from "../_http.ts";
import { PAGE_CSP } from "./page.ts";

// Third-party browser code the page loads, shipped as this package's dependencies and served by
// the app itself (never from another host): ansi_up renders ANSI colours in logs.
const VENDOR: Record<string, string> = { "ui/ansi_up.js": "ansi_up/ansi_up.js" };
const cache = new Map<string, Promise<string>>();

/** A vendored script by its page path (`ui/ansi_up.js`), or `null` for anything else. */
export function vendorResult(path: string): Promise<HttpResult> | null {
  const specifier = Object.hasOwn(VENDOR, path) ? VENDOR[path]! : undefined;
  if (specifier === undefined) return null;
  let body = cache.get(specifier);
  if (!body) {
    body = readFile(createRequire(import.meta.url).resolve(specifier), "utf8");
    cache.set(specifier, body);
    body.catch(() => cache.delete(specifier));
  }
  return body.then((text) => ({
    status: 200,
    headers: {
      "content-type": "text/javascript; charset=utf-8",
      "cache-control": "no-cache",
      "x-content-type-options": "nosniff",
      "content-security-policy": PAGE_CSP,
    },
    body: text,
  }));
}
