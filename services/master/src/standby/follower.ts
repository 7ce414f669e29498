// What a standby does with the state: follows the change log into its own copy, answers reads from
// it and checkpoints it, so that a takeover starts from memory rather than from Redis.
import { subjects, standbyStatus } from "@corral/contracts";
import { serveRpc, type ChangeLogReader, type CheckpointStore, type LogEntry, type TakenCheckpoint, type Logger, type NatsConnection, type Subscription } from "@corral/kit";
import { CellState } from "../state/cell-state.js";
import { applyStoredChanges, stateOfRecords } from "../state/stored-fields.js";
import { queryJobs } from "../jobs/job-query.js";

/**
 * A standby's copy of the cell: the latest checkpoint plus the log after it, then every change log entry
 * after it, applied as it is committed. A standby that wins the lease reads the log to
 * its end and leads from this copy at once, and meanwhile answers read-only queries.
 */
export class StateFollower {
  state = new CellState();
  /** the stored records as of `position`, as the log wrote them: a checkpoint is these, encoded */
  private records = new Map<string, Buffer>();
  private position = "0-0";
  private appliedAt = 0;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private reads: Subscription | undefined;

  constructor(
    private readonly checkpoints: CheckpointStore,
    private readonly reader: ChangeLogReader,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    await this.loadSnapshot();
    this.loop = this.follow();
    this.log.info({ jobs: this.state.jobs.size, position: this.position }, "standing by: following the change log");
  }

  /** Answers `corral.<cell>.read.status` in the standbys' queue group while following. */
  serveReads(nc: NatsConnection, cell: string, replica: string): void {
    this.reads = serveRpc(
      nc,
      subjects.read(cell, "status"),
      standbyStatus,
      cell,
      this.log,
      (query) => ({ ...queryJobs(this.state, query), replica, position: this.position, ageMs: Date.now() - this.appliedAt }),
      { queue: "standbys" },
    );
  }

  /** A checkpoint of the copy as followed so far: nothing is read back from Redis or replayed. */
  takeCheckpoint(): Promise<TakenCheckpoint | undefined> {
    return this.checkpoints.takeOf(this.records, this.position);
  }

  /** Stops following and hands over the state, complete up to the end of the log. */
  async catchUpAndStop(): Promise<CellState> {
    this.stopped = true;
    this.reads?.unsubscribe();
    await this.loop;
    for (;;) {
      const entries = await this.readUntrimmed({ count: 10_000 });
      if (entries === undefined) continue; // reloaded from the checkpoint: read on from there
      if (entries.length === 0) break;
      this.apply(entries);
    }
    this.state.clearDirty();
    return this.state;
  }

  /**
   * The entries after this copy's position, or undefined when the log was trimmed past it
   * (then the copy is reloaded from the checkpoint). The trim is checked after the read: the
   * checkpoint is stored and the log trimmed in one step, so a trim that cost this read
   * entries is visible by the time its reply is here, and a check before it could miss one.
   */
  private async readUntrimmed(options: { blockMs?: number; count?: number }) {
    const from = this.position;
    const entries = await this.reader.read(from, options);
    if (!(await this.checkpoints.trimmedPast(from))) return entries;
    this.log.warn({ position: from }, "change log was trimmed past this standby; reloading the state from the checkpoint");
    await this.loadSnapshot();
    return undefined;
  }

  private async loadSnapshot(): Promise<void> {
    const recovered = await this.checkpoints.recover();
    this.state = stateOfRecords(recovered.records);
    this.records = new Map([...recovered.records].map(([field, bytes]) => [field, ownCopy(bytes)]));
    this.position = recovered.position;
    this.appliedAt = Date.now();
  }

  /**
   * Only each field's last value in the batch is applied: a task changes several times in a
   * read's worth of entries (assigned, then running), and decoding is the bulk of following. The state after the batch is the same as applying every entry in order.
   */
  private apply(entries: readonly LogEntry[]): void {
    const last = new Map<string, Buffer | undefined>();
    for (const entry of entries) {
      for (const [field, bytes] of entry.puts) {
        last.delete(field); // keeps the map in the order fields last changed
        last.set(field, bytes);
      }
      for (const field of entry.deletes) {
        last.delete(field);
        last.set(field, undefined);
      }
    }
    applyStoredChanges(this.state, last);
    for (const [field, bytes] of last) {
      if (bytes === undefined) this.records.delete(field);
      else this.records.set(field, ownCopy(bytes));
    }
    const end = entries[entries.length - 1];
    if (end !== undefined) this.position = end.id;
    this.state.clearDirty();
    this.appliedAt = Date.now();
  }

  private async follow(): Promise<void> {
    while (!this.stopped) {
      try {
        const entries = await this.readUntrimmed({ blockMs: 250 });
        if (entries !== undefined) this.apply(entries);
      } catch (error) {
        if (this.stopped) return;
        this.log.warn({ err: (error as Error).message }, "following the change log failed; retrying");
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }
}

/**
 * The bytes in a buffer of their own: what Redis replies and checkpoints decode to are views
 * into much larger buffers, and a record kept for hours would keep the whole of one alive.
 */
function ownCopy(bytes: Buffer): Buffer {
  const copy = Buffer.allocUnsafeSlow(bytes.length);
  bytes.copy(copy);
  return copy;
}
