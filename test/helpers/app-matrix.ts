// One HTTP suite, two setups: the stateless app (every request reads the folders) and the app
// answering listings, `latest` and single runs from a live run index (createRunIndex). Both must
// answer every route with the same bytes, so the main HTTP suite runs once per setup.
import type { H3 } from "h3";
import { afterAll, describe } from "vitest";
import { createGuideBoardApp, type GuideBoardAppOptions } from "../../adapters/h3.ts";
import { createRunIndex, type RunIndex } from "../../src/index.ts";

export interface AppSetup {
  /** Shown in the suite's name: `stateless` or `run index`. */
  readonly name: string;
  /** Whether apps of this setup hold a run index (only they serve `/events`). */
  readonly indexed: boolean;
  /** `createGuideBoardApp(options)`, with an index over the same runs directories in the indexed setup. */
  createApp(options: GuideBoardAppOptions): H3;
  /**
   * Resolves once `app` answers from the folders as they are on disk now. The stateless app always
   * does; an index learns of a change through its watcher or its periodic revalidation, so this
   * waits for its first scan and then re-checks every folder (what the revalidation does).
   */
  caughtUp(app: H3): Promise<void>;
}

const indexes: RunIndex[] = [];
afterAll(() => {
  for (const index of indexes.splice(0)) index.close();
});

const indexOf = new WeakMap<H3, RunIndex>();

const stateless: AppSetup = {
  name: "stateless",
  indexed: false,
  createApp: (options) => createGuideBoardApp(options),
  caughtUp: async () => {},
};

const indexed: AppSetup = {
  name: "run index",
  indexed: true,
  createApp(options) {
    if (options.index !== undefined) throw new Error("the run index setup makes its own index");
    // No periodic revalidation: the index learns of a change only through its watcher, or when a
    // test says it changed the folders (`caughtUp`), so no test passes on a lucky re-check.
    const index = createRunIndex({
      runsDir: options.runsDir,
      maxSummaryBytes: options.maxSummaryBytes,
      revalidateMs: 0,
    });
    indexes.push(index);
    const app = createGuideBoardApp({ ...options, index });
    indexOf.set(app, index);
    return app;
  },
  async caughtUp(app) {
    const index = indexOf.get(app);
    if (index === undefined) throw new Error("not an app of the run index setup");
    await index.ready();
    await index.refresh();
  },
};

/** Both setups, stateless first. */
export const APP_SETUPS: readonly AppSetup[] = [stateless, indexed];

/**
 * Declares `suite` once per setup, inside `describe("<name> (<setup>)")`: like h3's
 * `describeMatrix`, the same tests and assertions run against each kind of app.
 */
export function describeAppMatrix(name: string, suite: (setup: AppSetup) => void): void {
  for (const setup of APP_SETUPS) describe(`${name} (${setup.name})`, () => suite(setup));
}
