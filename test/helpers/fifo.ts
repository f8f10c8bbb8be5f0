import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { afterAll } from "vitest";

const rescuers: ChildProcess[] = [];
afterAll(() => {
  for (const rescuer of rescuers.splice(0)) rescuer.kill("SIGKILL");
});

/**
 * Makes a FIFO, plus a writer that opens it after 3 s: should the library ever open it blocking,
 * the writer unblocks it, so the regression fails a timing assertion instead of hanging the suite.
 */
export function makeFifo(path: string): void {
  execFileSync("mkfifo", [path]);
  const rescuer = spawn("sh", ["-c", 'sleep 3; exec 3>"$0"', path], { stdio: "ignore" });
  rescuer.unref();
  rescuers.push(rescuer);
}
