import { usesReclaimed } from "../../model.js";
import type { FilterFactory } from "../../plugin.js";

/**
 * cpu, ram and disk the machine still has free (Borg's basic feasibility check); batch and
 * best-effort tasks may also use what running tasks reserve but do not use (reclamation).
 */
export const resources: FilterFactory = {
  name: "resources",
  create: () => ({
    name: "resources",
    filter(task, machine) {
      const need = task.requirements;
      const extra = usesReclaimed(task) ? machine.reclaimable : { cpu: 0, ram: 0 };
      if (need.ram > machine.free.ram + extra.ram) return "insufficient ram";
      if (need.cpu > machine.free.cpu + extra.cpu + 1e-9) return "insufficient cpu";
      if (need.disk > machine.free.disk) return "insufficient disk";
      return undefined;
    },
  }),
};
