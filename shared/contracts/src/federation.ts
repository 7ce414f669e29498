import { z } from "zod";
import { cellNameSchema, jobNameSchema, NAME_PATTERN, userNameSchema } from "./names.js";
import { jobSpecSchema } from "./job-spec.js";
import { TASK_STATES } from "./task-state.js";
import { taskViewSchema } from "./views.js";

/** Label keys Corral sets itself; users' specs may not. */
export const RESERVED_LABEL_PREFIX = "corral/";

/** The label every member job of a federated job carries: which federated job it is part of. */
export const FEDERATION_LABEL = `${RESERVED_LABEL_PREFIX}federation`;

/** The JetStream KV bucket of federated jobs, shared by every gateway of the federation. */
export const FEDERATION_BUCKET = "corral_federation";

/** `<job>.<user>`: a federated job has no single cell. */
export const federatedJobIdSchema = z
  .string()
  .max(200)
  .refine((id) => {
    const parts = id.split(".");
    return parts.length === 2 && parts.every((part) => NAME_PATTERN.test(part));
  }, "a federated job id is <job>.<user>, e.g. web.alice");

export function federatedJobId(name: string, user: string): string {
  return `${name}.${user}`;
}

const countsSchema = z.record(cellNameSchema, z.number().int().nonnegative());

/**
 * A federated job as the gateways keep it (JetStream KV, one key per job, written with
 * compare-and-set): the spec, where each cell's share should be when all is well (`home`),
 * where it is asked to be now (`assigned`), and what the gateways have learnt.
 */
export const federatedJobRecordSchema = z.strictObject({
  id: federatedJobIdSchema,
  name: jobNameSchema,
  user: userNameSchema,
  spec: jobSpecSchema,
  /** bumped when the name is submitted again after a kill: member submissions of one generation never answer for another */
  generation: z.number().int().nonnegative(),
  /** the submission's request id (Idempotency-Key): a retried submission is answered, not applied, again */
  requestId: z.string().max(64).optional(),
  submittedAt: z.number(),
  killed: z.boolean(),
  /** for a killed job: when every member was seen with no task alive; the record may then go */
  stoppedAt: z.number().optional(),
  /** each cell's share by the policy, with every cell healthy */
  home: countsSchema,
  /** each cell's share now: home, plus what was moved in from cells that could not run theirs */
  assigned: countsSchema,
  /** cells that refused their share (quota, a job of the same name), and why; nothing more is sent there */
  refused: z.record(cellNameSchema, z.strictObject({ at: z.number(), message: z.string().max(2000) })),
  /** since when a cell has run fewer of its share than assigned */
  shortSince: z.record(cellNameSchema, z.number()),
  /** member submissions sent to each cell, so each has its own request id */
  submits: countsSchema,
  /** the last decisions, newest last (bounded) */
  events: z.array(z.strictObject({ at: z.number(), text: z.string().max(1000) })).max(100),
}).superRefine((record, ctx) => {
  // A record is read back from a shared bucket: its parts must name the same job.
  if (record.id !== `${record.name}.${record.user}`) ctx.addIssue({ code: "custom", path: ["id"], message: `id ${record.id} is not ${record.name}.${record.user}` });
  if (record.spec.name !== record.name) ctx.addIssue({ code: "custom", path: ["spec", "name"], message: `the spec is job ${record.spec.name}, the record ${record.name}` });
  if (record.spec.user !== undefined && record.spec.user !== record.user) ctx.addIssue({ code: "custom", path: ["spec", "user"], message: `the spec's user ${record.spec.user} is not ${record.user}` });
});
export type FederatedJobRecord = z.infer<typeof federatedJobRecordSchema>;

export const federatedCellViewSchema = z.object({
  cell: cellNameSchema,
  home: z.number().int(),
  assigned: z.number().int(),
  running: z.number().int(),
  /** the member's tasks not yet dead, those a scale down is stopping included */
  live: z.number().int(),
  /** the cell's leader answered; false: its share is counted as lost after the gateway's cell-down-after */
  reachable: z.boolean(),
  refused: z.string().optional(),
});

/** A federated job seen through its member jobs: one list of tasks, each with its cell. */
export const federatedJobViewSchema = z.object({
  id: federatedJobIdSchema,
  name: z.string(),
  user: z.string(),
  federated: z.literal(true),
  policy: z.string(),
  cells: z.array(federatedCellViewSchema),
  labels: z.record(z.string(), z.string()),
  priority: z.string(),
  replicas: z.number().int(),
  binary: z.string(),
  killed: z.boolean(),
  submittedAt: z.number(),
  summary: z.record(z.enum(TASK_STATES), z.number().int()),
  tasks: z.array(taskViewSchema.extend({ cell: cellNameSchema })),
  events: z.array(z.object({ at: z.number(), text: z.string() })),
});
export type FederatedJobView = z.infer<typeof federatedJobViewSchema>;

/** `corral cells`: one row per cell behind the gateway. */
export const cellSummarySchema = z.object({
  cell: cellNameSchema,
  health: z.enum(["healthy", "unreachable", "down"]),
  leader: z.string().optional(),
  epoch: z.number().int().optional(),
  machines: z.object({ up: z.number().int(), total: z.number().int() }),
  capacity: z.object({ cpu: z.number(), ram: z.number() }),
  used: z.object({ cpu: z.number(), ram: z.number() }),
  tasks: z.object({ running: z.number().int(), pending: z.number().int() }),
  /** ms since the cell's leader last answered this gateway */
  lastAnsweredAgoMs: z.number(),
});
export type CellSummary = z.infer<typeof cellSummarySchema>;
