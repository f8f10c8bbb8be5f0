// The service for the log benchmark, in its own process (so its RSS is its own): one fake job
// whose run folder the benchmark writes; the job ends when the parent says so over IPC.
import { createServer } from "node:http";
import { toNodeHandler } from "h3";
import { createGuideBoardApp } from "../dist/h3.js";

const [runsDir, runId] = process.argv.slice(2);
const job = {
  jobId: "j",
  guide: "bench",
  state: "running",
  runId,
  createdAt: new Date().toISOString(),
  startedAt: new Date().toISOString(),
  finishedAt: null,
  exitCode: null,
  retainedRun: null,
};
const jobs = {
  guides: () => ["bench"],
  start: () => undefined,
  list: () => ({ jobs: [{ ...job }] }),
  get: (jobId) => (jobId === "j" ? { ...job } : undefined),
  cancel: () => undefined,
};
process.on("message", (message) => {
  if (message === "end") Object.assign(job, { state: "succeeded", finishedAt: new Date().toISOString(), exitCode: 0 });
  if (message === "exit") server.close(() => process.exit(0));
});
const server = createServer(toNodeHandler(createGuideBoardApp({ runsDir, jobs })));
server.listen(0, "127.0.0.1", () => process.send({ port: server.address().port }));
