import { randomBytes } from "node:crypto";
import type { z } from "zod";
import { decode, encode } from "./codec.js";
import { CorralError } from "./errors.js";
import { envelopeSchema, type Envelope } from "./messages-framing.js";

/**
 * Unique among all messages: random per process, then counted. Drawing random bytes for
 * each message cost a busy borglet a tenth of its cpu; ids name messages in logs and
 * traces, they are not secrets.
 */
const ID_PREFIX = randomBytes(6).toString("base64url");
let sent = 0;

export function messageId(): string {
  sent += 1;
  return `${ID_PREFIX}${sent.toString(36)}`;
}

export function seal<T>(type: string, cell: string, body: T, epoch?: number): Uint8Array {
  const envelope: Envelope<T> = { v: 1, type, id: messageId(), ts: Date.now(), cell, body };
  if (epoch !== undefined) envelope.epoch = epoch;
  return encode(envelope);
}

/** zod's first issue as "field: message" for error replies and logs. */
export function describeZodError(error: z.ZodError): { message: string; field?: string } {
  const issue = error.issues[0];
  if (issue === undefined) return { message: "invalid" };
  const field = issue.path.map(String).join(".");
  return field === "" ? { message: issue.message } : { message: `${field}: ${issue.message}`, field };
}

/**
 * Decodes and validates a message from the network. Anything that is not exactly the
 * expected type for this cell becomes a `bad_request` CorralError; nothing else escapes.
 */
export function open<B extends z.ZodType>(
  bytes: Uint8Array,
  expectedType: string,
  cell: string,
  bodySchema: B,
): Envelope<z.infer<B>> {
  let raw: unknown;
  try {
    raw = decode(bytes);
  } catch (error) {
    throw new CorralError("bad_request", `undecodable message: ${(error as Error).message}`);
  }
  const envelope = envelopeSchema.safeParse(raw);
  if (!envelope.success) {
    const { message, field } = describeZodError(envelope.error);
    throw new CorralError("bad_request", `malformed envelope: ${message}`, field && `envelope.${field}`);
  }
  if (envelope.data.type !== expectedType) {
    throw new CorralError("bad_request", `expected a ${expectedType} message, got ${envelope.data.type}`, "envelope.type");
  }
  if (envelope.data.cell !== cell) {
    throw new CorralError("bad_request", `message is for cell ${envelope.data.cell}, this is ${cell}`, "envelope.cell");
  }
  const body = bodySchema.safeParse(envelope.data.body);
  if (!body.success) {
    const { message, field } = describeZodError(body.error);
    throw new CorralError("bad_request", message, field);
  }
  return { ...envelope.data, body: body.data as z.infer<B> };
}
