import { declaredSpread } from "@corral/contracts";
import type { FilterFactory, ScorerFactory } from "../../plugin.js";
import { refusals } from "../../refusal.js";

/**
 * Spreading a job across failure domains (Kubernetes' topology spread): placing here must
 * not make this domain more than maxSkew tasks ahead of the emptiest domain of its kind.
 */
export const spreadFilter: FilterFactory = {
  name: "spread",
  create: () => ({
    name: "spread",
    readsJobPlacement: true,
    appliesTo: (task) => declaredSpread(task.spread) !== undefined,
    filter(task, machine, cell) {
      const { across, maxSkew } = declaredSpread(task.spread)!;
      const here = cell.jobTasksIn(task.job, across, machine.domains[across]);
      return here + 1 - cell.fewestJobTasks(task.job, across, task.constraints) > maxSkew ? refusals.spread(across) : undefined;
    },
  }),
};

/** Among the machines the filter allows, prefer domains with fewer of the job's tasks. */
export const spreadScorer: ScorerFactory = {
  name: "spread",
  create: () => ({
    name: "spread",
    readsJobPlacement: true,
    appliesTo: (task) => declaredSpread(task.spread) !== undefined,
    score: (task, machine, cell) => {
      const { across } = declaredSpread(task.spread)!;
      return 100 / (1 + cell.jobTasksIn(task.job, across, machine.domains[across]));
    },
  }),
};
