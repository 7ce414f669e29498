// Who a cell the launcher starts is made of, as NATS sees it: one client per process.
import { connect } from "@nats-io/transport-node";
import { readNatsCredentials, signInOptions, type NatsConnectOptions } from "@corral/kit";
import type { CellFile } from "./cell-file.js";
import type { CellOptions } from "./cell-options.js";
import { authorizeNatsClients, natsCredentialsFile, OPERATOR_CLIENT, type NatsClient } from "./nats-clients.js";
import { signalGroup, waitUntil } from "./processes.js";

/** The NATS clients of one cell's masters, schedulers and borglets, named as startCellServices names them. */
export function cellClients(cell: string, options: CellOptions, named: (name: string) => string): NatsClient[] {
  const clients: NatsClient[] = [];
  for (let i = 0; i < (options.masters ?? 5); i++) clients.push({ name: named(`master-${i}`), grant: { role: "master", cell } });
  for (let i = 0; i < (options.schedulers ?? 1); i++) clients.push({ name: named(`scheduler-${i}`), grant: { role: "scheduler", cell } });
  if (options.hollow !== undefined) {
    for (let i = 0; i < options.hollow.processes; i++) clients.push({ name: named(`hollow-${i}`), grant: { role: "hollow", cell } });
  } else {
    for (let i = 0; i < (options.borglets ?? 3); i++) clients.push({ name: named(`borglet-${i}`), grant: { role: "borglet", cell, node: named(`borglet-${i}`) } });
  }
  return clients;
}

/** The cell owner's tools (everything), and the first admin as a producer on the submit stream. */
export function operatorClients(cell: string, admin: string): NatsClient[] {
  return [
    { name: OPERATOR_CLIENT, grant: { role: "operator", cell } },
    { name: `submit-${admin}`, grant: { role: "submitter", cell, user: admin } },
  ];
}

/**
 * Lets more clients into a running cell (hollow fleets a load test adds): lists them in the
 * servers' config, has every nats-server of the cell read it again (SIGHUP), and returns
 * once each server takes the first new client, so a process started next is not refused.
 */
export async function admitNatsClients(cell: CellFile, clients: readonly NatsClient[]): Promise<void> {
  if (cell.natsAuth === undefined || clients.length === 0) return;
  authorizeNatsClients(cell.natsAuth, clients, "add");
  const servers = cell.processes.filter((p) => p.role === "nats");
  for (const server of servers) signalGroup(server, "SIGHUP");
  const credentials = readNatsCredentials(natsCredentialsFile(cell.natsAuth, clients[0]!.name));
  for (const url of cell.nats.split(",")) {
    await waitUntil(`${url} to take the new NATS clients`, async () => {
      const nc = await connect({ servers: url, reconnect: false, ...signInOptions({ credentials, tlsCa: cell.tls?.ca }) }).catch(() => undefined);
      await nc?.close();
      return nc !== undefined;
    }, 15_000, 100);
  }
}

/** How the cell owner's tools sign in to a started cell's NATS (no credentials for cells of older versions, which let anyone in), and the CA they trust when it runs TLS. */
export function operatorNatsOptions(cell: Pick<CellFile, "natsAuth" | "tls">): NatsConnectOptions {
  return {
    ...(cell.natsAuth === undefined ? {} : { credentials: readNatsCredentials(natsCredentialsFile(cell.natsAuth, OPERATOR_CLIENT)) }),
    ...(cell.tls === undefined ? {} : { tlsCa: cell.tls.ca }),
  };
}
