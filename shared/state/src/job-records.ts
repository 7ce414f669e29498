import { CorralError, decode, describeZodError, encode, jobSpecSchema, type JobSpec } from "@corral/contracts";
import { READABLE_TASK_LIFECYCLE_VERSIONS, TASK_LIFECYCLE_VERSION } from "@corral/machines";
import { MACHINE_FIELD_PREFIX, SUBMISSION_FIELD_PREFIX, type JobRecord, type TaskRecord } from "./records.js";

/**
 * A job is stored as a head (who, what, the spec, how many tasks; its field is the job id)
 * and one record per task (`task:<index>.<job id>`). A task that starts or exits rewrites
 * its own hundred bytes, not its job: with one record per job, every change to one task of
 * a 2,000-task job re-encoded all 2,000 on the leader and decoded them on every standby.
 * Records written before the split hold their tasks inline in the head; they are still read.
 */
export const TASK_FIELD_PREFIX = "task:";

type StoredTask = Pick<TaskRecord, "index" | "lifecycle" | "updatedAt">;

interface StoredHead {
  version: number;
  job: Omit<JobRecord, "tasks"> & { taskCount?: number; tasks?: StoredTask[] };
}

interface StoredTaskRecord {
  version: number;
  task: StoredTask;
}

export function taskField(jobId: string, index: number): string {
  return `${TASK_FIELD_PREFIX}${index}.${jobId}`;
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

export function encodeTask(task: TaskRecord): Buffer {
  const { index, lifecycle, updatedAt } = task;
  const stored: StoredTaskRecord = { version: TASK_LIFECYCLE_VERSION, task: { index, lifecycle, updatedAt } };
  return Buffer.from(encode(stored));
}

/** Every field of a job: its head and each of its tasks. */
export function jobFields(job: JobRecord): [string, Buffer][] {
  const fields: [string, Buffer][] = [[job.id, encodeJobHead(job)]];
  for (const task of job.tasks) fields.push([taskField(job.id, task.index), encodeTask(task)]);
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
  if (tasks !== undefined) return { job: { ...job, spec }, taskCount: tasks.length, inlineTasks: tasks.map((task) => ({ ...task, missedHeartbeats: 0 })) };
  if (typeof taskCount !== "number" || !Number.isInteger(taskCount) || taskCount < 0) {
    throw new CorralError("incompatible_state", `job ${field} has neither tasks nor a task count; it was stored by another Corral version`);
  }
  return { job: { ...job, spec }, taskCount };
}

/** Decodes one task record: its job's id and the task. */
export function decodeTask(field: string, bytes: Buffer): { jobId: string; task: TaskRecord } {
  const stored = decode(bytes) as StoredTaskRecord;
  checkVersion(`task ${field}`, stored.version);
  const id = field.slice(TASK_FIELD_PREFIX.length);
  const dot = id.indexOf(".");
  const index = Number(id.slice(0, dot));
  if (dot <= 0 || !Number.isInteger(index) || stored.task?.index !== index) {
    throw new CorralError("incompatible_state", `task record ${field} does not hold task ${id.slice(0, dot)} of its job; it was stored by another Corral version`);
  }
  return { jobId: id.slice(dot + 1), task: { ...stored.task, missedHeartbeats: 0 } };
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
        const { jobId, task } = decodeTask(field, bytes);
        let ofJob = tasks.get(jobId);
        if (ofJob === undefined) tasks.set(jobId, (ofJob = []));
        ofJob[task.index] = task;
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
