import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The bundled example runs (examples/runs) and the ids of each kind of run in it. */
export const EXAMPLES: string = join(fileURLToPath(new URL("../..", import.meta.url)), "examples", "runs");
export const LEGACY = "2025-03-14T08-30-00Z-legacy1";
export const PASSED = "2026-11-20T09-00-00Z-k3x9";
export const FAILED = "2026-11-21T14-15-00Z-p7q2";
export const INCOMPLETE = "2026-11-22T07-45-00Z-m1n4";
