// What a user does to a running rollout (`corral rollout pause|resume|promote|undo`). Each is
// a fenced commit of the job's rollout, so the next leader sees it as it was left.
import { CorralError } from "@corral/contracts";
import { revisionOf, type JobRecord } from "@corral/state";
import { CommandBatch } from "../leader/commands.js";
import type { LeaderContext } from "../leader/leader-context.js";
import { recordHistory } from "./job-history.js";
import { revisionsOf, updateJob } from "./update-job.js";

export type RolloutAction = "pause" | "resume" | "promote" | "undo";

function jobOf(ctx: LeaderContext, id: string): JobRecord {
  const job = ctx.state.jobs.get(id);
  if (job === undefined) throw new CorralError("not_found", `no job ${id}`, "job");
  return job;
}

/** Pause, resume or promote the job's rollout, or undo its latest revision; answers once committed. */
export async function controlRollout(ctx: LeaderContext, id: string, user: string, action: RolloutAction, toRevision?: number, now = Date.now()): Promise<JobRecord> {
  const job = jobOf(ctx, id);
  if (action === "undo") return undo(ctx, job, user, toRevision, now);
  const rollout = job.rollout;
  const state = rollout?.state;
  const refuse = (what: string) => new CorralError("conflict", `job ${id} has ${rollout === undefined ? "no rollout" : `revision ${rollout.revision} ${state!.replace("_", " ")}`}; ${what}`, "action");
  let text: string;
  if (action === "pause") {
    if (state !== "running" && state !== "awaiting_promotion") throw refuse("only a running rollout can be paused");
    job.rollout = { ...rollout!, state: "paused" };
    text = `revision ${rollout!.revision}: paused by ${user}`;
  } else if (action === "resume") {
    if (state !== "paused") throw refuse("only a paused rollout can be resumed");
    // Its deadlines count from now: time paused is not time lost.
    job.rollout = { ...rollout!, state: "running", progressAt: now };
    text = `revision ${rollout!.revision}: resumed by ${user}`;
  } else {
    if (state !== "awaiting_promotion" && !(state === "running" && rollout!.promoted !== true && (job.spec.update?.canary ?? 0) > 0)) {
      throw refuse("only a rollout with canaries that are not yet promoted can be promoted");
    }
    job.rollout = { ...rollout!, state: "running", promoted: true, progressAt: now };
    text = `revision ${rollout!.revision}: promoted by ${user}`;
  }
  ctx.state.markDirty(job.id);
  await ctx.commitAndSend(new CommandBatch());
  recordHistory(ctx.nc, ctx.cell, job.id, { at: now, kind: "rollout", text });
  return job;
}

/**
 * Goes back to an earlier revision's spec (the last stable one before the current, or
 * `toRevision`) as a new revision, rolled out as any update is, over whatever rollout runs.
 */
async function undo(ctx: LeaderContext, job: JobRecord, user: string, toRevision: number | undefined, now: number): Promise<JobRecord> {
  const current = revisionOf(job);
  const kept = revisionsOf(job);
  const target = toRevision === undefined ? [...kept].reverse().find((revision) => revision.revision < current && revision.outcome === "stable") : kept.find((revision) => revision.revision === toRevision);
  if (target === undefined) {
    const known = kept.map((revision) => revision.revision).join(", ");
    throw new CorralError("not_found", toRevision === undefined ? `job ${job.id} has no stable revision before ${current} to go back to (it keeps ${known})` : `job ${job.id} keeps no revision ${toRevision}; it keeps ${known}`, "toRevision");
  }
  if (target.revision === current) throw new CorralError("bad_request", `job ${job.id} is at revision ${current} already`, "toRevision");
  const outcome = await updateJob(ctx, { job: job.id, spec: { ...target.spec, replicas: job.spec.replicas }, user, force: true, kind: "revert" }, now);
  if (!outcome.applied) throw new CorralError("bad_request", `revision ${target.revision}'s spec is what job ${job.id} runs already (revision ${current})`, "toRevision");
  recordHistory(ctx.nc, ctx.cell, job.id, { at: now, kind: "rollout", text: `undo by ${user}: back to revision ${target.revision}'s spec as revision ${outcome.revision}` });
  return outcome.job;
}
