import type { Machine } from "../../cell-snapshot.js";
import type { FilterFactory } from "../../plugin.js";
import { refusals, type Refusal } from "../../refusal.js";

/** Ports are a resource: the machine's range must still have as many free as the task asks for. */
export const ports: FilterFactory = {
  name: "ports",
  create: () => ({
    name: "ports",
    appliesTo: (task) => task.requirements.ports > 0,
    filter: (task, machine) => (machine.freePorts < task.requirements.ports ? refusals.ports : undefined),
  }),
};

/** Why the machine cannot give a task exactly these ports (a plan's choice), or undefined when it can. */
export function assignedPortsRefusal(machine: Machine, assigned: readonly number[], wanted: number): Refusal | undefined {
  if (assigned.length !== wanted) return refusals.portsConflict(`needs ${wanted} ports, plan gave ${assigned.length}`);
  const [low, high] = machine.portRange;
  for (const port of assigned) {
    if (port < low || port > high) return refusals.portsConflict(`port ${port} is outside ${machine.name}'s range ${low}-${high}`);
    if (machine.usedPorts.has(port)) return refusals.portsConflict(`port ${port} is taken on ${machine.name}`);
  }
  if (new Set(assigned).size !== assigned.length) return refusals.portsConflict("the plan gives one port twice");
  return undefined;
}
