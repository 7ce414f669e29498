// What every message shares whatever its conversation: the envelope, the event and rpc
// definitions each conversation's messages are declared as, and the reply body. Kept apart so
// that envelope.ts can seal and open messages without pulling in every schema.
import { z } from "zod";
import { ERROR_CODES } from "./errors.js";
import { cellNameSchema } from "./names.js";

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
