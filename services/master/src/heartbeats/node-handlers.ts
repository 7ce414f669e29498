// The leader's side of what borglets report: heartbeats (its own share, and those link shards
// forward), task events, and machines that fell silent.
import { heartbeat, linkAlive, linkHeartbeats, nodeFromSubject, subjects, taskEventBatch, type Heartbeat, type HeartbeatTask, type TaskEvent, type HistoryEntry } from "@corral/contracts";
import { serveRpc, subscribeEvents, type Subscription } from "@corral/kit";
import { MACHINE_LOST, type TaskLifecycleEvent } from "@corral/machines";
import { isAlloc } from "../allocs/alloc-sets.js";
import type { NodeRecord } from "../state/cell-state.js";
import type { TaskRef } from "../state/task-ref.js";
import { CommandBatch, leaseFor, revocationFor } from "../leader/commands.js";
import type { LeaderContext } from "../leader/leader-context.js";
import { publishHistory } from "../jobs/job-history.js";
import { heartbeatChangesNothing } from "./heartbeat-match.js";
import { LINK_SHARDS_QUEUE } from "./link-shard.js";
import { noteHealth } from "../state/task-health.js";

/** Heartbeats in a row that may miss a placed task before the master acts on its absence. */
const MISSED_HEARTBEATS_TOLERATED = 2;

function lifecycleEventOf(event: TaskEvent): TaskLifecycleEvent | undefined {
  switch (event.kind) {
    case "started":
      return { type: "STARTED", pid: event.pid };
    case "exited": {
      // Evicted work did nothing wrong: it goes back to pending to run elsewhere, not counted as a restart.
      if (event.evicted !== undefined) return { type: "LOST", reason: `evicted: ${event.evicted}`, cause: "evicted" };
      const exited: TaskLifecycleEvent & { type: "EXITED" } = { type: "EXITED" };
      if (event.signal !== undefined) exited.signal = event.signal;
      else if (event.exitCode !== undefined) exited.exitCode = event.exitCode;
      if (event.oom === true) exited.oom = true;
      if (event.oomOfAlloc === true) exited.oomOfAlloc = true;
      if (event.unhealthy !== undefined) exited.unhealthy = event.unhealthy;
      if (event.ranForMs !== undefined) exited.ranForMs = event.ranForMs;
      return exited;
    }
    case "failed":
      return { type: "FAILED", message: event.message };
    case "health":
      return undefined; // not a lifecycle change: recorded beside it
  }
}

/**
 * Compares what a borglet says it runs with what the leader placed there: stray tasks are
 * revoked (they were moved, killed, or belong to an old incarnation), a missed start is
 * caught up, and a placed task the borglet no longer mentions is resent or written off.
 */
function reconcile(ctx: LeaderContext, hb: Heartbeat, tasks: readonly HeartbeatTask[], batch: CommandBatch): void {
  const { state } = ctx;
  const reported = new Set<string>();
  for (const running of tasks) {
    const ref = state.task(running.taskId);
    if (ref === undefined || isAlloc(ref.job) || !state.reportedMatches(ref, hb.node, running)) {
      batch.revoke(hb.node, {
        taskId: running.taskId,
        incarnation: running.incarnation,
        gracePeriodMs: ref?.job.spec.gracePeriodMs ?? 0,
        reason: "not assigned to this machine",
      });
      continue;
    }
    reported.add(running.taskId);
    ref.task.missedHeartbeats = 0;
    if (running.usage !== undefined) {
      ref.task.usage = running.usage;
      ctx.reclamation.noteUsage(ref.task, ref.job, running.usage);
    }
    if (running.health !== undefined) noteHealth(ref.task, running.health);
    // The borglet still runs a task the leader is stopping: the revocation was lost (a failed
    // commit, a leader that died after committing): send it again.
    if (ref.task.lifecycle.state === "terminating" && running.state === "running" && !((ref.task.drainUntil ?? 0) > Date.now())) {
      batch.revoke(hb.node, revocationFor(ref, ref.task.lifecycle.context.reason ?? "killed"));
    }
    if (running.state === "running" && running.pid !== undefined && ref.task.lifecycle.state === "assigned") {
      batch.changed(state.transition(ref, { type: "STARTED", pid: running.pid }));
    }
  }
  for (const ref of state.tasksOn(hb.node)) {
    // Allocs are the leader's own bookkeeping: no borglet runs or reports them.
    if (reported.has(ref.id) || isAlloc(ref.job)) continue;
    ref.task.missedHeartbeats += 1;
    if (ref.task.missedHeartbeats <= MISSED_HEARTBEATS_TOLERATED) continue;
    handleMissingTask(ctx, ref, hb.node, batch);
  }
}

function handleMissingTask(ctx: LeaderContext, ref: TaskRef, node: string, batch: CommandBatch): void {
  switch (ref.task.lifecycle.state) {
    case "assigned":
      // The lease may have been lost on the way (the borglet was reconnecting): send it again.
      ref.task.missedHeartbeats = 0;
      batch.grant(node, leaseFor(ref, ctx.state));
      break;
    case "terminating":
      batch.changed(ctx.state.transition(ref, { type: "EXITED" }));
      break;
    default:
      batch.changed(ctx.state.transition(ref, { type: "LOST", reason: "task vanished from its machine", cause: "vanished" }));
  }
}

/**
 * An exit its machine reports after the leader gave the run up with the machine (marked
 * down while busy, not dead) still counts for the incarnation it ran: a batch task whose
 * lost run exited 0 is done, not run again (the lifecycle's EXITED_AFTER_LOSS says exactly
 * when). Exactly once: the next incarnation had not started; if it was placed already, its
 * lease is revoked, and a borglet that still had it queued never starts it. Once the next
 * run has started, the late exit changes nothing and that run's own exit decides.
 */
export function finishedAfterLoss(ctx: LeaderContext, ref: TaskRef, event: TaskEvent & { kind: "exited" }, node: string, batch: CommandBatch): boolean {
  // The borglet stopped it (revoked, evicted, unhealthy): not a run that finished its work.
  if (event.revoked || event.evicted !== undefined || event.unhealthy !== undefined) return false;
  const placedOn = ref.task.lifecycle.context.node;
  const lateExit: TaskLifecycleEvent = { type: "EXITED_AFTER_LOSS", incarnation: event.incarnation };
  if (event.signal !== undefined) lateExit.signal = event.signal;
  else if (event.exitCode !== undefined) lateExit.exitCode = event.exitCode;
  const change = batch.changed(ctx.state.transition(ref, lateExit));
  if (change === undefined) return false;
  if (change.from === "assigned" && placedOn !== undefined) {
    batch.revoke(placedOn, { taskId: ref.id, incarnation: ref.task.lifecycle.context.incarnation, gracePeriodMs: ref.job.spec.gracePeriodMs, reason: "its earlier run finished after all" });
  }
  ctx.log.info({ job: ref.job.id, task: ref.id, node, incarnation: event.incarnation, from: change.from }, "task done: its run on a machine marked down exited 0");
  return true;
}

/**
 * Whether a heartbeat only says its machine lives: the machine is up as the leader knows it
 * (same shape, same period) and runs exactly what was placed there. The leader judges its
 * own share of heartbeats as a link shard judges the rest, so most of a quiet cell's
 * heartbeats cost it a lookup, not a rebuilt machine record and a reconciliation.
 */
function onlySaysAlive(ctx: LeaderContext, hb: Heartbeat): boolean {
  return knownAsItIs(ctx, hb) !== undefined && heartbeatChangesNothing(ctx.state, hb);
}

/** The machine's record when the leader knows it up with this heartbeat's shape and period. */
function knownAsItIs(ctx: LeaderContext, hb: Heartbeat): NodeRecord | undefined {
  const known = ctx.state.nodes.get(hb.node);
  if (known === undefined || known.state !== "up" || known.awaitingFirstHeartbeat === true || known.heartbeatMs !== hb.heartbeatMs) return undefined;
  return known.digest === ctx.digests.of(hb) ? known : undefined;
}

function noteReportedHealth(ctx: LeaderContext, node: string, tasks: readonly HeartbeatTask[]): void {
  for (const running of tasks) {
    if (running.health === undefined) continue;
    const ref = ctx.state.task(running.taskId);
    if (ref === undefined || ref.task.health === running.health || !ctx.state.reportedMatches(ref, node, running)) continue;
    noteHealth(ref.task, running.health);
    ctx.names.markDirty(ref.job.id);
  }
}

/** A heartbeat in full: the machine's shape and liveness, then its tasks reconciled. */
async function takeHeartbeat(ctx: LeaderContext, hb: Heartbeat): Promise<void> {
  const { state, log } = ctx;
  if (onlySaysAlive(ctx, hb)) {
    state.nodes.get(hb.node)!.lastHeartbeat = Date.now();
    // The digest says what runs, not how well: verdicts this leader has not heard yet (it is
    // new since they changed) come along with a full list, which a rollout asks for.
    if (hb.tasks !== undefined) noteReportedHealth(ctx, hb.node, hb.tasks);
    return;
  }
  if (hb.tasks === undefined) {
    // Its tasks' digest differs from what is placed there: alive if known as it is, and what differs waits for its full list.
    const known = knownAsItIs(ctx, hb);
    if (known !== undefined) known.lastHeartbeat = Date.now();
    ctx.fullHeartbeats.ask(hb);
    return;
  }
  const { cameUp, storedChanged } = state.upsertNode({
    name: hb.node,
    host: hb.host,
    pid: hb.pid,
    capacity: hb.capacity,
    attributes: hb.attributes,
    portRange: hb.portRange,
    lastHeartbeat: Date.now(),
    epochSeen: hb.epochSeen,
    digest: ctx.digests.of(hb),
    ...(hb.heartbeatMs === undefined ? {} : { heartbeatMs: hb.heartbeatMs }),
  });
  const batch = new CommandBatch();
  if (cameUp) {
    log.info({ node: hb.node, host: hb.host }, "machine up");
    // New capacity matters only to pending work; thousands of machines registering at once must not mean thousands of scheduling passes.
    if (state.pendingCount > 0) batch.wakeSchedulers();
  }
  reconcile(ctx, hb, hb.tasks, batch);
  if (!batch.isEmpty) await ctx.commitAndSend(batch);
  // The machine's record rides with the next commit of this tick; nothing waits for it.
  else if (storedChanged) ctx.commits.commit().catch(() => {}); // a failed commit marks it dirty again
}

export function subscribeNodes(ctx: LeaderContext): Subscription[] {
  const { nc, cell, log, state } = ctx;
  return [
    // The leader is a link shard too, and takes its share of heartbeats whole.
    subscribeEvents(
      nc,
      subjects.nodeHeartbeatAny(cell),
      heartbeat,
      cell,
      log,
      async ({ body: hb }, msg) => {
        if (nodeFromSubject(msg.subject) !== hb.node) {
          log.warn({ subject: msg.subject, node: hb.node }, "refused heartbeat: node differs from its subject");
          return;
        }
        ctx.heartbeats.direct += 1;
        await takeHeartbeat(ctx, hb);
      },
      { queue: LINK_SHARDS_QUEUE },
    ),

    subscribeEvents(nc, subjects.linkHeartbeats(cell), linkHeartbeats, cell, log, async ({ body }) => {
      ctx.heartbeats.forwarded += body.heartbeats.length;
      for (const hb of body.heartbeats) await takeHeartbeat(ctx, hb);
    }),

    serveRpc(nc, subjects.linkAlive(cell), linkAlive, cell, log, ({ nodes }) => {
      const now = Date.now();
      const wanted: string[] = [];
      for (const { node, digest } of nodes) {
        const known = state.nodes.get(node);
        if (known !== undefined && known.state === "up" && known.digest === digest) known.lastHeartbeat = now;
        else wanted.push(node);
      }
      ctx.heartbeats.aliveReported += nodes.length - wanted.length;
      return { wanted };
    }),

    subscribeEvents(nc, subjects.nodeEventsAny(cell), taskEventBatch, cell, log, async ({ body }, msg) => {
      if (nodeFromSubject(msg.subject) !== body.node) {
        log.warn({ subject: msg.subject, node: body.node }, "refused task events: node differs from its subject");
        return;
      }
      const batch = new CommandBatch();
      // Health verdicts of one batch go to each job's history as one message, so a big job's
      // start does not push its older entries out of the bounded history.
      const verdicts = new Map<string, HistoryEntry[]>();
      for (const event of body.events) {
        const ref = state.task(event.taskId);
        const context = ref?.task.lifecycle.context;
        if (ref === undefined || context?.node !== body.node || context.incarnation !== event.incarnation) {
          if (ref !== undefined && event.kind === "exited" && finishedAfterLoss(ctx, ref, event, body.node, batch)) continue;
          log.debug({ task: event.taskId, node: body.node }, "ignored event of a task no longer placed there");
          continue;
        }
        if (event.kind === "health") {
          noteHealth(ref.task, event.health);
          ctx.names.markDirty(ref.job.id);
          const entries = verdicts.get(ref.job.id) ?? [];
          verdicts.set(ref.job.id, entries);
          entries.push({
            at: Date.now(),
            kind: event.health,
            task: ref.task.index,
            incarnation: event.incarnation,
            text: event.health === "healthy" ? "healthy" : `unhealthy: ${event.message ?? "failed its health check"}`,
          });
          log.info({ job: ref.job.id, task: ref.id, health: event.health, check: event.message }, "task health changed");
          continue;
        }
        const lifecycleEvent = lifecycleEventOf(event);
        if (lifecycleEvent === undefined) continue;
        const change = batch.changed(state.transition(ref, lifecycleEvent));
        if (change !== undefined) {
          // Starts are the bulk of changes in a big cell; exits and failures are what people look for.
          const level = change.to === "running" ? "debug" : "info";
          log[level]({ job: ref.job.id, task: ref.id, from: change.from, to: change.to, reason: ref.task.lifecycle.context.reason }, "task changed");
        }
      }
      publishHistory(nc, cell, verdicts);
      if (!batch.isEmpty) await ctx.commitAndSend(batch);
    }),
  ];
}

/** A machine is down only after missing at least this many heartbeats in a row, however short down-after is. */
export const MISSED_HEARTBEATS_FOR_DOWN = 3;
/** At most this share of the machines up (at least one) is marked down by one sweep; the rest wait for the next. */
export const DOWN_SHARE_PER_SWEEP = 0.1;
/** A sweep this much later than the one before means the leader itself was stalled. */
const LEADER_STALL_MS = 1000;

/** When each leader term last swept: a sweep much later than the one before means the leader was stalled. */
const lastSweepAt = new WeakMap<LeaderContext, number>();
/** When each leader term last looked at every machine for silence. */
const lastScanAt = new WeakMap<LeaderContext, number>();

/** How often the leader sweeps: it checks each time that its own loop kept time. */
export function sweepTickMs(downAfterMs: number): number {
  return Math.max(100, Math.min(500, downAfterMs / 4));
}

/**
 * How often a sweep looks at every machine: a quarter of down-after, so a machine is marked
 * down at most a quarter late. In a cell of 50,000 machines, looking at all of them every
 * half second was a sixth of the leader's time.
 */
function scanEveryMs(downAfterMs: number): number {
  return Math.max(sweepTickMs(downAfterMs), downAfterMs / 4);
}

/** How long a machine may be silent before it is down: down-after, and never fewer than MISSED_HEARTBEATS_FOR_DOWN of its heartbeat periods. */
export function silenceLimitMs(ctx: LeaderContext, node: NodeRecord): number {
  return Math.max(ctx.downAfterMs, MISSED_HEARTBEATS_FOR_DOWN * (node.heartbeatMs ?? 0));
}

/**
 * Marks silent machines down; their tasks go back to pending. A busy machine is not a dead
 * one (Borg marks a machine down only after several missed polls, and rate-limits the
 * rescheduling that follows):
 * - silent means silent for longer than silenceLimitMs: down-after and at least three of the
 *   machine's own heartbeat periods, so one late heartbeat never takes a machine down;
 * - time the leader itself could not listen (its event loop stalled: the sweep ran more than
 *   LEADER_STALL_MS late) is not silence: every machine is credited with it, since their
 *   heartbeats were waiting, unread, in the leader's socket;
 * - one sweep marks at most DOWN_SHARE_PER_SWEEP of the machines up (at least one), the
 *   longest silent first: a cell-wide hiccup (a partition, a stalled link shard) costs a
 *   few machines and leaves the others time to be heard, while a real failure of a rack
 *   (a tenth of the cell) still goes in one sweep.
 */
export function sweepSilentMachines(ctx: LeaderContext, now = Date.now()): void {
  const previous = lastSweepAt.get(ctx);
  const stalledMs = previous === undefined ? 0 : now - previous - LEADER_STALL_MS;
  lastSweepAt.set(ctx, now);
  if (stalledMs > 0) {
    for (const node of ctx.state.nodes.values()) node.lastHeartbeat = Math.min(now, node.lastHeartbeat + stalledMs);
    ctx.log.warn({ stalledMs }, "leader stalled: machines' silence meanwhile not counted");
  }
  if (now - (lastScanAt.get(ctx) ?? 0) < scanEveryMs(ctx.downAfterMs)) return;
  lastScanAt.set(ctx, now);
  const silent: { node: NodeRecord; silentMs: number }[] = [];
  let up = 0;
  for (const node of ctx.state.nodes.values()) {
    if (node.state !== "up") continue;
    up += 1;
    const silentMs = now - node.lastHeartbeat;
    if (silentMs > silenceLimitMs(ctx, node)) silent.push({ node, silentMs });
  }
  if (silent.length === 0) return;
  const allowed = Math.max(1, Math.ceil(up * DOWN_SHARE_PER_SWEEP));
  if (silent.length > allowed) ctx.log.warn({ silent: silent.length, allowed }, "more machines silent than one sweep marks down: the rest wait for the next sweep");
  const batch = new CommandBatch();
  for (const { node, silentMs } of silent.sort((a, b) => b.silentMs - a.silentMs).slice(0, allowed)) {
    ctx.state.markNodeDown(node);
    ctx.log.warn({ node: node.name, silentMs, limitMs: silenceLimitMs(ctx, node) }, "machine down");
    for (const ref of ctx.state.tasksOn(node.name)) {
      batch.changed(ctx.state.transition(ref, { type: "LOST", reason: MACHINE_LOST, cause: "machine_lost" }, now));
    }
    batch.wakeSchedulers();
  }
  if (!batch.isEmpty) {
    ctx.commitAndSend(batch).catch((error: unknown) => ctx.log.error({ err: (error as Error).message }, "could not commit machine loss"));
  }
}
