import type { ScorerFactory } from "../../plugin.js";
import { constraintMatches } from "../../constraint-match.js";

/** Soft constraints: each preference a machine meets adds its weight to the machine's score. */
export const preferences: ScorerFactory = {
  name: "preferences",
  create: () => ({
    name: "preferences",
    appliesTo: (task) => task.preferences.length > 0,
    score(task, machine) {
      let total = 0;
      for (const preference of task.preferences) if (constraintMatches(preference, machine.attributes)) total += preference.weight;
      return total;
    },
  }),
};
