import type { KV } from "@nats-io/kv";
import { bnsBucket, bnsRecordSchema, BNS_DOMAIN, jobId, taskId, type BnsRecord, type BnsTask } from "@corral/contracts";
import { followKv, openKvBucket, safeJson, type Logger, type NatsConnection } from "@corral/kit";

/** What a name resolves to: tasks with an address and their own names (SRV targets), and the job's record. */
export interface Resolution {
  tasks: (BnsTask & { host: string; target: string })[];
  record: BnsRecord;
}

/** Anything that answers names: one cell's table, or every cell's of a federation. */
export interface NameResolver {
  resolve(name: string): Resolution | undefined;
}

function withTarget(record: BnsRecord, task: BnsTask & { host: string }): BnsTask & { host: string; target: string } {
  return { ...task, target: `${taskId(task.index, jobId(record.job, record.user, record.cell))}.${BNS_DOMAIN}` };
}

/**
 * The cell's names as the leader publishes them, kept current by watching the KV bucket.
 * `<index>.<job>.<user>.<cell>.corral` is one task (while it runs); `<job>.<user>.<cell>.corral`
 * is the job's healthy tasks.
 */
export class NameTable implements NameResolver {
  /**
   * Each name's record as the bucket holds it, parsed when a lookup first needs it: the
   * leader rewrites a job's record as its tasks start (thousands a second in a busy cell),
   * and most versions are never looked up. Null: it did not parse.
   */
  private readonly records = new Map<string, { text: string; parsed?: BnsRecord | null }>();
  private stopWatching: (() => void) | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly cell: string,
    private readonly log: Logger,
    /** copies JetStream keeps of the names bucket, should this gateway be the first to open it */
    private readonly jsReplicas: number,
  ) {}

  async start(): Promise<void> {
    const kv: KV = await openKvBucket(this.nc, bnsBucket(this.cell), { history: 1, replicas: this.jsReplicas }, this.log);
    // A reopened watch replays the bucket, so what it missed meanwhile is caught up.
    this.stopWatching = followKv(
      () => kv.watch(),
      (entry) => {
        if (entry.operation !== "PUT") this.records.delete(entry.key);
        else this.records.set(entry.key, { text: entry.string() });
      },
      this.log,
      bnsBucket(this.cell),
    );
  }

  stop(): void {
    this.stopWatching?.();
  }

  /** A name in the cell's domain, or undefined: unknown names, other cells and other domains alike. */
  resolve(name: string): Resolution | undefined {
    const lower = name.toLowerCase().replace(/\.$/, "");
    const suffix = `.${this.cell}.${BNS_DOMAIN}`;
    if (!lower.endsWith(suffix)) return undefined;
    const job = this.record(lower);
    if (job !== undefined) return { record: job, tasks: job.healthy.map((index) => job.tasks[index]).filter(hasHost).map((task) => withTarget(job, task)) };
    const dot = lower.indexOf(".");
    const record = this.record(lower.slice(dot + 1));
    const index = Number(lower.slice(0, dot));
    if (record === undefined || !Number.isInteger(index)) return undefined;
    const task = record.tasks[index];
    return { record, tasks: task !== undefined && task.state === "running" && hasHost(task) ? [withTarget(record, task)] : [] };
  }

  /** The bucket is outside input: a record that does not parse is dropped, not trusted. */
  private record(key: string): BnsRecord | undefined {
    const entry = this.records.get(key);
    if (entry === undefined) return undefined;
    if (entry.parsed === undefined) {
      const parsed = bnsRecordSchema.safeParse(safeJson(entry.text));
      entry.parsed = parsed.success ? parsed.data : null;
      if (!parsed.success) this.log.warn({ key }, "ignored a name record that does not parse");
    }
    return entry.parsed ?? undefined;
  }
}

function hasHost(task: BnsTask | undefined): task is BnsTask & { host: string } {
  return task?.host !== undefined;
}
