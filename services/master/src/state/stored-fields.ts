// Stored records back into a CellState. Recovery from a checkpoint and a standby following the log
// both come through here, so the stored form is read one way.
import { CorralError } from "@corral/contracts";
import { decodeJobHead, decodeMachine, decodeSubmission, decodeTaskRecord, MACHINE_FIELD_PREFIX, SUBMISSION_FIELD_PREFIX, TASK_FIELD_PREFIX, type JobHead, type TaskRecord } from "@corral/state";
import { CellState } from "./cell-state.js";

/**
 * Applies stored changes (a field and its new bytes, or undefined where it was deleted) to
 * the in-memory state. Tasks go last, in index order, so a new job's head is there before
 * its tasks and a job's new tasks are appended in order, whatever order the fields came in.
 */
export function applyStoredChanges(state: CellState, changes: Iterable<readonly [string, Buffer | undefined]>): void {
  const tasks: { jobId: string; task: TaskRecord }[] = [];
  /** how many tasks each head applied here says its job has */
  const taskCounts = new Map<string, number>();
  for (const [field, bytes] of changes) {
    // A deleted task record belongs to a job replaced by one with fewer tasks: its new head has dropped them already.
    if (field.startsWith(TASK_FIELD_PREFIX)) {
      if (bytes !== undefined) {
        const record = decodeTaskRecord(field, bytes);
        for (const task of record.tasks) tasks.push({ jobId: record.jobId, task });
      }
    } else if (bytes === undefined) removeStoredField(state, field);
    else {
      const head = applyStoredField(state, field, bytes);
      if (head !== undefined) taskCounts.set(field, head.taskCount);
    }
  }
  tasks.sort((a, b) => a.task.index - b.task.index);
  for (const { jobId, task } of tasks) {
    const job = state.jobs.get(jobId);
    if (job === undefined || task.index > job.tasks.length) {
      throw new CorralError("incompatible_state", `task ${task.index}.${jobId} is stored without its job or the tasks before it; the stored state is incomplete`);
    }
    state.putTask(job, task);
  }
  for (const [jobId, taskCount] of taskCounts) {
    const held = state.jobs.get(jobId)?.tasks.length ?? 0;
    if (held !== taskCount) throw new CorralError("incompatible_state", `job ${jobId} has ${taskCount} tasks but records of ${held}; the stored state is incomplete`);
  }
}

/** Puts one stored record other than a task (a job's head, a submission outcome or a machine) into the in-memory state. */
function applyStoredField(state: CellState, field: string, bytes: Buffer): JobHead | undefined {
  if (field.startsWith(SUBMISSION_FIELD_PREFIX)) {
    const outcome = decodeSubmission(bytes);
    state.submissions.set(outcome.id, outcome);
  } else if (field.startsWith(MACHINE_FIELD_PREFIX)) {
    // Liveness is not stored: a leader that takes over gives every machine a fresh grace period (LeaderTerm.start).
    state.nodes.set(field.slice(MACHINE_FIELD_PREFIX.length), { ...decodeMachine(field, bytes), lastHeartbeat: Date.now(), epochSeen: 0 });
  } else {
    const previous = state.jobs.get(field);
    const head = decodeJobHead(field, bytes, previous?.spec);
    // The tasks it had stay until their own records (in the same commit, when they changed) replace them.
    state.addJob({ ...head.job, tasks: head.inlineTasks ?? previous?.tasks.slice(0, head.taskCount) ?? [] });
    return head;
  }
  return undefined;
}

/** Takes one deleted record other than a task out of the in-memory state. */
function removeStoredField(state: CellState, field: string): void {
  if (field.startsWith(SUBMISSION_FIELD_PREFIX)) state.submissions.delete(field.slice(SUBMISSION_FIELD_PREFIX.length));
  else if (field.startsWith(MACHINE_FIELD_PREFIX)) state.nodes.delete(field.slice(MACHINE_FIELD_PREFIX.length));
  else state.removeJob(field);
}

/** The in-memory state of a set of stored records. */
export function stateOfRecords(records: ReadonlyMap<string, Buffer>): CellState {
  const state = new CellState();
  applyStoredChanges(state, records);
  state.clearDirty(); // loaded, not changed
  return state;
}
