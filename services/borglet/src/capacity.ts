import { cpus, totalmem } from "node:os";
import { statfsSync } from "node:fs";
import type { Resources } from "@corral/contracts";

/**
 * What this machine offers when no flag says otherwise: all cores, all memory, the data
 * disk's free space, divided by `share`, the number of borglets on this host (a local cell,
 * the namespaces of a multi-host cell), so that together they promise what the host has and
 * not `share` times it.
 */
export function hostCapacity(dataDir: string, share = 1): Resources {
  if (!Number.isInteger(share) || share < 1) throw new RangeError(`a host's share is a whole number of borglets, at least 1 (got ${share})`);
  const disk = statfsSync(dataDir);
  return {
    // Thousandths of a core: 2 cores over 3 borglets is 0.666 each, never more than the host has.
    cpu: Math.floor((cpus().length / share) * 1000) / 1000,
    ram: Math.floor(totalmem() / share),
    disk: Math.floor((Number(disk.bavail) * Number(disk.bsize)) / share),
  };
}
