// A server for the HTTP benchmarks, in its own process: `guide-board RUNS_DIR` or `sirv STATIC_DIR`.
import { createServer } from "node:http";
import { toNodeHandler } from "h3";
import sirv from "sirv";
import { createGuideBoardApp } from "../dist/h3.js";
import { createRunIndex } from "../dist/index.js";

const [kind, dir] = process.argv.slice(2);
let handler;
if (kind === "guide-board") {
  const index = createRunIndex({ runsDir: dir });
  await index.ready();
  handler = toNodeHandler(createGuideBoardApp({ runsDir: dir, index }));
} else {
  handler = sirv(dir, { dev: false, etag: true });
}
const server = createServer(handler);
server.listen(0, "127.0.0.1", () => process.stdout.write(`${server.address().port}\n`));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
