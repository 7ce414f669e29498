import { subjects, standbyStatus } from "@corral/contracts";
import { compareLogIds, serveRpc, type ChangeLogReader, type FencedStore, type Logger, type NatsConnection, type Subscription } from "@corral/kit";
import { CellState } from "./cell-state.js";
import { applyStoredField, SUBMISSION_FIELD_PREFIX } from "./records.js";
import { jobView } from "./views.js";

/**
 * A standby's copy of the cell: the latest state from Redis, then every change log entry
 * after it, applied as it is committed. A standby that wins the lease reads the log to
 * its end and leads from this copy at once, and meanwhile answers read-only queries.
 */
export class StateFollower {
  readonly state = new CellState();
  private position = "0-0";
  private appliedAt = 0;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private reads: Subscription | undefined;

  constructor(
    private readonly store: FencedStore,
    private readonly reader: ChangeLogReader,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    await this.loadSnapshot();
    this.loop = this.follow();
  }

  /** Answers `corral.<cell>.read.status` in the standbys' queue group while following. */
  serveReads(nc: NatsConnection, cell: string, replica: string): void {
    this.reads = serveRpc(
      nc,
      subjects.read(cell, "status"),
      standbyStatus,
      cell,
      this.log,
      ({ job, user }) => {
        const jobs = job !== undefined ? [this.state.jobs.get(job)].filter((j) => j !== undefined) : [...this.state.jobs.values()].filter((j) => user === undefined || j.user === user);
        return { jobs: jobs.map((j) => jobView(j, this.state)), replica, position: this.position, ageMs: Date.now() - this.appliedAt };
      },
      { queue: "standbys" },
    );
  }

  /** Stops following and hands over the state, complete up to the end of the log. */
  async catchUpAndStop(): Promise<CellState> {
    this.stopped = true;
    this.reads?.unsubscribe();
    await this.loop;
    // If entries this copy never read were trimmed meanwhile, the log cannot complete it: start from the state.
    if (await this.trimmedPastPosition()) await this.loadSnapshot();
    for (;;) {
      const entries = await this.reader.read(this.position, { count: 10_000 });
      if (entries.length === 0) break;
      this.apply(entries);
    }
    this.state.clearDirty();
    return this.state;
  }

  private async trimmedPastPosition(): Promise<boolean> {
    const first = await this.store.firstLogId();
    return first !== undefined && this.position !== "0-0" && compareLogIds(first, this.position) > 0;
  }

  private async loadSnapshot(): Promise<void> {
    const snapshot = await this.store.snapshot();
    for (const id of [...this.state.jobs.keys()]) this.state.removeJob(id);
    this.state.submissions.clear();
    for (const [field, bytes] of snapshot.state) applyStoredField(this.state, field, bytes);
    this.state.clearDirty();
    this.position = snapshot.position;
    this.appliedAt = Date.now();
  }

  private apply(entries: readonly { id: string; puts: [string, Buffer][]; deletes: string[] }[]): void {
    for (const entry of entries) {
      for (const [field, bytes] of entry.puts) applyStoredField(this.state, field, bytes);
      for (const field of entry.deletes) {
        if (field.startsWith(SUBMISSION_FIELD_PREFIX)) this.state.submissions.delete(field.slice(SUBMISSION_FIELD_PREFIX.length));
        else this.state.removeJob(field);
      }
      this.position = entry.id;
    }
    this.state.clearDirty();
    this.appliedAt = Date.now();
  }

  private async follow(): Promise<void> {
    while (!this.stopped) {
      try {
        // Entries trimmed from the log before this copy read them would be lost: start again from a snapshot.
        if (await this.trimmedPastPosition()) {
          this.log.warn({ position: this.position }, "change log was trimmed past this standby; reloading the state");
          await this.loadSnapshot();
        }
        const entries = await this.reader.read(this.position, { blockMs: 250 });
        this.apply(entries);
      } catch (error) {
        if (this.stopped) return;
        this.log.warn({ err: (error as Error).message }, "following the change log failed; retrying");
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }
}

