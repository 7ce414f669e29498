import { CorralError, jobId, type JobSpec } from "@corral/contracts";
import { newTask } from "@corral/machines";
import type { LeaderContext } from "./leader-context.js";
import type { JobRecord } from "./records.js";

/**
 * Checks a submission against the cell and adds its job with every task pending. The
 * caller commits; nothing is acknowledged before that. Throws a CorralError that names the
 * field for anything the cell refuses.
 */
export function admitJob(ctx: LeaderContext, spec: JobSpec, user: string, now = Date.now()): JobRecord {
  const { cell, state } = ctx;
  if (spec.runtime.cell !== undefined && spec.runtime.cell !== cell) {
    throw new CorralError("bad_request", `runtime.cell is '${spec.runtime.cell}' but this is cell '${cell}'; submit it to that cell or change runtime.cell`, "runtime.cell");
  }
  if (spec.user !== undefined && spec.user !== user) {
    throw new CorralError("bad_request", `user is '${spec.user}' in the spec but the submitter is '${user}'`, "user");
  }
  const id = jobId(spec.name, user, cell);
  const existing = state.jobs.get(id);
  if (existing !== undefined && existing.tasks.some((task) => task.lifecycle.state !== "dead")) {
    throw new CorralError("conflict", `job ${id} exists and has live tasks; kill it first (corral kill ${spec.name}) or choose another name`, "name");
  }
  const job: JobRecord = {
    id,
    name: spec.name,
    user,
    cell,
    spec,
    submittedAt: now,
    killed: false,
    tasks: Array.from({ length: spec.replicas }, (_, index) => ({ index, lifecycle: newTask(spec.restart), updatedAt: now, missedHeartbeats: 0 })),
  };
  state.addJob(job);
  return job;
}
