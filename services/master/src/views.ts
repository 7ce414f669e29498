import { TASK_STATES, type JobView, type NodeView, type TaskState, type TaskView } from "@corral/contracts";
import type { CellState } from "./cell-state.js";
import type { JobRecord } from "./records.js";

export function jobView(job: JobRecord, state: CellState): JobView {
  const summary = Object.fromEntries(TASK_STATES.map((s) => [s, 0])) as Record<TaskState, number>;
  const tasks = job.tasks.map((task): TaskView => {
    const { context, state: taskState } = task.lifecycle;
    summary[taskState] += 1;
    const view: TaskView = {
      index: task.index,
      id: `${task.index}.${job.id}`,
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
    if (context.pid !== undefined) view.pid = context.pid;
    if (context.reason !== undefined) view.reason = context.reason;
    if (context.exitCode !== undefined) view.exitCode = context.exitCode;
    return view;
  });
  return {
    id: job.id,
    name: job.name,
    user: job.user,
    cell: job.cell,
    priority: job.spec.priority,
    replicas: job.spec.replicas,
    binary: job.spec.binary,
    requirements: job.spec.requirements,
    killed: job.killed,
    submittedAt: job.submittedAt,
    summary,
    tasks,
  };
}

export function nodeView(name: string, state: CellState, now = Date.now()): NodeView | undefined {
  const node = state.nodes.get(name);
  if (node === undefined) return undefined;
  const usage = state.usage(name);
  return {
    name,
    state: node.state,
    host: node.host,
    pid: node.pid,
    capacity: node.capacity,
    used: { cpu: usage.cpu, ram: usage.ram, disk: usage.disk },
    attributes: node.attributes,
    portRange: node.portRange,
    tasks: usage.tasks,
    lastHeartbeatAgoMs: now - node.lastHeartbeat,
  };
}
