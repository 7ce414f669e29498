import { jetstream, type OrderedConsumerOptions } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";

/**
 * What a stream holds on one subject filter from a start (all of it, or from a time), read
 * once with an ordered consumer that is deleted after: up to `limit` messages, each parsed by
 * `parse` (undefined: skipped, since anyone may publish there). A stream nobody has made yet
 * holds nothing.
 */
export async function readStreamOnce<T>(
  nc: NatsConnection,
  stream: string,
  start: Partial<OrderedConsumerOptions> & { filter_subjects: string },
  limit: number,
  parse: (text: string) => T[] | undefined,
): Promise<{ items: T[]; more: boolean }> {
  const js = jetstream(nc);
  let consumer;
  try {
    consumer = await js.consumers.get(stream, start);
  } catch (error) {
    if (/stream not found/i.test((error as Error).message)) return { items: [], more: false };
    throw error;
  }
  const items: T[] = [];
  try {
    const pending = (await consumer.info(true)).num_pending;
    let left = Math.min(pending, limit);
    if (left === 0) return { items, more: false };
    const messages = await consumer.fetch({ max_messages: left, expires: 5000 });
    for await (const message of messages) {
      const parsed = parse(message.string());
      if (parsed !== undefined) items.push(...parsed);
      if (--left <= 0) break;
    }
    return { items, more: pending > limit };
  } finally {
    // Left alone, the server keeps an ordered consumer for minutes after its last read.
    await consumer.delete().catch(() => {});
  }
}
