import type { ScorerFactory } from "../../plugin.js";
import { leftAfter } from "../utilization.js";

/**
 * Best fit: the machine left fullest after placing the task wins, so whole machines stay
 * free for large tasks (Borg §3.2). Score = 100 × the mean fraction of cpu and ram used.
 */
export const bestFit: ScorerFactory = {
  name: "best-fit",
  create: () => ({
    name: "best-fit",
    score(task, machine) {
      const left = leftAfter(task, machine);
      return 100 * (1 - (left.cpu + left.ram) / 2);
    },
  }),
};
