import { BNS_DOMAIN } from "@corral/contracts";
import type { NameResolver, NameTable, Resolution } from "../name-table.js";

/**
 * Names across the cells of a federation: each cell's own names as its table has them,
 * and `<job>.<user>.corral`, with no cell, for the healthy tasks of a job of that name in
 * every cell (a federated job's members).
 */
export class FederatedNames implements NameResolver {
  constructor(private readonly tables: ReadonlyMap<string, NameTable>) {}

  resolve(name: string): Resolution | undefined {
    const lower = name.toLowerCase().replace(/\.$/, "");
    for (const table of this.tables.values()) {
      const found = table.resolve(lower);
      if (found !== undefined) return found;
    }
    const parts = lower.split(".");
    if (parts.length !== 3 || parts[2] !== BNS_DOMAIN) return undefined;
    let merged: Resolution | undefined;
    for (const [cell, table] of this.tables) {
      const found = table.resolve(`${parts[0]}.${parts[1]}.${cell}.${BNS_DOMAIN}`);
      if (found === undefined) continue;
      if (merged === undefined) merged = { record: found.record, tasks: [...found.tasks] };
      else merged.tasks.push(...found.tasks);
    }
    return merged;
  }
}
