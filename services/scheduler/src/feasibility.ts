import type { PendingTask, WorkNode } from "@corral/contracts";

/** A machine as the scheduler sees it during one cycle, updated as it places tasks. */
export interface CandidateNode {
  name: string;
  capacity: WorkNode["capacity"];
  free: { cpu: number; ram: number; disk: number };
  portRange: [number, number];
  usedPorts: Set<number>;
}

export function candidateFrom(node: WorkNode): CandidateNode {
  return {
    name: node.name,
    capacity: node.capacity,
    free: { ...node.free },
    portRange: node.portRange,
    usedPorts: new Set(node.usedPorts),
  };
}

export type Infeasibility = "cpu" | "ram" | "disk" | "ports";

function freePortCount(node: CandidateNode): number {
  const [low, high] = node.portRange;
  let used = 0;
  for (const port of node.usedPorts) if (port >= low && port <= high) used += 1;
  return high - low + 1 - used;
}

/** Why the task cannot go on the machine, or undefined when it fits (Borg's feasibility check). */
export function infeasibility(task: PendingTask, node: CandidateNode): Infeasibility | undefined {
  const need = task.requirements;
  if (need.cpu > node.free.cpu + 1e-9) return "cpu";
  if (need.ram > node.free.ram) return "ram";
  if (need.disk > node.free.disk) return "disk";
  if (need.ports > 0 && freePortCount(node) < need.ports) return "ports";
  return undefined;
}

/** The lowest free ports of the machine's range. */
export function choosePorts(node: CandidateNode, count: number): number[] {
  const chosen: number[] = [];
  const [low, high] = node.portRange;
  for (let port = low; port <= high && chosen.length < count; port++) if (!node.usedPorts.has(port)) chosen.push(port);
  return chosen;
}

export function reserve(node: CandidateNode, task: PendingTask, ports: readonly number[]): void {
  node.free.cpu -= task.requirements.cpu;
  node.free.ram -= task.requirements.ram;
  node.free.disk -= task.requirements.disk;
  for (const port of ports) node.usedPorts.add(port);
}
