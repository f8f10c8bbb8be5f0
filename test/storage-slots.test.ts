// Slots per runs directory under the bin's thread pool (64): a network mount may hold 16 calls,
// a local file system half the pool, and neither ever holds another directory's slots.
process.env.UV_THREADPOOL_SIZE = "64"; // before the first storage call decides the caps (as the bin does)

import { describe, expect, it } from "vitest";
import { isLocalFs, setStorageLocal, storageCall, storageHealth, storageOf } from "../src/storage.ts";
import { makeRunsDir } from "./helpers/runs.ts";

/** `n` calls on `runsDir` that do not return until released. */
function holdCalls(runsDir: string, n: number) {
  let release!: () => void;
  const stuck = new Promise<void>((resolve) => {
    release = resolve;
  });
  const calls = Array.from({ length: n }, () =>
    storageCall(runsDir, "test-hold", () => stuck, { storageTimeoutMs: 5000 }),
  );
  return { calls, release };
}

describe("storage slots per runs directory", () => {
  it("gives a local file system half the pool, a network mount 16, and keeps another directory answering", async () => {
    const local = makeRunsDir().runsDir;
    const network = makeRunsDir().runsDir;
    const other = makeRunsDir().runsDir;
    expect(await isLocalFs(local, {})).toBe(true); // its statfs marks it local
    setStorageLocal(network, false);
    const onLocal = holdCalls(local, 50);
    const onNetwork = holdCalls(network, 50);
    expect(storageHealth(local)).toMatchObject({ inFlight: 32, queued: 18 });
    expect(storageHealth(network)).toMatchObject({ inFlight: 16, queued: 34 });
    expect(await storageOf(other).readdir(other, true)).toEqual([]);
    onLocal.release();
    onNetwork.release();
    await Promise.all([...onLocal.calls, ...onNetwork.calls]);
    expect(storageHealth(local)).toMatchObject({ inFlight: 0, queued: 0 });
    expect(storageHealth(network)).toMatchObject({ inFlight: 0, queued: 0 });
  });

  it("starts queued calls first, in order, when a directory turns out to be local", async () => {
    const dir = makeRunsDir().runsDir;
    setStorageLocal(dir, false);
    const order: number[] = [];
    let release!: () => void;
    const stuck = new Promise<void>((resolve) => {
      release = resolve;
    });
    const calls = Array.from({ length: 40 }, (_, i) =>
      storageCall(dir, "test-order", () => {
        order.push(i);
        return stuck;
      }),
    );
    expect(storageHealth(dir)).toMatchObject({ inFlight: 16, queued: 24 });
    setStorageLocal(dir, true);
    expect(storageHealth(dir)).toMatchObject({ inFlight: 32, queued: 8 });
    const late = storageCall(dir, "test-order", async () => {
      order.push(40);
    });
    release();
    await Promise.all([...calls, late]);
    expect(order).toEqual([...Array(41).keys()]);
  });
});
