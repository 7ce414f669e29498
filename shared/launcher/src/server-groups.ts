// The replicated servers a cell can run on: a NATS cluster, a NATS super-cluster of one
// cluster per cell, and Redis as a primary, a replica and three Sentinels. Each server has a
// placement: loopback on this machine, or a host of a multi-host cell.
import { join } from "node:path";
import { isSameProcessAlive, type NatsCredentials } from "@corral/kit";
import type { CellTls } from "./cell-tls.js";
import { freePort } from "./ports.js";
import { LOOPBACK, type Placement, type StartedProcess } from "./processes.js";
import { startNatsServer, startRedisSentinel, startRedisServer, waitForJetStream, type NatsGatewayRemote, type RedisDurability } from "./servers.js";

/** What a group of servers reports to, and records in, the cell being started. */
export interface StartContext {
  dir: string;
  /** every process of the cell so far (a group's wait ends at once when one of them dies) */
  processes: readonly StartedProcess[];
  progress: (message: string) => void;
  track: (started: StartedProcess) => void;
  /** the cell's NATS authorization config and the operator's credentials, to wait on JetStream with */
  natsSignIn?: { authConfig: string; credentials: NatsCredentials };
  /** the cell's TLS: its NATS and Redis servers speak only TLS */
  tls?: CellTls | undefined;
}

/** The options that make a nats-server of the cell require sign-in, and let the launcher wait on it signed in. */
export const natsAuthOptions = (context: StartContext) => ({
  ...(context.natsSignIn === undefined ? {} : { authConfig: context.natsSignIn.authConfig }),
  ...(context.tls === undefined ? {} : { tls: context.tls }),
});
export const jetStreamWait = (context: StartContext) => ({
  ...(context.natsSignIn === undefined ? {} : { credentials: context.natsSignIn.credentials }),
  ...(context.tls === undefined ? {} : { tlsCa: context.tls.ca }),
});

const deadProcess = (processes: readonly StartedProcess[]) => () => processes.find((p) => !isSameProcessAlive(p))?.name;

/**
 * One nats-server per cell, each its own NATS cluster named after the cell, all joined by
 * NATS gateways into one super-cluster; returns once JetStream's meta group (over every
 * server) has a leader, which takes a few seconds of Raft elections on a fresh store.
 */
export async function startSuperCluster(context: StartContext, cellNames: readonly string[], clientPorts: readonly number[]): Promise<void> {
  const ports: { client: number; route: number; gateway: number }[] = [];
  for (const client of clientPorts) ports.push({ client, route: await freePort(), gateway: await freePort() });
  const gateways: NatsGatewayRemote[] = cellNames.map((name, c) => ({ name, urls: [`nats://127.0.0.1:${ports[c]!.gateway}`] }));
  for (const [c, cellName] of cellNames.entries()) {
    const { client, route, gateway } = ports[c]!;
    context.progress(`cell ${cellName}: nats-server on port ${client} (cluster ${cellName}, gateway port ${gateway})`);
    await startNatsServer({
      dir: join(context.dir, `nats-${cellName}`),
      port: client,
      name: `${cellName}-nats-server`,
      serverName: `corral-${cellName}`,
      superCluster: { cluster: cellName, routePort: route, gatewayPort: gateway, gateways },
      onSpawned: context.track,
      ...natsAuthOptions(context),
    });
  }
  context.progress(`waiting for JetStream's meta group over ${cellNames.length} NATS clusters to elect a leader`);
  const died = deadProcess(context.processes);
  await Promise.all(ports.map(({ client }) => waitForJetStream(`nats://127.0.0.1:${client}`, { timeoutMs: 60_000, died, ...jetStreamWait(context) })));
}

/** A server of a group: its client port and where it runs. */
export interface ServerSeat {
  port: number;
  on: Placement;
}

export const natsUrlOf = (seat: ServerSeat) => `nats://${seat.on.address}:${seat.port}`;

/**
 * One NATS cluster of routed servers (`nats-server-0` …), JetStream on each; returns once its
 * meta group has a leader. Streams created with --js-replicas 3 then keep a copy on three.
 */
export async function startNatsCluster(context: StartContext, cluster: string, seats: readonly ServerSeat[]): Promise<void> {
  const routePorts: number[] = [];
  for (const _ of seats) routePorts.push(await freePort());
  const routes = seats.map((seat, i) => `nats://${seat.on.address}:${routePorts[i]}`);
  context.progress(`a NATS cluster of ${seats.length} servers at ${seats.map((seat) => `${seat.on.address}:${seat.port}`).join(", ")}`);
  for (const [i, seat] of seats.entries()) {
    await startNatsServer({
      dir: join(context.dir, `nats-${i}`),
      port: seat.port,
      name: `nats-server-${i}`,
      serverName: `corral-${cluster}-${i}`,
      superCluster: { cluster, routePort: routePorts[i]!, routes },
      onSpawned: context.track,
      on: seat.on,
      ...natsAuthOptions(context),
    });
  }
  const died = deadProcess(context.processes);
  await Promise.all(seats.map((seat) => waitForJetStream(natsUrlOf(seat), { timeoutMs: 60_000, died, ...jetStreamWait(context) })));
}

/**
 * Replicas of the cell's primary and three Sentinels watching them; returns the address the
 * masters connect through (sentinel://…/<cell>). `replicas` (default one) and `sentinels`
 * (three) say where each runs and on which port; default loopback on free ports.
 */
export async function startSentinelGroup(
  context: StartContext,
  cellName: string,
  primary: ServerSeat,
  durability: RedisDurability,
  seats: { replicas?: readonly ServerSeat[]; sentinels?: readonly ServerSeat[] } = {},
  passwordFile?: string,
): Promise<string> {
  const auth = { ...(passwordFile === undefined ? {} : { passwordFile }), tls: context.tls };
  const replicas = seats.replicas ?? [{ port: await freePort(), on: LOOPBACK }];
  context.progress(`redis replica${replicas.length === 1 ? "" : "s"} at ${replicas.map((seat) => `${seat.on.address}:${seat.port}`).join(", ")}, and three Sentinels`);
  for (const [i, replica] of replicas.entries()) {
    await startRedisServer({
      dir: join(context.dir, `redis-replica-${i}`),
      port: replica.port,
      durability,
      replicaOf: { address: primary.on.address, port: primary.port },
      name: `redis-replica-${i}`,
      onSpawned: context.track,
      on: replica.on,
      ...auth,
    });
  }
  const sentinels: ServerSeat[] = [];
  for (let i = 0; i < 3; i++) {
    const seat = seats.sentinels?.[i] ?? { port: await freePort(), on: LOOPBACK };
    sentinels.push(seat);
    await startRedisSentinel({
      dir: join(context.dir, `redis-sentinel-${i}`),
      port: seat.port,
      primary: { address: primary.on.address, port: primary.port },
      group: cellName,
      quorum: 2,
      name: `redis-sentinel-${i}`,
      onSpawned: context.track,
      on: seat.on,
      ...auth,
    });
  }
  return `sentinel://${sentinels.map((seat) => `${seat.on.address}:${seat.port}`).join(",")}/${cellName}`;
}
