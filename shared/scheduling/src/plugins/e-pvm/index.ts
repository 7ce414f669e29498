import type { ScorerFactory } from "../../plugin.js";
import { leftAfter } from "../utilization.js";

/**
 * E-PVM (Amir et al., as Borg used it): a convex cost of each machine's load summed over
 * resources; the machine whose cost rises least takes the task. The cost grows fastest on
 * loaded machines, so work spreads out (worst fit) and headroom is kept for load spikes.
 */
export const ePvm: ScorerFactory = {
  name: "e-pvm",
  create: () => ({
    name: "e-pvm",
    score(task, machine) {
      const left = leftAfter(task, machine);
      const before = { cpu: machine.free.cpu / machine.capacity.cpu, ram: machine.free.ram / machine.capacity.ram };
      const rise = cost(1 - left.cpu) - cost(1 - before.cpu) + cost(1 - left.ram) - cost(1 - before.ram);
      // The largest rise is a task taking a machine from full-but-that to full: cost(1) - cost(1 - share).
      return 100 / (1 + rise);
    },
  }),
};

/** PVM's exponential cost of a resource at this utilization. */
function cost(utilization: number): number {
  return Math.pow(COST_BASE, utilization) - 1;
}
const COST_BASE = 8;
