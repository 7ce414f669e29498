// The leader's in-memory cell, the one state every handler reads and changes. Standbys keep the
// same class as their followed copy, so a takeover leads from it as it is. This file holds the
// records and what the next commit writes; what is derived from the tasks is in task-index.ts.
import { PLACED_STATES, taskId, type JobSpec, type SubmissionOutcome, type HeartbeatTask, type Resources } from "@corral/contracts";
import { applyTaskEvent, type TaskLifecycleEvent } from "@corral/machines";
import { revisionOf, type JobRecord, type TaskRecord } from "@corral/state";
import { isAlloc } from "../allocs/alloc-sets.js";
import { TaskIndex, type AllocUsage, type NodeUsage } from "./task-index.js";
import type { TaskChange, TaskRef } from "./task-ref.js";

export interface NodeRecord {
  name: string;
  host: string;
  pid: number;
  capacity: Resources;
  attributes: Record<string, string>;
  portRange: [number, number];
  state: "up" | "down";
  lastHeartbeat: number;
  epochSeen: number;
  /** machineDigest of its last full heartbeat: link shards report it alive with this */
  digest?: string;
  /** how often it heartbeats, as its heartbeats say: it is down only after missing several */
  heartbeatMs?: number;
  /** known only from its tasks: this term has not heard from it yet, so its shape is unknown */
  awaitingFirstHeartbeat?: true;
}

/** The records of the keys in `dirty` that still exist, emptying `dirty`: what the next commit writes. */
function takeDirty<T>(dirty: Set<string>, records: ReadonlyMap<string, T>): T[] {
  const taken: T[] = [];
  for (const key of dirty) {
    const record = records.get(key);
    if (record !== undefined) taken.push(record);
  }
  dirty.clear();
  return taken;
}

/**
 * The leader's in-memory view of the cell: jobs with their tasks (durable, in Redis) and
 * machines (their shape and digest stored too, so a new leader knows them; their liveness
 * is soft state, rebuilt from heartbeats). Every task state change goes through
 * `transition`, which runs the lifecycle machine and keeps the task index right.
 */
export class CellState {
  readonly jobs = new Map<string, JobRecord>();
  readonly nodes = new Map<string, NodeRecord>();
  /** the pending queue, the tasks on each machine and their usage: see TaskIndex */
  private readonly index = new TaskIndex(this);
  /** jobs whose head (who, what, the spec, how many tasks) changed since the last commit */
  private readonly dirtyJobs = new Set<string>();
  /** jobs whose rollout runs, kept as their heads change: the rollout loop looks at these, not at every job */
  private readonly rolling = new Set<string>();
  /** tasks changed since the last commit: a task's change writes only the record that holds it */
  private readonly dirtyTasks = new Set<string>();
  /** jobs replaced by one with fewer tasks, with how many they had: their task records past the new count are deleted */
  private readonly shrunkJobs = new Map<string, number>();
  /** machines whose stored record (shape, digest, up or down) changed since the last commit */
  private readonly dirtyNodes = new Set<string>();
  /** how each stream submission was decided, by its id: a duplicate gets the same answer */
  readonly submissions = new Map<string, SubmissionOutcome>();
  private readonly dirtySubmissions = new Set<string>();
  private readonly forgottenSubmissions = new Set<string>();
  private readonly jobsByUser = new Map<string, Set<string>>();
  /** ids of the jobs that are alloc sets */
  readonly allocSets = new Set<string>();
  /** every job id in order, for paged lists; dropped whenever a job comes or goes */
  private sortedIds: string[] | undefined;

  /** Every job id, sorted: lists are paged by id, so a page's place survives jobs coming and going. */
  jobIdsInOrder(): readonly string[] {
    this.sortedIds ??= [...this.jobs.keys()].sort();
    return this.sortedIds;
  }

  addJob(job: JobRecord): void {
    const previous = this.jobs.get(job.id);
    if (previous === undefined) this.sortedIds = undefined;
    if (previous !== undefined) for (const task of previous.tasks) this.index.remove(previous, task);
    this.jobs.set(job.id, job);
    let owned = this.jobsByUser.get(job.user);
    if (owned === undefined) {
      owned = new Set();
      this.jobsByUser.set(job.user, owned);
    }
    owned.add(job.id);
    if (isAlloc(job)) this.allocSets.add(job.id);
    else this.allocSets.delete(job.id);
    for (const task of job.tasks) {
      this.index.add(job, task);
      this.dirtyTasks.add(taskId(task.index, job.id));
    }
    if (previous !== undefined && previous.tasks.length > job.tasks.length) this.markJobShrunk(job.id, previous.tasks.length);
    this.dirtyJobs.add(job.id);
    this.noteRollout(job);
  }

  removeJob(id: string): void {
    const job = this.jobs.get(id);
    if (job === undefined) return;
    for (const task of job.tasks) this.index.remove(job, task);
    this.jobs.delete(id);
    this.sortedIds = undefined;
    this.jobsByUser.get(job.user)?.delete(id);
    this.allocSets.delete(id);
    this.rolling.delete(id);
  }

  /**
   * Puts a task into a job already in the state, at its index: in place of the task there
   * (unindexed first), or appended when the index is just past the end. The job's task list
   * stays dense (task i at position i), so `task(id)` still finds tasks by index.
   */
  putTask(job: JobRecord, task: TaskRecord): void {
    if (this.jobs.get(job.id) !== job) throw new Error(`job ${job.id} is not this state's record`);
    const previous = job.tasks[task.index];
    if (previous === undefined && task.index !== job.tasks.length) throw new Error(`task ${task.index}.${job.id} would leave a gap after task ${job.tasks.length - 1}`);
    if (previous !== undefined) this.index.remove(job, previous);
    job.tasks[task.index] = task;
    this.index.add(job, task);
    this.dirtyTasks.add(taskId(task.index, job.id));
  }

  /**
   * Gives a job a new spec (an update): its tasks are counted again under it, since what the
   * index keeps of them (requirements, priority) comes from the spec.
   */
  replaceSpec(job: JobRecord, spec: JobSpec): void {
    if (this.jobs.get(job.id) !== job) throw new Error(`job ${job.id} is not this state's record`);
    for (const task of job.tasks) this.index.remove(job, task);
    job.spec = spec;
    for (const task of job.tasks) this.index.add(job, task);
    this.dirtyJobs.add(job.id);
  }

  /** How many jobs the user has in the state, live or finished (not yet collected). */
  jobCountOf(user: string): number {
    return this.jobsByUser.get(user)?.size ?? 0;
  }

  pendingCountOf(user: string): number {
    return this.index.pendingOf(user);
  }

  /** The user's jobs (quota is counted over them). */
  *jobsOf(user: string): Iterable<JobRecord> {
    for (const id of this.jobsByUser.get(user) ?? []) {
      const job = this.jobs.get(id);
      if (job !== undefined) yield job;
    }
  }

  /** `<index>.<job id>`: ids arrive validated (contracts' taskIdSchema), so a split is enough here. */
  task(taskId: string): TaskRef | undefined {
    const dot = taskId.indexOf(".");
    if (dot <= 0) return undefined;
    const job = this.jobs.get(taskId.slice(dot + 1));
    const task = job?.tasks[Number(taskId.slice(0, dot))];
    return job === undefined || task === undefined ? undefined : { job, task, id: taskId };
  }

  /** Runs the lifecycle machine; undefined when the event does not apply in the task's state. */
  transition(ref: TaskRef, event: TaskLifecycleEvent, now = Date.now()): TaskChange | undefined {
    const next = applyTaskEvent(ref.task.lifecycle, event);
    if (next === undefined) return undefined;
    const from = ref.task.lifecycle.state;
    this.index.remove(ref.job, ref.task);
    ref.task.lifecycle = next;
    ref.task.updatedAt = now;
    ref.task.missedHeartbeats = 0;
    // A run is placed from the job's spec as it is now: its lease carries that revision's.
    if (event.type === "SCHEDULE") {
      const revision = revisionOf(ref.job);
      if (revision === 1) delete ref.task.revision;
      else ref.task.revision = revision;
    }
    // Measurements and health belong to the run that reported them.
    if (next.state !== "running") {
      delete ref.task.usage;
      delete ref.task.health;
      delete ref.task.healthySince;
      delete ref.task.reserve;
    }
    this.index.add(ref.job, ref.task);
    this.dirtyTasks.add(ref.id);
    return { ref, from, to: next.state };
  }

  /**
   * The node of a heartbeat, created on first sight. Its stored record is written again only
   * when what is stored changed (it came up, or its digest or period differs), not for a
   * heartbeat that only says it lives.
   */
  upsertNode(record: Omit<NodeRecord, "state">): { node: NodeRecord; cameUp: boolean; storedChanged: boolean } {
    const existing = this.nodes.get(record.name);
    const cameUp = existing === undefined || existing.state === "down";
    const node: NodeRecord = { ...record, state: "up" };
    this.nodes.set(record.name, node);
    const storedChanged = cameUp || existing.awaitingFirstHeartbeat === true || existing.digest !== node.digest || existing.heartbeatMs !== node.heartbeatMs;
    if (storedChanged) this.dirtyNodes.add(node.name);
    return { node, cameUp, storedChanged };
  }

  reportedMatches(ref: TaskRef, node: string, reported: HeartbeatTask): boolean {
    const context = ref.task.lifecycle.context;
    return PLACED_STATES.has(ref.task.lifecycle.state) && context.node === node && context.incarnation === reported.incarnation;
  }

  // What the task index answers (see TaskIndex for what each means).

  get allocGeneration(): number {
    return this.index.allocGeneration;
  }

  set allocGeneration(generation: number) {
    this.index.allocGeneration = generation;
  }

  get pendingCount(): number {
    return this.index.pendingCount;
  }

  placementStamp(node: string): number {
    return this.index.placementStamp(node);
  }

  placedNodes(): IterableIterator<string> {
    return this.index.placedNodes();
  }

  placedCount(node: string): number {
    return this.index.placedCount(node);
  }

  processCount(node: string): number {
    return this.index.processCount(node);
  }

  allocUsage(allocId: string): Readonly<AllocUsage> & { tasks: ReadonlySet<string> } {
    return this.index.allocUsage(allocId);
  }

  usage(node: string): Readonly<NodeUsage> & { ports: ReadonlySet<number> } {
    return this.index.usage(node);
  }

  takeDueBackoffs(now = Date.now()): string[] {
    return this.index.takeDueBackoffs(now);
  }

  pendingWindow(limit: number, now = Date.now()): TaskRef[] {
    return this.index.pendingWindow(limit, now);
  }

  pendingInAllocTasks(): TaskRef[] {
    return this.index.pendingInAllocTasks();
  }

  pendingTasks(): TaskRef[] {
    return this.index.pendingTasks();
  }

  tasksOn(node: string): TaskRef[] {
    return this.index.tasksOn(node);
  }

  // What the next commit writes: each take empties its set; a failed commit marks its records again.

  /** Forgets what changed: for state loaded from Redis, which is already durable. */
  clearDirty(): void {
    this.dirtyJobs.clear();
    this.dirtyTasks.clear();
    this.shrunkJobs.clear();
    this.dirtyNodes.clear();
    this.dirtySubmissions.clear();
    this.forgottenSubmissions.clear();
  }

  recordSubmission(outcome: SubmissionOutcome): void {
    this.submissions.set(outcome.id, outcome);
    this.dirtySubmissions.add(outcome.id);
  }

  /** Submission outcomes recorded since the last call, for the next fenced commit. */
  takeDirtySubmissions(): SubmissionOutcome[] {
    return takeDirty(this.dirtySubmissions, this.submissions);
  }

  /** Drops outcomes decided before `before` (by id prefix, each with its own retention); returns how many. */
  forgetSubmissions(retentionMs: (id: string) => number, now = Date.now()): number {
    let forgotten = 0;
    for (const [id, outcome] of this.submissions) {
      if (now - outcome.at <= retentionMs(id)) continue;
      this.submissions.delete(id);
      this.dirtySubmissions.delete(id);
      this.forgottenSubmissions.add(id);
      forgotten += 1;
    }
    return forgotten;
  }

  /** Outcomes forgotten since the last call, to delete in the next fenced commit. */
  takeForgottenSubmissions(): string[] {
    const ids = [...this.forgottenSubmissions];
    this.forgottenSubmissions.clear();
    return ids;
  }

  markSubmissionForgotten(id: string): void {
    this.forgottenSubmissions.add(id);
  }

  markSubmissionDirty(id: string): void {
    this.dirtySubmissions.add(id);
  }

  /** Jobs whose head changed since the last call, for the next fenced commit. */
  takeDirtyJobs(): JobRecord[] {
    return takeDirty(this.dirtyJobs, this.jobs);
  }

  /** Marks a job's head (spec, killed, rollout) changed. */
  markDirty(jobId: string): void {
    this.dirtyJobs.add(jobId);
    const job = this.jobs.get(jobId);
    if (job !== undefined) this.noteRollout(job);
  }

  private noteRollout(job: JobRecord): void {
    if (job.rollout?.state === "running") this.rolling.add(job.id);
    else this.rolling.delete(job.id);
  }

  /** The jobs whose rollout runs (as their heads were last marked changed). */
  rollingJobs(): JobRecord[] {
    return [...this.rolling].map((id) => this.jobs.get(id)).filter((job) => job !== undefined);
  }

  /** Tasks changed since the last call, for the next fenced commit. */
  takeDirtyTasks(): TaskRef[] {
    const taken: TaskRef[] = [];
    for (const id of this.dirtyTasks) {
      const ref = this.task(id);
      if (ref !== undefined) taken.push(ref);
    }
    this.dirtyTasks.clear();
    return taken;
  }

  markTaskDirty(taskId: string): void {
    this.dirtyTasks.add(taskId);
  }

  /** Jobs replaced by one with fewer tasks since the last call, with the most tasks each had. */
  takeShrunkJobs(): [string, number][] {
    const shrunk = [...this.shrunkJobs];
    this.shrunkJobs.clear();
    return shrunk;
  }

  markJobShrunk(jobId: string, previousCount: number): void {
    this.shrunkJobs.set(jobId, Math.max(previousCount, this.shrunkJobs.get(jobId) ?? 0));
  }

  /** Machines whose stored record changed since the last call, for the next fenced commit. */
  takeDirtyNodes(): NodeRecord[] {
    return takeDirty(this.dirtyNodes, this.nodes);
  }

  markNodeDirty(name: string): void {
    this.dirtyNodes.add(name);
  }

  /** Marks a machine down; its record is stored with the next commit. */
  markNodeDown(node: NodeRecord): void {
    node.state = "down";
    this.dirtyNodes.add(node.name);
  }
}
