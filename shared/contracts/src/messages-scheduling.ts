// The leader ↔ schedulers conversation: the work snapshot a scheduler fetches, the plan it
// sends back, and the kick that says there is work. Only schedulers and the leader read these.
import { z } from "zod";
import { TASK_RUNTIMES } from "./task-runtimes.js";
import { requirementsSchema, resourcesSchema } from "./job-size.js";
import { constraintSchema, preferenceSchema, spreadSchema, SPREAD_DOMAINS } from "./job-placement.js";
import { PRIORITY_BANDS } from "./job-spec.js";
import { jobIdSchema, nodeNameSchema, userNameSchema } from "./names.js";
import { event, incarnationSchema, portSchema, portsSchema, rpc, taskIdSchema } from "./messages-fields.js";

export const workNodeSchema = z.object({
  name: nodeNameSchema,
  capacity: resourcesSchema,
  free: z.object({ cpu: z.number(), ram: z.number(), disk: z.number() }),
  portRange: z.tuple([portSchema, portSchema]),
  usedPorts: z.array(portSchema),
  attributes: z.record(z.string(), z.string()),
  /** tasks already there of pending jobs that limit tasks per machine or spread */
  jobTasks: z.record(jobIdSchema, z.number().int().nonnegative()).optional(),
  /** reserved by running tasks but not used (resource reclamation): usable by batch and best-effort work only */
  reclaimable: z.object({ cpu: z.number().nonnegative(), ram: z.number().nonnegative() }).optional(),
});
export type WorkNode = z.infer<typeof workNodeSchema>;

export const pendingTaskSchema = z.object({
  taskId: taskIdSchema,
  incarnation: incarnationSchema,
  job: jobIdSchema,
  user: userNameSchema,
  requirements: requirementsSchema,
  priority: z.enum(PRIORITY_BANDS),
  constraints: z.array(constraintSchema),
  preferences: z.array(preferenceSchema),
  spread: spreadSchema.optional(),
  maxPerMachine: z.number().int().min(1).optional(),
  /** machines it kept crashing on: placed elsewhere when another machine fits */
  avoid: z.array(nodeNameSchema).max(16).optional(),
  /** placed on limits alone, never on reclaimed room, whatever its band (an alloc must really reserve) */
  onLimitsOnly: z.literal(true).optional(),
  /** the runtime it needs, where machines offer only some; absent: any (an alloc runs nothing) */
  runtime: z.enum(TASK_RUNTIMES).optional(),
});
export type PendingTask = z.infer<typeof pendingTaskSchema>;

export const fetchWork = rpc(
  "sched.work",
  z.object({ scheduler: nodeNameSchema, limit: z.number().int().min(1).max(1_000_000) }),
  z.object({
    epoch: z.number().int(),
    nodes: z.array(workNodeSchema),
    tasks: z.array(pendingTaskSchema),
    /** where the tasks of each spreading job already are, per failure domain, over the whole cell (the nodes are a sample) */
    jobDomains: z.record(jobIdSchema, z.partialRecord(z.enum(SPREAD_DOMAINS), z.record(z.string(), z.number().int().nonnegative()))).optional(),
    /** the cell's packing policy */
    policy: z.enum(["e-pvm", "best-fit", "hybrid"]).optional(),
  }),
);
export type WorkSnapshot = z.infer<typeof fetchWork.result>;

export const placementSchema = z.object({
  taskId: taskIdSchema,
  incarnation: incarnationSchema,
  node: nodeNameSchema,
  ports: portsSchema,
});
export type Placement = z.infer<typeof placementSchema>;

export const submitPlan = rpc(
  "sched.plan",
  z.object({
    scheduler: nodeNameSchema,
    epoch: z.number().int(),
    placements: z.array(placementSchema).max(1_000_000),
    /** pending tasks the scheduler found no machine for, in queue order: the leader may preempt for them */
    unplaced: z.array(taskIdSchema).max(10_000).optional(),
  }),
  z.object({
    committed: z.number().int(),
    /** `code`: the refusal's code (insufficient_cpu, spread, …), or stale when the task or machine moved on */
    rejected: z.array(z.object({ taskId: taskIdSchema, reason: z.string(), code: z.string().max(64).optional() })),
    /** lower-band tasks stopped to make room for unplaced ones */
    preempted: z.number().int().nonnegative().optional(),
  }),
);
export type Plan = z.infer<typeof submitPlan.request>;

export const schedulerKick = event("sched.kick", z.object({ pending: z.number().int().nonnegative() }));
