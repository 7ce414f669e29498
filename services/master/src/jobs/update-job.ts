// Moving a running job to a new spec (`corral up` on a job that exists): what changes, and
// either applied at once or handed to a rollout (rollouts.ts). Borg's job updates, Nomad's
// `job run` of a changed job.
import { classifyUpdate, CorralError, DEFAULT_UPDATE_POLICY, type JobSpec, type UpdateChange } from "@corral/contracts";
import { KEPT_REVISIONS, revisionOf, taskRevisionOf, type JobRecord, type RevisionRecord } from "@corral/state";
import { isAlloc, runsInAllocSet } from "../allocs/alloc-sets.js";
import { keepAllocs } from "../allocs/alloc-keeper.js";
import { CommandBatch } from "../leader/commands.js";
import type { LeaderContext } from "../leader/leader-context.js";
import { checkRoom } from "./admit-job.js";
import { recordHistory } from "./job-history.js";
import { scaleJobTo } from "./scale-job.js";

export interface UpdateRequest {
  job: string;
  spec: JobSpec;
  user: string;
  dryRun?: boolean;
  force?: boolean;
  /** how the revision is listed: an update (by its change), or the revert of an undo */
  kind?: "revert";
}

export interface UpdateOutcome {
  job: JobRecord;
  revision: number;
  change: UpdateChange;
  applied: boolean;
  replaces?: { tasks: number; maxParallel: number };
}

/** The spec as a job's update compares it: the owner is the job's, whatever the spec says. */
function comparable(spec: JobSpec): Record<string, unknown> {
  const { user: _user, ...rest } = spec;
  return rest;
}

/** The revisions a job has: its record's, or for a job never updated, revision 1 as it was submitted. */
export function revisionsOf(job: JobRecord): RevisionRecord[] {
  return job.revisions ?? [{ revision: 1, at: job.submittedAt, by: job.user, kind: "submitted", fields: [], outcome: "stable", spec: job.spec }];
}

/** Tasks that run (or will) from a revision before `revision`, and so are replaced by its rollout. */
export function tasksBehind(job: JobRecord, revision: number): number {
  return job.tasks.slice(0, job.spec.replicas).filter((task) => task.lifecycle.state !== "dead" && taskRevisionOf(task) < revision).length;
}

/**
 * Checks an update and applies it: a change only to fields a running task does not hold
 * (priority, labels, replicas, …) applies at once; any other starts a rollout of a new
 * revision, which the leader drives batch by batch. A dry run answers the same and changes
 * nothing. Answers once the change is committed.
 */
export async function updateJob(ctx: LeaderContext, request: UpdateRequest, now = Date.now()): Promise<UpdateOutcome> {
  const job = ctx.state.jobs.get(request.job);
  if (job === undefined) throw new CorralError("not_found", `no job ${request.job}; submit it first (corral up submits a job that does not exist)`, "job");
  if (request.spec.name !== job.name) throw new CorralError("bad_request", `the spec is of job '${request.spec.name}', not '${job.name}': a job's name cannot change; submit it as a new job`, "name");
  if (request.spec.user !== undefined && request.spec.user !== job.user) {
    throw new CorralError("bad_request", `user is '${request.spec.user}' in the spec but job ${job.id} is ${job.user}'s: a job's owner cannot change`, "user");
  }
  if (request.spec.runtime.cell !== undefined && request.spec.runtime.cell !== ctx.cell) {
    throw new CorralError("bad_request", `runtime.cell is '${request.spec.runtime.cell}' but job ${job.id} runs in cell '${ctx.cell}': a job cannot move cells; submit it there as a new job`, "runtime.cell");
  }
  if (job.killed || job.tasks.every((task) => task.lifecycle.state === "dead")) {
    throw new CorralError("conflict", `job ${job.id} has no live tasks to update; submit it again instead (corral up submits it anew once it is gone)`, "job");
  }
  if (isAlloc(job) || request.spec.kind === "alloc") throw new CorralError("bad_request", `${job.name} is an alloc set; updating alloc sets is not supported yet: kill the jobs in it and the alloc set, then submit them again`, "kind");
  if (request.spec.allocSet !== job.spec.allocSet) throw new CorralError("bad_request", `alloc_set cannot change in an update (it is ${job.spec.allocSet ?? "none"}); submit the job anew`, "alloc_set");

  const change = classifyUpdate(comparable(job.spec), comparable(request.spec));
  const current = revisionOf(job);
  if (change.kind === "none") {
    await ctx.commitAndSend(new CommandBatch()); // an earlier attempt's commit may still be in flight
    return { job, revision: current, change, applied: false };
  }
  const rolling = job.rollout?.state === "running";
  if (rolling && request.force !== true) {
    throw new CorralError("conflict", `revision ${job.rollout!.revision} of job ${job.id} is still rolling out; wait for it (corral rollout status ${job.name}), or update with --force to start from where its tasks are`, "job");
  }
  const revision = current + 1;
  const policy = request.spec.update ?? DEFAULT_UPDATE_POLICY;
  const replaces = change.kind === "replace" ? { tasks: tasksBehind(job, revision), maxParallel: policy.maxParallel } : undefined;
  if (request.dryRun === true) return { job, revision, change, applied: false, ...(replaces === undefined ? {} : { replaces }) };

  checkRoom(ctx, request.spec, job.user, job.id);
  const spec: JobSpec = { ...request.spec, replicas: job.spec.replicas };
  const history = revisionsOf(job).map((kept) => (kept.outcome === "rolling" ? { ...kept, outcome: "superseded" as const } : kept));
  const stable = [...history].reverse().find((kept) => kept.outcome === "stable")?.revision ?? current;
  history.push({ revision, at: now, by: request.user, kind: request.kind ?? (change.kind === "in-place" ? "in-place" : "replace"), fields: change.fields, outcome: change.kind === "in-place" && !rolling ? "stable" : "rolling", spec: request.spec });
  job.revisions = history.slice(-KEPT_REVISIONS);
  job.revision = revision;
  ctx.state.replaceSpec(job, spec);
  if (change.kind === "in-place") {
    // Nothing a running task holds changed from the current revision: its tasks are of the new
    // one as they stand. Tasks a running rollout has not reached yet still run an older spec,
    // so the rollout goes on, toward the new revision.
    for (const task of job.tasks) {
      if (task.lifecycle.state === "dead" || taskRevisionOf(task) !== current) continue;
      task.revision = revision;
      ctx.state.putTask(job, task);
    }
    if (rolling) job.rollout = { ...job.rollout!, revision };
  } else {
    // Going back to a spec that ran before needs no canaries.
    job.rollout = { revision, from: rolling ? job.rollout!.from : stable, state: "running", startedAt: now, progressAt: now, ...(request.kind === "revert" ? { promoted: true } : {}) };
  }
  ctx.state.markDirty(job.id);
  const batch = new CommandBatch();
  if (runsInAllocSet(job)) keepAllocs(ctx.state, batch);
  batch.wakeSchedulers();
  await ctx.commitAndSend(batch);
  const text =
    change.kind === "in-place"
      ? `revision ${revision} by ${request.user}: ${change.fields.join(", ")} changed in place`
      : `revision ${revision} by ${request.user}: ${change.fields.join(", ")} changed; replacing ${replaces!.tasks} task${replaces!.tasks === 1 ? "" : "s"}, ${policy.maxParallel} at a time`;
  ctx.log.info({ job: job.id, revision, change: change.kind, fields: change.fields }, "job updated");
  recordHistory(ctx.nc, ctx.cell, job.id, { at: now, kind: "updated", text });
  // The replica count changes as a scale does: tasks added start from the new revision.
  if (request.spec.replicas !== job.spec.replicas) await scaleJobTo(ctx, job.id, request.spec.replicas, now);
  return { job, revision, change, applied: true, ...(replaces === undefined ? {} : { replaces }) };
}
