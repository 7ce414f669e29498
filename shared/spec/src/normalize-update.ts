import { UPDATE_FIELDS } from "./field-names.js";
import { exampleBlock, num, qty } from "./format.js";
import type { NormalizeContext } from "./normalize-context.js";
import type { RawValue } from "./raw-value.js";
import { readBoolean, readCount, readDuration, readMap } from "./value-readers.js";

/**
 * `update = { max_parallel = 2 min_healthy_time = 10s healthy_deadline = 5m progress_deadline = 10m auto_revert = true }`:
 * how an update replaces the job's tasks; absent fields get the schema's defaults.
 */
export function readUpdatePolicy(ctx: NormalizeContext, value: RawValue): Record<string, unknown> | undefined {
  const example = exampleBlock(ctx.format, "update", [
    ["max_parallel", num("2")],
    ["min_healthy_time", qty("10s")],
  ]);
  const map = readMap(ctx, value, "update", example);
  if (map === undefined) return undefined;
  const fields = ctx.fields(map, UPDATE_FIELDS, "update");
  const policy: Record<string, unknown> = {};
  const maxParallel = fields.get("max_parallel");
  if (maxParallel !== undefined) policy.maxParallel = readCount(ctx, maxParallel.value, "update.maxParallel", "2");
  for (const [field, path, shown] of [
    ["min_healthy_time", "update.minHealthyTimeMs", "10s"],
    ["healthy_deadline", "update.healthyDeadlineMs", "5m"],
    ["progress_deadline", "update.progressDeadlineMs", "10m"],
    ["drain", "update.drainMs", "6s"],
  ] as const) {
    const entry = fields.get(field);
    if (entry !== undefined) policy[path.slice("update.".length)] = readDuration(ctx, entry.value, path, shown);
  }
  const canary = fields.get("canary");
  if (canary !== undefined) policy.canary = readCount(ctx, canary.value, "update.canary", "1");
  for (const [field, path] of [
    ["auto_revert", "update.autoRevert"],
    ["auto_promote", "update.autoPromote"],
  ] as const) {
    const entry = fields.get(field);
    if (entry !== undefined) policy[path.slice("update.".length)] = readBoolean(ctx, entry.value, path);
  }
  return policy;
}
