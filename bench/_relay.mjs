// A TCP relay for the network-mount helper (bench/_netfs.mjs): forwards 127.0.0.1:LISTEN to
// 127.0.0.1:TARGET, delivering every chunk DELAY_MS after it arrived, in order, in each direction.
// Its parent (IPC) sends "hang" (nothing is delivered any more: the storage server stops
// answering) and "resume" (held chunks go out, in order). usage: node _relay.mjs LISTEN TARGET DELAY_MS
import { createConnection, createServer } from "node:net";

const [listen, target, delayMs] = process.argv.slice(2).map(Number);
let hung = false;
const lanes = new Set();

/** One direction of one connection: a queue of chunks with the time each may be delivered. */
function lane(from, to) {
  const queue = [];
  let timer = null;
  const drain = () => {
    timer = null;
    if (hung) return;
    const now = performance.now();
    while (queue.length > 0 && queue[0].due <= now) to.write(queue.shift().chunk);
    if (queue.length > 0) timer = setTimeout(drain, Math.max(0, queue[0].due - now));
  };
  const self = { kick: () => timer === null && drain() };
  from.on("data", (chunk) => {
    queue.push({ chunk, due: performance.now() + delayMs });
    // Node's timers have a 1 ms grain: a sub-millisecond delay is kept by draining on the next turn
    // of the event loop when the chunk is due by then, and with a timer otherwise.
    if (timer === null && !hung) timer = setTimeout(drain, delayMs >= 1 ? delayMs : 0);
  });
  lanes.add(self);
  from.on("close", () => lanes.delete(self));
  return self;
}

const server = createServer({ noDelay: true }, (client) => {
  const upstream = createConnection({ host: "127.0.0.1", port: target, noDelay: true });
  lane(client, upstream);
  lane(upstream, client);
  for (const [a, b] of [
    [client, upstream],
    [upstream, client],
  ]) {
    a.on("error", () => b.destroy());
    a.on("close", () => b.destroy());
  }
});
server.listen(listen, "127.0.0.1", () => process.send?.("ready"));
process.on("message", (message) => {
  hung = message === "hang";
  if (!hung) for (const l of lanes) l.kick();
  process.send?.(`${message}-done`);
});
process.on("disconnect", () => process.exit(0));
