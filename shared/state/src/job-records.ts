import { CorralError, decode, describeZodError, encode, jobSpecSchema, type JobSpec } from "@corral/contracts";
import { READABLE_TASK_LIFECYCLE_VERSIONS, TASK_LIFECYCLE_VERSION, upgradedLifecycle } from "@corral/machines";
import { MACHINE_FIELD_PREFIX, SUBMISSION_FIELD_PREFIX, type JobRecord, type TaskRecord } from "./records.js";

/**
 * A job is stored as a head (who, what, the spec, how many tasks; its field is the job id)
 * and its tasks in records of TASKS_PER_RECORD (`tasks:<n>.<job id>` holds tasks
 * n × TASKS_PER_RECORD onwards). A task that starts or exits rewrites its own record, not
 * its job: with one record per job, every change to one task of a 2,000-task job
 * re-encoded all 2,000 on the leader and decoded them on every standby. A record per task
 * would cost more than it saves where a job's tasks change together (measured: 439 → 510 µs
 * of control-plane cpu per task in `throughput`, jobs of about ten tasks), so they are grouped.
 * Records written before the split hold their tasks inline in the head; they are still read.
 */
export const TASK_FIELD_PREFIX = "tasks:";
export const TASKS_PER_RECORD = 32;

type StoredTask = Pick<TaskRecord, "index" | "lifecycle" | "updatedAt" | "revision">;

interface StoredHead {
  version: number;
  job: Omit<JobRecord, "tasks"> & { taskCount?: number; tasks?: StoredTask[] };
}

interface StoredTaskRecord {
  version: number;
  /** tasks n × TASKS_PER_RECORD onwards, in index order */
  tasks: StoredTask[];
}

/** The field of the record that holds a task. */
export function taskField(jobId: string, index: number): string {
  return `${TASK_FIELD_PREFIX}${Math.floor(index / TASKS_PER_RECORD)}.${jobId}`;
}

/** The fields of a job's task records that hold none of its first `taskCount` tasks: what a job replaced by a smaller one leaves behind. */
export function taskFieldsPast(jobId: string, taskCount: number, previousCount: number): string[] {
  const fields: string[] = [];
  for (let n = Math.ceil(taskCount / TASKS_PER_RECORD); n < Math.ceil(previousCount / TASKS_PER_RECORD); n++) fields.push(`${TASK_FIELD_PREFIX}${n}.${jobId}`);
  return fields;
}

/** Whether a stored field is a job's head (the rest are tasks, submission outcomes and machines). */
export function isJobHeadField(field: string): boolean {
  return !field.startsWith(TASK_FIELD_PREFIX) && !field.startsWith(SUBMISSION_FIELD_PREFIX) && !field.startsWith(MACHINE_FIELD_PREFIX);
}

export function encodeJobHead(job: JobRecord): Buffer {
  const { tasks, ...head } = job;
  const stored: StoredHead = { version: TASK_LIFECYCLE_VERSION, job: { ...head, taskCount: tasks.length } };
  return Buffer.from(encode(stored));
}

/** The task record that holds `index`, with the job's tasks as they are now. */
export function encodeTaskRecord(job: JobRecord, index: number): [string, Buffer] {
  const first = Math.floor(index / TASKS_PER_RECORD) * TASKS_PER_RECORD;
  const tasks = job.tasks.slice(first, first + TASKS_PER_RECORD).map(({ index, lifecycle, updatedAt, revision }) => (revision === undefined ? { index, lifecycle, updatedAt } : { index, lifecycle, updatedAt, revision }));
  const stored: StoredTaskRecord = { version: TASK_LIFECYCLE_VERSION, tasks };
  return [taskField(job.id, index), Buffer.from(encode(stored))];
}

/** Every field of a job: its head and all its task records. */
export function jobFields(job: JobRecord): [string, Buffer][] {
  const fields: [string, Buffer][] = [[job.id, encodeJobHead(job)]];
  for (let first = 0; first < job.tasks.length; first += TASKS_PER_RECORD) fields.push(encodeTaskRecord(job, first));
  return fields;
}

export interface JobHead {
  job: Omit<JobRecord, "tasks">;
  /** how many tasks the job has: its task records are 0 … taskCount - 1 */
  taskCount: number;
  /** the tasks of a record written before heads and tasks were split */
  inlineTasks?: TaskRecord[];
}

function checkVersion(what: string, version: unknown): void {
  if (typeof version !== "number" || !READABLE_TASK_LIFECYCLE_VERSIONS.includes(version)) {
    throw new CorralError(
      "incompatible_state",
      `${what} was stored with task lifecycle version ${String(version)}; this master understands versions ${READABLE_TASK_LIFECYCLE_VERSIONS.join(", ")}`,
    );
  }
}

/**
 * The stored form (msgpack decoded, before validation) of each spec that decodeJobHead
 * validated: a follower that decodes a head again (a kill, a scale) keeps the spec it
 * validated when the stored one has not changed.
 */
const storedSpecOf = new WeakMap<JobSpec, string>();

function validSpec(field: string, stored: unknown, storedForm: string): JobSpec {
  const spec = jobSpecSchema.safeParse(stored);
  if (!spec.success) {
    throw new CorralError("incompatible_state", `job ${field} has a spec this version cannot read (${describeZodError(spec.error).message}); it was stored by another Corral version`);
  }
  storedSpecOf.set(spec.data, storedForm);
  return spec.data;
}

/**
 * Decodes a job's head; a record from an incompatible version is an error, not a guess.
 * `previousSpec` is the spec of the same job as decoded before (a follower's copy): it is
 * kept when the stored spec has not changed since.
 */
export function decodeJobHead(field: string, bytes: Buffer, previousSpec?: JobSpec): JobHead {
  const stored = decode(bytes) as StoredHead;
  checkVersion(`job ${field}`, stored.version);
  const { tasks, taskCount, ...job } = stored.job;
  const storedSpec = JSON.stringify(job.spec);
  const spec = previousSpec !== undefined && storedSpecOf.get(previousSpec) === storedSpec ? previousSpec : validSpec(field, job.spec, storedSpec);
  // A revision's spec is run again by a revert or an undo: it is checked as the job's own is.
  if (job.revisions !== undefined) job.revisions = job.revisions.map((revision) => ({ ...revision, spec: validSpec(`${field} revision ${revision.revision}`, revision.spec, JSON.stringify(revision.spec)) }));
  if (tasks !== undefined) return { job: { ...job, spec }, taskCount: tasks.length, inlineTasks: tasks.map((task) => ({ ...task, lifecycle: upgradedLifecycle(task.lifecycle, stored.version), missedHeartbeats: 0 })) };
  if (typeof taskCount !== "number" || !Number.isInteger(taskCount) || taskCount < 0) {
    throw new CorralError("incompatible_state", `job ${field} has neither tasks nor a task count; it was stored by another Corral version`);
  }
  return { job: { ...job, spec }, taskCount };
}

/** Decodes one task record: its job's id and its tasks. */
export function decodeTaskRecord(field: string, bytes: Buffer): { jobId: string; tasks: TaskRecord[] } {
  const stored = decode(bytes) as StoredTaskRecord;
  checkVersion(`task record ${field}`, stored.version);
  const name = field.slice(TASK_FIELD_PREFIX.length);
  const dot = name.indexOf(".");
  const first = Number(name.slice(0, dot)) * TASKS_PER_RECORD;
  const tasks = Array.isArray(stored.tasks) ? stored.tasks : [];
  if (dot <= 0 || !Number.isInteger(first) || tasks.length === 0 || tasks.length > TASKS_PER_RECORD || tasks.some((task, i) => task?.index !== first + i)) {
    throw new CorralError("incompatible_state", `task record ${field} does not hold tasks ${first} onwards of its job; it was stored by another Corral version`);
  }
  return { jobId: name.slice(dot + 1), tasks: tasks.map((task) => ({ ...task, lifecycle: upgradedLifecycle(task.lifecycle, stored.version), missedHeartbeats: 0 })) };
}

/**
 * The jobs a set of stored records holds, each with all its tasks. A job whose head or
 * tasks cannot be read, or that misses a task, is an error; with `onUnreadable` it is
 * reported there and left out instead.
 */
export function decodeJobs(records: ReadonlyMap<string, Buffer>, onUnreadable?: (field: string, error: Error) => void): JobRecord[] {
  const fail = (field: string, error: Error) => {
    if (onUnreadable === undefined) throw error;
    onUnreadable(field, error);
  };
  const heads = new Map<string, JobHead>();
  const tasks = new Map<string, TaskRecord[]>();
  for (const [field, bytes] of records) {
    try {
      if (field.startsWith(TASK_FIELD_PREFIX)) {
        const record = decodeTaskRecord(field, bytes);
        let ofJob = tasks.get(record.jobId);
        if (ofJob === undefined) tasks.set(record.jobId, (ofJob = []));
        for (const task of record.tasks) ofJob[task.index] = task;
      } else if (isJobHeadField(field)) heads.set(field, decodeJobHead(field, bytes));
    } catch (error) {
      fail(field, error as Error);
    }
  }
  const jobs: JobRecord[] = [];
  for (const [id, head] of heads) {
    const stored = head.inlineTasks ?? tasks.get(id) ?? [];
    const jobTasks: TaskRecord[] = [];
    for (let index = 0; index < head.taskCount; index++) {
      const task = stored[index];
      if (task === undefined) break;
      jobTasks.push(task);
    }
    if (jobTasks.length < head.taskCount) {
      fail(id, new CorralError("incompatible_state", `job ${id} has ${head.taskCount} tasks but no record of task ${jobTasks.length}; the stored state is incomplete`));
      continue;
    }
    jobs.push({ ...head.job, tasks: jobTasks });
  }
  return jobs;
}
