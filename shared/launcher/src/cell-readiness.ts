import { join } from "node:path";
import { Agent, fetch } from "undici";
import { isSameProcessAlive } from "@corral/kit";
import { adminTokenOf } from "./cell-secrets.js";
import { cellCaOf } from "./cell-tls.js";
import type { CellFile } from "./cell-file.js";
import { waitUntil, type StartedProcess } from "./processes.js";

/**
 * Waits until every gateway of the cell (of each cell of a federation) sees `perCell`
 * machines up; fails at once, naming it, when one of the cell's processes has died.
 */
export async function waitForMachinesUp(cell: CellFile, processes: readonly StartedProcess[], cellNames: readonly string[], perCell: number): Promise<void> {
  const federated = cell.cells !== undefined;
  const token = adminTokenOf(cell);
  const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
  // An HTTPS gateway is checked against the cell's own CA.
  const ca = cellCaOf(cell);
  const dispatcher = ca === undefined ? undefined : new Agent({ connect: { ca } });
  await waitUntil(
    `the gateway at ${cell.gateway} to see ${perCell} machines up in ${federated ? "each cell" : "the cell"} (logs: ${join(cell.dir, "logs")})`,
    async () => {
      const dead = processes.find((p) => !isSameProcessAlive(p));
      if (dead !== undefined) throw new Error(`${dead.name} exited during start-up; see ${dead.log}`);
      for (const url of cell.gateways ?? [cell.gateway]) {
        for (const cellName of cellNames) {
          try {
            const query = federated ? `?cell=${cellName}` : "";
            const response = await fetch(`${url}/v1/nodes${query}`, { headers, signal: AbortSignal.timeout(2000), ...(dispatcher === undefined ? {} : { dispatcher }) });
            if (!response.ok) return false;
            const body = (await response.json()) as { nodes?: { state: string }[] };
            if ((body.nodes ?? []).filter((n) => n.state === "up").length < perCell) return false;
          } catch {
            return false;
          }
        }
      }
      return true;
    },
    120_000,
    perCell * cellNames.length > 100 ? 1000 : 100, // a large cell's node list is megabytes: ask less often
  );
}
