import { z } from "zod";
import { ERROR_CODES } from "./errors.js";
import { constraintSchema, healthSchema, jobSpecSchema, MAX_REPLICAS, MAX_VOLUMES, volumeSchema, preferenceSchema, requirementsSchema, resourcesSchema, spreadRuleSchema, spreadSchema, PRIORITY_BANDS, SPREAD_DOMAINS } from "./job-spec.js";
import { cellNameSchema, imageRefSchema, jobIdSchema, NAME_PATTERN, nodeNameSchema, userNameSchema } from "./names.js";
import { jobViewSchema, nodeViewSchema } from "./views.js";

/** Every NATS payload: `{v, type, id, ts, cell, epoch?, body}` (docs/architecture.md § Messages and subjects). */
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

/**
 * The same task ids as names.ts's taskIdSchema (`<index>.<job>.<user>.<cell>`), as one regular
 * expression: messages carry thousands of them (heartbeats, plans, leases), and splitting
 * each into a parsed id only to check it was a visible share of the masters' cpu.
 */
const NAME = NAME_PATTERN.source.slice(1, -1);
const TASK_ID_PATTERN = new RegExp(`^\\d+\\.${NAME}\\.${NAME}\\.${NAME}$`);
const taskIdSchema = z.string().regex(TASK_ID_PATTERN, "a task id is <index>.<job>.<user>.<cell>");

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
/** A kill may shorten or lengthen the job's grace period for this stop (`corral kill --grace 5s`). */
export const MAX_GRACE_MS = 3_600_000;
export const killJob = rpc(
  "api.kill",
  z.object({ job: jobIdSchema, gracePeriodMs: z.number().int().min(0).max(MAX_GRACE_MS, "grace is above one hour").optional() }),
  z.object({ job: jobViewSchema }),
);
/**
 * Sets a job's replica count (`kubectl scale`): tasks past the new count are stopped like a
 * kill stops them, new ones start pending, the others are not touched. Scaling to the
 * current count changes nothing and answers the job, so a repeat is safe.
 */
export const scaleJob = rpc(
  "api.scale",
  z.object({ job: jobIdSchema, replicas: z.number().int().min(1, "replicas must be at least 1").max(MAX_REPLICAS, `replicas is above ${MAX_REPLICAS}`) }),
  z.object({ job: jobViewSchema }),
);
/** The most jobs one page of a list holds (`GET /v1/jobs?limit=`). */
export const MAX_JOBS_PAGE = 1000;
/** The most tasks one job view holds (`GET /v1/jobs/<job>?limit=`); a list shows fewer per job. */
export const MAX_TASKS_PAGE = 10_000;

/**
 * What a status query asks for. A list is paged by job id (at most `limit` jobs after
 * `after`) and each job's tasks by index (at most `tasksLimit` from `tasksFrom`), so no
 * answer grows with the cell: a view whose tasks go on says from which index
 * (`moreTasksFrom`), and a page that is not the last names the job to go on after (`next`).
 */
const jobQuerySchema = z.object({
  job: jobIdSchema.optional(),
  user: userNameSchema.optional(),
  /** counts only: no task list, and `withinReplicas` (a federation's reconciler needs no more of a big job) */
  countsOnly: z.literal(true).optional(),
  /** a label selector (`-l tier=web,env!=prod`): only the jobs it matches */
  selector: z.string().max(4096).optional(),
  limit: z.number().int().min(1).max(MAX_JOBS_PAGE).optional(),
  after: jobIdSchema.optional(),
  tasksLimit: z.number().int().min(0).max(MAX_TASKS_PAGE).optional(),
  tasksFrom: z.number().int().min(0).max(MAX_REPLICAS).optional(),
});
export type JobQuery = z.infer<typeof jobQuerySchema>;
const jobPageSchema = z.object({ jobs: z.array(jobViewSchema), next: jobIdSchema.optional() });

export const jobStatus = rpc("api.status", jobQuerySchema, jobPageSchema);
/** A standby's answer from its copy of the state: which copy, and how long since it last changed. */
export const standbyStatus = rpc("read.status", jobQuerySchema, jobPageSchema.extend({ replica: z.string(), position: z.string(), ageMs: z.number() }));

export const listNodes = rpc("api.nodes", z.object({}), z.object({ nodes: z.array(nodeViewSchema) }));

/** "Why pending?": every machine through the filters for the job's pending tasks, with advice. */
export const whyPending = rpc(
  "api.why",
  z.object({ job: jobIdSchema }),
  z.object({
    job: jobIdSchema,
    pending: z.number().int().nonnegative(),
    /** what was counted: machines, or for a job in an alloc set, the set's allocs */
    over: z.enum(["machines", "allocs"]).default("machines"),
    machines: z.number().int().nonnegative(),
    fitting: z.number().int().nonnegative(),
    refusals: z.array(z.object({ reason: z.string(), machines: z.number().int().nonnegative() })),
    advice: z.array(z.string()),
    /** how the job's tasks are spread (absent for a job in an alloc set, which goes where its allocs are) */
    spread: spreadRuleSchema.optional(),
  }),
);
export type WhyPending = z.infer<typeof whyPending.result>;

/** Nomad's job plan: where a job's tasks would go now, and what would be preempted; commits nothing. */
export const planJob = rpc(
  "api.plan",
  z.object({ spec: jobSpecSchema, user: userNameSchema }),
  z.object({
    job: jobIdSchema,
    /** whether a submission would be accepted now, and if not, why */
    admission: z.union([z.object({ ok: z.literal(true) }), z.object({ ok: z.literal(false), code: z.enum(ERROR_CODES), message: z.string() })]),
    /** `alloc`: the alloc it would run in, for a job in an alloc set */
    placements: z.array(z.object({ task: taskIdSchema, node: nodeNameSchema, alloc: taskIdSchema.optional() })),
    /** set when only this many of the job's tasks were planned (a plan is bounded) */
    planned: z.number().int().positive().optional(),
    unplaced: z.array(
      z.object({
        task: taskIdSchema,
        refusals: z.array(z.object({ reason: z.string(), machines: z.number().int().nonnegative() })),
        /** the machine and the lower-band tasks it would preempt there, when that makes room */
        preempts: z.object({ node: nodeNameSchema, tasks: z.array(taskIdSchema) }).optional(),
      }),
    ),
    /** how the job's tasks are spread (absent for a job in an alloc set) */
    spread: spreadRuleSchema.optional(),
  }),
);
export type JobPlan = z.infer<typeof planJob.result>;

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
    /** heartbeats this term: taken in full (from borglets or forwarded by link shards), and machines reported alive-and-unchanged by shards */
    heartbeats: z.object({ direct: z.number(), forwarded: z.number(), aliveReported: z.number() }),
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

// ---- leader ↔ schedulers ----------------------------------------------------------

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

/** A new term serves the leader's subjects: callers waiting on the last leader send again. */
export const leaderServing = event("lease.serving", z.object({ replica: z.string().min(1).max(255), epoch: z.number().int().positive() }));

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
