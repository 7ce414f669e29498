import { z } from "zod";
import { ERROR_CODES } from "./errors.js";
import { userNameSchema } from "./names.js";

/**
 * Event-driven submission: a producer publishes this JSON to the cell's submit stream
 * (JetStream, durable) on `corral.<cell>.submit.<user>`, with that user's NATS credentials. JSON rather than the internal msgpack envelope, so a submission
 * can come from any tool (`nats pub`, a CI job, another service in any language).
 */
export const submissionSchema = z.strictObject({
  /** the producer's id for this submission; the same id twice is one submission */
  id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "an id is 1-64 letters, digits, '_' or '-'"),
  /** whose job it is: the user it was published as (the subject's last token); if given, it must be that user */
  user: userNameSchema.optional(),
  format: z.enum(["borg", "yaml", "json"]),
  source: z.string().min(1, "the spec source is empty").max(1_000_000),
  file: z.string().max(255).optional(),
});
export type Submission = z.infer<typeof submissionSchema>;

/** Published (JSON) on `corral.<cell>.events.submissions.<id>` once the submission is decided. */
export const submissionOutcomeSchema = z.discriminatedUnion("status", [
  z.object({ id: z.string(), status: z.literal("accepted"), job: z.string(), at: z.number() }),
  z.object({
    id: z.string(),
    status: z.literal("rejected"),
    error: z.object({ code: z.enum(ERROR_CODES), message: z.string(), field: z.string().optional() }),
    at: z.number(),
  }),
]);
export type SubmissionOutcome = z.infer<typeof submissionOutcomeSchema>;

/** Outcome ids of submissions over the API are their request ids behind this prefix (stream ids have no dot). */
export const HTTP_SUBMISSION_PREFIX = "api.";

/** Names of the JetStream stream and the leader's durable consumer for a cell. */
export function submitStreamName(cell: string): string {
  return `CORRAL_${cell.toUpperCase().replace(/-/g, "_")}_SUBMIT`;
}
export const SUBMIT_CONSUMER = "leader";
