import { SPREAD_DOMAINS } from "@corral/contracts";
import type { ScorerFactory } from "../../plugin.js";

/**
 * A job's tasks apart by default (Borg; Kubernetes' default topology spread over nodes and
 * zones): a machine scores less the more of the job's tasks it, its rack and its power
 * domain already have, so one machine or rack lost is as few of the job's tasks as the
 * cell allows. A preference, never a refusal: tasks that fit only together still run
 * together. A job that declares a spread is spread by it instead; `spread = 'none'` opts out.
 */
export const defaultSpread: ScorerFactory = {
  name: "default-spread",
  create: () => ({
    name: "default-spread",
    jobBound: true,
    appliesTo: (task) => task.spread === undefined,
    score(task, machine, cell) {
      let sum = 0;
      for (const kind of SPREAD_DOMAINS) sum += 100 / (1 + cell.jobTasksIn(task.job, kind, machine.domains[kind]));
      return sum / SPREAD_DOMAINS.length;
    },
  }),
};
