import { z } from "zod";
import { ERROR_CODES } from "./errors.js";
import { jobSpecSchema, requirementsSchema, resourcesSchema, PRIORITY_BANDS } from "./job-spec.js";
import { cellNameSchema, jobIdSchema, nodeNameSchema, taskIdSchema, userNameSchema } from "./names.js";
import { jobViewSchema, nodeViewSchema } from "./views.js";

/** Every NATS payload: `{v, type, id, ts, cell, epoch?, body}` (design.md § Messages). */
export const envelopeSchema = z.object({
  v: z.literal(1),
  type: z.string().max(64),
  id: z.string().max(64),
  ts: z.number(),
  cell: cellNameSchema,
  epoch: z.number().int().nonnegative().optional(),
  body: z.unknown(),
});
export type Envelope<T = unknown> = Omit<z.infer<typeof envelopeSchema>, "body"> & { body: T };

/** A one-way message: heartbeats, lease batches, task events, kicks. */
export interface EventDefinition<B extends z.ZodType> {
  kind: "event";
  type: string;
  body: B;
}
/** A request/reply pair. */
export interface RpcDefinition<Q extends z.ZodType, R extends z.ZodType> {
  kind: "rpc";
  type: string;
  request: Q;
  result: R;
}

const event = <B extends z.ZodType>(type: string, body: B): EventDefinition<B> => ({ kind: "event", type, body });
const rpc = <Q extends z.ZodType, R extends z.ZodType>(type: string, request: Q, result: R): RpcDefinition<Q, R> => ({
  kind: "rpc",
  type,
  request,
  result,
});

export const errorBodySchema = z.object({
  code: z.enum(ERROR_CODES),
  message: z.string(),
  field: z.string().optional(),
});

/** The body of every reply: a result, or a typed error. */
export const replyBodySchema = z.discriminatedUnion("ok", [
  z.object({ ok: z.literal(true), result: z.unknown() }),
  z.object({ ok: z.literal(false), error: errorBodySchema }),
]);
export type ReplyBody = z.infer<typeof replyBodySchema>;
export const REPLY_TYPE = "reply";

const portSchema = z.number().int().min(1).max(65535);
const portsSchema = z.array(portSchema).max(64);
const incarnationSchema = z.number().int().nonnegative();

// ---- gateway → leader -------------------------------------------------------------

export const submitJob = rpc(
  "api.submit",
  z.object({
    spec: jobSpecSchema,
    user: userNameSchema,
    /** makes a retried submission a no-op with the first one's answer (the gateway retries after timeouts) */
    requestId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "a request id is 1-64 letters, digits, '_' or '-'"),
  }),
  z.object({ job: jobViewSchema }),
);
export const killJob = rpc("api.kill", z.object({ job: jobIdSchema }), z.object({ job: jobViewSchema }));
export const jobStatus = rpc(
  "api.status",
  z.object({ job: jobIdSchema.optional(), user: userNameSchema.optional() }),
  z.object({ jobs: z.array(jobViewSchema) }),
);
/** A standby's answer from its copy of the state: which copy, and how long since it last changed. */
export const standbyStatus = rpc(
  "read.status",
  z.object({ job: jobIdSchema.optional(), user: userNameSchema.optional() }),
  z.object({ jobs: z.array(jobViewSchema), replica: z.string(), position: z.string(), ageMs: z.number() }),
);

export const listNodes = rpc("api.nodes", z.object({}), z.object({ nodes: z.array(nodeViewSchema) }));

/** The leader's own measurements, for load tests and operators. */
export const masterStats = rpc(
  "api.stats",
  z.object({ collectGarbage: z.boolean() }),
  z.object({
    replica: z.string(),
    epoch: z.number().int(),
    heapUsedBytes: z.number(),
    rssBytes: z.number(),
    jobs: z.number().int(),
    tasks: z.number().int(),
    pendingTasks: z.number().int(),
    runningTasks: z.number().int(),
    machines: z.number().int(),
    cpuUserMicros: z.number(),
    cpuSystemMicros: z.number(),
    /** the longest the leader's event loop was blocked since the previous stats call */
    eventLoopDelayMaxMs: z.number(),
    /** fenced commits to Redis this term: how many, jobs written, time spent, the slowest */
    commits: z.object({ commits: z.number(), jobsWritten: z.number(), totalMs: z.number(), maxMs: z.number() }),
  }),
);

// ---- borglet ↔ masters ------------------------------------------------------------

export const heartbeatTaskSchema = z.object({
  taskId: taskIdSchema,
  incarnation: incarnationSchema,
  state: z.enum(["starting", "running", "terminating"]),
  pid: z.number().int().positive().optional(),
  ports: portsSchema,
});
export type HeartbeatTask = z.infer<typeof heartbeatTaskSchema>;

export const heartbeat = event(
  "node.heartbeat",
  z.object({
    node: nodeNameSchema,
    host: z.string().min(1).max(255),
    pid: z.number().int().positive(),
    capacity: resourcesSchema,
    attributes: z.record(z.string().max(63), z.string().max(255)),
    portRange: z.tuple([portSchema, portSchema]).refine(([low, high]) => low <= high, "port range low > high"),
    startedAt: z.number(),
    seq: z.number().int().nonnegative(),
    /** the highest master epoch this borglet has obeyed */
    epochSeen: z.number().int().nonnegative(),
    tasks: z.array(heartbeatTaskSchema).max(100_000),
  }),
);
export type Heartbeat = z.infer<typeof heartbeat.body>;

export const leaseSchema = z.object({
  taskId: taskIdSchema,
  incarnation: incarnationSchema,
  binary: z.string().min(1),
  /** with `%port%` placeholders still in; the borglet substitutes them */
  args: z.array(z.string()),
  env: z.record(z.string(), z.string()),
  ports: portsSchema,
  requirements: requirementsSchema,
  gracePeriodMs: z.number().int().nonnegative(),
});
export type Lease = z.infer<typeof leaseSchema>;

export const revocationSchema = z.object({
  taskId: taskIdSchema,
  incarnation: incarnationSchema,
  gracePeriodMs: z.number().int().nonnegative(),
  reason: z.string().max(1024),
});
export type Revocation = z.infer<typeof revocationSchema>;

/** Leader → borglet; the envelope's epoch is required and fences it. */
export const leaseBatch = event(
  "node.commands",
  z.object({
    node: nodeNameSchema,
    grants: z.array(leaseSchema).max(100_000),
    revokes: z.array(revocationSchema).max(100_000),
  }),
);
export type LeaseBatch = z.infer<typeof leaseBatch.body>;

export const taskEventSchema = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("started"),
    taskId: taskIdSchema,
    incarnation: incarnationSchema,
    pid: z.number().int().positive(),
    at: z.number(),
  }),
  z.object({
    kind: z.literal("exited"),
    taskId: taskIdSchema,
    incarnation: incarnationSchema,
    exitCode: z.number().int().optional(),
    signal: z.string().max(16).optional(),
    /** the borglet stopped it because the master revoked the lease */
    revoked: z.boolean(),
    at: z.number(),
  }),
  z.object({
    kind: z.literal("failed"),
    taskId: taskIdSchema,
    incarnation: incarnationSchema,
    message: z.string().max(4096),
    at: z.number(),
  }),
]);
export type TaskEvent = z.infer<typeof taskEventSchema>;

export const taskEventBatch = event(
  "node.events",
  z.object({ node: nodeNameSchema, events: z.array(taskEventSchema).min(1).max(100_000) }),
);
export type TaskEventBatch = z.infer<typeof taskEventBatch.body>;

export const LOG_STREAMS = ["stdout", "stderr"] as const;
export const readLogs = rpc(
  "node.logs",
  z.object({
    taskId: taskIdSchema,
    stream: z.enum(LOG_STREAMS),
    tailBytes: z.number().int().min(1).max(16 * 1024 * 1024),
  }),
  z.object({ text: z.string(), size: z.number().int().nonnegative(), truncated: z.boolean() }),
);

// ---- leader ↔ schedulers ----------------------------------------------------------

export const workNodeSchema = z.object({
  name: nodeNameSchema,
  capacity: resourcesSchema,
  free: z.object({ cpu: z.number(), ram: z.number(), disk: z.number() }),
  portRange: z.tuple([portSchema, portSchema]),
  usedPorts: z.array(portSchema),
  attributes: z.record(z.string(), z.string()),
});
export type WorkNode = z.infer<typeof workNodeSchema>;

export const pendingTaskSchema = z.object({
  taskId: taskIdSchema,
  incarnation: incarnationSchema,
  requirements: requirementsSchema,
  priority: z.enum(PRIORITY_BANDS),
});
export type PendingTask = z.infer<typeof pendingTaskSchema>;

export const fetchWork = rpc(
  "sched.work",
  z.object({ scheduler: nodeNameSchema, limit: z.number().int().min(1).max(1_000_000) }),
  z.object({ epoch: z.number().int(), nodes: z.array(workNodeSchema), tasks: z.array(pendingTaskSchema) }),
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
  }),
  z.object({
    committed: z.number().int(),
    rejected: z.array(z.object({ taskId: taskIdSchema, reason: z.string() })),
  }),
);
export type Plan = z.infer<typeof submitPlan.request>;

export const schedulerKick = event("sched.kick", z.object({ pending: z.number().int().nonnegative() }));

// ---- leader → watchers ------------------------------------------------------------

export const taskChanges = event(
  "events.tasks",
  z.object({
    changes: z.array(
      z.object({
        taskId: taskIdSchema,
        incarnation: incarnationSchema,
        state: z.string(),
        node: z.string().optional(),
        reason: z.string().optional(),
      }),
    ),
  }),
);
