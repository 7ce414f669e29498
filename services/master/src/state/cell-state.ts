// The leader's in-memory cell, the one state every handler reads and changes. Standbys keep the
// same class as their followed copy, so a takeover leads from it as it is.
import { PLACED_STATES, PRIORITY_BANDS, taskId, type PriorityBand, type SubmissionOutcome, type HeartbeatTask, type Resources, type TaskState } from "@corral/contracts";
import { applyTaskEvent, restartBackoffMs, type TaskLifecycleEvent } from "@corral/machines";
import type { JobRecord, TaskRecord } from "@corral/state";

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

const EMPTY_USAGE: Readonly<NodeUsage> = Object.freeze({ cpu: 0, ram: 0, disk: 0, ports: new Set<number>(), tasks: 0 });

export interface NodeUsage {
  cpu: number;
  ram: number;
  disk: number;
  ports: Set<number>;
  tasks: number;
}

/** What the tasks running in one alloc hold of its reservation. */
export interface AllocUsage {
  cpu: number;
  ram: number;
  disk: number;
  tasks: Set<string>;
}

const EMPTY_ALLOC_USAGE: Readonly<AllocUsage> = Object.freeze({ cpu: 0, ram: 0, disk: 0, tasks: new Set<string>() });

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

/** When a pending task may be placed: at once, or after its restart backoff from the time it went pending. */
export function eligibleAt(ref: TaskRef): number {
  if (ref.task.lifecycle.context.backingOff !== true) return 0; // lost or preempted: no fault of its own
  const backoff = restartBackoffMs(ref.task.lifecycle.context.crashStreak ?? 0);
  return backoff === 0 ? 0 : ref.task.updatedAt + backoff;
}

/** An alloc set's tasks are allocs: reservations on a machine, with no process behind them. */
export function isAlloc(job: JobRecord): boolean {
  return job.spec.kind === "alloc";
}

/** A job whose tasks run inside an alloc set's reservations rather than on a machine's free capacity. */
export function runsInAllocSet(job: JobRecord): boolean {
  return job.spec.allocSet !== undefined;
}

/** The alloc set a job runs in: same user, same cell. */
export function allocSetIdOf(job: JobRecord): string | undefined {
  return job.spec.allocSet === undefined ? undefined : `${job.spec.allocSet}.${job.user}.${job.cell}`;
}

/**
 * The leader's in-memory view of the cell: jobs with their tasks (durable, in Redis) and
 * machines (their shape and digest stored too, so a new leader knows them; their liveness
 * is soft state, rebuilt from heartbeats). Every task state change goes through
 * `transition`, which runs the lifecycle machine and keeps the per-machine index right.
 */
export class CellState {
  readonly jobs = new Map<string, JobRecord>();
  readonly nodes = new Map<string, NodeRecord>();
  /** task ids placed on each machine (assigned, starting, running, terminating) */
  private readonly placed = new Map<string, Set<string>>();
  private readonly placementStamps = new Map<string, number>();
  private placementClock = 0;
  /** jobs whose head (who, what, the spec, how many tasks) changed since the last commit */
  private readonly dirtyJobs = new Set<string>();
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
  private readonly usageByNode = new Map<string, NodeUsage>();
  /** pending task ids, kept as tasks change, so schedulers' work is found without scanning every task */
  private readonly pendingIds = new Set<string>();
  /**
   * The same pending ids as the pending queue: by band, then by user, each user's in the
   * order they became pending. A scheduler's window is read off it without sorting every
   * pending task (pendingWindow).
   */
  private readonly pendingQueue = new Map<PriorityBand, Map<string, Set<string>>>(PRIORITY_BANDS.map((band) => [band, new Map()]));
  /** pending tasks of jobs in alloc sets: the leader places these in allocs, not the schedulers */
  private readonly pendingInAllocIds = new Set<string>();
  /** allocs placed on each machine: placed, but no process of theirs runs there */
  private readonly allocsByNode = new Map<string, number>();
  private readonly usageByAlloc = new Map<string, AllocUsage>();
  /** pending tasks waiting out a restart backoff: the leader wakes the schedulers when one is due */
  private readonly backingOff = new Set<string>();
  /** bumped by every change to an alloc or to a task of a job in an alloc set: the alloc keeper's cue */
  allocGeneration = 0;

  get pendingCount(): number {
    return this.pendingIds.size;
  }

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
    if (previous !== undefined) for (const task of previous.tasks) this.unindex(previous, task);
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
      this.index(job, task);
      this.dirtyTasks.add(taskId(task.index, job.id));
    }
    if (previous !== undefined && previous.tasks.length > job.tasks.length) this.markJobShrunk(job.id, previous.tasks.length);
    this.dirtyJobs.add(job.id);
  }

  removeJob(id: string): void {
    const job = this.jobs.get(id);
    if (job === undefined) return;
    for (const task of job.tasks) this.unindex(job, task);
    this.jobs.delete(id);
    this.sortedIds = undefined;
    this.jobsByUser.get(job.user)?.delete(id);
    this.allocSets.delete(id);
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
    if (previous !== undefined) this.unindex(job, previous);
    job.tasks[task.index] = task;
    this.index(job, task);
    this.dirtyTasks.add(taskId(task.index, job.id));
  }

  /** The user's jobs (quota is counted over them). */
  *jobsOf(user: string): Iterable<JobRecord> {
    for (const id of this.jobsByUser.get(user) ?? []) {
      const job = this.jobs.get(id);
      if (job !== undefined) yield job;
    }
  }

  /** Forgets what changed: for state loaded from Redis, which is already durable. */
  clearDirty(): void {
    this.dirtyJobs.clear();
    this.dirtyTasks.clear();
    this.shrunkJobs.clear();
    this.dirtyNodes.clear();
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

  /**
   * Changes whenever a task placed on the machine comes, goes or changes state, and never
   * comes back to an earlier value: answers worked out from the machine's tasks are kept
   * under it.
   */
  placementStamp(node: string): number {
    return this.placementStamps.get(node) ?? 0;
  }

  /** Every machine some task is placed on. */
  *placedNodes(): IterableIterator<string> {
    for (const [node, ids] of this.placed) if (ids.size > 0) yield node;
  }

  /** How many tasks are placed on the node (assigned, running or terminating there). */
  placedCount(node: string): number {
    return this.placed.get(node)?.size ?? 0;
  }

  /** How many of the node's placed tasks have a process there: all but its allocs. */
  processCount(node: string): number {
    return this.placedCount(node) - (this.allocsByNode.get(node) ?? 0);
  }

  /** What the tasks running in the alloc (an alloc set's task id) hold of it. */
  allocUsage(allocId: string): Readonly<AllocUsage> & { tasks: ReadonlySet<string> } {
    return this.usageByAlloc.get(allocId) ?? EMPTY_ALLOC_USAGE;
  }

  /** Ids of backing-off tasks whose backoff has ended by `now`; they are no longer tracked after this. */
  takeDueBackoffs(now = Date.now()): string[] {
    const due: string[] = [];
    for (const id of this.backingOff) {
      const ref = this.task(id);
      if (ref === undefined || eligibleAt(ref) <= now) {
        this.backingOff.delete(id);
        due.push(id);
      }
    }
    return due;
  }

  /**
   * The first `limit` pending tasks that may be placed by `now`, in the pending queue's order
   * (Borg §3.2): bands by priority; within a band, users take turns; each user's tasks in the
   * order they became pending. The same as ordering every pending task and cutting the
   * window, at the cost of the window only.
   */
  pendingWindow(limit: number, now = Date.now()): TaskRef[] {
    const window: TaskRef[] = [];
    for (const band of PRIORITY_BANDS) {
      let turn: Iterator<string>[] = [...this.pendingQueue.get(band)!.values()].map((ids) => ids.values());
      while (turn.length > 0 && window.length < limit) {
        const again: Iterator<string>[] = [];
        for (const cursor of turn) {
          if (window.length >= limit) break;
          for (let step = cursor.next(); step.done !== true; step = cursor.next()) {
            const ref = this.task(step.value);
            if (ref === undefined || eligibleAt(ref) > now) continue;
            window.push(ref);
            again.push(cursor);
            break;
          }
        }
        turn = again;
      }
      if (window.length >= limit) break;
    }
    return window;
  }

  pendingInAllocTasks(): TaskRef[] {
    const pending: TaskRef[] = [];
    for (const id of this.pendingInAllocIds) {
      const ref = this.task(id);
      if (ref !== undefined) pending.push(ref);
    }
    return pending;
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
    // Measurements and health belong to the run that reported them.
    if (next.state !== "running") {
      delete ref.task.usage;
      delete ref.task.health;
      delete ref.task.reserve;
    }
    this.index(ref.job, ref.task);
    this.dirtyTasks.add(ref.id);
    return { ref, from, to: next.state };
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

  /** Marks a job's head (spec, killed) changed. */
  markDirty(jobId: string): void {
    this.dirtyJobs.add(jobId);
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

  private index(job: JobRecord, task: TaskRecord): void {
    const id = taskId(task.index, job.id);
    const inAllocSet = runsInAllocSet(job);
    if (inAllocSet || isAlloc(job)) this.allocGeneration += 1;
    if (task.lifecycle.state === "pending") {
      (inAllocSet ? this.pendingInAllocIds : this.pendingIds).add(id);
      if (!inAllocSet) {
        const byUser = this.pendingQueue.get(job.spec.priority)!;
        let ids = byUser.get(job.user);
        if (ids === undefined) byUser.set(job.user, (ids = new Set()));
        ids.add(id);
      }
      if (task.lifecycle.context.backingOff === true && restartBackoffMs(task.lifecycle.context.crashStreak ?? 0) > 0) this.backingOff.add(id);
    }
    const { node, alloc, ports } = task.lifecycle.context;
    if (node === undefined || !PLACED_STATES.has(task.lifecycle.state)) return;
    let set = this.placed.get(node);
    if (set === undefined) this.placed.set(node, (set = new Set()));
    set.add(id);
    this.placementStamps.set(node, ++this.placementClock);
    let usage = this.usageByNode.get(node);
    if (usage === undefined) this.usageByNode.set(node, (usage = { cpu: 0, ram: 0, disk: 0, ports: new Set(), tasks: 0 }));
    usage.tasks += 1;
    for (const port of ports) usage.ports.add(port);
    const need = job.spec.requirements;
    if (isAlloc(job)) this.allocsByNode.set(node, (this.allocsByNode.get(node) ?? 0) + 1);
    if (alloc !== undefined) {
      // The machine's share was taken by the alloc: the task takes from the alloc's.
      let inAlloc = this.usageByAlloc.get(alloc);
      if (inAlloc === undefined) this.usageByAlloc.set(alloc, (inAlloc = { cpu: 0, ram: 0, disk: 0, tasks: new Set() }));
      inAlloc.cpu += need.cpu;
      inAlloc.ram += need.ram;
      inAlloc.disk += need.disk;
      inAlloc.tasks.add(id);
      return;
    }
    usage.cpu += need.cpu;
    usage.ram += need.ram;
    usage.disk += need.disk;
  }

  /** Exactly undoes `index` for the task's current state; call before changing it. */
  private unindex(job: JobRecord, task: TaskRecord): void {
    const id = taskId(task.index, job.id);
    if (runsInAllocSet(job) || isAlloc(job)) this.allocGeneration += 1;
    if (this.pendingIds.delete(id)) {
      const byUser = this.pendingQueue.get(job.spec.priority)!;
      const ids = byUser.get(job.user);
      ids?.delete(id);
      // A user with nothing pending leaves the band's turns.
      if (ids?.size === 0) byUser.delete(job.user);
    }
    this.pendingInAllocIds.delete(id);
    this.backingOff.delete(id);
    const { node, alloc, ports } = task.lifecycle.context;
    if (node === undefined || !PLACED_STATES.has(task.lifecycle.state)) return;
    this.placed.get(node)?.delete(id);
    this.placementStamps.set(node, ++this.placementClock);
    const need = job.spec.requirements;
    if (isAlloc(job)) {
      const count = (this.allocsByNode.get(node) ?? 1) - 1;
      if (count === 0) this.allocsByNode.delete(node);
      else this.allocsByNode.set(node, count);
    }
    if (alloc !== undefined) {
      const inAlloc = this.usageByAlloc.get(alloc);
      inAlloc?.tasks.delete(id);
      if (inAlloc !== undefined && inAlloc.tasks.size === 0) this.usageByAlloc.delete(alloc);
      else if (inAlloc !== undefined) {
        inAlloc.cpu -= need.cpu;
        inAlloc.ram -= need.ram;
        inAlloc.disk -= need.disk;
      }
    }
    const usage = this.usageByNode.get(node);
    if (usage === undefined) return;
    usage.tasks -= 1;
    if (usage.tasks === 0) {
      // Start from exact zeros again rather than carry floating-point residue of fractional cpus.
      this.usageByNode.delete(node);
      return;
    }
    for (const port of ports) usage.ports.delete(port);
    if (alloc !== undefined) return;
    usage.cpu -= need.cpu;
    usage.ram -= need.ram;
    usage.disk -= need.disk;
  }
}
