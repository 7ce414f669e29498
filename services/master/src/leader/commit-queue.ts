// The one writer of the cell's state: the state's changed records batched into fenced Redis commits,
// so that nothing is acknowledged or sent before it is durable.
import { CorralError } from "@corral/contracts";
import type { FencedStore, Logger } from "@corral/kit";
import type { CellState } from "../state/cell-state.js";
import type { TaskRef } from "../state/task-ref.js";
import type { CommandBatch } from "./commands.js";
import { type JobRecord, encodeJobHead, encodeMachine, encodeSubmission, encodeTaskRecord, MACHINE_FIELD_PREFIX, SUBMISSION_FIELD_PREFIX, taskField, taskFieldsPast } from "@corral/state";

interface Waiter {
  resolve: () => void;
  reject: (error: Error) => void;
  /** sent only once the change is durable: leases and replies must never run ahead of Redis */
  batch: CommandBatch | undefined;
}

/**
 * Batches every state change made during one tick into one fenced Redis commit. Callers
 * wait for the commit that carries their change. Several commits may be in flight: Redis
 * runs one connection's commands in order and each commit writes whole records (a job's
 * head, a record of its tasks: shared/state job-records) as they are now, never a delta,
 * so a later commit never depends on an earlier one's reply (a failed one's records are
 * marked dirty again and written by the next).
 */
/** Pipelined commits: enough to keep Redis busy while the leader batches the next tick. */
const MAX_COMMITS_IN_FLIGHT = 8;

export interface CommitStats {
  commits: number;
  /** jobs whose head or tasks a commit wrote, summed over commits */
  jobsWritten: number;
  totalMs: number;
  maxMs: number;
}

export class CommitQueue {
  readonly stats: CommitStats = { commits: 0, jobsWritten: 0, totalMs: 0, maxMs: 0 };
  private waiters: Waiter[] = [];
  private inFlight = 0;
  private scheduled = false;
  /** how many times a failed flush has put its records back as dirty */
  private failures = 0;
  /**
   * Settles when every flush started so far has settled, with the latest failure among them:
   * the value `failures` took when that flush put its records back (0 for none).
   */
  private tail: Promise<number> = Promise.resolve(0);

  constructor(
    private readonly store: FencedStore,
    private readonly epoch: number,
    private readonly state: CellState,
    private readonly log: Logger,
    private readonly onStaleEpoch: (error: CorralError) => void,
    /** told which jobs each successful commit wrote (the name publisher follows durable state only) */
    private readonly onCommitted: (jobIds: readonly string[]) => void = () => {},
    /** told how long each commit that reached Redis took (the commit latency histogram) */
    private readonly observeSeconds: (seconds: number) => void = () => {},
    /** sends the batches a commit carried, together, once it is durable */
    private readonly send: (batches: readonly CommandBatch[]) => void = () => {},
  ) {}

  /** Resolves once the state's changes so far are durable, and `batch` (if any) was sent. */
  commit(batch?: CommandBatch): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject, batch });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= MAX_COMMITS_IN_FLIGHT) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.inFlight += 1;
    const waiting = this.waiters;
    this.waiters = [];
    // Records a failed flush puts back after this point are not in this commit.
    const failuresAtTake = this.failures;
    const jobs = this.state.takeDirtyJobs();
    const tasks = this.state.takeDirtyTasks();
    const shrunk = this.state.takeShrunkJobs();
    const written = jobIdsOf(jobs, tasks);
    const nodes = this.state.takeDirtyNodes();
    const submissions = this.state.takeDirtySubmissions();
    const forgotten = this.state.takeForgottenSubmissions();
    // Waiters are answered in flush order, and only once no earlier flush failed after this
    // one took its records: a caller that found its change already made (a retried
    // submission) must not be told "durable" while the commit that carries it is still in
    // flight, or has failed. An earlier failure before the take is no reason: its records
    // were dirty again, so they are in this commit.
    const previous = this.tail;
    let settle!: (latestFailure: number) => void;
    this.tail = new Promise((resolve) => (settle = resolve));
    let ownFailure = 0;
    try {
      try {
        if (jobs.length > 0 || tasks.length > 0 || shrunk.length > 0 || nodes.length > 0 || submissions.length > 0 || forgotten.length > 0) {
          const started = performance.now();
          const puts = [
            ...jobs.map((job) => [job.id, encodeJobHead(job)] as const),
            ...taskRecordsOf(tasks),
            ...submissions.map((outcome) => [`${SUBMISSION_FIELD_PREFIX}${outcome.id}`, encodeSubmission(outcome)] as const),
          ];
          const deletes = forgotten.map((id) => `${SUBMISSION_FIELD_PREFIX}${id}`);
          for (const [id, previousCount] of shrunk) deletes.push(...taskFieldsPast(id, this.state.jobs.get(id)?.tasks.length ?? 0, previousCount));
          for (const node of nodes) {
            // A machine known only from its tasks (never heard from this term) has no shape to store.
            if (node.awaitingFirstHeartbeat === true) deletes.push(`${MACHINE_FIELD_PREFIX}${node.name}`);
            else puts.push([`${MACHINE_FIELD_PREFIX}${node.name}`, encodeMachine(node)]);
          }
          await this.store.commit(this.epoch, { puts, deletes });
          const took = performance.now() - started;
          this.stats.commits += 1;
          this.stats.jobsWritten += written.length;
          this.stats.totalMs += took;
          this.stats.maxMs = Math.max(this.stats.maxMs, took);
          this.observeSeconds(took / 1000);
        }
      } catch (error) {
        // Not written: dirty again at once, so that the next flush carries them.
        for (const job of jobs) this.state.markDirty(job.id);
        for (const ref of tasks) this.state.markTaskDirty(ref.id);
        for (const [id, previousCount] of shrunk) this.state.markJobShrunk(id, previousCount);
        for (const node of nodes) this.state.markNodeDirty(node.name);
        for (const outcome of submissions) this.state.markSubmissionDirty(outcome.id);
        for (const id of forgotten) this.state.markSubmissionForgotten(id);
        this.failures += 1;
        ownFailure = this.failures;
        throw error;
      }
      const latestEarlierFailure = await previous;
      settle(latestEarlierFailure);
      // This commit is durable, but lacks what an earlier one failed to write after this one took its records.
      if (latestEarlierFailure > failuresAtTake) throw new CorralError("unavailable", "an earlier commit failed");
      if (written.length > 0) this.onCommitted(written);
      const sends = waiting.map((waiter) => waiter.batch).filter((sent) => sent !== undefined);
      try {
        if (sends.length > 0) this.send(sends);
      } catch (error) {
        // The change is durable; a failed send is repaired by heartbeat reconciliation.
        this.log.error({ err: (error as Error).message }, "sending after a commit failed");
      }
      for (const waiter of waiting) waiter.resolve();
    } catch (error) {
      // Settled already if the failure was an earlier flush's; settling twice changes nothing.
      settle(Math.max(await previous, ownFailure));
      if (error instanceof CorralError && error.code === "stale_epoch") {
        for (const waiter of waiting) waiter.reject(error);
        this.log.error({ err: error.message }, "commit refused by the fence; stepping down");
        this.onStaleEpoch(error);
      } else {
        const message = (error as Error).message;
        this.log.error({ err: message }, "commit failed");
        const unavailable = new CorralError("unavailable", `the cell's state store did not take the change: ${message}; it was not acknowledged`);
        for (const waiter of waiting) waiter.reject(unavailable);
      }
    } finally {
      this.inFlight -= 1;
      if (this.waiters.length > 0) this.schedule();
    }
  }
}

/** The jobs a commit wrote: those whose head changed and those with a changed task. */
function jobIdsOf(jobs: readonly JobRecord[], tasks: readonly TaskRef[]): string[] {
  const ids = new Set(jobs.map((job) => job.id));
  for (const ref of tasks) ids.add(ref.job.id);
  return [...ids];
}

/** The task records that hold the changed tasks, each written once however many of its tasks changed. */
function taskRecordsOf(tasks: readonly TaskRef[]): [string, Buffer][] {
  const written = new Set<string>();
  const records: [string, Buffer][] = [];
  for (const ref of tasks) {
    const field = taskField(ref.job.id, ref.task.index);
    if (written.has(field)) continue;
    written.add(field);
    records.push(encodeTaskRecord(ref.job, ref.task.index));
  }
  return records;
}
