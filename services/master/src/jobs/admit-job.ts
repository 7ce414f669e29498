// Admission: whether a job may enter the cell (cell, user, name, quota or alloc set). Shared by
// submissions, plans and scale ups, so that they refuse alike.
import { CorralError, jobId, type JobSpec } from "@corral/contracts";
import { quotaExcess, quotaFor, shortOf, type QuotaExcess } from "@corral/scheduling";
import { newTask } from "@corral/machines";
import type { LeaderContext } from "../leader/leader-context.js";
import type { JobRecord } from "@corral/state";

/**
 * Checks a submission against the cell and adds its job with every task pending. The
 * caller commits; nothing is acknowledged before that. Throws a CorralError that names the
 * field for anything the cell refuses.
 */
export function admitJob(ctx: LeaderContext, spec: JobSpec, user: string, now = Date.now()): JobRecord {
  const id = checkAdmission(ctx, spec, user);
  const job: JobRecord = {
    id,
    name: spec.name,
    user,
    cell: ctx.cell,
    spec,
    submittedAt: now,
    killed: false,
    tasks: Array.from({ length: spec.replicas }, (_, index) => ({ index, lifecycle: newTask(spec.restart), updatedAt: now, missedHeartbeats: 0 })),
  };
  ctx.state.addJob(job);
  return job;
}

/** Every check a submission must pass (cell, user, name, quota); returns the job's id. Changes nothing. */
export function checkAdmission(ctx: LeaderContext, spec: JobSpec, user: string): string {
  const { cell, state } = ctx;
  if (spec.runtime.cells !== undefined) {
    throw new CorralError(
      "bad_request",
      `runtime.cells lists ${spec.runtime.cells.map((name) => `'${name}'`).join(", ")}, but this is the master of cell '${cell}' alone; submit a federated job through a gateway that federates those cells, or give runtime.cell for one cell`,
      "runtime.cells",
    );
  }
  if (spec.runtime.cell !== undefined && spec.runtime.cell !== cell) {
    throw new CorralError("bad_request", `runtime.cell is '${spec.runtime.cell}' but this is cell '${cell}'; submit it to that cell or change runtime.cell`, "runtime.cell");
  }
  if (spec.user !== undefined && spec.user !== user) {
    throw new CorralError("bad_request", `user is '${spec.user}' in the spec but the submitter is '${user}'`, "user");
  }
  const id = jobId(spec.name, user, cell);
  const existing = state.jobs.get(id);
  if (existing !== undefined && existing.tasks.some((task) => task.lifecycle.state !== "dead")) {
    throw new CorralError("conflict", `job ${id} exists and has live tasks; update it (corral up FILE updates a job that exists; PUT /v1/jobs/${spec.name}), kill it first (corral kill ${spec.name}), or choose another name`, "name");
  }
  checkRoom(ctx, spec, user, id);
  return id;
}

/**
 * Whether the cell has room for the job `id` as `spec` says, its own tasks counted as
 * `spec.replicas` of them: its user's quota, or for a job in an alloc set, the alloc set
 * (a submission, and a scale up with the new replica count).
 */
export function checkRoom(ctx: LeaderContext, spec: JobSpec, user: string, id: string): void {
  checkUserLimits(ctx, spec, user, id);
  if (spec.allocSet === undefined) checkQuota(ctx, spec, user, id);
  else checkAllocSet(ctx, spec, spec.allocSet, user); // the alloc set's quota already covers what runs in it
}

/**
 * However much quota a user has, one user's jobs and pending tasks are bounded: each costs
 * the leader memory whether or not it ever runs. A new job counts against the jobs; the
 * tasks it (or a scale up) would add, against the pending tasks.
 */
function checkUserLimits(ctx: LeaderContext, spec: JobSpec, user: string, id: string): void {
  const { state, userLimits } = ctx;
  const existing = state.jobs.get(id);
  if (existing === undefined && state.jobCountOf(user) >= userLimits.jobs) {
    throw new CorralError(
      "quota_exceeded",
      `${user} has ${state.jobCountOf(user)} jobs in cell ${ctx.cell}, the most one user may have (--max-jobs-per-user ${userLimits.jobs}); kill jobs you no longer need, or ask an admin to raise the limit`,
      "name",
    );
  }
  const adding = spec.replicas - (existing?.tasks.length ?? 0);
  const pending = state.pendingCountOf(user);
  if (adding > 0 && pending + adding > userLimits.pendingTasks) {
    throw new CorralError(
      "quota_exceeded",
      `${user} has ${pending} pending tasks in cell ${ctx.cell} and this would add ${adding}, past the most one user may have waiting (--max-pending-tasks-per-user ${userLimits.pendingTasks}); wait for some to be placed, or lower replicas`,
      "replicas",
    );
  }
}

/** A job in an alloc set: the set must exist and be live, and each task must fit in one alloc. */
function checkAllocSet(ctx: LeaderContext, spec: JobSpec, allocSet: string, user: string): void {
  const set = ctx.state.jobs.get(jobId(allocSet, user, ctx.cell));
  if (set === undefined) {
    throw new CorralError("bad_request", `alloc_set '${allocSet}': ${user} has no alloc set of that name in cell ${ctx.cell}; submit it first (alloc ${allocSet} = { ... })`, "allocSet");
  }
  if (set.spec.kind !== "alloc") {
    throw new CorralError("bad_request", `alloc_set '${allocSet}' is a job, not an alloc set; name an alloc set (submitted as alloc ${allocSet} = { ... })`, "allocSet");
  }
  if (set.killed || set.tasks.every((task) => task.lifecycle.state === "dead")) {
    throw new CorralError("bad_request", `alloc set '${allocSet}' was killed; submit it again before jobs can run in it`, "allocSet");
  }
  const size = set.spec.requirements;
  const need = spec.requirements;
  for (const resource of shortOf(need, size)) {
    const show = (value: number) => (resource === "cpu" ? `${Math.round(value * 1000) / 1000} cores` : formatBytes(value));
    throw new CorralError(
      "bad_request",
      `requirements.${resource} ${show(need[resource])} is more than one alloc of '${allocSet}' holds (${show(size[resource])}); a task runs inside one alloc: lower it, or resubmit the alloc set larger`,
      `requirements.${resource}`,
    );
  }
}

/** Admission control (Borg §2.5): a job must fit in its user's quota for its band. */
function checkQuota(ctx: LeaderContext, spec: JobSpec, user: string, replacing: string): void {
  if (ctx.quota === undefined) return;
  const limit = quotaFor(ctx.quota, user, spec.priority);
  if (limit === undefined) return;
  const inUse = { cpu: 0, ram: 0, disk: 0 };
  for (const job of ctx.state.jobsOf(user)) {
    // A job in an alloc set holds nothing of its own: its alloc set is what counts.
    if (job.id === replacing || job.killed || job.spec.priority !== spec.priority || job.spec.allocSet !== undefined) continue;
    const live = job.tasks.filter((task) => task.lifecycle.state !== "dead").length;
    inUse.cpu += live * job.spec.requirements.cpu;
    inUse.ram += live * job.spec.requirements.ram;
    inUse.disk += live * job.spec.requirements.disk;
  }
  const need = spec.requirements;
  const asked = { cpu: need.cpu * spec.replicas, ram: need.ram * spec.replicas, disk: need.disk * spec.replicas };
  const excess = quotaExcess(limit, inUse, asked);
  if (excess.length === 0) return;
  throw new CorralError(
    "quota_exceeded",
    `job ${spec.name} would take ${user} past the ${spec.priority} quota: ${excess.map(describeExcess).join("; ")}. ` +
      `Lower replicas or requirements, kill other ${spec.priority} jobs, use priority best-effort (no quota), or ask for more quota`,
    "replicas",
  );
}

function describeExcess({ resource, limit, wouldUse }: QuotaExcess): string {
  const show = (value: number) => (resource === "cpu" ? `${Math.round(value * 1000) / 1000} cores` : formatBytes(value));
  return `${resource} ${show(wouldUse)} of ${show(limit)} (${show(wouldUse - limit)} over)`;
}

function formatBytes(bytes: number): string {
  const GIB = 1024 ** 3;
  const MIB = 1024 ** 2;
  return bytes >= GIB ? `${Math.round((bytes / GIB) * 10) / 10}G` : `${Math.round(bytes / MIB)}M`;
}
