import { join } from "node:path";
import { readNatsCredentials, type NatsCredentials } from "@corral/kit";
import { authorizeNatsClients, freePort, guardWithStarter, natsAuthOf, natsCredentialsFile, startNatsServer, startRedisSentinel, startRedisServer, stopStartedCell, writeCellFile, type CellFile, type NatsAuth, type NatsClient, type RedisDurability, type StartedProcess } from "@corral/launcher";
import { testDir } from "./test-cell.js";

export interface TestServer {
  url: string;
  port: number;
  process: StartedProcess;
  stop(): Promise<void>;
}

/**
 * Starts one server for a test, tied to the test's process like a TestCell: its directory
 * holds a cell file that lists just the server, which is what the watchdog reads to stop
 * it should the test's process die without stopping it.
 */
async function startGuarded(
  label: string,
  kind: "nats" | "redis",
  start: (dir: string, port: number, onSpawned: (started: StartedProcess) => void) => Promise<StartedProcess>,
): Promise<TestServer> {
  const dir = testDir(label);
  const port = await freePort();
  const url = `${kind}://127.0.0.1:${port}`;
  guardWithStarter(dir);
  const record: CellFile = { cell: label, dir, gateway: "", nats: kind === "nats" ? url : "", redis: kind === "redis" ? url : "", startedAt: new Date().toISOString(), processes: [] };
  const process = await start(dir, port, (started) => {
    record.processes.push(started);
    writeCellFile(record);
  }).catch(async (error: unknown) => {
    await stopStartedCell(record, 2000);
    throw error;
  });
  return { url, port, process, stop: () => stopStartedCell(record, 2000) };
}

/** A redis-server of the test's own, on a free port, with AOF in a fresh directory. */
export function startTestRedis(label: string, options: { durability?: RedisDurability; replicaOf?: number } = {}): Promise<TestServer> {
  const { replicaOf, ...rest } = options;
  return startGuarded(label, "redis", (dir, port, onSpawned) =>
    startRedisServer({ dir: join(dir, "redis"), port, onSpawned, ...rest, ...(replicaOf === undefined ? {} : { replicaOf: { address: "127.0.0.1", port: replicaOf } }) }),
  );
}

/** A nats-server with sign-in required: `credentials` signs in as one of the clients it was started with. */
export interface SecuredTestNats extends TestServer {
  credentials(client: string): NatsCredentials;
}

/**
 * A nats-server (JetStream on) of the test's own, on a free port. With `clients`, it lets in
 * only those, each with the permissions of its grant, as a cell's servers do.
 */
export function startTestNats(label: string): Promise<TestServer>;
export function startTestNats(label: string, options: { clients: readonly NatsClient[] }): Promise<SecuredTestNats>;
export async function startTestNats(label: string, options: { clients?: readonly NatsClient[] } = {}): Promise<TestServer | SecuredTestNats> {
  const clients = options.clients;
  if (clients === undefined) return startGuarded(label, "nats", (dir, port, onSpawned) => startNatsServer({ dir: join(dir, "nats"), port, onSpawned }));
  let auth: NatsAuth | undefined;
  const server = await startGuarded(label, "nats", (dir, port, onSpawned) => {
    auth = natsAuthOf(dir);
    authorizeNatsClients(auth, clients, "replace");
    return startNatsServer({ dir: join(dir, "nats"), port, onSpawned, authConfig: auth.config });
  });
  return { ...server, credentials: (client) => readNatsCredentials(natsCredentialsFile(auth!, client)) };
}

/** A Redis Sentinel of the test's own watching the primary on `primaryPort` as group `group`, with `quorum` (1: it decides alone). */
export function startTestSentinel(label: string, primaryPort: number, group: string, quorum = 1): Promise<TestServer> {
  return startGuarded(label, "redis", (dir, port, onSpawned) =>
    startRedisSentinel({ dir: join(dir, "sentinel"), port, onSpawned, primary: { address: "127.0.0.1", port: primaryPort }, group, quorum }),
  );
}
