import { setImmediate as nextTurn } from "node:timers/promises";

/** How long synchronous work may hold the event loop before it yields, in milliseconds. */
export const SLICE_MS = 8;

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
