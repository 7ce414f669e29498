import Table from "cli-table3";
import type { JobView, NodeView } from "@corral/contracts";

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;

export function bytes(value: number): string {
  if (value >= GIB) return `${(value / GIB).toFixed(1)}G`;
  return `${Math.round(value / MIB)}M`;
}

function table(head: string[]): Table.Table {
  return new Table({ head, style: { head: [], border: [] }, chars: { mid: "", "left-mid": "", "mid-mid": "", "right-mid": "" } });
}

export function jobsTable(jobs: readonly JobView[]): string {
  const rows = table(["TASK", "STATE", "NODE", "ADDRESS", "PID", "RESTARTS", "REASON"]);
  for (const job of jobs) {
    for (const task of job.tasks) {
      rows.push([
        task.id,
        task.state,
        task.node ?? "",
        task.host !== undefined && task.port !== undefined ? `${task.host}:${task.port}` : "",
        task.pid ?? "",
        task.restarts,
        task.reason ?? "",
      ]);
    }
  }
  return rows.toString();
}

export function jobSummary(job: JobView): string {
  const parts = Object.entries(job.summary)
    .filter(([, count]) => count > 0)
    .map(([state, count]) => `${count} ${state}`);
  return `${job.id}: ${parts.join(", ")}`;
}

export function nodesTable(nodes: readonly NodeView[]): string {
  const rows = table(["NODE", "STATE", "HOST", "PID", "CPU", "RAM", "TASKS", "PORTS"]);
  for (const node of nodes) {
    rows.push([
      node.name,
      node.state,
      node.host,
      node.pid,
      `${node.used.cpu.toFixed(1)}/${node.capacity.cpu}`,
      `${bytes(node.used.ram)}/${bytes(node.capacity.ram)}`,
      node.tasks,
      `${node.portRange[0]}-${node.portRange[1]}`,
    ]);
  }
  return rows.toString();
}
