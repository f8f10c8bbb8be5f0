import { setImmediate as nextTurn } from "node:timers/promises";

/** How long synchronous work may hold the event loop before it yields, in milliseconds. */
export const SLICE_MS = 4;

/**
 * A clock for synchronous work done in slices: `due()` says when the current slice is used up,
 * `yield()` lets the event loop run and starts the next slice. Synchronous reads in slices beat
 * one async read per file (no thread-pool hop per file) and keep a server responsive.
 */
export function createSlicer(sliceMs: number = SLICE_MS): { due(): boolean; yield(): Promise<void> } {
  let deadline = performance.now() + sliceMs;
  return {
    due: () => performance.now() >= deadline,
    yield: async () => {
      await nextTurn();
      deadline = performance.now() + sliceMs;
    },
  };
}

const queued: Array<() => void> = [];
let turnOpen = false; // a turn of the event loop started spending its slice
let turnEnds = 0;
let drainScheduled = false;

/**
 * Runs `task` now if this turn of the event loop has time left in its slice, else queues it for
 * the next turns: tasks arriving in one go (messages from worker threads, queued while the event
 * loop was busy) never hold it for much more than one slice per turn. One queue for the whole
 * process, first in, first out; each task should take well under a slice.
 */
export function runInSlices(task: () => void): void {
  if (!turnOpen) {
    turnOpen = true;
    turnEnds = performance.now() + SLICE_MS;
    _scheduleDrain();
  }
  if (queued.length === 0 && performance.now() < turnEnds) task();
  else queued.push(task);
}

function _scheduleDrain(): void {
  if (drainScheduled) return;
  drainScheduled = true;
  setImmediate(_drain);
}

/** At the end of a turn (the check phase): what is left of its slice goes to queued tasks. */
function _drain(): void {
  drainScheduled = false;
  if (!turnOpen) {
    // (a turn of its own: tasks that queue more while it runs share its slice)
    turnOpen = true;
    turnEnds = performance.now() + SLICE_MS;
  }
  try {
    while (queued.length > 0 && performance.now() < turnEnds) queued.shift()!();
  } finally {
    turnOpen = false;
    if (queued.length > 0) _scheduleDrain();
  }
}

/**
 * Sorts `items` without holding the event loop for long: sorted runs of a few thousand, then
 * merged pairwise, yielding whenever the slice is used up. Stable, like `Array.prototype.sort`.
 */
export async function sortInSlices<T>(items: T[], compare: (a: T, b: T) => number): Promise<T[]> {
  const RUN = 16_384; // a native sort of this many takes a few milliseconds
  const slicer = createSlicer();
  let runs: T[][] = [];
  for (let i = 0; i < items.length; i += RUN) {
    runs.push(items.slice(i, i + RUN).sort(compare));
    if (slicer.due()) await slicer.yield();
  }
  while (runs.length > 1) {
    const merged: T[][] = [];
    for (let r = 0; r < runs.length; r += 2) {
      const a = runs[r]!;
      const b = runs[r + 1];
      if (!b) {
        merged.push(a);
        continue;
      }
      const out = new Array<T>(a.length + b.length);
      let i = 0;
      let j = 0;
      let k = 0;
      while (i < a.length && j < b.length) {
        out[k++] = compare(b[j]!, a[i]!) < 0 ? b[j++]! : a[i++]!;
        if ((k & 1023) === 0 && slicer.due()) await slicer.yield();
      }
      while (i < a.length) out[k++] = a[i++]!;
      while (j < b.length) out[k++] = b[j++]!;
      merged.push(out);
    }
    runs = merged;
  }
  return runs[0] ?? [];
}
