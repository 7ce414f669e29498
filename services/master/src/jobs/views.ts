// Jobs and machines as the API shows them, built from the state when asked for rather than kept.
import { PLACED_STATES, TASK_STATES, taskId, type JobView, type NodeView, type TaskState, type TaskView } from "@corral/contracts";
import { eligibleAt } from "../state/task-ref.js";
import { isAlloc } from "../allocs/alloc-sets.js";
import type { CellState } from "../state/cell-state.js";
import type { Reclamation } from "../scheduling/reclamation.js";
import { revisionOf, taskRevisionOf, type JobRecord } from "@corral/state";

/** A job's counts, without its task list: what a federation's reconciler reads every pass. */
export function jobCounts(job: JobRecord): JobView {
  const summary = Object.fromEntries(TASK_STATES.map((s) => [s, 0])) as Record<TaskState, number>;
  const withinReplicas = { running: 0, dead: 0 };
  for (const task of job.tasks) {
    const taskState = task.lifecycle.state;
    summary[taskState] += 1;
    if (task.index >= job.spec.replicas) continue;
    if (taskState === "running" && !(job.spec.health !== undefined && task.health === "unhealthy")) withinReplicas.running += 1;
    if (taskState === "dead") withinReplicas.dead += 1;
  }
  return { ...jobHeader(job), summary, tasks: [], withinReplicas };
}

function jobHeader(job: JobRecord): Omit<JobView, "summary" | "tasks"> {
  return {
    id: job.id,
    name: job.name,
    kind: job.spec.kind,
    ...(job.spec.allocSet === undefined ? {} : { allocSet: job.spec.allocSet }),
    labels: job.spec.labels,
    user: job.user,
    cell: job.cell,
    priority: job.spec.priority,
    replicas: job.spec.replicas,
    binary: job.spec.binary,
    requirements: job.spec.requirements,
    killed: job.killed,
    submittedAt: job.submittedAt,
    revision: revisionOf(job),
    ...(job.rollout === undefined ? {} : { rollout: job.rollout }),
  };
}

/**
 * A job as people see it: its counts over every task, and its tasks from `tasks.from`, at
 * most `tasks.limit` of them (all when no limit); a view that stops short says where the
 * rest begin.
 */
export function jobView(job: JobRecord, state: CellState, range: { from: number; limit?: number } = { from: 0 }): JobView {
  const summary = Object.fromEntries(TASK_STATES.map((s) => [s, 0])) as Record<TaskState, number>;
  for (const task of job.tasks) summary[task.lifecycle.state] += 1;
  const end = range.limit === undefined ? job.tasks.length : Math.min(job.tasks.length, range.from + range.limit);
  const tasks = job.tasks.slice(range.from, end).map((task): TaskView => {
    const { context, state: taskState } = task.lifecycle;
    const view: TaskView = {
      index: task.index,
      id: taskId(task.index, job.id),
      incarnation: context.incarnation,
      state: taskState,
      ports: context.ports,
      restarts: context.restarts,
      updatedAt: task.updatedAt,
    };
    if (context.node !== undefined) {
      view.node = context.node;
      const host = state.nodes.get(context.node)?.host;
      if (host !== undefined) view.host = host;
    }
    if (context.ports[0] !== undefined) view.port = context.ports[0];
    // An alloc has no process; what it shows instead is how much of it is taken.
    if (context.pid !== undefined && !isAlloc(job)) view.pid = context.pid;
    if (context.alloc !== undefined) view.alloc = context.alloc;
    if (taskState !== "pending") view.revision = taskRevisionOf(task);
    if (task.usage !== undefined && PLACED_STATES.has(taskState)) view.usage = task.usage;
    if (job.spec.health !== undefined && taskState === "running") view.health = task.health ?? "unknown";
    if (taskState === "pending") {
      const at = eligibleAt({ job, task, id: view.id });
      if (at > Date.now()) view.nextTryAt = at;
    }
    if (isAlloc(job) && PLACED_STATES.has(taskState)) {
      const used = state.allocUsage(view.id);
      view.allocUsed = { cpu: used.cpu, ram: used.ram, disk: used.disk, tasks: used.tasks.size };
    }
    if (context.reason !== undefined) view.reason = context.reason;
    if (context.reasonCode !== undefined) view.reasonCode = context.reasonCode;
    if (context.exitCode !== undefined) view.exitCode = context.exitCode;
    return view;
  });
  return { ...jobHeader(job), summary, tasks, ...(end < job.tasks.length ? { moreTasksFrom: end } : {}) };
}

export function nodeView(name: string, state: CellState, now = Date.now(), reclamation?: Reclamation): NodeView | undefined {
  const node = state.nodes.get(name);
  if (node === undefined) return undefined;
  const usage = state.usage(name);
  return {
    name,
    state: node.awaitingFirstHeartbeat === true ? "unknown" : node.state,
    host: node.host,
    pid: node.pid,
    capacity: node.capacity,
    used: { cpu: usage.cpu, ram: usage.ram, disk: usage.disk },
    ...(reclamation === undefined ? {} : { reclaimable: reclamation.reclaimableOn(state, name, now) }),
    attributes: node.attributes,
    portRange: node.portRange,
    tasks: usage.tasks,
    lastHeartbeatAgoMs: now - node.lastHeartbeat,
  };
}
