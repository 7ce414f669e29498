import { z } from "zod";
import { cellNameSchema, jobNameSchema, userNameSchema } from "./names.js";

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

/**
 * The one validated job specification. Both source syntaxes (Borg config, YAML/JSON) parse
 * into this, and every service re-validates it on receipt.
 */
export const jobSpecSchema = z
  .strictObject({
    name: jobNameSchema,
    user: userNameSchema.optional(),
    runtime: z.strictObject({ cell: cellNameSchema.optional() }),
    binary: safeText("binary", 1024).min(1, "binary must not be empty"),
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
  })
  .superRefine((spec, ctx) => {
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
