import { DeliverPolicy, jetstream } from "@nats-io/jetstream";
import { nanos, type NatsConnection } from "@nats-io/transport-node";
import { auditRecordSchema, auditStream, subjects, UNKNOWN_CALLER, type AuditRecord } from "@corral/contracts";
import type { Logger } from "../logger.js";
import { ensureKeptStream } from "./kept-stream.js";
import { safeJson } from "../safe-json.js";
import { readStreamOnce } from "./stream-reads.js";

const KEEP_FOR_MS = 90 * 24 * 60 * 60_000;
const KEEP_BYTES = 1024 ** 3;

/** The cell's audit stream: a subject per user, kept 90 days (at most 1 GiB, the oldest going first). */
export async function ensureAuditStream(nc: NatsConnection, cell: string, replicas: number, log?: Logger): Promise<void> {
  await ensureKeptStream(nc, { name: auditStream(cell), subjects: [subjects.auditAll(cell)], max_age: nanos(KEEP_FOR_MS), max_bytes: KEEP_BYTES }, replicas, log);
}

/** Stored once JetStream acknowledges it. */
export async function writeAuditRecord(nc: NatsConnection, cell: string, record: AuditRecord): Promise<void> {
  await jetstream(nc).publish(subjects.audit(cell, record.user ?? UNKNOWN_CALLER), JSON.stringify(record));
}

/** The records since a time, oldest first, of one user or of all; `more` when `limit` cut the answer short. */
export async function readAuditRecords(nc: NatsConnection, cell: string, query: { sinceMs: number; user?: string; limit: number }): Promise<{ records: AuditRecord[]; more: boolean }> {
  const { items, more } = await readStreamOnce(
    nc,
    auditStream(cell),
    {
      filter_subjects: query.user === undefined ? subjects.auditAll(cell) : subjects.audit(cell, query.user),
      deliver_policy: DeliverPolicy.StartTime,
      opt_start_time: new Date(Date.now() - query.sinceMs).toISOString(),
    },
    query.limit,
    (text) => {
      const parsed = auditRecordSchema.safeParse(safeJson(text));
      return parsed.success ? [parsed.data] : undefined;
    },
  );
  return { records: items, more };
}
