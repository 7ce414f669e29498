import { z } from "zod";
import { imageRefSchema, jobNameSchema, userNameSchema } from "./names.js";
import { highestPortReference, MAX_REPLICAS, requirementsSchema } from "./job-size.js";
import { constraintSchema, MAX_CONSTRAINTS, MAX_PREFERENCES, preferenceSchema, spreadSchema } from "./job-placement.js";
import { healthSchema } from "./job-health.js";
import { updatePolicySchema } from "./job-update.js";
import { runtimeSchema } from "./job-runtime.js";
import { MAX_VOLUMES, volumeSchema } from "./job-volumes.js";
import { safeText } from "./spec-text.js";

/** Borg's priority bands, highest first. */
export const PRIORITY_BANDS = ["monitoring", "production", "batch", "best-effort"] as const;
export type PriorityBand = (typeof PRIORITY_BANDS)[number];

export const RESTART_POLICIES = ["always", "on-failure", "never"] as const;
export type RestartPolicy = (typeof RESTART_POLICIES)[number];

/** Kubernetes-like label rules, so selectors written for one read the same here. */
export const LABEL_KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_./-]{0,62}$/;
export const LABEL_VALUE_PATTERN = /^[A-Za-z0-9_.-]{0,63}$/;
export const MAX_LABELS = 32;

/**
 * What a spec describes: a job runs a binary in each task; an alloc set (Borg §2.4) runs
 * nothing and reserves its requirements on a machine per replica, for jobs to run in.
 */
export const JOB_KINDS = ["job", "alloc"] as const;
export type JobKind = (typeof JOB_KINDS)[number];

/**
 * The one validated job specification. Both source syntaxes (Borg config, YAML/JSON) parse
 * into this, and every service re-validates it on receipt.
 */
export const jobSpecSchema = z
  .strictObject({
    name: jobNameSchema,
    /** absent in records stored before alloc sets existed */
    kind: z.enum(JOB_KINDS).default("job"),
    user: userNameSchema.optional(),
    runtime: runtimeSchema,
    /** empty for an alloc set, which runs nothing; with an image, a path inside it */
    binary: safeText("binary", 1024),
    /** run in the isolated runtime, on a root filesystem made from this image */
    image: imageRefSchema.optional(),
    args: z.array(safeText("an argument", 4096)).max(256, "more than 256 args"),
    env: z.record(
      z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "an environment variable name is letters, digits and '_'"),
      safeText("an environment value", 4096),
    ),
    requirements: requirementsSchema,
    replicas: z.number().int().min(1, "replicas must be at least 1").max(MAX_REPLICAS, `replicas is above ${MAX_REPLICAS}`),
    priority: z.enum(PRIORITY_BANDS),
    restart: z.enum(RESTART_POLICIES),
    /** SIGTERM, then SIGKILL after this long */
    gracePeriodMs: z.number().int().min(0).max(3_600_000, "grace period is above one hour"),
    /** Hard constraints on machine attributes; absent in records stored before they existed. */
    constraints: z.array(constraintSchema).max(MAX_CONSTRAINTS, `more than ${MAX_CONSTRAINTS} constraints; merge those on one attribute with in or not_in`).default([]),
    /** Soft constraints; absent in records stored before they existed. */
    preferences: z.array(preferenceSchema).max(MAX_PREFERENCES, `more than ${MAX_PREFERENCES} preferences; keep the ones that matter most, or merge those on one attribute with in`).default([]),
    spread: spreadSchema.optional(),
    /** At most this many of the job's tasks on one machine. */
    maxPerMachine: z
      .number()
      .int("max per machine must be a whole number")
      .min(1, "max per machine must be at least 1; leave it out for no limit")
      .max(MAX_REPLICAS, `max per machine is above ${MAX_REPLICAS}`)
      .optional(),
    /** The alloc set (its name; same user and cell) whose reservations the job's tasks run in. */
    allocSet: jobNameSchema.optional(),
    /** Directories mounted into the task's container (jobs with an image). */
    volumes: z.array(volumeSchema).max(MAX_VOLUMES, `more than ${MAX_VOLUMES} volumes`).default([]),
    /** How the borglet checks the task's health; unhealthy tasks are restarted. */
    health: healthSchema.optional(),
    /** How an update replaces the job's tasks (job-update.ts); absent: the defaults. */
    update: updatePolicySchema.optional(),
    /** Run as root on the machine rather than as the owner's own unprivileged uid: only an admin may submit it. */
    runAsRoot: z.boolean().optional(),
    /** Labels on the job and its tasks, for selectors (`corral ps -l tier=web`); absent in older records. */
    labels: z
      .record(
        z.string().regex(LABEL_KEY_PATTERN, "a label key is 1-63 letters, digits, '_', '.', '-' or '/', starting with a letter or digit"),
        z.string().regex(LABEL_VALUE_PATTERN, "a label value is up to 63 letters, digits, '_', '.' or '-'"),
      )
      .refine((labels) => Object.keys(labels).length <= MAX_LABELS, `more than ${MAX_LABELS} labels`)
      .default({}),
  })
  .superRefine((spec, ctx) => {
    if (spec.kind === "alloc") checkAllocSet(spec, ctx);
    else if (spec.binary === "") ctx.addIssue({ code: "custom", path: ["binary"], message: "binary must not be empty" });
    if (spec.allocSet !== undefined) checkJobInAllocSet(spec, ctx);
    if (spec.runtime.cells !== undefined && (spec.kind === "alloc" || spec.allocSet !== undefined)) {
      const message =
        spec.kind === "alloc"
          ? "an alloc set lives in one cell: give it runtime.cell, not runtime.cells"
          : "a job in an alloc set runs in that alloc set's cell, and an alloc set lives in one cell: use runtime.cell, not runtime.cells, or leave alloc_set out";
      ctx.addIssue({ code: "custom", path: ["runtime", "cells"], message });
    }
    if (spec.volumes.length > 0 && spec.image === undefined) {
      ctx.addIssue({ code: "custom", path: ["volumes"], message: "volumes are mounted into a task's container: give the job an image (image = 'name:tag'), or leave volumes out" });
    }
    if (spec.health !== undefined && spec.health.check.type !== "exec" && spec.health.check.port >= spec.requirements.ports) {
      ctx.addIssue({
        code: "custom",
        path: ["health", "check", "port"],
        message: `the health check uses port ${spec.health.check.port} but requirements.ports is ${spec.requirements.ports}; set ports to at least ${spec.health.check.port + 1}`,
      });
    }
    if (spec.health !== undefined && spec.health.timeoutMs > spec.health.intervalMs) {
      ctx.addIssue({ code: "custom", path: ["health", "timeoutMs"], message: "the health check's timeout is longer than its interval; make it shorter" });
    }
    const texts = [...spec.args, ...Object.values(spec.env)];
    const highest = Math.max(-1, ...texts.map(highestPortReference));
    if (highest >= spec.requirements.ports) {
      ctx.addIssue({
        code: "custom",
        path: ["requirements", "ports"],
        message: `args or env use %port${highest === 0 ? "" : highest}% but requirements.ports is ${spec.requirements.ports}; set ports to at least ${highest + 1}`,
      });
    }
  });
export type JobSpec = z.infer<typeof jobSpecSchema>;

type SpecFields = Pick<JobSpec, "kind" | "binary" | "image" | "volumes" | "health" | "args" | "env" | "requirements" | "allocSet" | "constraints" | "preferences" | "spread" | "maxPerMachine" | "runAsRoot">;

/** An alloc set reserves; it runs nothing, and its tasks' ports come from the machine when they are placed. */
function checkAllocSet(spec: SpecFields, ctx: z.RefinementCtx): void {
  const runsNothing = "an alloc set reserves resources and runs nothing; put it in a job with alloc_set naming this alloc set";
  if (spec.binary !== "") ctx.addIssue({ code: "custom", path: ["binary"], message: `binary is not allowed in an alloc set: ${runsNothing}` });
  if (spec.args.length > 0) ctx.addIssue({ code: "custom", path: ["args"], message: `args are not allowed in an alloc set: ${runsNothing}` });
  if (Object.keys(spec.env).length > 0) ctx.addIssue({ code: "custom", path: ["env"], message: `env is not allowed in an alloc set: ${runsNothing}` });
  if (spec.requirements.ports > 0) {
    ctx.addIssue({ code: "custom", path: ["requirements", "ports"], message: "an alloc set does not hold ports; the jobs that run in it ask for ports, and get them from the machine" });
  }
  if (spec.allocSet !== undefined) ctx.addIssue({ code: "custom", path: ["allocSet"], message: "an alloc set cannot run inside another alloc set" });
  if (spec.image !== undefined) ctx.addIssue({ code: "custom", path: ["image"], message: `image is not allowed in an alloc set: ${runsNothing}` });
  if (spec.volumes.length > 0) ctx.addIssue({ code: "custom", path: ["volumes"], message: `volumes are not allowed in an alloc set: ${runsNothing}` });
  if (spec.health !== undefined) ctx.addIssue({ code: "custom", path: ["health"], message: `health is not allowed in an alloc set: ${runsNothing}` });
  if (spec.runAsRoot !== undefined) ctx.addIssue({ code: "custom", path: ["runAsRoot"], message: `run_as_root is not allowed in an alloc set: ${runsNothing}` });
}

/** A job in an alloc set runs where the set's allocs are: where to place is the alloc set's to say. */
function checkJobInAllocSet(spec: SpecFields, ctx: z.RefinementCtx): void {
  const placedByAllocs = (field: string) => `${field} is not allowed in a job that runs in an alloc set: its tasks go where the allocs are; put ${field} on the alloc set`;
  if (spec.constraints.length > 0) ctx.addIssue({ code: "custom", path: ["constraints"], message: placedByAllocs("constraints") });
  if (spec.preferences.length > 0) ctx.addIssue({ code: "custom", path: ["preferences"], message: placedByAllocs("preferences") });
  if (spec.spread !== undefined) ctx.addIssue({ code: "custom", path: ["spread"], message: placedByAllocs("spread") });
  if (spec.maxPerMachine !== undefined) ctx.addIssue({ code: "custom", path: ["maxPerMachine"], message: placedByAllocs("max_per_machine") });
}
