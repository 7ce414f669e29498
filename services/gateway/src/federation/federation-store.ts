import type { KV } from "@nats-io/kv";
import { z } from "zod";
import { CorralError, FEDERATION_BUCKET, federatedJobRecordSchema, type FederatedJobRecord } from "@corral/contracts";
import { openKvBucket, safeJson, type Logger, type NatsConnection } from "@corral/kit";

const LEASE_KEY = "reconciler";
const JOB_PREFIX = "job.";

const leaseSchema = z.object({ holder: z.string(), until: z.number() });

/** A record and the KV revision it was read at: what a compare-and-set write must name. */
export interface Versioned<T> {
  value: T;
  revision: number;
}

/** KV keys allow letters, digits, '-', '_', '/', '=' and '.': a job id is safe as it is. */
function keyOf(id: string): string {
  return `${JOB_PREFIX}${id}`;
}

/**
 * Federated jobs in a JetStream KV bucket shared by every gateway. Every write names the
 * revision it read (compare-and-set), so two gateways can never overwrite each other's
 * decision unseen; and a gateway killed between two steps leaves a record another can
 * carry on from.
 */
export class FederationStore {
  /** Every record's id and latest revision, kept by one long-lived watch (listing keys each pass would leave a consumer behind each time). */
  private readonly known = new Map<string, number>();
  private stopWatching: (() => void) | undefined;
  private closed = false;

  private constructor(
    private readonly kv: KV,
    private readonly log: Logger,
  ) {}

  static async open(nc: NatsConnection, log: Logger, replicas: number): Promise<FederationStore> {
    // File storage: the records outlive a nats-server restart, as acknowledged work must.
    const kv = await openKvBucket(nc, FEDERATION_BUCKET, { history: 1, storage: "file", replicas }, log);
    const store = new FederationStore(kv, log);
    await store.watch();
    return store;
  }

  /**
   * Follows the bucket's job keys; resolves once the records there now have been seen (the
   * last comes with delta 0; an empty bucket sends nothing, so a second of silence counts
   * too). A watch that ends is started again, and `known` rebuilt from its replay.
   */
  private async watch(): Promise<void> {
    let markCaughtUp: () => void = () => {};
    const caughtUp = new Promise<void>((resolve) => (markCaughtUp = resolve));
    let heard = false;
    setTimeout(() => {
      if (!heard) markCaughtUp();
    }, 1000).unref();
    const follow = async (): Promise<void> => {
      const watcher = await this.kv.watch({ key: `${JOB_PREFIX}>` });
      this.stopWatching = () => watcher.stop();
      for await (const entry of watcher) {
        heard = true;
        const id = entry.key.slice(JOB_PREFIX.length);
        if (entry.operation === "PUT") this.known.set(id, Math.max(entry.revision, this.known.get(id) ?? 0));
        else this.known.delete(id);
        if (entry.delta === 0) markCaughtUp();
      }
    };
    const keepFollowing = async (): Promise<void> => {
      while (!this.closed) {
        try {
          await follow();
        } catch (error) {
          this.log.error({ err: (error as Error).message }, "the federation bucket's watch failed; watching again");
        }
        if (this.closed) return;
        this.log.warn("the federation bucket's watch ended; watching again");
        this.known.clear();
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    };
    void keepFollowing();
    await caughtUp;
  }

  close(): void {
    this.closed = true;
    this.stopWatching?.();
  }

  async get(id: string): Promise<Versioned<FederatedJobRecord> | undefined> {
    const entry = await this.kv.get(keyOf(id));
    if (entry === null || entry.operation !== "PUT") return undefined;
    const parsed = federatedJobRecordSchema.safeParse(safeJson(entry.string()));
    // The bucket is shared: a record another version or a stray client wrote is not trusted,
    // nor taken for no record at all (the name is held; acting as if free would clobber it).
    if (!parsed.success || parsed.data.id !== id) {
      const why = parsed.success ? `it is under the key of ${id} but says ${parsed.data.id}` : parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ");
      throw new CorralError("internal", `the federated job record of ${id} cannot be read (${why.slice(0, 500)}); a gateway of another version may have written it. Remove it with: nats kv del ${FEDERATION_BUCKET} ${keyOf(id)}`);
    }
    return { value: parsed.data, revision: entry.revision };
  }

  async list(): Promise<Versioned<FederatedJobRecord>[]> {
    const ids = [...this.known.keys()];
    const records = await Promise.all(
      ids.map((id) =>
        this.get(id).catch((error: unknown) => {
          this.log.warn({ job: id, err: (error as Error).message }, "a federated job record does not parse; skipped");
          return undefined;
        }),
      ),
    );
    return records.filter((record) => record !== undefined);
  }

  /** Writes a new record; false if one exists already (someone else created it first). */
  async create(record: FederatedJobRecord): Promise<number | undefined> {
    try {
      const revision = await this.kv.create(keyOf(record.id), JSON.stringify(record));
      this.known.set(record.id, revision); // seen at once here; the watch will say the same
      return revision;
    } catch (error) {
      if (isWrongRevision(error)) return undefined;
      throw error;
    }
  }

  /** Writes the record if nobody wrote it since `revision`; the new revision, or undefined if someone did. */
  async update(record: FederatedJobRecord, revision: number): Promise<number | undefined> {
    try {
      const next = await this.kv.update(keyOf(record.id), JSON.stringify(record), revision);
      this.known.set(record.id, next);
      return next;
    } catch (error) {
      if (isWrongRevision(error)) return undefined;
      throw error;
    }
  }

  /** Removes the record if nobody wrote it since `revision`; whether it did. */
  async remove(id: string, revision: number): Promise<boolean> {
    try {
      await this.kv.delete(keyOf(id), { previousSeq: revision });
      this.known.delete(id);
      return true;
    } catch (error) {
      if (isWrongRevision(error)) return false;
      throw error;
    }
  }

  /**
   * Read, change, write back with compare-and-set, again from a fresh read if another
   * writer came first. `change` returns undefined to write nothing.
   */
  async modify(id: string, change: (record: FederatedJobRecord) => FederatedJobRecord | undefined): Promise<FederatedJobRecord | undefined> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const current = await this.get(id);
      if (current === undefined) return undefined;
      const next = change(structuredClone(current.value));
      if (next === undefined) return current.value;
      if ((await this.update(next, current.revision)) !== undefined) return next;
    }
    throw new CorralError("unavailable", `federated job ${id} is being changed by other gateways too often to write; retry`);
  }

  /**
   * The reconciler's lease: only its holder acts on cells, so two gateways never send the
   * same cell contradicting requests. A holder renews before `until`; a lease past it may
   * be taken. Times are this host's clock (gateways of one federation share hosts' NTP).
   */
  async holdLease(holder: string, ttlMs: number, now = Date.now()): Promise<boolean> {
    const entry = await this.kv.get(LEASE_KEY);
    const lease = entry === null || entry.operation !== "PUT" ? undefined : leaseSchema.safeParse(safeJson(entry.string())).data;
    if (lease !== undefined && lease.holder !== holder && lease.until > now) return false;
    const value = JSON.stringify({ holder, until: now + ttlMs });
    try {
      if (entry === null) await this.kv.create(LEASE_KEY, value);
      else await this.kv.update(LEASE_KEY, value, entry.revision);
      return true;
    } catch (error) {
      if (isWrongRevision(error)) return false;
      throw error;
    }
  }

  async leaseHolder(now = Date.now()): Promise<string | undefined> {
    const entry = await this.kv.get(LEASE_KEY);
    if (entry === null || entry.operation !== "PUT") return undefined;
    const lease = leaseSchema.safeParse(safeJson(entry.string())).data;
    return lease !== undefined && lease.until > now ? lease.holder : undefined;
  }
}

function isWrongRevision(error: unknown): boolean {
  const message = String((error as Error)?.message ?? error);
  return /wrong last sequence|key exists|10071/i.test(message);
}
