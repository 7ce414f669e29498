// One leadership term: everything that starts when this replica wins an epoch and stops when it
// loses it, so that nothing of a term outlives it.
import type { QuotaTable } from "@corral/scheduling";
import { HTTP_SUBMISSION_PREFIX, leaderServing, MachineDigests, subjects, type CorralError } from "@corral/contracts";
import { ensureHistoryStream, publishEvent, type CheckpointStore, type FencedStore, type LeaderSigner, type Logger, type NatsConnection, type Subscription } from "@corral/kit";
import { serveApi } from "../jobs/api-handlers.js";
import type { CellState } from "../state/cell-state.js";
import { startAllocKeeper } from "../allocs/alloc-keeper.js";
import { CommandBatch } from "./commands.js";
import { NamePublisher } from "./name-publisher.js";
import { Reclamation } from "../scheduling/reclamation.js";
import { FullHeartbeatRequests } from "../heartbeats/heartbeat-requests.js";
import { CommitQueue } from "./commit-queue.js";
import type { LeaderContext, UserLimits } from "./leader-context.js";
import { subscribeNodes, sweepSilentMachines, sweepTickMs } from "../heartbeats/node-handlers.js";
import { stateOfRecords } from "../state/stored-fields.js";
import { consumeSubmissions } from "../jobs/submission-stream.js";
import { serveScheduling, startBackoffWaker } from "../scheduling/scheduling-handlers.js";
import { startRollouts } from "../jobs/rollouts.js";
import { serveWhyPending } from "../scheduling/why-handler.js";
import { servePlans } from "../scheduling/plan-handler.js";

/** A retry of an API submission comes within seconds; an hour is plenty. */
const API_OUTCOME_RETENTION_MS = 60 * 60_000;
/** Stream producers may replay much later (a CI pipeline re-run): a week. */
const STREAM_OUTCOME_RETENTION_MS = 7 * 24 * 60 * 60_000;
/** A consumer that could not be set up is tried again after this long times the attempt, at most the max. */
const SUBMISSION_RETRY_MS = 500;
const SUBMISSION_RETRY_MAX_MS = 5000;

export interface LeaderOptions {
  cell: string;
  name: string;
  epoch: number;
  /** signs the term for the machines, which take a new epoch only with its signature */
  signer: LeaderSigner;
  nc: NatsConnection;
  store: FencedStore;
  checkpoints: CheckpointStore;
  log: Logger;
  downAfterMs: number;
  /** how fast an unused reservation decays toward usage (resource reclamation) */
  reservationHalfLifeMs: number;
  policy: "e-pvm" | "best-fit" | "hybrid";
  quota: QuotaTable | undefined;
  userLimits: UserLimits;
  /** copies JetStream keeps of the streams and buckets the leader creates (--js-replicas) */
  jsReplicas: number;
  /** the state as a standby followed it, complete to the end of the log; recovered from Redis when absent */
  initialState?: CellState;
  /** called when the fence refuses a write: another master leads now */
  onDeposed: (error: CorralError) => void;
  /** told how long each commit to Redis took, in seconds (metrics) */
  observeCommitSeconds?: (seconds: number) => void;
}

/**
 * One leadership term: loads the cell's state from Redis, serves the leader's subjects,
 * and watches machine liveness, until `stop()`.
 */
export class LeaderTerm {
  private subscriptions: Subscription[] = [];
  private sweepTimer: NodeJS.Timeout | undefined;
  private forgetTimer: NodeJS.Timeout | undefined;
  private stopAllocKeeper: (() => void) | undefined;
  private stopBackoffWaker: (() => void) | undefined;
  private stopRollouts: (() => void) | undefined;
  private stopSubmissions: (() => Promise<void>) | undefined;
  private stopped = false;
  private ctx: LeaderContext | undefined;
  /** heartbeats this term, by how they arrived; kept after the term ends, for the replica's metrics */
  readonly heartbeats: LeaderContext["heartbeats"] = { direct: 0, forwarded: 0, aliveReported: 0 };

  constructor(private readonly options: LeaderOptions) {}

  /** The state this term leads from, once it has started; undefined after it stopped. */
  get state(): CellState | undefined {
    return this.ctx?.state;
  }

  async start(): Promise<void> {
    const { cell, epoch, nc, store, log, name, downAfterMs } = this.options;
    // Where a takeover's first moments go, in the "leading the cell" line: failover time is made here.
    const began = performance.now();
    const phases: Record<string, number> = {};
    const phase = (label: string, since: number) => (phases[label] = Math.round(performance.now() - since));
    const state = this.options.initialState ?? stateOfRecords((await this.options.checkpoints.recover()).records);
    const loaded = state;
    // A machine's liveness is soft state: every machine the state knows, stored or known
    // only from its tasks, gets one down-after period from now to be heard from before its
    // tasks are written off.
    const now = Date.now();
    for (const node of state.nodes.values()) node.lastHeartbeat = now;
    // From the placement index, not from every task: a million tasks sit on 50,000 machines,
    // and walking the tasks was most of a takeover's second at that size.
    for (const node of state.placedNodes()) {
      if (state.nodes.has(node)) continue;
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
        awaitingFirstHeartbeat: true,
      });
    }
    const names = new NamePublisher(nc, cell, state, log, this.options.jsReplicas);
    const term = { epoch, signature: this.options.signer.signTerm(cell, epoch) };
    const commits = new CommitQueue(
      store,
      epoch,
      state,
      log,
      this.options.onDeposed,
      (ids) => {
        for (const id of ids) names.markDirty(id);
      },
      this.options.observeCommitSeconds,
      (batches) => CommandBatch.sendAll(batches, nc, cell, term, loaded.pendingCount),
    );
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
      policy: this.options.policy,
      quota: this.options.quota,
      userLimits: this.options.userLimits,
      jsReplicas: this.options.jsReplicas,
      nominations: new Map(),
      lastPreemptionAt: 0,
      termStartedAt: Date.now(),
      heartbeats: this.heartbeats,
      digests: new MachineDigests(),
      fullHeartbeats: new FullHeartbeatRequests(nc, cell),
      reclamation: new Reclamation(this.options.reservationHalfLifeMs),
      names,
      commitAndSend: (batch: CommandBatch) => commits.commit(batch),
    };
    this.ctx = ctx;
    phase("prepareMs", began);
    this.subscriptions = [...serveApi(ctx), serveWhyPending(ctx), servePlans(ctx), ...subscribeNodes(ctx), ...serveScheduling(ctx)];
    // Callers whose requests went to the dead leader send them again now, not after their timeout.
    publishEvent(nc, subjects.leaderServing(cell), leaderServing, cell, { replica: name, epoch }, epoch);
    this.sweepTimer = setInterval(() => sweepSilentMachines(ctx), sweepTickMs(downAfterMs));
    this.stopAllocKeeper = startAllocKeeper(ctx);
    names.start();
    this.stopBackoffWaker = startBackoffWaker(ctx);
    this.stopRollouts = startRollouts(ctx);
    this.forgetTimer = setInterval(() => {
      if (state.forgetSubmissions((id) => (id.startsWith(HTTP_SUBMISSION_PREFIX) ? API_OUTCOME_RETENTION_MS : STREAM_OUTCOME_RETENTION_MS)) > 0) {
        ctx.commits.commit().catch(() => {}); // retried with the next commit if this one fails
      }
    }, 60_000);
    const historyAt = performance.now();
    // Without the history stream, histories are published but not kept; leading goes on.
    await ensureHistoryStream(nc, cell, this.options.jsReplicas, log).catch((error: unknown) => log.warn({ err: (error as Error).message }, "could not create the job history stream"));
    phase("historyStreamMs", historyAt);
    const submissionsAt = performance.now();
    // A JetStream that does not answer in time (a busy NATS) must not end the term: HTTP
    // submissions, heartbeats and plans need no consumer, and stepping down for it would
    // only start another election on the same busy NATS. The stream keeps what is published
    // meanwhile.
    if (!(await this.startConsumingSubmissions(ctx, 1))) void this.keepTryingSubmissions(ctx);
    phase("submissionsMs", submissionsAt);
    log.info({ jobs: state.jobs.size, machines: state.nodes.size, ...phases, from: this.options.initialState === undefined ? "recovered from the checkpoint and log" : "followed change log" }, "leading the cell");
    const wake = new CommandBatch();
    wake.wakeSchedulers();
    // Waking the schedulers is a courtesy: a failed commit is logged by the queue, and the next change wakes them.
    await ctx.commitAndSend(wake).catch(() => {});
  }

  /** Starts consuming the submission stream; false (logged) when JetStream did not answer. */
  private async startConsumingSubmissions(ctx: LeaderContext, attempt: number): Promise<boolean> {
    try {
      const stopSubmissions = await consumeSubmissions(ctx);
      // The term may have ended while the consumer was being set up: do not leave it running.
      if (this.stopped) await stopSubmissions().catch(() => {});
      else this.stopSubmissions = stopSubmissions;
      return true;
    } catch (error) {
      ctx.log.warn({ err: (error as Error).message, attempt }, "could not consume the submission stream yet; leading without it and trying again");
      return false;
    }
  }

  private async keepTryingSubmissions(ctx: LeaderContext): Promise<void> {
    for (let attempt = 2; !this.stopped; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(SUBMISSION_RETRY_MAX_MS, SUBMISSION_RETRY_MS * attempt)));
      if (this.stopped || (await this.startConsumingSubmissions(ctx, attempt))) return;
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.sweepTimer !== undefined) clearInterval(this.sweepTimer);
    if (this.forgetTimer !== undefined) clearInterval(this.forgetTimer);
    this.stopAllocKeeper?.();
    this.ctx?.names.stop();
    this.stopBackoffWaker?.();
    this.stopRollouts?.();
    void this.stopSubmissions?.().catch(() => {});
    this.stopSubmissions = undefined;
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    this.subscriptions = [];
    this.ctx = undefined;
  }
}
