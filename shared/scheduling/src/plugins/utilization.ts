import type { Machine } from "../cell-snapshot.js";
import type { TaskRequest } from "../model.js";

/** The fraction of each resource the machine would have left after taking the task. */
export function leftAfter(task: TaskRequest, machine: Machine): { cpu: number; ram: number } {
  return {
    cpu: Math.max(0, machine.free.cpu - task.requirements.cpu) / machine.capacity.cpu,
    ram: Math.max(0, machine.free.ram - task.requirements.ram) / machine.capacity.ram,
  };
}
