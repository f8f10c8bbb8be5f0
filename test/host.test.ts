// The Host header, parsed strictly in one place (adapters/_host.ts): what loopback and listed
// names allow, the values a browser can never send (refused all the same), and a duplicated Host
// header over a real socket.
import { createServer, type Server } from "node:http";
import { connect, type AddressInfo } from "node:net";
import { join } from "node:path";
import { toNodeHandler } from "h3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isAllowedHost, isLoopbackAddress, parseHost } from "../adapters/_host.ts";
import { createGuideBoardApp } from "../adapters/h3.ts";
import { ROOT } from "./helpers/bin.ts";

const EXAMPLES = join(ROOT, "examples", "runs");

describe("parseHost", () => {
  it.each([
    ["localhost", { name: "localhost", kind: "name", port: null }],
    ["LocalHost:4417", { name: "localhost", kind: "name", port: 4417 }],
    ["runs.example.com", { name: "runs.example.com", kind: "name", port: null }],
    ["127.0.0.1:80", { name: "127.0.0.1", kind: "ipv4", port: 80 }],
    ["[::1]", { name: "::1", kind: "ipv6", port: null }],
    ["[::1]:65535", { name: "::1", kind: "ipv6", port: 65535 }],
    ["[2001:DB8::1]:8443", { name: "2001:db8::1", kind: "ipv6", port: 8443 }],
    ["a-b.x1", { name: "a-b.x1", kind: "name", port: null }],
  ])("reads %j", (value, parsed) => {
    expect(parseHost(value)).toEqual(parsed);
  });

  it.each([
    "",
    "[::1].evil.com",
    "[::1]evil.com:80",
    "[::1x",
    "[::1",
    "[127.0.0.1]",
    "[fe80::1%eth0]",
    "::1",
    "127.999.999.999",
    "127.0.0.01",
    "2130706433",
    "0x7f000001",
    "evil.example, x.localhost",
    "evil.example,x.localhost",
    "x.localhost evil",
    "localhost:",
    "localhost:65536",
    "localhost:123456",
    "localhost:80:80",
    "localhost:-1",
    "local_host",
    "-localhost",
    "localhost-",
    "localhost.",
    ".localhost",
    "a..localhost",
    `${"a".repeat(64)}.localhost`,
    "user@localhost",
    "localhost/path",
    "localhost\u0000",
    "l\u00f6calhost",
  ])("refuses %j", (value) => {
    expect(parseHost(value)).toBeNull();
  });
});

describe("isAllowedHost", () => {
  it.each(["localhost", "x.localhost:1", "127.0.0.1", "127.255.0.9:4417", "[::1]:4417", "[0:0:0:0:0:0:0:1]"])(
    "allows loopback %j",
    (value) => {
      expect(isAllowedHost(value, "loopback")).toBe(true);
    },
  );

  it.each(["[::1].evil.com", "127.999.999.999", "evil.example, x.localhost", "128.0.0.1", "[::2]", "localhost.evil"])(
    "refuses %j as loopback",
    (value) => {
      expect(isAllowedHost(value, "loopback")).toBe(false);
    },
  );

  it("allows exactly the listed names, with any port", () => {
    expect(isAllowedHost("runs.example.com:8443", ["runs.example.com"])).toBe(true);
    expect(isAllowedHost("evil.runs.example.com", ["runs.example.com"])).toBe(false);
    expect(isAllowedHost(null, ["runs.example.com"])).toBe(false);
  });
});

describe("isLoopbackAddress (serve --host)", () => {
  it.each([
    ["127.0.0.1", true],
    ["127.1.2.3", true],
    ["::1", true],
    ["[::1]", true],
    ["localhost", true],
    ["0.0.0.0", false],
    ["::", false],
    ["192.168.1.10", false],
    ["x.localhost", false],
    ["127.0.0.1:80", false],
  ])("%s → %s", (address, loopback) => {
    expect(isLoopbackAddress(address)).toBe(loopback);
  });
});

describe("Host over a real socket", () => {
  let server: Server;
  let port: number;

  beforeAll(async () => {
    const app = createGuideBoardApp({ runsDir: EXAMPLES, allowedHosts: "loopback" });
    server = createServer(toNodeHandler(app));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  /** Sends the request head as written and reads the status line. */
  const statusOf = (head: string) =>
    new Promise<number>((resolve, reject) => {
      const socket = connect(port, "127.0.0.1", () => socket.end(`${head}\r\n\r\n`));
      let text = "";
      socket.setTimeout(5000, () => socket.destroy(new Error("no answer")));
      socket.on("data", (chunk) => {
        text += chunk;
      });
      socket.on("close", () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0)));
      socket.on("error", reject);
    });

  it("answers a loopback Host", async () => {
    expect(await statusOf("GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close")).toBe(200);
  });

  it.each(["[::1].evil.com", "[::1]evil.com:80", "[::1x", "127.999.999.999"])(
    "answers Host %j with 421",
    async (host) => {
      expect(await statusOf(`GET /healthz HTTP/1.1\r\nHost: ${host}\r\nConnection: close`)).toBe(421);
    },
  );

  it("answers a duplicated Host header with 421, even when one of its values is loopback", async () => {
    const status = await statusOf(
      "GET /healthz HTTP/1.1\r\nHost: evil.example\r\nHost: x.localhost\r\nConnection: close",
    );
    expect(status).toBe(421);
  });
});
