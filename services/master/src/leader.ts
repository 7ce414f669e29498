import { HTTP_SUBMISSION_PREFIX, type CorralError } from "@corral/contracts";
import type { FencedStore, Logger, NatsConnection, Subscription } from "@corral/kit";
import { serveApi } from "./api-handlers.js";
import { CellState } from "./cell-state.js";
import { CommandBatch } from "./commands.js";
import { CommitQueue } from "./commit-queue.js";
import type { LeaderContext } from "./leader-context.js";
import { subscribeNodes, sweepSilentMachines } from "./node-handlers.js";
import { applyStoredField } from "./records.js";
import { consumeSubmissions } from "./submission-stream.js";
import { serveScheduling } from "./scheduling-handlers.js";

/** A retry of an API submission comes within seconds; an hour is plenty. */
const API_OUTCOME_RETENTION_MS = 60 * 60_000;
/** Stream producers may replay much later (a CI pipeline re-run): a week. */
const STREAM_OUTCOME_RETENTION_MS = 7 * 24 * 60 * 60_000;

export interface LeaderOptions {
  cell: string;
  name: string;
  epoch: number;
  nc: NatsConnection;
  store: FencedStore;
  log: Logger;
  downAfterMs: number;
  /** the state as a standby followed it, complete to the end of the log; loaded from Redis when absent */
  initialState?: CellState;
  /** called when the fence refuses a write: another master leads now */
  onDeposed: (error: CorralError) => void;
}

/**
 * One leadership term: loads the cell's state from Redis, serves the leader's subjects,
 * and watches machine liveness, until `stop()`.
 */
export class LeaderTerm {
  private subscriptions: Subscription[] = [];
  private sweepTimer: NodeJS.Timeout | undefined;
  private forgetTimer: NodeJS.Timeout | undefined;
  private stopSubmissions: (() => Promise<void>) | undefined;
  private stopped = false;
  private ctx: LeaderContext | undefined;

  constructor(private readonly options: LeaderOptions) {}

  async start(): Promise<void> {
    const { cell, epoch, nc, store, log, name, downAfterMs } = this.options;
    let state = this.options.initialState;
    if (state === undefined) {
      state = new CellState();
      for (const [field, bytes] of await store.loadAll()) applyStoredField(state, field, bytes);
      state.clearDirty(); // loaded, not changed
    }
    const loaded = state;
    // Machines are soft state: a machine that had tasks gets one down-after period from
    // now to heartbeat before its tasks are written off.
    const now = Date.now();
    for (const job of state.jobs.values()) {
      for (const task of job.tasks) {
        const node = task.lifecycle.context.node;
        if (node === undefined || state.nodes.has(node)) continue;
        state.nodes.set(node, {
          name: node,
          host: "unknown",
          pid: 0,
          capacity: { cpu: 0, ram: 0, disk: 0 },
          attributes: {},
          portRange: [1, 1],
          state: "up",
          lastHeartbeat: now,
          epochSeen: 0,
        });
      }
    }
    const commits = new CommitQueue(store, epoch, state, log, this.options.onDeposed);
    const ctx: LeaderContext = {
      cell,
      epoch,
      name,
      nc,
      store,
      state,
      commits,
      log,
      downAfterMs,
      commitAndSend: (batch: CommandBatch) => commits.commit(() => batch.send(nc, cell, epoch, loaded.pendingCount)),
    };
    this.ctx = ctx;
    this.subscriptions = [...serveApi(ctx), ...subscribeNodes(ctx), ...serveScheduling(ctx)];
    this.sweepTimer = setInterval(() => sweepSilentMachines(ctx), Math.max(100, Math.min(500, downAfterMs / 4)));
    this.forgetTimer = setInterval(() => {
      if (state.forgetSubmissions((id) => (id.startsWith(HTTP_SUBMISSION_PREFIX) ? API_OUTCOME_RETENTION_MS : STREAM_OUTCOME_RETENTION_MS)) > 0) {
        ctx.commits.commit().catch(() => {}); // retried with the next commit if this one fails
      }
    }, 60_000);
    const stopSubmissions = await consumeSubmissions(ctx);
    // The term may have ended while the consumer was being set up: do not leave it running.
    if (this.stopped) await stopSubmissions().catch(() => {});
    else this.stopSubmissions = stopSubmissions;
    log.info({ jobs: state.jobs.size, from: this.options.initialState === undefined ? "loaded from Redis" : "followed change log" }, "leading the cell");
    const wake = new CommandBatch();
    wake.wakeSchedulers();
    await ctx.commitAndSend(wake);
  }

  stop(): void {
    this.stopped = true;
    if (this.sweepTimer !== undefined) clearInterval(this.sweepTimer);
    if (this.forgetTimer !== undefined) clearInterval(this.forgetTimer);
    void this.stopSubmissions?.().catch(() => {});
    this.stopSubmissions = undefined;
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    this.subscriptions = [];
    this.ctx = undefined;
  }
}
