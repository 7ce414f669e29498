import { resourceRefusal } from "../../fit.js";
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
      const { free } = machine;
      if (!usesReclaimed(task)) return resourceRefusal(task.requirements, free);
      const extra = machine.reclaimable;
      return resourceRefusal(task.requirements, { cpu: free.cpu + extra.cpu, ram: free.ram + extra.ram, disk: free.disk });
    },
  }),
};
