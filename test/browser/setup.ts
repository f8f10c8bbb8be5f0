// Global setup of `npm run test:browser`: without a Chromium, stop at once with one line.
import { findChromium, NO_CHROMIUM } from "../helpers/chromium.ts";

export default function setup(): void {
  if (findChromium()) return;
  process.stderr.write(`${NO_CHROMIUM}\n`);
  process.exit(1);
}
