import { DeliverPolicy } from "@nats-io/jetstream";
import { nanos, type NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "../logger.js";
import { ensureKeptStream } from "./kept-stream.js";
import { safeJson } from "../safe-json.js";
import { readStreamOnce } from "./stream-reads.js";
import { HISTORY_MESSAGES_PER_JOB, historyBatchSchema, historyStream, subjects, type HistoryEntry } from "@corral/contracts";

const HISTORY_MAX_AGE_MS = 7 * 24 * 60 * 60_000;

/**
 * The cell's job histories: a JetStream stream with a subject per job, keeping each job's
 * last HISTORY_MESSAGES_PER_JOB messages for a week. Published by the leader, read by anyone.
 */
export async function ensureHistoryStream(nc: NatsConnection, cell: string, replicas: number, log?: Logger): Promise<void> {
  await ensureKeptStream(nc, { name: historyStream(cell), subjects: [subjects.jobHistoryAll(cell)], max_msgs_per_subject: HISTORY_MESSAGES_PER_JOB, max_age: nanos(HISTORY_MAX_AGE_MS) }, replicas, log);
}

/** A job's history, oldest first (what the stream still keeps of it). */
export async function readJobHistory(nc: NatsConnection, cell: string, jobId: string): Promise<HistoryEntry[]> {
  // One subject as a string: nats-server 2.9 has filter_subject; a list needs 2.10.
  const { items } = await readStreamOnce(nc, historyStream(cell), { filter_subjects: subjects.jobHistory(cell, jobId), deliver_policy: DeliverPolicy.All }, Number.MAX_SAFE_INTEGER, (text) => {
    const parsed = historyBatchSchema.safeParse(safeJson(text));
    return parsed.success ? parsed.data.entries : undefined;
  });
  return items;
}
