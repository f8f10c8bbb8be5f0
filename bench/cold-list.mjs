// Cold listRetainedRuns vs the floor: a tight synchronous read + JSON.parse loop over the same
// summary files, measured alternately in this process; medians of several repetitions.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { listRetainedRuns } from "../dist/index.js";
import { median, QUICK, report, runsDirOf } from "./_util.mjs";

function floor(dir) {
  let n = 0;
  for (const name of readdirSync(dir)) {
    JSON.parse(readFileSync(join(dir, name, "retention-summary.json"), "utf8"));
    n++;
  }
  return n;
}

const rows = [];
for (const count of QUICK ? [500, 2000] : [10_000, 100_000]) {
  const dir = runsDirOf(count);
  const reps = QUICK ? 3 : count >= 100_000 ? 5 : 9;
  const floors = [];
  const ours = [];
  floor(dir); // warm the page cache for both
  for (let r = 0; r < reps; r++) {
    let t = performance.now();
    floor(dir);
    floors.push(performance.now() - t);
    t = performance.now();
    const list = await listRetainedRuns({ runsDir: dir, limit: 50 });
    ours.push(performance.now() - t);
    if (list.runs.length !== 50) throw new Error("listing is wrong");
  }
  const ratio = median(ours) / median(floors);
  rows.push({
    name: `cold listRetainedRuns, ${count.toLocaleString("en")} runs`,
    value: `${median(ours).toFixed(1)} ms`,
    baseline: `${median(floors).toFixed(1)} ms`,
    ratio: `${ratio.toFixed(2)}×`,
    target: "≤ 1.5× the floor",
    pass: ratio <= 1.5,
  });
}
report("Cold listing", rows);
