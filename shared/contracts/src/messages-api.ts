// The API conversation, gateway → leader (and read.status → standbys): what users ask of a
// cell and what it answers. Kept apart because these change with the user-facing API, not with
// how the cell's own processes talk.
import { z } from "zod";
import { ERROR_CODES } from "./errors.js";
import { jobSpecSchema } from "./job-spec.js";
import { revisionViewSchema } from "./job-update.js";
import { MAX_REPLICAS } from "./job-size.js";
import { spreadRuleSchema } from "./job-placement.js";
import { jobIdSchema, nodeNameSchema, userNameSchema } from "./names.js";
import { jobViewSchema, nodeViewSchema } from "./views.js";
import { rpc, taskIdSchema } from "./messages-fields.js";

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
/**
 * Moves a job to a new spec (`corral up` on a job that exists): changes that need no new
 * tasks apply at once, the rest start a rollout (job-update.ts). With `dryRun` nothing is
 * changed, and the answer says what would be. A change while a rollout of the job runs is
 * refused unless `force`, which starts the new one from where the tasks are.
 */
export const updateJob = rpc(
  "api.update",
  z.object({
    job: jobIdSchema,
    spec: jobSpecSchema,
    user: userNameSchema,
    requestId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "a request id is 1-64 letters, digits, '_' or '-'"),
    dryRun: z.boolean().optional(),
    force: z.boolean().optional(),
  }),
  z.object({
    job: jobViewSchema,
    /** the revision the job is at now (or would be, with dryRun) */
    revision: z.number().int().min(1),
    change: z.object({ fields: z.array(z.string()), kind: z.enum(["none", "in-place", "replace"]) }),
    /** false for a dry run, or when the spec is the job's own already */
    applied: z.boolean(),
    /** the tasks a rollout will replace, and how many at a time */
    replaces: z.object({ tasks: z.number().int().nonnegative(), maxParallel: z.number().int().min(1) }).optional(),
  }),
);
/** What a user may do to a job's rollout (`corral rollout pause|resume|promote|undo`). */
export const ROLLOUT_ACTIONS = ["pause", "resume", "promote", "undo"] as const;
export const controlRollout = rpc(
  "api.rollout",
  z.object({
    job: jobIdSchema,
    user: userNameSchema,
    action: z.enum(ROLLOUT_ACTIONS),
    /** undo: the revision whose spec to go back to; default the last stable one before the current */
    toRevision: z.number().int().min(1).optional(),
  }),
  z.object({ job: jobViewSchema, revision: z.number().int().min(1) }),
);
/** A job's revisions, oldest first (`corral history`). */
export const jobRevisions = rpc("api.revisions", z.object({ job: jobIdSchema }), z.object({ job: jobIdSchema, revision: z.number().int().min(1), revisions: z.array(revisionViewSchema) }));

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
