// Finds a Chromium for the browser tests (never a test tool's own download) and launches it with
// the flags these machines need. Order: $CHROMIUM_PATH, then chromium, chromium-browser and
// google-chrome on PATH.
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, join } from "node:path";
import { chromium, type Browser } from "playwright-core";

const NAMES = ["chromium", "chromium-browser", "google-chrome"];

/** The one line printed when no browser is found. */
export const NO_CHROMIUM =
  "test:browser needs Chromium: set CHROMIUM_PATH, or install one on PATH (Debian: apt-get install chromium; macOS: brew install --cask chromium)";

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The path of a Chromium to drive, or null when there is none. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.CHROMIUM_PATH) return executable(env.CHROMIUM_PATH) ? env.CHROMIUM_PATH : null;
  const dirs = (env.PATH ?? "").split(delimiter).filter(Boolean);
  for (const name of NAMES) for (const dir of dirs) if (executable(join(dir, name))) return join(dir, name);
  return null;
}

/** Launches the Chromium {@link findChromium} finds, headless, with no network of its own. */
export function launchChromium(): Promise<Browser> {
  const executablePath = findChromium();
  if (!executablePath) throw new Error(NO_CHROMIUM);
  return chromium.launch({
    executablePath,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
    ],
  });
}
