// Changing a job's replica count in place, without resubmitting it.
import { CorralError } from "@corral/contracts";
import { newTask } from "@corral/machines";
import type { JobRecord } from "@corral/state";
import { checkRoom } from "./admit-job.js";
import { keepAllocs } from "../allocs/alloc-keeper.js";
import { isAlloc, runsInAllocSet } from "../allocs/alloc-sets.js";
import { taskRefOf } from "../state/task-ref.js";
import { CommandBatch, revocationFor } from "../leader/commands.js";
import { recordHistory } from "./job-history.js";
import type { LeaderContext } from "../leader/leader-context.js";

/** Why the tasks a scale down stops were stopped; their views keep it. */
export function scaledDownReason(replicas: number): string {
  return `scaled down to ${replicas} replica${replicas === 1 ? "" : "s"}`;
}

/**
 * Sets a job's replica count (`kubectl scale`, Nomad's job scaling). Tasks below the new
 * count are never touched. Scaling up starts tasks R..N-1 pending, each a fresh lifecycle in
 * place of a dead task a scale down left at that index; scaling down stops the tasks at N
 * and above exactly as a kill does, and keeps them as dead tasks until a scale up reuses
 * their index. Scaling to the current count changes nothing, so a repeat (the federation
 * gateway's, after a timeout) is safe. Answers only once the change is committed.
 */
export async function scaleJobTo(ctx: LeaderContext, id: string, replicas: number, now = Date.now()): Promise<JobRecord> {
  const job = ctx.state.jobs.get(id);
  if (job === undefined) throw new CorralError("not_found", `no job ${id}`, "job");
  if (isAlloc(job)) {
    throw new CorralError(
      "bad_request",
      `${job.name} is an alloc set, and an alloc set is not scaled in place: its allocs hold the tasks of the jobs in it. To resize it, kill the jobs in it and the alloc set, then submit the alloc set again with the replicas you want`,
      "job",
    );
  }
  if (job.killed) throw new CorralError("conflict", `job ${id} was killed; submit it again with replicas = ${replicas} instead of scaling it`, "job");
  const from = job.spec.replicas;
  if (replicas === from) {
    // Nothing to change; an earlier attempt's commit may still be in flight, so wait for it.
    await ctx.commitAndSend(new CommandBatch());
    return job;
  }
  const batch = new CommandBatch();
  if (replicas > from) scaleUp(ctx, job, replicas, batch, now);
  else scaleDown(ctx, job, replicas, batch, now);
  if (runsInAllocSet(job)) keepAllocs(ctx.state, batch);
  await ctx.commitAndSend(batch);
  ctx.log.info({ job: id, from, replicas }, "job scaled");
  recordHistory(ctx.nc, ctx.cell, id, { at: now, kind: "scaled", text: `scaled from ${from} to ${replicas} replicas` });
  return job;
}

/** Checks everything first (stopping tasks in the way, quota), then changes the job. */
function scaleUp(ctx: LeaderContext, job: JobRecord, replicas: number, batch: CommandBatch, now: number): void {
  const from = job.spec.replicas;
  for (const task of job.tasks.slice(from, replicas)) {
    if (task.lifecycle.state === "dead") continue;
    throw new CorralError(
      "conflict",
      `task ${task.index}.${job.id} is still ${task.lifecycle.state} after an earlier scale down; retry once it has stopped (it stops within the job's grace period of ${job.spec.gracePeriodMs} ms)`,
      "replicas",
    );
  }
  const spec = { ...job.spec, replicas };
  checkRoom(ctx, spec, job.user, job.id);
  job.spec = spec;
  for (let index = from; index < replicas; index++) {
    const previous = job.tasks[index];
    const lifecycle = newTask(spec.restart);
    // Later than every run of the dead task it replaces: a borglet that still holds that run
    // (a machine lost while it stopped) tells the two apart, and never takes one for the other.
    if (previous !== undefined) lifecycle.context.incarnation = previous.lifecycle.context.incarnation + 1;
    ctx.state.putTask(job, { index, lifecycle, updatedAt: now, missedHeartbeats: 0 });
  }
  ctx.state.markDirty(job.id);
  batch.wakeSchedulers();
}

/** Stops the tasks at `replicas` and above as a kill stops them: revoked on their machine with the job's grace period. */
function scaleDown(ctx: LeaderContext, job: JobRecord, replicas: number, batch: CommandBatch, now: number): void {
  const from = job.spec.replicas;
  const reason = scaledDownReason(replicas);
  for (const task of job.tasks.slice(replicas)) {
    // Still stopping after an earlier scale down: its revocation is out already.
    if (task.index >= from && task.lifecycle.state === "terminating") continue;
    const ref = taskRefOf(job, task);
    const change = batch.changed(ctx.state.transition(ref, { type: "KILL", reason }, now));
    const node = ref.task.lifecycle.context.node;
    if (change?.to === "terminating" && node !== undefined) batch.revoke(node, revocationFor(ref, reason));
  }
  job.spec = { ...job.spec, replicas };
  ctx.state.markDirty(job.id);
}
