import { decode, encode, jobSpecSchema, submissionOutcomeSchema, type JobSpec, type SubmissionOutcome } from "@corral/contracts";
import type { CellState } from "./cell-state.js";
import { TASK_LIFECYCLE_VERSION, type TaskLifecycleState } from "@corral/machines";

export interface TaskRecord {
  index: number;
  lifecycle: TaskLifecycleState;
  updatedAt: number;
  /** heartbeats of its machine in a row that did not mention it (not persisted) */
  missedHeartbeats: number;
}

export interface JobRecord {
  id: string;
  name: string;
  user: string;
  cell: string;
  spec: JobSpec;
  submittedAt: number;
  killed: boolean;
  tasks: TaskRecord[];
}

interface StoredJob {
  version: number;
  job: Omit<JobRecord, "tasks"> & { tasks: Omit<TaskRecord, "missedHeartbeats">[] };
}

export function encodeJob(job: JobRecord): Buffer {
  const stored: StoredJob = {
    version: TASK_LIFECYCLE_VERSION,
    job: { ...job, tasks: job.tasks.map(({ index, lifecycle, updatedAt }) => ({ index, lifecycle, updatedAt })) },
  };
  return Buffer.from(encode(stored));
}

/** State hash fields that hold a stream submission's outcome rather than a job. */
export const SUBMISSION_FIELD_PREFIX = "submission:";

export function encodeSubmission(outcome: SubmissionOutcome): Buffer {
  return Buffer.from(JSON.stringify(outcome));
}

export function decodeSubmission(bytes: Buffer): SubmissionOutcome {
  return submissionOutcomeSchema.parse(JSON.parse(bytes.toString("utf8")));
}

/** Puts one stored state hash field (a job or a submission outcome) into the in-memory state. */
export function applyStoredField(state: CellState, field: string, bytes: Buffer): void {
  if (field.startsWith(SUBMISSION_FIELD_PREFIX)) {
    const outcome = decodeSubmission(bytes);
    state.submissions.set(outcome.id, outcome);
  } else {
    state.addJob(decodeJob(field, bytes));
  }
}

/** Decodes a stored job; a record from an incompatible version is an error, not a guess. */
export function decodeJob(field: string, bytes: Buffer): JobRecord {
  const stored = decode(bytes) as StoredJob;
  if (stored.version !== TASK_LIFECYCLE_VERSION) {
    throw new Error(
      `job ${field} was stored with task lifecycle version ${stored.version}; this master understands version ${TASK_LIFECYCLE_VERSION}`,
    );
  }
  const spec = jobSpecSchema.parse(stored.job.spec);
  return { ...stored.job, spec, tasks: stored.job.tasks.map((task) => ({ ...task, missedHeartbeats: 0 })) };
}
