import type { PendingTask } from "@corral/contracts";
import type { CandidateNode } from "./feasibility.js";

/**
 * Best fit: the machine left with the least spare capacity after placing the task, as a
 * sum of per-resource fractions of its capacity. Lower is better; packing tightly leaves
 * whole machines free for large tasks (Borg §3.2).
 */
export function bestFitScore(task: PendingTask, node: CandidateNode): number {
  const { capacity, free } = node;
  const fraction = (left: number, total: number) => (total > 0 ? left / total : 0);
  return (
    fraction(free.cpu - task.requirements.cpu, capacity.cpu) +
    fraction(free.ram - task.requirements.ram, capacity.ram) +
    fraction(free.disk - task.requirements.disk, capacity.disk)
  );
}
