import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { z } from "zod";
import { RUN_ID_PATTERN, runStatusSchema } from "../src/_internal.ts";
import { UsageError } from "./context.ts";
import type { ServerLimits } from "./server-limits.ts";

/** The config file `guide-board` reads from the working directory. */
export const CONFIG_FILE = "guide-board.config.json";

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * A duration: `"90s"`, `"30m"`, `"12h"`, `"30d"`, `"2w"`, `"500ms"`, or a number of seconds. Returns
 * milliseconds, or `null` when the text is not a duration.
 */
export function parseDuration(value: unknown): number | null {
  if (typeof value === "number") return Number.isFinite(value) && value >= 0 ? value * 1000 : null;
  if (typeof value !== "string") return null;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/.exec(value.trim());
  return match ? Number(match[1]) * UNITS[match[2]!]! : null;
}

const durationSchema = z
  .union([z.string(), z.number()])
  .refine((value) => parseDuration(value) !== null, 'expected a duration such as "90s", "30m", "12h" or "30d"')
  .transform((value) => parseDuration(value)!);

const stringRecord = z.record(z.string(), z.string());

/** One guide: a command the service and `guide-board run NAME` may start, and nothing else. */
export const guideSchema = z.strictObject({
  command: z.array(z.string()).min(1, "expected at least the program to run"),
  cwd: z.string().optional(),
  env: stringRecord.optional(),
  timeout: durationSchema.optional(),
  labels: stringRecord.optional(),
});

/** The retention policy of `guide-board prune`. */
export const retentionSchema = z.strictObject({
  keepLast: z.number().int().min(1).optional(),
  maxAge: durationSchema.optional(),
  keepStatuses: z.partialRecord(runStatusSchema, z.number().int().min(0)).optional(),
  incompleteGrace: durationSchema.optional(),
});

/** `guide-board.config.json`. */
export const configSchema = z.strictObject({
  $schema: z.string().optional(),
  runsDir: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
  guides: z.record(z.string().regex(RUN_ID_PATTERN, "guide names follow the run-id rule"), guideSchema).optional(),
  retention: retentionSchema.optional(),
  service: z
    .strictObject({
      maxConcurrentJobs: z.number().int().min(1).max(64).optional(),
      maxQueuedJobs: z.number().int().min(0).max(100_000).optional(),
      maxFinishedJobs: z.number().int().min(1).max(100_000).optional(),
      maxConnections: z.number().int().min(1).optional(),
      headersTimeout: durationSchema.refine((ms) => ms >= 1000, "expected at least 1s").optional(),
      // Above the live-update heartbeat (15 s), or idle event streams would be cut.
      sendTimeout: durationSchema.refine((ms) => ms >= 20_000, "expected at least 20s").optional(),
      maxEventStreams: z.number().int().min(0).optional(),
      storageTimeout: durationSchema
        .refine((ms) => ms >= 100 && ms <= 600_000, "expected from 100ms to 10m")
        .optional(),
    })
    .optional(),
});

export type Guide = z.output<typeof guideSchema>;
export type Retention = z.output<typeof retentionSchema>;

/** A loaded config: the validated file plus where it was, so relative paths resolve against it. */
export interface LoadedConfig {
  path: string | null;
  dir: string;
  runsDir: string[] | undefined;
  guides: Record<string, Guide>;
  retention: Retention;
  maxConcurrentJobs: number;
  /** `service.maxQueuedJobs` and `service.maxFinishedJobs` when the file sets them. */
  jobLimits: { maxQueuedJobs?: number; maxFinishedJobs?: number };
  /** The service's connection limits that the file sets (the rest keep their defaults). */
  serverLimits: Partial<ServerLimits>;
  /** `service.storageTimeout` in ms, when the file sets it. */
  storageTimeoutMs?: number;
}

/**
 * Loads `path` (or `guide-board.config.json` in `cwd` when it exists). A missing default file is an
 * empty config; a missing explicit file, invalid JSON or a schema error is a {@link UsageError}
 * naming the field.
 */
export function loadConfig(cwd: string, path?: string): LoadedConfig {
  const file = resolve(cwd, path ?? CONFIG_FILE);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    if (path === undefined && (error as NodeJS.ErrnoException).code === "ENOENT") {
      return {
        path: null,
        dir: cwd,
        runsDir: undefined,
        guides: {},
        retention: {},
        maxConcurrentJobs: 2,
        jobLimits: {},
        serverLimits: {},
      };
    }
    throw new UsageError(`cannot read the config file ${file}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new UsageError(`${file} is not valid JSON`);
  }
  const parsed = configSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.length > 0 ? issue.path.map(String).join(".") : "(top level)";
    const what =
      issue.code === "unrecognized_keys"
        ? `unknown field ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}`
        : issue.code === "invalid_key"
          ? (issue.issues[0]?.message ?? issue.message)
          : issue.message;
    throw new UsageError(`${file}: ${field}: ${what}`);
  }
  const dir = dirname(file);
  const { runsDir, guides = {}, retention = {}, service } = parsed.data;
  return {
    path: file,
    dir,
    runsDir: runsDir === undefined ? undefined : [runsDir].flat().map((d) => resolve(dir, d)),
    guides,
    retention,
    maxConcurrentJobs: service?.maxConcurrentJobs ?? 2,
    jobLimits: { maxQueuedJobs: service?.maxQueuedJobs, maxFinishedJobs: service?.maxFinishedJobs },
    storageTimeoutMs: service?.storageTimeout,
    serverLimits: Object.fromEntries(
      Object.entries({
        maxConnections: service?.maxConnections,
        headersTimeoutMs: service?.headersTimeout,
        sendTimeoutMs: service?.sendTimeout,
        maxEventStreams: service?.maxEventStreams,
      }).filter(([, value]) => value !== undefined),
    ),
  };
}
