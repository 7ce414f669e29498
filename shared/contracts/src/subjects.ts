/**
 * Every NATS subject Corral uses is built here; services never write subject strings.
 * Layout: corral.<cell>.<area>.… (docs/architecture.md § Messages and subjects).
 */

export type ApiVerb = "submit" | "kill" | "scale" | "update" | "rollout" | "revisions" | "status" | "nodes" | "stats" | "why" | "plan";
export const API_VERBS: readonly ApiVerb[] = ["submit", "kill", "scale", "update", "rollout", "revisions", "status", "nodes", "stats", "why", "plan"];

const root = (cell: string) => `corral.${cell}`;

export const subjects = {
  /** gateway → leader, request/reply. */
  api: (cell: string, verb: ApiVerb) => `${root(cell)}.api.${verb}`,
  apiAny: (cell: string) => `${root(cell)}.api.*`,
  /** gateway → any standby, request/reply in a queue group: read-only queries from replicated state. */
  read: (cell: string, verb: "status") => `${root(cell)}.read.${verb}`,
  readAny: (cell: string) => `${root(cell)}.read.*`,
  /** leader → standbys: the leader gave its lease up (a graceful stop): try for it now. */
  leaseReleased: (cell: string) => `${root(cell)}.lease.released`,
  /** new leader → everyone: a term serves the API now, so a request sent to the dead leader is sent again at once. */
  leaderServing: (cell: string) => `${root(cell)}.lease.serving`,
  /** borglet → link shards (a queue group over every master): heartbeat with capacity, attributes and running tasks. */
  nodeHeartbeat: (cell: string, node: string) => `${root(cell)}.node.${node}.hb`,
  nodeHeartbeatAny: (cell: string) => `${root(cell)}.node.*.hb`,
  /** any master → borglet: send the task list whole in the next heartbeat (its digest did not match); not fenced, since it changes nothing. */
  nodeHeartbeatWanted: (cell: string, node: string) => `${root(cell)}.node.${node}.hbwanted`,
  /** link shard → leader, request/reply: machines whose heartbeats changed nothing; the answer names those it wants in full. */
  linkAlive: (cell: string) => `${root(cell)}.link.alive`,
  /** link shard → leader: heartbeats that differ from the committed state, in full. */
  linkHeartbeats: (cell: string) => `${root(cell)}.link.heartbeats`,
  /** leader → borglet: lease grants and revocations, carrying the epoch. */
  nodeCommands: (cell: string, node: string) => `${root(cell)}.node.${node}.cmd`,
  /** borglet → leader: task state changes, batched per tick. */
  nodeEvents: (cell: string, node: string) => `${root(cell)}.node.${node}.events`,
  nodeEventsAny: (cell: string) => `${root(cell)}.node.*.events`,
  /** anyone → borglet, request/reply: a task's captured output. */
  nodeLogs: (cell: string, node: string) => `${root(cell)}.node.${node}.logs`,
  /** scheduler → leader, request/reply: pending tasks and machine capacity. */
  schedWork: (cell: string) => `${root(cell)}.sched.work`,
  /** scheduler → leader, request/reply: placements to re-check and commit. */
  schedPlan: (cell: string) => `${root(cell)}.sched.plan`,
  /** leader → schedulers: there is new work or freed capacity. */
  schedKick: (cell: string) => `${root(cell)}.sched.kick`,
  /**
   * a producer → leader: the durable JetStream submit stream (JSON submissions), under the
   * user whose submissions they are; NATS lets each producer publish only under its own user.
   */
  submitStream: (cell: string, user: string) => `${root(cell)}.submit.${user}`,
  submitStreamAll: (cell: string) => `${root(cell)}.submit.*`,
  /** leader → the producer: how a stream submission was decided (JSON). */
  submissionOutcome: (cell: string, id: string) => `${root(cell)}.events.submissions.${id}`,
  /** leader → watchers: committed task state changes. */
  taskEvents: (cell: string) => `${root(cell)}.events.tasks`,
  /** leader → the job's history stream (JSON, bounded per job): what happened to the job and its tasks. */
  jobHistory: (cell: string, jobId: string) => `${root(cell)}.history.${jobId}`,
  /** every job's history subject, for the stream that keeps them */
  jobHistoryAll: (cell: string) => `${root(cell)}.history.>`,
  /** gateways → the audit stream: one record per change asked of the cell, under who asked (`-` for nobody known). */
  audit: (cell: string, user: string) => `${root(cell)}.audit.${user}`,
  auditAll: (cell: string) => `${root(cell)}.audit.>`,
} as const;

/** The node id token of a `corral.<cell>.node.<id>.<kind>` subject. */
export function nodeFromSubject(subject: string): string | undefined {
  const parts = subject.split(".");
  return parts.length === 5 && parts[2] === "node" ? parts[3] : undefined;
}
