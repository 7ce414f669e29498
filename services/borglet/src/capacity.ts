import { cpus, totalmem } from "node:os";
import { statfsSync } from "node:fs";
import type { Resources } from "@corral/contracts";

/** What this machine offers when no flag says otherwise: all cores, all memory, the data disk's free space. */
export function hostCapacity(dataDir: string): Resources {
  const disk = statfsSync(dataDir);
  return { cpu: cpus().length, ram: totalmem(), disk: Number(disk.bavail) * Number(disk.bsize) };
}
