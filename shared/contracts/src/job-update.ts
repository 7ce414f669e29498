// How a running job moves to a new version of its spec (README § Updating a job), as Nomad's
// `update` block and Borg's job updates do it. Apart from the spec's other fields because the
// leader's rollout reads it alone, and an update may change it in place.
import { z } from "zod";
import { MAX_REPLICAS } from "./job-size.js";

export const DEFAULT_MIN_HEALTHY_TIME_MS = 10_000;
export const DEFAULT_HEALTHY_DEADLINE_MS = 5 * 60_000;
export const DEFAULT_PROGRESS_DEADLINE_MS = 10 * 60_000;

const duration = (what: string, atMost: string, maxMs: number) => z.number().int().min(0, `${what} is negative`).max(maxMs, `${what} is above ${atMost}`);

/**
 * Tasks are replaced `maxParallel` at a time; a batch is done when each of its new tasks has
 * run and been healthy (or just run, without a health check) for `minHealthyTimeMs`. A new
 * task not healthy within `healthyDeadlineMs`, or a rollout that replaced nothing for
 * `progressDeadlineMs`, fails it; with `autoRevert` the job goes back to its last stable
 * revision the same way.
 */
export const updatePolicySchema = z
  .strictObject({
    maxParallel: z.number().int().min(1, "max_parallel must be at least 1").max(MAX_REPLICAS, `max_parallel is above ${MAX_REPLICAS}`).default(1),
    minHealthyTimeMs: duration("min_healthy_time", "one hour", 3_600_000).default(DEFAULT_MIN_HEALTHY_TIME_MS),
    healthyDeadlineMs: duration("healthy_deadline", "one day", 86_400_000).default(DEFAULT_HEALTHY_DEADLINE_MS),
    progressDeadlineMs: duration("progress_deadline", "one day", 86_400_000).default(DEFAULT_PROGRESS_DEADLINE_MS),
    autoRevert: z.boolean().default(true),
    /**
     * How long a task being replaced keeps running after it has left its job's names, so that
     * clients which looked it up just before finish with it. DNS answers are cached for 5 s.
     */
    drainMs: duration("drain", "ten minutes", 600_000).default(0),
    /** the first `canary` tasks replaced wait for `corral rollout promote` before the rest (or go on at once with autoPromote) */
    canary: z.number().int().min(0).max(MAX_REPLICAS, `canary is above ${MAX_REPLICAS}`).default(0),
    autoPromote: z.boolean().default(false),
  })
  .superRefine((policy, ctx) => {
    if (policy.healthyDeadlineMs <= policy.minHealthyTimeMs) {
      ctx.addIssue({ code: "custom", path: ["healthyDeadlineMs"], message: "healthy_deadline must be longer than min_healthy_time, or no task could ever meet it" });
    }
    if (policy.progressDeadlineMs < policy.healthyDeadlineMs) {
      ctx.addIssue({ code: "custom", path: ["progressDeadlineMs"], message: "progress_deadline must be at least healthy_deadline: a batch may take that long" });
    }
  });
export type UpdatePolicy = z.infer<typeof updatePolicySchema>;

/** The policy of a job that says none. */
export const DEFAULT_UPDATE_POLICY: UpdatePolicy = updatePolicySchema.parse({});

/** How far a job's current revision has got in replacing its tasks. */
export const ROLLOUT_STATES = ["running", "paused", "awaiting_promotion", "succeeded", "failed", "rolled_back"] as const;
export type RolloutState = (typeof ROLLOUT_STATES)[number];

export const rolloutSchema = z.object({
  /** the revision the tasks are being moved to */
  revision: z.number().int().min(1),
  /** the stable revision they come from: what a failed rollout reverts to */
  from: z.number().int().min(1),
  state: z.enum(ROLLOUT_STATES),
  /** a rollout back to `from` after revision `revertOf` failed */
  revertOf: z.number().int().min(1).optional(),
  startedAt: z.number(),
  /** when a task last reached the new revision healthy (or the rollout started) */
  progressAt: z.number(),
  /** tasks at the new revision and healthy for min_healthy_time, when last counted */
  done: z.number().int().nonnegative().optional(),
  /** the canaries were promoted (by a user or auto_promote): the rest may follow */
  promoted: z.boolean().optional(),
  /** why it failed */
  message: z.string().max(1000).optional(),
});
export type Rollout = z.infer<typeof rolloutSchema>;

/** Every field of a spec, and whether changing it restarts the job's tasks. */
export const UPDATE_IN_PLACE_FIELDS = ["priority", "labels", "replicas", "update", "health", "gracePeriodMs", "preferences", "spread", "maxPerMachine"] as const;

/** What an update of a job changes: the fields, and whether its tasks must be replaced for it. */
export interface UpdateChange {
  /** the spec fields whose values differ, as the spec names them */
  fields: string[];
  /** `none`: the same spec; `in-place`: applied with no task restarted; `replace`: tasks are replaced by a rollout */
  kind: "none" | "in-place" | "replace";
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(sortedKeys(a)) === JSON.stringify(sortedKeys(b));
}

function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(Object.keys(value).sort().map((key) => [key, sortedKeys((value as Record<string, unknown>)[key])]));
}

/**
 * The difference between a job's spec and the one it is updated to. Priority, labels, the
 * replica count, placement preferences, the update policy, the grace period and the health
 * check change in place; anything a running task was started with (binary, args, env, image,
 * volumes, requirements, constraints, restart policy) needs new tasks.
 */
export function classifyUpdate(from: Record<string, unknown>, to: Record<string, unknown>): UpdateChange {
  const keys = [...new Set([...Object.keys(from), ...Object.keys(to)])].sort();
  const fields = keys.filter((key) => !sameValue(from[key], to[key]));
  if (fields.length === 0) return { fields, kind: "none" };
  const inPlace = new Set<string>(UPDATE_IN_PLACE_FIELDS);
  return { fields, kind: fields.every((field) => inPlace.has(field)) ? "in-place" : "replace" };
}

export const REVISION_OUTCOMES = ["stable", "rolling", "failed", "rolled_back", "superseded"] as const;

/** One revision of a job as `corral history` shows it (the spec itself stays with the leader). */
export const revisionViewSchema = z.object({
  revision: z.number().int().min(1),
  at: z.number(),
  by: z.string(),
  /** how it came: the first submission, a change applied in place, one that replaced tasks, or the revert of a failed one */
  kind: z.enum(["submitted", "in-place", "replace", "revert"]),
  /** the spec fields it changed from the revision before */
  fields: z.array(z.string()),
  outcome: z.enum(REVISION_OUTCOMES),
});
export type RevisionView = z.infer<typeof revisionViewSchema>;
