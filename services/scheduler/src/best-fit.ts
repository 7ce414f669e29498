import type { PendingTask } from "@corral/contracts";
import type { CandidateNode } from "./feasibility.js";

function fractionLeft(left: number, total: number): number {
  return total > 0 ? left / total : 0;
}

/**
 * Best fit: the machine left with the least spare capacity after placing the task, as a
 * sum of per-resource fractions of its capacity. Lower is better; packing tightly leaves
 * whole machines free for large tasks (Borg §3.2).
 */
export function bestFitScore(task: PendingTask, node: CandidateNode): number {
  const { capacity, free } = node;
  return (
    fractionLeft(free.cpu - task.requirements.cpu, capacity.cpu) +
    fractionLeft(free.ram - task.requirements.ram, capacity.ram) +
    fractionLeft(free.disk - task.requirements.disk, capacity.disk)
  );
}
