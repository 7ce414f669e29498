import type { FilterFactory } from "../../plugin.js";
import { refusals } from "../../refusal.js";

/** At most K tasks of a job on one machine. */
export const maxPerMachine: FilterFactory = {
  name: "max-per-machine",
  create: () => ({
    name: "max-per-machine",
    appliesTo: (task) => task.maxPerMachine !== undefined,
    filter: (task, machine) => ((machine.jobTasks.get(task.job) ?? 0) >= (task.maxPerMachine ?? Infinity) ? refusals.maxPerMachine(task.maxPerMachine!) : undefined),
  }),
};
