import { CorralError, decode, describeZodError, encode, jobSpecSchema, submissionOutcomeSchema, type JobSpec, type SubmissionOutcome } from "@corral/contracts";
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

/** State fields that hold a stream submission's outcome rather than a job. */
export const SUBMISSION_FIELD_PREFIX = "submission:";

export function encodeSubmission(outcome: SubmissionOutcome): Buffer {
  return Buffer.from(JSON.stringify(outcome));
}

export function decodeSubmission(bytes: Buffer): SubmissionOutcome {
  return submissionOutcomeSchema.parse(JSON.parse(bytes.toString("utf8")));
}

/**
 * The stored form (msgpack decoded, before validation) of each spec that decodeJob
 * validated. A job's spec rarely changes while its tasks change many times, so a follower
 * that decodes each version of the job compares the stored spec with the one it validated
 * last and keeps that one when they are the same: validation was most of a standby's cost
 * of following the log.
 */
const storedSpecOf = new WeakMap<JobSpec, string>();

/**
 * Decodes a stored job; a record from an incompatible version is an error, not a guess.
 * `previous` is the same job as decoded before (a follower's copy): its spec is kept when
 * the stored spec has not changed since.
 */
export function decodeJob(field: string, bytes: Buffer, previous?: JobRecord): JobRecord {
  const stored = decode(bytes) as StoredJob;
  if (!READABLE_TASK_LIFECYCLE_VERSIONS.includes(stored.version)) {
    throw new CorralError(
      "incompatible_state",
      `job ${field} was stored with task lifecycle version ${stored.version}; this master understands versions ${READABLE_TASK_LIFECYCLE_VERSIONS.join(", ")}`,
    );
  }
  const storedSpec = JSON.stringify(stored.job.spec);
  const spec = previous !== undefined && storedSpecOf.get(previous.spec) === storedSpec ? previous.spec : validSpec(field, stored.job.spec, storedSpec);
  return { ...stored.job, spec, tasks: stored.job.tasks.map((task) => ({ ...task, missedHeartbeats: 0 })) };
}

function validSpec(field: string, stored: unknown, storedForm: string): JobSpec {
  const spec = jobSpecSchema.safeParse(stored);
  if (!spec.success) {
    throw new CorralError("incompatible_state", `job ${field} has a spec this version cannot read (${describeZodError(spec.error).message}); it was stored by another Corral version`);
  }
  storedSpecOf.set(spec.data, storedForm);
  return spec.data;
}
