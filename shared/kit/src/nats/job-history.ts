import { DeliverPolicy, DiscardPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType } from "@nats-io/jetstream";
import { nanos, type NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "../logger.js";
import { reportFewerReplicas } from "./jetstream-replicas.js";
import { HISTORY_MESSAGES_PER_JOB, historyBatchSchema, historyStream, subjects, type HistoryEntry } from "@corral/contracts";

const HISTORY_MAX_AGE_MS = 7 * 24 * 60 * 60_000;

/**
 * The cell's job histories: a JetStream stream with a subject per job, keeping each job's
 * last HISTORY_MESSAGES_PER_JOB messages for a week. Published by the leader, read by anyone.
 */
export async function ensureHistoryStream(nc: NatsConnection, cell: string, replicas: number, log?: Logger): Promise<void> {
  const jsm = await jetstreamManager(nc);
  try {
    const info = await jsm.streams.info(historyStream(cell));
    reportFewerReplicas(log, historyStream(cell), info.config.num_replicas, replicas);
  } catch {
    await jsm.streams.add({
      name: historyStream(cell),
      subjects: [subjects.jobHistoryAll(cell)],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      max_msgs_per_subject: HISTORY_MESSAGES_PER_JOB,
      max_age: nanos(HISTORY_MAX_AGE_MS),
      discard: DiscardPolicy.Old,
      num_replicas: replicas,
    });
  }
}

/** A job's history, oldest first (what the stream still keeps of it). */
export async function readJobHistory(nc: NatsConnection, cell: string, jobId: string): Promise<HistoryEntry[]> {
  const js = jetstream(nc);
  // One subject as a string: nats-server 2.9 has filter_subject; a list needs 2.10.
  let consumer;
  try {
    consumer = await js.consumers.get(historyStream(cell), { filter_subjects: subjects.jobHistory(cell, jobId), deliver_policy: DeliverPolicy.All });
  } catch (error) {
    // No leader has made the stream yet: no job has a history.
    if (/stream not found/i.test((error as Error).message)) return [];
    throw error;
  }
  const entries: HistoryEntry[] = [];
  try {
    const info = await consumer.info(true);
    let left = info.num_pending;
    if (left === 0) return entries;
    const messages = await consumer.fetch({ max_messages: left, expires: 2000 });
    for await (const message of messages) {
      // Anyone may publish to the subject: what does not parse is skipped, not trusted.
      const parsed = historyBatchSchema.safeParse(safeJson(message.string()));
      if (parsed.success) entries.push(...parsed.data.entries);
      left -= 1;
      if (left <= 0) break;
    }
    return entries;
  } finally {
    // Left alone, the server keeps an ordered consumer for minutes after its last read.
    await consumer.delete().catch(() => {});
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
