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
