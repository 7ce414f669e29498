import { heartbeat, nodeFromSubject, subjects, taskEventBatch, type Heartbeat, type TaskEvent } from "@corral/contracts";
import { subscribeEvents, type Subscription } from "@corral/kit";
import type { TaskLifecycleEvent } from "@corral/machines";
import type { TaskRef } from "./cell-state.js";
import { CommandBatch, leaseFor, revocationFor } from "./commands.js";
import type { LeaderContext } from "./leader-context.js";

/** Heartbeats in a row that may miss a placed task before the master acts on its absence. */
const MISSED_HEARTBEATS_TOLERATED = 2;

function lifecycleEventOf(event: TaskEvent): TaskLifecycleEvent {
  switch (event.kind) {
    case "started":
      return { type: "STARTED", pid: event.pid };
    case "exited":
      return event.signal === undefined
        ? event.exitCode === undefined
          ? { type: "EXITED" }
          : { type: "EXITED", exitCode: event.exitCode }
        : { type: "EXITED", signal: event.signal };
    case "failed":
      return { type: "FAILED", message: event.message };
  }
}

/**
 * Compares what a borglet says it runs with what the leader placed there: stray tasks are
 * revoked (they were moved, killed, or belong to an old incarnation), a missed start is
 * caught up, and a placed task the borglet no longer mentions is resent or written off.
 */
function reconcile(ctx: LeaderContext, hb: Heartbeat, batch: CommandBatch): void {
  const { state } = ctx;
  const reported = new Set<string>();
  for (const running of hb.tasks) {
    const ref = state.task(running.taskId);
    if (ref === undefined || !state.reportedMatches(ref, hb.node, running)) {
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
    // The borglet still runs a task the leader is stopping: the revocation was lost (a failed
    // commit, a leader that died after committing): send it again.
    if (ref.task.lifecycle.state === "terminating" && running.state === "running") {
      batch.revoke(hb.node, revocationFor(ref, ref.task.lifecycle.context.reason ?? "killed"));
    }
    if (running.state === "running" && running.pid !== undefined && ref.task.lifecycle.state === "assigned") {
      batch.changed(state.transition(ref, { type: "STARTED", pid: running.pid }));
    }
  }
  for (const ref of state.tasksOn(hb.node)) {
    if (reported.has(ref.id)) continue;
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
      batch.grant(node, leaseFor(ref));
      break;
    case "terminating":
      batch.changed(ctx.state.transition(ref, { type: "EXITED" }));
      break;
    default:
      batch.changed(ctx.state.transition(ref, { type: "LOST", reason: "task vanished from its machine" }));
  }
}

export function subscribeNodes(ctx: LeaderContext): Subscription[] {
  const { nc, cell, log, state } = ctx;
  return [
    subscribeEvents(nc, subjects.nodeHeartbeatAny(cell), heartbeat, cell, log, async ({ body: hb }, msg) => {
      if (nodeFromSubject(msg.subject) !== hb.node) {
        log.warn({ subject: msg.subject, node: hb.node }, "refused heartbeat: node differs from its subject");
        return;
      }
      const { cameUp } = state.upsertNode({
        name: hb.node,
        host: hb.host,
        pid: hb.pid,
        capacity: hb.capacity,
        attributes: hb.attributes,
        portRange: hb.portRange,
        lastHeartbeat: Date.now(),
        epochSeen: hb.epochSeen,
      });
      const batch = new CommandBatch();
      if (cameUp) {
        log.info({ node: hb.node, host: hb.host }, "machine up");
        // New capacity matters only to pending work; thousands of machines registering at once must not mean thousands of scheduling passes.
        if (state.pendingCount > 0) batch.wakeSchedulers();
      }
      reconcile(ctx, hb, batch);
      if (!batch.isEmpty) await ctx.commitAndSend(batch);
    }),

    subscribeEvents(nc, subjects.nodeEventsAny(cell), taskEventBatch, cell, log, async ({ body }, msg) => {
      if (nodeFromSubject(msg.subject) !== body.node) {
        log.warn({ subject: msg.subject, node: body.node }, "refused task events: node differs from its subject");
        return;
      }
      const batch = new CommandBatch();
      for (const event of body.events) {
        const ref = state.task(event.taskId);
        const context = ref?.task.lifecycle.context;
        if (ref === undefined || context?.node !== body.node || context.incarnation !== event.incarnation) {
          log.debug({ task: event.taskId, node: body.node }, "ignored event of a task no longer placed there");
          continue;
        }
        const change = batch.changed(state.transition(ref, lifecycleEventOf(event)));
        if (change !== undefined) {
          // Starts are the bulk of changes in a big cell; exits and failures are what people look for.
          const level = change.to === "running" ? "debug" : "info";
          log[level]({ job: ref.job.id, task: ref.id, from: change.from, to: change.to, reason: ref.task.lifecycle.context.reason }, "task changed");
        }
      }
      if (!batch.isEmpty) await ctx.commitAndSend(batch);
    }),
  ];
}

/** Marks machines silent for longer than down-after as down; their tasks go back to pending. */
export function sweepSilentMachines(ctx: LeaderContext, now = Date.now()): void {
  const batch = new CommandBatch();
  for (const node of ctx.state.nodes.values()) {
    if (node.state !== "up" || now - node.lastHeartbeat <= ctx.downAfterMs) continue;
    node.state = "down";
    ctx.log.warn({ node: node.name, silentMs: now - node.lastHeartbeat }, "machine down");
    for (const ref of ctx.state.tasksOn(node.name)) {
      batch.changed(ctx.state.transition(ref, { type: "LOST", reason: "machine lost" }, now));
    }
    batch.wakeSchedulers();
  }
  if (!batch.isEmpty) {
    ctx.commitAndSend(batch).catch((error: unknown) => ctx.log.error({ err: (error as Error).message }, "could not commit machine loss"));
  }
}

