import type { FilterFactory } from "../../plugin.js";

/** Ports are a resource: the machine's range must still have as many free as the task asks for. */
export const ports: FilterFactory = {
  name: "ports",
  create: () => ({
    name: "ports",
    appliesTo: (task) => task.requirements.ports > 0,
    filter: (task, machine) => (machine.freePorts < task.requirements.ports ? "not enough free ports" : undefined),
  }),
};
