// What `corral events` shows: lifecycle changes as a job's history entries, published per job.
import { subjects, type HistoryEntry } from "@corral/contracts";
import type { NatsConnection } from "@corral/kit";
import type { TaskChange } from "../state/task-ref.js";

/** A lifecycle change as people read it in `corral events`. */
export function historyEntryOf(change: TaskChange, now = Date.now()): HistoryEntry | undefined {
  const { ref, from, to } = change;
  const context = ref.task.lifecycle.context;
  const base = { at: now, task: ref.task.index, incarnation: context.incarnation };
  const reason = context.reason ?? "";
  switch (to) {
    case "assigned":
      return { ...base, kind: "scheduled", node: context.node!, text: `scheduled on ${context.node}${context.alloc === undefined ? "" : ` in alloc ${context.alloc}`}` };
    case "running":
      return { ...base, kind: "started", node: context.node!, text: `started on ${context.node}${context.pid === undefined || context.pid === 0 ? "" : ` (pid ${context.pid})`}` };
    case "terminating":
      return { ...base, kind: "stopping", text: `stopping: ${reason}` };
    case "dead":
      return { ...base, kind: "dead", text: `dead: ${reason}` };
    case "pending":
      if (from === "pending") return undefined;
      switch (context.reasonCode) {
        case "preempted":
        case "evicted":
          return { ...base, kind: context.reasonCode, text: reason };
        case "machine_lost":
        case "vanished":
        case "alloc_stopped":
          return { ...base, kind: "lost", text: reason };
        default:
          return { ...base, kind: "restarting", text: `restarting: ${reason}` };
      }
    default:
      return undefined;
  }
}

/** Publishes entries to the job's history subject (the history stream keeps them); one message per job per call. */
export function publishHistory(nc: NatsConnection, cell: string, byJob: ReadonlyMap<string, HistoryEntry[]>): void {
  for (const [job, entries] of byJob) {
    if (entries.length === 0) continue;
    // Plain JSON: any NATS client can read a job's history.
    nc.publish(subjects.jobHistory(cell, job), JSON.stringify({ job, entries }));
  }
}

/** One job-level or task-level entry, published at once. */
export function recordHistory(nc: NatsConnection, cell: string, job: string, entry: HistoryEntry): void {
  publishHistory(nc, cell, new Map([[job, [entry]]]));
}
