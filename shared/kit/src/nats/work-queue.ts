import { AckPolicy, DiscardPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType, type JetStreamManager, type JsMsg } from "@nats-io/jetstream";
import { nanos, type NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "../logger.js";
import { reportFewerReplicas } from "./jetstream-replicas.js";

export type { JsMsg };

export interface WorkQueueOptions {
  stream: string;
  subjects: string[];
  /** durable consumer name; whoever consumes under it shares one position */
  consumer: string;
  /** a message not acknowledged this long is delivered again */
  ackWaitMs: number;
  /** copies JetStream keeps of the stream (--js-replicas) */
  replicas: number;
  /** bounds on what the stream takes: a message over `messageBytes`, or one that would pass `messages` or `bytes` waiting, is refused to its publisher (never dropped later) */
  limits?: { messageBytes: number; messages: number; bytes: number };
}

/**
 * A durable JetStream work queue (file storage, each message removed once acknowledged):
 * what is published while nobody consumes waits, and what a consumer took but did not
 * acknowledge (it died) is delivered again. Creates the stream and consumer if missing.
 */
export async function ensureWorkQueue(nc: NatsConnection, options: WorkQueueOptions, log?: Logger): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(options.stream).catch((error: unknown) => {
    if (/not found/i.test((error as Error).message)) return undefined;
    throw error;
  });
  if (info === undefined) {
    await jsm.streams.add({
      name: options.stream,
      subjects: options.subjects,
      storage: StorageType.File,
      retention: RetentionPolicy.Workqueue,
      duplicate_window: nanos(2 * 60_000),
      num_replicas: options.replicas,
      ...(options.limits === undefined ? {} : { max_msg_size: options.limits.messageBytes, max_msgs: options.limits.messages, max_bytes: options.limits.bytes, discard: DiscardPolicy.New }),
    });
  } else {
    reportFewerReplicas(log, options.stream, info.config.num_replicas, options.replicas);
    // A stream made by an older version takes its subjects from this one (the submit stream
    // moved under per-user subjects): what waits in it is kept.
    if ([...info.config.subjects].sort().join(" ") !== [...options.subjects].sort().join(" ")) {
      log?.warn({ stream: options.stream, from: info.config.subjects, to: options.subjects }, "stream subjects changed; updating the stream");
      await jsm.streams.update(options.stream, { subjects: options.subjects });
    }
  }
  await ensureConsumer(jsm, options);
}

async function ensureConsumer(jsm: JetStreamManager, options: WorkQueueOptions): Promise<void> {
  try {
    await jsm.consumers.info(options.stream, options.consumer);
  } catch {
    await jsm.consumers.add(options.stream, {
      durable_name: options.consumer,
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(options.ackWaitMs),
      max_ack_pending: 10_000,
    });
  }
}

/** Delivers the queue's messages to `handle` until the returned stop function is called. */
export async function consumeWorkQueue(
  nc: NatsConnection,
  options: Pick<WorkQueueOptions, "stream" | "consumer"> & { pullExpiresMs: number },
  log: Logger,
  handle: (message: JsMsg) => void,
): Promise<() => Promise<void>> {
  const consume = async () => {
    const consumer = await jetstream(nc).consumers.get(options.stream, options.consumer);
    // Short pull expiry: a consumer that died holds on to messages only this long before
    // the server gives them to the next one (with ack_wait, the redelivery delay).
    return consumer.consume({ max_messages: 512, expires: options.pullExpiresMs });
  };
  // The first consume must work (the caller retries a leader's setup); a later failure (a busy
  // machine let a pull time out, the server lost the consumer) is logged and consumed again,
  // never left to end the process or to stop the queue quietly.
  let messages = await consume();
  let stopped = false;
  void (async () => {
    for (;;) {
      try {
        for await (const message of messages) {
          try {
            handle(message);
          } catch (error) {
            log.error({ err: (error as Error).message, stream: options.stream }, "work queue handler failed");
          }
        }
        if (!stopped) log.warn({ stream: options.stream }, "the work queue's consumer ended; consuming again");
      } catch (error) {
        if (!stopped) log.error({ err: (error as Error).message, stream: options.stream }, "the work queue's consumer failed; consuming again");
      }
      if (stopped) return;
      await new Promise((resolve) => setTimeout(resolve, 1000));
      if (stopped) return;
      try {
        messages = await consume();
      } catch (error) {
        log.error({ err: (error as Error).message, stream: options.stream }, "could not consume the work queue again; trying again");
      }
    }
  })();
  return async () => {
    stopped = true;
    await messages.close();
  };
}
