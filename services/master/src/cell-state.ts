import { PLACED_STATES, type SubmissionOutcome, type HeartbeatTask, type Resources, type TaskState } from "@corral/contracts";
import { applyTaskEvent, type TaskLifecycleEvent } from "@corral/machines";
import type { JobRecord, TaskRecord } from "./records.js";

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
}

export interface TaskRef {
  job: JobRecord;
  task: TaskRecord;
  id: string;
}

export interface TaskChange {
  ref: TaskRef;
  from: TaskState;
  to: TaskState;
}

const EMPTY_USAGE: Readonly<NodeUsage> = Object.freeze({ cpu: 0, ram: 0, disk: 0, ports: new Set<number>(), tasks: 0 });

export interface NodeUsage {
  cpu: number;
  ram: number;
  disk: number;
  ports: Set<number>;
  tasks: number;
}

/**
 * The leader's in-memory view of the cell: jobs with their tasks (durable, in Redis) and
 * machines (soft state, rebuilt from heartbeats). Every task state change goes through
 * `transition`, which runs the lifecycle machine and keeps the per-machine index right.
 */
export class CellState {
  readonly jobs = new Map<string, JobRecord>();
  readonly nodes = new Map<string, NodeRecord>();
  /** task ids placed on each machine (assigned, starting, running, terminating) */
  private readonly placed = new Map<string, Set<string>>();
  private readonly dirtyJobs = new Set<string>();
  /** how each stream submission was decided, by its id: a duplicate gets the same answer */
  readonly submissions = new Map<string, SubmissionOutcome>();
  private readonly dirtySubmissions = new Set<string>();
  private readonly forgottenSubmissions = new Set<string>();
  private readonly usageByNode = new Map<string, NodeUsage>();
  /** pending task ids, kept as tasks change, so schedulers' work is found without scanning every task */
  private readonly pendingIds = new Set<string>();

  get pendingCount(): number {
    return this.pendingIds.size;
  }

  addJob(job: JobRecord): void {
    const previous = this.jobs.get(job.id);
    if (previous !== undefined) for (const task of previous.tasks) this.unindex(previous, task);
    this.jobs.set(job.id, job);
    for (const task of job.tasks) this.index(job, task);
    this.dirtyJobs.add(job.id);
  }

  removeJob(id: string): void {
    const job = this.jobs.get(id);
    if (job === undefined) return;
    for (const task of job.tasks) this.unindex(job, task);
    this.jobs.delete(id);
  }

  /** Forgets what changed: for state loaded from Redis, which is already durable. */
  clearDirty(): void {
    this.dirtyJobs.clear();
    this.dirtySubmissions.clear();
    this.forgottenSubmissions.clear();
  }

  /** `<index>.<job id>`: ids arrive validated (contracts' taskIdSchema), so a split is enough here. */
  task(taskId: string): TaskRef | undefined {
    const dot = taskId.indexOf(".");
    if (dot <= 0) return undefined;
    const job = this.jobs.get(taskId.slice(dot + 1));
    const task = job?.tasks[Number(taskId.slice(0, dot))];
    return job === undefined || task === undefined ? undefined : { job, task, id: taskId };
  }

  tasksOn(node: string): TaskRef[] {
    const refs: TaskRef[] = [];
    for (const id of this.placed.get(node) ?? []) {
      const ref = this.task(id);
      if (ref !== undefined) refs.push(ref);
    }
    return refs;
  }

  /** Runs the lifecycle machine; undefined when the event does not apply in the task's state. */
  transition(ref: TaskRef, event: TaskLifecycleEvent, now = Date.now()): TaskChange | undefined {
    const next = applyTaskEvent(ref.task.lifecycle, event);
    if (next === undefined) return undefined;
    const from = ref.task.lifecycle.state;
    this.unindex(ref.job, ref.task);
    ref.task.lifecycle = next;
    ref.task.updatedAt = now;
    ref.task.missedHeartbeats = 0;
    this.index(ref.job, ref.task);
    this.dirtyJobs.add(ref.job.id);
    return { ref, from, to: next.state };
  }

  recordSubmission(outcome: SubmissionOutcome): void {
    this.submissions.set(outcome.id, outcome);
    this.dirtySubmissions.add(outcome.id);
  }

  /** Submission outcomes recorded since the last call, for the next fenced commit. */
  takeDirtySubmissions(): SubmissionOutcome[] {
    const outcomes = [...this.dirtySubmissions].map((id) => this.submissions.get(id)).filter((o): o is SubmissionOutcome => o !== undefined);
    this.dirtySubmissions.clear();
    return outcomes;
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

  /** Jobs changed since the last call, for the next fenced commit. */
  takeDirtyJobs(): JobRecord[] {
    const jobs = [...this.dirtyJobs].map((id) => this.jobs.get(id)).filter((job): job is JobRecord => job !== undefined);
    this.dirtyJobs.clear();
    return jobs;
  }

  markDirty(jobId: string): void {
    this.dirtyJobs.add(jobId);
  }

  /** What the machine's placed tasks hold, kept up to date by every transition (read-only for callers). */
  usage(node: string): Readonly<NodeUsage> & { ports: ReadonlySet<number> } {
    return this.usageByNode.get(node) ?? EMPTY_USAGE;
  }

  pendingTasks(): TaskRef[] {
    const pending: TaskRef[] = [];
    for (const id of this.pendingIds) {
      const ref = this.task(id);
      if (ref !== undefined) pending.push(ref);
    }
    return pending;
  }

  /** The node of a heartbeat, created on first sight. */
  upsertNode(record: Omit<NodeRecord, "state">): { node: NodeRecord; cameUp: boolean } {
    const existing = this.nodes.get(record.name);
    const cameUp = existing === undefined || existing.state === "down";
    const node: NodeRecord = { ...record, state: "up" };
    this.nodes.set(record.name, node);
    return { node, cameUp };
  }

  reportedMatches(ref: TaskRef, node: string, reported: HeartbeatTask): boolean {
    const context = ref.task.lifecycle.context;
    return PLACED_STATES.has(ref.task.lifecycle.state) && context.node === node && context.incarnation === reported.incarnation;
  }

  private index(job: JobRecord, task: TaskRecord): void {
    const id = `${task.index}.${job.id}`;
    if (task.lifecycle.state === "pending") this.pendingIds.add(id);
    const node = task.lifecycle.context.node;
    if (node === undefined || !PLACED_STATES.has(task.lifecycle.state)) return;
    let set = this.placed.get(node);
    if (set === undefined) this.placed.set(node, (set = new Set()));
    set.add(id);
    let usage = this.usageByNode.get(node);
    if (usage === undefined) this.usageByNode.set(node, (usage = { cpu: 0, ram: 0, disk: 0, ports: new Set(), tasks: 0 }));
    const need = job.spec.requirements;
    usage.cpu += need.cpu;
    usage.ram += need.ram;
    usage.disk += need.disk;
    usage.tasks += 1;
    for (const port of task.lifecycle.context.ports) usage.ports.add(port);
  }

  /** Exactly undoes `index` for the task's current state; call before changing it. */
  private unindex(job: JobRecord, task: TaskRecord): void {
    const id = `${task.index}.${job.id}`;
    this.pendingIds.delete(id);
    const node = task.lifecycle.context.node;
    if (node === undefined || !PLACED_STATES.has(task.lifecycle.state)) return;
    this.placed.get(node)?.delete(id);
    const usage = this.usageByNode.get(node);
    if (usage === undefined) return;
    usage.tasks -= 1;
    if (usage.tasks === 0) {
      // Start from exact zeros again rather than carry floating-point residue of fractional cpus.
      this.usageByNode.delete(node);
      return;
    }
    const need = job.spec.requirements;
    usage.cpu -= need.cpu;
    usage.ram -= need.ram;
    usage.disk -= need.disk;
    for (const port of task.lifecycle.context.ports) usage.ports.delete(port);
  }
}
