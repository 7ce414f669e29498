import { z } from "zod";
import { CorralError, decode, describeZodError, encode, heartbeatFields, nodeNameSchema, submissionOutcomeSchema, type JobSpec, type RevisionView, type Rollout, type SubmissionOutcome } from "@corral/contracts";
import { READABLE_TASK_LIFECYCLE_VERSIONS, TASK_LIFECYCLE_VERSION, type TaskLifecycleState } from "@corral/machines";

/** The version of the records below; checkpoints and log entries carry it. */
export const RECORDS_VERSION = TASK_LIFECYCLE_VERSION;
/** The record versions this code reads. */
export const READABLE_RECORDS_VERSIONS = READABLE_TASK_LIFECYCLE_VERSIONS;

export interface TaskRecord {
  index: number;
  lifecycle: TaskLifecycleState;
  updatedAt: number;
  /** heartbeats of its machine in a row that did not mention it (not persisted) */
  missedHeartbeats: number;
  /** what its borglet last measured of it (not persisted) */
  usage?: { cpu: number; ram: number };
  /** its reservation decaying from `from` toward `target` since `at` (resource reclamation; not persisted) */
  reserve?: { from: { cpu: number; ram: number }; target: { cpu: number; ram: number }; at: number };
  /** its health check's last verdict, as its borglet reported it (not persisted) */
  health?: "healthy" | "unhealthy";
  /** since when this leader has known it healthy (not persisted: a new leader waits afresh) */
  healthySince?: number;
  /** a run being replaced keeps running until then, out of its job's names (the update policy's drain; not persisted) */
  drainUntil?: number;
  /** the job's revision its current run was placed from; absent for tasks placed before revisions (1) */
  revision?: number;
}

/** A job's revision as the leader keeps it: how it came and ended, and the spec, which a revert or undo runs again. */
export type RevisionRecord = RevisionView & { spec: JobSpec };

/** The revisions a job keeps, the newest last; older ones are dropped. */
export const KEPT_REVISIONS = 10;

export interface JobRecord {
  id: string;
  name: string;
  user: string;
  cell: string;
  spec: JobSpec;
  submittedAt: number;
  killed: boolean;
  tasks: TaskRecord[];
  /** the current revision; absent for jobs never updated (1) */
  revision?: number;
  /** the last KEPT_REVISIONS revisions, oldest first; absent for jobs never updated */
  revisions?: RevisionRecord[];
  /** the latest rollout, while it runs and after it ended */
  rollout?: Rollout;
}

/** The revision a job is at (1 until its first update). */
export function revisionOf(job: Pick<JobRecord, "revision">): number {
  return job.revision ?? 1;
}

/** The revision a task's current run was placed from. */
export function taskRevisionOf(task: Pick<TaskRecord, "revision">): number {
  return task.revision ?? 1;
}

/** State fields that hold a stream submission's outcome rather than a job. */
export const SUBMISSION_FIELD_PREFIX = "submission:";

export function encodeSubmission(outcome: SubmissionOutcome): Buffer {
  return Buffer.from(JSON.stringify(outcome));
}

export function decodeSubmission(bytes: Buffer): SubmissionOutcome {
  return submissionOutcomeSchema.parse(JSON.parse(bytes.toString("utf8")));
}

/**
 * State fields that hold a machine as the leader last knew it (its shape and the digest its
 * heartbeats carry), rather than a job. Liveness stays soft state, but a new leader that
 * starts with every machine's digest takes the link shards' "alive, unchanged" reports at
 * once instead of asking every machine for a full heartbeat in its first seconds.
 */
export const MACHINE_FIELD_PREFIX = "machine:";
const MACHINE_RECORD_VERSION = 1;

const storedMachineSchema = z.object({
  version: z.literal(MACHINE_RECORD_VERSION),
  machine: heartbeatFields
    .pick({ host: true, pid: true, capacity: true, attributes: true, portRange: true, heartbeatMs: true })
    .extend({ name: nodeNameSchema, state: z.enum(["up", "down"]), digest: z.string().min(1).max(64).optional() }),
});

export type StoredMachine = z.infer<typeof storedMachineSchema>["machine"];

export function encodeMachine(machine: StoredMachine): Buffer {
  const { name, host, pid, capacity, attributes, portRange, heartbeatMs, state, digest } = machine;
  const stored: z.infer<typeof storedMachineSchema> = {
    version: MACHINE_RECORD_VERSION,
    machine: { name, host, pid, capacity, attributes, portRange, state, ...(heartbeatMs === undefined ? {} : { heartbeatMs }), ...(digest === undefined ? {} : { digest }) },
  };
  return Buffer.from(encode(stored));
}

/** Decodes a stored machine; one this version cannot read is an error that names it. */
export function decodeMachine(field: string, bytes: Buffer): StoredMachine {
  const parsed = storedMachineSchema.safeParse(decode(bytes));
  if (!parsed.success) {
    throw new CorralError("incompatible_state", `machine record ${field} cannot be read by this version (${describeZodError(parsed.error).message}); it was stored by another Corral version`);
  }
  return parsed.data.machine;
}
