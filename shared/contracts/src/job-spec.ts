import { z } from "zod";
import { cellNameSchema, imageRefSchema, jobNameSchema, userNameSchema } from "./names.js";

/** Borg's priority bands, highest first. */
export const PRIORITY_BANDS = ["monitoring", "production", "batch", "best-effort"] as const;
export type PriorityBand = (typeof PRIORITY_BANDS)[number];

export const RESTART_POLICIES = ["always", "on-failure", "never"] as const;
export type RestartPolicy = (typeof RESTART_POLICIES)[number];

export const MAX_REPLICAS = 100_000;
export const MAX_PORTS_PER_TASK = 16;

const safeText = (what: string, max: number) =>
  z
    .string()
    .max(max, `${what} is longer than ${max} characters`)
    .refine((s) => !s.includes("\0"), `${what} must not contain NUL characters`);

export const resourcesSchema = z.strictObject({
  /** cores, fractions allowed */
  cpu: z.number().positive("cpu must be above 0").max(1024, "cpu is above 1024 cores"),
  /** bytes */
  ram: z.number().int().positive("ram must be above 0").max(2 ** 50, "ram is above 1 PiB"),
  /** bytes */
  disk: z.number().int().nonnegative("disk must not be negative").max(2 ** 53, "disk is too large"),
});
export type Resources = z.infer<typeof resourcesSchema>;

export const requirementsSchema = resourcesSchema.extend({
  /** how many ports from the machine's range the task gets (`%port%`, `%port1%`, …) */
  ports: z.number().int().min(0).max(MAX_PORTS_PER_TASK, `ports is above ${MAX_PORTS_PER_TASK}`),
});
export type Requirements = z.infer<typeof requirementsSchema>;

/** Matches `%port%` (the first port) and `%portN%`. */
export const PORT_PLACEHOLDER = /%port(\d*)%/g;

/** The highest port index a text refers to, or -1. */
export function highestPortReference(text: string): number {
  let highest = -1;
  for (const match of text.matchAll(PORT_PLACEHOLDER)) {
    const index = match[1] === "" || match[1] === undefined ? 0 : Number(match[1]);
    highest = Math.max(highest, index);
  }
  return highest;
}

/** How a constraint compares a machine attribute with its values. */
export const CONSTRAINT_OPERATORS = ["==", "!=", "in", "not_in", "exists", "not_exists"] as const;
export type ConstraintOperator = (typeof CONSTRAINT_OPERATORS)[number];

/** How many values each operator takes: `==`/`!=` exactly one, `in`/`not_in` one or more, `exists`/`not_exists` none. */
export const OPERATOR_ARITY: Readonly<Record<ConstraintOperator, "one" | "many" | "none">> = {
  "==": "one",
  "!=": "one",
  in: "many",
  not_in: "many",
  exists: "none",
  not_exists: "none",
};

/** Failure domains a job's tasks can be spread across, smallest first. */
export const SPREAD_DOMAINS = ["machine", "rack", "power"] as const;
export type SpreadDomain = (typeof SPREAD_DOMAINS)[number];

export const MAX_CONSTRAINTS = 32;
export const MAX_PREFERENCES = 32;
export const MAX_CONSTRAINT_VALUES = 64;
export const DEFAULT_PREFERENCE_WEIGHT = 10;
export const MAX_PREFERENCE_WEIGHT = 100;
export const DEFAULT_MAX_SKEW = 1;

/** A machine attribute's name: `arch`, `rack`, `kernel.version`. */
export const ATTRIBUTE_PATTERN = /^[A-Za-z0-9_.-]{1,63}$/;

const constraintFields = {
  attribute: z
    .string()
    .min(1, "an attribute name must not be empty; name the machine attribute to test, e.g. arch")
    .max(63, "an attribute name is longer than 63 characters")
    .regex(/^[A-Za-z0-9_.-]*$/, "an attribute name is letters, digits, '_', '.' and '-'"),
  op: z.enum(CONSTRAINT_OPERATORS),
  values: z
    .array(safeText("a constraint value", 256).min(1, "a constraint value must not be empty; to require only that the attribute is set, use exists"))
    .max(MAX_CONSTRAINT_VALUES, `more than ${MAX_CONSTRAINT_VALUES} values in one constraint`),
};

/** The number of values must suit the operator; reported at `values` so sources can map it to `value`/`values`. */
function checkArity(constraint: { op: ConstraintOperator; values: readonly string[] }, ctx: z.RefinementCtx): void {
  const arity = OPERATOR_ARITY[constraint.op];
  const count = constraint.values.length;
  const problem =
    arity === "one" && count !== 1
      ? `${constraint.op} compares with exactly one value, not ${count}${count > 1 ? "; to match any of several, use in" : ""}`
      : arity === "many" && count === 0
        ? `${constraint.op} needs at least one value`
        : arity === "none" && count > 0
          ? `${constraint.op} takes no values; it only checks whether the machine has the attribute`
          : undefined;
  if (problem !== undefined) ctx.addIssue({ code: "custom", path: ["values"], message: problem });
}

/** A hard constraint: a machine whose attributes fail it never runs the job's tasks. */
export const constraintSchema = z.strictObject(constraintFields).superRefine(checkArity);
export type Constraint = z.infer<typeof constraintSchema>;

/** A soft constraint: machines that meet it score higher, by `weight`. */
export const preferenceSchema = z
  .strictObject({
    ...constraintFields,
    weight: z
      .number()
      .int("weight must be a whole number")
      .min(1, `weight must be from 1 to ${MAX_PREFERENCE_WEIGHT}`)
      .max(MAX_PREFERENCE_WEIGHT, `weight must be from 1 to ${MAX_PREFERENCE_WEIGHT}`)
      .default(DEFAULT_PREFERENCE_WEIGHT),
  })
  .superRefine(checkArity);
export type Preference = z.infer<typeof preferenceSchema>;

/**
 * Spread the job's tasks across failure domains: the domain with the most of them has at most
 * `maxSkew` more than the one with the fewest.
 */
const spreadAcrossSchema = z.strictObject({
  across: z.enum(SPREAD_DOMAINS),
  maxSkew: z
    .number()
    .int("max skew must be a whole number")
    .min(1, "max skew must be at least 1 (1 keeps every domain within one task of the others)")
    .max(MAX_REPLICAS, `max skew is above ${MAX_REPLICAS}`)
    .default(DEFAULT_MAX_SKEW),
});
export type Spread = z.infer<typeof spreadAcrossSchema>;

/**
 * A job's spread: across a kind of failure domain, or "none". Left out, its tasks are spread
 * over machines as a preference (Borg and Kubernetes both keep a job's tasks apart by
 * default, so that one machine lost is one task lost); "none" lets the cell's policy alone
 * decide, so that the tasks may pack onto one machine.
 */
export const spreadSchema = z.union([spreadAcrossSchema, z.literal("none")]);
export type SpreadSetting = z.infer<typeof spreadSchema>;

/** The failure domains a job declared its tasks must spread across, if it did. */
export function declaredSpread(spread: SpreadSetting | undefined): Spread | undefined {
  return typeof spread === "object" ? spread : undefined;
}

/**
 * How a job's tasks are spread, as `plan` and `why` show it: by default over every kind of
 * failure domain as a preference, as declared (a rule: a machine that would break the skew
 * is refused), or not at all.
 */
export const spreadRuleSchema = z.object({
  rule: z.enum(["default", "declared", "none"]),
  across: z.array(z.enum(SPREAD_DOMAINS)),
  maxSkew: z.number().int().positive().optional(),
});
export type SpreadRule = z.infer<typeof spreadRuleSchema>;

export function spreadRuleOf(spread: SpreadSetting | undefined): SpreadRule {
  if (spread === undefined) return { rule: "default", across: [...SPREAD_DOMAINS] };
  if (spread === "none") return { rule: "none", across: [] };
  return { rule: "declared", across: [spread.across], maxSkew: spread.maxSkew };
}

/** A path inside a task's container. */
const containerPath = z
  .string()
  .min(1)
  .max(4096, "a path is longer than 4096 characters")
  .regex(/^\//, "a path inside the container is absolute, e.g. /data")
  .refine((path) => !path.split("/").includes(".."), "a path must not contain '..'")
  .refine((path) => !path.includes("\0"), "a path must not contain NUL characters");

export const MAX_VOLUMES = 16;

/**
 * A directory mounted into the task's container: a directory of the machine as it is
 * (`host`), or a named volume the borglet keeps per user and name, which outlives the
 * task's restarts on that machine (`volume`).
 */
export const volumeSchema = z
  .strictObject({
    host: containerPath.optional(),
    volume: z.string().regex(/^[a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?$/, "a volume name is 1-63 lower-case letters, digits, '_' and '-'").optional(),
    path: containerPath,
    readOnly: z.boolean().default(false),
  })
  .superRefine((volume, ctx) => {
    if ((volume.host === undefined) === (volume.volume === undefined)) {
      ctx.addIssue({ code: "custom", path: ["host"], message: "a volume mounts either a host directory (host = '/srv/data') or a named volume (volume = 'cache'): give exactly one" });
    }
  });
export type Volume = z.infer<typeof volumeSchema>;

export const DEFAULT_HEALTH_INTERVAL_MS = 10_000;
export const DEFAULT_HEALTH_TIMEOUT_MS = 2_000;
export const DEFAULT_HEALTH_FAILURES = 3;

/** Which of the task's ports a check uses: 0 is %port%, N is %portN%. */
const portIndex = z.number().int().min(0).max(MAX_PORTS_PER_TASK - 1).default(0);

/** How the borglet asks a task whether it is well. */
export const healthCheckSchema = z.discriminatedUnion("type", [
  /** healthy when GET path on the task's port answers 2xx or 3xx within the timeout */
  z.strictObject({ type: z.literal("http"), path: z.string().regex(/^\//, "an http check's path starts with /, e.g. /healthz").max(1024).default("/"), port: portIndex }),
  /** healthy when the task's port accepts a connection */
  z.strictObject({ type: z.literal("tcp"), port: portIndex }),
  /** healthy when the command, run in the task's container (or beside it), exits 0 */
  z.strictObject({ type: z.literal("exec"), command: z.array(safeText("a command word", 4096)).min(1, "an exec check needs a command, e.g. ['/bin/check']").max(64) }),
]);
export type HealthCheck = z.infer<typeof healthCheckSchema>;

/** A task failing `failures` checks in a row is unhealthy, and is restarted. */
export const healthSchema = z.strictObject({
  check: healthCheckSchema,
  intervalMs: z.number().int().min(100, "interval is below 100ms").max(3_600_000, "interval is above one hour").default(DEFAULT_HEALTH_INTERVAL_MS),
  timeoutMs: z.number().int().min(10, "timeout is below 10ms").max(600_000, "timeout is above 10 minutes").default(DEFAULT_HEALTH_TIMEOUT_MS),
  failures: z.number().int().min(1, "failures must be at least 1").max(100, "failures is above 100").default(DEFAULT_HEALTH_FAILURES),
});
export type Health = z.infer<typeof healthSchema>;

/**
 * How a federated job (one with `runtime.cells`) shares its tasks between its cells: `spread`
 * divides them by weight, `fill` fills the cells in the order listed and spills into the next
 * when one cannot run its share within `spillAfterMs`, `pin` keeps them in the one cell listed.
 */
export const FEDERATION_POLICIES = ["spread", "fill", "pin"] as const;
export type FederationPolicyName = (typeof FEDERATION_POLICIES)[number];

export const DEFAULT_FEDERATION_POLICY: FederationPolicyName = "spread";
export const MAX_FEDERATED_CELLS = 16;
export const MAX_FEDERATION_WEIGHT = 1000;
export const DEFAULT_FEDERATION_WEIGHT = 1;
export const MIN_SPILL_AFTER_MS = 1000;
export const MAX_SPILL_AFTER_MS = 3_600_000;
export const DEFAULT_SPILL_AFTER_MS = 30_000;
export const MAX_DISRUPTION = 10_000;
/**
 * Without max_disruption, a tenth of the replicas (at least one) may be stopping at once
 * while a federated job is rebalanced: one at a time would take a 3,000-replica share back
 * in 3,000 passes, and a tenth keeps 90% of the extras serving throughout.
 */
export const DEFAULT_MAX_DISRUPTION_SHARE = 0.1;

/** The fields only a federated job (one with `cells`) has, with the names sources give them. */
const FEDERATION_FIELDS = [
  ["policy", "policy"],
  ["weights", "weights"],
  ["spillAfterMs", "spill_after"],
  ["maxDisruption", "max_disruption"],
] as const;

/**
 * Where the job runs: one cell (`cell`, or none to mean the cell it is submitted to), or a
 * federation of `cells`, with how its tasks are shared between them. Federation settings left
 * out are left out here too; `federationOf` resolves them with their defaults.
 */
export const runtimeSchema = z
  .strictObject({
    cell: cellNameSchema.optional(),
    /** A federated job's cells; with policy `fill`, in order of preference. */
    cells: z
      .array(cellNameSchema)
      .min(1, "no cells listed; list the cells the job runs in, or use runtime.cell for one cell")
      .max(MAX_FEDERATED_CELLS, `more than ${MAX_FEDERATED_CELLS} cells; a federated job runs in at most ${MAX_FEDERATED_CELLS}`)
      .optional(),
    policy: z.enum(FEDERATION_POLICIES, `policy must be one of ${FEDERATION_POLICIES.map((policy) => `'${policy}'`).join(", ")}`).optional(),
    /** Policy `spread`: each cell's share of the tasks, one weight per cell in the order of `cells`. */
    weights: z
      .array(
        z
          .number()
          .int("a weight must be a whole number")
          .min(1, `a weight must be from 1 to ${MAX_FEDERATION_WEIGHT}`)
          .max(MAX_FEDERATION_WEIGHT, `a weight must be from 1 to ${MAX_FEDERATION_WEIGHT}`),
      )
      .optional(),
    /** How long tasks wait for room in their cell before they may be placed in another. */
    spillAfterMs: z
      .number()
      .int("spill_after must be a whole number of milliseconds")
      .min(MIN_SPILL_AFTER_MS, "spill_after is below 1s; it must be from 1s to 1h")
      .max(MAX_SPILL_AFTER_MS, "spill_after is above one hour; it must be from 1s to 1h")
      .optional(),
    /** At most this many of the job's tasks moved between cells at a time. */
    maxDisruption: z
      .number()
      .int("max_disruption must be a whole number")
      .min(1, `max_disruption must be from 1 to ${MAX_DISRUPTION}`)
      .max(MAX_DISRUPTION, `max_disruption must be from 1 to ${MAX_DISRUPTION}`)
      .optional(),
  })
  .superRefine(checkRuntime);
export type JobRuntime = z.infer<typeof runtimeSchema>;

function checkRuntime(runtime: JobRuntime, ctx: z.RefinementCtx): void {
  const { cell, cells } = runtime;
  if (cells === undefined) {
    for (const [field, name] of FEDERATION_FIELDS) {
      if (runtime[field] === undefined) continue;
      const instead = cell === undefined ? "list the cells it runs in with runtime.cells" : `this job runs in one cell (runtime.cell is '${cell}'), so leave ${name} out, or list its cells with runtime.cells instead`;
      ctx.addIssue({ code: "custom", path: [field], message: `${name} is for a federated job, which lists its cells in runtime.cells; ${instead}` });
    }
    return;
  }
  if (cell !== undefined) {
    ctx.addIssue({ code: "custom", path: ["cells"], message: "give either runtime.cell (one cell) or runtime.cells (a federated job), not both" });
  }
  const seen = new Map<string, number>();
  cells.forEach((name, index) => {
    const first = seen.get(name);
    if (first === undefined) seen.set(name, index);
    else ctx.addIssue({ code: "custom", path: ["cells", index], message: `cell '${name}' is listed twice in runtime.cells (items ${first} and ${index}); list each cell once` });
  });
  const policy = runtime.policy ?? DEFAULT_FEDERATION_POLICY;
  if (policy === "pin" && cells.length !== 1) {
    ctx.addIssue({
      code: "custom",
      path: ["policy"],
      message: `policy 'pin' keeps the job in one cell, so runtime.cells lists exactly one, found ${cells.length}; keep one cell, or use 'fill' to prefer the cells in the order listed`,
    });
  }
  const { weights } = runtime;
  if (weights === undefined) return;
  if (policy !== "spread") {
    const why = policy === "fill" ? "policy 'fill' fills the cells in the order listed" : "policy 'pin' keeps the tasks in one cell";
    ctx.addIssue({ code: "custom", path: ["weights"], message: `weights share the tasks between the cells under policy 'spread', but ${why}; leave weights out, or use policy 'spread'` });
  } else if (weights.length !== cells.length) {
    ctx.addIssue({
      code: "custom",
      path: ["weights"],
      message: `${weights.length} weight${weights.length === 1 ? "" : "s"} for ${cells.length} cell${cells.length === 1 ? "" : "s"}; give one weight per cell, in the order of runtime.cells`,
    });
  }
}

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

type SpecFields = Pick<JobSpec, "kind" | "binary" | "image" | "volumes" | "health" | "args" | "env" | "requirements" | "allocSet" | "constraints" | "preferences" | "spread" | "maxPerMachine">;

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
}

/** A job in an alloc set runs where the set's allocs are: where to place is the alloc set's to say. */
function checkJobInAllocSet(spec: SpecFields, ctx: z.RefinementCtx): void {
  const placedByAllocs = (field: string) => `${field} is not allowed in a job that runs in an alloc set: its tasks go where the allocs are; put ${field} on the alloc set`;
  if (spec.constraints.length > 0) ctx.addIssue({ code: "custom", path: ["constraints"], message: placedByAllocs("constraints") });
  if (spec.preferences.length > 0) ctx.addIssue({ code: "custom", path: ["preferences"], message: placedByAllocs("preferences") });
  if (spec.spread !== undefined) ctx.addIssue({ code: "custom", path: ["spread"], message: placedByAllocs("spread") });
  if (spec.maxPerMachine !== undefined) ctx.addIssue({ code: "custom", path: ["maxPerMachine"], message: placedByAllocs("max_per_machine") });
}
