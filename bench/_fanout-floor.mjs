// The floor for the log benchmark's fan-out: the simplest possible follower server, in its own
// process like the service. It polls the same log file every 50 ms, like the service's one reader,
// and writes each new chunk to every open response at once, ignoring backpressure (so its memory
// is not bounded: it is a latency floor, not a design). What it cannot deliver in time, this
// machine cannot.
import { open } from "node:fs/promises";
import { createServer } from "node:http";
import { join } from "node:path";

const [runsDir, runId] = process.argv.slice(2);
const responses = new Set();
let ended = false;
let offset = 0;
let handle = null;
const poll = async () => {
  handle ??= await open(join(runsDir, runId, "logs", "stdout.log"), "r").catch(() => null);
  if (!handle) return;
  for (;;) {
    const chunk = Buffer.allocUnsafe(1024 * 1024);
    const { bytesRead } = await handle.read(chunk, 0, chunk.length, offset);
    if (bytesRead === 0) break;
    offset += bytesRead;
    for (const res of responses) res.write(chunk.subarray(0, bytesRead));
  }
  if (ended) for (const res of responses) res.end();
};
let busy = false;
const timer = setInterval(async () => {
  if (busy) return;
  busy = true;
  await poll();
  busy = false;
}, 50);
process.on("message", (message) => {
  if (message === "end") ended = true;
  if (message === "exit") {
    clearInterval(timer);
    server.close(() => process.exit(0));
  }
});
const server = createServer((_req, res) => {
  res.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
  responses.add(res);
  res.on("close", () => responses.delete(res));
});
server.listen(0, "127.0.0.1", () => process.send({ port: server.address().port }));
