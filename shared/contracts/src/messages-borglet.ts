// The borglet ↔ masters conversation: heartbeats (and the link shards that thin them out for
// the leader), the leases the leader grants and revokes, the task events borglets report, and
// log reads. Kept apart because a change here is one every borglet in the cell must understand.
import { z } from "zod";
import { healthSchema } from "./job-health.js";
import { requirementsSchema, resourcesSchema } from "./job-size.js";
import { PRIORITY_BANDS } from "./job-spec.js";
import { MAX_VOLUMES, volumeSchema } from "./job-volumes.js";
import { imageRefSchema, nodeNameSchema } from "./names.js";
import { event, incarnationSchema, portSchema, portsSchema, rpc, taskIdSchema } from "./messages-fields.js";

export const heartbeatTaskSchema = z.object({
  taskId: taskIdSchema,
  incarnation: incarnationSchema,
  state: z.enum(["starting", "running", "terminating"]),
  pid: z.number().int().positive().optional(),
  ports: portsSchema,
  /** measured from its cgroup (isolated runtime): cores in use since the last heartbeat, and bytes of memory */
  usage: z.object({ cpu: z.number().nonnegative().max(4096), ram: z.number().int().nonnegative() }).optional(),
  /** the last verdict of its health check, for tasks that have one */
  health: z.enum(["healthy", "unhealthy"]).optional(),
});
export type HeartbeatTask = z.infer<typeof heartbeatTaskSchema>;

/** A heartbeat's fields, before the rule that it lists its tasks or gives their digest (records pick from these). */
export const heartbeatFields = z.object({
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
  /** what the machine runs; left out when unchanged since the last heartbeat that listed it, and `tasksDigest` says so */
  tasks: z.array(heartbeatTaskSchema).max(100_000).optional(),
  /**
   * In place of `tasks`: the digest (taskListDigest) of the list the last full heartbeat
   * sent, unchanged since. A master whose state places the same there takes it as "alive,
   * unchanged"; any other asks for the list (nodeHeartbeatWanted).
   */
  tasksDigest: z.string().min(1).max(64).optional(),
  /** how often this borglet heartbeats: the leader waits for several missed ones before it calls the machine down (absent from older borglets) */
  heartbeatMs: z.number().int().positive().max(3_600_000).optional(),
  /**
   * Some task's usage moved past the reporting threshold since the borglet last said so:
   * link shards forward this heartbeat whole, so the leader's view of usage stays current
   * without every heartbeat reaching it.
   */
  usageMoved: z.literal(true).optional(),
});

export const heartbeat = event(
  "node.heartbeat",
  heartbeatFields.refine((hb) => hb.tasks !== undefined || hb.tasksDigest !== undefined, { message: "a heartbeat lists its tasks or gives their digest", path: ["tasks"] }),
);
export type Heartbeat = z.infer<typeof heartbeat.body>;

/** A master could not take a heartbeat's digest for the machine's tasks: the next heartbeat lists them. */
export const heartbeatWanted = event("node.heartbeat-wanted", z.object({ node: nodeNameSchema }));

/** Link shards (Borg §3.3): each master replica takes a share of the heartbeats and tells the leader only what changed. */
export const linkAlive = rpc(
  "link.alive",
  z.object({
    shard: z.string().min(1).max(255),
    nodes: z.array(z.object({ node: nodeNameSchema, digest: z.string().min(1).max(64) })).max(100_000),
  }),
  z.object({ wanted: z.array(nodeNameSchema) }),
);

export const linkHeartbeats = event(
  "link.heartbeats",
  z.object({
    shard: z.string().min(1).max(255),
    heartbeats: z.array(heartbeat.body).max(100_000),
  }),
);

export const leaseSchema = z.object({
  taskId: taskIdSchema,
  incarnation: incarnationSchema,
  binary: z.string().min(1),
  /** set: the isolated runtime, on this image's root filesystem */
  image: imageRefSchema.optional(),
  /** the alloc it runs in: its room is the alloc's, so memory pressure does not evict it */
  alloc: taskIdSchema.optional(),
  /** the alloc's reservation: the isolated runtime caps the alloc's tasks on the machine together at it */
  allocSize: resourcesSchema.optional(),
  /** the alloc set's band: the alloc's cgroup competes for cpu with its weight, whatever its tasks' */
  allocPriority: z.enum(PRIORITY_BANDS).optional(),
  /** with `%port%` placeholders still in; the borglet substitutes them */
  args: z.array(z.string()),
  env: z.record(z.string(), z.string()),
  ports: portsSchema,
  requirements: requirementsSchema,
  /** directories mounted into the container (isolated runtime) */
  volumes: z.array(volumeSchema).max(MAX_VOLUMES).optional(),
  /** how the borglet checks the task; it restarts a task that fails too many checks in a row */
  health: healthSchema.optional(),
  /** the job's band: the isolated runtime gives latency-sensitive bands the larger cpu share */
  priority: z.enum(PRIORITY_BANDS).optional(),
  gracePeriodMs: z.number().int().nonnegative(),
  /** run as root on the machine (an admin's job asked); otherwise as the owner's own unprivileged uid there */
  runAsRoot: z.boolean().optional(),
  /**
   * The run before this one, given up when its machine was marked down, whose exit 0 would
   * still finish the task: a machine that saw that run finish so must not start this one.
   */
  afterLostRun: incarnationSchema.optional(),
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
    /** the leader's signature of its term (cell and epoch), which a borglet verifies before it takes a new epoch */
    termSignature: z.string().max(200),
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
    /** the kernel killed it for going over its memory limit */
    oom: z.literal(true).optional(),
    /** with oom: the limit gone over was its alloc's (its tasks together), not its own */
    oomOfAlloc: z.literal(true).optional(),
    /** the borglet stopped it for failing its health check; what the last check said */
    unhealthy: z.string().max(1024).optional(),
    /** the borglet evicted it to relieve memory pressure (non-production work goes first); why */
    evicted: z.string().max(1024).optional(),
    /** how long it ran: a long run ends a crash streak, and with it the restart backoff */
    ranForMs: z.number().int().nonnegative().optional(),
    /** the borglet stopped it because the master revoked the lease */
    revoked: z.boolean(),
    at: z.number(),
  }),
  z.object({
    kind: z.literal("health"),
    taskId: taskIdSchema,
    incarnation: incarnationSchema,
    health: z.enum(["healthy", "unhealthy"]),
    /** what the check said, when it failed */
    message: z.string().max(1024).optional(),
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
    /** read from this byte on (following a log) instead of the tail; past the end means the log was rotated */
    from: z.number().int().nonnegative().optional(),
  }),
  z.object({
    text: z.string(),
    size: z.number().int().nonnegative(),
    truncated: z.boolean(),
    /** the byte of the file the text starts at */
    start: z.number().int().nonnegative().optional(),
  }),
);
