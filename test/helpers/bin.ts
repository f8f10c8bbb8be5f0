// The built bin as users run it: `node bin/guide-board.mjs …` in a child process, with the
// environment of the machine running the tests stripped of GUIDE_BOARD_* variables. Every child
// started here is SIGKILLed after the test file, whatever a test did.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll } from "vitest";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const BIN = join(ROOT, "bin", "guide-board.mjs");
/** How long a child may take to start, stop or finish on a busy machine (unless told otherwise). */
const PATIENCE_MS = 20_000;
/** How long `stop` waits after a gentler signal before it sends SIGKILL. */
const GRACE_MS = 5_000;

const children = new Set<ChildProcess>();
afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  children.clear();
});

/** Throws unless the bin's build output is there (`npm test` builds first). */
export function assertBuilt(): void {
  if (!existsSync(join(ROOT, "dist", "cli.js"))) {
    throw new Error("dist/cli.js is missing: run npm run build before these tests (npm test does).");
  }
}

/** Whether a process with this pid exists (one of another user's counts). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The environment without any GUIDE_BOARD_* variable of the machine running the tests, plus `extra`. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1" };
  for (const key of Object.keys(env)) if (key.startsWith("GUIDE_BOARD_")) delete env[key];
  return { ...env, ...extra };
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Finished extends Exit {
  stdout: string;
  stderr: string;
}

export interface BinOptions {
  cwd: string;
  /** Variables added to {@link cleanEnv}. */
  env?: Record<string, string>;
  /** Arguments for node itself, before the bin. */
  nodeArgs?: string[];
  /** How long `finished()` (and `startServe`'s wait and `stop()`) may take; 20 s unless given. */
  timeoutMs?: number;
}

export interface Spawned {
  child: ChildProcess;
  /** Everything the child printed so far. */
  output: () => { stdout: string; stderr: string };
  /** Resolves on the child's `exit` (its pipes may still hold output). */
  exited: Promise<Exit>;
  /** Resolves once the child has exited and its pipes closed, however long that takes. */
  closed: Promise<Finished>;
  /** `closed`, but kills the child and fails after `timeoutMs`. */
  finished: () => Promise<Finished>;
}

/** `promise`, or SIGKILL for `child` and an error after `timeoutMs`. */
async function within<T>(
  promise: Promise<T>,
  child: ChildProcess,
  timeoutMs: number,
  message: () => string,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(message()));
    }, timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Spawns `node [nodeArgs] bin/guide-board.mjs ...args` in `cwd`. */
export function runBin(args: string[], options: BinOptions): Spawned {
  const timeoutMs = options.timeoutMs ?? PATIENCE_MS;
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), BIN, ...args], {
    cwd: options.cwd,
    env: cleanEnv(options.env),
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8").on("data", (text: string) => (stdout += text));
  child.stderr!.setEncoding("utf8").on("data", (text: string) => (stderr += text));
  const exited = new Promise<Exit>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  const closed = new Promise<Finished>((resolve) => {
    child.once("close", (code, signal) => {
      children.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
  const finished = () =>
    within(
      closed,
      child,
      timeoutMs,
      () => `guide-board ${args.join(" ")} did not exit within ${timeoutMs} ms: ${JSON.stringify({ stdout, stderr })}`,
    );
  return { child, output: () => ({ stdout, stderr }), exited, closed, finished };
}

export interface Served extends Spawned {
  /** The URL of its "Open <url>" line. */
  url: string;
  port: number;
  /**
   * Sends `signal` (SIGKILL unless given; a gentler one is followed by SIGKILL after 5 s) unless
   * the service has exited already, and resolves on its exit (killing it and failing after `timeoutMs`).
   */
  stop: (signal?: NodeJS.Signals) => Promise<Exit>;
}

/**
 * Starts `guide-board serve --port 0 ...args` in `cwd` and waits for its "Open <url>" line
 * (`urlPattern`'s first group is the URL); fails if the service exits first or prints no such
 * line within `timeoutMs`.
 */
export async function startServe(args: string[], options: BinOptions & { urlPattern?: RegExp }): Promise<Served> {
  const timeoutMs = options.timeoutMs ?? PATIENCE_MS;
  const pattern = options.urlPattern ?? /^Open (http:\/\/\S+)$/m;
  const spawned = runBin(["serve", "--port", "0", ...args], options);
  const { child, output, exited } = spawned;
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no "Open <url>" line within ${timeoutMs} ms: ${JSON.stringify(output())}`)),
      timeoutMs,
    );
    const look = () => {
      const match = pattern.exec(output().stdout);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on("data", look);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`serve exited (${code ?? signal}) before listening: ${JSON.stringify(output())}`));
    });
  });
  const stop = async (signal: NodeJS.Signals = "SIGKILL"): Promise<Exit> => {
    let escalate: NodeJS.Timeout | undefined;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill(signal);
      if (signal !== "SIGKILL") escalate = setTimeout(() => child.kill("SIGKILL"), GRACE_MS);
    }
    try {
      return await within(
        exited,
        child,
        timeoutMs,
        () => `guide-board serve did not exit within ${timeoutMs} ms of ${signal}`,
      );
    } finally {
      clearTimeout(escalate);
    }
  };
  return { ...spawned, url, port: Number(new URL(url).port), stop };
}
