import { offersRuntime } from "@corral/contracts";
import type { FilterFactory } from "../../plugin.js";
import { refusals } from "../../refusal.js";

/** A task only on a machine that offers its runtime (a borglet's `--runtimes`). */
export const runtime: FilterFactory = {
  name: "runtime",
  create: () => ({
    name: "runtime",
    appliesTo: (task) => task.runtime !== undefined,
    filter: (task, machine) => (offersRuntime(machine.attributes, task.runtime!) ? undefined : refusals.runtime(task.runtime!)),
  }),
};
