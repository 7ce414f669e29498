import type { Msg, NatsConnection, Subscription } from "@nats-io/transport-node";
import type { z } from "zod";
import {
  CorralError,
  describeZodError,
  open,
  REPLY_TYPE,
  replyBodySchema,
  seal,
  type Envelope,
  type EventDefinition,
  type ReplyBody,
  type RpcDefinition,
} from "@corral/contracts";
import type { Logger } from "../logger.js";
import type { ResendSignal } from "./leader-changes.js";

/**
 * Typed NATS request/reply and events over the contracts' envelope. Every received message
 * is validated; a malformed one is answered (rpc) or logged (event), never thrown out of a
 * subscription, so no input can crash a service.
 */

/** A subscription callback that logs delivery errors and hands over only messages. */
function onMessage(subject: string, log: Logger, handle: (msg: Msg) => void): (error: Error | null, msg: Msg) => void {
  return (error, msg) => {
    if (error !== null) {
      log.error({ err: error, subject }, "subscription error");
      return;
    }
    handle(msg);
  };
}

export function publishEvent<B extends z.ZodType>(
  nc: NatsConnection,
  subject: string,
  definition: EventDefinition<B>,
  cell: string,
  body: z.infer<B>,
  epoch?: number,
): void {
  nc.publish(subject, seal(definition.type, cell, body, epoch));
}

export function subscribeEvents<B extends z.ZodType>(
  nc: NatsConnection,
  subject: string,
  definition: EventDefinition<B>,
  cell: string,
  log: Logger,
  handler: (envelope: Envelope<z.infer<B>>, msg: Msg) => void | Promise<void>,
  options: { queue?: string } = {},
): Subscription {
  return nc.subscribe(subject, {
    ...options,
    callback: onMessage(subject, log, (msg) => {
      let envelope: Envelope<z.infer<B>>;
      try {
        envelope = open(msg.data, definition.type, cell, definition.body);
      } catch (refusal) {
        log.warn({ subject: msg.subject, err: (refusal as Error).message }, "refused malformed message");
        return;
      }
      Promise.resolve()
        .then(() => handler(envelope, msg))
        .catch((failure: unknown) => {
          // A deposed leader's last handlers are refused by the fence: expected, not an error.
          if (failure instanceof CorralError && failure.code === "stale_epoch") log.debug({ subject: msg.subject }, "refused by the fence");
          else log.error({ err: failure, subject: msg.subject }, "event handler failed");
        });
    }),
  });
}

function replyWith(msg: Msg, cell: string, body: ReplyBody, log: Logger): void {
  if (msg.reply === undefined || msg.reply === "") return;
  let size = 0;
  try {
    const payload = seal(REPLY_TYPE, cell, body);
    size = payload.length;
    msg.respond(payload);
  } catch (error) {
    // Typically a reply over the server's max_payload: say so instead of leaving the caller to time out.
    log.error({ subject: msg.subject, bytes: size, err: (error as Error).message }, "could not send reply");
    try {
      msg.respond(seal(REPLY_TYPE, cell, { ok: false, error: { code: "internal", message: `the reply (${size} bytes) could not be sent: ${(error as Error).message}` } }));
    } catch {
      // the connection is closing: nobody is left to tell
    }
  }
}

export function serveRpc<Q extends z.ZodType, R extends z.ZodType>(
  nc: NatsConnection,
  subject: string,
  definition: RpcDefinition<Q, R>,
  cell: string,
  log: Logger,
  handler: (request: z.infer<Q>, envelope: Envelope<z.infer<Q>>) => Promise<z.infer<R>> | z.infer<R>,
  options: { queue?: string } = {},
): Subscription {
  return nc.subscribe(subject, {
    ...options,
    callback: onMessage(subject, log, (msg) => {
      Promise.resolve()
        .then(() => {
          const envelope = open(msg.data, definition.type, cell, definition.request);
          return handler(envelope.body, envelope);
        })
        .then(
          (result) => replyWith(msg, cell, { ok: true, result }, log),
          (failure: unknown) => {
            if (failure instanceof CorralError) {
              if (failure.code === "bad_request") log.warn({ subject: msg.subject, err: failure.message }, "refused request");
              else if (failure.code === "internal") log.error({ subject: msg.subject, err: failure.message }, "request failed");
              replyWith(msg, cell, { ok: false, error: failure.toBody() }, log);
            } else {
              log.error({ err: failure, subject: msg.subject }, "request handler failed");
              replyWith(msg, cell, { ok: false, error: { code: "internal", message: (failure as Error).message ?? String(failure) } }, log);
            }
          },
        );
    }),
  });
}

function isNoResponders(error: unknown): boolean {
  const text = String((error as Error)?.message ?? error);
  return text.includes("no responders") || text.includes("503");
}

function isTimeout(error: unknown): boolean {
  const text = String((error as Error)?.message ?? error);
  return text.includes("timeout") || text.includes("TIMEOUT");
}

export interface CallOptions {
  /** per attempt */
  timeoutMs?: number;
  /**
   * keep retrying for this long while nobody answers or the replier is not the leader:
   * those requests did nothing, so a retry cannot apply a change twice. Timeouts are not
   * retried (the change may have been applied).
   */
  retryForMs?: number;
  /** also retry after a timeout: only for requests that are idempotent (a repeat changes nothing) */
  idempotent?: boolean;
  /**
   * Take the result as the replier built it, without validating it: only for a replier of this
   * cell's own version whose result is large and asked for often (a scheduler's work snapshot
   * of thousands of machines, a submission's job view), where validation was a third of the
   * caller's cpu. Requests are always validated by whoever serves them.
   */
  trustResult?: boolean;
  /**
   * For idempotent calls: when this signals during an attempt (a new leader serves), the
   * attempt is given up and the request sent again at once, instead of waiting out the
   * timeout of an attempt that went to a leader as it died.
   */
  resendOn?: ResendSignal;
  epoch?: number;
}

/** An attempt given up because a new leader serves: sent again at once. */
class ResendNow extends Error {}

/** One request; with a resend signal, given up (ResendNow) the moment it signals. */
function sendOnce(nc: NatsConnection, subject: string, payload: Uint8Array, timeoutMs: number, resendOn: ResendSignal | undefined): Promise<Msg> {
  const request = nc.request(subject, payload, { timeout: timeoutMs });
  if (resendOn === undefined) return request;
  return new Promise<Msg>((resolve, reject) => {
    const forget = resendOn.onNext(() => {
      request.catch(() => {}); // its late answer or timeout is of no interest now
      reject(new ResendNow());
    });
    request.then(
      (reply) => {
        forget();
        resolve(reply);
      },
      (error: unknown) => {
        forget();
        reject(error);
      },
    );
  });
}

/** Sends a request and returns its validated result; an error reply becomes a CorralError with the replier's code. */
export async function callRpc<Q extends z.ZodType, R extends z.ZodType>(
  nc: NatsConnection,
  subject: string,
  definition: RpcDefinition<Q, R>,
  cell: string,
  request: z.infer<Q>,
  options: CallOptions = {},
): Promise<z.infer<R>> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const deadline = Date.now() + (options.retryForMs ?? 0);
  const payload = seal(definition.type, cell, request, options.epoch);
  for (let attempt = 0; ; attempt++) {
    let reply: Msg;
    try {
      reply = await sendOnce(nc, subject, payload, timeoutMs, options.idempotent === true ? options.resendOn : undefined);
    } catch (error) {
      if (error instanceof ResendNow) {
        if (Date.now() < deadline) continue;
        throw new CorralError("unavailable", `no answer on ${subject}: the leader changed while it was asked`);
      }
      if ((isNoResponders(error) || (options.idempotent === true && isTimeout(error))) && Date.now() < deadline) {
        await sleep(retryPause(attempt));
        continue;
      }
      if (isNoResponders(error)) throw new CorralError("unavailable", `nobody answers on ${subject}`);
      if (isTimeout(error)) throw new CorralError("unavailable", `no answer on ${subject} within ${timeoutMs} ms`);
      throw error;
    }
    const envelope = open(reply.data, REPLY_TYPE, cell, replyBodySchema);
    if (envelope.body.ok) {
      if (options.trustResult === true) return envelope.body.result as z.infer<R>;
      const parsed = definition.result.safeParse(envelope.body.result);
      if (!parsed.success) {
        throw new CorralError("internal", `malformed ${definition.type} result: ${describeZodError(parsed.error).message}`);
      }
      return parsed.data as z.infer<R>;
    }
    const { code, message, field } = envelope.body.error;
    if (code === "not_leader" && Date.now() < deadline) {
      await sleep(retryPause(attempt));
      continue;
    }
    throw new CorralError(code, message, field);
  }
}

/**
 * Waiting for a leader: "no responders" and "not leader" answers are immediate and cheap,
 * so ask again soon; a long pause here would add straight to every failover.
 */
function retryPause(attempt: number): number {
  return Math.min(20 * 2 ** attempt, 100);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
