import { z } from "zod";
import { jobIdSchema, nodeNameSchema, taskIdSchema } from "./names.js";
import { JOB_KINDS, PRIORITY_BANDS } from "./job-spec.js";
import { requirementsSchema } from "./job-size.js";
import { rolloutSchema } from "./job-update.js";
import { NODE_STATES, TASK_REASON_CODES, TASK_STATES } from "./task-state.js";

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
  /** the reason as a code, for programs (absent for a task stored before codes existed, with no reason since) */
  reasonCode: z.enum(TASK_REASON_CODES).optional(),
  exitCode: z.number().int().optional(),
  restarts: z.number().int().nonnegative(),
  updatedAt: z.number(),
  /** its health check's last verdict, for a running task of a job that has one */
  health: z.enum(["healthy", "unhealthy", "unknown"]).optional(),
  /** measured by its borglet (isolated runtime): cores in use and bytes of memory */
  usage: z.object({ cpu: z.number(), ram: z.number() }).optional(),
  /** for a task waiting out its restart backoff: when it may be placed again */
  nextTryAt: z.number().optional(),
  /** the alloc it runs in, for a task of a job in an alloc set */
  alloc: taskIdSchema.optional(),
  /** the job's revision its current run was started from */
  revision: z.number().int().min(1).optional(),
  /** for an alloc: what the tasks in it take of its reservation */
  allocUsed: z.object({ cpu: z.number(), ram: z.number(), disk: z.number(), tasks: z.number().int().nonnegative() }).optional(),
});
export type TaskView = z.infer<typeof taskViewSchema>;

export const jobViewSchema = z.object({
  id: jobIdSchema,
  name: z.string(),
  /** absent from views of older masters: a job */
  kind: z.enum(JOB_KINDS).default("job"),
  /** the alloc set the job's tasks run in */
  allocSet: z.string().optional(),
  /** the job's labels, which its tasks share (absent from views of older masters) */
  labels: z.record(z.string(), z.string()).default({}),
  user: z.string(),
  cell: z.string(),
  priority: z.enum(PRIORITY_BANDS),
  replicas: z.number().int(),
  binary: z.string(),
  requirements: requirementsSchema,
  killed: z.boolean(),
  submittedAt: z.number(),
  /** the job's current revision: 1 as submitted, one more for each update (absent from views of older masters) */
  revision: z.number().int().min(1).optional(),
  /** the latest rollout of a revision that replaced tasks */
  rollout: rolloutSchema.optional(),
  /** count of tasks per state */
  summary: z.record(z.enum(TASK_STATES), z.number().int()),
  tasks: z.array(taskViewSchema),
  /** the view holds only some of the job's tasks: the rest start at this index (ask for the job with tasks from there) */
  moreTasksFrom: z.number().int().nonnegative().optional(),
  /** asked for counts only: of the tasks below the replica count, those running and not unhealthy, and those dead */
  withinReplicas: z.object({ running: z.number().int().nonnegative(), dead: z.number().int().nonnegative() }).optional(),
});
export type JobView = z.infer<typeof jobViewSchema>;

export const nodeViewSchema = z.object({
  name: nodeNameSchema,
  state: z.enum(NODE_STATES),
  host: z.string(),
  pid: z.number().int(),
  /** zero while the machine's state is unknown */
  capacity: z.object({ cpu: z.number().nonnegative(), ram: z.number().nonnegative(), disk: z.number().nonnegative() }),
  used: z.object({ cpu: z.number(), ram: z.number(), disk: z.number() }),
  /** reserved by its running tasks but not used: room batch and best-effort work may take (resource reclamation) */
  reclaimable: z.object({ cpu: z.number(), ram: z.number() }).optional(),
  attributes: z.record(z.string(), z.string()),
  portRange: z.tuple([z.number().int(), z.number().int()]),
  tasks: z.number().int(),
  lastHeartbeatAgoMs: z.number(),
});
export type NodeView = z.infer<typeof nodeViewSchema>;
