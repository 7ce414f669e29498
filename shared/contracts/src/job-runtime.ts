// Where a job runs: one cell, or a federation of cells with a policy for sharing its tasks.
// Apart from the spec because federation is a subject of its own: these settings and their
// defaults are what federation-policy.ts resolves, and most jobs never set them.
import { z } from "zod";
import { cellNameSchema } from "./names.js";

/**
 * How a federated job (one with `runtime.cells`) shares its tasks between its cells: `spread`
 * divides them by weight, `fill` fills the cells in the order listed and spills into the next
 * when one cannot run its share within `spillAfterMs`, `pin` keeps them in the one cell listed.
 */
export const FEDERATION_POLICIES = ["spread", "fill", "pin"] as const;
export type FederationPolicyName = (typeof FEDERATION_POLICIES)[number];

export const DEFAULT_FEDERATION_POLICY: FederationPolicyName = "spread";
export const MAX_FEDERATED_CELLS = 16;
export const MAX_FEDERATION_WEIGHT = 1000;
export const DEFAULT_FEDERATION_WEIGHT = 1;
export const MIN_SPILL_AFTER_MS = 1000;
export const MAX_SPILL_AFTER_MS = 3_600_000;
export const DEFAULT_SPILL_AFTER_MS = 30_000;
export const MAX_DISRUPTION = 10_000;
/**
 * Without max_disruption, a tenth of the replicas (at least one) may be stopping at once
 * while a federated job is rebalanced: one at a time would take a 3,000-replica share back
 * in 3,000 passes, and a tenth keeps 90% of the extras serving throughout.
 */
export const DEFAULT_MAX_DISRUPTION_SHARE = 0.1;

/** The fields only a federated job (one with `cells`) has, with the names sources give them. */
const FEDERATION_FIELDS = [
  ["policy", "policy"],
  ["weights", "weights"],
  ["spillAfterMs", "spill_after"],
  ["maxDisruption", "max_disruption"],
] as const;

/**
 * Where the job runs: one cell (`cell`, or none to mean the cell it is submitted to), or a
 * federation of `cells`, with how its tasks are shared between them. Federation settings left
 * out are left out here too; `federationOf` resolves them with their defaults.
 */
export const runtimeSchema = z
  .strictObject({
    cell: cellNameSchema.optional(),
    /** A federated job's cells; with policy `fill`, in order of preference. */
    cells: z
      .array(cellNameSchema)
      .min(1, "no cells listed; list the cells the job runs in, or use runtime.cell for one cell")
      .max(MAX_FEDERATED_CELLS, `more than ${MAX_FEDERATED_CELLS} cells; a federated job runs in at most ${MAX_FEDERATED_CELLS}`)
      .optional(),
    policy: z.enum(FEDERATION_POLICIES, `policy must be one of ${FEDERATION_POLICIES.map((policy) => `'${policy}'`).join(", ")}`).optional(),
    /** Policy `spread`: each cell's share of the tasks, one weight per cell in the order of `cells`. */
    weights: z
      .array(
        z
          .number()
          .int("a weight must be a whole number")
          .min(1, `a weight must be from 1 to ${MAX_FEDERATION_WEIGHT}`)
          .max(MAX_FEDERATION_WEIGHT, `a weight must be from 1 to ${MAX_FEDERATION_WEIGHT}`),
      )
      .optional(),
    /** How long tasks wait for room in their cell before they may be placed in another. */
    spillAfterMs: z
      .number()
      .int("spill_after must be a whole number of milliseconds")
      .min(MIN_SPILL_AFTER_MS, "spill_after is below 1s; it must be from 1s to 1h")
      .max(MAX_SPILL_AFTER_MS, "spill_after is above one hour; it must be from 1s to 1h")
      .optional(),
    /** At most this many of the job's tasks moved between cells at a time. */
    maxDisruption: z
      .number()
      .int("max_disruption must be a whole number")
      .min(1, `max_disruption must be from 1 to ${MAX_DISRUPTION}`)
      .max(MAX_DISRUPTION, `max_disruption must be from 1 to ${MAX_DISRUPTION}`)
      .optional(),
  })
  .superRefine(checkRuntime);
export type JobRuntime = z.infer<typeof runtimeSchema>;

function checkRuntime(runtime: JobRuntime, ctx: z.RefinementCtx): void {
  const { cell, cells } = runtime;
  if (cells === undefined) {
    for (const [field, name] of FEDERATION_FIELDS) {
      if (runtime[field] === undefined) continue;
      const instead = cell === undefined ? "list the cells it runs in with runtime.cells" : `this job runs in one cell (runtime.cell is '${cell}'), so leave ${name} out, or list its cells with runtime.cells instead`;
      ctx.addIssue({ code: "custom", path: [field], message: `${name} is for a federated job, which lists its cells in runtime.cells; ${instead}` });
    }
    return;
  }
  if (cell !== undefined) {
    ctx.addIssue({ code: "custom", path: ["cells"], message: "give either runtime.cell (one cell) or runtime.cells (a federated job), not both" });
  }
  const seen = new Map<string, number>();
  cells.forEach((name, index) => {
    const first = seen.get(name);
    if (first === undefined) seen.set(name, index);
    else ctx.addIssue({ code: "custom", path: ["cells", index], message: `cell '${name}' is listed twice in runtime.cells (items ${first} and ${index}); list each cell once` });
  });
  const policy = runtime.policy ?? DEFAULT_FEDERATION_POLICY;
  if (policy === "pin" && cells.length !== 1) {
    ctx.addIssue({
      code: "custom",
      path: ["policy"],
      message: `policy 'pin' keeps the job in one cell, so runtime.cells lists exactly one, found ${cells.length}; keep one cell, or use 'fill' to prefer the cells in the order listed`,
    });
  }
  const { weights } = runtime;
  if (weights === undefined) return;
  if (policy !== "spread") {
    const why = policy === "fill" ? "policy 'fill' fills the cells in the order listed" : "policy 'pin' keeps the tasks in one cell";
    ctx.addIssue({ code: "custom", path: ["weights"], message: `weights share the tasks between the cells under policy 'spread', but ${why}; leave weights out, or use policy 'spread'` });
  } else if (weights.length !== cells.length) {
    ctx.addIssue({
      code: "custom",
      path: ["weights"],
      message: `${weights.length} weight${weights.length === 1 ? "" : "s"} for ${cells.length} cell${cells.length === 1 ? "" : "s"}; give one weight per cell, in the order of runtime.cells`,
    });
  }
}
