import { EXIT, type CliContext } from "./context.ts";
import { runsCommand } from "./runs.ts";
import { serveCommand } from "./serve.ts";
import { runCommand } from "./run-command.ts";
import { pruneCommand } from "./prune.ts";
import { verifyCommand } from "./verify.ts";
import { printable } from "./format.ts";

const HELP = `guide-board: find retained runs again, from a shell

Usage: guide-board <command> [options]

Commands:
  run NAME         run a configured guide as a recorded run (or: run -- COMMAND ARGS...)
  prune            remove runs the retention policy lets go (and stale incomplete folders)
  verify RUN       re-hash a run's artifacts against its manifest
  serve            serve retained runs over HTTP (routes in docs/http-api.md)
  runs list        list retained runs, newest first
  runs latest      the newest retained run (optionally the newest failed one)
  runs show        one run
  runs reports     a run's reports
  runs manifest    a run's artifact manifest
  runs logs        a run's log (--tail N, --follow a run still being written)

Run 'guide-board <command> --help' for a command's options.`;

/**
 * Runs the command line with `args` (no `node` or script path) and returns the exit code; tests
 * call it directly with their own streams. `signal` stops `serve` (default: SIGINT or SIGTERM).
 */
export async function main(options: { args: string[]; signal?: AbortSignal } & Partial<CliContext>): Promise<number> {
  const ctx: CliContext = {
    stdout: options.stdout ?? process.stdout,
    stderr: options.stderr ?? process.stderr,
    env: options.env ?? process.env,
    cwd: options.cwd ?? process.cwd(),
  };
  const [command, ...rest] = options.args;
  if (command === undefined || command === "--help" || command === "-h" || command === "help") {
    ctx.stdout.write(`${HELP}\n`);
    return command === undefined ? EXIT.usage : EXIT.ok;
  }
  if (command === "runs") return runsCommand(rest, ctx);
  if (command === "run") return runCommand(rest, { ...ctx, signal: options.signal ?? _stopSignal() });
  if (command === "prune") return pruneCommand(rest, ctx);
  if (command === "verify") return verifyCommand(rest, ctx);
  if (command === "serve") return serveCommand(rest, { ...ctx, signal: options.signal ?? _stopSignal() });
  ctx.stderr.write(`guide-board: unknown command '${printable(command)}'\nRun 'guide-board --help' for usage.\n`);
  return EXIT.usage;
}

function _stopSignal(): AbortSignal {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  return controller.signal;
}
