import { z } from "zod";
import { jobIdSchema, nodeNameSchema, taskIdSchema } from "./names.js";
import { PRIORITY_BANDS, requirementsSchema, resourcesSchema } from "./job-spec.js";
import { NODE_STATES, TASK_STATES } from "./task-state.js";

/** What users see of a task: `corral ps`, the HTTP API and the web UI. */
export const taskViewSchema = z.object({
  index: z.number().int().nonnegative(),
  id: taskIdSchema,
  incarnation: z.number().int().nonnegative(),
  state: z.enum(TASK_STATES),
  node: nodeNameSchema.optional(),
  host: z.string().optional(),
  port: z.number().int().optional(),
  ports: z.array(z.number().int()),
  pid: z.number().int().optional(),
  reason: z.string().optional(),
  exitCode: z.number().int().optional(),
  restarts: z.number().int().nonnegative(),
  updatedAt: z.number(),
});
export type TaskView = z.infer<typeof taskViewSchema>;

export const jobViewSchema = z.object({
  id: jobIdSchema,
  name: z.string(),
  user: z.string(),
  cell: z.string(),
  priority: z.enum(PRIORITY_BANDS),
  replicas: z.number().int(),
  binary: z.string(),
  requirements: requirementsSchema,
  killed: z.boolean(),
  submittedAt: z.number(),
  /** count of tasks per state */
  summary: z.record(z.enum(TASK_STATES), z.number().int()),
  tasks: z.array(taskViewSchema),
});
export type JobView = z.infer<typeof jobViewSchema>;

export const nodeViewSchema = z.object({
  name: nodeNameSchema,
  state: z.enum(NODE_STATES),
  host: z.string(),
  pid: z.number().int(),
  capacity: resourcesSchema,
  used: z.object({ cpu: z.number(), ram: z.number(), disk: z.number() }),
  attributes: z.record(z.string(), z.string()),
  portRange: z.tuple([z.number().int(), z.number().int()]),
  tasks: z.number().int(),
  lastHeartbeatAgoMs: z.number(),
});
export type NodeView = z.infer<typeof nodeViewSchema>;
