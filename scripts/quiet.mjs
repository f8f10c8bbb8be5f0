// Runs a command with its output held back: nothing is printed when it succeeds, everything (stdout
// and stderr, in order) when it fails. `npm start` builds through it so the URL is the first thing
// a newcomer sees, while a build error still shows in full.
import { spawn } from "node:child_process";

const [command, ...args] = process.argv.slice(2);
if (!command) {
  process.stderr.write("usage: node scripts/quiet.mjs COMMAND [ARGS…]\n");
  process.exit(2);
}
const chunks = [];
const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], shell: process.platform === "win32" });
child.stdout.on("data", (chunk) => chunks.push(chunk));
child.stderr.on("data", (chunk) => chunks.push(chunk));
child.on("error", (error) => {
  process.stderr.write(`${command}: ${error.message}\n`);
  process.exit(1);
});
child.on("close", (code, signal) => {
  if (code === 0) return;
  process.stderr.write(Buffer.concat(chunks));
  process.stderr.write(`\n${command} ${args.join(" ")} failed (${signal ?? `exit ${code}`})\n`);
  process.exit(code ?? 1);
});
