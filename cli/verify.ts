import { toJSONText, verifyArtifacts } from "../src/_internal.ts";
import { loadConfig } from "./config.ts";
import { COMMON_OPTIONS, EXIT, fail, parse, runsDirsOf, UsageError, type CliContext } from "./context.ts";
import { table } from "./format.ts";

const HELP = `Usage: guide-board verify RUN [options]

Re-hash a run's artifacts against its artifact manifest. Reports every missing file, size or
sha256 mismatch, unsafe entry, and extra file the manifest does not list. Exit 1 on any.

Options:
  --runs-dir DIR   runs directory (repeatable)
  --json           print the result as JSON
  -h, --help       show this help`;

/** `guide-board verify RUN`. */
export async function verifyCommand(args: string[], ctx: CliContext): Promise<number> {
  let json = args.includes("--json");
  try {
    const { values, positionals } = parse(args, COMMON_OPTIONS);
    json = values.json === true;
    if (values.help) {
      ctx.stdout.write(`${HELP}\n`);
      return EXIT.ok;
    }
    if (positionals.length !== 1) throw new UsageError("expected exactly one RUN argument");
    const runsDir = runsDirsOf(values, ctx, () => loadConfig(ctx.cwd).runsDir);
    const result = await verifyArtifacts({ runsDir }, positionals[0]!);
    if (json) ctx.stdout.write(toJSONText(result));
    else if (result.ok) ctx.stdout.write(`OK: ${result.checked} artifact(s) match the manifest.\n`);
    else {
      const rows = result.problems.map((p) => [p.kind, p.path, p.expected ?? "", p.actual ?? ""]);
      ctx.stdout.write(`${table(["PROBLEM", "PATH", "EXPECTED", "ACTUAL"], rows)}\n`);
      ctx.stdout.write(`${result.problems.length} problem(s) in ${result.checked} listed artifact(s).\n`);
    }
    return result.ok ? EXIT.ok : EXIT.notFound;
  } catch (error) {
    return fail(error, ctx, json, "guide-board verify");
  }
}
