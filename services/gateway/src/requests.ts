import { randomUUID } from "node:crypto";
import { z } from "zod";
import { cellNameSchema, CorralError, describeZodError, federatedJobId, jobId, jobNameSchema, MAX_GRACE_MS, MAX_JOBS_PAGE, MAX_REPLICAS, MAX_TASKS_PAGE, NAME_PATTERN, ROLLOUT_ACTIONS, userNameSchema, LOG_STREAMS } from "@corral/contracts";
import { parseDuration } from "@corral/spec";

/** Validates one part of a request; failure is a 400 that names the field. */
export function validate<S extends z.ZodType>(schema: S, value: unknown, where: string): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const { message, field } = describeZodError(parsed.error);
    throw new CorralError("bad_request", `${where}: ${message}`, field === undefined ? where : `${where}.${field}`);
  }
  return parsed.data as z.infer<S>;
}

export const submitBodySchema = z.union([
  z.strictObject({
    source: z.string().min(1, "the spec source is empty").max(1_000_000),
    format: z.enum(["borg", "yaml", "json"]).optional(),
    file: z.string().max(255).optional(),
  }),
  z.strictObject({ spec: z.record(z.string(), z.unknown()) }),
]);

export const logsQuerySchema = z.strictObject({
  stream: z.enum(LOG_STREAMS).default("stdout"),
  tail: z.coerce.number().int().min(1).max(16 * 1024 * 1024).default(64 * 1024),
  /** follow: the bytes after this offset instead of the tail */
  from: z.coerce.number().int().min(0).optional(),
  /** json: the text with the file's size and where the text starts, for followers */
  format: z.enum(["text", "json"]).default("text"),
});

/** A query's duration (`5s`, `1h`) in ms; a bad one is refused naming `field`. */
export function durationQuery(field: string) {
  return z.string().transform((text, ctx) => {
    try {
      return parseDuration(text);
    } catch (error) {
      ctx.addIssue({ code: "custom", message: `${field}: ${(error as Error).message}` });
      return z.NEVER;
    }
  });
}

/** `DELETE /v1/jobs/{job}?grace=5s`: this stop's grace period, instead of the job's. */
export const killQuerySchema = z.strictObject({
  grace: durationQuery("grace").pipe(z.number().max(MAX_GRACE_MS, "grace is above one hour")).optional(),
});

const flagQuery = (name: string) => z.enum(["true", "false"], { error: `${name} is true or false` }).transform((text) => text === "true");

/** `PUT /v1/jobs/{job}?dry_run=true&force=true`: say what an update would do; start one over a running rollout. */
export const updateQuerySchema = z.strictObject({
  dry_run: flagQuery("dry_run").default(false),
  force: flagQuery("force").default(false),
});

/** `POST /v1/jobs/{job}/rollout`: what to do to its rollout. */
export const rolloutBodySchema = z.strictObject({
  action: z.enum(ROLLOUT_ACTIONS, { error: `action is one of ${ROLLOUT_ACTIONS.join(", ")}` }),
  to_revision: z.number().int().min(1).optional(),
});

/** Jobs per page of `GET /v1/jobs` when the request does not say. */
export const DEFAULT_JOBS_PAGE = 100;
/** `?limit=N`: a page at most N long (of jobs or of tasks, up to `max`). */
const limitOf = (max: number, what: string) =>
  z.coerce.number({ error: "limit: a whole number" }).int("limit: a whole number").min(1, "limit: at least 1").max(max, `limit: at most ${max} ${what} a page`).optional();
/** `?continue=<token>`: where the page goes on, as the last answer said. */
const continueToken = z.string().min(1).max(1024).optional();

export const userQuerySchema = z.strictObject({ user: userNameSchema.optional(), selector: z.string().max(4096).optional(), limit: limitOf(MAX_JOBS_PAGE, "jobs"), continue: continueToken });

/** `GET /v1/jobs/{job}?limit=N&continue=<token>`: the job's tasks a page at a time. */
export const jobQuerySchema = z.strictObject({ limit: limitOf(MAX_TASKS_PAGE, "tasks"), continue: continueToken });

export const IDEMPOTENCY_HEADER = "idempotency-key";

/** The client's Idempotency-Key (a retried POST with it is answered, not applied, again), or a fresh id. */
export function requestIdFrom(headers: Record<string, unknown>): string {
  const value = headers[IDEMPOTENCY_HEADER];
  if (value === undefined) return randomUUID();
  return validate(z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "1-64 letters, digits, '_' or '-'"), value, `header ${IDEMPOTENCY_HEADER}`);
}

/** `hello_world.alice.local`, or `hello_world` completed with the caller's user and this cell. */
export function resolveJobId(reference: string, user: string, cell: string): string {
  const parts = reference.split(".");
  if (parts.length === 3 && parts.every((part) => NAME_PATTERN.test(part))) return reference;
  validate(jobNameSchema, reference, "job");
  return jobId(reference, user, cell);
}

export type JobReference = { kind: "cell"; id: string; cell: string } | { kind: "federated"; id: string };

/**
 * What a job reference in a URL names: `web.alice.b` a job of cell b, `web.alice` a
 * federated job, and a short `web` (with the caller's user) the federated job of that name
 * if there is one, else the job in the home cell.
 */
export async function resolveJobReference(reference: string, user: string, home: string, isFederated: (id: string) => Promise<boolean>): Promise<JobReference> {
  const parts = reference.split(".");
  if (parts.length === 2 && parts.every((part) => NAME_PATTERN.test(part))) return { kind: "federated", id: reference };
  const id = resolveJobId(reference, user, home);
  if (parts.length === 1 && (await isFederated(federatedJobId(reference, user)))) return { kind: "federated", id: federatedJobId(reference, user) };
  return { kind: "cell", id, cell: id.split(".")[2]! };
}

export const cellQuerySchema = z.strictObject({ cell: cellNameSchema.optional() });

export const scaleBodySchema = z.strictObject({
  replicas: z.number().int("replicas must be a whole number").min(1, "replicas must be at least 1; to stop every task, kill the job").max(MAX_REPLICAS, `replicas is above ${MAX_REPLICAS}`),
});
