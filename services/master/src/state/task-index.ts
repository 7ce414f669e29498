// Where each task stands, indexed as it changes: the pending queue, restart backoffs, the tasks on
// each machine and what they hold of it and of their allocs. Apart from CellState's records because
// all of it is derived from the tasks, and kept exact by `add` and `remove` alone.
import { PLACED_STATES, PRIORITY_BANDS, taskId, type PriorityBand } from "@corral/contracts";
import { restartBackoffMs } from "@corral/machines";
import type { JobRecord, TaskRecord } from "@corral/state";
import { isAlloc, runsInAllocSet } from "../allocs/alloc-sets.js";
import { eligibleAt, type TaskRef } from "./task-ref.js";

export interface NodeUsage {
  cpu: number;
  ram: number;
  disk: number;
  ports: Set<number>;
  tasks: number;
}

const EMPTY_USAGE: Readonly<NodeUsage> = Object.freeze({ cpu: 0, ram: 0, disk: 0, ports: new Set<number>(), tasks: 0 });

/** What the tasks running in one alloc hold of its reservation. */
export interface AllocUsage {
  cpu: number;
  ram: number;
  disk: number;
  tasks: Set<string>;
}

const EMPTY_ALLOC_USAGE: Readonly<AllocUsage> = Object.freeze({ cpu: 0, ram: 0, disk: 0, tasks: new Set<string>() });

/**
 * The indexes a CellState keeps over its tasks. It holds task ids only: the state it belongs
 * to turns them back into tasks. Every change to a task is `remove` before it and `add` after.
 */
export class TaskIndex {
  /** task ids placed on each machine (assigned, starting, running, terminating) */
  private readonly placed = new Map<string, Set<string>>();
  private readonly placementStamps = new Map<string, number>();
  private placementClock = 0;
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

  constructor(private readonly state: { task(taskId: string): TaskRef | undefined }) {}

  get pendingCount(): number {
    return this.pendingIds.size;
  }

  /** The user's pending tasks (outside alloc sets), over every band. */
  pendingOf(user: string): number {
    let count = 0;
    for (const byUser of this.pendingQueue.values()) count += byUser.get(user)?.size ?? 0;
    return count;
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

  /** What the machine's placed tasks hold, kept up to date by every transition (read-only for callers). */
  usage(node: string): Readonly<NodeUsage> & { ports: ReadonlySet<number> } {
    return this.usageByNode.get(node) ?? EMPTY_USAGE;
  }

  /** Ids of backing-off tasks whose backoff has ended by `now`; they are no longer tracked after this. */
  takeDueBackoffs(now = Date.now()): string[] {
    const due: string[] = [];
    for (const id of this.backingOff) {
      const ref = this.state.task(id);
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
            const ref = this.state.task(step.value);
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
      const ref = this.state.task(id);
      if (ref !== undefined) pending.push(ref);
    }
    return pending;
  }

  pendingTasks(): TaskRef[] {
    const pending: TaskRef[] = [];
    for (const id of this.pendingIds) {
      const ref = this.state.task(id);
      if (ref !== undefined) pending.push(ref);
    }
    return pending;
  }

  tasksOn(node: string): TaskRef[] {
    const refs: TaskRef[] = [];
    for (const id of this.placed.get(node) ?? []) {
      const ref = this.state.task(id);
      if (ref !== undefined) refs.push(ref);
    }
    return refs;
  }

  /** Indexes the task as it stands now; `remove` it before it changes. */
  add(job: JobRecord, task: TaskRecord): void {
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

  /** Exactly undoes `add` for the task's current state; call before changing it. */
  remove(job: JobRecord, task: TaskRecord): void {
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
