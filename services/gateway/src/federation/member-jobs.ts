import { createHash } from "node:crypto";
import { CorralError, FEDERATION_LABEL, jobId, jobStatus, killJob, scaleJob, submitJob, subjects, type FederatedJobRecord, type JobSpec, type JobView } from "@corral/contracts";
import { callRpc, type NatsConnection } from "@corral/kit";
import type { MemberObservation } from "./placement.js";

/** A federated job's part in one cell is an ordinary job of the same name there: `<job>.<user>.<cell>`. */
export function memberJobId(record: Pick<FederatedJobRecord, "name" | "user">, cell: string): string {
  return jobId(record.name, record.user, cell);
}

/** The member job's spec: the federated spec, in that cell, with that share, labelled as a member. */
export function memberSpec(record: FederatedJobRecord, cell: string, replicas: number): JobSpec {
  return { ...record.spec, runtime: { cell }, replicas, labels: { ...record.spec.labels, [FEDERATION_LABEL]: record.id } };
}

export function observeMember(view: JobView, federatedId: string): MemberObservation {
  const ours = view.labels[FEDERATION_LABEL] === federatedId;
  if (view.withinReplicas !== undefined) {
    // Counts only (see fetchMember): the same numbers, counted by the cell's leader.
    const terminating = view.summary.terminating ?? 0;
    const live = Object.values(view.summary).reduce((sum, count) => sum + count, 0) - (view.summary.dead ?? 0);
    return { replicas: view.replicas, running: view.withinReplicas.running, finished: view.killed ? 0 : view.withinReplicas.dead, terminating, live, killed: view.killed, ours };
  }
  let running = 0;
  let finished = 0;
  let terminating = 0;
  let live = 0;
  for (const task of view.tasks) {
    if (task.state !== "dead") live += 1;
    if (task.state === "terminating") terminating += 1;
    if (task.index >= view.replicas) continue; // stopped by a scale down
    // an unhealthy copy is not one the federation can count on
    if (task.state === "running" && task.health !== "unhealthy") running += 1;
    // dead below replicas in a live job: it ran to its end under its restart policy
    if (task.state === "dead" && !view.killed) finished += 1;
  }
  return { replicas: view.replicas, running, finished, terminating, live, killed: view.killed, ours };
}

/**
 * The member job's view, undefined if the cell has none; throws unavailable when the cell
 * does not answer. With `countsOnly`, without its task list: a reconciliation pass needs
 * only counts, and a member of thousands of tasks would otherwise cost a big reply a pass.
 */
export async function fetchMember(nc: NatsConnection, cell: string, id: string, options: { timeoutMs?: number; countsOnly?: boolean } = {}): Promise<JobView | undefined> {
  try {
    const query = options.countsOnly === true ? { job: id, countsOnly: true as const } : { job: id };
    const { jobs } = await callRpc(nc, subjects.api(cell, "status"), jobStatus, cell, query, { timeoutMs: options.timeoutMs ?? 1500 });
    return jobs[0];
  } catch (error) {
    if (error instanceof CorralError && error.code === "not_found") return undefined;
    throw error;
  }
}

/**
 * A member submission's request id: the same for a retry of one attempt (the cell answers
 * it again rather than adding a job), new for each attempt and each generation.
 */
export function memberRequestId(record: FederatedJobRecord, cell: string, attempt: number): string {
  // submittedAt and the submission's own id: a name killed, forgotten and submitted again
  // never shares a request id (and so a stored answer) with its predecessor.
  return `fed-${createHash("sha256").update(`${record.id}/${record.generation}/${record.submittedAt}/${record.requestId ?? ""}/${cell}/${attempt}`).digest("hex").slice(0, 40)}`;
}

export async function submitMember(nc: NatsConnection, record: FederatedJobRecord, cell: string, replicas: number, attempt: number): Promise<JobView> {
  const request = { spec: memberSpec(record, cell, replicas), user: record.user, requestId: memberRequestId(record, cell, attempt) };
  const { job } = await callRpc(nc, subjects.api(cell, "submit"), submitJob, cell, request, { timeoutMs: 5000 });
  return job;
}

export async function scaleMember(nc: NatsConnection, record: FederatedJobRecord, cell: string, replicas: number): Promise<JobView> {
  const { job } = await callRpc(nc, subjects.api(cell, "scale"), scaleJob, cell, { job: memberJobId(record, cell), replicas }, { timeoutMs: 5000 });
  return job;
}

export async function killMember(nc: NatsConnection, record: FederatedJobRecord, cell: string): Promise<JobView> {
  const { job } = await callRpc(nc, subjects.api(cell, "kill"), killJob, cell, { job: memberJobId(record, cell) }, { timeoutMs: 5000 });
  return job;
}
