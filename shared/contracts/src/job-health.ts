// How the borglet asks a job's tasks whether they are well. Apart from the spec because leases
// carry it to the borglet as it is.
import { z } from "zod";
import { MAX_PORTS_PER_TASK } from "./job-size.js";
import { safeText } from "./spec-text.js";

export const DEFAULT_HEALTH_INTERVAL_MS = 10_000;
export const DEFAULT_HEALTH_TIMEOUT_MS = 2_000;
export const DEFAULT_HEALTH_FAILURES = 3;

/** Which of the task's ports a check uses: 0 is %port%, N is %portN%. */
const portIndex = z.number().int().min(0).max(MAX_PORTS_PER_TASK - 1).default(0);

/** How the borglet asks a task whether it is well. */
export const healthCheckSchema = z.discriminatedUnion("type", [
  /** healthy when GET path on the task's port answers 2xx or 3xx within the timeout */
  z.strictObject({ type: z.literal("http"), path: z.string().regex(/^\//, "an http check's path starts with /, e.g. /healthz").max(1024).default("/"), port: portIndex }),
  /** healthy when the task's port accepts a connection */
  z.strictObject({ type: z.literal("tcp"), port: portIndex }),
  /** healthy when the command, run in the task's container (or beside it), exits 0 */
  z.strictObject({ type: z.literal("exec"), command: z.array(safeText("a command word", 4096)).min(1, "an exec check needs a command, e.g. ['/bin/check']").max(64) }),
]);
export type HealthCheck = z.infer<typeof healthCheckSchema>;

/** A task failing `failures` checks in a row is unhealthy, and is restarted. */
export const healthSchema = z.strictObject({
  check: healthCheckSchema,
  intervalMs: z.number().int().min(100, "interval is below 100ms").max(3_600_000, "interval is above one hour").default(DEFAULT_HEALTH_INTERVAL_MS),
  timeoutMs: z.number().int().min(10, "timeout is below 10ms").max(600_000, "timeout is above 10 minutes").default(DEFAULT_HEALTH_TIMEOUT_MS),
  failures: z.number().int().min(1, "failures must be at least 1").max(100, "failures is above 100").default(DEFAULT_HEALTH_FAILURES),
});
export type Health = z.infer<typeof healthSchema>;
