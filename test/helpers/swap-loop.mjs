// A child process for the swap test: swaps a run folder, and its `reports/` folder, with symbolic
// links to an outside copy in a tight loop, by renames only (every step is atomic). Runs until
// told to stop (or its parent goes away), then sends the number of swaps it made.
//
//   node swap-loop.mjs <runDir> <outsideRunDir> <stashDir>
import { existsSync, renameSync, symlinkSync } from "node:fs";
import { basename, dirname, join } from "node:path";

const [runDir, outside, stash] = process.argv.slice(2);
const runsDir = dirname(runDir);
const name = basename(runDir);
const runLink = join(runsDir, `.guide-board-swap-${name}`); // a tooling name: listings skip it
const runStash = join(stash, "run");
const reportsLink = join(runDir, ".swap-reports");
const reportsStash = join(stash, "reports");
if (!existsSync(runLink)) symlinkSync(outside, runLink);
symlinkSync(join(outside, "reports"), reportsLink);

let swaps = 0;
let stop = false;
process.on("message", (message) => {
  if (message === "stop") stop = true;
});
process.on("disconnect", () => {
  stop = true;
});

function swapRun() {
  renameSync(runDir, runStash); // the run folder goes away…
  renameSync(runLink, runDir); // …a link to the outside copy takes its name…
  renameSync(runDir, runLink); // …and goes again…
  renameSync(runStash, runDir); // …and the real folder comes back.
}

function swapReports() {
  renameSync(join(runDir, "reports"), reportsStash);
  renameSync(reportsLink, join(runDir, "reports"));
  renameSync(join(runDir, "reports"), reportsLink);
  renameSync(reportsStash, join(runDir, "reports"));
}

function batch() {
  for (let i = 0; i < 200 && !stop; i++) {
    swapRun();
    swapReports();
    swaps += 2;
  }
  if (stop) {
    process.send?.({ swaps });
    process.disconnect?.();
    return;
  }
  setImmediate(batch); // let the stop message in
}
process.send?.({ ready: true });
batch();
