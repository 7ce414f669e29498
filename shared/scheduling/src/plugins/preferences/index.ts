import type { ScorerFactory } from "../../plugin.js";
import { constraintMatches } from "../../constraint-match.js";

/**
 * Soft constraints: the share of the task's preference weight that a machine meets, as
 * 0–100 (Kubernetes normalizes preferred affinity the same way), so a job's weights rank
 * machines against each other but cannot outweigh the cell's packing policy.
 */
export const preferences: ScorerFactory = {
  name: "preferences",
  create: () => ({
    name: "preferences",
    appliesTo: (task) => task.preferences.length > 0,
    score(task, machine) {
      let met = 0;
      let total = 0;
      for (const preference of task.preferences) {
        total += preference.weight;
        if (constraintMatches(preference, machine.attributes)) met += preference.weight;
      }
      return total === 0 ? 0 : (100 * met) / total;
    },
  }),
};
