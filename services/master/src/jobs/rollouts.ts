// The leader drives each job's rollout (update-job.ts starts them): it replaces the tasks of
// older revisions a batch at a time, moves on when a batch's new tasks have been healthy long
// enough, and fails (and, if asked, reverts) one that does not get there in time. Every step
// is a fenced commit of the job's rollout and tasks, so a new leader goes on from the stored
// state: a task replaced is of the new revision once placed, and is never replaced twice.
import { DEFAULT_UPDATE_POLICY, type Rollout, type UpdatePolicy } from "@corral/contracts";
import { KEPT_REVISIONS, taskRevisionOf, type JobRecord, type TaskRecord } from "@corral/state";
import { taskRefOf } from "../state/task-ref.js";
import { CommandBatch, revocationFor } from "../leader/commands.js";
import type { LeaderContext } from "../leader/leader-context.js";
import { recordHistory } from "./job-history.js";
import { revisionsOf } from "./update-job.js";

/** How often running rollouts are looked at: their health windows are seconds long. */
const ROLLOUT_TICK_MS = 250;

/** Where a rollout stands, counted over the tasks below the replica count. */
export interface RolloutProgress {
  /** of the new revision, running and healthy for min_healthy_time */
  done: number;
  /** being replaced or not yet done at the new revision */
  inFlight: TaskRecord[];
  /** of an older revision, not yet asked to stop */
  behind: TaskRecord[];
  total: number;
}

/** How long a task has been running and healthy (or just running, for a job without a health check); undefined while it is not. */
function healthyForMs(job: JobRecord, task: TaskRecord, now: number): number | undefined {
  if (task.lifecycle.state !== "running") return undefined;
  if (job.spec.health === undefined) return now - task.updatedAt;
  return task.health === "healthy" && task.healthySince !== undefined ? now - task.healthySince : undefined;
}

export function rolloutProgress(job: JobRecord, rollout: Rollout, policy: UpdatePolicy, now: number): RolloutProgress {
  const progress: RolloutProgress = { done: 0, inFlight: [], behind: [], total: 0 };
  for (const task of job.tasks.slice(0, job.spec.replicas)) {
    if (task.lifecycle.state === "dead") continue;
    progress.total += 1;
    const replacing = task.lifecycle.context.replacedBy !== undefined;
    // A pending task is placed from the job's spec as it is now: it is of the new revision already.
    const current = task.lifecycle.state === "pending" || taskRevisionOf(task) >= rollout.revision;
    // Not healthy at all is never done, even with a min_healthy_time of 0.
    if (current && !replacing && (healthyForMs(job, task, now) ?? -1) >= policy.minHealthyTimeMs) progress.done += 1;
    else if (current || replacing) progress.inFlight.push(task);
    else progress.behind.push(task);
  }
  return progress;
}

/** A replaced task's stop, held back for the policy's drain once its name no longer lists it. */
interface HeldStop {
  jobId: string;
  index: number;
  incarnation: number;
  at: number;
}

/** What the term's rollout loop remembers between looks; none of it is needed for safety, so a new leader starts it empty. */
interface RolloutMemory {
  /** per job, when each task of its rollout (`index/revision`) was first seen in flight by this leader: its healthy deadline counts from there; dropped once the rollout stops running */
  inFlightSince: Map<string, Map<string, number>>;
  /** stops waiting out their drain (a new leader's heartbeats send them at once instead) */
  held: HeldStop[];
}

/** Sends the stops whose drain is over, for tasks still being replaced in the same run. */
function releaseHeldStops(ctx: LeaderContext, memory: RolloutMemory, batch: CommandBatch, now: number): boolean {
  let sent = false;
  memory.held = memory.held.filter((held) => {
    if (held.at > now) return true;
    const ref = ctx.state.task(`${held.index}.${held.jobId}`);
    const context = ref?.task.lifecycle.context;
    if (ref !== undefined) delete ref.task.drainUntil;
    if (ref !== undefined && ref.task.lifecycle.state === "terminating" && context?.incarnation === held.incarnation && context.replacedBy !== undefined && context.node !== undefined) {
      batch.revoke(context.node, revocationFor(ref, `replaced by revision ${context.replacedBy}`));
      sent = true;
    }
    return false;
  });
  return sent;
}

/** Starts the term's rollout loop; returns its stop. */
export function startRollouts(ctx: LeaderContext): () => void {
  const memory: RolloutMemory = { inFlightSince: new Map(), held: [] };
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    const batch = new CommandBatch();
    const now = Date.now();
    let changed = releaseHeldStops(ctx, memory, batch, now);
    const rolling = ctx.state.rollingJobs();
    // A rollout that ended or waits (paused, awaiting promotion) starts its deadlines afresh when it runs again.
    const running = new Set(rolling.map((job) => job.id));
    for (const id of memory.inFlightSince.keys()) if (!running.has(id)) memory.inFlightSince.delete(id);
    for (const job of rolling) {
      if (job.rollout?.state !== "running") continue;
      changed = step(ctx, job, job.rollout, memory, batch, now) || changed;
    }
    if (!changed) return;
    busy = true;
    ctx
      .commitAndSend(batch)
      .catch((error: unknown) => ctx.log.error({ err: (error as Error).message }, "could not commit a rollout step"))
      .finally(() => (busy = false));
  }, ROLLOUT_TICK_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/** One look at a running rollout: finish it, fail it, hold it for promotion, or start the next tasks. True when something changed. */
function step(ctx: LeaderContext, job: JobRecord, rollout: Rollout, memory: RolloutMemory, batch: CommandBatch, now: number): boolean {
  let inFlightSince = memory.inFlightSince.get(job.id);
  if (inFlightSince === undefined) memory.inFlightSince.set(job.id, (inFlightSince = new Map()));
  const policy = job.spec.update ?? DEFAULT_UPDATE_POLICY;
  const progress = rolloutProgress(job, rollout, policy, now);
  const key = (task: TaskRecord) => `${task.index}/${rollout.revision}`;
  let changed = false;
  if (progress.done !== (rollout.done ?? 0)) {
    // Progress is a task newly done; one that fell back (it crashed) moves the count alone.
    job.rollout = { ...rollout, done: progress.done, ...(progress.done > (rollout.done ?? 0) ? { progressAt: now } : {}) };
    changed = true;
  }
  if (progress.behind.length === 0 && progress.inFlight.length === 0) {
    finish(ctx, job, job.rollout!, rollout.revertOf === undefined ? "succeeded" : "rolled_back", now);
    return true;
  }
  const late = progress.inFlight.find((task) => now - (inFlightSince.get(key(task)) ?? now) > policy.healthyDeadlineMs);
  if (late !== undefined || now - job.rollout!.progressAt > policy.progressDeadlineMs) {
    const why = late !== undefined ? `task ${late.index} not healthy within ${policy.healthyDeadlineMs / 1000}s` : `no task became healthy within the progress deadline of ${policy.progressDeadlineMs / 1000}s`;
    fail(ctx, job, job.rollout!, why, policy, now);
    return true;
  }
  for (const task of progress.inFlight) {
    if (!inFlightSince.has(key(task))) inFlightSince.set(key(task), now);
    // Health is soft state: a leader new since the verdict came asks the machine again.
    const node = task.lifecycle.context.node;
    if (job.spec.health !== undefined && task.lifecycle.state === "running" && task.health === undefined && node !== undefined) ctx.fullHeartbeats.askNode(node, ctx.state.nodes.get(node)?.heartbeatMs ?? 1000, now);
  }
  let room = policy.maxParallel - progress.inFlight.length;
  // Canaries first: that many tasks of the new revision, then a user's word (or auto_promote).
  const canaries = Math.min(policy.canary, progress.total);
  if (canaries > 0 && job.rollout!.promoted !== true) {
    if (progress.done >= canaries && progress.inFlight.length === 0) {
      job.rollout = policy.autoPromote ? { ...job.rollout!, promoted: true, progressAt: now } : { ...job.rollout!, state: "awaiting_promotion" };
      ctx.state.markDirty(job.id);
      recordHistory(ctx.nc, ctx.cell, job.id, { at: now, kind: "rollout", text: policy.autoPromote ? `revision ${rollout.revision}: ${canaries} canaries healthy, promoted` : `revision ${rollout.revision}: ${canaries} canaries healthy, awaiting promotion (corral rollout promote ${job.name})` });
      return true;
    }
    room = Math.min(room, canaries - progress.done - progress.inFlight.length);
  }
  for (const task of progress.behind.slice(0, Math.max(0, room))) {
    const ref = taskRefOf(job, task);
    const change = batch.changed(ctx.state.transition(ref, { type: "REPLACE", revision: rollout.revision }, now));
    if (change === undefined) continue;
    inFlightSince.set(key(task), now);
    const node = ref.task.lifecycle.context.node;
    if (change.to === "terminating" && node !== undefined) {
      // Out of its job's names with this commit; stopped once clients had time to notice.
      if (policy.drainMs > 0) {
        ref.task.drainUntil = now + policy.drainMs;
        memory.held.push({ jobId: job.id, index: task.index, incarnation: ref.task.lifecycle.context.incarnation, at: ref.task.drainUntil });
      }
      else batch.revoke(node, revocationFor(ref, `replaced by revision ${rollout.revision}`));
    }
    changed = true;
  }
  if (changed) {
    ctx.state.markDirty(job.id);
    batch.wakeSchedulers();
  }
  return changed;
}

function setOutcome(job: JobRecord, revision: number, outcome: "stable" | "failed" | "rolled_back"): void {
  job.revisions = revisionsOf(job)
    .map((kept) => (kept.revision === revision ? { ...kept, outcome } : kept))
    .slice(-KEPT_REVISIONS);
}

function finish(ctx: LeaderContext, job: JobRecord, rollout: Rollout, state: "succeeded" | "rolled_back", now: number): void {
  job.rollout = { ...rollout, state, progressAt: now };
  setOutcome(job, rollout.revision, "stable");
  if (rollout.revertOf !== undefined) setOutcome(job, rollout.revertOf, "rolled_back");
  ctx.state.markDirty(job.id);
  const text = state === "succeeded" ? `revision ${rollout.revision} rolled out: every task runs it` : `rolled back to revision ${rollout.from}'s spec (revision ${rollout.revision}) after revision ${rollout.revertOf} failed`;
  ctx.log.info({ job: job.id, revision: rollout.revision, state }, "rollout ended");
  recordHistory(ctx.nc, ctx.cell, job.id, { at: now, kind: "rollout", text });
}

/**
 * A rollout that did not get there: it fails, and with auto_revert the job gets one more
 * revision, the last stable one's spec, rolled out the same way (a failed revert is left failed).
 */
function fail(ctx: LeaderContext, job: JobRecord, rollout: Rollout, why: string, policy: UpdatePolicy, now: number): void {
  job.rollout = { ...rollout, state: "failed", progressAt: now, message: why };
  setOutcome(job, rollout.revision, "failed");
  ctx.state.markDirty(job.id);
  ctx.log.warn({ job: job.id, revision: rollout.revision, why }, "rollout failed");
  recordHistory(ctx.nc, ctx.cell, job.id, { at: now, kind: "rollout", text: `revision ${rollout.revision} failed: ${why}` });
  const stable = revisionsOf(job).find((kept) => kept.revision === rollout.from);
  if (!policy.autoRevert || rollout.revertOf !== undefined || stable === undefined) return;
  const revision = rollout.revision + 1;
  job.revisions = [...revisionsOf(job), { revision, at: now, by: "auto_revert", kind: "revert" as const, fields: [], outcome: "rolling" as const, spec: stable.spec }].slice(-KEPT_REVISIONS);
  job.revision = revision;
  ctx.state.replaceSpec(job, { ...stable.spec, replicas: job.spec.replicas });
  job.rollout = { revision, from: rollout.from, state: "running", revertOf: rollout.revision, promoted: true, startedAt: now, progressAt: now };
  ctx.state.markDirty(job.id);
  recordHistory(ctx.nc, ctx.cell, job.id, { at: now, kind: "rollout", text: `rolling back to revision ${rollout.from}'s spec as revision ${revision}` });
}
