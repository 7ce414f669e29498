// How the master names one task of a job, and what it reads off one. Apart from CellState so that
// the state and its task index share these without importing each other.
import { taskId, type TaskState } from "@corral/contracts";
import { restartBackoffMs } from "@corral/machines";
import type { JobRecord, TaskRecord } from "@corral/state";

export interface TaskRef {
  job: JobRecord;
  task: TaskRecord;
  id: string;
}

/** The task of a job as the leader refers to it. */
export function taskRefOf(job: JobRecord, task: TaskRecord): TaskRef {
  return { job, task, id: taskId(task.index, job.id) };
}

export interface TaskChange {
  ref: TaskRef;
  from: TaskState;
  to: TaskState;
}

/** When a pending task may be placed: at once, or after its restart backoff from the time it went pending. */
export function eligibleAt(ref: TaskRef): number {
  if (ref.task.lifecycle.context.backingOff !== true) return 0; // lost or preempted: no fault of its own
  const backoff = restartBackoffMs(ref.task.lifecycle.context.crashStreak ?? 0);
  return backoff === 0 ? 0 : ref.task.updatedAt + backoff;
}
