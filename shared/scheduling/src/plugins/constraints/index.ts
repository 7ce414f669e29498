import type { FilterFactory } from "../../plugin.js";
import { constraintMatches, describeConstraint } from "../../constraint-match.js";
import { refusals } from "../../refusal.js";

/** Hard constraints on machine attributes: a machine that fails one is not a candidate. */
export const constraints: FilterFactory = {
  name: "constraints",
  create: () => ({
    name: "constraints",
    appliesTo: (task) => task.constraints.length > 0,
    filter(task, machine) {
      for (const constraint of task.constraints) if (!constraintMatches(constraint, machine.attributes)) return refusals.constraint(describeConstraint(constraint));
      return undefined;
    },
  }),
};
