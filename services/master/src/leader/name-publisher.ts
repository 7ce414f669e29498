// The cell's names (BNS), rewritten by the leader after each commit that changed a job: names
// follow durable state, never a change a failed commit could still lose.
import type { KV } from "@nats-io/kv";
import { bnsBucket, bnsJobName, type BnsRecord, type BnsTask } from "@corral/contracts";
import { openKvBucket, type Logger, type NatsConnection } from "@corral/kit";
import { taskRevisionOf, type JobRecord } from "@corral/state";
import type { CellState } from "../state/cell-state.js";

/**
 * Names change in bursts (a job's tasks start together): at most one write per job per
 * tick. A second is well within what DNS clients cache (5 s), and each write is a
 * JetStream round trip the leader pays for.
 */
const FLUSH_MS = 1000;
/** Writes in flight at once, so a resync of a big cell does not flood JetStream. */
const CONCURRENT_WRITES = 64;
/**
 * A new term rewrites every name (the last leader may have died before writing some), but
 * spread over many ticks: nearly all are already right, and a failover's first seconds
 * belong to the work the new leader was elected for.
 */
const RESYNC_PER_FLUSH = 500;

/** What a job's name says now: where each task is, whether it is well, and which tasks the name resolves to. */
export function bnsRecordOf(job: JobRecord, state: CellState, now = Date.now()): BnsRecord {
  const tasks: BnsTask[] = job.tasks.map((task) => {
    const { node, ports } = task.lifecycle.context;
    const host = node === undefined ? undefined : state.nodes.get(node)?.host;
    const running = task.lifecycle.state === "running";
    return {
      index: task.index,
      state: task.lifecycle.state,
      ...(node === undefined ? {} : { node }),
      ...(host === undefined || host === "unknown" ? {} : { host }),
      ports,
      ...(job.spec.health === undefined || !running ? {} : { health: task.health ?? "unknown" }),
    };
  });
  // A task a rollout started is listed once its check has passed, not before: until then the
  // old tasks serve. (Elsewhere a verdict not yet heard counts as well, as after a failover.)
  const rolling = job.rollout?.state === "running" && job.spec.health !== undefined ? job.rollout.revision : undefined;
  const listed = (task: BnsTask) =>
    task.state === "running" && task.health !== "unhealthy" && task.host !== undefined && !(rolling !== undefined && task.health === "unknown" && taskRevisionOf(job.tasks[task.index]!) >= rolling);
  return {
    job: job.name,
    user: job.user,
    cell: job.cell,
    size: job.spec.replicas,
    healthy: tasks.filter(listed).map((task) => task.index),
    tasks,
    updatedAt: now,
  };
}

/**
 * The leader's writer of the cell's names (Borg writes them to Chubby): after each commit
 * that changed a job, and when a task's health changes, the job's record is put into the
 * cell's KV bucket; a job that is gone or wholly dead loses its name. A new term writes
 * every job once, a slice per tick, and removes names of jobs that no longer exist.
 */
export class NamePublisher {
  private readonly dirty = new Set<string>();
  /** jobs still to rewrite once this term, a slice per flush */
  private resync: string[] = [];
  private kv: Promise<KV> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private flushing = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly cell: string,
    private readonly state: CellState,
    private readonly log: Logger,
    private readonly jsReplicas: number,
  ) {}

  start(): void {
    this.resync = [...this.state.jobs.keys()];
    // Opened at once, so watchers find the bucket even before the first job; a failure is tried again at the next flush.
    this.bucket().catch((error: unknown) => this.log.warn({ err: (error as Error).message }, "could not open the names bucket yet; trying again"));
    this.timer = setInterval(() => void this.flush(), FLUSH_MS);
  }

  /** The bucket, opened on first use and again after a failure (JetStream may be electing). */
  private async bucket(): Promise<KV> {
    this.kv ??= openKvBucket(this.nc, bnsBucket(this.cell), { history: 1, replicas: this.jsReplicas }, this.log).then(
      (kv) => {
        void this.removeStale(kv);
        return kv;
      },
      (error: unknown) => {
        this.kv = undefined;
        throw error;
      },
    );
    return this.kv;
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
  }

  markDirty(jobId: string): void {
    this.dirty.add(jobId);
  }

  private keyOf(job: Pick<JobRecord, "name" | "user" | "cell">): string {
    return bnsJobName(job.name, job.user, job.cell);
  }

  /** Names of jobs this leader does not know: left by a job removed while no leader published. */
  private async removeStale(kv: KV): Promise<void> {
    try {
      const known = new Set([...this.state.jobs.values()].map((job) => this.keyOf(job)));
      for await (const key of await kv.keys()) if (!known.has(key)) await kv.delete(key);
    } catch (error) {
      this.log.warn({ err: (error as Error).message }, "could not remove stale names");
    }
  }

  private async flush(): Promise<void> {
    if (this.flushing) return;
    // Even with nothing to write, a bucket not yet open is tried again: watchers wait for it.
    if (this.kv === undefined && this.dirty.size === 0 && this.resync.length === 0) {
      this.bucket().catch(() => {});
      return;
    }
    for (const id of this.resync.splice(0, RESYNC_PER_FLUSH)) this.dirty.add(id);
    if (this.dirty.size === 0) return;
    this.flushing = true;
    const ids = [...this.dirty];
    this.dirty.clear();
    try {
      const kv = await this.bucket();
      for (let i = 0; i < ids.length; i += CONCURRENT_WRITES) {
        await Promise.all(ids.slice(i, i + CONCURRENT_WRITES).map((id) => this.write(kv, id)));
      }
    } catch (error) {
      for (const id of ids) this.dirty.add(id); // tried again next tick
      this.log.warn({ err: (error as Error).message }, "could not publish names");
    } finally {
      this.flushing = false;
    }
  }

  private async write(kv: KV, id: string): Promise<void> {
    const job = this.state.jobs.get(id);
    if (job === undefined) return;
    const key = this.keyOf(job);
    if (job.tasks.every((task) => task.lifecycle.state === "dead")) {
      await kv.delete(key);
      return;
    }
    await kv.put(key, JSON.stringify(bnsRecordOf(job, this.state)));
  }
}
