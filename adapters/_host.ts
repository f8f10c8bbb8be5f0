// The one parser of host names: the `Host` header of every request (DNS-rebinding defence) and
// `serve --host`. Strict on purpose: anything a browser cannot send, or that could be read two
// ways, is refused — brackets around anything but an IPv6 address, text after `]`, numeric names
// that are not a dotted quad, empty or over-long labels, duplicated headers joined with a comma.
import { isIPv4, isIPv6 } from "node:net";

/** A host as the `Host` header's grammar defines it (RFC 9110 §7.2, RFC 3986 §3.2.2). */
export interface ParsedHost {
  /** Lower case, without brackets: `localhost`, `127.0.0.1`, `::1`. */
  name: string;
  kind: "ipv4" | "ipv6" | "name";
  port: number | null;
}

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Parses `name[:port]` or `[ipv6][:port]`; anything else (or more) is null. */
export function parseHost(value: string | null | undefined): ParsedHost | null {
  if (!value || value.length > 300) return null;
  let name: string;
  let rest: string;
  if (value.startsWith("[")) {
    const close = value.indexOf("]");
    if (close < 0) return null;
    name = value.slice(1, close).toLowerCase();
    rest = value.slice(close + 1);
    if (!isIPv6(name) || name.includes("%")) return null;
  } else {
    const colon = value.indexOf(":");
    name = (colon < 0 ? value : value.slice(0, colon)).toLowerCase();
    rest = colon < 0 ? "" : value.slice(colon);
  }
  let port: number | null = null;
  if (rest !== "") {
    if (!/^:\d{1,5}$/.test(rest) || Number(rest.slice(1)) > 65_535) return null;
    port = Number(rest.slice(1));
  }
  if (value.startsWith("[")) return { name, kind: "ipv6", port };
  if (isIPv4(name)) return { name, kind: "ipv4", port };
  const labels = name.split(".");
  if (name.length > 253 || !labels.every((label) => LABEL.test(label))) return null;
  // A last label that URL parsers read as a number makes the whole name an IPv4 address to them
  // (WHATWG "ends in a number"): 127.999.999.999, 2130706433, 0x7f000001 are refused, not guessed at.
  if (/^(?:\d+|0x[0-9a-f]*)$/.test(labels[labels.length - 1]!)) return null;
  return { name, kind: "name", port };
}

/** Whether a parsed host is this machine's loopback: `localhost`, `*.localhost`, 127.0.0.0/8, `::1`. */
export function isLoopback(host: ParsedHost): boolean {
  if (host.kind === "ipv4") return host.name.startsWith("127.");
  if (host.kind === "ipv6") return host.name === "::1" || host.name === "0:0:0:0:0:0:0:1";
  return host.name === "localhost" || host.name.endsWith(".localhost");
}

/** Whether a `Host` header passes `allowedHosts`: loopback names, or exactly the listed names (any port). */
export function isAllowedHost(header: string | null, allowed: "loopback" | readonly string[]): boolean {
  const host = parseHost(header);
  if (!host) return false;
  return allowed === "loopback" ? isLoopback(host) : allowed.includes(host.name);
}

/** Whether `serve --host` listens on loopback only: `127.x.y.z`, `::1` (bracketed or not), `localhost`. */
export function isLoopbackAddress(address: string): boolean {
  const host = parseHost(isIPv6(address) ? `[${address}]` : address);
  return host !== null && host.port === null && isLoopback(host) && !host.name.endsWith(".localhost");
}
