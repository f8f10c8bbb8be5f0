import { describe, expect, it } from "vitest";
import { runInSlices, SLICE_MS, sortInSlices } from "../src/_slices.ts";

const busy = (ms: number) => {
  const end = performance.now() + ms;
  while (performance.now() < end) {}
};
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("work in slices of the event loop", () => {
  it("runs tasks in arrival order, spreading a burst over turns of about one slice each", async () => {
    const order: number[] = [];
    const turns: number[] = [];
    let currentTurn = 0;
    const ticking = setInterval(() => currentTurn++, 0);
    // A burst, as queued worker messages arrive: 12 tasks of a third of a slice in one go.
    for (let i = 0; i < 12; i++)
      runInSlices(() => {
        busy(SLICE_MS / 3);
        order.push(i);
        turns.push(currentTurn);
      });
    expect(order.length).toBeGreaterThan(0);
    expect(order.length).toBeLessThan(12); // the rest waits for later turns
    for (let i = 0; i < 200 && order.length < 12; i++) await new Promise((resolve) => setTimeout(resolve, 1));
    clearInterval(ticking);
    expect(order).toEqual([...Array(12).keys()]);
    // No turn ran more than a slice's worth (plus the one task that crossed the end).
    const perTurn = new Map<number, number>();
    for (const t of turns) perTurn.set(t, (perTurn.get(t) ?? 0) + 1);
    expect(Math.max(...perTurn.values())).toBeLessThanOrEqual(4);
    expect(perTurn.size).toBeGreaterThanOrEqual(3);
  });

  it("runs a task at once when the turn has time left", async () => {
    await turn();
    let ran = false;
    runInSlices(() => {
      ran = true;
    });
    expect(ran).toBe(true);
  });

  it("sorts like Array.prototype.sort, stably", async () => {
    const items = Array.from({ length: 40_000 }, (_, i) => ({ key: (i * 7919) % 1000, i }));
    const sorted = await sortInSlices(items, (a, b) => a.key - b.key);
    expect(sorted).toEqual([...items].sort((a, b) => a.key - b.key));
  });
});
