import type { ScorerFactory } from "../../plugin.js";
import { leftAfter } from "../utilization.js";

/** How much the stranding penalty weighs against fullness; tuned with `npm run load -- scheduler`. */
const STRANDING_WEIGHT = 0.5;

/**
 * Borg's hybrid: pack like best fit, but avoid leaving a machine with one resource used up
 * and another idle, since what is left of the idle one can then never be used (stranded).
 */
export const hybrid: ScorerFactory = {
  name: "hybrid",
  create: () => ({
    name: "hybrid",
    score(task, machine) {
      const left = leftAfter(task, machine);
      const fullness = 1 - (left.cpu + left.ram) / 2;
      const stranded = Math.abs(left.cpu - left.ram);
      // fullness − weight × stranded runs from −weight to 1: mapped onto 0–100, in the same order.
      return (100 * (fullness - STRANDING_WEIGHT * stranded + STRANDING_WEIGHT)) / (1 + STRANDING_WEIGHT);
    },
  }),
};
